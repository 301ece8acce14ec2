//! `openqps serve`.

use argon2::password_hash::PasswordHasher;
use openqps_server::auth::TokenKey;
use openqps_server::limits::{LimitConfig, RateLimit};
use openqps_server::{AppState, ServerConfig, router};
use openqps_store::{PgStore, SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The documented default addresses.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8750";
pub const DEFAULT_TLS_LISTEN: &str = "127.0.0.1:8751";

/// Where the data lives; `serve` and the account commands take the same options.
#[derive(clap::Args)]
pub struct DatabaseArgs {
    /// Folder holding the SQLite database (unless --database names another) and `token.key`;
    /// `serve` creates it if missing, the account commands refuse a missing one.
    #[arg(long, env = "OPENQPS_DATA_DIR", default_value = "openqps-data")]
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL URL (postgres://user:pass@host:port/db), which several
    /// processes may share, or a SQLite file (a path or sqlite:PATH). Default: openqps.db in
    /// --data-dir.
    #[arg(long, env = "OPENQPS_DATABASE", value_name = "URL|PATH")]
    pub database: Option<String>,
}

impl DatabaseArgs {
    /// Opens (and migrates) a database `serve` has set up. A missing SQLite file or a database
    /// without a subscription is refused rather than made: a mistyped `--data-dir` must not
    /// quietly start a second database that no server reads.
    pub async fn open_existing(&self) -> Result<Arc<dyn Store>, String> {
        let database =
            Database::parse(self.database.as_deref(), &self.data_dir.join("openqps.db"))?;
        if let Database::Sqlite(path) = &database {
            if !path.is_file() {
                return Err(format!(
                    "no database at {}; check --data-dir or --database, or start `openqps serve` on it once first",
                    path.display()
                ));
            }
            // Opening migrates: a file that is some other program's database stays untouched.
            if !SqliteStore::holds_openqps_schema(path)
                .await
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            {
                return Err(format!(
                    "{} is not an openqps database; check --data-dir or --database",
                    path.display()
                ));
            }
        }
        let store = open_store(&database).await?;
        if store
            .subscriptions()
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            return Err(
                "the database has no subscription yet; start `openqps serve` on it once first"
                    .into(),
            );
        }
        Ok(store)
    }
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "OPENQPS_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    #[command(flatten)]
    db: DatabaseArgs,
    /// Load the demo data set into an empty subscription.
    #[arg(long, env = "OPENQPS_DEMO")]
    demo: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "OPENQPS_BODY_LIMIT", default_value_t = 1 << 20)]
    body_limit: usize,
    /// Seconds a request body may take to arrive; a slower one (say, a body shorter than its
    /// Content-Length) is answered INVALID_REQUEST instead of waited for.
    #[arg(long, env = "OPENQPS_BODY_TIMEOUT", value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Per-user rate limit on QPS calls, CALLS/SECONDS (e.g. 300/3600); off when not given.
    #[arg(long, env = "OPENQPS_RATE_LIMIT", value_name = "CALLS/SECONDS")]
    rate_limit: Option<RateLimit>,
    /// Per-user limit of QPS calls running at once; off when not given.
    #[arg(long, env = "OPENQPS_CONCURRENCY_LIMIT", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    concurrency_limit: Option<u32>,
    /// PEM certificate chain: with --tls-key, also serve HTTPS on --tls-listen.
    #[arg(
        long,
        env = "OPENQPS_TLS_CERT",
        requires = "tls_key",
        value_name = "PEM"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "OPENQPS_TLS_KEY",
        requires = "tls_cert",
        value_name = "PEM"
    )]
    tls_key: Option<PathBuf>,
    /// Seconds a queued scan job waits for an agent to claim it before it expires.
    #[arg(long, env = "OPENQPS_SCAN_EXPIRY", value_name = "SECONDS", default_value_t = 24 * 60 * 60, value_parser = clap::value_parser!(i64).range(1..))]
    scan_expiry: i64,
    /// Seconds a claimed scan job may go without a move (running, completed) before it fails,
    /// as when its agent died mid-scan.
    #[arg(long, env = "OPENQPS_SCAN_RUN_TIMEOUT", value_name = "SECONDS", default_value_t = 4 * 60 * 60, value_parser = clap::value_parser!(i64).range(1..))]
    scan_run_timeout: i64,
    /// Address for HTTPS, served beside HTTP when --tls-cert and --tls-key are given.
    #[arg(long, env = "OPENQPS_TLS_LISTEN", default_value = DEFAULT_TLS_LISTEN)]
    tls_listen: SocketAddr,
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    // What can fail for reasons outside the database comes first: a bad --database, a busy
    // port or a missing certificate must not leave a fresh data folder behind with its one-time
    // password spent.
    let database = Database::parse(
        args.db.database.as_deref(),
        &args.db.data_dir.join("openqps.db"),
    )?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tls_listener = match tls {
        Some(tls) => {
            let tcp = tokio::net::TcpListener::bind(args.tls_listen)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", args.tls_listen))?;
            Some(crate::tls::TlsListener::new(tcp, tls).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let make_data_dir = || {
        std::fs::create_dir_all(&args.db.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", args.db.data_dir.display()))
    };
    // PostgreSQL is reached before the folder (token.key) is made; SQLite lives in it.
    if matches!(database, Database::Sqlite(_)) {
        make_data_dir()?;
    }
    let store = open_store(&database).await?;
    make_data_dir()?;
    bootstrap(store.as_ref()).await?;
    if args.demo {
        load_demo(store.as_ref()).await?;
    }
    let config = ServerConfig {
        body_limit: args.body_limit,
        body_timeout: std::time::Duration::from_secs(args.body_timeout),
        limits: LimitConfig {
            rate: args.rate_limit,
            concurrency: args.concurrency_limit,
        },
        token_key: token_key(&args.db.data_dir)?,
        scan_expiry_secs: args.scan_expiry,
        scan_run_timeout_secs: args.scan_run_timeout,
        ..ServerConfig::default()
    };
    spawn_expiry(store.clone());
    let state = AppState::new(store, config);
    // Tests and scripts read these lines to learn the ports.
    println!("openqps listening on http://{addr}");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let http = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(until_stopped(stopped.clone()));
    let https = async {
        match tls_listener {
            Some(l) => {
                let tls_addr = axum::serve::Listener::local_addr(&l).map_err(|e| e.to_string())?;
                println!("openqps listening on https://{tls_addr}");
                axum::serve(l, router(state.with_scheme("https")))
                    .with_graceful_shutdown(until_stopped(stopped.clone()))
                    .await
                    .map_err(|e| e.to_string())
            }
            None => Ok(()),
        }
    };
    let signal = async {
        shutdown().await;
        let _ = stop.send(true);
        Ok::<(), String>(())
    };
    tokio::try_join!(
        async { http.await.map_err(|e| e.to_string()) },
        https,
        signal
    )?;
    Ok(())
}

/// Where the data lives, as `--database` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL (scheme in any case) is PostgreSQL; `sqlite:PATH`,
    /// `sqlite://PATH` or a plain path is a SQLite file; nothing is `default`. Any other
    /// `scheme://` is refused rather than taken for a file name (with its password in it).
    fn parse(given: Option<&str>, default: &std::path::Path) -> Result<Database, String> {
        let Some(s) = given.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Database::Sqlite(default.to_path_buf()));
        };
        let scheme = s
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some(scheme @ ("postgres" | "postgresql")) => match s.split_once("://") {
                Some((_, rest)) => Ok(Database::Postgres(format!("{scheme}://{rest}"))),
                None => Err(format!(
                    "--database: a PostgreSQL URL starts with {scheme}://"
                )),
            },
            Some("sqlite") => {
                let path = s[s.find(':').map_or(0, |i| i + 1)..].trim_start_matches("//");
                if path.is_empty() || path.starts_with(":memory:") || path.contains('?') {
                    return Err(format!(
                        "--database: '{s}' names no database file; give sqlite:PATH with a file \
                         path (no in-memory database, no ?options)"
                    ));
                }
                Ok(Database::Sqlite(PathBuf::from(path)))
            }
            Some(other) if s.contains("://") => Err(format!(
                "--database: '{other}://' is not a database openqps serves; give a postgres:// URL or a SQLite file path"
            )),
            _ => Ok(Database::Sqlite(PathBuf::from(s))),
        }
    }
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

