//! Domain objects as response trees, each in the element order Qualys writes it.

use crate::node::{Leaf, Node, PushOpt};
use openqps_model::{
    ActivationKey, AgentConfig, AgentInfo, Asset, HostAsset, IdName, Module, ScanType, TagRef,
    UrlEntry, WebApp, WebAppConfig, WebAppOwner,
};

fn tag_simple(tags: &[TagRef]) -> Node {
    Node::list(
        "tags",
        tags.iter()
            .map(|t| {
                Node::Elem(
                    "TagSimple",
                    vec![Node::int("id", t.id), Node::text("name", t.name.clone())],
                )
            })
            .collect(),
    )
}

/// A `HostAsset` in full, in the order of the release notes' sample (3.16.1), with `agentInfo`
/// placed before `netbiosName` as recorded agent data has it.
pub fn host_asset(h: &HostAsset) -> Node {
    let mut n = vec![
        Node::int("id", h.id),
        Node::text("name", h.name.clone()),
        Node::time("created", h.created),
        Node::time("modified", h.modified),
        Node::text("type", "HOST"),
        tag_simple(&h.tags),
    ];
    let d = &h.details;
    if !d.sources.is_empty() {
        n.push(Node::list(
            "sourceInfo",
            d.sources.iter().map(cloud_source).collect(),
        ));
    }
    n.opt_int("criticalityScore", h.criticality_score.map(i64::from));
    n.opt_int("qwebHostId", h.qweb_host_id);
    n.opt_time("lastVulnScan", h.last_vuln_scan);
    n.opt_time("lastComplianceScan", h.last_compliance_scan);
    n.opt_time("lastSystemBoot", h.last_system_boot);
    n.opt_text("lastLoggedOnUser", &h.last_logged_on_user);
    n.opt_text("fqdn", &h.fqdn);
    n.opt_text("os", &h.os);
    n.opt_text("dnsHostName", &h.dns_host_name);
    if let Some(a) = &h.agent {
        n.push(agent_info(a));
    }
    n.opt_text("netbiosName", &h.netbios_name);
    n.opt_int("netbiosNetworkId", d.netbios_network_id);
    n.opt_time("vulnsUpdated", d.vulns_updated);
    n.opt_time("informationGatheredUpdated", d.information_gathered_updated);
    n.opt_text("domain", &d.domain);
    n.opt_text("networkGuid", &d.network_guid);
    n.opt_text("address", &h.address);
    n.push(Node::text("trackingMethod", h.tracking_method.as_str()));
    n.opt_text("manufacturer", &h.manufacturer);
    n.opt_text("model", &h.model);
    n.opt_int("totalMemory", h.total_memory);
    n.opt_text("timezone", &d.timezone);
    n.opt_text("biosDescription", &h.bios_description);
    n.push(Node::list(
        "openPort",
        h.open_ports
            .iter()
            .map(|p| {
                let mut e = vec![
                    Node::int("port", p.port.into()),
                    Node::text("protocol", p.protocol.clone()),
                ];
                e.opt_int("serviceId", p.service_id);
                e.opt_text("serviceName", &p.service_name);
                Node::Elem("HostAssetOpenPort", e)
            })
            .collect(),
    ));
    n.push(Node::list(
        "software",
        h.software
            .iter()
            .map(|s| {
                let mut e = vec![Node::text("name", s.name.clone())];
                e.opt_text("version", &s.version);
                Node::Elem("HostAssetSoftware", e)
            })
            .collect(),
    ));
    n.push(Node::list(
        "vuln",
        h.vulns
            .iter()
            .map(|v| {
                Node::Elem(
                    "HostAssetVuln",
                    vec![
                        Node::int("qid", v.qid),
                        Node::int("hostInstanceVulnId", v.host_instance_vuln_id),
                        Node::time("firstFound", v.first_found),
                        Node::time("lastFound", v.last_found),
                    ],
                )
            })
            .collect(),
    ));
    n.push(Node::list(
        "processor",
        h.processors
            .iter()
            .map(|p| {
                let mut e = vec![Node::text("name", p.name.clone())];
                e.opt_int("speed", p.speed.map(i64::from));
                Node::Elem("HostAssetProcessor", e)
            })
            .collect(),
    ));
    n.push(Node::list(
        "volume",
        d.volumes
            .iter()
            .map(|v| {
                let mut e = vec![Node::text("name", v.name.clone())];
                e.opt_int("size", v.size);
                e.opt_int("free", v.free);
                Node::Elem("HostAssetVolume", e)
            })
            .collect(),
    ));
    n.push(Node::list(
        "account",
        d.accounts
            .iter()
            .map(|a| Node::Elem("HostAssetAccount", vec![Node::text("username", a.clone())]))
            .collect(),
    ));
    n.push(Node::list(
        "networkInterface",
        h.network_interfaces
            .iter()
            .map(|i| {
                let mut e = Vec::new();
                e.opt_text("hostname", &i.hostname);
                e.opt_text("interfaceName", &i.interface_name);
                e.opt_text("macAddress", &i.mac_address);
                e.opt_text("address", &i.address);
                e.opt_text("gatewayAddress", &i.gateway_address);
                Node::Elem("HostAssetInterface", e)
            })
            .collect(),
    ));
    n.push(Node::bool("isDockerHost", h.is_docker_host));
    if let Some(docker) = &d.docker {
        let mut e = Vec::new();
        e.opt_text("dockerVersion", &docker.version);
        e.opt_int("noOfContainers", docker.containers);
        e.opt_int("noOfImages", docker.images);
        n.push(Node::Elem("dockerInfo", e));
    }
    n.opt_text("cloudProvider", &d.cloud_provider);
    Node::Elem("HostAsset", n)
}

