//! Rule tags follow their rule: re-applied to the whole subscription when a tag's rule changes,
//! and to an asset when the asset changes. Rules are checked on full host assets, a chunk at a
//! time, inside the caller's transaction.

use super::conn::{Conn, query};
use super::{execute, fetch, load_hosts, matching_ids};
use crate::StoreError;
use openqps_model::SubscriptionId;
use openqps_model::rules::Rule;
use openqps_query::fields::{HOSTASSET, HostField};
use openqps_query::{Filter, compile, decode_criteria};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

const CHUNK: usize = 500;

/// A rule as the store applies it: checked on loaded hosts, or run as criteria in SQL.
enum StoredRule {
    Hosts(Rule),
    Search(Filter<HostField>),
}

impl StoredRule {
    fn parse(
        rule_type: &str,
        text: Option<&str>,
        criteria: Option<&str>,
    ) -> Result<Option<StoredRule>, StoreError> {
        if rule_type == "ASSET_SEARCH" {
            let raw = criteria.and_then(decode_criteria).ok_or_else(|| {
                StoreError::Conflict(
                    "ruleText: an ASSET_SEARCH rule needs its criteria; send ruleType ASSET_SEARCH with the ruleText."
                        .into(),
                )
            })?;
            let filter = compile("HostAsset", HOSTASSET, &raw)
                .map_err(|e| StoreError::Conflict(format!("ruleText: {e}")))?;
            return Ok(Some(StoredRule::Search(filter)));
        }
        Rule::parse(rule_type, text.unwrap_or_default())
            .map(|r| r.map(StoredRule::Hosts))
            .map_err(|e| StoreError::Conflict(format!("ruleText: {}", e.replace('\n', " "))))
    }

    /// The hosts of `ids` (all hosts of the subscription when `None`) that the rule matches.
    async fn matching(
        &self,
        conn: &mut Conn,
        sub: SubscriptionId,
        ids: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        match self {
            StoredRule::Search(filter) => {
                let mut base = super::hosts_query(sub);
                base.and_where(Expr::col(("a", "id")).is_in(ids.iter().copied()));
                matching_ids(conn, base, filter, sub).await
            }
            StoredRule::Hosts(rule) => Ok(load_hosts(conn, ids)
                .await?
                .iter()
                .filter(|h| rule.matches(h))
                .map(|h| h.id)
                .collect()),
        }
    }
}

/// The rule of one stored tag: `Ok(None)` when the tag is static or its rule type is not
/// evaluated, `Err(Conflict)` when its rule does not parse.
async fn rule_of(conn: &mut Conn, tag: i64) -> Result<Option<StoredRule>, StoreError> {
    let row = query("SELECT rule_type, rule_text, rule_criteria FROM tag WHERE id = $1")
        .bind(tag)
        .fetch_one(&mut *conn)
        .await?;
    let (ty, text, criteria): (String, Option<String>, Option<String>) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    StoredRule::parse(&ty, text.as_deref(), criteria.as_deref())
}

/// Every rule tag of the subscription that openqps evaluates.
async fn rule_tags(
    conn: &mut Conn,
    sub: SubscriptionId,
) -> Result<Vec<(i64, StoredRule)>, StoreError> {
    let rows = query(
        "SELECT id, rule_type, rule_text, rule_criteria FROM tag \
         WHERE subscription_id = $1 AND rule_type <> 'STATIC' ORDER BY id",
    )
    .bind(sub.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let (id, ty, text, criteria): (i64, String, Option<String>, Option<String>) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        if let Ok(Some(rule)) = StoredRule::parse(&ty, text.as_deref(), criteria.as_deref()) {
            out.push((id, rule));
        }
    }
    Ok(out)
}

/// Whether a tag's assets follow a rule (so they cannot be assigned by hand).
pub(crate) async fn is_rule_tag(conn: &mut Conn, tag: i64) -> Result<bool, StoreError> {
    Ok(rule_of(conn, tag)
        .await
        .map(|r| r.is_some())
        .unwrap_or(false))
}

