//! Differential test: random criteria over random host assets give the same ids from SQL, on
//! SQLite and on PostgreSQL, as from the reference evaluator (`openqps_query::eval`).

mod support;

use openqps_model::{HostAsset, OpenPort, Tag, TagRef, Timestamp, TrackingMethod};
use openqps_query::eval::{Actual, holds};
use openqps_query::fields::{HOSTASSET, HostField};
use openqps_query::{RawCriterion, compile};
use openqps_store::{Dataset, PageRequest};
use proptest::prelude::*;
use support::Backend;

const TAGS: [&str; 4] = ["Prod", "prod-eu", "Web 100%", "db_x"];
// "É"/"é": case folding is ASCII only, in the evaluator and on both back-ends.
const WORDS: [&str; 10] = [
    "web", "WEB", "db", "100%", "a_b", "Prod", "eu", " ", "É", "é",
];
const TRACKING: [&str; 4] = ["IP", "DNSNAME", "QAGENT", "BMC Helix"];

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

#[derive(Debug, Clone)]
struct HostSpec {
    name: String,
    os: Option<String>,
    qweb: Option<i64>,
    tracking: usize,
    tags: Vec<usize>,
    ports: Vec<i32>,
    scan: Option<i64>,
}

fn host_spec() -> impl Strategy<Value = HostSpec> {
    (
        prop::collection::vec(0..WORDS.len(), 1..4),
        prop::option::of(prop::collection::vec(0..WORDS.len(), 1..3)),
        prop::option::of(0i64..5),
        0..TRACKING.len(),
        prop::collection::btree_set(0..TAGS.len(), 0..3),
        prop::collection::btree_set(prop::sample::select(vec![22, 80, 443, 3389]), 0..3),
        prop::option::of(0i64..4),
    )
        .prop_map(|(name, os, qweb, tracking, tags, ports, scan)| HostSpec {
            name: name.iter().map(|i| WORDS[*i]).collect::<Vec<_>>().join("-"),
            os: os.map(|w| w.iter().map(|i| WORDS[*i]).collect::<Vec<_>>().join(" ")),
            qweb,
            tracking,
            tags: tags.into_iter().collect(),
            ports: ports.into_iter().collect(),
            scan: scan.map(|d| 1_700_000_000 + d * 86_400),
        })
}

fn criterion() -> impl Strategy<Value = RawCriterion> {
    let word = || prop::sample::select(WORDS.to_vec()).prop_map(str::to_string);
    let text_op = || prop::sample::select(vec!["EQUALS", "NOT EQUALS", "CONTAINS"]);
    let int_op = || prop::sample::select(vec!["EQUALS", "NOT EQUALS", "GREATER", "LESSER"]);
    let raw = |f: &str, o: &str, v: String| RawCriterion {
        field: f.into(),
        operator: o.into(),
        value: v,
        name: None,
    };
    prop_oneof![
        (text_op(), word()).prop_map(move |(o, v)| raw("name", o, v)),
        (text_op(), word()).prop_map(move |(o, v)| raw("os", o, v)),
        (text_op(), prop::sample::select(TAGS.to_vec())).prop_map(move |(o, v)| raw(
            "tagName",
            o,
            v.into()
        )),
        (int_op(), 1i64..6).prop_map(move |(o, v)| raw("tagId", o, v.to_string())),
        (
            int_op(),
            prop::sample::select(vec![22, 80, 443, 3389, 8080])
        )
            .prop_map(move |(o, v)| raw("port", o, v.to_string())),
        (int_op(), 0i64..6).prop_map(move |(o, v)| raw("qwebHostId", o, v.to_string())),
        prop::collection::vec(0i64..6, 1..4).prop_map(move |v| raw(
            "qwebHostId",
            "IN",
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )),
        (
            prop::sample::select(vec!["EQUALS", "NOT EQUALS", "IN"]),
            prop::sample::select(TRACKING.to_vec())
        )
            .prop_map(move |(o, v)| raw("trackingMethod", o, v.into())),
        (int_op(), 0i64..4).prop_map(move |(o, d)| raw(
            "lastVulnScan",
            o,
            Timestamp::from_second(1_700_000_000 + d * 86_400)
                .unwrap()
                .strftime("%Y-%m-%d")
                .to_string()
        )),
    ]
}

