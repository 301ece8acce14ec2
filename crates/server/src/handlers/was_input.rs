//! The `WebApp` of a create or update body, checked and turned into a [`WebAppChange`] plus tag
//! changes. Every refusal names the element and says what would be accepted.

use crate::error::ApiError;
use openqps_model::webapp::{SCANNER_TYPES, SCOPES, USE_ROBOTS};
use openqps_model::{Attribute, IdName, ListOps, Scanner, UrlEntry, WebAppChange, WebAppConfig};
use openqps_store::TagChanges;
use openqps_wire::tree::Element;

/// What a `WebApp` body asks for.
#[derive(Debug, Default)]
pub struct WebAppInput {
    pub change: WebAppChange,
    pub tags: TagChanges,
}

impl WebAppInput {
    pub fn is_empty(&self) -> bool {
        self.change == WebAppChange::default() && self.tags.is_empty()
    }
}

/// Elements only the server sets.
const READ_ONLY: &[&str] = &[
    "id",
    "owner",
    "createdBy",
    "createdDate",
    "updatedBy",
    "updatedDate",
    "lastScan",
    "isScheduled",
];

/// Elements of the WAS model that openqps does not store (yet).
const NOT_SUPPORTED: &[&str] = &[
    "screenshot",
    "proxy",
    "malwareMonitoring",
    "malwareNotification",
    "malwareTaskId",
    "malwareScheduling",
    "dnsOverrides",
    "defaultScannerTags",
    "redundancyLinks",
    "maxRedundancyLinks",
    "swaggerFile",
    "postmanCollection",
    "riskScore",
];

fn invalid(el: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("WebApp {el}: {message}"))
}

fn text(el: &Element) -> String {
    el.text.trim().to_string()
}

fn non_empty(el: &Element) -> Result<String, ApiError> {
    let t = text(el);
    if t.is_empty() {
        return Err(invalid(&el.name, "cannot be empty.")
            .resolution(format!("Give <{}> a value.", el.name)));
    }
    Ok(t)
}

fn boolean(el: &Element) -> Result<bool, ApiError> {
    match text(el).to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        v => Err(invalid(&el.name, format!("invalid value '{v}'."))
            .resolution("Values expected: true, false.")),
    }
}

fn long(el: &Element) -> Result<i64, ApiError> {
    let t = text(el);
    t.parse::<i64>().map_err(|_| {
        invalid(&el.name, format!("invalid value '{t}'.")).resolution("Specify the value as Long.")
    })
}

fn keyword(el: &Element, values: &[&'static str]) -> Result<String, ApiError> {
    keyword_as(&el.name, el, values)
}

/// Like [`keyword`], naming the element `label` in the error (`defaultScanner.type`).
fn keyword_as(label: &str, el: &Element, values: &[&'static str]) -> Result<String, ApiError> {
    let t = text(el);
    values
        .iter()
        .find(|v| v.eq_ignore_ascii_case(&t))
        .map(|v| v.to_string())
        .ok_or_else(|| {
            invalid(label, format!("invalid value '{t}'."))
                .resolution(format!("Values expected: {}.", values.join(", ")))
        })
}

/// `{id, name?}` where `id` is required.
fn id_name(el: &Element) -> Result<IdName, ApiError> {
    let id = el.child("id").ok_or_else(|| {
        invalid(&el.name, "needs an <id>.")
            .resolution(format!("Write <{0}><id>…</id></{0}>.", el.name))
    })?;
    for c in &el.children {
        if !matches!(c.name.as_str(), "id" | "name") {
            return Err(invalid(&el.name, format!("unknown element <{}>.", c.name))
                .resolution("This element holds id and name."));
        }
    }
    Ok(IdName {
        id: long(id)?,
        name: el.child("name").map(text).filter(|n| !n.is_empty()),
    })
}

/// A `UrlEntry`: its text, and `regex` as an attribute (XML) or a key beside `value` (JSON).
fn url_entry(el: &Element) -> Result<UrlEntry, ApiError> {
    let regex = match el
        .attr("regex")
        .map(str::to_string)
        .or_else(|| el.child("regex").map(text))
    {
        None => false,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(invalid("UrlEntry", format!("invalid regex '{v}'."))
                    .resolution("Values expected: true, false."));
            }
        },
    };
    let value = match el.child("value") {
        Some(v) => text(v),
        None => text(el),
    };
    if value.is_empty() {
        return Err(invalid("UrlEntry", "cannot be empty.")
            .resolution("Give each UrlEntry a URL or a regular expression."));
    }
    if regex && let Err(e) = regex::RegexBuilder::new(&value).size_limit(1 << 20).build() {
        return Err(invalid(
            "UrlEntry",
            format!(
                "is not a valid regular expression: {}",
                e.to_string().replace('\n', " ")
            ),
        )
        .resolution("Fix the expression, or set regex=\"false\" for a plain URL."));
    }
    Ok(UrlEntry { value, regex })
}

