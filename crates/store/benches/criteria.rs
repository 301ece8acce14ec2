//! `cargo bench -p openqps-store --bench criteria`: how fast criteria run in SQL on a large
//! subscription (100,000 hosts by default, `OPENQPS_BENCH_HOSTS` to change), page by page.
//! Each query prints its median over repeated runs; compare with docs/performance.md.

use openqps_model::{HostAsset, OpenPort, Software, Tag, TagRef, Timestamp, TrackingMethod};
use openqps_query::fields::HOSTASSET;
use openqps_query::{RawCriterion, compile};
use openqps_store::{Dataset, PageRequest, SqliteStore, Store};
use std::time::{Duration, Instant};

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn raw(field: &str, op: &str, value: &str) -> RawCriterion {
    RawCriterion {
        field: field.into(),
        operator: op.into(),
        value: value.into(),
        name: None,
    }
}

fn host(id: i64, tags: &[Tag]) -> HostAsset {
    let n = id as usize;
    let prefixes = [
        "web", "db", "app", "mail", "file", "dc", "build", "cache", "proxy", "vpn",
    ];
    let tracking = ["IP", "DNSNAME", "NETBIOS", "QAGENT", "EC2_INSTANCE_ID"];
    HostAsset {
        id,
        name: format!("{}-{:07}.example.com", prefixes[n % 10], id),
        created: t(1_600_000_000 + id),
        modified: t(1_600_000_000 + id),
        tags: [n % 200, (n * 7 + 3) % 200, (n * 13 + 5) % 200]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|i| TagRef {
                id: tags[i].id,
                name: tags[i].name.clone(),
            })
            .collect(),
        criticality_score: Some((n % 5) as i32 + 1),
        qweb_host_id: Some(id * 3),
        last_vuln_scan: Some(t(1_700_000_000 + (n % 365) as i64 * 86_400)),
        last_compliance_scan: None,
        last_system_boot: None,
        last_logged_on_user: None,
        fqdn: None,
        os: Some(["Ubuntu 22.04", "Windows Server 2019", "RHEL 9"][n % 3].into()),
        dns_host_name: None,
        netbios_name: None,
        address: Some(format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255)),
        tracking_method: TrackingMethod::parse(tracking[n % 5]).unwrap(),
        manufacturer: None,
        model: None,
        total_memory: None,
        bios_description: None,
        agent: None,
        open_ports: vec![OpenPort {
            port: [22, 80, 443, 3389, 5432][n % 5],
            protocol: "TCP".into(),
            service_id: None,
            service_name: None,
        }],
        software: vec![Software {
            name: ["OpenSSH", "nginx", "PostgreSQL", "IIS"][n % 4].into(),
            version: Some("1.0".into()),
        }],
        vulns: Vec::new(),
        processors: Vec::new(),
        network_interfaces: Vec::new(),
        is_docker_host: false,
        details: Default::default(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this once as a smoke test on
    // a small data set.
    let full = std::env::args().any(|a| a == "--bench");
    let count: i64 = std::env::var("OPENQPS_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 100_000 } else { 1_000 });
    let dir = std::env::temp_dir().join(format!("openqps-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("bench.db")).await.unwrap();
    let sub = store.bootstrap("x", t(1)).await.unwrap().unwrap();
    let tags: Vec<Tag> = (0..200)
        .map(|i| Tag {
            id: i + 1,
            name: format!("Tag-{}", i + 1),
            created: t(1),
            modified: t(1),
            color: None,
            rule_type: "STATIC".into(),
            rule_text: None,
            parent_id: None,
            criticality_score: None,
            description: None,
            provider: None,
            children: Vec::new(),
        })
        .collect();
    let started = Instant::now();
    let hosts: Vec<HostAsset> = (1..=count).map(|id| host(id, &tags)).collect();
    store
        .load(
            sub,
            &Dataset {
                tags,
                hosts,
                webapps: Vec::new(),
                ..Dataset::default()
            },
        )
        .await
        .unwrap();
    println!("loaded {count} hosts in {:.1?}", started.elapsed());

    let page = |from: Option<i64>| PageRequest {
        start_from_offset: None,
        start_from_id: from,
        limit: 100,
    };
    let deep = Some(count * 9 / 10);
    let cases: Vec<(&str, Vec<RawCriterion>, Option<i64>)> = vec![
        ("all, first page", vec![], None),
        (
            "trackingMethod EQUALS QAGENT",
            vec![raw("trackingMethod", "EQUALS", "QAGENT")],
            None,
        ),
        (
            "trackingMethod, deep keyset page",
            vec![raw("trackingMethod", "EQUALS", "QAGENT")],
            deep,
        ),
        (
            "tagName EQUALS Tag-42",
            vec![raw("tagName", "EQUALS", "Tag-42")],
            None,
        ),
        (
            "tagId EQUALS 42, deep keyset page",
            vec![raw("tagId", "EQUALS", "42")],
            deep,
        ),
        (
            "name CONTAINS web (dense)",
            vec![raw("name", "CONTAINS", "web")],
            None,
        ),
        (
            "port EQUALS 3389",
            vec![raw("port", "EQUALS", "3389")],
            None,
        ),
        (
            "installedSoftware CONTAINS nginx",
            vec![raw("installedSoftware", "CONTAINS", "nginx")],
            None,
        ),
        (
            "id IN (100 ids)",
            vec![raw(
                "id",
                "IN",
                &(1..=100)
                    .map(|i| (i * 97).to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            )],
            None,
        ),
    ];
    println!(
        "{:<40} {:>12} {:>8}",
        "query (page of 100, full hosts)", "median", "rows"
    );
    for (label, criteria, from) in cases {
        let filter = compile("HostAsset", HOSTASSET, &criteria).unwrap();
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..15 {
            let start = Instant::now();
            let p = store
                .search_host_assets(sub, &filter, page(from))
                .await
                .unwrap();
            times.push(start.elapsed());
            rows = p.items.len();
        }
        println!("{label:<40} {:>12.2?} {rows:>8}", median(times));
    }
    let mut times = Vec::new();
    for i in 0..200 {
        let start = Instant::now();
        store
            .get_host_asset(sub, (i * 487) % count + 1)
            .await
            .unwrap();
        times.push(start.elapsed());
    }
    println!("{:<40} {:>12.2?} {:>8}", "get by id", median(times), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
