//! Opening the embedded back-end: SQLite in WAL mode, one writer connection, a small reader pool.

use super::{Pools, SqlStore, filter_sql, hosts_query};
use crate::StoreError;
use openqps_model::SubscriptionId;
use openqps_query::Filter;
use openqps_query::fields::HostField;
use sea_query::{Order, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row};
use std::path::Path;
use std::time::Duration;

/// Marks a [`SqlStore`] on SQLite.
pub struct Sqlite;

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqlStore<Sqlite>, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives a power cut, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        if !planner_is_stable(&reader).await? {
            tracing::warn!(
                "this SQLite was built without SQLITE_ENABLE_QPSG (see .cargo/config.toml): every \
                 query is compiled anew on each run, which makes reads several times slower"
            );
        }
        Ok(SqlStore::new(Pools::Sqlite { reader, writer }))
    }

    /// Whether the file at `path` is an openqps database (it has the migrations table and the
    /// subscriptions), read without writing anything.
    pub async fn holds_openqps_schema(path: &Path) -> Result<bool, StoreError> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::ConnectOptions::connect(&options).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
             AND name IN ('_sqlx_migrations', 'subscription')",
        )
        .fetch_one(&mut conn)
        .await?;
        sqlx::Connection::close(conn).await?;
        Ok(n == 2)
    }

    /// Whether the bundled SQLite has its query planner stability guarantee on by default.
    pub async fn planner_stability_guaranteed(&self) -> Result<bool, StoreError> {
        let Pools::Sqlite { reader, .. } = &self.pools else {
            unreachable!("a SqlStore<Sqlite> holds SQLite pools");
        };
        planner_is_stable(reader).await
    }

    /// `EXPLAIN QUERY PLAN` of the page query a host search runs: how tests check that criteria
    /// use indexes.
    pub async fn explain_host_search(
        &self,
        sub: SubscriptionId,
        filter: &Filter<HostField>,
    ) -> Result<String, StoreError> {
        let Pools::Sqlite { reader, .. } = &self.pools else {
            unreachable!("a SqlStore<Sqlite> holds SQLite pools");
        };
        let mut q = hosts_query(sub);
        filter_sql::apply(&mut q, filter, sub.0, super::Dialect::Sqlite);
        q.column(("a", "id"))
            .order_by(("a", "id"), Order::Asc)
            .limit(101);
        let (sql, values) = q.build_sqlx(SqliteQueryBuilder);
        let rows = sqlx::query_with(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")), values)
            .fetch_all(reader)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<String, _>(3))
            .collect::<Result<Vec<_>, _>>()?
            .join("\n"))
    }
}

/// `ENABLE_QPSG` among SQLite's compile options: without it a plan that peeked at a bound value
/// is thrown away whenever sqlx clears the bindings, after every execution.
async fn planner_is_stable(pool: &sqlx::SqlitePool) -> Result<bool, StoreError> {
    let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
        .fetch_all(pool)
        .await?;
    Ok(options.iter().any(|o| o == "ENABLE_QPSG"))
}
