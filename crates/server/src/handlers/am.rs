//! Asset Management: `/qps/rest/2.0/…/am/hostasset` and `/am/asset`.

use super::{Call, one, page_response};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_query::fields::{ASSET, HOSTASSET};
use openqps_store::{HostAssetChange, TagChanges};
use openqps_wire::objects;
use openqps_wire::request::decode_id_collection;
use openqps_wire::tree::Element;
use openqps_wire::{Node, ServiceResponse};

pub async fn host_asset(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(HOSTASSET)?;
            let page = store.search_host_assets(sub, &filter, call.page()).await?;
            Ok(page_response(page, |h| h.id, objects::host_asset))
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
            Ok(one(objects::host_asset(&host)))
        }
        "update" => {
            let target = call.selector(HOSTASSET)?;
            let change = host_change(call.request.data_object("HostAsset")?)?;
            let ids = store
                .update_host_assets(sub, &target, &change, jiff::Timestamp::now())
                .await?;
            Ok(ids_response("HostAsset", &ids))
        }
        op => Err(ApiError::not_supported(op, "HostAsset")),
    }
}

pub async fn asset(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(ASSET)?;
            let page = store.search_assets(sub, &filter, call.page()).await?;
            Ok(page_response(page, |a| a.id, objects::asset))
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

/// The fields of a HostAsset update body that this server can change.
fn host_change(data: Option<&Element>) -> Result<HostAssetChange, ApiError> {
    let data = data.ok_or_else(|| {
        ApiError::invalid("update needs <data><HostAsset>…</HostAsset></data>.").resolution(
            "Say what to change, e.g. <tags><add><TagSimple><id>1</id></TagSimple></add></tags>.",
        )
    })?;
    let mut change = HostAssetChange::default();
    for el in &data.children {
        match el.name.as_str() {
            "tags" => {
                let ops = decode_id_collection(el, "TagSimple", "tags")?;
                change.tags = TagChanges {
                    set: ops.set,
                    add: ops.add,
                    remove: ops.remove,
                };
            }
            "name" => {
                let name = el.text.trim();
                if name.is_empty() {
                    return Err(ApiError::invalid("HostAsset name cannot be empty."));
                }
                change.name = Some(name.to_string());
            }
            "criticalityScore" => {
                let score = el
                    .text
                    .trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|s| (1..=5).contains(s))
                    .ok_or_else(|| {
                        ApiError::invalid(format!(
                            "HostAsset criticalityScore must be a whole number from 1 to 5 (got '{}').",
                            el.text.trim()
                        ))
                    })?;
                change.criticality_score = Some(score);
            }
            "id" | "created" | "modified" | "type" | "qwebHostId" | "trackingMethod" => {
                return Err(ApiError::invalid(format!(
                    "{}: An error occurred while validating the element; it is read-only.",
                    el.name
                ))
                .resolution("Leave read-only elements out of create and update requests."));
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "HostAsset element <{other}> cannot be updated by this server."
                ))
                .resolution(
                    "See docs/compatibility.md for the HostAsset fields openqps updates.",
                ));
            }
        }
    }
    if change == HostAssetChange::default() {
        return Err(ApiError::invalid("The HostAsset in data changes nothing.")
            .resolution("Say what to change, e.g. <tags><add><TagSimple><id>1</id></TagSimple></add></tags>."));
    }
    Ok(change)
}
