//! The SQL back-ends. One implementation of [`Store`] serves SQLite and PostgreSQL: statements
//! are built once with sea-query and rendered per dialect in [`conn`], the one module that knows
//! which driver runs them. `sqlite` and `postgres` only open the database.

mod agents;
mod collections;
mod conn;
mod load;
mod postgres;
mod rules;
mod sqlite;
mod tags;
mod webapps;
mod write;

use crate::filter_sql::{self, SqlTarget};
use crate::rows::{self, ASSET_COLUMNS, HOST_COLUMNS};
use crate::{
    ChildChanges, Dataset, HostAssetChange, Page, PageRequest, ScanRequest, Selector, Store,
    StoreError, TagChanges, TagFields,
};
use async_trait::async_trait;
pub(crate) use conn::{
    Conn, Dialect, GLOBAL_LOCK, Row, execute, fetch, insert_returning_id, query,
};
use openqps_model::{
    Asset, HostAsset, Subscription, SubscriptionId, Tag, Timestamp, User, UserId, WebApp,
    WebAppChange, WebAppOwner,
};
use openqps_query::Filter;
use openqps_query::fields::{AssetField, HostField, TagField, WebAppField};
use sea_query::{Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement};
use sqlx::{PgPool, SqlitePool};
use std::marker::PhantomData;
use webapps::webapps_query;

pub use postgres::Postgres;
pub use sqlite::Sqlite;

/// The SQL store, on the back-end `B` names ([`Sqlite`] or [`Postgres`]). Every data method runs
/// in one transaction: reads in a snapshot, writes under the subscription's write lock
/// ([`Conn::lock`]).
pub struct SqlStore<B> {
    pools: Pools,
    backend: PhantomData<B>,
}

/// The embedded back-end; see [`SqlStore::open`].
pub type SqliteStore = SqlStore<Sqlite>;
/// The scale-out back-end; see [`SqlStore::connect`].
pub type PgStore = SqlStore<Postgres>;

