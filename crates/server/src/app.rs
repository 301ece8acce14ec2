//! The router and the one path every QPS call takes.

use crate::auth::{Authenticator, TokenKey};
use crate::body::BodyError;
use crate::endpoint::{self, Endpoint};
use crate::error::ApiError;
use crate::format::{Format, request_format, response_format};
use crate::handlers::{self, Call};
use crate::limits::{Exceeded, LimitConfig, Limits, Usage};
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use openqps_store::Store;
use openqps_wire::tree::{parse_json, parse_xml};
use openqps_wire::{ResponseCode, ServiceRequest, ServiceResponse};
use std::sync::Arc;

#[derive(Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a request body may take to arrive (`--body-timeout`).
    pub body_timeout: std::time::Duration,
    /// `http` or `https`, for the schema URLs responses name.
    pub scheme: &'static str,
    /// Per-user rate and concurrency limits (both off by default).
    pub limits: LimitConfig,
    /// Signs the bearer tokens `POST /auth` issues. Processes that share a data folder must
    /// share it; the default is a random key of this process alone.
    pub token_key: TokenKey,
    /// A scan job no agent claims within this many seconds expires (`--scan-expiry`).
    pub scan_expiry_secs: i64,
    /// A claimed scan job not finished within this many seconds of its last move fails
    /// (`--scan-run-timeout`).
    pub scan_run_timeout_secs: i64,
}

/// 24 hours.
pub const DEFAULT_SCAN_EXPIRY_SECS: i64 = 24 * 60 * 60;
pub const DEFAULT_SCAN_RUN_TIMEOUT_SECS: i64 = 4 * 60 * 60;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 1 << 20,
            body_timeout: std::time::Duration::from_secs(30),
            scheme: "http",
            limits: LimitConfig::default(),
            token_key: TokenKey::random(),
            scan_expiry_secs: DEFAULT_SCAN_EXPIRY_SECS,
            scan_run_timeout_secs: DEFAULT_SCAN_RUN_TIMEOUT_SECS,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    pub limits: Arc<Limits>,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        AppState {
            auth: Arc::new(Authenticator::new(store.clone(), config.token_key.clone())),
            limits: Arc::new(Limits::new(config.limits)),
            store,
            config: Arc::new(config),
        }
    }

    /// The same state answering on another scheme (HTTP and HTTPS share store, tokens and
    /// limits; only the schema URLs differ).
    pub fn with_scheme(&self, scheme: &'static str) -> AppState {
        let mut config = (*self.config).clone();
        config.scheme = scheme;
        AppState {
            config: Arc::new(config),
            ..self.clone()
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/qps/rest/{*rest}", axum::routing::any(qps))
        .route("/qps/xsd/{*path}", axum::routing::any(xsd))
        .route("/msp/about.php", axum::routing::any(about))
        .route("/msp/about.php/", axum::routing::any(about))
        .route("/auth", axum::routing::any(issue_token))
        .route("/auth/", axum::routing::any(issue_token))
        .merge(crate::agent_api::routes())
        .fallback(not_qps)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Where the answer goes and in which form.
struct Reply {
    format: Format,
    base_url: String,
    schema: &'static str,
}

impl Reply {
    fn new(headers: &HeaderMap, config: &ServerConfig, schema: &'static str) -> Reply {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        Reply {
            format: response_format(headers),
            base_url: format!("{}://{host}", config.scheme),
            schema,
        }
    }

    fn send(&self, status: StatusCode, response: &ServiceResponse) -> Response {
        let (content_type, body) = match self.format {
            Format::Xml => (
                "application/xml",
                response.to_xml(&format!("{}/qps/xsd/{}", self.base_url, self.schema)),
            ),
            Format::Json => ("application/json", response.to_json()),
        };
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    }

    fn fail(&self, e: ApiError) -> Response {
        let mut response = ServiceResponse::error(e.code, e.message, e.resolution);
        if let Some(details) = response.error.as_mut() {
            details.resolution_cdata = e.resolution_cdata;
        }
        self.send(e.status, &response)
    }
}

async fn qps(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut reply = Reply::new(&headers, &state.config, endpoint::schema_hint(uri.path()));
    let user = match state.auth.authenticate(&headers).await {
        Ok(u) => u,
        Err(e) => return reply.fail(e),
    };
    let permit = match state.limits.acquire(user.id.0) {
        Ok(p) => p,
        Err(exceeded) => return limit_exceeded(&reply, exceeded),
    };
    let mut response = qps_call(&state, &mut reply, &user, method, &uri, &headers, body).await;
    with_usage(&mut response, &permit.usage);
    response
}

async fn qps_call(
    state: &AppState,
    reply: &mut Reply,
    user: &openqps_model::User,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let rest = uri.path().strip_prefix("/qps/rest/").unwrap_or_default();
    if rest.trim_matches('/') == "portal/version" {
        reply.schema = "portal/version.xsd";
        return reply.send(StatusCode::OK, &openqps_wire::platform::portal_version());
    }
    let endpoint = match endpoint::parse(rest) {
        Ok(e) => e,
        Err(e) => return reply.fail(e),
    };
    reply.schema = endpoint.object.schema();
    let params: Vec<(String, String)> = Query::try_from_uri(uri)
        .map(|Query(p)| p)
        .unwrap_or_default();
    let request = match read_request(
        &state.config,
        &method,
        headers,
        uri.query(),
        &endpoint,
        body,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return reply.fail(e),
    };
    let call = Call {
        user,
        endpoint: &endpoint,
        request,
        params: &params,
    };
    if endpoint.object == endpoint::Object::CdxSbom {
        return match handlers::sbom::download(state, call).await {
            Ok(doc) => (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/vnd.cyclonedx+json"),
                )],
                doc,
            )
                .into_response(),
            Err(e) => reply.fail(e),
        };
    }
    match handlers::dispatch(state, call).await {
        Ok(response) => reply.send(StatusCode::OK, &response),
        Err(e) => reply.fail(e),
    }
}

