//! `POST /qps/rest/1.0/download/ca/downloadcdxsbom/`: the SwCA components of an asset as a
//! CycloneDX SBOM (JSON), spec version 1.4 or 1.6. The document is built here with serde_json
//! (see docs/compatibility.md for why no CycloneDX crate).

use super::Call;
use crate::app::AppState;
use crate::error::ApiError;
use openqps_store::{SwCaResult, SwComponent};
use openqps_wire::ResponseCode;
use serde_json::{Value, json};

/// The CycloneDX spec versions Qualys accepts in `cdxschemaversion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdxVersion {
    V1_4,
    V1_6,
}

impl CdxVersion {
    fn parse(s: &str) -> Option<CdxVersion> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CYCLONE_DX_1_4" => Some(CdxVersion::V1_4),
            "CYCLONE_DX_1_6" => Some(CdxVersion::V1_6),
            _ => None,
        }
    }

    fn spec(self) -> &'static str {
        match self {
            CdxVersion::V1_4 => "1.4",
            CdxVersion::V1_6 => "1.6",
        }
    }
}

/// Decodes `data/DownloadCDXSbom{assetId, cdxschemaversion}` and answers the SBOM document.
pub async fn download(state: &AppState, call: Call<'_>) -> Result<String, ApiError> {
    if call.endpoint.operation != "download" {
        return Err(ApiError::not_supported(
            &call.endpoint.operation,
            "DownloadCDXSbom",
        ));
    }
    let usage = || "Send <ServiceRequest><data><DownloadCDXSbom><assetId>…</assetId><cdxschemaversion>CYCLONE_DX_1_4 or CYCLONE_DX_1_6</cdxschemaversion></DownloadCDXSbom></data></ServiceRequest>.";
    let data = call.request.data.as_ref();
    let obj = data
        .and_then(|d| {
            if d.name == "DownloadCDXSbom" {
                Some(d)
            } else {
                d.child("DownloadCDXSbom")
            }
        })
        .ok_or_else(|| {
            ApiError::invalid("The request has no data/DownloadCDXSbom.").resolution(usage())
        })?;
    super::refuse_repeats(obj)?;
    let asset_text = obj
        .child("assetId")
        .map(|e| e.text.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid("'assetId' is required.").resolution(usage()))?;
    let asset_id: i64 = asset_text.parse().map_err(|_| {
        ApiError::invalid(format!("'{asset_text}' is not a valid assetId."))
            .resolution("Ids are whole numbers (Long).")
    })?;
    let version_text = obj
        .child("cdxschemaversion")
        .map(|e| e.text.trim())
        .filter(|t| !t.is_empty())
        .unwrap_or("CYCLONE_DX_1_4");
    let version = CdxVersion::parse(version_text).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid value for cdxschemaversion ({version_text})."
        ))
        .resolution("Values expected: CYCLONE_DX_1_4, CYCLONE_DX_1_6.")
    })?;
    let sub = call.user.subscription;
    let host = state
        .store
        .get_host_asset(sub, asset_id)
        .await?
        .ok_or(ApiError::new(
            ResponseCode::NotFound,
            format!("HostAsset with id {asset_id} was not found."),
        ))?;
    let result = state.store.swca_result(sub, asset_id).await?.ok_or_else(|| {
        ApiError::new(
            ResponseCode::NotFound,
            format!("Asset {asset_id} has no software composition (SwCA) results."),
        )
        .resolution(
            "Run a SwCA scan on the agent (ods/ca/agentasset?scan=SWCA_SCAN) and download once it has completed.",
        )
    })?;
    let serial = uuid_v4().map_err(|_| ApiError::internal())?;
    let doc = document(version, &host.name, asset_id, &result, &serial);
    serde_json::to_string_pretty(&doc).map_err(|_| ApiError::internal())
}

fn uuid_v4() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn bom_ref(c: &SwComponent, i: usize) -> String {
    c.purl.clone().unwrap_or_else(|| match &c.version {
        Some(v) => format!("{}@{v}#{i}", c.name),
        None => format!("{}#{i}", c.name),
    })
}

