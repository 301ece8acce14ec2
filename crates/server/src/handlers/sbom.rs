//! `POST /qps/rest/1.0/download/ca/downloadcdxsbom/`: the SwCA components of an asset as a
//! CycloneDX SBOM (JSON), spec version 1.4 or 1.6, written by `openqps-sbom`.

use super::Call;
use crate::app::AppState;
use crate::error::ApiError;
use openqps_sbom::{SpecVersion, Subject};
use openqps_wire::ResponseCode;

/// The CycloneDX versions Qualys offers in `cdxschemaversion`.
fn parse_version(s: &str) -> Option<SpecVersion> {
    match s.trim().to_ascii_uppercase().as_str() {
        "CYCLONE_DX_1_4" => Some(SpecVersion::V1_4),
        "CYCLONE_DX_1_6" => Some(SpecVersion::V1_6),
        _ => None,
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
    let version = parse_version(version_text).ok_or_else(|| {
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
    let serial = uuid::Uuid::new_v4().to_string();
    let subject = Subject {
        name: &host.name,
        bom_ref: &format!("asset-{asset_id}"),
        serial: &serial,
        timestamp: &openqps_wire::node::format_time(result.uploaded_at),
        tool: "openqps",
        properties: &[("openqps:swcaJobId", result.job_id.to_string())],
    };
    let doc = openqps_sbom::write(version, &subject, &result.components).map_err(|e| {
        tracing::error!(asset_id, error = %e, "SBOM not written");
        ApiError::internal()
    })?;
    serde_json::to_string_pretty(&doc).map_err(|_| ApiError::internal())
}
