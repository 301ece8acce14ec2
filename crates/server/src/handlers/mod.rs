//! QPS operations. Handlers check their input, make one store call and return a
//! `ServiceResponse`; they never write XML or JSON.

mod am;
mod ca;
mod ca_admin;
mod host_input;
pub mod sbom;
mod tag;
mod was;
mod was_input;

use crate::app::AppState;
use crate::endpoint::{Endpoint, Object};
use crate::error::ApiError;
use openqps_model::User;
use openqps_query::{FieldDef, Filter, compile};
use openqps_store::{Page, PageRequest, Selector};
use openqps_wire::tree::Element;
use openqps_wire::{Node, ServiceRequest, ServiceResponse};

/// One authenticated, routed, decoded call.
pub struct Call<'a> {
    pub user: &'a User,
    pub endpoint: &'a Endpoint,
    pub request: ServiceRequest,
    pub params: &'a [(String, String)],
}

impl Call<'_> {
    /// A query parameter, its name matched case-insensitively (`OverrideConfigCpu` appears in
    /// Qualys' own samples).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn filter<F: Copy>(&self, registry: &[FieldDef<F>]) -> Result<Filter<F>, ApiError> {
        Ok(compile(
            self.endpoint.object.name(),
            registry,
            &self.request.filters,
        )?)
    }

    /// The id in the path, or the filters of the body; a bulk write must name at least one
    /// criterion, so an empty body never touches every record.
    fn selector<F: Copy>(&self, registry: &[FieldDef<F>]) -> Result<Selector<F>, ApiError> {
        match self.endpoint.id {
            Some(id) => Ok(Selector::Id(id)),
            None => {
                let filter = self.filter(registry)?;
                if filter.is_empty() {
                    return Err(ApiError::invalid(format!(
                        "'{}' on {} needs an id in the URL or at least one Criteria in filters.",
                        self.endpoint.operation,
                        self.endpoint.object.name()
                    ))
                    .resolution("Add /<id> to the URL or <filters><Criteria …> to the body."));
                }
                Ok(Selector::Filter(filter))
            }
        }
    }

    /// The element names a request limits its answer to, from `fields` in the body
    /// (`<fields><HostAsset><id/><name/>…`, optionally under `<set>`, several object elements
    /// merged) or `?fields=id,name`; `None` when it sets no limit (an empty list included).
    fn fields(&self) -> Result<Option<Vec<String>>, ApiError> {
        let names: Vec<String> = if let Some(list) = self.param("fields") {
            list.split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect()
        } else {
            let Some(mut el) = self.request.fields.as_ref() else {
                return Ok(None);
            };
            if let Some(set) = el.child("set") {
                el = set;
            }
            let object = self.endpoint.object.name();
            let objects: Vec<&Element> = el.children_named(object).collect();
            if !objects.is_empty() {
                objects
                    .iter()
                    .flat_map(|o| o.children.iter().map(|c| c.name.clone()))
                    .collect()
            } else if let Some(other) = el
                .children
                .iter()
                .find(|c| c.name.starts_with(|ch: char| ch.is_ascii_uppercase()))
            {
                return Err(ApiError::invalid(format!(
                    "fields: <{}> is not the object of this call; expected <{object}>.",
                    other.name
                )));
            } else {
                el.children.iter().map(|c| c.name.clone()).collect()
            }
        };
        Ok((!names.is_empty()).then_some(names))
    }

    fn page(&self) -> PageRequest {
        let p = self.request.preferences;
        PageRequest {
            start_from_offset: p.start_from_offset,
            start_from_id: p.start_from_id,
            limit: p.limit_results,
        }
    }

    fn id(&self) -> Result<i64, ApiError> {
        self.endpoint.id.ok_or_else(|| {
            ApiError::invalid(format!(
                "'{}' on {} needs an id in the URL.",
                self.endpoint.operation,
                self.endpoint.object.name()
            ))
            .resolution(format!(
                "Call /qps/rest/{}/{}/…/<id>.",
                self.endpoint.object.version(),
                self.endpoint.operation
            ))
        })
    }
}

/// Calls that take only the id in the URL; whatever body they carry is ignored.
pub fn ignores_body(e: &Endpoint) -> bool {
    // With the id in the path these calls need nothing from a body, and clients send all sorts
    // there (nothing, an empty ServiceRequest, JSON `null` or `123`). `update` by id needs its
    // `data`, so it still reads the body.
    e.id.is_some()
        && matches!(
            e.operation.as_str(),
            "get" | "delete" | "ods" | "activate" | "deactivate" | "uninstall"
        )
}

pub async fn dispatch(state: &AppState, call: Call<'_>) -> Result<ServiceResponse, ApiError> {
    match call.endpoint.object {
        Object::HostAsset => am::host_asset(state, call).await,
        Object::Asset => am::asset(state, call).await,
        Object::AgentAsset => ca::agent_asset(state, call).await,
        Object::AgentActKey => ca_admin::agent_act_key(state, call).await,
        Object::AgentConfig => ca_admin::agent_config(state, call).await,
        // Answers a CycloneDX document, not an envelope: served by `sbom::download` in `app`.
        Object::CdxSbom => Err(ApiError::not_supported(
            &call.endpoint.operation,
            "DownloadCDXSbom",
        )),
        Object::WebApp => was::webapp(state, call).await,
        Object::Tag => tag::tag(state, call).await,
    }
}

/// A search answer: `count` of this page, `hasMoreRecords`, and `lastId` when more follow.
/// Zero results carry only `count` 0, as recorded Qualys traffic does.
fn page_response<T>(
    page: Page<T>,
    id: impl Fn(&T) -> i64,
    node: impl Fn(&T) -> Node,
) -> ServiceResponse {
    let last_id = page.items.last().map(&id);
    let mut r = ServiceResponse::success(page.items.iter().map(node).collect());
    if r.data.as_ref().is_some_and(|d| !d.is_empty()) {
        r.has_more_records = Some(page.has_more);
        if page.has_more {
            r.last_id = last_id;
        }
    }
    r
}

/// Refuses an object that names one of its elements twice (or, in JSON, gives an array).
pub fn refuse_repeats(object: &Element) -> Result<(), ApiError> {
    match object.repeated_child() {
        Some(name) => Err(ApiError::invalid(format!(
            "{}: the element <{name}> appears more than once.",
            object.name
        ))
        .resolution("Give each field once; lists change through set, add or remove.")),
        None => Ok(()),
    }
}

/// Applies `fields` to an object of the answer.
fn shape(node: Node, fields: &Option<Vec<String>>) -> Node {
    match fields {
        Some(names) => openqps_wire::objects::keep_fields(node, names),
        None => node,
    }
}

fn one(node: Node) -> ServiceResponse {
    ServiceResponse::success(vec![node])
}
