//! Loading a whole data set in one transaction.

use crate::{Dataset, StoreError};
use openqps_model::{HostAsset, SubscriptionId, WebApp};
use sqlx::SqliteConnection;

pub(crate) async fn dataset(
    conn: &mut SqliteConnection,
    sub: SubscriptionId,
    data: &Dataset,
) -> Result<(), StoreError> {
    for t in &data.tags {
        sqlx::query(
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
    Ok(())
}

/// Inserts a host with its lists, tags and agent; `id: None` lets the database choose one.
pub(crate) async fn insert_host(
    conn: &mut SqliteConnection,
    sub: SubscriptionId,
    h: &HostAsset,
    id: Option<i64>,
) -> Result<i64, StoreError> {
    let secs = |t: Option<openqps_model::Timestamp>| t.map(|t| t.as_second());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO asset (id, subscription_id, asset_type, name, created, modified, \
         criticality_score, qweb_host_id, last_vuln_scan, last_compliance_scan, last_system_boot, \
         last_logged_on_user, fqdn, os, dns_host_name, netbios_name, address, tracking_method, \
         manufacturer, model, total_memory, bios_description, is_docker_host, domain, timezone, \
         network_guid, netbios_network_id, information_gathered_updated, vulns_updated, \
         cloud_provider, docker_present, docker_version, docker_containers, docker_images) \
         VALUES ($1, $2, 'HOST', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33) \
         RETURNING id",
    )
    .bind(id)
    .bind(sub.0)
    .bind(&h.name)
    .bind(h.created.as_second())
    .bind(h.modified.as_second())
    .bind(h.criticality_score)
    .bind(h.qweb_host_id)
    .bind(secs(h.last_vuln_scan))
    .bind(secs(h.last_compliance_scan))
    .bind(secs(h.last_system_boot))
    .bind(&h.last_logged_on_user)
    .bind(&h.fqdn)
    .bind(&h.os)
    .bind(&h.dns_host_name)
    .bind(&h.netbios_name)
    .bind(&h.address)
    .bind(h.tracking_method.as_str())
    .bind(&h.manufacturer)
    .bind(&h.model)
    .bind(h.total_memory)
    .bind(&h.bios_description)
    .bind(h.is_docker_host as i64)
    .bind(&h.details.domain)
    .bind(&h.details.timezone)
    .bind(&h.details.network_guid)
    .bind(h.details.netbios_network_id)
    .bind(secs(h.details.information_gathered_updated))
    .bind(secs(h.details.vulns_updated))
    .bind(&h.details.cloud_provider)
    .bind(h.details.docker.is_some() as i64)
    .bind(h.details.docker.as_ref().and_then(|d| d.version.clone()))
    .bind(h.details.docker.as_ref().and_then(|d| d.containers))
    .bind(h.details.docker.as_ref().and_then(|d| d.images))
    .fetch_one(&mut *conn)
    .await?;
    tags(conn, id, h.tags.iter().map(|t| t.id)).await?;
    insert_lists(conn, id, h).await?;
    if let Some(a) = &h.agent {
        sqlx::query(
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
    conn: &mut SqliteConnection,
    asset: i64,
    tag_ids: impl Iterator<Item = i64>,
) -> Result<(), StoreError> {
    for t in tag_ids {
        sqlx::query(
            "INSERT INTO asset_tag (tag_id, asset_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(t)
        .bind(asset)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn webapp(
    conn: &mut SqliteConnection,
    sub: SubscriptionId,
    w: &WebApp,
) -> Result<(), StoreError> {
    let owner: i64 = sqlx::query_scalar(
        "SELECT id FROM app_user WHERE subscription_id = $1 \
         ORDER BY (username = $2) DESC, id LIMIT 1",
    )
    .bind(sub.0)
    .bind(&w.owner.username)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
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
    conn: &mut SqliteConnection,
    id: i64,
    h: &HostAsset,
) -> Result<(), StoreError> {
    for (i, p) in h.open_ports.iter().enumerate() {
        sqlx::query(
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
        sqlx::query(
            "INSERT INTO host_software (asset_id, ord, name, version) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&s.name)
        .bind(&s.version)
        .execute(&mut *conn)
        .await?;
    }
    for (i, v) in h.vulns.iter().enumerate() {
        sqlx::query(
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
        sqlx::query(
            "INSERT INTO host_processor (asset_id, ord, name, speed) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&p.name)
        .bind(p.speed)
        .execute(&mut *conn)
        .await?;
    }
    for (i, n) in h.network_interfaces.iter().enumerate() {
        sqlx::query(
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
        sqlx::query(
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
        sqlx::query("INSERT INTO host_account (asset_id, ord, username) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(i as i64)
            .bind(a)
            .execute(&mut *conn)
            .await?;
    }
    for (i, c) in h.details.sources.iter().enumerate() {
        sqlx::query(
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
