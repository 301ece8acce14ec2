//! Cloud Agent administration objects of QPS 1.0: activation keys
//! (`/qps/rest/1.0/{search,get,count,create,update,delete}/ca/agentactkey`) and configuration
//! profiles (`/qps/rest/1.0/{search,get,create}/ca/agentconfig`).

use super::am::ids_response;
use super::{Call, one, page_response, shape};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_model::KeyType;
use openqps_model::agent::LICENSES;
use openqps_query::fields::{AGENTACTKEY, AGENTCONFIG};
use openqps_store::{ActivationKeyFields, AgentConfigFields, StoreError};
use openqps_wire::tree::Element;
use openqps_wire::{ServiceResponse, objects};

pub async fn agent_act_key(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(AGENTACTKEY)?;
            let fields = call.fields()?;
            let page = store
                .search_activation_keys(sub, &filter, call.page())
                .await?;
            Ok(page_response(
                page,
                |k| k.id,
                |k| shape(objects::agent_act_key(k), &fields),
            ))
        }
        "count" => {
            let filter = call.filter(AGENTACTKEY)?;
            Ok(ServiceResponse::count_only(
                store.count_activation_keys(sub, &filter).await?,
            ))
        }
        "get" => {
            let id = call.id()?;
            let key = store
                .get_activation_key(sub, id)
                .await?
                .ok_or(StoreError::NotFound {
                    object: "AgentActKey",
                    id,
                })?;
            Ok(one(objects::agent_act_key(&key)))
        }
        "create" => {
            let fields = decode_key(call.request.data_object("AgentActKey")?)?;
            if fields.title.is_none() {
                return Err(ApiError::invalid("A new activation key needs a <title>.")
                    .resolution("Add <title>…</title> under data/AgentActKey."));
            }
            if fields.key_type.is_none() {
                return Err(
                    ApiError::invalid("A new activation key needs a <type>.").resolution(
                        "Give <type>COUNT_LIMITED</type> with <countPurchased>, or <type>UNLIMITED</type>.",
                    ),
                );
            }
            let key = store
                .create_activation_key(
                    sub,
                    &fields,
                    &uuid::Uuid::new_v4().to_string(),
                    jiff::Timestamp::now(),
                )
                .await?;
            Ok(one(objects::agent_act_key(&key)))
        }
        "update" => {
            let target = call.selector(AGENTACTKEY)?;
            let fields = decode_key(call.request.data_object("AgentActKey")?)?;
            if fields.is_empty() {
                return Err(
                    ApiError::invalid("The AgentActKey in data changes nothing.")
                        .resolution("Say what to change, e.g. <title>Linux servers</title>."),
                );
            }
            let ids = store.update_activation_keys(sub, &target, &fields).await?;
            Ok(ids_response("AgentActKey", &ids))
        }
        "delete" => {
            let target = call.selector(AGENTACTKEY)?;
            let ids = store.delete_activation_keys(sub, &target).await?;
            Ok(ids_response("AgentActKey", &ids))
        }
        op => Err(ApiError::not_supported(op, "AgentActKey")),
    }
}

pub async fn agent_config(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(AGENTCONFIG)?;
            let fields = call.fields()?;
            let page = store
                .search_agent_configs(sub, &filter, call.page())
                .await?;
            Ok(page_response(
                page,
                |c| c.id,
                |c| shape(objects::agent_config(c), &fields),
            ))
        }
        "get" => {
            let id = call.id()?;
            let config = store
                .get_agent_config(sub, id)
                .await?
                .ok_or(StoreError::NotFound {
                    object: "AgentConfig",
                    id,
                })?;
            Ok(one(shape(objects::agent_config(&config), &call.fields()?)))
        }
        "create" => {
            let fields = decode_config(call.request.data_object("AgentConfig")?)?;
            let config = store
                .create_agent_config(sub, fields, jiff::Timestamp::now())
                .await?;
            Ok(one(objects::agent_config(&config)))
        }
        op => Err(ApiError::not_supported(op, "AgentConfig")),
    }
}

fn invalid_value(object: &str, element: &str, value: &str, expected: &str) -> ApiError {
    ApiError::invalid(format!("{object} {element}: invalid value '{value}'."))
        .resolution(expected.to_string())
}

fn read_only(object: &str, element: &str) -> ApiError {
    ApiError::invalid(format!("{object} {element}: the element is read-only."))
        .resolution("Leave read-only elements out of create and update requests.")
}

/// The items of `<name><list><Item>…</Item></list></name>` (a `set` wrapper is accepted too).
fn list_items<'a>(el: &'a Element, item: &str) -> Result<Vec<&'a Element>, ApiError> {
    let mut out = Vec::new();
    for wrapper in &el.children {
        if wrapper.name != "list" && wrapper.name != "set" {
            return Err(ApiError::invalid(format!(
                "{}: expected <list>, found <{}>.",
                el.name, wrapper.name
            )));
        }
        for i in &wrapper.children {
            if i.name != item {
                return Err(ApiError::invalid(format!(
                    "{}/list: expected <{item}>, found <{}>.",
                    el.name, i.name
                )));
            }
            out.push(i);
        }
    }
    Ok(out)
}

