//! Content negotiation: the request format follows `Content-Type`, the response format follows
//! `Accept`, independently (an XML request may ask for JSON back).

use axum::http::{HeaderMap, header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

fn mentions_json(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"))
}

/// A missing or unknown `Content-Type` is XML: several clients send none.
pub fn request_format(headers: &HeaderMap) -> Format {
    if mentions_json(headers, header::CONTENT_TYPE) {
        Format::Json
    } else {
        Format::Xml
    }
}

/// JSON only when asked for; `text/xml`, `*/*` or nothing get XML.
pub fn response_format(headers: &HeaderMap) -> Format {
    if mentions_json(headers, header::ACCEPT) {
        Format::Json
    } else {
        Format::Xml
    }
}