async fn open_store(db: &Database) -> Result<Arc<dyn Store>, String> {
    Ok(match db {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            create_private(path)?;
            Arc::new(
                SqliteStore::open(path)
                    .await
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
            )
        }
        Database::Postgres(url) => Arc::new(
            PgStore::connect(url)
                .await
                .map_err(|e| format!("cannot open {}: {e}", redacted(url)))?,
        ),
    })
}

/// Creates `path` empty, readable by its owner only, unless it exists: the database holds the
/// password hashes, and SQLite gives its `-wal` and `-shm` files the database file's mode.
fn create_private(path: &std::path::Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

/// On an empty database: the subscription and its `admin`, whose password comes from
/// `OPENQPS_ADMIN_PASSWORD` or is generated and printed once.
async fn bootstrap(store: &dyn Store) -> Result<(), String> {
    let given = std::env::var("OPENQPS_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let password = match &given {
        Some(p) => p.clone(),
        None => generate_password()?,
    };
    let hash = hash_password(&password)?;
    let created = store
        .bootstrap(&hash, jiff::Timestamp::now())
        .await
        .map_err(|e| e.to_string())?;
    if created.is_some() {
        match given {
            Some(_) => println!(
                "Created subscription with user 'admin' (password from OPENQPS_ADMIN_PASSWORD)."
            ),
            None => println!(
                "Created subscription with user 'admin', password: {password}  (shown once)"
            ),
        }
    }
    Ok(())
}

/// The key bearer tokens are signed with: `token.key` in the data folder, made at first start,
/// so every process serving that folder accepts the tokens of the others.
fn token_key(data_dir: &std::path::Path) -> Result<TokenKey, String> {
    let path = data_dir.join("token.key");
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no randomness for the token key: {e}"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(hex.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
    }
    // Another process may have just created it: wait briefly for its content.
    for _ in 0..50 {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let text = text.trim();
        if text.len() >= 32 {
            return Ok(TokenKey::new(text.as_bytes().to_vec()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Err(format!(
        "{} holds no key; delete it to make a new one",
        path.display()
    ))
}

/// The argon2id PHC string stored for `password`.
pub fn hash_password(password: &str) -> Result<String, String> {
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| format!("cannot hash the password: {e}"))?
        .to_string())
}

pub fn generate_password() -> Result<String, String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a password: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

async fn load_demo(store: &dyn Store) -> Result<(), String> {
    let sub = store
        .default_subscription()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no subscription to load demo data into")?;
    if store.asset_count(sub).await.map_err(|e| e.to_string())? > 0 {
        println!("Demo data: the subscription already has assets; nothing loaded.");
        return Ok(());
    }
    let data = crate::demo::dataset();
    if let Err(e) = store.load(sub, &data).await {
        // Another process on the same (PostgreSQL) database may have loaded it meanwhile.
        if store.asset_count(sub).await.map_err(|e| e.to_string())? > 0 {
            println!("Demo data: another process loaded it; nothing loaded.");
            return Ok(());
        }
        return Err(e.to_string());
    }
    println!(
        "Demo data loaded: {} host assets, {} web applications, {} tags.",
        data.hosts.len(),
        data.webapps.len(),
        data.tags.len()
    );
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Expiry is also evaluated lazily on every read and claim; this sweep only keeps the stored
/// states current for whoever reads the database directly.
fn spawn_expiry(store: Arc<dyn Store>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = store.expire_scan_jobs(jiff::Timestamp::now()).await {
                tracing::warn!(error = %e, "scan job expiry sweep failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{Database, redacted};
    use std::path::{Path, PathBuf};

    #[test]
    fn database_names_pick_the_back_end() {
        let default = Path::new("openqps-data/openqps.db");
        let parse = |s: Option<&str>| Database::parse(s, default).unwrap();
        assert_eq!(parse(None), Database::Sqlite(default.into()));
        assert_eq!(parse(Some("")), Database::Sqlite(default.into()));
        assert_eq!(
            parse(Some("postgres://u:p@db/openqps")),
            Database::Postgres("postgres://u:p@db/openqps".into())
        );
        assert_eq!(
            parse(Some("postgresql://db/openqps")),
            Database::Postgres("postgresql://db/openqps".into())
        );
        assert_eq!(
            parse(Some("sqlite:/var/lib/q.db")),
            Database::Sqlite(PathBuf::from("/var/lib/q.db"))
        );
        assert_eq!(
            parse(Some("sqlite://q.db")),
            Database::Sqlite(PathBuf::from("q.db"))
        );
        assert_eq!(
            parse(Some("data/q.db")),
            Database::Sqlite(PathBuf::from("data/q.db"))
        );
        // Schemes in any case; another scheme is refused, not taken for a path.
        assert_eq!(
            parse(Some("POSTGRES://u:p@db/openqps")),
            Database::Postgres("postgres://u:p@db/openqps".into())
        );
        assert_eq!(
            parse(Some("SQLite:q.db")),
            Database::Sqlite(PathBuf::from("q.db"))
        );
        for other in [
            "mysql://u:secret@db/q",
            "postgres:/db",
            "sqlite:",
            "sqlite::memory:",
            "sqlite:q.db?mode=ro",
        ] {
            let e = Database::parse(Some(other), default);
            assert!(
                matches!(&e, Err(m) if !m.contains("secret")),
                "{other}: {e:?}"
            );
        }
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("postgres://user:secret@host:5432/db"),
            "postgres://user:***@host:5432/db"
        );
        assert_eq!(redacted("postgres://host/db"), "postgres://host/db");
        assert_eq!(
            redacted("postgres://user@host/db"),
            "postgres://user@host/db"
        );
    }
}
