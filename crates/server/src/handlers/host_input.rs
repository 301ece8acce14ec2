//! A `<HostAsset>` of a create or update body, read into a [`HostAssetChange`].

use crate::error::ApiError;
use openqps_model::{
    HostAsset, NetworkInterface, OpenPort, Processor, Software, TrackingMethod, Vuln,
};
use openqps_store::{HostAssetChange, ListOps, TagChanges};
use openqps_wire::request::decode_id_collection;
use openqps_wire::tree::Element;

/// Elements a client may read but not write.
const READ_ONLY: &[&str] = &[
    "id",
    "created",
    "modified",
    "type",
    "agentInfo",
    "sourceInfo",
    "vulnsUpdated",
    "informationGatheredUpdated",
    "cloudProvider",
];

fn invalid(element: &str, value: &str, expected: &str) -> ApiError {
    ApiError::invalid(format!("HostAsset {element}: invalid value '{value}'."))
        .resolution(expected.to_string())
}

fn text(el: &Element) -> Option<String> {
    let v = el.text.trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn long(el: &Element) -> Result<i64, ApiError> {
    let v = el.text.trim();
    v.parse()
        .map_err(|_| invalid(&el.name, v, "Give a whole number (Long)."))
}

fn non_negative(el: &Element) -> Result<i64, ApiError> {
    let v = long(el)?;
    if v < 0 {
        return Err(invalid(
            &el.name,
            el.text.trim(),
            "Give a whole number, 0 or more.",
        ));
    }
    Ok(v)
}

/// An IPv4 or IPv6 address, as hosts and interfaces carry them.
fn ip(el: &Element) -> Result<String, ApiError> {
    let v = el.text.trim();
    v.parse::<std::net::IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| invalid(&el.name, v, "Give an IPv4 or IPv6 address."))
}

fn time(el: &Element) -> Result<jiff::Timestamp, ApiError> {
    let v = el.text.trim();
    openqps_query::parse_instant(v)
        .ok_or_else(|| invalid(&el.name, v, "Give a time as YYYY-MM-DDTHH:MM:SSZ."))
}

fn child<'a>(el: &'a Element, name: &str) -> Option<&'a Element> {
    el.child(name)
}

/// Reads the body of one collection: `<openPort><add><HostAssetOpenPort>…`.
fn list_ops<T>(
    el: &Element,
    item: &str,
    parse: impl Fn(&Element) -> Result<T, ApiError>,
) -> Result<ListOps<T>, ApiError> {
    let mut ops = ListOps::default();
    for op in &el.children {
        let items = op
            .children
            .iter()
            .map(|it| {
                if it.name != item {
                    return Err(ApiError::invalid(format!(
                        "{}/{}: expected <{item}>, found <{}>.",
                        el.name, op.name, it.name
                    )));
                }
                parse(it)
            })
            .collect::<Result<Vec<T>, ApiError>>()?;
        match op.name.as_str() {
            "set" => ops.set = Some(items),
            "add" => ops.add.extend(items),
            "remove" => ops.remove.extend(items),
            "list" | "count" => {
                return Err(ApiError::invalid(format!(
                    "{}/{}: this element is read-only.",
                    el.name, op.name
                ))
                .resolution("Change a collection with set, add or remove."));
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "{}: unknown operation <{other}>.",
                    el.name
                ))
                .resolution("Change a collection with set, add or remove."));
            }
        }
    }
    Ok(ops)
}

fn port(el: &Element) -> Result<OpenPort, ApiError> {
    let port =
        child(el, "port").ok_or_else(|| ApiError::invalid("HostAssetOpenPort needs a <port>."))?;
    let p = port.text.trim();
    let number = p
        .parse::<u16>()
        .map_err(|_| invalid("port", p, "Give a port from 0 to 65535."))?;
    let protocol = child(el, "protocol")
        .and_then(text)
        .unwrap_or_else(|| "TCP".into());
    let protocol = match protocol.to_ascii_uppercase().as_str() {
        p @ ("TCP" | "UDP" | "ICMP") => p.to_string(),
        _ => {
            return Err(invalid(
                "protocol",
                &protocol,
                "Values expected: TCP, UDP, ICMP.",
            ));
        }
    };
    Ok(OpenPort {
        port: number.into(),
        protocol,
        service_id: child(el, "serviceId").map(long).transpose()?,
        service_name: child(el, "serviceName").and_then(text),
    })
}

