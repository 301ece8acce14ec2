//! `openqps agent`: a Linux agent that speaks the openqps agent protocol (`/agent/v1`,
//! docs/agent-protocol.md). It registers once (the state directory keeps its credential),
//! checks in, claims jobs, and uploads Inventory and SwCA results, each job's result once.

mod inventory;
mod swca;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args)]
pub struct AgentArgs {
    /// Base URL of the openqps server, http:// or https://.
    #[arg(long, env = "OPENQPS_AGENT_SERVER")]
    server: String,
    /// PEM file of the CA(s) to trust for an https:// server instead of the system's roots
    /// (`ca.pem` of `openqps cert`).
    #[arg(long, env = "OPENQPS_AGENT_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Activation key (UUID) used to register, the first time only.
    #[arg(long, env = "OPENQPS_AGENT_ACTIVATION_KEY")]
    activation_key: Option<String>,
    /// Directories searched for lock files by SwCA scans (repeatable).
    #[arg(
        long = "scan-root",
        env = "OPENQPS_AGENT_SCAN_ROOTS",
        value_delimiter = ':'
    )]
    scan_roots: Vec<PathBuf>,
    /// Where the agent keeps its credential and the ids of the jobs it uploaded.
    #[arg(long, env = "OPENQPS_AGENT_STATE_DIR", default_value = "openqps-agent")]
    state_dir: PathBuf,
    /// Seconds between polls for jobs.
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
    /// Run one cycle (register if needed, check in, run every queued job) and exit.
    #[arg(long)]
    once: bool,
}

struct Credential {
    agent_id: String,
    secret: String,
    asset_id: i64,
}

struct Agent {
    args: AgentArgs,
    http: reqwest::blocking::Client,
    base: String,
}

#[derive(Debug)]
enum Failure {
    /// The server could not be reached or failed (5xx): worth retrying.
    Transient(String),
    /// The server refused: retrying will not help.
    Fatal(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient(m) | Failure::Fatal(m) => f.write_str(m),
        }
    }
}

pub fn run(args: AgentArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.state_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.state_dir.display()))?;
    let http = client(&args)?;
    let mut args = args;
    for root in &mut args.scan_roots {
        match std::fs::canonicalize(&*root) {
            // Absolute, so the SBOM names where each lock file is whatever the working folder.
            Ok(abs) if abs.is_dir() => *root = abs,
            _ => {
                tracing::warn!(root = %root.display(), "scan root is not a directory; SwCA scans will find nothing there")
            }
        }
    }
    let base = args.server.trim_end_matches('/').to_string();
    let agent = Agent { args, http, base };
    let mut backoff = 1u64;
    let mut attempts = 0;
    loop {
        match agent.cycle() {
            Ok(()) => {
                backoff = 1;
                attempts = 0;
                if agent.args.once {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_secs(agent.args.poll_seconds.max(1)));
            }
            Err(Failure::Fatal(m)) => return Err(m),
            Err(Failure::Transient(m)) => {
                attempts += 1;
                if agent.args.once && attempts >= 5 {
                    return Err(m);
                }
                tracing::warn!(error = %m, retry_in_secs = backoff, "server unavailable; retrying");
                std::thread::sleep(Duration::from_secs(backoff));
                backoff = (backoff * 2).min(60);
            }
        }
    }
}

/// The HTTP client: HTTPS through rustls with ring (as the server uses), trusting only
/// `--ca-cert` when it is given, else the system's roots.
fn client(args: &AgentArgs) -> Result<reqwest::blocking::Client, String> {
    if !(args.server.starts_with("http://") || args.server.starts_with("https://")) {
        return Err(format!(
            "--server must be an http:// or https:// URL, not '{}'.",
            args.server
        ));
    }
    // reqwest is built without a crypto provider of its own; it takes the process default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30));
    if let Some(path) = &args.ca_cert {
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{} holds no PEM certificate.", path.display()));
        }
        builder = builder.tls_certs_only(certs);
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

/// A failed request: a certificate the agent does not trust will not be trusted on a retry, so
/// it ends the agent with the reason; anything else (refused, reset, timed out) is retried.
fn send_failure(path: &str, e: &reqwest::Error) -> Failure {
    match tls_error(e) {
        Some(tls) => Failure::Fatal(format!(
            "POST {path}: TLS: {tls} (trust the server's CA with --ca-cert)"
        )),
        None => Failure::Transient(format!("POST {path}: {}", causes(e))),
    }
}

/// `e` and the errors under it ("error sending request …: client error (Connect): tcp connect
/// error: Connection refused"): reqwest's own message leaves the cause out.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(err) = next {
        let text = err.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = err.source();
    }
    out
}

/// The rustls error under `e`. `io::Error::source` skips the error an io::Error wraps (and
/// hyper wraps rustls' error in two), so each io::Error is opened with `get_ref` as well.
fn tls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &dyn std::error::Error),
            None => err.source(),
        };
    }
    None
}

impl Agent {
    fn state_file(&self) -> PathBuf {
        self.args.state_dir.join("agent.json")
    }

    fn uploaded_file(&self) -> PathBuf {
        self.args.state_dir.join("uploaded-jobs")
    }

