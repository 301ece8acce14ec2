//! Cloud Agent on-demand scans: `/qps/rest/1.0/ods/ca/agentasset[/{id}]?scan=…`.

use super::{Call, one};
use crate::app::AppState;
use crate::endpoint::Object;
use crate::error::ApiError;
use openqps_model::{Module, ScanType};
use openqps_query::Operator;
use openqps_query::fields::{ASSET, HOSTASSET};
use openqps_store::{ModuleAction, ScanRequest, Selector};
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
        expires_after_secs: state.config.scan_expiry_secs,
        run_timeout_secs: state.config.scan_run_timeout_secs,
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

/// `activate` and `deactivate` on `/qps/rest/2.0/…/am/asset[/{id}]?module=…`.
pub async fn modules(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let action = match call.endpoint.operation.as_str() {
        "activate" => ModuleAction::Activate,
        _ => ModuleAction::Deactivate,
    };
    let modules = module_list(call.param("module"))?;
    let target = call.selector(ASSET)?;
    let assets = state
        .store
        .change_agent_modules(
            call.user.subscription,
            &target,
            action,
            &modules,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(ServiceResponse::success(
        assets.iter().map(objects::asset).collect(),
    ))
}

/// `uninstall` on `/qps/rest/2.0/uninstall/am/asset[/{id}]` (answers `Asset/id`) and
/// `/am/hostasset[/{id}]` (answers `HostAsset/id`).
pub async fn uninstall(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let (object, ids) = match call.endpoint.object {
        Object::HostAsset => {
            let target = call.selector(HOSTASSET)?;
            refuse_not_equals(&target)?;
            (
                "HostAsset",
                state.store.uninstall_agent_hosts(sub, &target).await?,
            )
        }
        _ => {
            let target = call.selector(ASSET)?;
            refuse_not_equals(&target)?;
            ("Asset", state.store.uninstall_agents(sub, &target).await?)
        }
    };
    Ok(super::am::ids_response(object, &ids))
}

/// Qualys refuses `NOT EQUALS` in uninstall filters (docs: bulk uninstallation).
fn refuse_not_equals<F>(target: &Selector<F>) -> Result<(), ApiError> {
    if let Selector::Filter(f) = target
        && f.conditions.iter().any(|c| c.op == Operator::NotEquals)
    {
        return Err(
            ApiError::invalid("The operator 'NOT EQUALS' is not allowed for uninstall.")
                .resolution(
                    "Select the agents to uninstall with EQUALS, IN, CONTAINS, GREATER or LESSER.",
                ),
        );
    }
    Ok(())
}

/// The `module=` list: comma-separated names, spaces tolerated, any case; at least one.
fn module_list(value: Option<&str>) -> Result<Vec<Module>, ApiError> {
    let expected = || {
        format!(
            "Values expected (comma-separated): {}.",
            Module::ALL.map(|m| m.name()).join(", ")
        )
    };
    let names: Vec<&str> = value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(
            ApiError::invalid("The parameter 'module' is mandatory.").resolution(expected())
        );
    }
    let mut modules = Vec::new();
    for name in names {
        let m = Module::parse(name).ok_or_else(|| {
            ApiError::invalid(format!("Invalid module '{name}' in parameter 'module'."))
                .resolution(expected())
        })?;
        if !modules.contains(&m) {
            modules.push(m);
        }
    }
    Ok(modules)
}
