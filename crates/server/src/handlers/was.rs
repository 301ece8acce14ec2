//! WAS web applications: `/qps/rest/3.0/…/was/webapp`.

use super::am::ids_response;
use super::{Call, one, page_response};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_query::fields::WEBAPP;
use openqps_wire::{ServiceResponse, objects};

pub async fn webapp(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(WEBAPP)?;
            let page = store.search_webapps(sub, &filter, call.page()).await?;
            let node = if call.request.preferences.verbose {
                objects::webapp
            } else {
                objects::webapp_summary
            };
            Ok(page_response(page, |w| w.id, node))
        }
        "count" => {
            let filter = call.filter(WEBAPP)?;
            Ok(ServiceResponse::count_only(
                store.count_webapps(sub, &filter).await?,
            ))
        }
        "get" => {
            let id = call.id()?;
            let app =
                store
                    .get_webapp(sub, id)
                    .await?
                    .ok_or(openqps_store::StoreError::NotFound {
                        object: "WebApp",
                        id,
                    })?;
            Ok(one(objects::webapp(&app)))
        }
        "delete" => {
            let remove = match call.param("action").map(str::trim) {
                None | Some("") => false,
                Some(a) if a.eq_ignore_ascii_case("removeFromSubscription") => true,
                Some(a) => {
                    return Err(ApiError::invalid(format!(
                        "Invalid value for parameter 'action' ({a})."
                    ))
                    .resolution("Values expected: removeFromSubscription."));
                }
            };
            let target = call.selector(WEBAPP)?;
            let ids = store.delete_webapps(sub, &target, remove).await?;
            Ok(ids_response("WebApp", &ids))
        }
        op => Err(ApiError::not_supported(op, "WebApp")),
    }
}