enum Pools {
    Sqlite {
        reader: SqlitePool,
        /// One connection: SQLite allows one writer at a time, and queueing here is cheaper
        /// than `SQLITE_BUSY` retries.
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

impl<B> SqlStore<B> {
    fn new(pools: Pools) -> SqlStore<B> {
        SqlStore {
            pools,
            backend: PhantomData,
        }
    }

    /// A read transaction: one consistent snapshot for the whole call.
    async fn read(&self) -> Result<Conn, StoreError> {
        Ok(match &self.pools {
            Pools::Sqlite { reader, .. } => Conn::Sqlite(reader.begin().await?),
            Pools::Postgres(pool) => Conn::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
            ),
        })
    }

    /// A write transaction holding the write lock of `key` (a subscription id, or
    /// [`GLOBAL_LOCK`]) until it ends.
    async fn write(&self, key: i64) -> Result<Conn, StoreError> {
        let mut conn = self.begin().await?;
        conn.lock(key).await?;
        Ok(conn)
    }

    /// A write transaction without a lock yet: the caller takes it ([`Conn::lock`]) once it
    /// knows the subscription, or needs none.
    async fn begin(&self) -> Result<Conn, StoreError> {
        Ok(match &self.pools {
            // IMMEDIATE takes the write lock at once, waiting (busy_timeout) for another
            // process's writer, such as `openqps user add` beside a server; a deferred
            // transaction that read first would fail with SQLITE_BUSY instead of waiting.
            Pools::Sqlite { writer, .. } => {
                Conn::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pools::Postgres(pool) => Conn::Postgres(pool.begin().await?),
        })
    }
}

/// `SELECT … FROM asset a` of one subscription and asset type.
fn assets_of(sub: SubscriptionId, asset_type: &str) -> SelectStatement {
    Query::select()
        .from_as("asset", "a")
        .and_where(Expr::col(("a", "subscription_id")).eq(sub.0))
        .and_where(Expr::col(("a", "asset_type")).eq(asset_type))
        .to_owned()
}

fn hosts_query(sub: SubscriptionId) -> SelectStatement {
    assets_of(sub, "HOST")
}

fn all_assets_query(sub: SubscriptionId) -> SelectStatement {
    Query::select()
        .from_as("asset", "a")
        .and_where(Expr::col(("a", "subscription_id")).eq(sub.0))
        .to_owned()
}

/// The ids of one page of `base` under `filter`, plus one more if more follow.
fn page_query<F: SqlTarget>(
    mut base: SelectStatement,
    filter: &Filter<F>,
    sub: SubscriptionId,
    page: PageRequest,
    dialect: Dialect,
) -> SelectStatement {
    filter_sql::apply(&mut base, filter, sub.0, dialect);
    if let Some(from) = page.start_from_id {
        base.and_where(Expr::col(("a", "id")).gte(from));
    }
    base.column(("a", "id"))
        .order_by(("a", "id"), Order::Asc)
        .limit(u64::from(page.limit) + 1);
    if let Some(offset) = page.start_from_offset {
        base.offset(offset.saturating_sub(1));
    }
    base
}

/// The ids of one page of `base` under `filter`, and whether more follow.
async fn page_ids<F: SqlTarget>(
    conn: &mut Conn,
    base: SelectStatement,
    filter: &Filter<F>,
    sub: SubscriptionId,
    page: PageRequest,
) -> Result<(Vec<i64>, bool), StoreError> {
    let q = page_query(base, filter, sub, page, conn.dialect());
    let mut ids = fetch(conn, &q)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = ids.len() > page.limit as usize;
    ids.truncate(page.limit as usize);
    Ok((ids, has_more))
}

/// All ids of `base` under `filter`, ascending.
pub(crate) async fn matching_ids<F: SqlTarget>(
    conn: &mut Conn,
    mut base: SelectStatement,
    filter: &Filter<F>,
    sub: SubscriptionId,
) -> Result<Vec<i64>, StoreError> {
    filter_sql::apply(&mut base, filter, sub.0, conn.dialect());
    base.column(("a", "id")).order_by(("a", "id"), Order::Asc);
    Ok(fetch(conn, &base)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<Vec<_>, _>>()?)
}

/// `[id]` when `base` holds a record with this id, else `[]`.
pub(crate) async fn existing_id(
    conn: &mut Conn,
    mut base: SelectStatement,
    id: i64,
) -> Result<Vec<i64>, StoreError> {
    base.column(("a", "id"))
        .and_where(Expr::col(("a", "id")).eq(id))
        .limit(1);
    fetch(conn, &base)
        .await?
        .iter()
        .map(|r| Ok(r.try_get::<i64, _>(0)?))
        .collect()
}

async fn count<F: SqlTarget>(
    conn: &mut Conn,
    mut base: SelectStatement,
    filter: &Filter<F>,
    sub: SubscriptionId,
) -> Result<u64, StoreError> {
    filter_sql::apply(&mut base, filter, sub.0, conn.dialect());
    base.expr(Func::count(Expr::col(("a", "id"))));
    let rows = fetch(conn, &base).await?;
    let n: i64 = rows.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
    Ok(n as u64)
}

pub(crate) async fn load_hosts(conn: &mut Conn, ids: &[i64]) -> Result<Vec<HostAsset>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    hosts_where(conn, Expr::col(("a", "id")).is_in(ids.iter().copied())).await
}

/// Every host `a` (of `asset a LEFT JOIN agent g`) for which `cond` holds, whole and by id, in
/// one statement: the lists come as columns ([`collections::host_list_columns`]).
async fn hosts_where(conn: &mut Conn, cond: Expr) -> Result<Vec<HostAsset>, StoreError> {
    let mut q = Query::select()
        .columns(HOST_COLUMNS.iter().copied())
        .from_as("asset", "a")
        .join_as(
            JoinType::LeftJoin,
            "agent",
            "g",
            Expr::col(("g", "asset_id")).equals(("a", "id")),
        )
        .and_where(cond)
        .order_by(("a", "id"), Order::Asc)
        .to_owned();
    for list in collections::host_list_columns(conn.dialect()) {
        q.expr(list);
    }
    fetch(conn, &q)
        .await?
        .iter()
        .map(|r| {
            let mut h = rows::host(r)?;
            collections::fill_host(&mut h, r, HOST_COLUMNS.len())?;
            Ok(h)
        })
        .collect()
}

/// A new user of `sub`; the caller has checked the name with [`username_free`].
async fn insert_user(
    conn: &mut Conn,
    sub: SubscriptionId,
    username: &str,
    password_hash: &str,
) -> Result<UserId, StoreError> {
    let id: i64 = query(
        "INSERT INTO app_user (subscription_id, username, password_hash) VALUES ($1, $2, $3) \
         RETURNING id",
    )
    .bind(sub.0)
    .bind(username)
    .bind(password_hash)
    .scalar(conn)
    .await?;
    Ok(UserId(id))
}

/// A `Conflict` when a user already has this name, in any subscription and whatever its case
/// (`ACME_SOC` beside `acme_soc` would be two logins a person cannot tell apart).
async fn username_free(conn: &mut Conn, username: &str) -> Result<(), StoreError> {
    let taken: Option<String> =
        query("SELECT username FROM app_user WHERE lower(username) = lower($1)")
            .bind(username)
            .scalar_optional(conn)
            .await?;
    match taken {
        Some(existing) if existing == username => Err(StoreError::Conflict(format!(
            "a user named '{username}' exists already"
        ))),
        Some(existing) => Err(StoreError::Conflict(format!(
            "a user named '{existing}' exists already; logins differing only in case are refused"
        ))),
        None => Ok(()),
    }
}

async fn load_assets(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Asset>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = Query::select()
        .columns(ASSET_COLUMNS.iter().copied())
        .from_as("asset", "a")
        .and_where(Expr::col(("a", "id")).is_in(ids.iter().copied()))
        .order_by(("a", "id"), Order::Asc)
        .to_owned();
    let mut assets = fetch(conn, &q)
        .await?
        .iter()
        .map(rows::asset)
        .collect::<Result<Vec<_>, _>>()?;
    let mut tags = collections::tags_of(conn, ids).await?;
    for a in &mut assets {
        a.tags = tags.remove(&a.id).unwrap_or_default();
    }
    Ok(assets)
}

#[async_trait]
impl<B: Send + Sync> Store for SqlStore<B> {
    async fn bootstrap(
        &self,
        admin_password_hash: &str,
        at: Timestamp,
    ) -> Result<Option<SubscriptionId>, StoreError> {
        // Two processes starting on one empty database: only the first creates a subscription.
        let mut tx = self.write(GLOBAL_LOCK).await?;
        let existing: Option<i64> = query("SELECT id FROM subscription LIMIT 1")
            .scalar_optional(&mut tx)
            .await?;
        if existing.is_some() {
            return Ok(None);
        }
        let sub: i64 =
            query("INSERT INTO subscription (name, created) VALUES ($1, $2) RETURNING id")
                .bind("openqps")
                .bind(at.as_second())
                .scalar(&mut tx)
                .await?;
        query(
            "INSERT INTO app_user (subscription_id, username, password_hash, first_name, last_name) \
             VALUES ($1, 'admin', $2, 'Openqps', 'Admin')",
        )
        .bind(sub)
        .bind(admin_password_hash)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(Some(SubscriptionId(sub)))
    }