    fn post(
        &self,
        path: &str,
        auth: Option<&Credential>,
        body: &Value,
    ) -> Result<(u16, Value), Failure> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(c) = auth {
            req = req.basic_auth(&c.agent_id, Some(&c.secret));
        }
        let resp = req.send().map_err(|e| send_failure(path, &e))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .map_err(|e| Failure::Transient(format!("POST {path}: {e}")))?;
        if status >= 500 {
            return Err(Failure::Transient(format!(
                "POST {path}: HTTP {status}: {text}"
            )));
        }
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok((status, value))
    }

    fn credential(&self) -> Result<Credential, Failure> {
        let path = self.state_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let v = serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
                return match (
                    v["agentId"].as_str(),
                    v["secret"].as_str(),
                    v["assetId"].as_i64(),
                ) {
                    (Some(a), Some(s), Some(id)) => Ok(Credential {
                        agent_id: a.to_string(),
                        secret: s.to_string(),
                        asset_id: id,
                    }),
                    // Registering again would make a second host asset for this machine.
                    _ => Err(Failure::Fatal(format!(
                        "{} is not a valid agent state file (agentId, secret, assetId); \
                         restore it, or delete it to register again as a new agent",
                        path.display()
                    ))),
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::Fatal(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        }
        let key = self.args.activation_key.as_deref().ok_or_else(|| {
            Failure::Fatal("not registered yet: give --activation-key".to_string())
        })?;
        let (status, v) = self.post(
            "/agent/v1/register",
            None,
            &json!({"activationKey": key, "hostname": inventory::hostname(),
                    "platform": "Linux", "os": inventory::os_name(),
                    "agentVersion": env!("CARGO_PKG_VERSION")}),
        )?;
        if status != 201 {
            return Err(Failure::Fatal(match v["error"].as_str() {
                Some(why) => format!("registration refused (HTTP {status}): {why}"),
                // No agent-protocol answer at all: most likely --server names a path under the
                // server rather than the server itself.
                None => format!(
                    "registration failed (HTTP {status}): {} did not answer as an openqps \
                     server; --server takes the server's base URL, such as http://127.0.0.1:8750",
                    self.base
                ),
            }));
        }
        let cred = Credential {
            agent_id: v["agentId"].as_str().unwrap_or_default().to_string(),
            secret: v["secret"].as_str().unwrap_or_default().to_string(),
            asset_id: v["assetId"].as_i64().unwrap_or_default(),
        };
        write_private(
            &self.state_file(),
            &json!({"agentId": cred.agent_id, "secret": cred.secret, "assetId": cred.asset_id,
                    "server": self.base})
            .to_string(),
        )
        .map_err(|e| Failure::Fatal(format!("cannot save the credential: {e}")))?;
        tracing::info!(agent_id = %cred.agent_id, asset_id = cred.asset_id, "registered");
        Ok(cred)
    }

    fn uploaded(&self) -> Vec<i64> {
        std::fs::read_to_string(self.uploaded_file())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Records a job whose result the server has; keeps the last 1000 ids.
    fn mark_uploaded(&self, id: i64) -> Result<(), Failure> {
        let mut ids = self.uploaded();
        ids.push(id);
        let keep = ids.len().saturating_sub(1000);
        let text: String = ids[keep..].iter().map(|i| format!("{i}\n")).collect();
        let tmp = self.uploaded_file().with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, self.uploaded_file()))
            .map_err(|e| Failure::Fatal(format!("cannot record uploaded job {id}: {e}")))
    }

    /// Check in, then claim and run jobs until none is left.
    fn cycle(&self) -> Result<(), Failure> {
        let cred = self.credential()?;
        let (status, v) = self.post(
            "/agent/v1/checkin",
            Some(&cred),
            &json!({"agentVersion": env!("CARGO_PKG_VERSION")}),
        )?;
        if status == 401 {
            return Err(Failure::Fatal(format!(
                "the server no longer knows this agent (uninstalled?); remove {} to register again",
                self.state_file().display()
            )));
        }
        tracing::debug!(queued = %v["queuedJobs"], "checked in");
        for _ in 0..100 {
            let (status, v) = self.post("/agent/v1/jobs/claim", Some(&cred), &json!({}))?;
            if status != 200 {
                return Err(Failure::Transient(format!("claim: HTTP {status}")));
            }
            let job = &v["job"];
            let Some(id) = job["id"].as_i64() else {
                return Ok(());
            };
            self.run_job(&cred, id, job["scanType"].as_str().unwrap_or(""))?;
        }
        Ok(())
    }

    fn run_job(&self, cred: &Credential, id: i64, scan: &str) -> Result<(), Failure> {
        if self.uploaded().contains(&id) {
            tracing::info!(job = id, "result already uploaded; skipping");
            return Ok(());
        }
        tracing::info!(job = id, scan, asset = cred.asset_id, "running job");
        let state = format!("/agent/v1/jobs/{id}/state");
        self.post(&state, Some(cred), &json!({"state": "RUNNING"}))?;
        let result = match scan {
            "Inventory_Scan" => Some(json!({"inventory": inventory::collect()})),
            "SWCA_Scan" => match swca::sbom(&inventory::hostname(), &self.args.scan_roots) {
                Ok(bom) => Some(json!({"sbom": bom})),
                Err(e) => {
                    tracing::warn!(job = id, error = %e, "SBOM not written");
                    self.post(&state, Some(cred), &json!({"state": "FAILED"}))?;
                    return self.mark_uploaded(id);
                }
            },
            _ => None,
        };
        let (status, v) = match result {
            Some(body) => self.post(&format!("/agent/v1/jobs/{id}/result"), Some(cred), &body)?,
            // This agent scans for nothing else: the job completes without data.
            None => self.post(&state, Some(cred), &json!({"state": "COMPLETED"}))?,
        };
        match status {
            200 => {}
            409 => tracing::info!(job = id, "the server already has this job's result"),
            _ => {
                tracing::warn!(job = id, status, error = %v["error"], "result refused");
                self.post(&state, Some(cred), &json!({"state": "FAILED"}))?;
            }
        }
        self.mark_uploaded(id)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
