//! Loading a whole data set in one transaction.

use super::conn::{Conn, query};
use crate::{Dataset, StoreError};
use openqps_model::{HostAsset, SubscriptionId, WebApp};

pub(crate) async fn dataset(
    conn: &mut Conn,
    sub: SubscriptionId,
    data: &Dataset,
) -> Result<(), StoreError> {
    for t in &data.tags {
        query(
            "INSERT INTO tag (id, subscription_id, name, created, modified, color, rule_type, \
             rule_text, parent_id, criticality_score, description, provider) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(t.id)
        .bind(sub.0)
        .bind(&t.name)
        .bind(t.created.as_second())
        .bind(t.modified.as_second())
        .bind(&t.color)
        .bind(&t.rule_type)
        .bind(&t.rule_text)
        .bind(t.parent_id)
        .bind(t.criticality_score)
        .bind(&t.description)
        .bind(&t.provider)
        .execute(&mut *conn)
        .await?;
    }
    for h in &data.hosts {
        insert_host(conn, sub, h, Some(h.id)).await?;
    }
    for k in &data.activation_keys {
        super::agents::insert_key(conn, sub, k, true).await?;
    }
    for c in &data.agent_configs {
        super::agents::insert_config(conn, sub, c, true).await?;
    }
    for w in &data.webapps {
        webapp(conn, sub, w).await?;
    }
    conn.sync_id_sequences().await
}

/// Inserts a host with its lists, tags and agent; `id: None` lets the database choose one.
pub(crate) async fn insert_host(
    conn: &mut Conn,
    sub: SubscriptionId,
    h: &HostAsset,
    id: Option<i64>,
) -> Result<i64, StoreError> {
    let secs = |t: Option<openqps_model::Timestamp>| t.map(|t| t.as_second());
    let docker = h.details.docker.as_ref();
    let mut cols: Vec<(&str, sea_query::Value)> = vec![
        ("subscription_id", sub.0.into()),
        ("asset_type", "HOST".into()),
        ("name", h.name.clone().into()),
        ("created", h.created.as_second().into()),
        ("modified", h.modified.as_second().into()),
        ("criticality_score", h.criticality_score.into()),
        ("qweb_host_id", h.qweb_host_id.into()),
        ("last_vuln_scan", secs(h.last_vuln_scan).into()),
        ("last_compliance_scan", secs(h.last_compliance_scan).into()),
        ("last_system_boot", secs(h.last_system_boot).into()),
        ("last_logged_on_user", h.last_logged_on_user.clone().into()),
        ("fqdn", h.fqdn.clone().into()),
        ("os", h.os.clone().into()),
        ("dns_host_name", h.dns_host_name.clone().into()),
        ("netbios_name", h.netbios_name.clone().into()),
        ("address", h.address.clone().into()),
        ("tracking_method", h.tracking_method.as_str().into()),
        ("manufacturer", h.manufacturer.clone().into()),
        ("model", h.model.clone().into()),
        ("total_memory", h.total_memory.into()),
        ("bios_description", h.bios_description.clone().into()),
        ("is_docker_host", (h.is_docker_host as i64).into()),
        ("domain", h.details.domain.clone().into()),
        ("timezone", h.details.timezone.clone().into()),
        ("network_guid", h.details.network_guid.clone().into()),
        ("netbios_network_id", h.details.netbios_network_id.into()),
        (
            "information_gathered_updated",
            secs(h.details.information_gathered_updated).into(),
        ),
        ("vulns_updated", secs(h.details.vulns_updated).into()),
        ("cloud_provider", h.details.cloud_provider.clone().into()),
        ("docker_present", (docker.is_some() as i64).into()),
        (
            "docker_version",
            docker.and_then(|d| d.version.clone()).into(),
        ),
        (
            "docker_containers",
            docker.and_then(|d| d.containers).into(),
        ),
        ("docker_images", docker.and_then(|d| d.images).into()),
    ];
    // Without an id the column is left out, so the database draws one (a NULL would not do on
    // PostgreSQL).
    let id = match id {
        Some(id) => Some(id),
        None => conn.fresh_id("asset").await?,
    };
    if let Some(id) = id {
        cols.insert(0, ("id", id.into()));
    }
    let mut ins = sea_query::Query::insert();
    ins.into_table("asset")
        .columns(cols.iter().map(|(c, _)| *c))
        .values_panic(cols.into_iter().map(|(_, v)| v.into()))
        .returning_col("id");
    let id = super::insert_returning_id(conn, &ins).await?;
    tags(conn, id, h.tags.iter().map(|t| t.id)).await?;
    insert_lists(conn, id, h).await?;
    if let Some(a) = &h.agent {
        query(
            "INSERT INTO agent (asset_id, agent_id, agent_version, status, last_checked_in, \
             connected_from, platform, activated_modules, configuration_id, configuration_name, \
             activation_key_id, activation_key_title) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(&a.agent_id)
        .bind(&a.agent_version)
        .bind(&a.status)
        .bind(a.last_checked_in.map(|t| t.as_second()))
        .bind(&a.connected_from)
        .bind(&a.platform)
        .bind(openqps_model::Module::join(&a.activated_modules))
        .bind(a.configuration_id)
        .bind(&a.configuration_name)
        .bind(&a.activation_key_id)
        .bind(&a.activation_key_title)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

async fn tags(
    conn: &mut Conn,
    asset: i64,
    tag_ids: impl Iterator<Item = i64>,
) -> Result<(), StoreError> {
    for t in tag_ids {
        query("INSERT INTO asset_tag (tag_id, asset_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(t)
            .bind(asset)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn webapp(conn: &mut Conn, sub: SubscriptionId, w: &WebApp) -> Result<(), StoreError> {
    let owner: i64 = query(
        "SELECT id FROM app_user WHERE subscription_id = $1 \
         ORDER BY (username = $2) DESC, id LIMIT 1",
    )
    .bind(sub.0)
    .bind(&w.owner.username)
    .scalar(&mut *conn)
    .await?;
    query(
        "INSERT INTO asset (id, subscription_id, asset_type, name, created, modified) \
         VALUES ($1, $2, 'WEBAPP', $3, $4, $5)",
    )
    .bind(w.id)
    .bind(sub.0)
    .bind(&w.name)
    .bind(w.created.as_second())
    .bind(w.updated.as_second())
    .execute(&mut *conn)
    .await?;
    let mut w = w.clone();
    // The owner and the users named in the settings are this subscription's matching user.
    w.owner.id = owner;
    let d = &mut w.details;
    for u in [&mut d.created_by, &mut d.updated_by].into_iter().flatten() {
        u.id = owner;
    }
    for c in &mut d.comments {
        if let Some(a) = &mut c.author {
            a.id = owner;
        }
    }
    super::webapps::insert_row(conn, w.id, &w).await?;
    tags(conn, w.id, w.tags.iter().map(|t| t.id)).await
}

/// Inserts the lists of host `id` (ports, software, vulns, processors, interfaces) in order.
pub(crate) async fn insert_lists(
    conn: &mut Conn,
    id: i64,
    h: &HostAsset,
) -> Result<(), StoreError> {
    for (i, p) in h.open_ports.iter().enumerate() {
        query(
            "INSERT INTO host_port (asset_id, ord, port, protocol, service_id, service_name) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(p.port)
        .bind(&p.protocol)
        .bind(p.service_id)
        .bind(&p.service_name)
        .execute(&mut *conn)
        .await?;
    }
    for (i, s) in h.software.iter().enumerate() {
        query("INSERT INTO host_software (asset_id, ord, name, version) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(i as i64)
            .bind(&s.name)
            .bind(&s.version)
            .execute(&mut *conn)
            .await?;
    }
    for (i, v) in h.vulns.iter().enumerate() {
        query(
            "INSERT INTO host_vuln (asset_id, ord, qid, host_instance_vuln_id, first_found, \
             last_found) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(v.qid)
        .bind(v.host_instance_vuln_id)
        .bind(v.first_found.as_second())
        .bind(v.last_found.as_second())
        .execute(&mut *conn)
        .await?;
    }
    for (i, p) in h.processors.iter().enumerate() {
        query("INSERT INTO host_processor (asset_id, ord, name, speed) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(i as i64)
            .bind(&p.name)
            .bind(p.speed)
            .execute(&mut *conn)
            .await?;
    }
    for (i, n) in h.network_interfaces.iter().enumerate() {
        query(
            "INSERT INTO host_interface (asset_id, ord, hostname, interface_name, mac_address, \
             address, gateway_address) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&n.hostname)
        .bind(&n.interface_name)
        .bind(&n.mac_address)
        .bind(&n.address)
        .bind(&n.gateway_address)
        .execute(&mut *conn)
        .await?;
    }
    for (i, v) in h.details.volumes.iter().enumerate() {
        query(
            "INSERT INTO host_volume (asset_id, ord, name, size, free) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&v.name)
        .bind(v.size)
        .bind(v.free)
        .execute(&mut *conn)
        .await?;
    }
    for (i, a) in h.details.accounts.iter().enumerate() {
        query("INSERT INTO host_account (asset_id, ord, username) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(i as i64)
            .bind(a)
            .execute(&mut *conn)
            .await?;
    }
    for (i, c) in h.details.sources.iter().enumerate() {
        query(
            "INSERT INTO host_source (asset_id, ord, kind, instance_id, instance_type, state, \
             region, zone, account_id, vpc_id, subnet_id, image_id, private_ip, public_ip, \
             resource_group, first_discovered, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(c.kind.name())
        .bind(&c.instance_id)
        .bind(&c.instance_type)
        .bind(&c.state)
        .bind(&c.region)
        .bind(&c.zone)
        .bind(&c.account_id)
        .bind(&c.vpc_id)
        .bind(&c.subnet_id)
        .bind(&c.image_id)
        .bind(&c.private_ip)
        .bind(&c.public_ip)
        .bind(&c.resource_group)
        .bind(c.first_discovered.map(|t| t.as_second()))
        .bind(c.last_updated.map(|t| t.as_second()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