fn attribute(el: &Element, need_value: bool) -> Result<Attribute, ApiError> {
    let name = el.child("name").map(text).unwrap_or_default();
    if name.is_empty() {
        return Err(invalid("Attribute", "needs a <name>.")
            .resolution("Write <Attribute><name>…</name><value>…</value></Attribute>."));
    }
    let value = el.child("value").map(text);
    if need_value && value.is_none() {
        return Err(invalid("Attribute", format!("'{name}' needs a <value>."))
            .resolution("Write <Attribute><name>…</name><value>…</value></Attribute>."));
    }
    Ok(Attribute {
        name,
        value: value.unwrap_or_default(),
    })
}

/// `set` / `add` / `remove` (and `update` where `ops` allows it) of a WAS list.
fn list<T>(
    el: &Element,
    item: &str,
    ops: &[&str],
    parse: impl Fn(&Element, &str) -> Result<T, ApiError>,
) -> Result<(ListOps<T>, Vec<T>), ApiError> {
    let mut out = ListOps::default();
    let mut update = Vec::new();
    for op in &el.children {
        if !ops.contains(&op.name.as_str()) {
            let why = if matches!(op.name.as_str(), "list" | "count") {
                "is read-only".to_string()
            } else {
                "is not an operation of this list".to_string()
            };
            return Err(
                invalid(&el.name, format!("<{}> {why}.", op.name)).resolution(format!(
                    "Change {} with {}.",
                    el.name,
                    ops.join(", ")
                )),
            );
        }
        let mut items = Vec::with_capacity(op.children.len());
        for it in &op.children {
            if it.name != item {
                return Err(invalid(
                    &el.name,
                    format!("expected <{item}> in <{}>, found <{}>.", op.name, it.name),
                )
                .resolution(format!("List <{item}> elements.")));
            }
            items.push(parse(it, &op.name)?);
        }
        match op.name.as_str() {
            "set" => out.set = Some(items),
            "add" => out.add.extend(items),
            "remove" => out.remove.extend(items),
            _ => update.extend(items),
        }
    }
    Ok((out, update))
}

fn texts(el: &Element, item: &str) -> Result<ListOps<String>, ApiError> {
    Ok(list(el, item, &["set", "add", "remove"], |it, _| non_empty(it))?.0)
}

fn config(el: &Element) -> Result<Option<WebAppConfig>, ApiError> {
    match el.children.as_slice() {
        [] => Ok(None),
        [one] => match one.name.as_str() {
            "cancelScansAfterNHours" => {
                let h = long(one)?;
                if h < 1 {
                    return Err(
                        invalid("cancelScansAfterNHours", format!("invalid value '{h}'."))
                            .resolution("Specify a whole number of hours from 1."),
                    );
                }
                Ok(Some(WebAppConfig::CancelScansAfterNHours(h)))
            }
            "cancelScansAt" => Ok(Some(WebAppConfig::CancelScansAt(non_empty(one)?))),
            "defaultAuthRecord" => Ok(Some(WebAppConfig::DefaultAuthRecord(id_name(one)?))),
            other => Err(
                invalid("config", format!("unknown element <{other}>.")).resolution(
                    "config holds one of cancelScansAfterNHours, cancelScansAt, defaultAuthRecord.",
                ),
            ),
        },
        _ => Err(
            invalid("config", "holds more than one setting.").resolution(
                "config holds one of cancelScansAfterNHours, cancelScansAt, defaultAuthRecord.",
            ),
        ),
    }
}