/// One `sourceInfo` entry, with the element names of its cloud.
fn cloud_source(c: &openqps_model::CloudSource) -> Node {
    use openqps_model::CloudKind;
    let (item, ty, id, size, state, region, zone, account) = match c.kind {
        CloudKind::Ec2 => (
            "Ec2AssetSourceSimple",
            "EC_2",
            "instanceId",
            "instanceType",
            "instanceState",
            Some("region"),
            Some("availabilityZone"),
            "accountId",
        ),
        CloudKind::Azure => (
            "AzureAssetSourceSimple",
            "AZURE",
            "vmId",
            "vmSize",
            "state",
            Some("location"),
            None,
            "subscriptionId",
        ),
        CloudKind::Gcp => (
            "GcpAssetSourceSimple",
            "GCP",
            "instanceId",
            "machineType",
            "state",
            None,
            Some("zone"),
            "projectId",
        ),
    };
    let mut e = vec![Node::text("type", ty)];
    e.opt_time("firstDiscovered", c.first_discovered);
    e.opt_time("lastUpdated", c.last_updated);
    e.opt_text(id, &c.instance_id);
    e.opt_text(size, &c.instance_type);
    e.opt_text(state, &c.state);
    if let Some(name) = region {
        e.opt_text(name, &c.region);
    }
    if let Some(name) = zone {
        e.opt_text(name, &c.zone);
    }
    e.opt_text(account, &c.account_id);
    if c.kind == CloudKind::Azure {
        e.opt_text("resourceGroupName", &c.resource_group);
    }
    if c.kind == CloudKind::Ec2 {
        e.opt_text("vpcId", &c.vpc_id);
        e.opt_text("subnetId", &c.subnet_id);
    }
    e.opt_text("imageId", &c.image_id);
    e.opt_text("privateIpAddress", &c.private_ip);
    e.opt_text("publicIpAddress", &c.public_ip);
    Node::Elem(item, e)
}

