//! Loading the collections of a batch of assets: one query per collection, not per asset.

use super::fetch;
use crate::StoreError;
use crate::rows::ts;
use openqps_model::{
    CloudKind, CloudSource, HostAsset, NetworkInterface, OpenPort, Processor, Software, TagRef,
    Volume, Vuln,
};
use sea_query::{Expr, ExprTrait, JoinType, Order, Query, SelectStatement};

use super::conn::{Conn, Row};
use std::collections::HashMap;

/// The columns of `host_source` after `asset_id`, in the order they are read and written.
pub(crate) const SOURCE_COLUMNS: &[&str] = &[
    "kind",
    "instance_id",
    "instance_type",
    "state",
    "region",
    "zone",
    "account_id",
    "vpc_id",
    "subnet_id",
    "image_id",
    "private_ip",
    "public_ip",
    "resource_group",
    "first_discovered",
    "last_updated",
];

/// Tags of each asset, ordered by tag id.
pub(crate) async fn tags_of(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<TagRef>>, StoreError> {
    let q = Query::select()
        .column(("at", "asset_id"))
        .column(("t", "id"))
        .column(("t", "name"))
        .from_as("asset_tag", "at")
        .join_as(
            JoinType::InnerJoin,
            "tag",
            "t",
            Expr::col(("t", "id")).equals(("at", "tag_id")),
        )
        .and_where(Expr::col(("at", "asset_id")).is_in(ids.iter().copied()))
        .order_by(("at", "asset_id"), Order::Asc)
        .order_by(("t", "id"), Order::Asc)
        .to_owned();
    group(conn, q, |r| {
        Ok(TagRef {
            id: r.try_get(1)?,
            name: r.try_get(2)?,
        })
    })
    .await
}

/// Rows of `q` (whose first column is the asset id) grouped by asset.
async fn group<T>(
    conn: &mut Conn,
    q: SelectStatement,
    item: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<HashMap<i64, Vec<T>>, StoreError> {
    let mut out: HashMap<i64, Vec<T>> = HashMap::new();
    for r in fetch(conn, &q).await? {
        out.entry(r.try_get(0)?).or_default().push(item(&r)?);
    }
    Ok(out)
}

/// `SELECT asset_id, cols… FROM table WHERE asset_id IN ids ORDER BY asset_id, ord`.
fn list_query(table: &'static str, cols: &[&'static str], ids: &[i64]) -> SelectStatement {
    Query::select()
        .column("asset_id")
        .columns(cols.iter().copied())
        .from(table)
        .and_where(Expr::col("asset_id").is_in(ids.iter().copied()))
        .order_by("asset_id", Order::Asc)
        .order_by("ord", Order::Asc)
        .to_owned()
}

pub(crate) async fn fill_hosts(conn: &mut Conn, hosts: &mut [HostAsset]) -> Result<(), StoreError> {
    let ids: Vec<i64> = hosts.iter().map(|h| h.id).collect();
    let mut tags = tags_of(conn, &ids).await?;
    let q = list_query(
        "host_port",
        &["port", "protocol", "service_id", "service_name"],
        &ids,
    );
    let mut ports = group(conn, q, |r| {
        Ok(OpenPort {
            port: r.try_get(1)?,
            protocol: r.try_get(2)?,
            service_id: r.try_get(3)?,
            service_name: r.try_get(4)?,
        })
    })
    .await?;
    let q = list_query("host_software", &["name", "version"], &ids);
    let mut software = group(conn, q, |r| {
        Ok(Software {
            name: r.try_get(1)?,
            version: r.try_get(2)?,
        })
    })
    .await?;
    let q = list_query(
        "host_vuln",
        &["qid", "host_instance_vuln_id", "first_found", "last_found"],
        &ids,
    );
    let mut vulns = group(conn, q, |r| {
        Ok(Vuln {
            qid: r.try_get(1)?,
            host_instance_vuln_id: r.try_get(2)?,
            first_found: ts(r.try_get(3)?)?,
            last_found: ts(r.try_get(4)?)?,
        })
    })
    .await?;
    let q = list_query("host_processor", &["name", "speed"], &ids);
    let mut processors = group(conn, q, |r| {
        Ok(Processor {
            name: r.try_get(1)?,
            speed: r.try_get(2)?,
        })
    })
    .await?;
    let q = list_query(
        "host_interface",
        &[
            "hostname",
            "interface_name",
            "mac_address",
            "address",
            "gateway_address",
        ],
        &ids,
    );
    let mut interfaces = group(conn, q, |r| {
        Ok(NetworkInterface {
            hostname: r.try_get(1)?,
            interface_name: r.try_get(2)?,
            mac_address: r.try_get(3)?,
            address: r.try_get(4)?,
            gateway_address: r.try_get(5)?,
        })
    })
    .await?;
    let q = list_query("host_volume", &["name", "size", "free"], &ids);
    let mut volumes = group(conn, q, |r| {
        Ok(Volume {
            name: r.try_get(1)?,
            size: r.try_get(2)?,
            free: r.try_get(3)?,
        })
    })
    .await?;
    let q = list_query("host_account", &["username"], &ids);
    let mut accounts = group(conn, q, |r| Ok(r.try_get::<String, _>(1)?)).await?;
    let q = list_query("host_source", SOURCE_COLUMNS, &ids);
    let mut sources = group(conn, q, |r| {
        let kind: String = r.try_get(1)?;
        Ok(CloudSource {
            kind: CloudKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("cloud kind {kind}")))?,
            instance_id: r.try_get(2)?,
            instance_type: r.try_get(3)?,
            state: r.try_get(4)?,
            region: r.try_get(5)?,
            zone: r.try_get(6)?,
            account_id: r.try_get(7)?,
            vpc_id: r.try_get(8)?,
            subnet_id: r.try_get(9)?,
            image_id: r.try_get(10)?,
            private_ip: r.try_get(11)?,
            public_ip: r.try_get(12)?,
            resource_group: r.try_get(13)?,
            first_discovered: crate::rows::ts_opt(r.try_get(14)?)?,
            last_updated: crate::rows::ts_opt(r.try_get(15)?)?,
        })
    })
    .await?;
    for h in hosts {
        h.details.volumes = volumes.remove(&h.id).unwrap_or_default();
        h.details.accounts = accounts.remove(&h.id).unwrap_or_default();
        h.details.sources = sources.remove(&h.id).unwrap_or_default();
        h.tags = tags.remove(&h.id).unwrap_or_default();
        h.open_ports = ports.remove(&h.id).unwrap_or_default();
        h.software = software.remove(&h.id).unwrap_or_default();
        h.vulns = vulns.remove(&h.id).unwrap_or_default();
        h.processors = processors.remove(&h.id).unwrap_or_default();
        h.network_interfaces = interfaces.remove(&h.id).unwrap_or_default();
    }
    Ok(())
}
