//! Every failure becomes an [`ApiError`]: a response code from the closed table, a message a
//! person can act on, and the HTTP status (200 unless a house rule says otherwise).

use axum::http::StatusCode;
use openqps_model::Ineligible;
use openqps_query::CriteriaError;
use openqps_store::StoreError;
use openqps_wire::ResponseCode;
use openqps_wire::request::RequestError;
use openqps_wire::tree::SyntaxError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ResponseCode,
    pub message: String,
    pub resolution: Option<String>,
    /// Sent as CDATA: the resolution carries Qualys markup a client matches literally.
    pub resolution_cdata: bool,
    pub status: StatusCode,
}

impl ApiError {
    pub fn new(code: ResponseCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            resolution: None,
            resolution_cdata: false,
            // Qualys reports protocol errors inside a 200 (recorded traffic).
            status: StatusCode::OK,
        }
    }

    pub fn resolution(mut self, r: impl Into<String>) -> ApiError {
        self.resolution = Some(r.into());
        self
    }

    /// A resolution written as CDATA, markup and all.
    pub fn verbatim_resolution(mut self, r: impl Into<String>) -> ApiError {
        self.resolution = Some(r.into());
        self.resolution_cdata = true;
        self
    }

    pub fn status(mut self, s: StatusCode) -> ApiError {
        self.status = s;
        self
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ResponseCode::InvalidRequest, message)
    }

    pub fn not_supported(operation: &str, object: &str) -> ApiError {
        ApiError::new(
            ResponseCode::OperationNotSupported,
            format!("The operation '{operation}' is not supported for {object} by this server."),
        )
        .resolution("See docs/compatibility.md for the calls openqps serves.")
    }

    pub fn internal() -> ApiError {
        ApiError::new(ResponseCode::OtherError, "An internal error occurred.")
            .resolution("Retry the request; if it persists, check the server log.")
            .status(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<CriteriaError> for ApiError {
    fn from(e: CriteriaError) -> ApiError {
        ApiError::invalid(e.to_string()).resolution(e.resolution())
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> ApiError {
        ApiError::invalid(e.message).resolution(e.resolution)
    }
}

impl From<SyntaxError> for ApiError {
    fn from(e: SyntaxError) -> ApiError {
        ApiError::new(ResponseCode::InvalidXml, e.0)
            .resolution("Send a well-formed <ServiceRequest> document.")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { object, id } => ApiError::new(
                ResponseCode::NotFound,
                format!("{object} with id {id} was not found."),
            )
            .resolution("Check the id; it may belong to another subscription or be deleted."),
            StoreError::UnknownTag(id) => {
                ApiError::invalid(format!("Tag with id {id} does not exist."))
                    .resolution("Create the tag first, or use the id of an existing tag.")
            }
            StoreError::Ineligible { id, why } => ApiError::invalid(match why {
                Ineligible::NoAgent => {
                    format!("Asset {id} has no Cloud Agent; on-demand scans run on agents only.")
                }
                Ineligible::NoModule => {
                    format!("The agent of asset {id} has no activated module.")
                }
                Ineligible::ModuleNotActivated(m) => format!(
                    "The agent of asset {id} does not have the {} module activated, which this scan needs.",
                    m.name()
                ),
            })
            .resolution("Activate the module on the agent, or choose another scan."),
            StoreError::Refused { id, why } => match why {
                openqps_model::agent::ModuleRefusal::NoAgent => ApiError::invalid(format!(
                    "Asset {id} has no Cloud Agent; activate, deactivate and uninstall act on agents only."
                ))
                .resolution("Choose the id of a host asset tracked by a Cloud Agent."),
                why => ApiError::invalid(format!("Asset {id} cannot take this change: {why}."))
                    .resolution("Change the module list (see docs/compatibility.md, Cloud Agent modules)."),
            },
            StoreError::Conflict(msg) | StoreError::AgentRefused(msg) => ApiError::invalid(msg),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}