fn agent_info(a: &AgentInfo) -> Node {
    let mut n = vec![
        Node::text("agentVersion", a.agent_version.clone()),
        Node::text("agentId", a.agent_id.clone()),
        Node::text("status", a.status.clone()),
    ];
    n.opt_time("lastCheckedIn", a.last_checked_in);
    n.opt_text("connectedFrom", &a.connected_from);
    n.push(Node::text("platform", a.platform.clone()));
    n.push(Node::text(
        "activatedModule",
        Module::join(&a.activated_modules),
    ));
    if let Some(id) = a.configuration_id {
        let mut c = vec![Node::int("id", id)];
        c.opt_text("name", &a.configuration_name);
        n.push(Node::Elem("agentConfiguration", c));
    }
    if let Some(key) = &a.activation_key_id {
        let mut k = vec![Node::text("activationId", key.clone())];
        k.opt_text("title", &a.activation_key_title);
        n.push(Node::Elem("activationKey", k));
    }
    Node::Elem("agentInfo", n)
}

/// An `Asset` of the generic asset view.
pub fn asset(a: &Asset) -> Node {
    let mut n = vec![
        Node::int("id", a.id),
        Node::text("name", a.name.clone()),
        Node::time("created", a.created),
        Node::time("modified", a.modified),
        Node::text("type", a.asset_type.name()),
        tag_simple(&a.tags),
    ];
    n.opt_int("criticalityScore", a.criticality_score.map(i64::from));
    Node::Elem("Asset", n)
}

/// `<Object><id>…</id></Object>`, the answer of updates and deletes.
pub fn id_only(object: &'static str, id: i64) -> Node {
    Node::Elem(object, vec![Node::int("id", id)])
}

/// A WAS list: `<name><count>n</count><list>items</list></name>`, the count alone when empty
/// (recorded traffic shows `<tags><count>0</count></tags>`).
fn was_list(name: &'static str, items: Vec<Node>) -> Node {
    let mut n = vec![Node::int("count", items.len() as i64)];
    if !items.is_empty() {
        n.push(Node::List(items));
    }
    Node::Elem(name, n)
}

/// WAS tags; the summary shape keeps the count only, as recorded search traffic shows.
fn webapp_tags(tags: &[TagRef], summary: bool) -> Node {
    if summary {
        return Node::Elem("tags", vec![Node::int("count", tags.len() as i64)]);
    }
    was_list(
        "tags",
        tags.iter()
            .map(|t| {
                Node::Elem(
                    "Tag",
                    vec![Node::int("id", t.id), Node::cdata("name", t.name.clone())],
                )
            })
            .collect(),
    )
}

/// The non-verbose search shape of recorded WAS traffic: id, name, url, owner id, tag count,
/// dates.
pub fn webapp_summary(w: &WebApp) -> Node {
    Node::Elem(
        "WebApp",
        vec![
            Node::int("id", w.id),
            Node::cdata("name", w.name.clone()),
            Node::cdata("url", w.url.clone()),
            Node::Elem("owner", vec![Node::int("id", w.owner.id)]),
            webapp_tags(&w.tags, true),
            Node::time("createdDate", w.created),
            Node::time("updatedDate", w.updated),
        ],
    )
}

fn user(name: &'static str, u: &WebAppOwner) -> Node {
    Node::Elem(
        name,
        vec![
            Node::int("id", u.id),
            Node::text("username", u.username.clone()),
            Node::cdata("firstName", u.first_name.clone()),
            Node::cdata("lastName", u.last_name.clone()),
        ],
    )
}

fn id_name(name: &'static str, r: &IdName) -> Node {
    let mut n = vec![Node::int("id", r.id)];
    if let Some(v) = &r.name {
        n.push(Node::cdata("name", v.clone()));
    }
    Node::Elem(name, n)
}

fn url_entries(name: &'static str, entries: &[UrlEntry]) -> Node {
    was_list(
        name,
        entries
            .iter()
            .map(|e| {
                Node::Attributed(
                    "UrlEntry",
                    vec![("regex", if e.regex { "true" } else { "false" }.to_string())],
                    Leaf::Cdata(e.value.clone()),
                )
            })
            .collect(),
    )
}

fn texts(name: &'static str, item: &'static str, values: &[String]) -> Node {
    was_list(
        name,
        values
            .iter()
            .map(|v| Node::cdata(item, v.clone()))
            .collect(),
    )
}

