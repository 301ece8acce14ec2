//! Writes. Each function runs inside the caller's transaction.

use super::conn::{Conn, Row, query};
use super::{execute, existing_id, fetch, matching_ids};
use crate::filter_sql::SqlTarget;
use crate::{AssetChange, HostAssetChange, ScanRequest, Selector, StoreError, TagChanges};
use openqps_model::{SubscriptionId, Timestamp};
use sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement};

/// Large id lists are split so no statement exceeds SQLite's bound-parameter limit.
pub(crate) const CHUNK: usize = 5_000;

/// The ids a selector names: the one id (which must exist in `base`) or all that match.
pub(crate) async fn select<F: SqlTarget>(
    conn: &mut Conn,
    base: SelectStatement,
    target: &Selector<F>,
    sub: SubscriptionId,
    object: &'static str,
) -> Result<Vec<i64>, StoreError> {
    match target {
        Selector::Id(id) => {
            let ids = existing_id(conn, base, *id).await?;
            if ids.is_empty() {
                return Err(StoreError::NotFound { object, id: *id });
            }
            Ok(ids)
        }
        Selector::Filter(f) => matching_ids(conn, base, f, sub).await,
    }
}

pub(crate) async fn update_hosts(
    conn: &mut Conn,
    sub: SubscriptionId,
    ids: &[i64],
    change: &HostAssetChange,
    at: Timestamp,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    change_tags(conn, sub, ids, &change.tags).await?;
    for chunk in ids.chunks(CHUNK) {
        for mut host in super::load_hosts(conn, chunk).await? {
            change.apply_to(&mut host);
            write_host_row(conn, &host, at).await?;
            if change.changes_lists() {
                for table in [
                    "host_port",
                    "host_software",
                    "host_vuln",
                    "host_processor",
                    "host_interface",
                    "host_volume",
                    "host_account",
                    "host_source",
                ] {
                    let del = Query::delete()
                        .from_table(table)
                        .and_where(Expr::col("asset_id").eq(host.id))
                        .to_owned();
                    execute(conn, &del).await?;
                }
                super::load::insert_lists(conn, host.id, &host).await?;
            }
        }
    }
    Ok(())
}

/// Applies `set`/`add`/`remove` of tag ids to every asset of `ids`.
pub(crate) async fn change_tags(
    conn: &mut Conn,
    sub: SubscriptionId,
    ids: &[i64],
    tags: &TagChanges,
) -> Result<(), StoreError> {
    if ids.is_empty() || tags.is_empty() {
        return Ok(());
    }
    let wanted: Vec<i64> = tags
        .set
        .iter()
        .flatten()
        .chain(&tags.add)
        .copied()
        .collect();
    check_tags_exist(conn, sub, &wanted).await?;
    for chunk in ids.chunks(CHUNK) {
        if let Some(set) = &tags.set {
            let del = Query::delete()
                .from_table("asset_tag")
                .and_where(Expr::col("asset_id").is_in(chunk.iter().copied()))
                .to_owned();
            execute(conn, &del).await?;
            insert_tags(conn, chunk, set).await?;
        }
        insert_tags(conn, chunk, &tags.add).await?;
        if !tags.remove.is_empty() {
            let del = Query::delete()
                .from_table("asset_tag")
                .and_where(Expr::col("asset_id").is_in(chunk.iter().copied()))
                .and_where(Expr::col("tag_id").is_in(tags.remove.iter().copied()))
                .to_owned();
            execute(conn, &del).await?;
        }
    }
    Ok(())
}

/// Name, criticality and tags of any asset (host or web app), and `modified`.
pub(crate) async fn update_assets(
    conn: &mut Conn,
    sub: SubscriptionId,
    ids: &[i64],
    change: &AssetChange,
    at: Timestamp,
) -> Result<(), StoreError> {
    change_tags(conn, sub, ids, &change.tags).await?;
    for chunk in ids.chunks(CHUNK) {
        let mut upd = Query::update();
        upd.table("asset")
            .value("modified", at.as_second())
            .and_where(Expr::col("id").is_in(chunk.iter().copied()));
        if let Some(name) = &change.name {
            upd.value("name", name.clone());
        }
        if let Some(score) = change.criticality_score {
            upd.value("criticality_score", score);
        }
        execute(conn, &upd).await?;
    }
    Ok(())
}