    async fn create_subscription(
        &self,
        name: &str,
        username: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<SubscriptionId, StoreError> {
        let mut tx = self.write(GLOBAL_LOCK).await?;
        username_free(&mut tx, username).await?;
        if let Some(r) = query("SELECT id, name FROM subscription WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(&mut tx)
            .await?
        {
            return Err(StoreError::Conflict(format!(
                "subscription {} is named '{}' already",
                r.try_get::<i64, _>(0)?,
                r.try_get::<String, _>(1)?
            )));
        }
        let sub: i64 =
            query("INSERT INTO subscription (name, created) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(at.as_second())
                .scalar(&mut tx)
                .await?;
        insert_user(&mut tx, SubscriptionId(sub), username, password_hash).await?;
        tx.commit().await?;
        Ok(SubscriptionId(sub))
    }

    async fn add_user(
        &self,
        sub: SubscriptionId,
        username: &str,
        password_hash: &str,
    ) -> Result<UserId, StoreError> {
        // The global lock: usernames are unique across subscriptions.
        let mut tx = self.write(GLOBAL_LOCK).await?;
        let exists: Option<i64> = query("SELECT id FROM subscription WHERE id = $1")
            .bind(sub.0)
            .scalar_optional(&mut tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                object: "Subscription",
                id: sub.0,
            });
        }
        username_free(&mut tx, username).await?;
        let id = insert_user(&mut tx, sub, username, password_hash).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        let mut tx = self.write(GLOBAL_LOCK).await?;
        let changed = query("UPDATE app_user SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(changed > 0)
    }

    async fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let mut tx = self.read().await?;
        let subs = query("SELECT id, name, created FROM subscription ORDER BY id")
            .fetch_all(&mut tx)
            .await?;
        let users =
            query("SELECT subscription_id, username, password_hash FROM app_user ORDER BY id")
                .fetch_all(&mut tx)
                .await?;
        subs.iter()
            .map(|r| {
                let id: i64 = r.try_get(0)?;
                let mut of_sub = Vec::new();
                for u in &users {
                    if u.try_get::<i64, _>(0)? == id {
                        of_sub.push(openqps_model::SubscriptionUser {
                            username: u.try_get(1)?,
                            disabled: u.try_get::<String, _>(2)?
                                == openqps_model::DISABLED_PASSWORD,
                        });
                    }
                }
                Ok(Subscription {
                    id: SubscriptionId(id),
                    name: r.try_get(1)?,
                    created: r.try_get(2)?,
                    users: of_sub,
                })
            })
            .collect()
    }

    async fn default_subscription(&self) -> Result<Option<SubscriptionId>, StoreError> {
        let mut tx = self.read().await?;
        let id: Option<i64> = query("SELECT subscription_id FROM app_user ORDER BY id LIMIT 1")
            .scalar_optional(&mut tx)
            .await?;
        Ok(id.map(SubscriptionId))
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let mut tx = self.read().await?;
        let row = query(
            "SELECT id, subscription_id, username, password_hash, first_name, last_name \
             FROM app_user WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&mut tx)
        .await?;
        row.map(|r| {
            Ok(User {
                id: UserId(r.try_get(0)?),
                subscription: SubscriptionId(r.try_get(1)?),
                username: r.try_get(2)?,
                password_hash: r.try_get(3)?,
                first_name: r.try_get(4)?,
                last_name: r.try_get(5)?,
            })
        })
        .transpose()
    }

    async fn asset_count(&self, sub: SubscriptionId) -> Result<u64, StoreError> {
        let mut tx = self.read().await?;
        let n: i64 = query("SELECT COUNT(*) FROM asset WHERE subscription_id = $1")
            .bind(sub.0)
            .scalar(&mut tx)
            .await?;
        Ok(n as u64)
    }

    async fn load(&self, sub: SubscriptionId, data: &Dataset) -> Result<(), StoreError> {
        let mut tx = self.write(sub.0).await?;
        load::dataset(&mut tx, sub, data).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_host_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<HostField>,
        page: PageRequest,
    ) -> Result<Page<HostAsset>, StoreError> {
        let mut tx = self.read().await?;
        // One statement: the page's ids as a subquery of the read of whole hosts.
        let ids = page_query(hosts_query(sub), filter, sub, page, tx.dialect());
        let mut items = hosts_where(&mut tx, Expr::col(("a", "id")).in_subquery(ids)).await?;
        let has_more = items.len() > page.limit as usize;
        items.truncate(page.limit as usize);
        Ok(Page { items, has_more })
    }

    async fn count_host_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<HostField>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.read().await?;
        count(&mut conn, hosts_query(sub), filter, sub).await
    }

    async fn get_host_asset(
        &self,
        sub: SubscriptionId,
        id: i64,
    ) -> Result<Option<HostAsset>, StoreError> {
        let mut tx = self.read().await?;
        let cond = Expr::col(("a", "id"))
            .eq(id)
            .and(Expr::col(("a", "subscription_id")).eq(sub.0))
            .and(Expr::col(("a", "asset_type")).eq("HOST"));
        Ok(hosts_where(&mut tx, cond).await?.pop())
    }

    async fn update_host_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
        change: &HostAssetChange,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, hosts_query(sub), target, sub, "HostAsset").await?;
        write::update_hosts(&mut tx, sub, &ids, change, at).await?;
        rules::reapply_to_hosts(&mut tx, sub, &ids).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn create_host_asset(
        &self,
        sub: SubscriptionId,
        host: &HostAsset,
        at: Timestamp,
    ) -> Result<HostAsset, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let tag_ids: Vec<i64> = host.tags.iter().map(|t| t.id).collect();
        write::check_tags_exist(&mut tx, sub, &tag_ids).await?;
        let mut new = host.clone();
        new.created = at;
        new.modified = at;
        new.agent = None;
        let id = load::insert_host(&mut tx, sub, &new, None).await?;
        rules::reapply_to_hosts(&mut tx, sub, &[id]).await?;
        let stored = load_hosts(&mut tx, &[id]).await?.pop();
        tx.commit().await?;
        stored.ok_or_else(|| StoreError::Corrupt(format!("host {id} vanished")))
    }

