//! QPS paths to typed endpoints: `/qps/rest/{version}/{operation}/{module}/{object}[/{id}]`.

use crate::error::ApiError;
use openqps_wire::ResponseCode;

/// The objects openqps knows, with the API version and schema each lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    HostAsset,
    Asset,
    Tag,
    AgentAsset,
    AgentActKey,
    AgentConfig,
    CdxSbom,
    WebApp,
}

impl Object {
    fn parse(module: &str, object: &str) -> Option<Object> {
        match (module, object) {
            ("am", "hostasset") => Some(Object::HostAsset),
            ("am", "asset") => Some(Object::Asset),
            ("am", "tag") => Some(Object::Tag),
            ("ca", "agentasset") => Some(Object::AgentAsset),
            ("ca", "agentactkey") => Some(Object::AgentActKey),
            ("ca", "agentconfig") => Some(Object::AgentConfig),
            ("ca", "downloadcdxsbom") => Some(Object::CdxSbom),
            ("was", "webapp") => Some(Object::WebApp),
            _ => None,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Object::HostAsset | Object::Asset | Object::Tag => "2.0",
            Object::AgentAsset | Object::AgentActKey | Object::AgentConfig | Object::CdxSbom => {
                "1.0"
            }
            Object::WebApp => "3.0",
        }
    }

    /// The schema path under `/qps/xsd/` that responses about this object name.
    pub fn schema(self) -> &'static str {
        match self {
            Object::HostAsset => "2.0/am/hostasset.xsd",
            Object::Asset => "2.0/am/asset.xsd",
            Object::Tag => "2.0/am/tag.xsd",
            Object::AgentAsset => "1.0/ca/agentasset.xsd",
            Object::AgentActKey => "1.0/ca/agentactkey.xsd",
            Object::AgentConfig => "1.0/ca/agentconfig.xsd",
            // No schema of its own: its answer is a CycloneDX document; errors name agentasset.
            Object::CdxSbom => "1.0/ca/agentasset.xsd",
            Object::WebApp => "3.0/was/webapp.xsd",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Object::HostAsset => "HostAsset",
            Object::Asset => "Asset",
            Object::Tag => "Tag",
            Object::AgentAsset => "AgentAsset",
            Object::AgentActKey => "AgentActKey",
            Object::AgentConfig => "AgentConfig",
            Object::CdxSbom => "DownloadCDXSbom",
            Object::WebApp => "WebApp",
        }
    }
}

/// A routed QPS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub operation: String,
    pub object: Object,
    pub id: Option<i64>,
}

/// The schema to name in an error about `path`, when the path says which object it is about.
pub fn schema_hint(path: &str) -> &'static str {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    segs.windows(2)
        .find_map(|w| Object::parse(w[0], w[1]))
        .map(Object::schema)
        .unwrap_or("2.0/am/hostasset.xsd")
}

/// Parses the part of the path after `/qps/rest/`. A trailing `/` is accepted everywhere.
pub fn parse(rest: &str) -> Result<Endpoint, ApiError> {
    // Segments are percent-decoded as HTTP paths are (`/get/am/hostasset/%31%39…` is an id).
    let decoded: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(&crate::app::percent_decode(s)).into_owned())
        .collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let invalid_url = || {
        ApiError::new(
            ResponseCode::InvalidUrl,
            format!("The URL /qps/rest/{rest} is not a QPS API call."),
        )
        .resolution("QPS calls look like /qps/rest/2.0/search/am/hostasset.")
    };
    let [version, operation, module, object, tail @ ..] = segs.as_slice() else {
        return Err(invalid_url());
    };
    if *operation == "qps" || tail.first() == Some(&"qps") {
        // A client that prefixed the full path twice (qualysapi #91).
        return Err(ApiError::new(
            ResponseCode::InvalidApiVersion,
            format!(
                "API version {version} does not support the call '{}'.",
                segs[1..].join("/")
            ),
        )
        .resolution("Send the path once: /qps/rest/<version>/<operation>/<module>/<object>."));
    }
    let obj = Object::parse(module, object).ok_or_else(invalid_url)?;
    if *version != obj.version() {
        return Err(ApiError::new(
            ResponseCode::InvalidApiVersion,
            format!(
                "API version {version} does not support objects of type {module}/{object}; use version {}.",
                obj.version()
            ),
        ));
    }
    let id = match tail {
        [] => None,
        [id] => Some(id.parse::<i64>().map_err(|_| {
            ApiError::new(
                ResponseCode::InvalidRequest,
                format!("'{id}' is not a valid id for {}.", obj.name()),
            )
            .resolution("Ids are whole numbers (Long).")
        })?),
        _ => return Err(invalid_url()),
    };
    Ok(Endpoint {
        operation: operation.to_string(),
        object: obj,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_with_and_without_trailing_slash() {
        let a = parse("2.0/search/am/hostasset/").unwrap();
        let b = parse("2.0/search/am/hostasset").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse("1.0/ods/ca/agentasset/42").unwrap().id, Some(42));
        // Percent-encoded segments read as their characters, once.
        assert_eq!(
            parse("2.0/get/am/hostasset/%31%39059310").unwrap().id,
            Some(19059310)
        );
        assert_eq!(
            parse("2.0/%73earch/am/hostasset").unwrap().operation,
            "search"
        );
        assert!(parse("2.0/get/am/hostasset/%2531").is_err());
    }

    #[test]
    fn rejects_doubled_and_wrong_versions() {
        let e = parse("2.0/qps/rest/2.0/search/am/hostasset").unwrap_err();
        assert_eq!(e.code, ResponseCode::InvalidApiVersion);
        let e = parse("1.0/search/am/hostasset").unwrap_err();
        assert_eq!(e.code, ResponseCode::InvalidApiVersion);
        assert_eq!(
            parse("2.0/search/am/nothing").unwrap_err().code,
            ResponseCode::InvalidUrl
        );
        assert_eq!(
            parse("2.0/get/am/hostasset/abc").unwrap_err().code,
            ResponseCode::InvalidRequest
        );
    }
}
