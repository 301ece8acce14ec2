//! The Tag API: `/qps/rest/2.0/{search,count,get,create,update,delete}/am/tag`.

use super::am::ids_response;
use super::{Call, one, page_response};
use crate::app::AppState;
use crate::error::ApiError;
use openqps_model::tag::{is_valid_color, is_valid_criticality};
use openqps_model::{PROVIDERS, RULE_TYPES};
use openqps_query::fields::{TAG, TagField};
use openqps_store::{ChildChanges, ChildRef, Selector, StoreError, TagFields};
use openqps_wire::tree::Element;
use openqps_wire::{ServiceResponse, objects};

pub async fn tag(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    let sub = call.user.subscription;
    let store = &state.store;
    let now = jiff::Timestamp::now();
    match call.endpoint.operation.as_str() {
        "search" => {
            let filter = call.filter(TAG)?;
            let page = store.search_tags(sub, &filter, call.page()).await?;
            Ok(page_response(page, |t| t.id, objects::tag))
        }
        "count" => {
            let filter = call.filter(TAG)?;
            Ok(ServiceResponse::count_only(
                store.count_tags(sub, &filter).await?,
            ))
        }
        "get" => {
            let id = call.id()?;
            let tag = store
                .get_tag(sub, id)
                .await?
                .ok_or(StoreError::NotFound { object: "Tag", id })?;
            Ok(one(objects::tag(&tag)))
        }
        "create" => {
            let body = decode(call.request.data_object("Tag")?, Mode::Create)?;
            let tag = store
                .create_tag(sub, &body.fields, &body.children, now)
                .await?;
            Ok(one(objects::tag(&tag)))
        }
        "update" => {
            let body = decode(call.request.data_object("Tag")?, Mode::Update)?;
            let target = match (call.endpoint.id, body.id) {
                (Some(url), Some(data)) if url != data => {
                    return Err(ApiError::invalid(format!(
                        "The URL names tag {url} but data/Tag/id is {data}."
                    )));
                }
                // qualysdk sends the id inside data/Tag/id with no id in the URL.
                (None, Some(id)) if call.request.filters.is_empty() => Selector::Id(id),
                _ => call.selector(TAG)?,
            };
            let ids = store
                .update_tags(sub, &target, &body.fields, &body.children, now)
                .await?;
            Ok(ids_response("Tag", &ids))
        }
        "delete" => {
            let target = call.selector::<TagField>(TAG)?;
            let ids = store.delete_tags(sub, &target).await?;
            Ok(ids_response("Tag", &ids))
        }
        "evaluate" => {
            let target = call.selector::<TagField>(TAG)?;
            let ids = store.evaluate_tags(sub, &target).await?;
            Ok(ids_response("Tag", &ids))
        }
        op => Err(ApiError::not_supported(op, "Tag")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Update,
}

struct TagBody {
    id: Option<i64>,
    fields: TagFields,
    children: ChildChanges,
}

fn invalid_value(element: &str, value: &str, expected: &str) -> ApiError {
    ApiError::invalid(format!("Tag {element}: invalid value '{value}'."))
        .resolution(expected.to_string())
}

fn decode(data: Option<&Element>, mode: Mode) -> Result<TagBody, ApiError> {
    let data = data.ok_or_else(|| {
        ApiError::invalid("This call needs <data><Tag>…</Tag></data>.")
            .resolution("Put the tag's fields under data/Tag, e.g. <name>Production</name>.")
    })?;
    super::refuse_repeats(data)?;
    let mut body = TagBody {
        id: None,
        fields: TagFields::default(),
        children: ChildChanges::default(),
    };
    let f = &mut body.fields;
    for el in &data.children {
        let v = el.text.trim();
        match el.name.as_str() {
            "name" if v.is_empty() => return Err(ApiError::invalid("Tag name cannot be empty.")),
            "name" => f.name = Some(v.to_string()),
            "color" if !is_valid_color(v) => {
                return Err(invalid_value(
                    "color",
                    v,
                    "Give a color as #RGB or #RRGGBB, e.g. #FF0000.",
                ));
            }
            "color" => f.color = Some(v.to_string()),
            "ruleType" => {
                let canonical = RULE_TYPES
                    .iter()
                    .find(|r| r.eq_ignore_ascii_case(v))
                    .ok_or_else(|| {
                        invalid_value(
                            "ruleType",
                            v,
                            &format!("Values expected: {}.", RULE_TYPES.join(", ")),
                        )
                    })?;
                f.rule_type = Some(canonical.to_string());
            }
            "ruleText" => f.rule_text = Some(el.text.clone()),
            "parentTagId" => {
                f.parent_id = Some(v.parse().map_err(|_| {
                    invalid_value("parentTagId", v, "Give the id (Long) of an existing tag.")
                })?)
            }
            "criticalityScore" => {
                let score = v
                    .parse()
                    .ok()
                    .filter(|s| is_valid_criticality(*s))
                    .ok_or_else(|| {
                        invalid_value("criticalityScore", v, "Give a whole number from 1 to 5.")
                    })?;
                f.criticality_score = Some(score);
            }
            "description" => f.description = Some(el.text.clone()),
            "provider" => {
                let canonical = PROVIDERS
                    .iter()
                    .find(|p| p.eq_ignore_ascii_case(v))
                    .ok_or_else(|| {
                        invalid_value(
                            "provider",
                            v,
                            &format!("Values expected: {}.", PROVIDERS.join(", ")),
                        )
                    })?;
                f.provider = Some(canonical.to_string());
            }
            "children" => body.children = decode_children(el)?,
            "id" if mode == Mode::Update => {
                body.id = Some(
                    v.parse()
                        .map_err(|_| invalid_value("id", v, "Give the tag id (Long)."))?,
                )
            }
            "id"
            | "created"
            | "modified"
            | "reEvalStatus"
            | "srcAssetGroupId"
            | "srcBusinessUnitId"
            | "srcOperatingSystemName" => {
                return Err(ApiError::invalid(format!(
                    "{}: An error occurred while validating the element; it is read-only.",
                    el.name
                ))
                .resolution("Leave read-only elements out of create and update requests."));
            }
            other => {
                return Err(ApiError::invalid(format!("Tag: unknown element <{other}>."))
                    .resolution("A Tag holds name, color, ruleType, ruleText, parentTagId, criticalityScore, description, provider and children."));
            }
        }
    }
    if f.rule_type.as_deref() == Some("ASSET_SEARCH")
        && let Some(text) = &f.rule_text
    {
        f.rule_criteria = Some(asset_search_criteria(text)?);
    }
    if mode == Mode::Create {
        if f.name.is_none() {
            return Err(ApiError::invalid("A new tag needs a <name>.")
                .resolution("Add <name>…</name> under data/Tag."));
        }
        let dynamic = f.rule_type.as_deref().is_some_and(|r| r != "STATIC");
        if dynamic && f.rule_text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(ApiError::invalid(format!(
                "A tag of rule type {} needs a <ruleText>.",
                f.rule_type.as_deref().unwrap_or_default()
            ))
            .resolution("Give the rule in <ruleText>, or use ruleType STATIC."));
        }
    }
    if mode == Mode::Update
        && body.fields == TagFields::default()
        && body.children == ChildChanges::default()
    {
        return Err(ApiError::invalid("The Tag in data changes nothing.")
            .resolution("Say what to change, e.g. <color>#00FF00</color>."));
    }
    Ok(body)
}

/// `<children><set|add><TagSimple><id>…</id> or <name>…</name></TagSimple></…><remove>…`.
fn decode_children(el: &Element) -> Result<ChildChanges, ApiError> {
    let mut out = ChildChanges::default();
    for op in &el.children {
        let mut refs = Vec::new();
        for item in &op.children {
            if item.name != "TagSimple" {
                return Err(ApiError::invalid(format!(
                    "children/{}: expected <TagSimple>, found <{}>.",
                    op.name, item.name
                )));
            }
            let id = item.child("id").map(|i| i.text.trim());
            let name = item
                .child("name")
                .map(|n| n.text.trim())
                .filter(|n| !n.is_empty());
            refs.push(match (id, name) {
                (Some(id), _) => ChildRef::Id(id.parse().map_err(|_| {
                    invalid_value("children id", id, "Give the id (Long) of an existing tag.")
                })?),
                (None, Some(name)) => ChildRef::Name(name.to_string()),
                (None, None) => {
                    return Err(ApiError::invalid(format!(
                        "children/{}: each <TagSimple> needs an <id> or a <name>.",
                        op.name
                    )));
                }
            });
        }
        match op.name.as_str() {
            "set" => out.set = Some(refs),
            "add" => out.add.extend(refs),
            "remove" => {
                for r in refs {
                    match r {
                        ChildRef::Id(id) => out.remove.push(id),
                        ChildRef::Name(_) => {
                            return Err(ApiError::invalid(
                                "children/remove: name children by <id>.",
                            ));
                        }
                    }
                }
            }
            other => {
                return Err(
                    ApiError::invalid(format!("children: unknown operation <{other}>."))
                        .resolution("Change children with set, add or remove."),
                );
            }
        }
    }
    Ok(out)
}

/// The criteria of an ASSET_SEARCH rule: `ruleText` holds QPS filters, as
/// `<filters><Criteria field="…" operator="…">…</Criteria></filters>` (or a whole
/// `<ServiceRequest>`), checked against the HostAsset fields and stored in encoded form.
fn asset_search_criteria(text: &str) -> Result<String, ApiError> {
    let bad = |why: String| {
        ApiError::invalid(format!("ruleText: {why}")).resolution(
            "Give an ASSET_SEARCH rule as <filters><Criteria field=\"…\" operator=\"…\">value</Criteria></filters>.",
        )
    };
    let root = openqps_wire::tree::parse_xml(text.trim().as_bytes()).map_err(|e| bad(e.0))?;
    let root = if root.name == "filters" {
        openqps_wire::tree::Element {
            name: "ServiceRequest".into(),
            children: vec![root],
            ..Default::default()
        }
    } else {
        root
    };
    let request = openqps_wire::ServiceRequest::decode(&root).map_err(|e| bad(e.message))?;
    if request.filters.is_empty() {
        return Err(bad(
            "an ASSET_SEARCH rule needs at least one Criteria.".into()
        ));
    }
    openqps_query::compile(
        "HostAsset",
        openqps_query::fields::HOSTASSET,
        &request.filters,
    )
    .map_err(|e| bad(e.to_string()))?;
    Ok(openqps_query::encode_criteria(&request.filters))
}
