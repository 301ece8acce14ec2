//! The storage contract, checked on the SQLite back-end: subscription isolation, criteria
//! semantics against the reference evaluator, and index use of collection filters.

use openqps_model::{HostAsset, SubscriptionId, Tag, TagRef, Timestamp, TrackingMethod};
use openqps_query::fields::{HOSTASSET, HostField};
use openqps_query::{RawCriterion, compile};
use openqps_store::{Dataset, PageRequest, SqliteStore, Store};

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn host(id: i64, name: &str, os: Option<&str>, tags: &[(i64, &str)]) -> HostAsset {
    HostAsset {
        id,
        name: name.into(),
        created: t(1_700_000_000 + id),
        modified: t(1_700_000_000 + id),
        tags: tags
            .iter()
            .map(|(id, n)| TagRef {
                id: *id,
                name: n.to_string(),
            })
            .collect(),
        criticality_score: None,
        qweb_host_id: Some(id * 10),
        last_vuln_scan: None,
        last_compliance_scan: None,
        last_system_boot: None,
        last_logged_on_user: None,
        fqdn: None,
        os: os.map(str::to_string),
        dns_host_name: None,
        netbios_name: None,
        address: None,
        tracking_method: TrackingMethod::IP,
        manufacturer: None,
        model: None,
        total_memory: None,
        bios_description: None,
        agent: None,
        open_ports: Vec::new(),
        software: Vec::new(),
        vulns: Vec::new(),
        processors: Vec::new(),
        network_interfaces: Vec::new(),
        is_docker_host: false,
    }
}

fn tag(id: i64, name: &str) -> Tag {
    Tag {
        id,
        name: name.into(),
        created: t(1_600_000_000),
        modified: t(1_600_000_000),
        color: None,
        rule_type: "STATIC".into(),
        rule_text: None,
        parent_id: None,
        criticality_score: None,
        description: None,
        provider: None,
        children: Vec::new(),
    }
}

fn raw(field: &str, op: &str, value: &str) -> RawCriterion {
    RawCriterion {
        field: field.into(),
        operator: op.into(),
        value: value.into(),
        name: None,
    }
}

const ALL: PageRequest = PageRequest {
    start_from_offset: None,
    start_from_id: None,
    limit: 1000,
};