fn software(el: &Element) -> Result<Software, ApiError> {
    Ok(Software {
        name: child(el, "name")
            .and_then(text)
            .ok_or_else(|| ApiError::invalid("HostAssetSoftware needs a <name>."))?,
        version: child(el, "version").and_then(text),
    })
}

fn vuln(el: &Element) -> Result<Vuln, ApiError> {
    let qid = child(el, "qid").ok_or_else(|| ApiError::invalid("HostAssetVuln needs a <qid>."))?;
    let now = jiff::Timestamp::now();
    let now = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let qid_value = long(qid)?;
    if qid_value <= 0 {
        return Err(invalid(
            "qid",
            qid.text.trim(),
            "Give a QID (a positive whole number).",
        ));
    }
    Ok(Vuln {
        qid: qid_value,
        host_instance_vuln_id: child(el, "hostInstanceVulnId")
            .map(long)
            .transpose()?
            .unwrap_or(0),
        first_found: child(el, "firstFound")
            .map(time)
            .transpose()?
            .unwrap_or(now),
        last_found: child(el, "lastFound").map(time).transpose()?.unwrap_or(now),
    })
}

fn processor(el: &Element) -> Result<Processor, ApiError> {
    Ok(Processor {
        name: child(el, "name")
            .and_then(text)
            .ok_or_else(|| ApiError::invalid("HostAssetProcessor needs a <name>."))?,
        speed: child(el, "speed")
            .map(|s| long(s).map(|v| v as i32))
            .transpose()?,
    })
}

fn volume(el: &Element) -> Result<openqps_model::Volume, ApiError> {
    Ok(openqps_model::Volume {
        name: child(el, "name")
            .and_then(text)
            .ok_or_else(|| ApiError::invalid("HostAssetVolume needs a <name>."))?,
        size: child(el, "size").map(non_negative).transpose()?,
        free: child(el, "free").map(non_negative).transpose()?,
    })
}

fn interface(el: &Element) -> Result<NetworkInterface, ApiError> {
    Ok(NetworkInterface {
        hostname: child(el, "hostname").and_then(text),
        interface_name: child(el, "interfaceName").and_then(text),
        mac_address: child(el, "macAddress").and_then(text),
        address: child(el, "address").map(ip).transpose()?,
        gateway_address: child(el, "gatewayAddress").map(ip).transpose()?,
    })
}

/// A `criticalityScore` of `object` (HostAsset or Asset): a whole number from 1 to 5.
pub fn criticality_score(object: &str, v: &str) -> Result<i32, ApiError> {
    v.parse::<i32>()
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| {
            ApiError::invalid(format!("{object} criticalityScore: invalid value '{v}'."))
                .resolution("Give a whole number from 1 to 5.")
        })
}

/// A `<tags>` element: the `set`, `add` and `remove` of `TagSimple` ids.
pub fn tag_changes(el: &Element) -> Result<TagChanges, ApiError> {
    let ops = decode_id_collection(el, "TagSimple", "tags")?;
    Ok(TagChanges {
        set: ops.set,
        add: ops.add,
        remove: ops.remove,
    })
}

