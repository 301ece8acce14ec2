//! Cloud Agent on-demand scans: `/qps/rest/1.0/ods/ca/agentasset[/{id}]?scan=…`.

use super::{Call, one};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_model::ScanType;
use openqps_query::fields::HOSTASSET;
use openqps_store::ScanRequest;
use openqps_wire::{ServiceResponse, objects};

pub async fn agent_asset(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    if call.endpoint.operation != "ods" {
        return Err(ApiError::not_supported(
            &call.endpoint.operation,
            "AgentAsset",
        ));
    }
    for name in ["scan", "overrideConfigCpu"] {
        if call
            .params
            .iter()
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .count()
            > 1
        {
            return Err(ApiError::invalid(format!(
                "The parameter '{name}' is given more than once."
            ))
            .resolution(format!(
                "Give '{name}' once; launch one scan type per request."
            )));
        }
    }
    let scan = scan_type(call.param("scan"))?;
    let override_config_cpu = match call.param("overrideConfigCpu").map(str::trim) {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(
                ApiError::invalid(format!("Invalid value for overrideConfigCpu ({v})."))
                    .resolution("Values expected: true, false."),
            );
        }
    };
    let target = call.selector(HOSTASSET)?;
    let request = ScanRequest {
        scan,
        override_config_cpu,
        requested_by: call.user.id,
        at: jiff::Timestamp::now(),
    };
    let accepted = state
        .store
        .launch_scans(call.user.subscription, &target, request)
        .await?;
    Ok(one(objects::single_module_response(scan, &accepted)))
}

fn scan_type(value: Option<&str>) -> Result<ScanType, ApiError> {
    let expected = || {
        format!(
            "Values expected: {}.",
            ScanType::ALL.map(|s| s.value()).join(", ")
        )
    };
    match value.map(str::trim) {
        None | Some("") => {
            Err(ApiError::invalid("The parameter 'scan' is mandatory.").resolution(expected()))
        }
        Some(v) => ScanType::parse(v).ok_or_else(|| {
            ApiError::invalid(format!("Invalid value for parameter 'scan' ({v})."))
                .resolution(expected())
        }),
    }
}
