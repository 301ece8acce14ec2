//! Cloud Agent activation keys and configuration profiles.

use super::conn::{Conn, query};
use super::{execute, fetch, insert_returning_id};
use crate::{ActivationKeyFields, AgentConfigFields, StoreError};
use openqps_model::{ActivationKey, AgentConfig, KeyType, SubscriptionId, Timestamp};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use std::collections::HashMap;

pub(crate) fn keys_query(sub: SubscriptionId) -> SelectStatement {
    Query::select()
        .from_as("agent_act_key", "a")
        .and_where(Expr::col(("a", "subscription_id")).eq(sub.0))
        .to_owned()
}

pub(crate) fn configs_query(sub: SubscriptionId) -> SelectStatement {
    Query::select()
        .from_as("agent_config", "a")
        .and_where(Expr::col(("a", "subscription_id")).eq(sub.0))
        .to_owned()
}

fn time(s: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) async fn load_keys(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<Vec<ActivationKey>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::write::CHUNK) {
        let q = Query::select()
            .columns([
                ("k", "id"),
                ("k", "title"),
                ("k", "activation_key"),
                ("k", "key_type"),
                ("k", "count_purchased"),
                ("k", "expire_date"),
                ("k", "licenses"),
                ("k", "created"),
            ])
            // countUsed: a fixed correlated count, backed by agent_by_activation_key.
            .expr(Expr::cust(
                "(SELECT COUNT(*) FROM agent g WHERE g.activation_key_id = k.activation_key)",
            ))
            .from_as("agent_act_key", "k")
            .and_where(Expr::col(("k", "id")).is_in(chunk.iter().copied()))
            .order_by(("k", "id"), Order::Asc)
            .to_owned();
        let rows = fetch(conn, &q).await?;
        let tq = Query::select()
            .columns(["key_id", "tag_id"])
            .from("agent_act_key_tag")
            .and_where(Expr::col("key_id").is_in(chunk.iter().copied()))
            .order_by("key_id", Order::Asc)
            .order_by("tag_id", Order::Asc)
            .to_owned();
        let tag_rows = fetch(conn, &tq).await?;
        let mut tags: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in &tag_rows {
            tags.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
        }
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let key_type: String = r.try_get(3)?;
            let licenses: String = r.try_get(6)?;
            keys.push(ActivationKey {
                id,
                title: r.try_get(1)?,
                activation_key: r.try_get(2)?,
                key_type: KeyType::parse(&key_type)
                    .ok_or_else(|| StoreError::Corrupt(format!("key type {key_type}")))?,
                count_purchased: r.try_get(4)?,
                expire_date: r.try_get::<Option<i64>, _>(5)?.map(time).transpose()?,
                licenses: licenses
                    .split(',')
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
                created: time(r.try_get(7)?)?,
                count_used: r.try_get(8)?,
                tag_ids: tags.remove(&id).unwrap_or_default(),
            });
        }
    }
    Ok(keys)
}

pub(crate) async fn load_configs(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<Vec<AgentConfig>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = Query::select()
        .columns([
            "id",
            "name",
            "description",
            "is_default",
            "created",
            "modified",
        ])
        .from("agent_config")
        .and_where(Expr::col("id").is_in(ids.iter().copied()))
        .order_by("id", Order::Asc)
        .to_owned();
    fetch(conn, &q)
        .await?
        .iter()
        .map(|r| {
            Ok(AgentConfig {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                description: r.try_get(2)?,
                is_default: r.try_get::<i64, _>(3)? != 0,
                created: time(r.try_get(4)?)?,
                modified: time(r.try_get(5)?)?,
            })
        })
        .collect()
}