    async fn delete_host_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, hosts_query(sub), target, sub, "HostAsset").await?;
        write::delete_assets(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn search_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<AssetField>,
        page: PageRequest,
    ) -> Result<Page<Asset>, StoreError> {
        let mut tx = self.read().await?;
        let (ids, has_more) = page_ids(&mut tx, all_assets_query(sub), filter, sub, page).await?;
        let items = load_assets(&mut tx, &ids).await?;
        Ok(Page { items, has_more })
    }

    async fn count_assets(
        &self,
        sub: SubscriptionId,
        filter: &Filter<AssetField>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.read().await?;
        count(&mut conn, all_assets_query(sub), filter, sub).await
    }

    async fn get_asset(&self, sub: SubscriptionId, id: i64) -> Result<Option<Asset>, StoreError> {
        let mut tx = self.read().await?;
        let ids = existing_id(&mut tx, all_assets_query(sub), id).await?;
        Ok(load_assets(&mut tx, &ids).await?.pop())
    }

    async fn update_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
        change: &crate::AssetChange,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, all_assets_query(sub), target, sub, "Asset").await?;
        write::update_assets(&mut tx, sub, &ids, change, at).await?;
        rules::reapply_to_hosts(&mut tx, sub, &ids).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn delete_assets(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, all_assets_query(sub), target, sub, "Asset").await?;
        write::delete_assets(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn launch_scans(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
        request: ScanRequest,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let accepted = write::launch_scans(&mut tx, sub, hosts_query(sub), target, request).await?;
        tx.commit().await?;
        Ok(accepted)
    }

    async fn change_agent_modules(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
        action: crate::ModuleAction,
        modules: &[openqps_model::Module],
        at: Timestamp,
    ) -> Result<Vec<Asset>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, all_assets_query(sub), target, sub, "Asset").await?;
        let single = matches!(target, Selector::Id(_));
        let changed = write::change_modules(&mut tx, &ids, single, action, modules, at).await?;
        let assets = load_assets(&mut tx, &changed).await?;
        tx.commit().await?;
        Ok(assets)
    }

    async fn uninstall_agents(
        &self,
        sub: SubscriptionId,
        target: &Selector<AssetField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, all_assets_query(sub), target, sub, "Asset").await?;
        let single = matches!(target, Selector::Id(_));
        let gone = write::uninstall(&mut tx, &ids, single).await?;
        tx.commit().await?;
        Ok(gone)
    }

    async fn uninstall_agent_hosts(
        &self,
        sub: SubscriptionId,
        target: &Selector<HostField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, hosts_query(sub), target, sub, "HostAsset").await?;
        let single = matches!(target, Selector::Id(_));
        let gone = write::uninstall(&mut tx, &ids, single).await?;
        tx.commit().await?;
        Ok(gone)
    }

    async fn scan_jobs(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        now: Timestamp,
    ) -> Result<Vec<openqps_model::ScanJob>, StoreError> {
        let mut conn = self.read().await?;
        let q = write::scan_jobs_query(sub)
            .and_where(Expr::col("asset_id").eq(asset_id))
            .to_owned();
        fetch(&mut conn, &q)
            .await?
            .iter()
            .map(|r| {
                let mut job = write::scan_job(r)?;
                if job.state_at(now) != job.state {
                    job.state = job.state_at(now);
                    job.state_changed_at = job.expires_at;
                }
                Ok(job)
            })
            .collect()
    }

    async fn claim_scan_job(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        now: Timestamp,
    ) -> Result<Option<openqps_model::ScanJob>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let job = write::claim_scan_job(&mut tx, sub, asset_id, now).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn advance_scan_job(
        &self,
        sub: SubscriptionId,
        asset: Option<i64>,
        job_id: i64,
        to: openqps_model::ScanState,
        now: Timestamp,
    ) -> Result<openqps_model::ScanJob, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let job = write::advance_scan_job(&mut tx, sub, asset, job_id, to, now).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn expire_scan_jobs(&self, now: Timestamp) -> Result<u64, StoreError> {
        // Across subscriptions: take the lock of each one with due jobs, in ascending order (a
        // writer holds one subscription lock at most, so no cycle can form), then one UPDATE.
        let mut tx = self.begin().await?;
        let subs = query(
            "SELECT DISTINCT subscription_id FROM scan_job \
             WHERE state IN ('QUEUED', 'DISPATCHED', 'RUNNING') AND expires_at <= $1 \
             ORDER BY subscription_id",
        )
        .bind(now.as_second())
        .fetch_all(&mut tx)
        .await?;
        for row in subs {
            tx.lock(row.try_get(0)?).await?;
        }
        let n = write::expire_due(&mut tx, None, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn search_activation_keys(
        &self,
        sub: SubscriptionId,
        filter: &Filter<openqps_query::fields::ActKeyField>,
        page: PageRequest,
    ) -> Result<Page<openqps_model::ActivationKey>, StoreError> {
        let mut tx = self.read().await?;
        let (ids, has_more) = page_ids(&mut tx, agents::keys_query(sub), filter, sub, page).await?;
        let items = agents::load_keys(&mut tx, &ids).await?;
        Ok(Page { items, has_more })
    }

    async fn count_activation_keys(
        &self,
        sub: SubscriptionId,
        filter: &Filter<openqps_query::fields::ActKeyField>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.read().await?;
        count(&mut conn, agents::keys_query(sub), filter, sub).await
    }

    async fn get_activation_key(
        &self,
        sub: SubscriptionId,
        id: i64,
    ) -> Result<Option<openqps_model::ActivationKey>, StoreError> {
        let mut tx = self.read().await?;
        let ids = existing_id(&mut tx, agents::keys_query(sub), id).await?;
        Ok(agents::load_keys(&mut tx, &ids).await?.pop())
    }

    async fn create_activation_key(
        &self,
        sub: SubscriptionId,
        fields: &crate::ActivationKeyFields,
        activation_key: &str,
        at: Timestamp,
    ) -> Result<openqps_model::ActivationKey, StoreError> {
        let mut key = openqps_model::ActivationKey {
            id: 0,
            title: String::new(),
            activation_key: activation_key.to_string(),
            key_type: openqps_model::KeyType::CountLimited,
            count_purchased: 0,
            count_used: 0,
            expire_date: None,
            licenses: Vec::new(),
            tag_ids: Vec::new(),
            created: at,
        };
        fields.apply_to(&mut key);
        agents::fields_valid(&key).map_err(StoreError::Conflict)?;
        let mut tx = self.write(sub.0).await?;
        let id = agents::insert_key(&mut tx, sub, &key, false).await?;
        let stored = agents::load_keys(&mut tx, &[id]).await?.pop();
        tx.commit().await?;
        stored.ok_or_else(|| StoreError::Corrupt(format!("activation key {id} vanished")))
    }

    async fn update_activation_keys(
        &self,
        sub: SubscriptionId,
        target: &Selector<openqps_query::fields::ActKeyField>,
        fields: &crate::ActivationKeyFields,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids =
            write::select(&mut tx, agents::keys_query(sub), target, sub, "AgentActKey").await?;
        agents::update_keys(&mut tx, sub, &ids, fields).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn delete_activation_keys(
        &self,
        sub: SubscriptionId,
        target: &Selector<openqps_query::fields::ActKeyField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids =
            write::select(&mut tx, agents::keys_query(sub), target, sub, "AgentActKey").await?;
        agents::delete_keys(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn search_agent_configs(
        &self,
        sub: SubscriptionId,
        filter: &Filter<openqps_query::fields::AgentConfigField>,
        page: PageRequest,
    ) -> Result<Page<openqps_model::AgentConfig>, StoreError> {
        let mut tx = self.read().await?;
        let (ids, has_more) =
            page_ids(&mut tx, agents::configs_query(sub), filter, sub, page).await?;
        let items = agents::load_configs(&mut tx, &ids).await?;
        Ok(Page { items, has_more })
    }

    async fn get_agent_config(
        &self,
        sub: SubscriptionId,
        id: i64,
    ) -> Result<Option<openqps_model::AgentConfig>, StoreError> {
        let mut tx = self.read().await?;
        let ids = existing_id(&mut tx, agents::configs_query(sub), id).await?;
        Ok(agents::load_configs(&mut tx, &ids).await?.pop())
    }

    async fn create_agent_config(
        &self,
        sub: SubscriptionId,
        fields: crate::AgentConfigFields,
        at: Timestamp,
    ) -> Result<openqps_model::AgentConfig, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let id = agents::insert_config(&mut tx, sub, &fields.into_config(at), false).await?;
        let stored = agents::load_configs(&mut tx, &[id]).await?.pop();
        tx.commit().await?;
        stored.ok_or_else(|| StoreError::Corrupt(format!("agent configuration {id} vanished")))
    }

    async fn register_agent(
        &self,
        activation_key: &str,
        reg: &crate::AgentRegistration,
        at: Timestamp,
    ) -> Result<crate::RegisteredAgent, StoreError> {
        // The key names the subscription; `register` takes its lock once it knows it.
        let mut tx = self.begin().await?;
        let done = agents::register(&mut tx, activation_key, reg, at).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn agent_credential(
        &self,
        agent_id: &str,
    ) -> Result<Option<crate::AgentCredential>, StoreError> {
        let mut conn = self.read().await?;
        agents::credential(&mut conn, agent_id).await
    }

    async fn agent_check_in(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        connected_from: Option<&str>,
        agent_version: Option<&str>,
        at: Timestamp,
    ) -> Result<HostAsset, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = existing_id(&mut tx, hosts_query(sub), asset_id).await?;
        if ids.is_empty() {
            return Err(StoreError::NotFound {
                object: "HostAsset",
                id: asset_id,
            });
        }
        agents::check_in(&mut tx, asset_id, connected_from, agent_version, at).await?;
        let host = load_hosts(&mut tx, &ids).await?.pop();
        tx.commit().await?;
        host.ok_or_else(|| StoreError::Corrupt(format!("host {asset_id} vanished")))
    }

    async fn record_scan_result(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        job_id: i64,
        to: openqps_model::ScanState,
        at: Timestamp,
    ) -> Result<openqps_model::ScanJob, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let job = write::advance_scan_job(&mut tx, sub, Some(asset_id), job_id, to, at).await?;
        if to == openqps_model::ScanState::Completed {
            use openqps_model::ScanType::*;
            let column = match job.scan_type {
                Vulnerability => Some("last_vuln_scan"),
                PolicyCompliance | Udc | Sca => Some("last_compliance_scan"),
                Inventory | SwCa => None,
            };
            if let Some(column) = column {
                let upd = Query::update()
                    .table("asset")
                    .value(column, at.as_second())
                    .and_where(Expr::col("id").eq(asset_id))
                    .to_owned();
                execute(&mut tx, &upd).await?;
            }
        }
        tx.commit().await?;
        Ok(job)
    }

    async fn upload_scan_result(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
        job_id: i64,
        result: &crate::ScanResult,
        at: Timestamp,
    ) -> Result<openqps_model::ScanJob, StoreError> {
        use openqps_model::{ScanState, ScanType};
        let mut tx = self.write(sub.0).await?;
        let q = write::scan_jobs_query(sub)
            .and_where(Expr::col("id").eq(job_id))
            .and_where(Expr::col("asset_id").eq(asset_id))
            .to_owned();
        let Some(row) = fetch(&mut tx, &q).await?.into_iter().next() else {
            return Err(StoreError::NotFound {
                object: "ScanJob",
                id: job_id,
            });
        };
        let mut job = write::scan_job(&row)?;
        if job.state == ScanState::Dispatched {
            job = write::advance_scan_job(
                &mut tx,
                sub,
                Some(asset_id),
                job_id,
                ScanState::Running,
                at,
            )
            .await?;
        }
        if job.state != ScanState::Running {
            return Err(StoreError::Conflict(format!(
                "Scan job {job_id} is {}: it takes no result (a result is taken once).",
                job.state.name()
            )));
        }
        match (job.scan_type, result) {
            (ScanType::Inventory, crate::ScanResult::Inventory(change)) => {
                write::update_hosts(&mut tx, sub, &[asset_id], change, at).await?;
                rules::reapply_to_hosts(&mut tx, sub, &[asset_id]).await?;
            }
            (ScanType::SwCa, crate::ScanResult::SwCa(components)) => {
                agents::store_swca(&mut tx, asset_id, job_id, components, at).await?;
            }
            (other, _) => {
                let takes = match other {
                    ScanType::Inventory => "an 'inventory' result",
                    ScanType::SwCa => "an 'sbom' result",
                    _ => "no result upload; set its state to COMPLETED instead",
                };
                return Err(StoreError::Conflict(format!(
                    "Scan job {job_id} is of type {}; it takes {takes}.",
                    other.value()
                )));
            }
        }
        let job = write::advance_scan_job(
            &mut tx,
            sub,
            Some(asset_id),
            job_id,
            ScanState::Completed,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn swca_result(
        &self,
        sub: SubscriptionId,
        asset_id: i64,
    ) -> Result<Option<crate::SwCaResult>, StoreError> {
        let mut tx = self.read().await?;
        let ids = existing_id(&mut tx, hosts_query(sub), asset_id).await?;
        if ids.is_empty() {
            return Err(StoreError::NotFound {
                object: "HostAsset",
                id: asset_id,
            });
        }
        agents::load_swca(&mut tx, asset_id).await
    }

    async fn search_tags(
        &self,
        sub: SubscriptionId,
        filter: &Filter<TagField>,
        page: PageRequest,
    ) -> Result<Page<Tag>, StoreError> {
        let mut tx = self.read().await?;
        let (ids, has_more) = page_ids(&mut tx, tags::tags_query(sub), filter, sub, page).await?;
        let items = tags::load(&mut tx, &ids).await?;
        Ok(Page { items, has_more })
    }

    async fn count_tags(
        &self,
        sub: SubscriptionId,
        filter: &Filter<TagField>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.read().await?;
        count(&mut conn, tags::tags_query(sub), filter, sub).await
    }

    async fn get_tag(&self, sub: SubscriptionId, id: i64) -> Result<Option<Tag>, StoreError> {
        let mut tx = self.read().await?;
        let ids = existing_id(&mut tx, tags::tags_query(sub), id).await?;
        Ok(tags::load(&mut tx, &ids).await?.pop())
    }

    async fn create_tag(
        &self,
        sub: SubscriptionId,
        fields: &TagFields,
        children: &ChildChanges,
        at: Timestamp,
    ) -> Result<Tag, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let id = tags::create(&mut tx, sub, fields, children, at).await?;
        rules::reapply(&mut tx, sub, id).await?;
        let tag = tags::load(&mut tx, &[id]).await?.pop();
        tx.commit().await?;
        tag.ok_or_else(|| StoreError::Corrupt(format!("tag {id} vanished")))
    }

    async fn update_tags(
        &self,
        sub: SubscriptionId,
        target: &Selector<TagField>,
        fields: &TagFields,
        children: &ChildChanges,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = tags::update(&mut tx, sub, target, fields, children, at).await?;
        if fields.rule_type.is_some() || fields.rule_text.is_some() {
            for id in &ids {
                rules::reapply(&mut tx, sub, *id).await?;
            }
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn evaluate_tags(
        &self,
        sub: SubscriptionId,
        target: &Selector<TagField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, tags::tags_query(sub), target, sub, "Tag").await?;
        let mut evaluated = Vec::new();
        for id in ids {
            if rules::reapply(&mut tx, sub, id).await? {
                evaluated.push(id);
            }
        }
        tx.commit().await?;
        Ok(evaluated)
    }

    async fn delete_tags(
        &self,
        sub: SubscriptionId,
        target: &Selector<TagField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = tags::delete(&mut tx, sub, target).await?;
        rules::settle(&mut tx, sub).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn search_webapps(
        &self,
        sub: SubscriptionId,
        filter: &Filter<WebAppField>,
        page: PageRequest,
    ) -> Result<Page<WebApp>, StoreError> {
        let mut tx = self.read().await?;
        let (ids, has_more) = page_ids(&mut tx, webapps_query(sub), filter, sub, page).await?;
        let items = webapps::load(&mut tx, &ids).await?;
        Ok(Page { items, has_more })
    }

    async fn count_webapps(
        &self,
        sub: SubscriptionId,
        filter: &Filter<WebAppField>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.read().await?;
        count(&mut conn, webapps_query(sub), filter, sub).await
    }

    async fn get_webapp(&self, sub: SubscriptionId, id: i64) -> Result<Option<WebApp>, StoreError> {
        let mut tx = self.read().await?;
        let ids = existing_id(&mut tx, webapps_query(sub), id).await?;
        Ok(webapps::load(&mut tx, &ids).await?.pop())
    }

    async fn delete_webapps(
        &self,
        sub: SubscriptionId,
        target: &Selector<WebAppField>,
        remove_from_subscription: bool,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, webapps_query(sub), target, sub, "WebApp").await?;
        webapps::delete(&mut tx, &ids, remove_from_subscription).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn create_webapp(
        &self,
        sub: SubscriptionId,
        app: &WebApp,
        tag_ids: &[i64],
    ) -> Result<WebApp, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let id = webapps::create(&mut tx, sub, app, tag_ids).await?;
        let created = webapps::load(&mut tx, &[id]).await?.pop();
        tx.commit().await?;
        created.ok_or(StoreError::NotFound {
            object: "WebApp",
            id,
        })
    }

    async fn update_webapps(
        &self,
        sub: SubscriptionId,
        target: &Selector<WebAppField>,
        change: &WebAppChange,
        tags: &TagChanges,
        by: &WebAppOwner,
        at: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, webapps_query(sub), target, sub, "WebApp").await?;
        webapps::update(&mut tx, sub, &ids, change, tags, by, at).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn purge_webapps(
        &self,
        sub: SubscriptionId,
        target: &Selector<WebAppField>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write(sub.0).await?;
        let ids = write::select(&mut tx, webapps_query(sub), target, sub, "WebApp").await?;
        webapps::purge(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids)
    }
}
