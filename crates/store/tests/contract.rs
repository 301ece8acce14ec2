//! The storage contract, checked on both back-ends (`sqlite::…` and `postgres::…`, see
//! `support`): subscription isolation, criteria semantics against the reference evaluator, a
//! full WebApp round trip and the scan job lifecycle; and on SQLite, index use of collection
//! filters.

mod support;

use support::Backend;

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
        details: Default::default(),
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

on_both_backends!(
    one_subscription_never_sees_another,
    sql_agrees_with_the_reference_evaluator,
    webapp_sql_agrees_with_the_reference_evaluator,
    scan_jobs_follow_their_lifecycle_expire_and_are_not_doubled,
    created_ids_never_reuse_loaded_ones,
    users_are_unique_across_subscriptions,
);

/// PostgreSQL only: SQLite serves one process (its writers queue on one connection).
mod postgres_only {
    #[tokio::test]
    async fn two_stores_write_one_database_at_once() {
        super::two_stores_write_one_database_at_once().await
    }

    #[tokio::test]
    async fn concurrent_parent_changes_never_make_a_cycle() {
        super::concurrent_parent_changes_never_make_a_cycle().await
    }
}

async fn users_are_unique_across_subscriptions(backend: Backend) {
    use openqps_store::StoreError;
    let Some(db) = support::open(backend, "users").await else {
        return;
    };
    let store = &db.store;
    let first = store.bootstrap("h-admin", t(1)).await.unwrap().unwrap();
    let second = store
        .create_subscription("second", "ops", "h-ops", t(2))
        .await
        .unwrap();
    let ro = store.add_user(second, "ops-ro", "h-ro").await.unwrap();
    let found = store.find_user("ops-ro").await.unwrap().unwrap();
    assert_eq!((found.id, found.subscription), (ro, second));
    assert_eq!(found.password_hash, "h-ro");
    // A taken name is refused in any subscription, and so is an unknown subscription.
    for (sub, name) in [(first, "ops"), (second, "admin")] {
        let err = store.add_user(sub, name, "h").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
    let err = store
        .create_subscription("third", "ops-ro", "h", t(3))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store
        .add_user(SubscriptionId(9999), "new", "h")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(store.set_password("ops", "h-ops-2").await.unwrap());
    assert!(!store.set_password("nobody", "h").await.unwrap());
    assert_eq!(
        store.find_user("ops").await.unwrap().unwrap().password_hash,
        "h-ops-2"
    );
    let subs = store.subscriptions().await.unwrap();
    let listed: Vec<(SubscriptionId, &str, Vec<&str>)> = subs
        .iter()
        .map(|s| {
            (
                s.id,
                s.name.as_str(),
                s.users.iter().map(|u| u.username.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (first, "openqps", vec!["admin"]),
            (second, "second", vec!["ops", "ops-ro"]),
        ]
    );
    assert_eq!(subs[1].created, 2);
    assert!(subs[1].users.iter().all(|u| !u.disabled));
    // A second subscription of the same name (whatever its case) is refused.
    let err = store
        .create_subscription("SECOND", "new-admin", "h", t(3))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(
        store
            .set_password("ops-ro", openqps_model::DISABLED_PASSWORD)
            .await
            .unwrap()
    );
    let subs = store.subscriptions().await.unwrap();
    let flags: Vec<bool> = subs[1].users.iter().map(|u| u.disabled).collect();
    assert_eq!(flags, vec![false, true]);
    db.close().await;
}

async fn one_subscription_never_sees_another(backend: Backend) {
    let Some(db) = support::open(backend, "tenancy").await else {
        return;
    };
    let store = &db.store;
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
                ..Dataset::default()
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
                ..Dataset::default()
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
    db.close().await;
}

async fn sql_agrees_with_the_reference_evaluator(backend: Backend) {
    use openqps_query::eval::{Actual, holds};
    let Some(db) = support::open(backend, "oracle").await else {
        return;
    };
    let store = &db.store;
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
                ..Dataset::default()
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
    db.close().await;
}

#[tokio::test]
async fn sqlite_keeps_its_query_plans() {
    // Without SQLITE_ENABLE_QPSG (.cargo/config.toml) every statement re-prepares after each
    // run, since sqlx clears bindings: correct, but several times slower.
    let dir = std::env::temp_dir().join(format!("openqps-store-qpsg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
    assert!(store.planner_stability_guaranteed().await.unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn collection_filters_walk_their_index() {
    // SQLite only: `explain_host_search` reads SQLite's EXPLAIN QUERY PLAN.
    let dir = std::env::temp_dir().join(format!("openqps-store-plan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
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

fn webapp(
    id: i64,
    name: &str,
    tags: &[(i64, &str)],
    attributes: &[(&str, &str)],
    last_scan: Option<(&str, i64)>,
) -> openqps_model::WebApp {
    use openqps_model::{Attribute, LastScan, WebApp, WebAppDetails, WebAppOwner};
    WebApp {
        id,
        name: name.into(),
        url: format!("https://{id}.example.com/"),
        os: None,
        owner: WebAppOwner {
            id: 1,
            username: "admin".into(),
            first_name: "Openqps".into(),
            last_name: "Admin".into(),
        },
        scope: "ALL".into(),
        tags: tags
            .iter()
            .map(|(id, n)| TagRef {
                id: *id,
                name: n.to_string(),
            })
            .collect(),
        created: t(1_700_000_000 + id),
        updated: t(1_700_000_000 + id),
        is_scheduled: id % 2 == 0,
        details: WebAppDetails {
            attributes: attributes
                .iter()
                .map(|(n, v)| Attribute {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            last_scan: last_scan.map(|(status, at)| LastScan {
                id: 900 + id,
                name: None,
                status: status.into(),
                date: t(at),
            }),
            ..WebAppDetails::default()
        },
    }
}

async fn webapp_sql_agrees_with_the_reference_evaluator(backend: Backend) {
    use openqps_query::eval::{Actual, holds};
    use openqps_query::fields::{WEBAPP, WebAppField};
    let Some(db) = support::open(backend, "oracle-was").await else {
        return;
    };
    let store = &db.store;
    let sub: SubscriptionId = store.bootstrap("x", t(1)).await.unwrap().unwrap();
    let day = 86_400;
    let mut apps = vec![
        webapp(
            101,
            "Shop",
            &[(1, "Prod")],
            &[("Team", "Blue")],
            Some(("FINISHED", 1_700_000_000)),
        ),
        webapp(
            102,
            "Blog",
            &[],
            &[("Team", "Red"), ("Tier", "1")],
            Some(("ERROR", 1_700_000_000 + 10 * day)),
        ),
        webapp(
            103,
            "Wiki",
            &[(1, "Prod"), (2, "Internal")],
            &[("Tier", "Blue")],
            None,
        ),
        webapp(104, "API", &[], &[], Some(("CANCELED", 1_690_000_000))),
    ];
    // One app with every setting, to check that each is written and read back.
    {
        use openqps_model::{Comment, IdName, Scanner, UrlEntry, WebAppConfig};
        let owner = apps[0].owner.clone();
        let d = &mut apps[0].details;
        d.created_by = Some(owner.clone());
        d.updated_by = Some(owner.clone());
        d.sub_domain = Some("shop.example.com".into());
        d.domains = vec!["a.example.com".into(), "b.example.com".into()];
        d.uris = vec!["https://101.example.com/x".into()];
        d.default_profile = Some(IdName {
            id: 7,
            name: Some("Default".into()),
        });
        d.default_scanner = Some(Scanner {
            kind: "INTERNAL".into(),
            friendly_name: Some("s1".into()),
        });
        d.scanner_locked = true;
        d.progressive_scanning = Some(false);
        d.url_blacklist = vec![UrlEntry {
            value: "/a.*".into(),
            regex: true,
        }];
        d.url_whitelist = vec![UrlEntry {
            value: "https://101.example.com/ok".into(),
            regex: false,
        }];
        d.post_data_blacklist = vec![UrlEntry {
            value: "pw".into(),
            regex: true,
        }];
        d.logout_regex_list = vec![UrlEntry {
            value: "logout".into(),
            regex: true,
        }];
        d.auth_records = vec![
            IdName { id: 5, name: None },
            IdName {
                id: 6,
                name: Some("Form".into()),
            },
        ];
        d.use_robots = "BLACKLIST".into();
        d.use_sitemap = true;
        d.headers = vec!["X-A: 1".into()];
        d.comments = vec![Comment {
            contents: "hello".into(),
            author: Some(owner),
            created: Some(t(1_700_000_100)),
        }];
        d.config = Some(WebAppConfig::DefaultAuthRecord(IdName {
            id: 5,
            name: Some("Form".into()),
        }));
        d.crawling_scripts = vec![IdName {
            id: 9,
            name: Some("login.side".into()),
        }];
    }
    store
        .load(
            sub,
            &Dataset {
                tags: vec![tag(1, "Prod"), tag(2, "Internal")],
                hosts: vec![],
                webapps: apps.clone(),
                ..Dataset::default()
            },
        )
        .await
        .unwrap();
    let named = |field: &str, name: &str, op: &str, value: &str| RawCriterion {
        name: Some(name.into()),
        ..raw(field, op, value)
    };
    let cases = [
        raw("tags", "NONE", ""),
        raw("tags.name", "NOT EQUALS", "Prod"),
        raw("tags.id", "IN", "2"),
        raw("isScanned", "EQUALS", "true"),
        raw("isScanned", "NOT EQUALS", "true"),
        raw("isScheduled", "EQUALS", "false"),
        raw("lastScan.status", "IN", "ERROR,CANCELED"),
        raw("lastScan.status", "NOT EQUALS", "FINISHED"),
        raw("lastScan.date", "GREATER", "2023-11-14"),
        raw("lastScan.date", "LESSER", "2023-11-14"),
        named("attributes", "Team", "EQUALS", "Blue"),
        named("attributes", "Team", "NOT EQUALS", "Blue"),
        named("attributes", "Tier", "CONTAINS", "blu"),
    ];
    for c in cases {
        let filter = compile("WebApp", WEBAPP, std::slice::from_ref(&c)).unwrap();
        let got: Vec<i64> = store
            .search_webapps(sub, &filter, ALL)
            .await
            .unwrap()
            .items
            .iter()
            .map(|w| w.id)
            .collect();
        let cond = &filter.conditions[0];
        let want: Vec<i64> = apps
            .iter()
            .filter(|w| {
                let scan = w.details.last_scan.as_ref();
                let actual = match cond.target {
                    WebAppField::Tags | WebAppField::TagId => {
                        Actual::Int(w.tags.iter().map(|t| t.id).collect())
                    }
                    WebAppField::TagName => {
                        Actual::Text(w.tags.iter().map(|t| t.name.clone()).collect())
                    }
                    WebAppField::IsScanned => Actual::Bool(scan.is_some()),
                    WebAppField::IsScheduled => Actual::Bool(w.is_scheduled),
                    WebAppField::LastScanStatus => {
                        Actual::Text(scan.map(|s| s.status.clone()).into_iter().collect())
                    }
                    WebAppField::LastScanDate => {
                        Actual::Time(scan.map(|s| s.date.as_second()).into_iter().collect())
                    }
                    WebAppField::Attribute => Actual::Text(
                        w.details
                            .attributes
                            .iter()
                            .filter(|a| Some(&a.name) == cond.name.as_ref())
                            .map(|a| a.value.clone())
                            .collect(),
                    ),
                    other => panic!("no oracle for {other:?}"),
                };
                holds(cond, &actual)
            })
            .map(|w| w.id)
            .collect();
        assert_eq!(got, want, "{c:?}");
    }
    // Every app came back whole.
    let all = compile("WebApp", WEBAPP, &[]).unwrap();
    let stored = store.search_webapps(sub, &all, ALL).await.unwrap().items;
    assert_eq!(stored, apps);
    db.close().await;
}

async fn scan_jobs_follow_their_lifecycle_expire_and_are_not_doubled(backend: Backend) {
    use openqps_model::{AgentInfo, Module, ScanState, ScanType, UserId};
    use openqps_store::{ScanRequest, Selector, StoreError};
    let Some(db) = support::open(backend, "scanjobs").await else {
        return;
    };
    let store = &db.store;
    let sub: SubscriptionId = store.bootstrap("x", t(1)).await.unwrap().unwrap();
    let mut agent_host = host(1, "agent-01", Some("Ubuntu 22.04"), &[]);
    agent_host.agent = Some(AgentInfo {
        agent_id: "a-1".into(),
        agent_version: "6.1".into(),
        status: "STATUS_ACTIVE".into(),
        platform: "Linux".into(),
        activated_modules: vec![Module::Vm],
        ..AgentInfo::default()
    });
    store
        .load(
            sub,
            &Dataset {
                tags: vec![],
                hosts: vec![agent_host, host(2, "other", None, &[])],
                webapps: vec![],
                ..Dataset::default()
            },
        )
        .await
        .unwrap();
    let request = |at: i64| ScanRequest {
        scan: ScanType::Vulnerability,
        override_config_cpu: true,
        requested_by: UserId(1),
        at: t(at),
        expires_after_secs: 100,
        run_timeout_secs: 50,
    };
    let one = Selector::Id(1);
    assert_eq!(
        store.launch_scans(sub, &one, request(1000)).await.unwrap(),
        vec![1]
    );
    // A second request while the first is pending: accepted, no new job.
    assert_eq!(
        store.launch_scans(sub, &one, request(1010)).await.unwrap(),
        vec![1]
    );
    let jobs = store.scan_jobs(sub, 1, t(1020)).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, ScanState::Queued);
    assert!(jobs[0].override_config_cpu);
    assert_eq!(jobs[0].expires_at, t(1100));
    // Past its expiry the job reads EXPIRED before anything is written, and cannot be claimed.
    let jobs = store.scan_jobs(sub, 1, t(1100)).await.unwrap();
    assert_eq!(jobs[0].state, ScanState::Expired);
    assert_eq!(store.claim_scan_job(sub, 1, t(1100)).await.unwrap(), None);
    // A new request after expiry queues a new job, which runs to completion.
    store.launch_scans(sub, &one, request(2000)).await.unwrap();
    let claimed = store
        .claim_scan_job(sub, 1, t(2001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.state, ScanState::Dispatched);
    // The claim starts the run deadline; every move restarts it.
    assert_eq!(claimed.expires_at, t(2051));
    assert!(matches!(
        store
            .advance_scan_job(sub, Some(1), claimed.id, ScanState::Completed, t(2002))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .advance_scan_job(sub, Some(1), claimed.id, ScanState::Running, t(2003))
        .await
        .unwrap();
    // Running is still pending: no second job.
    store.launch_scans(sub, &one, request(2004)).await.unwrap();
    let done = store
        .advance_scan_job(sub, Some(1), claimed.id, ScanState::Completed, t(2005))
        .await
        .unwrap();
    assert_eq!(done.state_changed_at, t(2005));
    let jobs = store.scan_jobs(sub, 1, t(2006)).await.unwrap();
    let states: Vec<ScanState> = jobs.iter().map(|j| j.state).collect();
    assert_eq!(states, vec![ScanState::Expired, ScanState::Completed]);
    // An agent that claims a job and goes silent: past the run deadline the job reads FAILED,
    // the sweep writes so, and a new request queues a new job instead of joining the dead one.
    store.launch_scans(sub, &one, request(2100)).await.unwrap();
    let stuck = store
        .claim_scan_job(sub, 1, t(2101))
        .await
        .unwrap()
        .unwrap();
    store
        .advance_scan_job(sub, Some(1), stuck.id, ScanState::Running, t(2120))
        .await
        .unwrap();
    let jobs = store.scan_jobs(sub, 1, t(2169)).await.unwrap();
    assert_eq!(jobs.last().unwrap().state, ScanState::Running);
    let jobs = store.scan_jobs(sub, 1, t(2170)).await.unwrap();
    assert_eq!(jobs.last().unwrap().state, ScanState::Failed);
    assert_eq!(store.expire_scan_jobs(t(2170)).await.unwrap(), 1);
    assert!(matches!(
        store
            .advance_scan_job(sub, Some(1), stuck.id, ScanState::Completed, t(2171))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store.launch_scans(sub, &one, request(2172)).await.unwrap();
    let jobs = store.scan_jobs(sub, 1, t(2173)).await.unwrap();
    assert_eq!(jobs.len(), 4);
    assert_eq!(jobs.last().unwrap().state, ScanState::Queued);
    // The sweep writes expiry for whoever reads the table directly.
    store.launch_scans(sub, &one, request(3000)).await.unwrap();
    assert_eq!(store.expire_scan_jobs(t(3099)).await.unwrap(), 0);
    assert_eq!(store.expire_scan_jobs(t(3100)).await.unwrap(), 1);
    // Another subscription's job id is not found.
    let other = store
        .create_subscription("second", "other-admin", "x", t(1))
        .await
        .unwrap();
    assert!(matches!(
        store
            .advance_scan_job(other, None, claimed.id, ScanState::Failed, t(3200))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    db.close().await;
}

/// Ids drawn by the database after a data set loaded explicit ones never clash with them, and
/// deleted ids are never drawn again.
async fn created_ids_never_reuse_loaded_ones(backend: Backend) {
    use openqps_store::{ChildChanges, TagFields};
    let Some(db) = support::open(backend, "ids").await else {
        return;
    };
    let store = &db.store;
    let sub = store.bootstrap("x", t(1)).await.unwrap().unwrap();
    store
        .load(
            sub,
            &Dataset {
                tags: vec![tag(1, "Prod"), tag(7, "Dev")],
                hosts: vec![
                    host(10, "web-a", None, &[(1, "Prod")]),
                    host(1, "db", None, &[]),
                ],
                ..Dataset::default()
            },
        )
        .await
        .unwrap();
    let fields = TagFields {
        name: Some("New".into()),
        ..TagFields::default()
    };
    let new_tag = store
        .create_tag(sub, &fields, &ChildChanges::default(), t(5))
        .await
        .unwrap();
    assert!(new_tag.id > 7, "tag id {}", new_tag.id);
    let new_host = store
        .create_host_asset(sub, &host(0, "new", None, &[]), t(5))
        .await
        .unwrap();
    assert!(new_host.id > 10, "host id {}", new_host.id);
    // Nor is the id of a deleted object handed out again, even the newest one's (Qualys ids
    // are never reused; SQLite alone would number the next row max(id) + 1).
    use openqps_store::Selector;
    store
        .delete_tags(sub, &Selector::Id(new_tag.id))
        .await
        .unwrap();
    let again = store
        .create_tag(sub, &fields, &ChildChanges::default(), t(6))
        .await
        .unwrap();
    assert!(again.id > new_tag.id, "{} after {}", again.id, new_tag.id);
    store
        .delete_host_assets(sub, &Selector::Id(new_host.id))
        .await
        .unwrap();
    let again = store
        .create_host_asset(sub, &host(0, "again", None, &[]), t(6))
        .await
        .unwrap();
    assert!(again.id > new_host.id, "{} after {}", again.id, new_host.id);
    db.close().await;
}

/// Two independent stores on one fresh PostgreSQL database (two `openqps serve` processes, in
/// effect), bootstrapped through the first; `None` when PostgreSQL is not configured.
async fn two_postgres_stores(
    name: &str,
) -> Option<(
    support::TestStore,
    std::sync::Arc<dyn Store>,
    std::sync::Arc<dyn Store>,
    SubscriptionId,
)> {
    let db = support::open(Backend::Postgres, name).await?;
    let a: std::sync::Arc<dyn Store> = std::sync::Arc::from(db.reopen().await);
    let b: std::sync::Arc<dyn Store> = std::sync::Arc::from(db.reopen().await);
    let sub = a.bootstrap("x", t(1)).await.unwrap().unwrap();
    assert_eq!(b.bootstrap("x", t(1)).await.unwrap(), None);
    Some((db, a, b, sub))
}

/// Two stores on one database, as two `openqps serve` processes: concurrent creates get distinct
/// ids and all land, and a rule tag created in the middle of them ends up on exactly the hosts
/// its rule matches (rule re-evaluation never misses a host another process wrote meanwhile).
async fn two_stores_write_one_database_at_once() {
    use openqps_store::{ChildChanges, TagFields};
    let Some((db, a, b, sub)) = two_postgres_stores("two").await else {
        return;
    };
    let mut tasks = Vec::new();
    for (side, store) in [("a", a.clone()), ("b", b.clone())] {
        for i in 0..15 {
            let store = store.clone();
            let name = if i % 3 == 0 {
                format!("db-{side}-{i}")
            } else {
                format!("web-{side}-{i}")
            };
            tasks.push(tokio::spawn(async move {
                store
                    .create_host_asset(sub, &host(0, &name, None, &[]), t(10))
                    .await
                    .unwrap()
                    .id
            }));
        }
    }
    let rule = TagFields {
        name: Some("Web".into()),
        rule_type: Some("NAME_CONTAINS".into()),
        rule_text: Some("web".into()),
        ..TagFields::default()
    };
    let web = b
        .create_tag(sub, &rule, &ChildChanges::default(), t(10))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "every create got its own id");
    let all = compile("HostAsset", HOSTASSET, &[]).unwrap();
    let hosts = a.search_host_assets(sub, &all, ALL).await.unwrap().items;
    assert_eq!(hosts.iter().map(|h| h.id).collect::<Vec<_>>(), ids);
    for h in &hosts {
        let tagged = h.tags.iter().any(|t| t.id == web.id);
        assert_eq!(
            tagged,
            h.name.starts_with("web"),
            "{}: {:?}",
            h.name,
            h.tags
        );
    }
    drop((a, b));
    db.close().await;
}

/// Two stores on one database: one makes tag X the parent of Y while the other makes Y the parent
/// of X. Each checks for a cycle before it writes, so without the write lock both could pass;
/// with it, exactly one wins and the other is refused.
async fn concurrent_parent_changes_never_make_a_cycle() {
    use openqps_store::{ChildChanges, Selector, StoreError, TagFields};
    let Some((db, a, b, sub)) = two_postgres_stores("cycle").await else {
        return;
    };
    let named = |name: String| TagFields {
        name: Some(name),
        ..TagFields::default()
    };
    for round in 0..20 {
        let none = ChildChanges::default();
        let x = a
            .create_tag(sub, &named(format!("X{round}")), &none, t(2))
            .await
            .unwrap()
            .id;
        let y = a
            .create_tag(sub, &named(format!("Y{round}")), &none, t(2))
            .await
            .unwrap()
            .id;
        let adopt = |store: std::sync::Arc<dyn Store>, child: i64, parent: i64| {
            tokio::spawn(async move {
                let fields = TagFields {
                    parent_id: Some(parent),
                    ..TagFields::default()
                };
                store
                    .update_tags(
                        sub,
                        &Selector::Id(child),
                        &fields,
                        &ChildChanges::default(),
                        t(3),
                    )
                    .await
            })
        };
        let (one, two) = (adopt(a.clone(), y, x), adopt(b.clone(), x, y));
        let results = [one.await.unwrap(), two.await.unwrap()];
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::Conflict(_)))),
            "round {round}: {results:?}"
        );
        let parent_of = |id| {
            let a = a.clone();
            async move { a.get_tag(sub, id).await.unwrap().unwrap().parent_id }
        };
        let (px, py) = (parent_of(x).await, parent_of(y).await);
        assert!(
            px.is_none() || py.is_none(),
            "round {round}: X under {px:?}, Y under {py:?}"
        );
    }
    drop((a, b));
    db.close().await;
}
