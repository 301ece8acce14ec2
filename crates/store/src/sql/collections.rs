//! The collections of assets: a host's lists come as JSON columns of the query that reads the
//! host (so a page of hosts is one statement); other assets' tags in one query per batch.

use super::fetch;
use crate::StoreError;
use crate::rows::ts;
use openqps_model::{
    CloudKind, CloudSource, HostAsset, NetworkInterface, OpenPort, Processor, Software, TagRef,
    Volume, Vuln,
};
use sea_query::{Expr, ExprTrait, JoinType, Order, Query, SelectStatement};

use super::conn::{Conn, Dialect, Row};
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

/// One collection of a host as a JSON array of arrays (one per element, `cols` in order,
/// elements ordered by `order`), as a correlated subquery on `a.id`: all lists of a batch of
/// hosts come in one statement. A statement is a round trip to sqlx's SQLite worker thread,
/// and those trips, not SQLite, were most of a request's time (docs/performance.md).
fn json_list(d: Dialect, from_where: &str, cols: &[&str], order: &str) -> Expr {
    let cols = cols.join(", ");
    Expr::cust(match d {
        Dialect::Sqlite => format!(
            "(SELECT json_group_array(json_array({cols}) ORDER BY {order}) FROM {from_where})"
        ),
        Dialect::Postgres => format!(
            "(SELECT coalesce(json_agg(json_build_array({cols}) ORDER BY {order}), '[]'::json)::text \
             FROM {from_where})"
        ),
    })
}

/// `table` rows of the host `a.id`, in their stored order.
fn own_list(d: Dialect, table: &str, cols: &[&str]) -> Expr {
    json_list(d, &format!("{table} WHERE asset_id = a.id"), cols, "ord")
}

/// Column `i` of `r`, a JSON list of element tuples.
fn list<T: serde::de::DeserializeOwned>(r: &Row, i: usize) -> Result<Vec<T>, StoreError> {
    let text: String = r.try_get(i)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("collection {i}: {e}")))
}

type SourceTuple = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// The lists of a host, as columns to add after [`crate::rows::HOST_COLUMNS`] in a query on
/// `asset a`; [`fill_host`] reads them back.
pub(crate) fn host_list_columns(d: Dialect) -> Vec<Expr> {
    vec![
        json_list(
            d,
            "asset_tag at JOIN tag t ON t.id = at.tag_id WHERE at.asset_id = a.id",
            &["t.id", "t.name"],
            "t.id",
        ),
        own_list(
            d,
            "host_port",
            &["port", "protocol", "service_id", "service_name"],
        ),
        own_list(d, "host_software", &["name", "version"]),
        own_list(
            d,
            "host_vuln",
            &["qid", "host_instance_vuln_id", "first_found", "last_found"],
        ),
        own_list(d, "host_processor", &["name", "speed"]),
        own_list(
            d,
            "host_interface",
            &[
                "hostname",
                "interface_name",
                "mac_address",
                "address",
                "gateway_address",
            ],
        ),
        own_list(d, "host_volume", &["name", "size", "free"]),
        own_list(d, "host_account", &["username"]),
        own_list(d, "host_source", SOURCE_COLUMNS),
    ]
}

/// Sets the lists of `h` from the columns [`host_list_columns`] added to `r`, from `first` on.
pub(crate) fn fill_host(h: &mut HostAsset, r: &Row, first: usize) -> Result<(), StoreError> {
    h.tags = list::<(i64, String)>(r, first)?
        .into_iter()
        .map(|(id, name)| TagRef { id, name })
        .collect();
    h.open_ports = list(r, first + 1)?
        .into_iter()
        .map(|(port, protocol, service_id, service_name)| OpenPort {
            port,
            protocol,
            service_id,
            service_name,
        })
        .collect();
    h.software = list(r, first + 2)?
        .into_iter()
        .map(|(name, version)| Software { name, version })
        .collect();
    h.vulns = list::<(i64, i64, i64, i64)>(r, first + 3)?
        .into_iter()
        .map(|(qid, host_instance_vuln_id, first_found, last_found)| {
            Ok(Vuln {
                qid,
                host_instance_vuln_id,
                first_found: ts(first_found)?,
                last_found: ts(last_found)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    h.processors = list(r, first + 4)?
        .into_iter()
        .map(|(name, speed)| Processor { name, speed })
        .collect();
    h.network_interfaces = list(r, first + 5)?
        .into_iter()
        .map(
            |(hostname, interface_name, mac_address, address, gateway_address)| NetworkInterface {
                hostname,
                interface_name,
                mac_address,
                address,
                gateway_address,
            },
        )
        .collect();
    h.details.volumes = list(r, first + 6)?
        .into_iter()
        .map(|(name, size, free)| Volume { name, size, free })
        .collect();
    h.details.accounts = list::<(String,)>(r, first + 7)?
        .into_iter()
        .map(|(username,)| username)
        .collect();
    h.details.sources = list::<SourceTuple>(r, first + 8)?
        .into_iter()
        .map(cloud_source)
        .collect::<Result<_, _>>()?;
    Ok(())
}

fn cloud_source(t: SourceTuple) -> Result<CloudSource, StoreError> {
    let kind =
        CloudKind::parse(&t.0).ok_or_else(|| StoreError::Corrupt(format!("cloud kind {}", t.0)))?;
    Ok(CloudSource {
        kind,
        instance_id: t.1,
        instance_type: t.2,
        state: t.3,
        region: t.4,
        zone: t.5,
        account_id: t.6,
        vpc_id: t.7,
        subnet_id: t.8,
        image_id: t.9,
        private_ip: t.10,
        public_ip: t.11,
        resource_group: t.12,
        first_discovered: crate::rows::ts_opt(t.13)?,
        last_updated: crate::rows::ts_opt(t.14)?,
    })
}