/// Reads the `WebApp` of a create or update body.
pub fn decode(el: &Element) -> Result<WebAppInput, ApiError> {
    super::refuse_repeats(el)?;
    let mut change = WebAppChange::default();
    let mut tags = TagChanges::default();
    let c = &mut change;
    for child in &el.children {
        let name = child.name.as_str();
        if READ_ONLY.contains(&name) {
            return Err(ApiError::invalid(format!(
                "{name}: An error occurred while validating the element; it is read-only."
            ))
            .resolution("Leave read-only elements out of create and update requests."));
        }
        if NOT_SUPPORTED.contains(&name) {
            return Err(ApiError::invalid(format!(
                "WebApp element <{name}> is not supported by this server."
            ))
            .resolution("See docs/compatibility.md for the WebApp fields openqps stores."));
        }
        match name {
            "name" => c.name = Some(non_empty(child)?),
            "url" => {
                let url = non_empty(child)?;
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                    return Err(invalid("url", format!("'{url}' is not an http(s) URL."))
                        .resolution("Specify the URL as http://host/… or https://host/…."));
                }
                c.url = Some(url);
            }
            "os" => c.os = Some(non_empty(child)?),
            "scope" => c.scope = Some(keyword(child, SCOPES)?),
            "subDomain" => c.sub_domain = Some(non_empty(child)?),
            "domains" => c.domains = texts(child, "Domain")?,
            "uris" => c.uris = texts(child, "Url")?,
            "headers" => c.headers = texts(child, "WebAppHeader")?,
            "attributes" => {
                let (ops, update) = list(
                    child,
                    "Attribute",
                    &["set", "add", "update", "remove"],
                    |it, op| attribute(it, op != "remove"),
                )?;
                c.attributes = ops;
                c.attributes_update = update;
            }
            "defaultProfile" => c.default_profile = Some(id_name(child)?),
            "defaultScanner" => {
                let kind = child.child("type").ok_or_else(|| {
                    invalid("defaultScanner", "needs a <type>.")
                        .resolution(format!("Values expected: {}.", SCANNER_TYPES.join(", ")))
                })?;
                for x in &child.children {
                    if !matches!(x.name.as_str(), "type" | "friendlyName") {
                        return Err(invalid(
                            "defaultScanner",
                            format!("unknown element <{}>.", x.name),
                        )
                        .resolution("defaultScanner holds type and friendlyName."));
                    }
                }
                c.default_scanner = Some(Scanner {
                    kind: keyword_as("defaultScanner.type", kind, SCANNER_TYPES)?,
                    friendly_name: child
                        .child("friendlyName")
                        .map(text)
                        .filter(|f| !f.is_empty()),
                });
            }
            "scannerLocked" => c.scanner_locked = Some(boolean(child)?),
            "progressiveScanning" => c.progressive_scanning = Some(boolean(child)?),
            "useSitemap" => c.use_sitemap = Some(boolean(child)?),
            "useRobots" => c.use_robots = Some(keyword(child, USE_ROBOTS)?),
            "urlBlacklist" | "urlWhitelist" | "postDataBlacklist" | "logoutRegexList" => {
                let ops = list(child, "UrlEntry", &["set", "add", "remove"], |it, _| {
                    url_entry(it)
                })?
                .0;
                match name {
                    "urlBlacklist" => c.url_blacklist = ops,
                    "urlWhitelist" => c.url_whitelist = ops,
                    "postDataBlacklist" => c.post_data_blacklist = ops,
                    _ => c.logout_regex_list = ops,
                }
            }
            "authRecords" => {
                c.auth_records = list(
                    child,
                    "WebAppAuthRecord",
                    &["set", "add", "remove"],
                    |it, _| id_name(it),
                )?
                .0
            }
            "crawlingScripts" => {
                c.crawling_scripts = list(
                    child,
                    "SeleniumScript",
                    &["set", "add", "remove"],
                    |it, _| id_name(it),
                )?
                .0
            }
            "comments" => {
                c.comments = list(child, "Comment", &["set", "add"], |it, _| {
                    it.child("contents").map(non_empty).unwrap_or_else(|| {
                        Err(invalid("Comment", "needs <contents>.")
                            .resolution("Write <Comment><contents>…</contents></Comment>."))
                    })
                })?
                .0
            }
            "config" => c.config = Some(config(child)?),
            "tags" => {
                let ops = list(child, "Tag", &["set", "add", "remove"], |it, _| {
                    Ok(id_name(it)?.id)
                })?
                .0;
                tags = TagChanges {
                    set: ops.set,
                    add: ops.add,
                    remove: ops.remove,
                };
            }
            other => {
                return Err(
                    ApiError::invalid(format!("WebApp: unknown element <{other}>.")).resolution(
                        "See docs/compatibility.md for the WebApp fields openqps stores.",
                    ),
                );
            }
        }
    }
    Ok(WebAppInput { change, tags })
}