/// Writes every scalar field of a host back, and `modified`.
async fn write_host_row(
    conn: &mut Conn,
    h: &openqps_model::HostAsset,
    at: Timestamp,
) -> Result<(), StoreError> {
    let secs = |t: Option<Timestamp>| t.map(|t| t.as_second());
    query(
        "UPDATE asset SET name = $1, criticality_score = $2, qweb_host_id = $3, \
         last_vuln_scan = $4, last_compliance_scan = $5, last_system_boot = $6, \
         last_logged_on_user = $7, fqdn = $8, os = $9, dns_host_name = $10, netbios_name = $11, \
         address = $12, tracking_method = $13, manufacturer = $14, model = $15, \
         total_memory = $16, bios_description = $17, is_docker_host = $18, modified = $19, \
         domain = $21, timezone = $22, network_guid = $23, netbios_network_id = $24, \
         cloud_provider = $25, docker_present = $26, docker_version = $27, \
         docker_containers = $28, docker_images = $29 \
         WHERE id = $20",
    )
    .bind(&h.name)
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
    .bind(at.as_second())
    .bind(h.id)
    .bind(&h.details.domain)
    .bind(&h.details.timezone)
    .bind(&h.details.network_guid)
    .bind(h.details.netbios_network_id)
    .bind(&h.details.cloud_provider)
    .bind(h.details.docker.is_some() as i64)
    .bind(h.details.docker.as_ref().and_then(|d| d.version.clone()))
    .bind(h.details.docker.as_ref().and_then(|d| d.containers))
    .bind(h.details.docker.as_ref().and_then(|d| d.images))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn check_tags_exist(
    conn: &mut Conn,
    sub: SubscriptionId,
    wanted: &[i64],
) -> Result<(), StoreError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let q = Query::select()
        .column("id")
        .from("tag")
        .and_where(Expr::col("subscription_id").eq(sub.0))
        .and_where(Expr::col("id").is_in(wanted.iter().copied()))
        .to_owned();
    let found: Vec<i64> = fetch(conn, &q)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    if let Some(missing) = wanted.iter().find(|id| !found.contains(id)) {
        return Err(StoreError::UnknownTag(*missing));
    }
    for id in wanted {
        if super::rules::is_rule_tag(conn, *id).await? {
            return Err(StoreError::Conflict(format!(
                "Tag {id} is a dynamic tag: assets gain and lose it by its rule, not by hand."
            )));
        }
    }
    Ok(())
}

async fn insert_tags(conn: &mut Conn, assets: &[i64], tags: &[i64]) -> Result<(), StoreError> {
    let pairs: Vec<(i64, i64)> = assets
        .iter()
        .flat_map(|a| tags.iter().map(move |t| (*t, *a)))
        .collect();
    // Two values a row: batches stay under SQLite's bound-parameter limit whatever the number
    // of assets times tags.
    for batch in pairs.chunks(CHUNK) {
        let mut ins = Query::insert();
        ins.into_table("asset_tag")
            .columns(["tag_id", "asset_id"])
            .on_conflict(
                OnConflict::columns(["tag_id", "asset_id"])
                    .do_nothing()
                    .to_owned(),
            );
        for (t, a) in batch {
            ins.values_panic([(*t).into(), (*a).into()]);
        }
        execute(conn, &ins).await?;
    }
    Ok(())
}

pub(crate) async fn launch_scans<F: SqlTarget>(
    conn: &mut Conn,
    sub: SubscriptionId,
    base: SelectStatement,
    target: &Selector<F>,
    request: ScanRequest,
) -> Result<Vec<i64>, StoreError> {
    let ids = select(conn, base, target, sub, "HostAsset").await?;
    let mut accepted = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        for host in load_agents(conn, chunk).await? {
            match request.scan.check(host.1.as_ref()) {
                Ok(()) => accepted.push(host.0),
                Err(why) if matches!(target, Selector::Id(_)) => {
                    return Err(StoreError::Ineligible { id: host.0, why });
                }
                Err(_) => {}
            }
        }
    }
    expire_due(conn, Some(sub), request.at).await?;
    let mut new_jobs = Vec::with_capacity(accepted.len());
    for chunk in accepted.chunks(CHUNK) {
        let q = Query::select()
            .column("asset_id")
            .from("scan_job")
            .and_where(Expr::col("asset_id").is_in(chunk.iter().copied()))
            .and_where(Expr::col("scan_type").eq(request.scan.value()))
            .and_where(Expr::col("state").is_in(["QUEUED", "DISPATCHED", "RUNNING"]))
            .to_owned();
        let pending: std::collections::HashSet<i64> = fetch(conn, &q)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        new_jobs.extend(chunk.iter().copied().filter(|id| !pending.contains(id)));
    }
    let at = request.at.as_second();
    for chunk in new_jobs.chunks(CHUNK / 2) {
        let first = conn.fresh_ids("scan_job", chunk.len()).await?;
        let mut ins = Query::insert();
        ins.into_table("scan_job").columns([
            "id",
            "run_timeout",
            "subscription_id",
            "asset_id",
            "scan_type",
            "override_config_cpu",
            "requested_by",
            "requested_at",
            "state",
            "state_changed_at",
            "expires_at",
        ]);
        for (i, id) in chunk.iter().enumerate() {
            // On PostgreSQL the identity's next value; on SQLite the fresh ids drawn above.
            let job_id = match first {
                Some(f) => Expr::val(f + i as i64),
                None => Expr::cust("DEFAULT"),
            };
            ins.values_panic([
                job_id,
                request.run_timeout_secs.into(),
                sub.0.into(),
                (*id).into(),
                request.scan.value().into(),
                (request.override_config_cpu as i64).into(),
                request.requested_by.0.into(),
                at.into(),
                "QUEUED".into(),
                at.into(),
                at.saturating_add(request.expires_after_secs).into(),
            ]);
        }
        execute(conn, &ins).await?;
    }
    Ok(accepted)
}