fn host(id: i64, s: &HostSpec) -> HostAsset {
    HostAsset {
        id,
        name: s.name.clone(),
        created: t(1_600_000_000),
        modified: t(1_600_000_000),
        tags: s
            .tags
            .iter()
            .map(|i| TagRef {
                id: *i as i64 + 1,
                name: TAGS[*i].into(),
            })
            .collect(),
        criticality_score: None,
        qweb_host_id: s.qweb,
        last_vuln_scan: s.scan.map(t),
        last_compliance_scan: None,
        last_system_boot: None,
        last_logged_on_user: None,
        fqdn: None,
        os: s.os.clone(),
        dns_host_name: None,
        netbios_name: None,
        address: None,
        tracking_method: TrackingMethod::parse(TRACKING[s.tracking]).unwrap(),
        manufacturer: None,
        model: None,
        total_memory: None,
        bios_description: None,
        agent: None,
        open_ports: s
            .ports
            .iter()
            .map(|p| OpenPort {
                port: *p,
                protocol: "TCP".into(),
                service_id: None,
                service_name: None,
            })
            .collect(),
        software: Vec::new(),
        vulns: Vec::new(),
        processors: Vec::new(),
        network_interfaces: Vec::new(),
        is_docker_host: false,
        details: Default::default(),
    }
}

fn actual(h: &HostAsset, f: HostField) -> Actual {
    match f {
        HostField::Name => Actual::Text(vec![h.name.clone()]),
        HostField::Os => Actual::Text(h.os.iter().cloned().collect()),
        HostField::TagName => Actual::Text(h.tags.iter().map(|t| t.name.clone()).collect()),
        HostField::TagId => Actual::Int(h.tags.iter().map(|t| t.id).collect()),
        HostField::Port => Actual::Int(h.open_ports.iter().map(|p| i64::from(p.port)).collect()),
        HostField::QwebHostId => Actual::Int(h.qweb_host_id.into_iter().collect()),
        HostField::TrackingMethod => Actual::Text(vec![h.tracking_method.as_str().to_string()]),
        HostField::LastVulnScan => {
            Actual::Time(h.last_vuln_scan.iter().map(|t| t.as_second()).collect())
        }
        other => panic!("no oracle for {other:?}"),
    }
}

/// The ids `backend` finds for `filter` over `hosts`, on a fresh database; `None` when the
/// back-end is not configured (see `support`).
fn search(
    backend: Backend,
    hosts: &[HostAsset],
    filter: &openqps_query::Filter<HostField>,
) -> Option<Vec<i64>> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let db = support::open(backend, "diff").await?;
            let store = &db.store;
            let sub = store.bootstrap("x", t(1)).await.unwrap().unwrap();
            let tags = TAGS
                .iter()
                .enumerate()
                .map(|(i, n)| Tag {
                    id: i as i64 + 1,
                    name: (*n).into(),
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
            store
                .load(
                    sub,
                    &Dataset {
                        tags,
                        hosts: hosts.to_vec(),
                        ..Dataset::default()
                    },
                )
                .await
                .unwrap();
            let page = PageRequest {
                start_from_offset: None,
                start_from_id: None,
                limit: 1000,
            };
            let ids: Vec<i64> = store
                .search_host_assets(sub, filter, page)
                .await
                .unwrap()
                .items
                .iter()
                .map(|h| h.id)
                .collect();
            db.close().await;
            Some(ids)
        })
}

fn expected(hosts: &[HostAsset], filter: &openqps_query::Filter<HostField>) -> Vec<i64> {
    hosts
        .iter()
        .filter(|h| {
            filter
                .conditions
                .iter()
                .all(|c| holds(c, &actual(h, c.target)))
        })
        .map(|h| h.id)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// SQLite = evaluator, and PostgreSQL = evaluator when it is configured (see `support`).
    #[test]
    fn sql_matches_the_reference_evaluator(
        specs in prop::collection::vec(host_spec(), 0..25),
        criteria in prop::collection::vec(criterion(), 1..4),
    ) {
        let hosts: Vec<HostAsset> = specs.iter().enumerate().map(|(i, s)| host(i as i64 + 1, s)).collect();
        let filter = compile("HostAsset", HOSTASSET, &criteria).unwrap();
        let want = expected(&hosts, &filter);
        // Asked once: without a server (outside CI) the notice is printed once, not per case.
        static POSTGRES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let postgres = *POSTGRES.get_or_init(|| support::postgres_server().is_some());
        for backend in [Backend::Sqlite, Backend::Postgres] {
            if backend == Backend::Postgres && !postgres {
                continue;
            }
            let got = search(backend, &hosts, &filter).unwrap();
            prop_assert_eq!(&got, &want, "{:?}, criteria {:?}", backend, criteria);
        }
    }
}
