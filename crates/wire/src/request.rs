//! The `ServiceRequest` every QPS call may carry, decoded from the element tree.

use crate::tree::Element;
use openqps_query::RawCriterion;

/// Paging asked for in `preferences`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preferences {
    /// 1-based.
    pub start_from_offset: Option<u64>,
    pub start_from_id: Option<i64>,
    pub limit_results: u32,
    /// WAS search: full objects instead of the summary shape.
    pub verbose: bool,
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            start_from_offset: None,
            start_from_id: None,
            limit_results: DEFAULT_LIMIT,
            verbose: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceRequest {
    pub filters: Vec<RawCriterion>,
    pub preferences: Preferences,
    /// The object under `data` (`HostAsset`, `WebApp`, …), decoded by the operation that wants it.
    pub data: Option<Element>,
    /// The `fields` element, if any: limits the elements returned.
    pub fields: Option<Element>,
}

/// A request that reads as XML or JSON but does not say something QPS understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    pub message: String,
    pub resolution: String,
}

fn bad(message: impl Into<String>, resolution: impl Into<String>) -> RequestError {
    RequestError {
        message: message.into(),
        resolution: resolution.into(),
    }
}

impl ServiceRequest {
    pub fn decode(root: &Element) -> Result<ServiceRequest, RequestError> {
        if root.name != "ServiceRequest" {
            return Err(bad(
                format!(
                    "The root element is <{}>; a QPS request body is a <ServiceRequest>.",
                    root.name
                ),
                "Wrap the request in <ServiceRequest>…</ServiceRequest>.",
            ));
        }
        // A second <data> or <preferences> would silently replace the first: refused, as a
        // repeated element inside an object is.
        if let Some(name) = root.repeated_child() {
            return Err(bad(
                format!("ServiceRequest: the element <{name}> appears more than once."),
                "Send each of filters, preferences, data and fields at most once.",
            ));
        }
        // Text where elements belong (`<ServiceRequest>x</ServiceRequest>`, JSON's
        // `{"ServiceRequest": "x"}`, or the same in filters or preferences) is a mistake, not an
        // empty request.
        no_text(root, "filters, preferences, data and fields")?;
        let mut req = ServiceRequest::default();
        for child in &root.children {
            match child.name.as_str() {
                "filters" => req.filters.extend(decode_filters(child)?),
                "preferences" => req.preferences = decode_preferences(child)?,
                "data" => req.data = Some(child.clone()),
                "fields" => req.fields = Some(child.clone()),
                other => {
                    return Err(bad(
                        format!("ServiceRequest: unknown element <{other}>."),
                        "A ServiceRequest holds filters, preferences, data and fields.",
                    ));
                }
            }
        }
        Ok(req)
    }

    /// The single object under `data`, which must be named `object`.
    pub fn data_object(&self, object: &str) -> Result<Option<&Element>, RequestError> {
        let Some(data) = &self.data else {
            return Ok(None);
        };
        match data.children.as_slice() {
            [] => Ok(None),
            [one] if one.name == object => Ok(Some(one)),
            [one] => Err(bad(
                format!("data: expected <{object}>, found <{}>.", one.name),
                format!("Put one <{object}> under <data>."),
            )),
            _ => Err(bad(
                format!("data: expected one <{object}>."),
                format!("Put one <{object}> under <data>."),
            )),
        }
    }
}

/// Refuses text directly inside `el`, an element that holds only the elements `takes`.
fn no_text(el: &Element, takes: &str) -> Result<(), RequestError> {
    if el.text.trim().is_empty() {
        return Ok(());
    }
    Err(bad(
        format!("{} holds text; it takes the elements {takes}.", el.name),
        format!(
            "Send elements inside <{0}>, or {{\"{0}\": {{…}}}} in JSON.",
            el.name
        ),
    ))
}

fn decode_filters(el: &Element) -> Result<Vec<RawCriterion>, RequestError> {
    no_text(el, "Criteria")?;
    el.children
        .iter()
        .map(|c| {
            if c.name != "Criteria" {
                return Err(bad(
                    format!("filters: unknown element <{}>.", c.name),
                    "filters holds <Criteria field=\"…\" operator=\"…\">value</Criteria> elements.",
                ));
            }
            let field = c.attr("field").ok_or_else(|| {
                bad(
                    "Criteria: the attribute 'field' is missing.",
                    "Write <Criteria field=\"…\" operator=\"…\">value</Criteria>.",
                )
            })?;
            let operator = c.attr("operator").ok_or_else(|| {
                bad(
                    format!("Criteria: the attribute 'operator' is missing for '{field}'."),
                    "Write <Criteria field=\"…\" operator=\"…\">value</Criteria>.",
                )
            })?;
            Ok(RawCriterion {
                field: field.to_string(),
                operator: operator.to_string(),
                value: c.text.clone(),
                name: c.attr("name").map(str::to_string),
            })
        })
        .collect()
}