/// `(asset id, agent)` for each id, without loading the hosts' collections.
async fn load_agents(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<Vec<(i64, Option<openqps_model::AgentInfo>)>, StoreError> {
    let q = Query::select()
        .column(("a", "id"))
        .columns(
            crate::rows::HOST_COLUMNS
                .iter()
                .filter(|(t, _)| *t == "g")
                .copied(),
        )
        .from_as("asset", "a")
        .join_as(
            sea_query::JoinType::LeftJoin,
            "agent",
            "g",
            Expr::col(("g", "asset_id")).equals(("a", "id")),
        )
        .and_where(Expr::col(("a", "id")).is_in(ids.iter().copied()))
        .order_by(("a", "id"), sea_query::Order::Asc)
        .to_owned();
    fetch(conn, &q)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, crate::rows::agent(r, 1)?)))
        .collect()
}

/// Deletes assets and, by cascade, everything they carry (lists, tag links, agent, WAS row,
/// scan jobs).
pub(crate) async fn delete_assets(conn: &mut Conn, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(CHUNK) {
        let del = Query::delete()
            .from_table("asset")
            .and_where(Expr::col("id").is_in(chunk.iter().copied()))
            .to_owned();
        execute(conn, &del).await?;
    }
    Ok(())
}

/// Activates or deactivates modules on the agents among `ids`; returns the ids changed. With
/// `single`, an asset that cannot take the change is an error instead of being left out.
pub(crate) async fn change_modules(
    conn: &mut Conn,
    ids: &[i64],
    single: bool,
    action: crate::ModuleAction,
    modules: &[openqps_model::Module],
    at: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    use openqps_model::agent::ModuleRefusal;
    let mut changed = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        for (id, agent) in load_agents(conn, chunk).await? {
            let outcome = match &agent {
                None => Err(ModuleRefusal::NoAgent),
                Some(a) => match action {
                    crate::ModuleAction::Activate => a.activated_with(modules),
                    crate::ModuleAction::Deactivate => a.deactivated_with(modules),
                },
            };
            let after = match outcome {
                Ok(after) => after,
                Err(why) if single => return Err(StoreError::Refused { id, why }),
                Err(_) => continue,
            };
            // Asking for what the agent already has succeeds and changes nothing, `modified`
            // included: syncs that pull changes by date must not see one.
            let before = agent.as_ref().map(|a| {
                let mut m = a.activated_modules.clone();
                m.sort();
                m
            });
            let mut sorted = after.clone();
            sorted.sort();
            if before.as_ref() != Some(&sorted) {
                query("UPDATE agent SET activated_modules = $1 WHERE asset_id = $2")
                    .bind(openqps_model::Module::join(&after))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                query("UPDATE asset SET modified = $1 WHERE id = $2")
                    .bind(at.as_second())
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            changed.push(id);
        }
    }
    Ok(changed)
}

/// Uninstalls the agents among `ids`: their assets are deleted with everything they carry.
/// Returns the ids removed; with `single`, an asset without an agent is an error.
pub(crate) async fn uninstall(
    conn: &mut Conn,
    ids: &[i64],
    single: bool,
) -> Result<Vec<i64>, StoreError> {
    let mut gone = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        for (id, agent) in load_agents(conn, chunk).await? {
            match agent {
                Some(_) => gone.push(id),
                None if single => {
                    return Err(StoreError::Refused {
                        id,
                        why: openqps_model::agent::ModuleRefusal::NoAgent,
                    });
                }
                None => {}
            }
        }
    }
    delete_assets(conn, &gone).await?;
    Ok(gone)
}

/// Marks QUEUED jobs past their expiry EXPIRED (of one subscription, or all); the state changed
/// when the job expired, not when this ran.
pub(crate) async fn expire_due(
    conn: &mut Conn,
    sub: Option<SubscriptionId>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let mut n = 0;
    // Unclaimed in time: EXPIRED. Claimed but not finished in time (a dead agent): FAILED.
    for (from, to) in [
        (&["QUEUED"][..], "EXPIRED"),
        (&["DISPATCHED", "RUNNING"][..], "FAILED"),
    ] {
        let mut upd = Query::update();
        upd.table("scan_job")
            .value("state", to)
            .value("state_changed_at", Expr::col("expires_at"))
            .and_where(Expr::col("state").is_in(from.iter().copied()))
            .and_where(Expr::col("expires_at").lte(now.as_second()));
        if let Some(sub) = sub {
            upd.and_where(Expr::col("subscription_id").eq(sub.0));
        }
        n += execute(conn, &upd).await?;
    }
    Ok(n)
}