/// Inserts a key (with `key.id` when given, else a new id); returns its id.
pub(crate) async fn insert_key(
    conn: &mut Conn,
    sub: SubscriptionId,
    key: &ActivationKey,
    with_id: bool,
) -> Result<i64, StoreError> {
    super::write::check_tags_exist(conn, sub, &key.tag_ids).await?;
    let mut ins = Query::insert();
    ins.into_table("agent_act_key");
    let mut cols = vec![
        "subscription_id",
        "title",
        "activation_key",
        "key_type",
        "count_purchased",
        "expire_date",
        "licenses",
        "created",
    ];
    let mut vals: Vec<sea_query::Expr> = vec![
        sub.0.into(),
        key.title.clone().into(),
        key.activation_key.clone().into(),
        key.key_type.name().into(),
        key.count_purchased.into(),
        key.expire_date.map(|t| t.as_second()).into(),
        key.licenses.join(",").into(),
        key.created.as_second().into(),
    ];
    let id = match with_id {
        true => Some(key.id),
        false => conn.fresh_id("agent_act_key").await?,
    };
    if let Some(id) = id {
        cols.push("id");
        vals.push(id.into());
    }
    ins.columns(cols).values_panic(vals).returning_col("id");
    let id = insert_returning_id(conn, &ins).await?;
    set_key_tags(conn, id, &key.tag_ids).await?;
    Ok(id)
}