/// A web application in full, as `get/was/webapp/{id}`, create and verbose search answer it;
/// the order follows the documented get sample, the rest as the model lists it.
pub fn webapp(w: &WebApp) -> Node {
    let d = &w.details;
    let mut n = vec![
        Node::int("id", w.id),
        Node::cdata("name", w.name.clone()),
        Node::cdata("url", w.url.clone()),
    ];
    n.opt_text("os", &w.os);
    n.push(user("owner", &w.owner));
    n.push(Node::text("scope", w.scope.clone()));
    if let Some(v) = &d.sub_domain {
        n.push(Node::cdata("subDomain", v.clone()));
    }
    n.push(texts("domains", "Domain", &d.domains));
    n.push(texts("uris", "Url", &d.uris));
    n.push(was_list(
        "attributes",
        d.attributes
            .iter()
            .map(|a| {
                Node::Elem(
                    "Attribute",
                    vec![
                        Node::cdata("name", a.name.clone()),
                        Node::cdata("value", a.value.clone()),
                    ],
                )
            })
            .collect(),
    ));
    if let Some(p) = &d.default_profile {
        n.push(id_name("defaultProfile", p));
    }
    if let Some(s) = &d.default_scanner {
        let mut e = vec![Node::text("type", s.kind.clone())];
        if let Some(f) = &s.friendly_name {
            e.push(Node::cdata("friendlyName", f.clone()));
        }
        n.push(Node::Elem("defaultScanner", e));
    }
    n.push(Node::bool("scannerLocked", d.scanner_locked));
    if let Some(p) = d.progressive_scanning {
        n.push(Node::bool("progressiveScanning", p));
    }
    n.push(url_entries("urlBlacklist", &d.url_blacklist));
    n.push(url_entries("urlWhitelist", &d.url_whitelist));
    n.push(url_entries("postDataBlacklist", &d.post_data_blacklist));
    n.push(url_entries("logoutRegexList", &d.logout_regex_list));
    n.push(was_list(
        "authRecords",
        d.auth_records
            .iter()
            .map(|r| id_name("WebAppAuthRecord", r))
            .collect(),
    ));
    n.push(Node::text("useRobots", d.use_robots.clone()));
    n.push(Node::bool("useSitemap", d.use_sitemap));
    n.push(texts("headers", "WebAppHeader", &d.headers));
    n.push(webapp_tags(&w.tags, false));
    n.push(was_list(
        "comments",
        d.comments
            .iter()
            .map(|c| {
                let mut e = vec![Node::cdata("contents", c.contents.clone())];
                if let Some(a) = &c.author {
                    e.push(user("author", a));
                }
                e.opt_time("createdDate", c.created);
                Node::Elem("Comment", e)
            })
            .collect(),
    ));
    n.push(Node::bool("isScheduled", w.is_scheduled));
    if let Some(s) = &d.last_scan {
        let mut e = vec![Node::int("id", s.id)];
        if let Some(name) = &s.name {
            e.push(Node::cdata("name", name.clone()));
        }
        e.push(Node::text("status", s.status.clone()));
        e.push(Node::time("date", s.date));
        n.push(Node::Elem("lastScan", e));
    }
    if let Some(u) = &d.created_by {
        n.push(user("createdBy", u));
    }
    n.push(Node::time("createdDate", w.created));
    if let Some(u) = &d.updated_by {
        n.push(user("updatedBy", u));
    }
    n.push(Node::time("updatedDate", w.updated));
    if let Some(c) = &d.config {
        let e = match c {
            WebAppConfig::CancelScansAfterNHours(h) => Node::int("cancelScansAfterNHours", *h),
            WebAppConfig::CancelScansAt(t) => Node::text("cancelScansAt", t.clone()),
            WebAppConfig::DefaultAuthRecord(r) => id_name("defaultAuthRecord", r),
        };
        n.push(Node::Elem("config", vec![e]));
    }
    n.push(was_list(
        "crawlingScripts",
        d.crawling_scripts
            .iter()
            .map(|r| id_name("SeleniumScript", r))
            .collect(),
    ));
    Node::Elem("WebApp", n)
}