pub(crate) const SCAN_JOB_COLUMNS: [&str; 10] = [
    "id",
    "asset_id",
    "scan_type",
    "override_config_cpu",
    "requested_by",
    "requested_at",
    "state",
    "state_changed_at",
    "expires_at",
    "subscription_id",
];

pub(crate) fn scan_job(r: &Row) -> Result<openqps_model::ScanJob, StoreError> {
    let time = |i: usize| -> Result<Timestamp, StoreError> {
        let s: i64 = r.try_get(i)?;
        Timestamp::from_second(s).map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    let scan: String = r.try_get(2)?;
    let state: String = r.try_get(6)?;
    Ok(openqps_model::ScanJob {
        id: r.try_get(0)?,
        asset_id: r.try_get(1)?,
        scan_type: openqps_model::ScanType::parse(&scan)
            .ok_or_else(|| StoreError::Corrupt(format!("scan type {scan}")))?,
        override_config_cpu: r.try_get::<i64, _>(3)? != 0,
        requested_by: openqps_model::UserId(r.try_get(4)?),
        requested_at: time(5)?,
        state: openqps_model::ScanState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("scan state {state}")))?,
        state_changed_at: time(7)?,
        expires_at: time(8)?,
    })
}

pub(crate) fn scan_jobs_query(sub: SubscriptionId) -> SelectStatement {
    Query::select()
        .columns(SCAN_JOB_COLUMNS)
        .from("scan_job")
        .and_where(Expr::col("subscription_id").eq(sub.0))
        .order_by("id", sea_query::Order::Asc)
        .to_owned()
}

pub(crate) async fn claim_scan_job(
    conn: &mut Conn,
    sub: SubscriptionId,
    asset_id: i64,
    now: Timestamp,
) -> Result<Option<openqps_model::ScanJob>, StoreError> {
    expire_due(conn, Some(sub), now).await?;
    let q = scan_jobs_query(sub)
        .and_where(Expr::col("asset_id").eq(asset_id))
        .and_where(Expr::col("state").eq("QUEUED"))
        .limit(1)
        .to_owned();
    let Some(row) = fetch(conn, &q).await?.into_iter().next() else {
        return Ok(None);
    };
    let job = scan_job(&row)?;
    set_state(conn, job.id, openqps_model::ScanState::Dispatched, now).await?;
    // Read back: the claim set the run deadline too.
    let q = scan_jobs_query(sub)
        .and_where(Expr::col("id").eq(job.id))
        .to_owned();
    let row = fetch(conn, &q).await?.into_iter().next();
    Ok(Some(scan_job(&row.ok_or(sqlx::Error::RowNotFound)?)?))
}

pub(crate) async fn advance_scan_job(
    conn: &mut Conn,
    sub: SubscriptionId,
    asset: Option<i64>,
    job_id: i64,
    to: openqps_model::ScanState,
    now: Timestamp,
) -> Result<openqps_model::ScanJob, StoreError> {
    expire_due(conn, Some(sub), now).await?;
    let mut q = scan_jobs_query(sub)
        .and_where(Expr::col("id").eq(job_id))
        .to_owned();
    if let Some(asset) = asset {
        q.and_where(Expr::col("asset_id").eq(asset));
    }
    let Some(row) = fetch(conn, &q).await?.into_iter().next() else {
        return Err(StoreError::NotFound {
            object: "ScanJob",
            id: job_id,
        });
    };
    let job = scan_job(&row)?;
    if !job.state.can_move_to(to) {
        return Err(StoreError::Conflict(format!(
            "Scan job {job_id} is {}; it cannot become {}.",
            job.state.name(),
            to.name()
        )));
    }
    set_state(conn, job_id, to, now).await?;
    Ok(openqps_model::ScanJob {
        state: to,
        state_changed_at: now,
        ..job
    })
}

async fn set_state(
    conn: &mut Conn,
    job_id: i64,
    to: openqps_model::ScanState,
    now: Timestamp,
) -> Result<(), StoreError> {
    // Each move of a claimed job restarts its run deadline.
    query(
        "UPDATE scan_job SET state = $1, state_changed_at = $2, \
         expires_at = CASE WHEN $1 IN ('DISPATCHED', 'RUNNING') THEN $2 + run_timeout \
         ELSE expires_at END WHERE id = $3",
    )
    .bind(to.name())
    .bind(now.as_second())
    .bind(job_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
