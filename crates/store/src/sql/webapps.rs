//! WAS web applications: loading them whole, creating, updating, purging and deleting. Each
//! function runs inside the caller's transaction.

use super::conn::Conn;
use super::write::{CHUNK, change_tags, check_tags_exist};
use super::{collections, execute, fetch, insert_returning_id};
use crate::rows::{self, WEBAPP_COLUMNS, ts_opt};
use crate::{StoreError, TagChanges};
use openqps_model::{
    Attribute, Comment, IdName, SubscriptionId, Timestamp, UrlEntry, WebApp, WebAppChange,
    WebAppConfig, WebAppOwner,
};
use sea_query::{Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use std::collections::HashMap;

/// Rows per multi-row INSERT: at most 6 values each, well under SQLite's 32,766 parameters.
const ROWS: usize = 1_000;

/// `SELECT … FROM asset a JOIN webapp w` of one subscription.
pub(crate) fn webapps_query(sub: SubscriptionId) -> SelectStatement {
    Query::select()
        .from_as("asset", "a")
        .join_as(
            JoinType::InnerJoin,
            "webapp",
            "w",
            Expr::col(("w", "asset_id")).equals(("a", "id")),
        )
        .and_where(Expr::col(("a", "subscription_id")).eq(sub.0))
        .to_owned()
}

fn user_join(q: &mut SelectStatement, alias: &'static str, col: &'static str, kind: JoinType) {
    q.join_as(
        kind,
        "app_user",
        alias,
        Expr::col((alias, "id")).equals(("w", col)),
    );
}

/// The web apps with these ids, whole, in id order.
pub(crate) async fn load(conn: &mut Conn, ids: &[i64]) -> Result<Vec<WebApp>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        out.extend(load_chunk(conn, chunk).await?);
    }
    Ok(out)
}

async fn load_chunk(conn: &mut Conn, ids: &[i64]) -> Result<Vec<WebApp>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.columns(WEBAPP_COLUMNS.iter().copied())
        .from_as("asset", "a")
        .join_as(
            JoinType::InnerJoin,
            "webapp",
            "w",
            Expr::col(("w", "asset_id")).equals(("a", "id")),
        );
    user_join(&mut q, "u", "owner_id", JoinType::InnerJoin);
    user_join(&mut q, "cb", "created_by", JoinType::LeftJoin);
    user_join(&mut q, "ub", "updated_by", JoinType::LeftJoin);
    q.and_where(Expr::col(("a", "id")).is_in(ids.iter().copied()))
        .order_by(("a", "id"), Order::Asc);
    let mut apps = fetch(conn, &q)
        .await?
        .iter()
        .map(rows::webapp)
        .collect::<Result<Vec<_>, _>>()?;
    let mut tags = collections::tags_of(conn, ids).await?;
    let mut items = items_of(conn, ids).await?;
    let mut attributes = attributes_of(conn, ids).await?;
    let mut comments = comments_of(conn, ids).await?;
    for w in &mut apps {
        w.tags = tags.remove(&w.id).unwrap_or_default();
        let d = &mut w.details;
        d.attributes = attributes.remove(&w.id).unwrap_or_default();
        d.comments = comments.remove(&w.id).unwrap_or_default();
        for (kind, item) in items.remove(&w.id).unwrap_or_default() {
            let text = item.text.clone().unwrap_or_default();
            let entry = || UrlEntry {
                value: text.clone(),
                regex: item.regex,
            };
            let reference = || IdName {
                id: item.ref_id.unwrap_or_default(),
                name: item.text.clone(),
            };
            match kind.as_str() {
                "domains" => d.domains.push(text.clone()),
                "uris" => d.uris.push(text.clone()),
                "headers" => d.headers.push(text.clone()),
                "urlBlacklist" => d.url_blacklist.push(entry()),
                "urlWhitelist" => d.url_whitelist.push(entry()),
                "postDataBlacklist" => d.post_data_blacklist.push(entry()),
                "logoutRegexList" => d.logout_regex_list.push(entry()),
                "authRecords" => d.auth_records.push(reference()),
                "crawlingScripts" => d.crawling_scripts.push(reference()),
                other => return Err(StoreError::Corrupt(format!("webapp list kind {other}"))),
            }
        }
    }
    Ok(apps)
}