/// The CycloneDX JSON document. 1.4 lists `metadata.tools` as an array of tools; 1.6 as
/// `{"components": [...]}` (the array form is deprecated there).
pub fn document(
    version: CdxVersion,
    host_name: &str,
    asset_id: i64,
    result: &SwCaResult,
    serial: &str,
) -> Value {
    let tool_version = env!("CARGO_PKG_VERSION");
    let tools = match version {
        CdxVersion::V1_4 => {
            json!([{"vendor": "openqps", "name": "openqps", "version": tool_version}])
        }
        CdxVersion::V1_6 => {
            json!({"components": [{"type": "application", "author": "openqps", "name": "openqps", "version": tool_version}]})
        }
    };
    let mut seen = std::collections::HashSet::new();
    let components: Vec<Value> = result
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut r = bom_ref(c, i);
            if !seen.insert(r.clone()) {
                r = format!("{r}#{i}");
                seen.insert(r.clone());
            }
            let mut o = json!({"type": "library", "bom-ref": r, "name": c.name});
            if let Some(v) = &c.version {
                o["version"] = json!(v);
            }
            if let Some(p) = &c.purl {
                o["purl"] = json!(p);
            }
            let mut props = Vec::new();
            if let Some(e) = &c.ecosystem {
                props.push(json!({"name": "openqps:ecosystem", "value": e}));
            }
            if let Some(p) = &c.path {
                props.push(json!({"name": "openqps:path", "value": p}));
            }
            if !props.is_empty() {
                o["properties"] = Value::Array(props);
            }
            o
        })
        .collect();
    json!({
        "$schema": format!("http://cyclonedx.org/schema/bom-{}.schema.json", version.spec()),
        "bomFormat": "CycloneDX",
        "specVersion": version.spec(),
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": openqps_wire::node::format_time(result.uploaded_at),
            "tools": tools,
            "component": {
                "type": "device",
                "bom-ref": format!("asset-{asset_id}"),
                "name": host_name,
            },
            "properties": [{"name": "openqps:swcaJobId", "value": result.job_id.to_string()}],
        },
        "components": components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_1_4_and_1_6() {
        let result = SwCaResult {
            job_id: 7,
            uploaded_at: "2026-01-02T03:04:05Z".parse().unwrap(),
            components: vec![SwComponent {
                name: "serde".into(),
                version: Some("1.0.200".into()),
                purl: Some("pkg:cargo/serde@1.0.200".into()),
                ecosystem: Some("cargo".into()),
                path: Some("/srv/Cargo.lock".into()),
            }],
        };
        let d = document(
            CdxVersion::V1_4,
            "build-01",
            42,
            &result,
            "00000000-0000-4000-8000-000000000000",
        );
        let want: Value = serde_json::from_str(
            r#"{"$schema":"http://cyclonedx.org/schema/bom-1.4.schema.json","bomFormat":"CycloneDX","specVersion":"1.4",
            "serialNumber":"urn:uuid:00000000-0000-4000-8000-000000000000","version":1,
            "metadata":{"timestamp":"2026-01-02T03:04:05Z","tools":[{"vendor":"openqps","name":"openqps","version":"0.1.0"}],
              "component":{"type":"device","bom-ref":"asset-42","name":"build-01"},
              "properties":[{"name":"openqps:swcaJobId","value":"7"}]},
            "components":[{"type":"library","bom-ref":"pkg:cargo/serde@1.0.200","name":"serde","version":"1.0.200",
              "purl":"pkg:cargo/serde@1.0.200","properties":[{"name":"openqps:ecosystem","value":"cargo"},{"name":"openqps:path","value":"/srv/Cargo.lock"}]}]}"#,
        )
        .unwrap();
        assert_eq!(d, want);
        let d = document(
            CdxVersion::V1_6,
            "build-01",
            42,
            &result,
            "00000000-0000-4000-8000-000000000000",
        );
        assert_eq!(d["specVersion"], "1.6");
        assert_eq!(d["metadata"]["tools"]["components"][0]["name"], "openqps");
    }
}