/// Reads a HostAsset body of a create or update.
pub fn decode(data: &Element) -> Result<HostAssetChange, ApiError> {
    super::refuse_repeats(data)?;
    let mut c = HostAssetChange::default();
    let f = &mut c.fields;
    for el in &data.children {
        let v = el.text.trim();
        match el.name.as_str() {
            "name" => {
                f.name = Some(
                    text(el).ok_or_else(|| ApiError::invalid("HostAsset name cannot be empty."))?,
                )
            }
            "criticalityScore" => f.criticality_score = Some(criticality_score("HostAsset", v)?),
            "qwebHostId" => f.qweb_host_id = Some(long(el)?),
            "lastVulnScan" => f.last_vuln_scan = Some(time(el)?),
            "lastComplianceScan" => f.last_compliance_scan = Some(time(el)?),
            "lastSystemBoot" => f.last_system_boot = Some(time(el)?),
            "lastLoggedOnUser" => f.last_logged_on_user = text(el),
            "fqdn" => f.fqdn = text(el),
            "os" => f.os = text(el),
            "dnsHostName" => f.dns_host_name = text(el),
            "netbiosName" => f.netbios_name = text(el),
            "address" => f.address = Some(ip(el)?),
            "trackingMethod" => {
                f.tracking_method = Some(TrackingMethod::parse(v).ok_or_else(|| {
                    invalid(
                        "trackingMethod",
                        v,
                        &format!("Values expected: {}.", TrackingMethod::ALL.join(", ")),
                    )
                })?)
            }
            "manufacturer" => f.manufacturer = text(el),
            "model" => f.model = text(el),
            "totalMemory" => f.total_memory = Some(non_negative(el)?),
            "biosDescription" => f.bios_description = text(el),
            "isDockerHost" => {
                f.is_docker_host = Some(match v {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid("isDockerHost", v, "Values expected: true, false.")),
                })
            }
            "domain" => f.domain = text(el),
            "timezone" => f.timezone = text(el),
            "networkGuid" => f.network_guid = text(el),
            "netbiosNetworkId" => f.netbios_network_id = Some(long(el)?),
            "dockerInfo" => {
                f.docker = Some(openqps_model::DockerInfo {
                    version: child(el, "dockerVersion").and_then(text),
                    containers: child(el, "noOfContainers").map(long).transpose()?,
                    images: child(el, "noOfImages").map(long).transpose()?,
                })
            }
            "volume" => c.volumes = list_ops(el, "HostAssetVolume", volume)?,
            "account" => {
                c.accounts = list_ops(el, "HostAssetAccount", |a| {
                    child(a, "username")
                        .and_then(text)
                        .ok_or_else(|| ApiError::invalid("HostAssetAccount needs a <username>."))
                })?
            }
            "tags" => c.tags = tag_changes(el)?,
            "openPort" => c.open_ports = list_ops(el, "HostAssetOpenPort", port)?,
            "software" => c.software = list_ops(el, "HostAssetSoftware", software)?,
            "vuln" => c.vulns = list_ops(el, "HostAssetVuln", vuln)?,
            "processor" => c.processors = list_ops(el, "HostAssetProcessor", processor)?,
            "networkInterface" => {
                c.network_interfaces = list_ops(el, "HostAssetInterface", interface)?
            }
            ro if READ_ONLY.contains(&ro) => {
                return Err(ApiError::invalid(format!(
                    "{ro}: An error occurred while validating the element; it is read-only."
                ))
                .resolution("Leave read-only elements out of create and update requests."));
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "HostAsset element <{other}> cannot be written by this server."
                ))
                .resolution("See docs/compatibility.md for the HostAsset fields openqps writes."));
            }
        }
    }
    Ok(c)
}

/// The host a create makes: the change applied to an empty host; `name` is required.
pub fn new_host(change: &HostAssetChange) -> Result<HostAsset, ApiError> {
    if change.fields.name.is_none() {
        return Err(ApiError::invalid("A new HostAsset needs a <name>.")
            .resolution("Add <name>…</name> under data/HostAsset."));
    }
    if !change.tags.remove.is_empty() {
        return Err(ApiError::invalid(
            "A new HostAsset has no tags to remove; give its tags as tags/set or tags/add.",
        ));
    }
    let mut h = HostAsset::new(
        "",
        TrackingMethod::parse("NONE").expect("NONE is a tracking method"),
        jiff::Timestamp::UNIX_EPOCH,
    );
    change.apply_to(&mut h);
    h.tags = change
        .tags
        .set
        .iter()
        .flatten()
        .chain(&change.tags.add)
        .map(|id| openqps_model::TagRef {
            id: *id,
            name: String::new(),
        })
        .collect();
    Ok(h)
}