async fn open(name: &str) -> (SqliteStore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("openqps-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
    (store, dir)
}

#[tokio::test]
async fn one_subscription_never_sees_another() {
    let (store, dir) = open("tenancy").await;
    let first = store.bootstrap("x", t(1)).await.unwrap().unwrap();
    let second = store
        .create_subscription("second", "other-admin", "x", t(1))
        .await
        .unwrap();
    store
        .load(
            first,
            &Dataset {
                tags: vec![tag(1, "Shared Name")],
                hosts: vec![host(10, "web-a", Some("Linux"), &[(1, "Shared Name")])],
                webapps: vec![],
            },
        )
        .await
        .unwrap();
    store
        .load(
            second,
            &Dataset {
                tags: vec![tag(2, "Shared Name")],
                hosts: vec![host(20, "web-b", Some("Linux"), &[])],
                webapps: vec![],
            },
        )
        .await
        .unwrap();
    let by_tag = compile(
        "HostAsset",
        HOSTASSET,
        &[raw("tagName", "EQUALS", "Shared Name")],
    )
    .unwrap();
    let mine = store
        .search_host_assets(second, &by_tag, ALL)
        .await
        .unwrap();
    assert!(
        mine.items.is_empty(),
        "host 10 carries tag 1 of the first subscription"
    );
    let all = compile("HostAsset", HOSTASSET, &[]).unwrap();
    let ids: Vec<i64> = store
        .search_host_assets(second, &all, ALL)
        .await
        .unwrap()
        .items
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, vec![20]);
    assert!(store.get_host_asset(second, 10).await.unwrap().is_none());
    assert_eq!(store.count_host_assets(first, &all).await.unwrap(), 1);
    // A tag of the other subscription cannot be assigned.
    let change = openqps_store::HostAssetChange {
        tags: openqps_store::TagChanges {
            add: vec![1],
            ..Default::default()
        },
        ..Default::default()
    };
    let err = store
        .update_host_assets(second, &openqps_store::Selector::Id(20), &change, t(2))
        .await
        .unwrap_err();
    assert!(matches!(err, openqps_store::StoreError::UnknownTag(1)));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn sql_agrees_with_the_reference_evaluator() {
    use openqps_query::eval::{Actual, holds};
    let (store, dir) = open("oracle").await;
    let sub: SubscriptionId = store.bootstrap("x", t(1)).await.unwrap().unwrap();
    let tags = vec![tag(1, "Prod"), tag(2, "prod-eu"), tag(3, "Web 100%")];
    let hosts = vec![
        host(1, "WEB-01", Some("Windows Server 2019"), &[(1, "Prod")]),
        host(2, "web_02", None, &[(2, "prod-eu"), (3, "Web 100%")]),
        host(3, "db-01", Some("Ubuntu 22.04"), &[]),
        host(4, "Web 100% up", Some("windows 11"), &[(3, "Web 100%")]),
    ];
    store
        .load(
            sub,
            &Dataset {
                tags,
                hosts: hosts.clone(),
                webapps: vec![],
            },
        )
        .await
        .unwrap();
    let cases = [
        raw("name", "CONTAINS", "web"),
        raw("name", "CONTAINS", "100%"),
        raw("name", "CONTAINS", "_"),
        raw("name", "EQUALS", "web_02"),
        raw("os", "NOT EQUALS", "Ubuntu 22.04"),
        raw("os", "CONTAINS", "WINDOWS"),
        raw("tagName", "CONTAINS", "prod"),
        raw("tagName", "NOT EQUALS", "Prod"),
        raw("tagId", "IN", "2,3"),
        raw("id", "GREATER", "2"),
        raw("qwebHostId", "LESSER", "30"),
    ];
    for c in cases {
        let filter = compile("HostAsset", HOSTASSET, std::slice::from_ref(&c)).unwrap();
        let got: Vec<i64> = store
            .search_host_assets(sub, &filter, ALL)
            .await
            .unwrap()
            .items
            .iter()
            .map(|h| h.id)
            .collect();
        let cond = &filter.conditions[0];
        let want: Vec<i64> = hosts
            .iter()
            .filter(|h| {
                let actual = match cond.target {
                    HostField::Name => Actual::Text(vec![h.name.clone()]),
                    HostField::Os => Actual::Text(h.os.iter().cloned().collect()),
                    HostField::TagName => {
                        Actual::Text(h.tags.iter().map(|t| t.name.clone()).collect())
                    }
                    HostField::TagId => Actual::Int(h.tags.iter().map(|t| t.id).collect()),
                    HostField::Id => Actual::Int(vec![h.id]),
                    HostField::QwebHostId => Actual::Int(h.qweb_host_id.into_iter().collect()),
                    other => panic!("no oracle for {other:?}"),
                };
                holds(cond, &actual)
            })
            .map(|h| h.id)
            .collect();
        assert_eq!(got, want, "{c:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn collection_filters_walk_their_index() {
    let (store, dir) = open("plan").await;
    store.bootstrap("x", t(1)).await.unwrap();
    for (field, value, index) in [
        ("tagId", "1", "SEARCH at USING PRIMARY KEY (tag_id=?)"),
        ("tagName", "Prod", "SEARCH at USING PRIMARY KEY (tag_id=?)"),
        (
            "port",
            "22",
            "USING COVERING INDEX host_port_by_port (port=?)",
        ),
    ] {
        let filter = compile("HostAsset", HOSTASSET, &[raw(field, "EQUALS", value)]).unwrap();
        let plan = store
            .explain_host_search(SubscriptionId(1), &filter)
            .await
            .unwrap();
        assert!(plan.contains(index), "{field}: {plan}");
        assert!(!plan.contains("CORRELATED"), "{field}: {plan}");
        // The collection drives: each matching asset id is a point lookup, no scan, no sort.
        assert!(!plan.contains("SCAN"), "{field}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{field}: {plan}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
