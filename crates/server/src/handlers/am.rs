//! Asset Management: `/qps/rest/2.0/…/am/hostasset` and `/am/asset`.

use super::host_input;
use super::{Call, one, page_response, shape};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_query::fields::{ASSET, HOSTASSET};
use openqps_wire::objects;
use openqps_wire::tree::Element;
use openqps_wire::{Node, ServiceResponse};

pub async fn host_asset(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(HOSTASSET)?;
            let fields = call.fields()?;
            let page = store.search_host_assets(sub, &filter, call.page()).await?;
            Ok(page_response(
                page,
                |h| h.id,
                |h| shape(objects::host_asset(h), &fields),
            ))
        }
        "count" => {
            let filter = call.filter(HOSTASSET)?;
            Ok(ServiceResponse::count_only(
                store.count_host_assets(sub, &filter).await?,
            ))
        }
        "get" => {
            let id = call.id()?;
            let host = store.get_host_asset(sub, id).await?.ok_or(
                openqps_store::StoreError::NotFound {
                    object: "HostAsset",
                    id,
                },
            )?;
            Ok(one(shape(objects::host_asset(&host), &call.fields()?)))
        }
        "create" => {
            let change = host_input::decode(host_data(&call)?)?;
            let host = host_input::new_host(&change)?;
            let stored = store
                .create_host_asset(sub, &host, jiff::Timestamp::now())
                .await?;
            Ok(one(objects::host_asset(&stored)))
        }
        "delete" => {
            let target = call.selector(HOSTASSET)?;
            let ids = store.delete_host_assets(sub, &target).await?;
            Ok(ids_response("HostAsset", &ids))
        }
        "update" => {
            let target = call.selector(HOSTASSET)?;
            let change = host_input::decode(host_data(&call)?)?;
            if change.is_empty() {
                return Err(ApiError::invalid("The HostAsset in data changes nothing.")
                    .resolution("Say what to change, e.g. <tags><add><TagSimple><id>1</id></TagSimple></add></tags>."));
            }
            let ids = store
                .update_host_assets(sub, &target, &change, jiff::Timestamp::now())
                .await?;
            Ok(ids_response("HostAsset", &ids))
        }
        "uninstall" => super::ca::uninstall(state, call).await,
        op => Err(ApiError::not_supported(op, "HostAsset")),
    }
}

pub async fn asset(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(ASSET)?;
            let fields = call.fields()?;
            let page = store.search_assets(sub, &filter, call.page()).await?;
            Ok(page_response(
                page,
                |a| a.id,
                |a| shape(objects::asset(a), &fields),
            ))
        }
        "count" => {
            let filter = call.filter(ASSET)?;
            Ok(ServiceResponse::count_only(
                store.count_assets(sub, &filter).await?,
            ))
        }
        "get" => {
            let id = call.id()?;
            let asset =
                store
                    .get_asset(sub, id)
                    .await?
                    .ok_or(openqps_store::StoreError::NotFound {
                        object: "Asset",
                        id,
                    })?;
            Ok(one(objects::asset(&asset)))
        }
        "update" => {
            let target = call.selector(ASSET)?;
            let data = call
                .request
                .data_object("Asset")?
                .ok_or_else(|| ApiError::invalid("update needs <data><Asset>…</Asset></data>."))?;
            let change = asset_change(data)?;
            let ids = store
                .update_assets(sub, &target, &change, jiff::Timestamp::now())
                .await?;
            Ok(ids_response("Asset", &ids))
        }
        "delete" => {
            let target = call.selector(ASSET)?;
            let ids = store.delete_assets(sub, &target).await?;
            Ok(ids_response("Asset", &ids))
        }
        "activate" | "deactivate" => super::ca::modules(state, call).await,
        "uninstall" => super::ca::uninstall(state, call).await,
        op => Err(ApiError::not_supported(op, "Asset")),
    }
}

pub(super) fn ids_response(object: &'static str, ids: &[i64]) -> ServiceResponse {
    ServiceResponse::success(
        ids.iter()
            .map(|id| objects::id_only(object, *id))
            .collect::<Vec<Node>>(),
    )
}

fn host_data<'a>(call: &'a Call<'_>) -> Result<&'a Element, ApiError> {
    call.request.data_object("HostAsset")?.ok_or_else(|| {
        ApiError::invalid(format!(
            "{} needs <data><HostAsset>…</HostAsset></data>.",
            call.endpoint.operation
        ))
        .resolution("Put the host's fields under data/HostAsset.")
    })
}

/// An `<Asset>` update: name, criticalityScore and tags, as the generic asset view allows. Read
/// here rather than by the HostAsset decoder, so that errors name the Asset.
fn asset_change(data: &Element) -> Result<openqps_store::AssetChange, ApiError> {
    super::refuse_repeats(data)?;
    let mut change = openqps_store::AssetChange::default();
    for el in &data.children {
        let v = el.text.trim();
        match el.name.as_str() {
            "name" if v.is_empty() => {
                return Err(ApiError::invalid("Asset name cannot be empty."));
            }
            "name" => change.name = Some(v.to_string()),
            "criticalityScore" => {
                change.criticality_score = Some(host_input::criticality_score("Asset", v)?)
            }
            "tags" => change.tags = host_input::tag_changes(el)?,
            other => {
                return Err(ApiError::invalid(format!(
                    "An Asset update changes name, criticalityScore and tags only, not <{other}>."
                ))
                .resolution("Change host details through update/am/hostasset."));
            }
        }
    }
    if change == openqps_store::AssetChange::default() {
        return Err(ApiError::invalid("The Asset in data changes nothing."));
    }
    Ok(change)
}
