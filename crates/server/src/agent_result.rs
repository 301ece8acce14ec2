//! The JSON of a job result (`POST /agent/v1/jobs/{id}/result`, docs/agent-protocol.md):
//! `{"inventory": {…}}` or `{"sbom": <CycloneDX 1.4–1.6 JSON>}`, decoded into a [`ScanResult`].

use openqps_model::{NetworkInterface, OpenPort, Processor, Software, Volume};
use openqps_store::{HostAssetChange, ListOps, ScanResult, SwComponent};

use serde_json::{Map, Value};

type Obj = Map<String, Value>;

fn text(o: &Obj, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("'{key}' must be a string.")),
    }
}

fn int(o: &Obj, key: &str) -> Result<Option<i64>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be a whole number, 0 or more.")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be a whole number, 0 or more.")),
        Some(_) => Err(format!("'{key}' must be a whole number.")),
    }
}

/// The objects of the list `key`; `None` when absent (the host's list stays as it is).
fn list<'a>(o: &'a Obj, key: &str) -> Result<Option<Vec<&'a Obj>>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| format!("'{key}' must be a list of objects."))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("'{key}' must be a list.")),
    }
}

fn required(o: &Obj, key: &str, list: &str) -> Result<String, String> {
    text(o, key)?.ok_or_else(|| format!("Each item of '{list}' needs '{key}'."))
}

fn set<T>(items: Option<Vec<T>>) -> ListOps<T> {
    ListOps {
        set: items,
        ..ListOps::default()
    }
}

pub fn parse(body: &Value) -> Result<ScanResult, String> {
    let o = body
        .as_object()
        .ok_or("The body must be a JSON object: {\"inventory\": {…}} or {\"sbom\": {…}}.")?;
    match (o.get("inventory"), o.get("sbom")) {
        (Some(Value::Object(inv)), None) => {
            inventory(inv).map(|c| ScanResult::Inventory(Box::new(c)))
        }
        (None, Some(sbom @ Value::Object(_))) => components(sbom).map(ScanResult::SwCa),
        _ => Err(
            "Send exactly one of 'inventory' (an object) or 'sbom' (a CycloneDX JSON document)."
                .to_string(),
        ),
    }
}

fn inventory(o: &Obj) -> Result<HostAssetChange, String> {
    let mut c = HostAssetChange::default();
    let f = &mut c.fields;
    f.os = text(o, "os")?;
    f.manufacturer = text(o, "manufacturer")?;
    f.model = text(o, "model")?;
    f.bios_description = text(o, "biosDescription")?;
    f.total_memory = int(o, "totalMemory")?;
    f.address = text(o, "address")?;
    f.dns_host_name = text(o, "dnsHostName")?;
    f.fqdn = text(o, "fqdn")?;
    f.timezone = text(o, "timezone")?;
    f.last_system_boot = match text(o, "lastSystemBoot")? {
        None => None,
        Some(t) => Some(
            t.parse::<jiff::Timestamp>()
                .map_err(|_| format!("'lastSystemBoot' ({t}) is not an RFC 3339 time."))?,
        ),
    };
    c.software = set(list(o, "software")?
        .map(|items| {
            items
                .into_iter()
                .map(|s| {
                    Ok(Software {
                        name: required(s, "name", "software")?,
                        version: text(s, "version")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?);
    c.open_ports = set(list(o, "openPorts")?
        .map(|items| {
            items
                .into_iter()
                .map(|p| {
                    let port = int(p, "port")?
                        .filter(|n| (1..=65535).contains(n))
                        .ok_or("Each item of 'openPorts' needs 'port' from 1 to 65535.")?;
                    let protocol = required(p, "protocol", "openPorts")?.to_ascii_uppercase();
                    if protocol != "TCP" && protocol != "UDP" {
                        return Err(format!("'protocol' must be TCP or UDP, not {protocol}."));
                    }
                    Ok(OpenPort {
                        port: port as i32,
                        protocol,
                        service_id: None,
                        service_name: text(p, "serviceName")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?);
    c.processors = set(list(o, "processors")?
        .map(|items| {
            items
                .into_iter()
                .map(|p| {
                    Ok(Processor {
                        name: required(p, "name", "processors")?,
                        speed: int(p, "speed")?.map(|s| s.min(i64::from(i32::MAX)) as i32),
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?);
    c.network_interfaces = set(list(o, "networkInterfaces")?
        .map(|items| {
            items
                .into_iter()
                .map(|n| {
                    Ok(NetworkInterface {
                        hostname: text(n, "hostname")?,
                        interface_name: text(n, "interfaceName")?,
                        mac_address: text(n, "macAddress")?,
                        address: text(n, "address")?,
                        gateway_address: text(n, "gatewayAddress")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?);
    c.volumes = set(list(o, "volumes")?
        .map(|items| {
            items
                .into_iter()
                .map(|v| {
                    Ok(Volume {
                        name: required(v, "name", "volumes")?,
                        size: int(v, "size")?,
                        free: int(v, "free")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?);
    Ok(c)
}

/// The components of a SwCA result's CycloneDX document, each with a name.
fn components(sbom: &Value) -> Result<Vec<SwComponent>, String> {
    let found = openqps_sbom::read(sbom.clone()).map_err(|e| format!("'sbom': {e}"))?;
    match found.iter().position(|c| c.name.trim().is_empty()) {
        Some(i) => Err(format!("'sbom': component {i} has an empty name.")),
        None => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_and_components() {
        let v: Value = serde_json::from_str(
            r#"{"inventory":{"os":"Debian 12","totalMemory":2048,"lastSystemBoot":"2026-01-01T00:00:00Z",
                "software":[{"name":"bash","version":"5.2"}],"openPorts":[{"port":22,"protocol":"tcp"}]}}"#,
        )
        .unwrap();
        let ScanResult::Inventory(c) = parse(&v).unwrap() else {
            panic!("not inventory")
        };
        assert_eq!(c.fields.os.as_deref(), Some("Debian 12"));
        assert_eq!(c.open_ports.set.as_ref().unwrap()[0].protocol, "TCP");
        assert!(c.volumes.set.is_none());
        let v: Value = serde_json::from_str(
            r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
                "components":[{"type":"library","name":"serde","version":"1.0.0"}]}}"#,
        )
        .unwrap();
        assert!(matches!(parse(&v).unwrap(), ScanResult::SwCa(c) if c.len() == 1));
        for bad in [
            r#"{}"#,
            r#"{"components":[{"name":"serde"}]}"#,
            r#"{"sbom":[]}"#,
            r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library"}]}}"#,
            r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":" "}]}}"#,
            r#"{"sbom":{"bomFormat":"SPDX","specVersion":"1.6","version":1}}"#,
            r#"{"inventory":{"openPorts":[{"port":0,"protocol":"TCP"}]}}"#,
            r#"{"inventory":{"lastSystemBoot":"yesterday"}}"#,
        ] {
            assert!(parse(&serde_json::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