/// The answer of an on-demand scan request (release notes 3.16.1).
pub fn single_module_response(scan: ScanType, asset_ids: &[i64]) -> Node {
    let ids = asset_ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Node::Elem(
        "SingleModuleResponse",
        vec![
            Node::text("module", scan.label()),
            Node::int("count", asset_ids.len() as i64),
            Node::text("assetIds", format!("[{ids}]")),
            Node::text("responseCode", "SUCCESS"),
        ],
    )
}

/// A `Tag` of the Tag API, children included (always written, empty as `<list/>`).
pub fn tag(t: &openqps_model::Tag) -> Node {
    let mut n = vec![Node::int("id", t.id), Node::text("name", t.name.clone())];
    n.opt_int("parentTagId", t.parent_id);
    n.push(Node::time("created", t.created));
    n.push(Node::time("modified", t.modified));
    n.opt_text("color", &t.color);
    n.opt_text("ruleText", &t.rule_text);
    n.push(Node::text("ruleType", t.rule_type.clone()));
    n.opt_text("provider", &t.provider);
    n.push(Node::list(
        "children",
        t.children
            .iter()
            .map(|c| {
                Node::Elem(
                    "TagSimple",
                    vec![Node::int("id", c.id), Node::text("name", c.name.clone())],
                )
            })
            .collect(),
    ));
    n.opt_int("criticalityScore", t.criticality_score.map(i64::from));
    n.opt_text("description", &t.description);
    // Rules are applied in the same transaction that changes them, so an evaluated rule is
    // always complete; rule types openqps does not evaluate say so.
    if t.rule_type != "STATIC" {
        let evaluated = t.rule_type == "ASSET_SEARCH"
            || openqps_model::rules::EVALUATED.contains(&t.rule_type.as_str());
        n.push(Node::text(
            "reEvalStatus",
            if evaluated {
                "COMPLETED"
            } else {
                "NOT_EVALUATED"
            },
        ));
    }
    Node::Elem("Tag", n)
}

/// Keeps only the listed top-level elements of an object (always its `id`): what a request's
/// `fields` asks for. Names that the object does not have are ignored.
pub fn keep_fields(node: Node, names: &[String]) -> Node {
    match node {
        Node::Elem(name, children) => Node::Elem(
            name,
            children
                .into_iter()
                .filter(|c| c.name() == "id" || names.iter().any(|w| w == c.name()))
                .collect(),
        ),
        other => other,
    }
}

/// A Cloud Agent activation key (`AgentActKey`, QPS 1.0).
pub fn agent_act_key(k: &ActivationKey) -> Node {
    let mut n = vec![
        Node::int("id", k.id),
        Node::text("title", k.title.clone()),
        Node::text("activationKey", k.activation_key.clone()),
        Node::text("type", k.key_type.name()),
        Node::int("countPurchased", k.count_purchased),
        Node::int("countUsed", k.count_used),
    ];
    if let Some(t) = k.expire_date {
        n.push(Node::time("expireDate", t));
    }
    n.push(Node::time("created", k.created));
    n.push(Node::list(
        "modules",
        k.licenses
            .iter()
            .map(|l| {
                Node::Elem(
                    "ActivationKeyModule",
                    vec![Node::text("license", l.clone())],
                )
            })
            .collect(),
    ));
    n.push(Node::list(
        "tags",
        k.tag_ids
            .iter()
            .map(|id| Node::Elem("Tag", vec![Node::int("id", *id)]))
            .collect(),
    ));
    Node::Elem("AgentActKey", n)
}

/// A Cloud Agent configuration profile (`AgentConfig`, QPS 1.0).
pub fn agent_config(c: &AgentConfig) -> Node {
    let mut n = vec![Node::int("id", c.id), Node::text("name", c.name.clone())];
    if let Some(d) = &c.description {
        n.push(Node::text("description", d.clone()));
    }
    n.push(Node::bool("isDefault", c.is_default));
    n.push(Node::time("created", c.created));
    n.push(Node::time("modified", c.modified));
    Node::Elem("AgentConfig", n)
}