struct Item {
    ref_id: Option<i64>,
    text: Option<String>,
    regex: bool,
}

async fn items_of(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<(String, Item)>>, StoreError> {
    let q = Query::select()
        .columns(["asset_id", "kind", "ref_id", "text", "regex"])
        .from("webapp_item")
        .and_where(Expr::col("asset_id").is_in(ids.iter().copied()))
        .order_by("asset_id", Order::Asc)
        .order_by("kind", Order::Asc)
        .order_by("ord", Order::Asc)
        .to_owned();
    let mut out: HashMap<i64, Vec<(String, Item)>> = HashMap::new();
    for r in fetch(conn, &q).await? {
        out.entry(r.try_get(0)?).or_default().push((
            r.try_get(1)?,
            Item {
                ref_id: r.try_get(2)?,
                text: r.try_get(3)?,
                regex: r.try_get::<i64, _>(4)? != 0,
            },
        ));
    }
    Ok(out)
}

async fn attributes_of(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Attribute>>, StoreError> {
    let q = Query::select()
        .columns(["asset_id", "name", "value"])
        .from("webapp_attribute")
        .and_where(Expr::col("asset_id").is_in(ids.iter().copied()))
        .order_by("asset_id", Order::Asc)
        .order_by("name", Order::Asc)
        .to_owned();
    let mut out: HashMap<i64, Vec<Attribute>> = HashMap::new();
    for r in fetch(conn, &q).await? {
        out.entry(r.try_get(0)?).or_default().push(Attribute {
            name: r.try_get(1)?,
            value: r.try_get(2)?,
        });
    }
    Ok(out)
}

async fn comments_of(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Comment>>, StoreError> {
    let q = Query::select()
        .column(("c", "asset_id"))
        .column(("c", "contents"))
        .column(("c", "created"))
        .column(("u", "id"))
        .column(("u", "username"))
        .column(("u", "first_name"))
        .column(("u", "last_name"))
        .from_as("webapp_comment", "c")
        .join_as(
            JoinType::LeftJoin,
            "app_user",
            "u",
            Expr::col(("u", "id")).equals(("c", "author_id")),
        )
        .and_where(Expr::col(("c", "asset_id")).is_in(ids.iter().copied()))
        .order_by(("c", "asset_id"), Order::Asc)
        .order_by(("c", "ord"), Order::Asc)
        .to_owned();
    let mut out: HashMap<i64, Vec<Comment>> = HashMap::new();
    for r in fetch(conn, &q).await? {
        out.entry(r.try_get(0)?).or_default().push(Comment {
            contents: r.try_get(1)?,
            created: ts_opt(r.try_get(2)?)?,
            author: rows::user_at(&r, 3)?,
        });
    }
    Ok(out)
}

/// Inserts a new web app (asset row, WAS row, settings, tags); returns its id.
pub(crate) async fn create(
    conn: &mut Conn,
    sub: SubscriptionId,
    w: &WebApp,
    tag_ids: &[i64],
) -> Result<i64, StoreError> {
    check_tags_exist(conn, sub, tag_ids).await?;
    let mut cols = vec![
        "subscription_id",
        "asset_type",
        "name",
        "created",
        "modified",
    ];
    let mut vals: Vec<sea_query::Expr> = vec![
        sub.0.into(),
        "WEBAPP".into(),
        w.name.clone().into(),
        w.created.as_second().into(),
        w.updated.as_second().into(),
    ];
    if let Some(id) = conn.fresh_id("asset").await? {
        cols.push("id");
        vals.push(id.into());
    }
    let mut ins = Query::insert();
    ins.into_table("asset")
        .columns(cols)
        .values_panic(vals)
        .returning_col("id");
    let id = insert_returning_id(conn, &ins).await?;
    insert_row(conn, id, w).await?;
    change_tags(
        conn,
        sub,
        &[id],
        &TagChanges {
            set: None,
            add: tag_ids.to_vec(),
            remove: Vec::new(),
        },
    )
    .await?;
    Ok(id)
}

/// The WAS row of an asset that exists already (`id`), with every setting of `w`.
pub(crate) async fn insert_row(conn: &mut Conn, id: i64, w: &WebApp) -> Result<(), StoreError> {
    let mut ins = Query::insert();
    ins.into_table("webapp")
        .columns(["asset_id", "url", "owner_id", "created", "updated"])
        .values_panic([
            id.into(),
            w.url.clone().into(),
            w.owner.id.into(),
            w.created.as_second().into(),
            w.updated.as_second().into(),
        ]);
    execute(conn, &ins).await?;
    write(conn, id, w).await
}

/// Writes every setting of `w` to the web app `id` (name, url, scalars, lists), replacing what
/// was stored. Tags are not touched.
pub(crate) async fn write(conn: &mut Conn, id: i64, w: &WebApp) -> Result<(), StoreError> {
    let d = &w.details;
    let asset = Query::update()
        .table("asset")
        .value("name", w.name.clone())
        .value("modified", w.updated.as_second())
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    execute(conn, &asset).await?;
    let (config_kind, config_number, config_text) = match &d.config {
        None => (None, None, None),
        Some(WebAppConfig::CancelScansAfterNHours(h)) => (Some("HOURS"), Some(*h), None),
        Some(WebAppConfig::CancelScansAt(t)) => (Some("AT"), None, Some(t.clone())),
        Some(WebAppConfig::DefaultAuthRecord(r)) => (Some("AUTH"), Some(r.id), r.name.clone()),
    };
    let scan = d.last_scan.as_ref();
    let upd = Query::update()
        .table("webapp")
        .value("url", w.url.clone())
        .value("os", w.os.clone())
        .value("scope", w.scope.clone())
        .value("is_scheduled", w.is_scheduled as i64)
        .value("updated", w.updated.as_second())
        .value("created_by", d.created_by.as_ref().map(|u| u.id))
        .value("updated_by", d.updated_by.as_ref().map(|u| u.id))
        .value("sub_domain", d.sub_domain.clone())
        .value(
            "default_profile_id",
            d.default_profile.as_ref().map(|p| p.id),
        )
        .value(
            "default_profile_name",
            d.default_profile.as_ref().and_then(|p| p.name.clone()),
        )
        .value(
            "scanner_type",
            d.default_scanner.as_ref().map(|s| s.kind.clone()),
        )
        .value(
            "scanner_name",
            d.default_scanner
                .as_ref()
                .and_then(|s| s.friendly_name.clone()),
        )
        .value("scanner_locked", d.scanner_locked as i64)
        .value(
            "progressive_scanning",
            d.progressive_scanning.map(i64::from),
        )
        .value("use_robots", d.use_robots.clone())
        .value("use_sitemap", d.use_sitemap as i64)
        .value("config_kind", config_kind)
        .value("config_number", config_number)
        .value("config_text", config_text)
        .value("last_scan_id", scan.map(|s| s.id))
        .value("last_scan_name", scan.and_then(|s| s.name.clone()))
        .value("last_scan_status", scan.map(|s| s.status.clone()))
        .value("last_scan_date", scan.map(|s| s.date.as_second()))
        .and_where(Expr::col("asset_id").eq(id))
        .to_owned();
    execute(conn, &upd).await?;
    for table in ["webapp_item", "webapp_attribute", "webapp_comment"] {
        let del = Query::delete()
            .from_table(table)
            .and_where(Expr::col("asset_id").eq(id))
            .to_owned();
        execute(conn, &del).await?;
    }
    let mut items: Vec<(&str, Option<i64>, Option<String>, bool)> = Vec::new();
    let texts = [
        ("domains", &d.domains),
        ("uris", &d.uris),
        ("headers", &d.headers),
    ];
    for (kind, list) in texts {
        items.extend(list.iter().map(|t| (kind, None, Some(t.clone()), false)));
    }
    let entries = [
        ("urlBlacklist", &d.url_blacklist),
        ("urlWhitelist", &d.url_whitelist),
        ("postDataBlacklist", &d.post_data_blacklist),
        ("logoutRegexList", &d.logout_regex_list),
    ];
    for (kind, list) in entries {
        items.extend(
            list.iter()
                .map(|e| (kind, None, Some(e.value.clone()), e.regex)),
        );
    }
    let refs = [
        ("authRecords", &d.auth_records),
        ("crawlingScripts", &d.crawling_scripts),
    ];
    for (kind, list) in refs {
        items.extend(
            list.iter()
                .map(|r| (kind, Some(r.id), r.name.clone(), false)),
        );
    }
    let items: Vec<_> = items
        .into_iter()
        .enumerate()
        .map(|(ord, (kind, ref_id, text, regex))| (ord, kind, ref_id, text, regex))
        .collect();
    // Rows go in batches so no statement exceeds SQLite's bound-parameter limit.
    for batch in items.chunks(ROWS) {
        let mut ins = Query::insert();
        ins.into_table("webapp_item")
            .columns(["asset_id", "kind", "ord", "ref_id", "text", "regex"]);
        for (ord, kind, ref_id, text, regex) in batch {
            ins.values_panic([
                id.into(),
                (*kind).into(),
                (*ord as i64).into(),
                (*ref_id).into(),
                text.clone().into(),
                (*regex as i64).into(),
            ]);
        }
        execute(conn, &ins).await?;
    }
    for batch in d.attributes.chunks(ROWS) {
        let mut ins = Query::insert();
        ins.into_table("webapp_attribute")
            .columns(["asset_id", "name", "value"]);
        for a in batch {
            ins.values_panic([id.into(), a.name.clone().into(), a.value.clone().into()]);
        }
        execute(conn, &ins).await?;
    }
    for (n, batch) in d.comments.chunks(ROWS).enumerate() {
        let mut ins = Query::insert();
        ins.into_table("webapp_comment").columns([
            "asset_id",
            "ord",
            "contents",
            "author_id",
            "created",
        ]);
        for (i, c) in batch.iter().enumerate() {
            ins.values_panic([
                id.into(),
                ((n * ROWS + i) as i64).into(),
                c.contents.clone().into(),
                c.author.as_ref().map(|u| u.id).into(),
                c.created.map(|t| t.as_second()).into(),
            ]);
        }
        execute(conn, &ins).await?;
    }
    Ok(())
}

/// Applies `change` and `tags` to the web apps `ids`, as done by `by` at `at`.
pub(crate) async fn update(
    conn: &mut Conn,
    sub: SubscriptionId,
    ids: &[i64],
    change: &WebAppChange,
    tags: &TagChanges,
    by: &WebAppOwner,
    at: Timestamp,
) -> Result<(), StoreError> {
    let wanted: Vec<i64> = tags
        .set
        .iter()
        .flatten()
        .chain(&tags.add)
        .copied()
        .collect();
    check_tags_exist(conn, sub, &wanted).await?;
    for chunk in ids.chunks(CHUNK) {
        change_tags(conn, sub, chunk, tags).await?;
        for mut w in load(conn, chunk).await? {
            change.apply(&mut w, by, at);
            write(conn, w.id, &w).await?;
        }
    }
    Ok(())
}

/// Clears the scan history of the web apps `ids`: their last scan goes; the apps, and their
/// `updatedDate`, stay as they are (purge changes scan data, not the application).
pub(crate) async fn purge(conn: &mut Conn, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(CHUNK) {
        let upd = Query::update()
            .table("webapp")
            .value("last_scan_id", None::<i64>)
            .value("last_scan_name", None::<String>)
            .value("last_scan_status", None::<String>)
            .value("last_scan_date", None::<i64>)
            .and_where(Expr::col("asset_id").is_in(chunk.iter().copied()))
            .to_owned();
        execute(conn, &upd).await?;
    }
    Ok(())
}

pub(crate) async fn delete(
    conn: &mut Conn,
    ids: &[i64],
    remove_from_subscription: bool,
) -> Result<(), StoreError> {
    if remove_from_subscription {
        // The asset row goes, and with it (by cascade) the WAS rows and the tag links.
        return super::write::delete_assets(conn, ids).await;
    }
    for chunk in ids.chunks(CHUNK) {
        let del = Query::delete()
            .from_table("webapp")
            .and_where(Expr::col("asset_id").is_in(chunk.iter().copied()))
            .to_owned();
        execute(conn, &del).await?;
    }
    Ok(())
}
