//! Opening the scale-out back-end: PostgreSQL, shared by any number of `openqps serve`
//! processes.
//!
//! Ids come from identity columns, so processes never hand out the same one. Writes of one
//! subscription are serialized across processes by a transaction-scoped advisory lock
//! ([`super::Conn::lock`]) and run in READ COMMITTED: each statement after the lock sees every
//! write committed before it, which is what rule re-evaluation (a whole-subscription read then
//! write) needs. Reads run in REPEATABLE READ, READ ONLY: one snapshot per call, never blocked
//! and never failing with a serialization error.

use super::{Pools, SqlStore};
use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::time::Duration;

/// Marks a [`SqlStore`] on PostgreSQL.
pub struct Postgres;

impl SqlStore<Postgres> {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) and brings the schema up to date.
    /// Several processes may do this at once: migrations run under sqlx's advisory lock.
    pub async fn connect(url: &str) -> Result<SqlStore<Postgres>, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        // One plain connection first: a wrong address or password fails here at once with its
        // own message (a pool would retry until its timeout and only report that).
        let mut conn = PgConnection::connect_with(&options).await?;
        sqlx::migrate!("migrations/postgres").run(&mut conn).await?;
        conn.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(SqlStore::new(Pools::Postgres(pool)))
    }
}
