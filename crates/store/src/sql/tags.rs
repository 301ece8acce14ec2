//! Tags: reads, creation with children, updates, and deletes that take descendants along.

use super::conn::{Conn, query};
use super::{execute, existing_id, fetch};
use crate::filter_sql::SqlTarget;
use crate::rows::ts;
use crate::{ChildChanges, ChildRef, Selector, StoreError, TagFields};
use openqps_model::{SubscriptionId, Tag, TagRef, Timestamp};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use std::collections::HashMap;

/// `SELECT … FROM tag a` of one subscription.
pub(crate) fn tags_query(sub: SubscriptionId) -> SelectStatement {
    Query::select()
        .from_as("tag", "a")
        .and_where(Expr::col(("a", "subscription_id")).eq(sub.0))
        .to_owned()
}

pub(crate) async fn load(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Tag>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = Query::select()
        .columns([
            "id",
            "name",
            "created",
            "modified",
            "color",
            "rule_type",
            "rule_text",
            "parent_id",
            "criticality_score",
            "description",
            "provider",
        ])
        .from("tag")
        .and_where(Expr::col("id").is_in(ids.iter().copied()))
        .order_by("id", Order::Asc)
        .to_owned();
    let mut tags = fetch(conn, &q)
        .await?
        .iter()
        .map(|r| {
            Ok(Tag {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                created: ts(r.try_get(2)?)?,
                modified: ts(r.try_get(3)?)?,
                color: r.try_get(4)?,
                rule_type: r.try_get(5)?,
                rule_text: r.try_get(6)?,
                parent_id: r.try_get(7)?,
                criticality_score: r.try_get(8)?,
                description: r.try_get(9)?,
                provider: r.try_get(10)?,
                children: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let q = Query::select()
        .columns(["parent_id", "id", "name"])
        .from("tag")
        .and_where(Expr::col("parent_id").is_in(ids.iter().copied()))
        .order_by("parent_id", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    let mut children: HashMap<i64, Vec<TagRef>> = HashMap::new();
    for r in fetch(conn, &q).await? {
        children.entry(r.try_get(0)?).or_default().push(TagRef {
            id: r.try_get(1)?,
            name: r.try_get(2)?,
        });
    }
    for t in &mut tags {
        t.children = children.remove(&t.id).unwrap_or_default();
    }
    Ok(tags)
}

pub(crate) async fn create(
    conn: &mut Conn,
    sub: SubscriptionId,
    fields: &TagFields,
    children: &ChildChanges,
    at: Timestamp,
) -> Result<i64, StoreError> {
    if let Some(parent) = fields.parent_id {
        must_exist(conn, sub, parent).await?;
    }
    let id = insert(conn, sub, fields, at).await?;
    apply_children(conn, sub, id, children, at).await?;
    Ok(id)
}

async fn insert(
    conn: &mut Conn,
    sub: SubscriptionId,
    f: &TagFields,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let mut cols = vec![
        "subscription_id",
        "name",
        "created",
        "modified",
        "color",
        "rule_type",
        "rule_text",
        "parent_id",
        "criticality_score",
        "description",
        "provider",
        "rule_criteria",
    ];
    let mut vals: Vec<sea_query::Expr> = vec![
        sub.0.into(),
        f.name.clone().unwrap_or_default().into(),
        at.as_second().into(),
        at.as_second().into(),
        f.color.clone().into(),
        f.rule_type
            .clone()
            .unwrap_or_else(|| "STATIC".into())
            .into(),
        f.rule_text.clone().into(),
        f.parent_id.into(),
        f.criticality_score.into(),
        f.description.clone().into(),
        f.provider.clone().into(),
        f.rule_criteria.clone().into(),
    ];
    if let Some(id) = conn.fresh_id("tag").await? {
        cols.push("id");
        vals.push(id.into());
    }
    let mut ins = sea_query::Query::insert();
    ins.into_table("tag")
        .columns(cols)
        .values_panic(vals)
        .returning_col("id");
    super::insert_returning_id(conn, &ins).await
}

async fn must_exist(conn: &mut Conn, sub: SubscriptionId, id: i64) -> Result<(), StoreError> {
    if existing_id(conn, tags_query(sub), id).await?.is_empty() {
        return Err(StoreError::UnknownTag(id));
    }
    Ok(())
}

/// `id` and every tag below it.
async fn with_descendants(conn: &mut Conn, id: i64) -> Result<Vec<i64>, StoreError> {
    let rows = query(
        "WITH RECURSIVE d(id) AS (SELECT $1 UNION SELECT t.id FROM tag t JOIN d ON t.parent_id = d.id) \
         SELECT id FROM d ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Makes `parent` the parent of `child`, refusing a cycle.
async fn adopt(
    conn: &mut Conn,
    sub: SubscriptionId,
    parent: i64,
    child: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    must_exist(conn, sub, child).await?;
    if with_descendants(conn, child).await?.contains(&parent) {
        return Err(StoreError::Conflict(format!(
            "Tag {child} cannot become a child of tag {parent}, which is itself below it."
        )));
    }
    query("UPDATE tag SET parent_id = $1, modified = $2 WHERE id = $3")
        .bind(parent)
        .bind(at.as_second())
        .bind(child)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn apply_children(
    conn: &mut Conn,
    sub: SubscriptionId,
    parent: i64,
    changes: &ChildChanges,
    at: Timestamp,
) -> Result<(), StoreError> {
    if let Some(set) = &changes.set {
        let keep: Vec<i64> = set
            .iter()
            .filter_map(|c| match c {
                ChildRef::Id(id) => Some(*id),
                ChildRef::Name(_) => None,
            })
            .collect();
        let detach = Query::update()
            .table("tag")
            .value("parent_id", Option::<i64>::None)
            .value("modified", at.as_second())
            .and_where(Expr::col("parent_id").eq(parent))
            .and_where(Expr::col("id").is_not_in(keep))
            .to_owned();
        execute(conn, &detach).await?;
    }
    for child in changes.set.iter().flatten().chain(&changes.add) {
        match child {
            ChildRef::Id(id) => adopt(conn, sub, parent, *id, at).await?,
            ChildRef::Name(name) => {
                let fields = TagFields {
                    name: Some(name.clone()),
                    parent_id: Some(parent),
                    ..TagFields::default()
                };
                insert(conn, sub, &fields, at).await?;
            }
        }
    }
    if !changes.remove.is_empty() {
        let detach = Query::update()
            .table("tag")
            .value("parent_id", Option::<i64>::None)
            .value("modified", at.as_second())
            .and_where(Expr::col("parent_id").eq(parent))
            .and_where(Expr::col("id").is_in(changes.remove.iter().copied()))
            .to_owned();
        execute(conn, &detach).await?;
    }
    Ok(())
}

pub(crate) async fn update<F: SqlTarget>(
    conn: &mut Conn,
    sub: SubscriptionId,
    target: &Selector<F>,
    fields: &TagFields,
    children: &ChildChanges,
    at: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let ids = super::write::select(conn, tags_query(sub), target, sub, "Tag").await?;
    let adopts = children
        .set
        .iter()
        .flatten()
        .chain(&children.add)
        .any(|c| matches!(c, ChildRef::Id(_)));
    if adopts && ids.len() > 1 {
        return Err(StoreError::Conflict(format!(
            "children: an existing tag can have one parent, but this update selects {} tags.",
            ids.len()
        )));
    }
    for id in &ids {
        if let Some(parent) = fields.parent_id {
            must_exist(conn, sub, parent).await?;
            if with_descendants(conn, *id).await?.contains(&parent) {
                return Err(StoreError::Conflict(format!(
                    "Tag {id} cannot have tag {parent} as parent: that tag is itself or below it."
                )));
            }
        }
        let mut upd = Query::update();
        upd.table("tag")
            .value("modified", at.as_second())
            .and_where(Expr::col("id").eq(*id));
        let f = fields;
        if let Some(v) = &f.name {
            upd.value("name", v.clone());
        }
        if let Some(v) = &f.color {
            upd.value("color", v.clone());
        }
        if let Some(v) = &f.rule_type {
            upd.value("rule_type", v.clone());
        }
        if let Some(v) = &f.rule_text {
            upd.value("rule_text", v.clone());
            upd.value("rule_criteria", f.rule_criteria.clone());
        }
        if let Some(v) = f.parent_id {
            upd.value("parent_id", v);
        }
        if let Some(v) = f.criticality_score {
            upd.value("criticality_score", v);
        }
        if let Some(v) = &f.description {
            upd.value("description", v.clone());
        }
        if let Some(v) = &f.provider {
            upd.value("provider", v.clone());
        }
        execute(conn, &upd).await?;
        apply_children(conn, sub, *id, children, at).await?;
    }
    Ok(ids)
}

pub(crate) async fn delete<F: SqlTarget>(
    conn: &mut Conn,
    sub: SubscriptionId,
    target: &Selector<F>,
) -> Result<Vec<i64>, StoreError> {
    let roots = super::write::select(conn, tags_query(sub), target, sub, "Tag").await?;
    let mut all = Vec::new();
    for id in roots {
        for d in with_descendants(conn, id).await? {
            if !all.contains(&d) {
                all.push(d);
            }
        }
    }
    all.sort_unstable();
    // Children first, so no row ever points at a deleted parent; asset links go by cascade.
    for chunk in all.chunks(5_000) {
        let detach = Query::update()
            .table("tag")
            .value("parent_id", Option::<i64>::None)
            .and_where(Expr::col("id").is_in(chunk.iter().copied()))
            .to_owned();
        execute(conn, &detach).await?;
    }
    for chunk in all.chunks(5_000) {
        let del = Query::delete()
            .from_table("tag")
            .and_where(Expr::col("id").is_in(chunk.iter().copied()))
            .to_owned();
        execute(conn, &del).await?;
    }
    Ok(all)
}