fn with_usage(response: &mut Response, usage: &Usage) {
    for (name, value) in usage.headers() {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
}

/// HTTP 409 with the Qualys limit texts (code 1965 for the rate, 1960 for concurrency) and the
/// headers that say how long to wait. The resolution also carries the limit in the markup of
/// Qualys' own limit answers (`<CODE>1965</CODE><TEXT>…</TEXT>`), as CDATA: qualysapi looks for
/// exactly that text to wait `X-RateLimit-ToWait-Sec` and retry.
fn limit_exceeded(reply: &Reply, exceeded: Exceeded) -> Response {
    let (usage, code, text, advice) = match exceeded {
        Exceeded::Rate(u) => (
            u,
            1965,
            format!(
                "This API cannot be run again for another {}.",
                wait_text(u.to_wait_secs)
            ),
            format!(
                "The rate limit of {} calls per {} seconds is spent; retry after X-RateLimit-ToWait-Sec ({}) seconds.",
                u.limit, u.window_secs, u.to_wait_secs
            ),
        ),
        Exceeded::Concurrency(u) => (
            u,
            1960,
            format!(
                "This API cannot be run again until {} currently running instance{} {} finished.",
                u.running,
                if u.running == 1 { "" } else { "s" },
                if u.running == 1 { "has" } else { "have" },
            ),
            format!(
                "At most {} calls may run at once for this user; retry when one has finished.",
                u.concurrency_limit
            ),
        ),
    };
    let error = ApiError::new(ResponseCode::OtherError, text.clone())
        .verbatim_resolution(format!(
            "{advice} Qualys: <CODE>{code}</CODE><TEXT>{text}</TEXT>"
        ))
        .status(StatusCode::CONFLICT);
    let mut response = reply.fail(error);
    with_usage(&mut response, &usage);
    response
}

/// "0 hours, 1 minutes and 5 seconds", the way Qualys words a wait.
fn wait_text(secs: u64) -> String {
    format!(
        "{} hours, {} minutes and {} seconds",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `/msp/about.php`: clients call it first to check credentials and read the limit headers.
/// Wrong credentials answer 401 (with an envelope), as a client must not take them for valid.
async fn about(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let reply = Reply::new(&headers, &state.config, "2.0/am/hostasset.xsd");
    let user = match state.auth.authenticate(&headers).await {
        Ok(u) => u,
        Err(e) => return unauthorized(reply.fail(e.status(StatusCode::UNAUTHORIZED))),
    };
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"))],
        openqps_wire::platform::about_xml(),
    )
        .into_response();
    with_usage(&mut response, &state.limits.peek(user.id.0));
    response
}

fn unauthorized(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"openqps\""),
    );
    response
}