fn decode_key(data: Option<&Element>) -> Result<ActivationKeyFields, ApiError> {
    let data = data.ok_or_else(|| {
        ApiError::invalid("This call needs <data><AgentActKey>…</AgentActKey></data>.")
            .resolution("Put the key's fields under data/AgentActKey, e.g. <title>Linux</title>.")
    })?;
    const O: &str = "AgentActKey";
    let mut f = ActivationKeyFields::default();
    for el in &data.children {
        let v = el.text.trim();
        match el.name.as_str() {
            "title" if v.is_empty() => {
                return Err(ApiError::invalid("AgentActKey title cannot be empty."));
            }
            "title" => f.title = Some(v.to_string()),
            "type" => {
                f.key_type = Some(KeyType::parse(v).ok_or_else(|| {
                    invalid_value(O, "type", v, "Values expected: COUNT_LIMITED, UNLIMITED.")
                })?)
            }
            "countPurchased" => {
                f.count_purchased =
                    Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        invalid_value(O, "countPurchased", v, "Give a whole number, 0 or more.")
                    })?)
            }
            "expireDate" if v.is_empty() => f.expire_date = Some(None),
            "expireDate" => {
                let (start, _) = openqps_query::parse_time_range(v).ok_or_else(|| {
                    invalid_value(
                        O,
                        "expireDate",
                        v,
                        "Give a date as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.",
                    )
                })?;
                f.expire_date = Some(Some(jiff::Timestamp::from_second(start).map_err(|_| {
                    invalid_value(O, "expireDate", v, "Give a date within range.")
                })?));
            }
            "modules" => {
                let mut licenses = Vec::new();
                for m in list_items(el, "ActivationKeyModule")? {
                    let l = m.child("license").map(|l| l.text.trim()).unwrap_or("");
                    let canonical = LICENSES
                        .iter()
                        .find(|x| x.eq_ignore_ascii_case(l))
                        .ok_or_else(|| {
                            invalid_value(
                                O,
                                "license",
                                l,
                                &format!("Values expected: {}.", LICENSES.join(", ")),
                            )
                        })?;
                    if !licenses.iter().any(|x| x == canonical) {
                        licenses.push(canonical.to_string());
                    }
                }
                f.licenses = Some(licenses);
            }
            "tags" => {
                let mut ids = Vec::new();
                for t in list_items(el, "Tag")? {
                    let id = t.child("id").map(|i| i.text.trim()).unwrap_or("");
                    ids.push(id.parse::<i64>().map_err(|_| {
                        invalid_value(O, "tags id", id, "Give the id (Long) of an existing tag.")
                    })?);
                }
                f.tag_ids = Some(ids);
            }
            "id" | "activationKey" | "countUsed" | "created" => {
                return Err(read_only(O, &el.name));
            }
            other => {
                return Err(ApiError::invalid(format!("AgentActKey: unknown element <{other}>."))
                    .resolution("An AgentActKey holds title, type, countPurchased, expireDate, modules and tags."));
            }
        }
    }
    Ok(f)
}

fn decode_config(data: Option<&Element>) -> Result<AgentConfigFields, ApiError> {
    let data = data.ok_or_else(|| {
        ApiError::invalid("This call needs <data><AgentConfig>…</AgentConfig></data>.").resolution(
            "Put the profile's fields under data/AgentConfig, e.g. <name>Servers</name>.",
        )
    })?;
    const O: &str = "AgentConfig";
    let mut name = None;
    let mut f = AgentConfigFields::default();
    for el in &data.children {
        let v = el.text.trim();
        match el.name.as_str() {
            "name" if v.is_empty() => {
                return Err(ApiError::invalid("AgentConfig name cannot be empty."));
            }
            "name" => name = Some(v.to_string()),
            "description" => f.description = Some(el.text.clone()),
            "isDefault" => {
                f.is_default = match v {
                    _ if v.eq_ignore_ascii_case("true") => true,
                    _ if v.eq_ignore_ascii_case("false") => false,
                    _ => {
                        return Err(invalid_value(
                            O,
                            "isDefault",
                            v,
                            "Values expected: true, false.",
                        ));
                    }
                }
            }
            "id" | "created" | "modified" => return Err(read_only(O, &el.name)),
            other => {
                return Err(ApiError::invalid(format!("AgentConfig: unknown element <{other}>."))
                    .resolution("An AgentConfig holds name, description and isDefault (openqps keeps no other profile settings)."));
            }
        }
    }
    f.name = name.ok_or_else(|| {
        ApiError::invalid("A new configuration profile needs a <name>.")
            .resolution("Add <name>…</name> under data/AgentConfig.")
    })?;
    Ok(f)
}
