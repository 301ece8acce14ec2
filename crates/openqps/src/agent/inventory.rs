//! Inventory of this Linux machine, from /etc, /proc and /sys: what an Inventory scan uploads.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn read_trim(path: &str) -> Option<String> {
    read(path)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `PRETTY_NAME` of /etc/os-release (or `NAME VERSION`).
pub fn os_name() -> Option<String> {
    let text = read("/etc/os-release").or_else(|| read("/usr/lib/os-release"))?;
    let mut kv = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            kv.insert(k.trim(), v.trim().trim_matches('"').to_string());
        }
    }
    kv.get("PRETTY_NAME").cloned().or_else(|| {
        let name = kv.get("NAME")?;
        Some(match kv.get("VERSION") {
            Some(v) => format!("{name} {v}"),
            None => name.clone(),
        })
    })
}

pub fn hostname() -> String {
    read_trim("/proc/sys/kernel/hostname").unwrap_or_else(|| "localhost".into())
}

/// Installed packages: dpkg status, else `rpm -qa` when rpm is there.
pub fn packages() -> Vec<(String, String)> {
    if let Some(text) = read("/var/lib/dpkg/status") {
        return dpkg_status(&text);
    }
    let out = std::process::Command::new("rpm")
        .args(["-qa", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn dpkg_status(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut name, mut version, mut installed) = (None, None, false);
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                name = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Status:") {
                installed = v.trim().ends_with(" installed");
            }
        }
        if let (Some(n), Some(v), true) = (name, version, installed) {
            out.push((n, v));
        }
    }
    out
}

/// Listening TCP ports (state 0A) and bound UDP ports, from /proc/net.
pub fn open_ports() -> Vec<(u16, &'static str)> {
    let mut ports = BTreeSet::new();
    for (file, proto, only_listen) in [
        ("/proc/net/tcp", "TCP", true),
        ("/proc/net/tcp6", "TCP", true),
        ("/proc/net/udp", "UDP", false),
        ("/proc/net/udp6", "UDP", false),
    ] {
        let Some(text) = read(file) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 4 || (only_listen && cols[3] != "0A") {
                continue;
            }
            let port = cols[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                .unwrap_or(0);
            if port != 0 {
                ports.insert((port, proto));
            }
        }
    }
    ports.into_iter().collect()
}

fn processors() -> Vec<Value> {
    let Some(text) = read("/proc/cpuinfo") else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut mhz: Option<i64> = None;
    let mut name: Option<String> = None;
    let mut flush = |name: &mut Option<String>, mhz: &mut Option<i64>, out: &mut Vec<Value>| {
        if let Some(n) = name.take()
            && seen.insert(n.clone())
        {
            out.push(json!({"name": n, "speed": mhz.take()}));
        }
        *mhz = None;
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut name, &mut mhz, &mut out);
        } else if let Some((k, v)) = line.split_once(':') {
            match k.trim() {
                "model name" | "Model" | "cpu model" => name = Some(v.trim().to_string()),
                "cpu MHz" => mhz = v.trim().parse::<f64>().ok().map(|f| f as i64),
                _ => {}
            }
        }
    }
    flush(&mut name, &mut mhz, &mut out);
    out
}

