//! The agent control protocol, outside `/qps`: `/agent/v1/{register,checkin,jobs/claim,
//! jobs/{id}/state, jobs/{id}/result}` (docs/agent-protocol.md). Plain JSON and HTTP status codes; an agent
//! authenticates with HTTP Basic `agentId:secret` after registering with an activation key.

use crate::app::AppState;
use crate::body::BodyError;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use openqps_model::{ScanState, SubscriptionId};
use openqps_store::{AgentRegistration, StoreError};
use openqps_wire::agent_proto::{Field, read, write};
use openqps_wire::tree::forbidden_char;
use sha2::{Digest, Sha256};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/agent/v1/register", axum::routing::post(register))
        .route("/agent/v1/checkin", axum::routing::post(check_in))
        .route("/agent/v1/jobs/claim", axum::routing::post(claim))
        .route("/agent/v1/jobs/{id}/state", axum::routing::post(job_state))
        .route(
            "/agent/v1/jobs/{id}/result",
            axum::routing::post(job_result),
        )
        .route("/agent/v1/{*rest}", axum::routing::any(unknown_path))
        .method_not_allowed_fallback(wrong_method)
}

/// The protocol answers JSON even for a path or method it does not have.
async fn unknown_path() -> Failure {
    Failure(
        StatusCode::NOT_FOUND,
        "No such agent protocol call; see docs/agent-protocol.md.".into(),
    )
}

async fn wrong_method() -> Failure {
    Failure(
        StatusCode::METHOD_NOT_ALLOWED,
        "Agent protocol calls are POST requests.".into(),
    )
}

struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        answer(self.0, &[("error", Field::Text(self.1))])
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::AgentRefused(m) => Failure(StatusCode::FORBIDDEN, m),
            StoreError::NotFound { object, id } => Failure(
                StatusCode::NOT_FOUND,
                format!("{object} {id} was not found."),
            ),
            StoreError::Conflict(m) => Failure(StatusCode::CONFLICT, m),
            other => {
                tracing::error!(error = %other, "store failure on the agent protocol");
                Failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An internal error occurred.".into(),
                )
            }
        }
    }
}

fn answer(status: StatusCode, pairs: &[(&'static str, Field)]) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        write(pairs),
    )
        .into_response()
}

fn bad(m: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, m.into())
}

async fn body_bytes(state: &AppState, body: Body) -> Result<axum::body::Bytes, Failure> {
    crate::body::read(body, &state.config)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.".into(),
            ),
            BodyError::Incomplete(message) => bad(message),
        })
}

async fn body_fields(state: &AppState, body: Body) -> Result<Vec<(String, String)>, Failure> {
    let fields = read(&body_bytes(state, body).await?).map_err(bad)?;
    for (k, v) in &fields {
        if let Some(m) = forbidden_char(v, &format!("'{k}'")) {
            return Err(bad(m));
        }
    }
    Ok(fields)
}

/// Refuses a string anywhere in `v` that XML 1.0 could not carry: what an agent sends comes
/// back in QPS answers.
fn xml_safe_json(v: &serde_json::Value, depth: usize) -> Result<(), Failure> {
    use serde_json::Value as J;
    match v {
        J::String(s) => forbidden_char(s, "A value").map_or(Ok(()), |m| Err(bad(m))),
        J::Array(items) if depth < 64 => items.iter().try_for_each(|i| xml_safe_json(i, depth + 1)),
        J::Object(map) if depth < 64 => map.iter().try_for_each(|(k, i)| {
            forbidden_char(k, "A key").map_or(Ok(()), |m| Err(bad(m)))?;
            xml_safe_json(i, depth + 1)
        }),
        J::Array(_) | J::Object(_) => Err(bad("The body is nested too deeply.")),
        _ => Ok(()),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// `address`, when given: an IPv4 or IPv6 address, as QPS requires of a host's address.
fn address(fields: &[(String, String)]) -> Result<Option<&str>, Failure> {
    match field(fields, "address") {
        Some(a) if a.parse::<std::net::IpAddr>().is_err() => Err(bad(format!(
            "'address' must be an IPv4 or IPv6 address, not '{a}'."
        ))),
        other => Ok(other),
    }
}

/// A text field of at most `max` characters.
fn bounded<'a>(
    fields: &'a [(String, String)],
    name: &str,
    max: usize,
) -> Result<Option<&'a str>, Failure> {
    match field(fields, name) {
        Some(v) if v.chars().count() > max => {
            Err(bad(format!("'{name}' is longer than {max} characters.")))
        }
        other => Ok(other),
    }
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_hex(bytes: usize) -> Result<String, Failure> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|_| {
        Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random source.".into(),
        )
    })?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The agent the request's Basic credentials name, if its secret matches.
async fn agent(state: &AppState, headers: &HeaderMap) -> Result<(SubscriptionId, i64), Failure> {
    let unauthorized = || {
        Failure(
            StatusCode::UNAUTHORIZED,
            "Send HTTP Basic credentials agentId:secret from registration.".into(),
        )
    };
    let (agent_id, secret) = crate::auth::basic_credentials(headers).ok_or_else(unauthorized)?;
    let cred = state
        .store
        .agent_credential(&agent_id)
        .await?
        .ok_or_else(unauthorized)?;
    let given = sha256_hex(&secret);
    // Digests of equal length, compared without an early exit.
    let same = given.len() == cred.secret_hash.len()
        && given
            .bytes()
            .zip(cred.secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(unauthorized());
    }
    Ok((cred.subscription, cred.asset_id))
}

