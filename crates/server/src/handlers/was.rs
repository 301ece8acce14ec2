//! WAS web applications: `/qps/rest/3.0/…/was/webapp`.

use super::am::ids_response;
use super::was_input::{self, WebAppInput};
use super::{Call, one, page_response};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_model::{User, WebApp, WebAppDetails, WebAppOwner};
use openqps_query::fields::WEBAPP;
use openqps_wire::{ServiceResponse, objects};

fn owner(user: &User) -> WebAppOwner {
    WebAppOwner {
        id: user.id.0,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    }
}

/// The `WebApp` under `data`, decoded; `what` names the operation in the error.
fn input(call: &Call<'_>, what: &str) -> Result<WebAppInput, ApiError> {
    let data = call.request.data_object("WebApp")?.ok_or_else(|| {
        ApiError::invalid(format!("{what} needs <data><WebApp>…</WebApp></data>."))
            .resolution("Put the WebApp to write under <data>.")
    })?;
    was_input::decode(data)
}

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
        "create" => {
            if call.endpoint.id.is_some() {
                return Err(
                    ApiError::invalid("create on WebApp takes no id in the URL.")
                        .resolution("POST to /qps/rest/3.0/create/was/webapp."),
                );
            }
            let input = input(&call, "create")?;
            let (app, tags) = new_webapp(call.user, input)?;
            let created = store.create_webapp(sub, &app, &tags).await?;
            Ok(one(objects::webapp(&created)))
        }
        "update" => {
            let target = call.selector(WEBAPP)?;
            let input = input(&call, "update")?;
            if input.is_empty() {
                return Err(ApiError::invalid("The WebApp in data changes nothing.")
                    .resolution("Say what to change, e.g. <name>New name</name>."));
            }
            let ids = store
                .update_webapps(
                    sub,
                    &target,
                    &input.change,
                    &input.tags,
                    &owner(call.user),
                    jiff::Timestamp::now(),
                )
                .await?;
            Ok(ids_response("WebApp", &ids))
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
        "purge" => {
            let target = call.selector(WEBAPP)?;
            let ids = store.purge_webapps(sub, &target).await?;
            Ok(ids_response("WebApp", &ids))
        }
        op => Err(ApiError::not_supported(op, "WebApp")),
    }
}

/// A new web app from a create body: `name` and `url` are required; the caller owns it.
fn new_webapp(user: &User, input: WebAppInput) -> Result<(WebApp, Vec<i64>), ApiError> {
    let c = &input.change;
    let missing = match (&c.name, &c.url) {
        (None, _) => Some("name"),
        (_, None) => Some("url"),
        _ => None,
    };
    if let Some(field) = missing {
        return Err(ApiError::invalid(format!(
            "WebApp {field}: this element is required to create a web application."
        ))
        .resolution("Give the new WebApp at least <name> and <url>."));
    }
    if !input.tags.remove.is_empty() {
        return Err(
            ApiError::invalid("WebApp tags: remove has no meaning on create.")
                .resolution("Give the tags of a new WebApp with set or add."),
        );
    }
    let me = owner(user);
    let now = jiff::Timestamp::now();
    let now = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let mut app = WebApp {
        id: 0,
        name: String::new(),
        url: String::new(),
        os: None,
        owner: me.clone(),
        scope: "ALL".to_string(),
        tags: Vec::new(),
        created: now,
        updated: now,
        is_scheduled: false,
        details: WebAppDetails {
            created_by: Some(me.clone()),
            ..WebAppDetails::default()
        },
    };
    c.apply(&mut app, &me, now);
    let mut tags: Vec<i64> = input
        .tags
        .set
        .iter()
        .flatten()
        .chain(&input.tags.add)
        .copied()
        .collect();
    tags.sort_unstable();
    tags.dedup();
    Ok((app, tags))
}
