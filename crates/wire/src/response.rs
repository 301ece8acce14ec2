//! The `ServiceResponse` envelope and the closed table of response codes.

use crate::node::{Node, keyed, write_xml};
use serde_json::{Map, Value as J};

/// Every `responseCode` openqps sends (the Qualys schema has a few more that it never needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    Success,
    InvalidRequest,
    InvalidXml,
    InvalidCredentials,
    InvalidApiVersion,
    InvalidUrl,
    NotFound,
    OperationNotSupported,
    Unauthorized,
    OtherError,
}

impl ResponseCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseCode::Success => "SUCCESS",
            ResponseCode::InvalidRequest => "INVALID_REQUEST",
            ResponseCode::InvalidXml => "INVALID_XML",
            ResponseCode::InvalidCredentials => "INVALID_CREDENTIALS",
            ResponseCode::InvalidApiVersion => "INVALID_API_VERSION",
            ResponseCode::InvalidUrl => "INVALID_URL",
            ResponseCode::NotFound => "NOT_FOUND",
            ResponseCode::OperationNotSupported => "OPERATION_NOT_SUPPORTED",
            ResponseCode::Unauthorized => "UNAUTHORIZED",
            ResponseCode::OtherError => "OTHER_ERROR",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetails {
    pub message: String,
    pub resolution: Option<String>,
    /// Write the resolution as CDATA, so markup in it reaches the client literally.
    pub resolution_cdata: bool,
}

/// What every QPS call answers. Fields are written in the recorded order: responseCode,
/// responseErrorDetails, count, hasMoreRecords, lastId, data.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceResponse {
    pub code: ResponseCode,
    pub error: Option<ErrorDetails>,
    pub count: Option<u64>,
    pub has_more_records: Option<bool>,
    pub last_id: Option<i64>,
    /// `None` omits `data` (counts). An empty list is left out of XML, as Qualys does for zero
    /// results, but written as `"data": []` in JSON, which JSON clients of the Tag API require.
    pub data: Option<Vec<Node>>,
}

impl ServiceResponse {
    pub fn success(data: Vec<Node>) -> ServiceResponse {
        ServiceResponse {
            code: ResponseCode::Success,
            error: None,
            count: Some(data.len() as u64),
            has_more_records: None,
            last_id: None,
            data: Some(data),
        }
    }

    pub fn count_only(count: u64) -> ServiceResponse {
        ServiceResponse {
            count: Some(count),
            data: None,
            ..ServiceResponse::success(Vec::new())
        }
    }

    pub fn error(
        code: ResponseCode,
        message: impl Into<String>,
        resolution: Option<String>,
    ) -> Self {
        ServiceResponse {
            code,
            error: Some(ErrorDetails {
                message: message.into(),
                resolution,
                resolution_cdata: false,
            }),
            count: None,
            has_more_records: None,
            last_id: None,
            data: None,
        }
    }

    /// The XML document; `schema_url` goes into `xsi:noNamespaceSchemaLocation`.
    pub fn to_xml(&self, schema_url: &str) -> String {
        let mut out = String::with_capacity(512);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str("<ServiceResponse xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"");
        out.push_str(&quick_xml::escape::escape(schema_url));
        out.push_str("\">\n");
        for node in self.head() {
            write_xml(&mut out, &node, 1);
        }
        if let Some(data) = self.data.as_ref().filter(|d| !d.is_empty()) {
            write_xml(&mut out, &Node::Elem("data", data.clone()), 1);
        }
        out.push_str("</ServiceResponse>\n");
        out
    }

    /// The JSON document: `data` is an array of single-key objects, booleans are strings.
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        for node in self.head() {
            if let J::Object(m) = keyed(&node) {
                map.extend(m);
            }
        }
        if let Some(data) = &self.data {
            map.insert("data".into(), J::Array(data.iter().map(keyed).collect()));
        }
        let mut root = Map::new();
        root.insert("ServiceResponse".into(), J::Object(map));
        J::Object(root).to_string()
    }

    fn head(&self) -> Vec<Node> {
        let mut head = vec![Node::text("responseCode", self.code.as_str())];
        if let Some(e) = &self.error {
            let mut d = vec![Node::text("errorMessage", e.message.clone())];
            match &e.resolution {
                Some(r) if e.resolution_cdata => d.push(Node::cdata("errorResolution", r.clone())),
                Some(r) => d.push(Node::text("errorResolution", r.clone())),
                None => {}
            }
            head.push(Node::Elem("responseErrorDetails", d));
        }
        if let Some(c) = self.count {
            head.push(Node::int("count", c as i64));
        }
        if let Some(h) = self.has_more_records {
            head.push(Node::bool("hasMoreRecords", h));
        }
        if let Some(l) = self.last_id {
            head.push(Node::int("lastId", l));
        }
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_results_have_count_and_no_data() {
        let r = ServiceResponse::success(Vec::new());
        let xml = r.to_xml("http://h/qps/xsd/2.0/am/hostasset.xsd");
        assert!(xml.contains("<count>0</count>"));
        assert!(!xml.contains("<data"));
        assert_eq!(
            r.to_json(),
            r#"{"ServiceResponse":{"responseCode":"SUCCESS","count":0,"data":[]}}"#
        );
    }

    #[test]
    fn json_data_is_an_array_of_single_key_objects() {
        let mut r = ServiceResponse::success(vec![Node::Elem(
            "HostAsset",
            vec![
                Node::int("id", 7),
                Node::list(
                    "tags",
                    vec![Node::Elem("TagSimple", vec![Node::int("id", 1)])],
                ),
            ],
        )]);
        r.has_more_records = Some(false);
        assert_eq!(
            r.to_json(),
            r#"{"ServiceResponse":{"responseCode":"SUCCESS","count":1,"hasMoreRecords":"false","data":[{"HostAsset":{"id":7,"tags":{"list":[{"TagSimple":{"id":1}}]}}}]}}"#
        );
    }

    #[test]
    fn xml_escapes_text_and_splits_cdata() {
        let r = ServiceResponse::success(vec![Node::Elem(
            "WebApp",
            vec![Node::text("os", "a<b&c"), Node::cdata("name", "x]]>y")],
        )]);
        let xml = r.to_xml("u");
        assert!(xml.contains("<os>a&lt;b&amp;c</os>"));
        assert!(xml.contains("<name><![CDATA[x]]]]><![CDATA[>y]]></name>"));
    }
}