fn total_memory_mb() -> Option<i64> {
    let text = read("/proc/meminfo")?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn boot_time() -> Option<String> {
    let text = read("/proc/stat")?;
    let secs: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    jiff::Timestamp::from_second(secs)
        .ok()
        .map(|t| t.to_string())
}

fn hex_ipv4(h: &str) -> Option<u32> {
    u32::from_str_radix(h, 16).ok().map(u32::from_be) // /proc/net/route is host (little) endian
}

fn ipv4_text(a: u32) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

/// Local IPv4 addresses from /proc/net/fib_trie (`/32 host LOCAL` entries).
fn local_ipv4() -> Vec<u32> {
    let Some(text) = read("/proc/net/fib_trie") else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    let mut last: Option<u32> = None;
    for line in text.lines() {
        let t = line.trim_start_matches([' ', '|', '+', '-', '`']).trim();
        if let Ok(a) = t.parse::<std::net::Ipv4Addr>() {
            last = Some(u32::from(a));
        } else if t.contains("host LOCAL")
            && let Some(a) = last
            && !std::net::Ipv4Addr::from(a).is_loopback()
        {
            out.insert(a);
        }
    }
    out.into_iter().collect()
}

/// Interfaces with their MAC and an address: IPv4 (matched to routes), else IPv6. The server
/// keeps one entry per interface name.
fn network_interfaces() -> (Vec<Value>, Option<String>) {
    let mut routes = Vec::new(); // (iface, dest, mask, gateway)
    if let Some(text) = read("/proc/net/route") {
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split_whitespace().collect();
            if c.len() >= 8
                && let (Some(d), Some(g), Some(m)) =
                    (hex_ipv4(c[1]), hex_ipv4(c[2]), hex_ipv4(c[7]))
            {
                routes.push((c[0].to_string(), d, m, g));
            }
        }
    }
    let gateway_of = |iface: &str| {
        routes
            .iter()
            .find(|(i, d, _, g)| i == iface && *d == 0 && *g != 0)
            .map(|(_, _, _, g)| ipv4_text(*g))
    };
    let mac_of = |iface: &str| {
        read_trim(&format!("/sys/class/net/{iface}/address")).filter(|m| m != "00:00:00:00:00:00")
    };
    let mut out = Vec::new();
    let mut first = None;
    for a in local_ipv4() {
        let iface = routes
            .iter()
            .filter(|(_, d, m, _)| *m != 0 && a & m == *d)
            .max_by_key(|(_, _, m, _)| m.count_ones())
            .map(|(i, ..)| i.clone());
        first.get_or_insert_with(|| ipv4_text(a));
        let mut o = Map::new();
        o.insert("address".into(), json!(ipv4_text(a)));
        if let Some(i) = &iface {
            o.insert("interfaceName".into(), json!(i));
            if let Some(m) = mac_of(i) {
                o.insert("macAddress".into(), json!(m));
            }
            if let Some(g) = gateway_of(i) {
                o.insert("gatewayAddress".into(), json!(g));
            }
        }
        out.push(Value::Object(o));
    }
    if let Some(text) = read("/proc/net/if_inet6") {
        for line in text.lines() {
            let c: Vec<&str> = line.split_whitespace().collect();
            // The server keys interfaces by name: one entry each, IPv4 first.
            let taken = out
                .iter()
                .any(|o| o["interfaceName"] == c.get(5).copied().unwrap_or(""));
            if c.len() < 6 || c[5] == "lo" || c[0].len() != 32 || taken {
                continue;
            }
            let groups: Vec<&str> = (0..8).map(|i| &c[0][i * 4..i * 4 + 4]).collect();
            let Ok(addr) = groups.join(":").parse::<std::net::Ipv6Addr>() else {
                continue;
            };
            let mut o = Map::new();
            o.insert("address".into(), json!(addr.to_string()));
            o.insert("interfaceName".into(), json!(c[5]));
            if let Some(m) = mac_of(c[5]) {
                o.insert("macAddress".into(), json!(m));
            }
            out.push(Value::Object(o));
        }
    }
    (out, first)
}

/// The inventory object of the result upload (docs/agent-protocol.md).
pub fn collect() -> Value {
    let mut o = Map::new();
    if let Some(os) = os_name() {
        o.insert("os".into(), json!(os));
    }
    o.insert("dnsHostName".into(), json!(hostname()));
    for (key, file) in [
        ("manufacturer", "/sys/class/dmi/id/sys_vendor"),
        ("model", "/sys/class/dmi/id/product_name"),
        ("biosDescription", "/sys/class/dmi/id/bios_version"),
    ] {
        if let Some(v) = read_trim(file) {
            o.insert(key.into(), json!(v));
        }
    }
    if let Some(m) = total_memory_mb() {
        o.insert("totalMemory".into(), json!(m));
    }
    if let Some(b) = boot_time() {
        o.insert("lastSystemBoot".into(), json!(b));
    }
    let software: Vec<Value> = packages()
        .into_iter()
        .map(|(n, v)| json!({"name": n, "version": v}))
        .collect();
    o.insert("software".into(), Value::Array(software));
    let ports: Vec<Value> = open_ports()
        .into_iter()
        .map(|(p, proto)| json!({"port": p, "protocol": proto}))
        .collect();
    o.insert("openPorts".into(), Value::Array(ports));
    o.insert("processors".into(), Value::Array(processors()));
    let (nics, first) = network_interfaces();
    o.insert("networkInterfaces".into(), Value::Array(nics));
    if let Some(a) = first {
        o.insert("address".into(), json!(a));
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_stanzas() {
        let s = "Package: bash\nStatus: install ok installed\nVersion: 5.2\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n";
        assert_eq!(
            dpkg_status(s),
            vec![("bash".to_string(), "5.2".to_string())]
        );
    }

    #[test]
    fn collects_this_machine() {
        let inv = collect();
        assert!(inv["dnsHostName"].is_string());
    }
}
