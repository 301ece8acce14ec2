//! Reading a request body under the size limit, telling a body that is too large from one that
//! broke off before its announced length.

use axum::body::{Body, Bytes};

pub enum BodyError {
    /// Over `body_limit` bytes: 413.
    TooLarge,
    /// The client stopped sending (or the connection failed) before the body was complete: 400.
    Incomplete,
}

pub async fn read(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.into_inner()
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            BodyError::TooLarge
        } else {
            BodyError::Incomplete
        }
    })
}

/// The message for a body that broke off.
pub const INCOMPLETE: &str =
    "The request body ended before its announced length (Content-Length) was sent.";