fn decode_preferences(el: &Element) -> Result<Preferences, RequestError> {
    no_text(el, "startFromOffset, startFromId, limitResults and verbose")?;
    if let Some(name) = el.repeated_child() {
        return Err(bad(
            format!("preferences: the element <{name}> appears more than once."),
            "Give each preference once.",
        ));
    }
    let mut p = Preferences::default();
    for c in &el.children {
        let v = c.text.trim();
        match c.name.as_str() {
            "startFromOffset" => {
                p.start_from_offset =
                    Some(v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        number_error("startFromOffset", v, "a whole number from 1")
                    })?)
            }
            "startFromId" => {
                p.start_from_id = Some(
                    v.parse::<i64>()
                        .map_err(|_| number_error("startFromId", v, "an id (Long)"))?,
                )
            }
            "limitResults" => {
                p.limit_results = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        number_error(
                            "limitResults",
                            v,
                            &format!("a whole number from 1 to {MAX_LIMIT}"),
                        )
                    })?
            }
            "verbose" => {
                p.verbose = match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(number_error("verbose", v, "true or false")),
                }
            }
            other => {
                return Err(bad(
                    format!("preferences: unknown element <{other}>."),
                    "preferences holds startFromOffset, startFromId, limitResults and verbose.",
                ));
            }
        }
    }
    Ok(p)
}

fn number_error(name: &str, v: &str, expected: &str) -> RequestError {
    bad(
        format!("preferences: invalid value for {name} ({v})."),
        format!("Specify {name} as {expected}."),
    )
}

/// `add`/`remove`/`set` on a collection of objects keyed by id, as `tags` on an asset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdCollectionOps {
    pub set: Option<Vec<i64>>,
    pub add: Vec<i64>,
    pub remove: Vec<i64>,
}

/// Reads `<tags><add><TagSimple><id>1</id></TagSimple></add>…</tags>`.
pub fn decode_id_collection(
    el: &Element,
    item: &str,
    collection: &str,
) -> Result<IdCollectionOps, RequestError> {
    let mut ops = IdCollectionOps::default();
    for op in &el.children {
        let ids = op
            .children
            .iter()
            .map(|it| {
                if it.name != item {
                    return Err(bad(
                        format!(
                            "{collection}/{}: expected <{item}>, found <{}>.",
                            op.name, it.name
                        ),
                        format!("List <{item}><id>…</id></{item}> elements."),
                    ));
                }
                let id = it.child("id").map(|i| i.text.trim()).unwrap_or_default();
                id.parse::<i64>().map_err(|_| {
                    bad(
                        format!(
                            "{collection}/{}: <{item}> needs a numeric <id> (got '{id}').",
                            op.name
                        ),
                        format!("Give each <{item}> an <id>."),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        match op.name.as_str() {
            "set" => ops.set = Some(ids),
            "add" => ops.add.extend(ids),
            "remove" => ops.remove.extend(ids),
            "list" | "count" => {
                return Err(bad(
                    format!("{collection}/{}: this element is read-only.", op.name),
                    "Change a collection with set, add or remove.",
                ));
            }
            other => {
                return Err(bad(
                    format!("{collection}: unknown operation <{other}>."),
                    "Change a collection with set, add or remove.",
                ));
            }
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse_xml;

    #[test]
    fn decodes_the_release_notes_update() {
        let root = parse_xml(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<ServiceRequest>
  <filters>
    <Criteria field="id" operator="IN">19059383
  </Criteria>
  </filters>
  <data><HostAsset><tags><add><TagSimple><id>87832867</id></TagSimple></add></tags></HostAsset></data>
</ServiceRequest>"#,
        )
        .unwrap();
        let req = ServiceRequest::decode(&root).unwrap();
        assert_eq!(req.filters[0].field, "id");
        assert_eq!(req.filters[0].value.trim(), "19059383");
        let host = req.data_object("HostAsset").unwrap().unwrap();
        let ops = decode_id_collection(host.child("tags").unwrap(), "TagSimple", "tags").unwrap();
        assert_eq!(ops.add, vec![87832867]);
    }

    #[test]
    fn refuses_out_of_range_limits() {
        for bad_limit in ["0", "1001", "x", "-1"] {
            let body = format!(
                "<ServiceRequest><preferences><limitResults>{bad_limit}</limitResults></preferences></ServiceRequest>"
            );
            let root = parse_xml(body.as_bytes()).unwrap();
            assert!(ServiceRequest::decode(&root).is_err(), "{bad_limit}");
        }
    }

    #[test]
    fn refuses_repeated_top_level_elements_and_preferences() {
        for body in [
            "<ServiceRequest><data><Tag><name>d1</name></Tag></data><data><Tag><name>d2</name></Tag></data></ServiceRequest>",
            "<ServiceRequest><preferences/><preferences/></ServiceRequest>",
            "<ServiceRequest><preferences><limitResults>5</limitResults><limitResults>6</limitResults></preferences></ServiceRequest>",
        ] {
            let root = parse_xml(body.as_bytes()).unwrap();
            let e = ServiceRequest::decode(&root).unwrap_err();
            assert!(e.message.contains("appears more than once"), "{body}: {e}");
        }
    }
}
