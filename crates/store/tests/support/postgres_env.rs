//! Which PostgreSQL server the tests use. Shared by the store suites and the end-to-end suites
//! (`crates/openqps/tests/support` includes this file by path).

pub const POSTGRES_URL_VAR: &str = "OPENQPS_TEST_POSTGRES_URL";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The server `OPENQPS_TEST_POSTGRES_URL` names, or `None` (after a notice: the PostgreSQL test
/// skips) when it is unset. Under `CI` a missing server fails the test instead.
pub fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if ci() => panic!(
            "CI is set but {POSTGRES_URL_VAR} is not: the PostgreSQL tests must run in CI \
             (scripts/test.sh starts a server and sets it)"
        ),
        _ => {
            eprintln!("{POSTGRES_URL_VAR} is not set: skipping this PostgreSQL test");
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

/// The two statements that make `db` a fresh, empty database (run one at a time: DROP and
/// CREATE DATABASE cannot share a transaction).
pub fn fresh_database_sql(db: &str) -> [String; 2] {
    [
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        format!("CREATE DATABASE {db}"),
    ]
}