async fn set_key_tags(conn: &mut Conn, key: i64, tags: &[i64]) -> Result<(), StoreError> {
    let del = Query::delete()
        .from_table("agent_act_key_tag")
        .and_where(Expr::col("key_id").eq(key))
        .to_owned();
    execute(conn, &del).await?;
    for t in tags {
        query(
            "INSERT INTO agent_act_key_tag (key_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(t)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Applies `fields` to each key of `ids`; the result must still be a valid key.
pub(crate) async fn update_keys(
    conn: &mut Conn,
    sub: SubscriptionId,
    ids: &[i64],
    fields: &ActivationKeyFields,
) -> Result<(), StoreError> {
    if let Some(tags) = &fields.tag_ids {
        super::write::check_tags_exist(conn, sub, tags).await?;
    }
    for mut key in load_keys(conn, ids).await? {
        fields.apply_to(&mut key);
        fields_valid(&key).map_err(StoreError::Conflict)?;
        query(
            "UPDATE agent_act_key SET title = $1, key_type = $2, count_purchased = $3, \
             expire_date = $4, licenses = $5 WHERE id = $6",
        )
        .bind(&key.title)
        .bind(key.key_type.name())
        .bind(key.count_purchased)
        .bind(key.expire_date.map(|t| t.as_second()))
        .bind(key.licenses.join(","))
        .bind(key.id)
        .execute(&mut *conn)
        .await?;
        if fields.tag_ids.is_some() {
            set_key_tags(conn, key.id, &key.tag_ids).await?;
        }
    }
    Ok(())
}

/// The rules a stored key keeps: a COUNT_LIMITED key allows at least one agent, an UNLIMITED one
/// has no count.
pub(crate) fn fields_valid(key: &ActivationKey) -> Result<(), String> {
    match key.key_type {
        KeyType::CountLimited if key.count_purchased < 1 => Err(format!(
            "Activation key '{}' is COUNT_LIMITED and needs countPurchased of 1 or more.",
            key.title
        )),
        KeyType::Unlimited if key.count_purchased != 0 => Err(format!(
            "Activation key '{}' is UNLIMITED and takes no countPurchased.",
            key.title
        )),
        _ => Ok(()),
    }
}

pub(crate) async fn delete_keys(conn: &mut Conn, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(super::write::CHUNK) {
        let del = Query::delete()
            .from_table("agent_act_key")
            .and_where(Expr::col("id").is_in(chunk.iter().copied()))
            .to_owned();
        execute(conn, &del).await?;
    }
    Ok(())
}

pub(crate) async fn insert_config(
    conn: &mut Conn,
    sub: SubscriptionId,
    c: &AgentConfig,
    with_id: bool,
) -> Result<i64, StoreError> {
    if c.is_default {
        // One default profile per subscription: a new default takes over.
        query("UPDATE agent_config SET is_default = 0 WHERE subscription_id = $1")
            .bind(sub.0)
            .execute(&mut *conn)
            .await?;
    }
    let mut ins = Query::insert();
    ins.into_table("agent_config");
    let mut cols = vec![
        "subscription_id",
        "name",
        "description",
        "is_default",
        "created",
        "modified",
    ];
    let mut vals: Vec<sea_query::Expr> = vec![
        sub.0.into(),
        c.name.clone().into(),
        c.description.clone().into(),
        (c.is_default as i64).into(),
        c.created.as_second().into(),
        c.modified.as_second().into(),
    ];
    let id = match with_id {
        true => Some(c.id),
        false => conn.fresh_id("agent_config").await?,
    };
    if let Some(id) = id {
        cols.push("id");
        vals.push(id.into());
    }
    ins.columns(cols).values_panic(vals).returning_col("id");
    insert_returning_id(conn, &ins).await
}

impl AgentConfigFields {
    pub(crate) fn into_config(self, at: Timestamp) -> AgentConfig {
        AgentConfig {
            id: 0,
            name: self.name,
            description: self.description,
            is_default: self.is_default,
            created: at,
            modified: at,
        }
    }
}

/// Registers a new agent with the key whose UUID is `activation_key`, in that key's
/// subscription: a new host asset tracked by QAGENT, its agent row and its credential.
pub(crate) async fn register(
    conn: &mut Conn,
    activation_key: &str,
    reg: &crate::AgentRegistration,
    at: Timestamp,
) -> Result<crate::RegisteredAgent, StoreError> {
    let refused = |m: &str| StoreError::AgentRefused(m.to_string());
    let row = query("SELECT id, subscription_id FROM agent_act_key WHERE activation_key = $1")
        .bind(activation_key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| refused("No activation key has this value."))?;
    let key_id: i64 = row.try_get(0)?;
    let sub = SubscriptionId(row.try_get(1)?);
    conn.lock(sub.0).await?;
    let key = load_keys(conn, &[key_id])
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt(format!("activation key {key_id} vanished")))?;
    if key.expire_date.is_some_and(|e| e <= at) {
        return Err(refused("The activation key has expired."));
    }
    if key.key_type == KeyType::CountLimited && key.count_used >= key.count_purchased {
        return Err(refused(
            "The activation key has installed as many agents as it allows.",
        ));
    }
    let profile = query(
        "SELECT id, name FROM agent_config WHERE subscription_id = $1 \
         ORDER BY is_default DESC, id LIMIT 1",
    )
    .bind(sub.0)
    .fetch_optional(&mut *conn)
    .await?;
    let (configuration_id, configuration_name) = match profile {
        Some(r) => (Some(r.try_get(0)?), Some(r.try_get(1)?)),
        None => (None, None),
    };
    let mut host = openqps_model::HostAsset::new(
        reg.hostname.clone(),
        openqps_model::TrackingMethod::QAGENT,
        at,
    );
    host.os = reg.os.clone();
    host.dns_host_name = Some(reg.hostname.clone());
    host.address = reg.address.clone();
    host.agent = Some(openqps_model::AgentInfo {
        agent_version: reg.agent_version.clone(),
        agent_id: reg.agent_id.clone(),
        status: "STATUS_ACTIVE".into(),
        last_checked_in: Some(at),
        connected_from: reg.address.clone(),
        platform: reg.platform.clone(),
        activated_modules: key.initial_modules(&reg.platform),
        configuration_id,
        configuration_name,
        activation_key_id: Some(key.activation_key.clone()),
        activation_key_title: Some(key.title.clone()),
    });
    let asset_id = super::load::insert_host(conn, sub, &host, None).await?;
    // The key's tags, and the subscription's `Cloud Agent` tag when it has one.
    let mut tags = key.tag_ids.clone();
    if let Some(r) = query(
        "SELECT id FROM tag WHERE subscription_id = $1 AND name = 'Cloud Agent' ORDER BY id LIMIT 1",
    )
    .bind(sub.0)
    .fetch_optional(&mut *conn)
    .await?
    {
        tags.push(r.try_get(0)?);
    }
    for t in tags {
        query("INSERT INTO asset_tag (tag_id, asset_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(t)
            .bind(asset_id)
            .execute(&mut *conn)
            .await?;
    }
    query("INSERT INTO agent_credential (asset_id, secret_hash) VALUES ($1, $2)")
        .bind(asset_id)
        .bind(&reg.secret_hash)
        .execute(&mut *conn)
        .await?;
    super::rules::reapply_to_hosts(conn, sub, &[asset_id]).await?;
    Ok(crate::RegisteredAgent {
        subscription: sub,
        asset_id,
    })
}

/// The credential of the agent with this agent id, if it registered through openqps.
pub(crate) async fn credential(
    conn: &mut Conn,
    agent_id: &str,
) -> Result<Option<crate::AgentCredential>, StoreError> {
    let row = query(
        "SELECT a.subscription_id, a.id, c.secret_hash FROM agent g \
         JOIN asset a ON a.id = g.asset_id JOIN agent_credential c ON c.asset_id = a.id \
         WHERE g.agent_id = $1 LIMIT 1",
    )
    .bind(agent_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(crate::AgentCredential {
            subscription: SubscriptionId(r.try_get(0)?),
            asset_id: r.try_get(1)?,
            secret_hash: r.try_get(2)?,
        })
    })
    .transpose()
}

pub(crate) async fn check_in(
    conn: &mut Conn,
    asset_id: i64,
    connected_from: Option<&str>,
    agent_version: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    query(
        "UPDATE agent SET last_checked_in = $1, status = 'STATUS_ACTIVE', \
         connected_from = COALESCE($2, connected_from), \
         agent_version = COALESCE($3, agent_version) WHERE asset_id = $4",
    )
    .bind(at.as_second())
    .bind(connected_from)
    .bind(agent_version)
    .bind(asset_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces the asset's SwCA result with `components` from `job_id`.
pub(crate) async fn store_swca(
    conn: &mut Conn,
    asset_id: i64,
    job_id: i64,
    components: &[crate::SwComponent],
    at: Timestamp,
) -> Result<(), StoreError> {
    for table in ["swca_component", "swca_result"] {
        let del = Query::delete()
            .from_table(table)
            .and_where(Expr::col("asset_id").eq(asset_id))
            .to_owned();
        execute(conn, &del).await?;
    }
    let ins = Query::insert()
        .into_table("swca_result")
        .columns(["asset_id", "job_id", "uploaded_at"])
        .values_panic([asset_id.into(), job_id.into(), at.as_second().into()])
        .to_owned();
    execute(conn, &ins).await?;
    for (seq, c) in components.iter().enumerate() {
        let ins = Query::insert()
            .into_table("swca_component")
            .columns([
                "asset_id",
                "seq",
                "name",
                "version",
                "purl",
                "ecosystem",
                "path",
            ])
            .values_panic([
                asset_id.into(),
                (seq as i64).into(),
                c.name.clone().into(),
                c.version.clone().into(),
                c.purl.clone().into(),
                c.ecosystem.clone().into(),
                c.path.clone().into(),
            ])
            .to_owned();
        execute(conn, &ins).await?;
    }
    Ok(())
}

/// The asset's SwCA result, if one was uploaded.
pub(crate) async fn load_swca(
    conn: &mut Conn,
    asset_id: i64,
) -> Result<Option<crate::SwCaResult>, StoreError> {
    let q = Query::select()
        .columns(["job_id", "uploaded_at"])
        .from("swca_result")
        .and_where(Expr::col("asset_id").eq(asset_id))
        .to_owned();
    let Some(head) = fetch(conn, &q).await?.into_iter().next() else {
        return Ok(None);
    };
    let uploaded: i64 = head.try_get(1)?;
    let q = Query::select()
        .columns(["name", "version", "purl", "ecosystem", "path"])
        .from("swca_component")
        .and_where(Expr::col("asset_id").eq(asset_id))
        .order_by("seq", Order::Asc)
        .to_owned();
    let components = fetch(conn, &q)
        .await?
        .iter()
        .map(|r| {
            Ok(crate::SwComponent {
                name: r.try_get(0)?,
                version: r.try_get(1)?,
                purl: r.try_get(2)?,
                ecosystem: r.try_get(3)?,
                path: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(crate::SwCaResult {
        job_id: head.try_get(0)?,
        uploaded_at: Timestamp::from_second(uploaded)
            .map_err(|e| StoreError::Corrupt(format!("swca upload time: {e}")))?,
        components,
    }))
}
