//! Store factories for the suites that run on both back-ends: a fresh SQLite file, or a fresh
//! PostgreSQL database on the server `OPENQPS_TEST_POSTGRES_URL` names.
//!
//! Without that variable the PostgreSQL half skips with a notice, unless `CI` is set: there a
//! missing PostgreSQL fails the test.

#![allow(dead_code)]

use openqps_store::{PgStore, SqliteStore, Store};
use sqlx::{Connection, PgConnection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

mod postgres_env;
pub use postgres_env::{POSTGRES_URL_VAR, fresh_database_sql, postgres_server, with_database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store on its own fresh database, removed by [`TestStore::close`].
pub struct TestStore {
    pub store: Box<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Database {
        server: String,
        name: String,
        url: String,
    },
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database on the test server; returns its URL. Names are unique per process
/// and call, so tests and test binaries can run at once.
pub async fn fresh_database(server: &str, name: &str) -> (String, String) {
    let db = format!(
        "openqps_test_{}_{}_{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR} ({server}): {e}"));
    for sql in fresh_database_sql(&db) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let _ = admin.close().await;
    (with_database(server, &db), db)
}

/// A store on a fresh database of `backend`, or `None` when PostgreSQL is not configured (see
/// the module doc).
pub async fn open(backend: Backend, name: &str) -> Option<TestStore> {
    match backend {
        Backend::Sqlite => {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("openqps-store-{name}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
            Some(TestStore {
                store: Box::new(store),
                cleanup: Cleanup::Dir(dir),
            })
        }
        Backend::Postgres => {
            let server = postgres_server()?;
            let (url, db) = fresh_database(&server, name).await;
            let store = PgStore::connect(&url).await.unwrap();
            Some(TestStore {
                store: Box::new(store),
                cleanup: Cleanup::Database {
                    server,
                    name: db,
                    url,
                },
            })
        }
    }
}

impl TestStore {
    /// A second, independent store on the same database, as another `openqps serve` process
    /// would open it.
    pub async fn reopen(&self) -> Box<dyn Store> {
        match &self.cleanup {
            Cleanup::Dir(dir) => Box::new(SqliteStore::open(&dir.join("db.sqlite")).await.unwrap()),
            Cleanup::Database { url, .. } => Box::new(PgStore::connect(url).await.unwrap()),
        }
    }

    /// Drops the store and its database.
    pub async fn close(self) {
        drop(self.store);
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { server, name, .. } => {
                if let Ok(mut admin) = PgConnection::connect(&server).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// Runs each named `async fn(Backend)` as a test on SQLite (`sqlite::name`) and on PostgreSQL
/// (`postgres::name`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::support::Backend::Postgres).await
                }
            )*
        }
    };
}
