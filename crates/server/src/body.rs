//! Reading a request body under the size limit and in time, telling a body that is too large
//! from one that broke off before its announced length or stalled.

use crate::app::ServerConfig;
use axum::body::{Body, Bytes};

pub enum BodyError {
    /// Over `body_limit` bytes: 413.
    TooLarge,
    /// The client stopped sending, the connection failed, or the body did not arrive within
    /// `body_timeout`, before it was complete: 400 with this message.
    Incomplete(String),
}

pub async fn read(body: Body, config: &ServerConfig) -> Result<Bytes, BodyError> {
    // A Content-Length over the limit is refused before any byte is waited for.
    if axum::body::HttpBody::size_hint(&body).lower() > config.body_limit as u64 {
        return Err(BodyError::TooLarge);
    }
    // Without a deadline a client that announces more than it sends (a wrong Content-Length)
    // would wait for its answer until its own job timed out.
    match tokio::time::timeout(
        config.body_timeout,
        axum::body::to_bytes(body, config.body_limit),
    )
    .await
    {
        Err(_) => Err(BodyError::Incomplete(format!(
            "The request body did not arrive within {} s; it may be shorter than its \
             Content-Length says.",
            config.body_timeout.as_secs()
        ))),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(
            if e.into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                BodyError::TooLarge
            } else {
                BodyError::Incomplete(
                    "The request body ended before its announced length (Content-Length) was sent."
                        .into(),
                )
            },
        ),
    }
}