async fn host_ids(conn: &mut Conn, sub: SubscriptionId) -> Result<Vec<i64>, StoreError> {
    let q = Query::select()
        .column("id")
        .from("asset")
        .and_where(Expr::col("subscription_id").eq(sub.0))
        .and_where(Expr::col("asset_type").eq("HOST"))
        .order_by("id", Order::Asc)
        .to_owned();
    fetch(conn, &q)
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

impl StoredRule {
    fn is_search(&self) -> bool {
        matches!(self, StoredRule::Search(_))
    }
}

/// Puts `tag` on exactly those of `hosts` its rule matches; returns whether a link changed.
async fn apply_to(
    conn: &mut Conn,
    sub: SubscriptionId,
    tag: i64,
    rule: &StoredRule,
    hosts: &[i64],
) -> Result<bool, StoreError> {
    let mut changed = false;
    for chunk in hosts.chunks(CHUNK) {
        let yes = rule.matching(conn, sub, chunk).await?;
        let q = Query::select()
            .column("asset_id")
            .from("asset_tag")
            .and_where(Expr::col("tag_id").eq(tag))
            .and_where(Expr::col("asset_id").is_in(chunk.iter().copied()))
            .to_owned();
        let now: Vec<i64> = fetch(conn, &q)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let gone: Vec<i64> = now.iter().copied().filter(|id| !yes.contains(id)).collect();
        let new: Vec<i64> = yes.iter().copied().filter(|id| !now.contains(id)).collect();
        if !gone.is_empty() {
            let del = Query::delete()
                .from_table("asset_tag")
                .and_where(Expr::col("tag_id").eq(tag))
                .and_where(Expr::col("asset_id").is_in(gone))
                .to_owned();
            execute(conn, &del).await?;
            changed = true;
        }
        if !new.is_empty() {
            link(conn, &[tag], &new).await?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Re-applies the ASSET_SEARCH rules to `hosts` until none changes: a search may name other
/// tags, rule tags and searches included. Each pass can only settle more, and there are at most
/// as many dependent steps as searches.
async fn settle_searches(
    conn: &mut Conn,
    sub: SubscriptionId,
    rules: &[(i64, StoredRule)],
    hosts: &[i64],
) -> Result<(), StoreError> {
    let searches: Vec<&(i64, StoredRule)> = rules.iter().filter(|(_, r)| r.is_search()).collect();
    for _ in 0..=searches.len() {
        let mut changed = false;
        for (tag, rule) in &searches {
            changed |= apply_to(conn, sub, *tag, rule, hosts).await?;
        }
        if !changed {
            break;
        }
    }
    Ok(())
}

/// Puts tag `tag` on exactly the hosts its rule matches, then lets the searches that depend on
/// tags settle. Returns whether the tag has a rule.
pub(crate) async fn reapply(
    conn: &mut Conn,
    sub: SubscriptionId,
    tag: i64,
) -> Result<bool, StoreError> {
    let Some(rule) = rule_of(conn, tag).await? else {
        return Ok(false);
    };
    let hosts = host_ids(conn, sub).await?;
    apply_to(conn, sub, tag, &rule, &hosts).await?;
    settle(conn, sub).await?;
    Ok(true)
}

/// After tag links changed across the subscription (a tag deleted, a rule changed): every
/// ASSET_SEARCH rule is re-applied until none changes.
pub(crate) async fn settle(conn: &mut Conn, sub: SubscriptionId) -> Result<(), StoreError> {
    let rules = rule_tags(conn, sub).await?;
    if rules.iter().any(|(_, r)| r.is_search()) {
        let hosts = host_ids(conn, sub).await?;
        settle_searches(conn, sub, &rules, &hosts).await?;
    }
    Ok(())
}

/// Re-checks every rule tag of the subscription against the given hosts: the rules on host data
/// first, then the searches, which may depend on tags, until they settle.
pub(crate) async fn reapply_to_hosts(
    conn: &mut Conn,
    sub: SubscriptionId,
    ids: &[i64],
) -> Result<(), StoreError> {
    let rules = rule_tags(conn, sub).await?;
    if rules.is_empty() {
        return Ok(());
    }
    for chunk in ids.chunks(CHUNK) {
        // Rules tag hosts only; web apps among the ids keep their tags.
        let q = Query::select()
            .column("id")
            .from("asset")
            .and_where(Expr::col("id").is_in(chunk.iter().copied()))
            .and_where(Expr::col("asset_type").eq("HOST"))
            .to_owned();
        let hosts: Vec<i64> = fetch(conn, &q)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        for (tag, rule) in rules.iter().filter(|(_, r)| !r.is_search()) {
            apply_to(conn, sub, *tag, rule, &hosts).await?;
        }
        settle_searches(conn, sub, &rules, &hosts).await?;
    }
    Ok(())
}

async fn link(conn: &mut Conn, tags: &[i64], assets: &[i64]) -> Result<(), StoreError> {
    for chunk in assets.chunks(CHUNK) {
        if chunk.is_empty() || tags.is_empty() {
            continue;
        }
        let mut ins = Query::insert();
        ins.into_table("asset_tag")
            .columns(["tag_id", "asset_id"])
            .on_conflict(
                OnConflict::columns(["tag_id", "asset_id"])
                    .do_nothing()
                    .to_owned(),
            );
        for a in chunk {
            for t in tags {
                ins.values_panic([(*t).into(), (*a).into()]);
            }
        }
        execute(conn, &ins).await?;
    }
    Ok(())
}