async fn register(State(state): State<AppState>, body: Body) -> Result<Response, Failure> {
    let f = body_fields(&state, body).await?;
    let key = field(&f, "activationKey").ok_or_else(|| bad("'activationKey' is required."))?;
    let hostname = bounded(&f, "hostname", 255)?.ok_or_else(|| bad("'hostname' is required."))?;
    let platform = field(&f, "platform").ok_or_else(|| bad("'platform' is required."))?;
    let platform = ["Windows", "Linux", "Mac"]
        .into_iter()
        .find(|p| p.eq_ignore_ascii_case(platform))
        .ok_or_else(|| bad("'platform' must be Windows, Linux or Mac."))?;
    let secret = random_hex(32)?;
    let agent_id = uuid::Uuid::new_v4().to_string();
    let reg = AgentRegistration {
        agent_id: agent_id.clone(),
        hostname: hostname.to_string(),
        platform: platform.to_string(),
        os: bounded(&f, "os", 255)?.map(str::to_string),
        agent_version: bounded(&f, "agentVersion", 64)?
            .unwrap_or("1.0.0")
            .to_string(),
        address: address(&f)?.map(str::to_string),
        secret_hash: sha256_hex(&secret),
    };
    let done = state
        .store
        .register_agent(key, &reg, jiff::Timestamp::now())
        .await?;
    Ok(answer(
        StatusCode::CREATED,
        &[
            ("agentId", Field::Text(agent_id)),
            ("assetId", Field::Int(done.asset_id)),
            ("secret", Field::Text(secret)),
        ],
    ))
}

async fn check_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let (sub, asset_id) = agent(&state, &headers).await?;
    let f = body_fields(&state, body).await?;
    let now = jiff::Timestamp::now();
    let host = state
        .store
        .agent_check_in(
            sub,
            asset_id,
            address(&f)?,
            bounded(&f, "agentVersion", 64)?,
            now,
        )
        .await?;
    let pending = state
        .store
        .scan_jobs(sub, asset_id, now)
        .await?
        .iter()
        .filter(|j| j.state == ScanState::Queued)
        .count();
    let agent = host.agent.unwrap_or_default();
    Ok(answer(
        StatusCode::OK,
        &[
            ("assetId", Field::Int(asset_id)),
            (
                "activatedModules",
                Field::Texts(
                    agent
                        .activated_modules
                        .iter()
                        .map(|m| m.name().to_string())
                        .collect(),
                ),
            ),
            (
                "configurationId",
                agent.configuration_id.map_or(Field::Null, Field::Int),
            ),
            ("queuedJobs", Field::Int(pending as i64)),
        ],
    ))
}

fn job_field(job: &openqps_model::ScanJob) -> Field {
    Field::Object(vec![
        ("id", Field::Int(job.id)),
        ("scanType", Field::Text(job.scan_type.value().into())),
        ("overrideConfigCpu", Field::Bool(job.override_config_cpu)),
        ("state", Field::Text(job.state.name().into())),
        (
            "requestedAt",
            Field::Text(openqps_wire::node::format_time(job.requested_at)),
        ),
        (
            "expiresAt",
            Field::Text(openqps_wire::node::format_time(job.expires_at)),
        ),
    ])
}

async fn claim(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let (sub, asset_id) = agent(&state, &headers).await?;
    let job = state
        .store
        .claim_scan_job(sub, asset_id, jiff::Timestamp::now())
        .await?;
    Ok(answer(
        StatusCode::OK,
        &[("job", job.as_ref().map_or(Field::Null, job_field))],
    ))
}

async fn job_state(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let (sub, asset_id) = agent(&state, &headers).await?;
    let id: i64 = id
        .parse()
        .map_err(|_| bad(format!("'{id}' is not a job id.")))?;
    let f = body_fields(&state, body).await?;
    let to = field(&f, "state")
        .and_then(ScanState::parse)
        .filter(|s| {
            matches!(
                s,
                ScanState::Running | ScanState::Completed | ScanState::Failed
            )
        })
        .ok_or_else(|| bad("'state' must be RUNNING, COMPLETED or FAILED."))?;
    let job = state
        .store
        .record_scan_result(sub, asset_id, id, to, jiff::Timestamp::now())
        .await?;
    Ok(answer(StatusCode::OK, &[("job", job_field(&job))]))
}

/// `POST /agent/v1/jobs/{id}/result`: completes a claimed job with its result, once.
async fn job_result(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let (sub, asset_id) = agent(&state, &headers).await?;
    let id: i64 = id
        .parse()
        .map_err(|_| bad(format!("'{id}' is not a job id.")))?;
    let bytes = body_bytes(&state, body).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("The body is not JSON: {e}")))?;
    xml_safe_json(&value, 0)?;
    let result = crate::agent_result::parse(&value).map_err(bad)?;
    let job = state
        .store
        .upload_scan_result(sub, asset_id, id, &result, jiff::Timestamp::now())
        .await?;
    Ok(answer(StatusCode::OK, &[("job", job_field(&job))]))
}
