//! The router and the one path every QPS call takes.

use crate::auth::Authenticator;
use crate::endpoint::{self, Endpoint};
use crate::error::ApiError;
use crate::format::{Format, request_format, response_format};
use crate::handlers::{self, Call};
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use openqps_store::Store;
use openqps_wire::tree::{parse_json, parse_xml};
use openqps_wire::{ResponseCode, ServiceRequest, ServiceResponse};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// `http` or `https`, for the schema URLs responses name.
    pub scheme: &'static str,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 1 << 20,
            scheme: "http",
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        AppState {
            auth: Arc::new(Authenticator::new(store.clone())),
            store,
            config: Arc::new(config),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/qps/rest/{*rest}", axum::routing::any(qps))
        .route("/qps/xsd/{*path}", axum::routing::any(xsd))
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
        let response = ServiceResponse::error(e.code, e.message, e.resolution);
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
    let path = uri.path();
    let rest = path.strip_prefix("/qps/rest/").unwrap_or_default();
    let mut reply = Reply::new(&headers, &state.config, endpoint::schema_hint(path));
    let user = match state.auth.authenticate(&headers).await {
        Ok(u) => u,
        Err(e) => return reply.fail(e),
    };
    let endpoint = match endpoint::parse(rest) {
        Ok(e) => e,
        Err(e) => return reply.fail(e),
    };
    reply.schema = endpoint.object.schema();
    let params: Vec<(String, String)> = Query::try_from_uri(&uri)
        .map(|Query(p)| p)
        .unwrap_or_default();
    let request =
        match read_request(&state.config, &method, &headers, &params, &endpoint, body).await {
            Ok(r) => r,
            Err(e) => return reply.fail(e),
        };
    let call = Call {
        user: &user,
        endpoint: &endpoint,
        request,
        params: &params,
    };
    match handlers::dispatch(&state, call).await {
        Ok(response) => reply.send(StatusCode::OK, &response),
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
    params: &[(String, String)],
    endpoint: &Endpoint,
    body: Body,
) -> Result<ServiceRequest, ApiError> {
    let bytes = axum::body::to_bytes(body, config.body_limit)
        .await
        .map_err(|_| {
            ApiError::invalid(format!(
                "The request body is larger than {} bytes.",
                config.body_limit
            ))
            .resolution("Send a smaller request, e.g. fewer ids per Criteria.")
            .status(StatusCode::PAYLOAD_TOO_LARGE)
        })?;
    if handlers::ignores_body(endpoint) {
        return Ok(ServiceRequest::default());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let in_query = params
            .iter()
            .find(|(k, _)| k.trim_start().starts_with("<ServiceRequest"));
        return match in_query {
            Some((xml, _)) if method == Method::GET => {
                Ok(ServiceRequest::decode(&parse_xml(xml.as_bytes())?)?)
            }
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