/// `POST /auth` with the form fields `username`, `password` and `token=true`: 201 and a signed,
/// expiring token as the raw body, which QPS calls then accept as `Authorization: Bearer`.
async fn issue_token(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let reply = Reply::new(&headers, &state.config, "2.0/am/hostasset.xsd");
    let bytes = match crate::body::read(body, &state.config).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return reply.fail(
                ApiError::invalid("The request body is too large.")
                    .status(StatusCode::PAYLOAD_TOO_LARGE),
            );
        }
        Err(BodyError::Incomplete(message)) => {
            return reply.fail(ApiError::invalid(message));
        }
    };
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if !field("token").is_some_and(|t| t.eq_ignore_ascii_case("true")) {
        return reply.fail(
            ApiError::invalid("POST /auth needs the form field token=true.")
                .resolution(
                    "Send username, password and token=true as application/x-www-form-urlencoded.",
                )
                .status(StatusCode::BAD_REQUEST),
        );
    }
    let credentials = match (field("username"), field("password")) {
        (Some(u), Some(p)) => Some((u, p)),
        _ => crate::auth::basic_credentials(&headers),
    };
    let checked = match credentials {
        Some((u, p)) => state.auth.check_password_now(u, p).await,
        None => Err(
            ApiError::new(ResponseCode::InvalidCredentials, "Authentication failed")
                .resolution("Send the form fields username and password."),
        ),
    };
    match checked {
        Ok(user) => (
            StatusCode::CREATED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            state.auth.issue_token(&user, jiff::Timestamp::now()),
        )
            .into_response(),
        Err(e) if e.code == ResponseCode::InvalidCredentials => {
            unauthorized(reply.fail(e.status(StatusCode::UNAUTHORIZED)))
        }
        Err(e) => reply.fail(e),
    }
}

/// The `ServiceRequest` of a call: from the body (XML or JSON by `Content-Type`), or from XML
/// put into a GET query string, as qualysapi does for counts. Calls that take only an id ignore
/// their body, whatever it holds.
async fn read_request(
    config: &ServerConfig,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    endpoint: &Endpoint,
    body: Body,
) -> Result<ServiceRequest, ApiError> {
    let bytes = crate::body::read(body, config).await.map_err(|e| match e {
        BodyError::TooLarge => ApiError::invalid(format!(
            "The request body is larger than {} bytes.",
            config.body_limit
        ))
        .resolution("Send a smaller request, e.g. fewer ids per Criteria.")
        .status(StatusCode::PAYLOAD_TOO_LARGE),
        BodyError::Incomplete(message) => ApiError::invalid(message),
    })?;
    if handlers::ignores_body(endpoint) {
        return Ok(ServiceRequest::default());
    }
    if let Some(coding) = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        && !bytes.is_empty()
    {
        return Err(ApiError::invalid(format!(
            "The request body is sent with Content-Encoding: {coding}, which this server does not decode."
        ))
        .resolution("Send the ServiceRequest uncompressed."));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // The whole query string is the document: qualysapi leaves its `=` and `&` unescaped,
        // so it cannot be split into parameters first.
        let in_query = query
            .map(percent_decode)
            .filter(|q| q.trim_ascii_start().starts_with(b"<ServiceRequest"));
        return match in_query {
            Some(xml) if method == Method::GET => Ok(ServiceRequest::decode(&parse_xml(&xml)?)?),
            _ => Ok(ServiceRequest::default()),
        };
    }
    let parsed = match request_format(headers) {
        Format::Json => parse_json(&bytes).map_err(|e| {
            ApiError::new(ResponseCode::InvalidRequest, e.0)
                .resolution("Send {\"ServiceRequest\": {...}} as JSON.")
        }),
        Format::Xml => parse_xml(&bytes).map_err(ApiError::from),
    };
    match parsed {
        Ok(root) => Ok(ServiceRequest::decode(&root)?),
        // A GET carries no meaningful body; some clients send junk with it anyway.
        Err(_) if method == Method::GET => Ok(ServiceRequest::default()),
        Err(e) => Err(e),
    }
}

/// `%XX` escapes to bytes; everything else, `+` included, is kept as it is.
pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

async fn xsd(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches("/qps/xsd/");
    match openqps_wire::xsd::find(path) {
        Some(text) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"))],
            text,
        )
            .into_response(),
        None => Reply::new(&headers, &state.config, "2.0/am/hostasset.xsd").fail(
            ApiError::new(ResponseCode::NotFound, format!("No schema at /qps/xsd/{path}."))
                .status(StatusCode::NOT_FOUND)
                .resolution("Schemas: /qps/xsd/2.0/am/hostasset.xsd, 2.0/am/asset.xsd, 2.0/am/tag.xsd, 1.0/ca/agentasset.xsd, 3.0/was/webapp.xsd."),
        ),
    }
}

async fn not_qps(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    Reply::new(&headers, &state.config, endpoint::schema_hint(uri.path())).fail(
        ApiError::new(
            ResponseCode::InvalidUrl,
            format!("The URL {} is not a QPS API call.", uri.path()),
        )
        .resolution("QPS calls look like /qps/rest/2.0/search/am/hostasset."),
    )
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let response = ServiceResponse::error(
        ResponseCode::OtherError,
        "An internal error occurred.",
        Some("Retry the request; if it persists, check the server log.".into()),
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        )],
        response.to_xml("/qps/xsd/2.0/am/hostasset.xsd"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("%3Ca%20b=%22c%22%3E+%"), b"<a b=\"c\">+%");
        assert_eq!(percent_decode("%zz%4"), b"%zz%4");
    }
}
