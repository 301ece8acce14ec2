//! WAS web applications end to end: create and page through thousands, what update, purge and
//! both deletes leave behind (seen through `/am/asset` too), and bad input that must not write.

mod support;

use support::Server;

const CREATE: &str = "/qps/rest/3.0/create/was/webapp";
const SEARCH: &str = "/qps/rest/3.0/search/was/webapp";

fn create(s: &Server, name: &str, url: &str, extra: &str) -> i64 {
    let r = s.post_xml(
        CREATE,
        &format!(
            "<ServiceRequest><data><WebApp><name>{name}</name><url>{url}</url>{extra}</WebApp></data></ServiceRequest>"
        ),
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    r.ids("WebApp")[0]
}

fn search_ids(s: &Server, filters: &str, prefs: &str) -> (Vec<i64>, bool, Option<i64>) {
    let r = s.post_xml(
        SEARCH,
        &format!(
            "<ServiceRequest><filters>{filters}</filters><preferences>{prefs}</preferences></ServiceRequest>"
        ),
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    (
        r.ids("WebApp"),
        r.tag("hasMoreRecords").as_deref() == Some("true"),
        r.tag("lastId").map(|v| v.parse().expect("lastId")),
    )
}

#[test]
fn thousands_of_created_web_apps_page_exactly_once_both_ways() {
    const N: usize = 2_500;
    let s = Server::start(&[]);
    let mut created: Vec<i64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let s = &s;
                scope.spawn(move || {
                    (0..N / 4)
                        .map(|i| {
                            let n = w * (N / 4) + i;
                            create(
                                s,
                                &format!("App {n}"),
                                &format!("https://app{n}.example.com/"),
                                "",
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    created.sort_unstable();
    created.dedup();
    assert_eq!(created.len(), N);
    let count = s.call("GET", "/qps/rest/3.0/count/was/webapp", &[], "");
    assert_eq!(count.tag("count"), Some(N.to_string()));
    // Every web app is an asset of type WEBAPP with the same id.
    let assets = s.post_xml(
        "/qps/rest/2.0/count/am/asset",
        "<ServiceRequest><filters><Criteria field=\"type\" operator=\"EQUALS\">WEBAPP</Criteria></filters></ServiceRequest>",
    );
    assert_eq!(assets.tag("count"), Some(N.to_string()));

    // By startFromOffset (1-based).
    let mut by_offset = Vec::new();
    let mut offset = 1;
    loop {
        let (ids, more, _) = search_ids(
            &s,
            "",
            &format!(
                "<startFromOffset>{offset}</startFromOffset><limitResults>1000</limitResults>"
            ),
        );
        offset += ids.len();
        by_offset.extend(ids);
        if !more {
            break;
        }
    }
    assert_eq!(by_offset, created);

    // By id GREATER lastId.
    let mut by_id = Vec::new();
    let mut filter = String::new();
    loop {
        let (ids, more, last) = search_ids(&s, &filter, "<limitResults>700</limitResults>");
        by_id.extend(ids);
        if !more {
            assert_eq!(last, None);
            break;
        }
        let last = last.expect("lastId when more follow");
        filter = format!("<Criteria field=\"id\" operator=\"GREATER\">{last}</Criteria>");
    }
    assert_eq!(by_id, created);

    // One bulk update by filters reaches every one of them, in one answer.
    let r = s.post_xml(
        "/qps/rest/3.0/update/was/webapp",
        "<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">App </Criteria></filters>\
         <data><WebApp><useSitemap>true</useSitemap></WebApp></data></ServiceRequest>",
    );
    assert_eq!(r.ids("WebApp"), created);
    let sitemap = s.post_xml(
        SEARCH,
        "<ServiceRequest><preferences><verbose>true</verbose><limitResults>1000</limitResults></preferences></ServiceRequest>",
    );
    assert_eq!(
        sitemap
            .body
            .matches("<useSitemap>true</useSitemap>")
            .count(),
        1000
    );
}

#[test]
fn a_web_app_with_thousands_of_list_items_is_stored_whole() {
    let s = Server::start(&[]);
    let domains: String = (0..6_000)
        .map(|i| format!("<Domain>d{i}.example.com</Domain>"))
        .collect();
    let id = create(
        &s,
        "Many",
        "https://many.example.com/",
        &format!("<scope>DOMAINS</scope><domains><set>{domains}</set></domains>"),
    );
    let got = s.call(
        "GET",
        &format!("/qps/rest/3.0/get/was/webapp/{id}"),
        &[],
        "",
    );
    assert_eq!(got.tag("count").as_deref(), Some("1"));
    assert_eq!(got.body.matches("<Domain>").count(), 6_000);
    assert!(got.body.contains("<count>6000</count>"));
}

#[test]
fn update_purge_and_deletes_keep_was_and_asset_management_consistent() {
    let s = Server::start_demo();
    let id = create(
        &s,
        "Checkout",
        "https://checkout.example.com/",
        "<tags><set><Tag><id>87832819</id></Tag></set></tags>\
         <attributes><update><Attribute><name>Team</name><value>Blue</value></Attribute></update></attributes>",
    );
    // The new app is an asset too, with the same Tag objects.
    let asset = s.call("GET", &format!("/qps/rest/2.0/get/am/asset/{id}"), &[], "");
    assert_eq!(asset.tag("type").as_deref(), Some("WEBAPP"));
    assert!(asset.body.contains("<id>87832819</id>"), "{}", asset.body);

    // Update by filters: custom-attribute criteria pick it, tags and attributes change.
    let r = s.post_xml(
        "/qps/rest/3.0/update/was/webapp",
        "<ServiceRequest><filters><Criteria field=\"attributes\" name=\"Team\" operator=\"EQUALS\">Blue</Criteria></filters>\
         <data><WebApp><name>Checkout v2</name><tags><add><Tag><id>87832867</id></Tag></add><remove><Tag><id>87832819</id></Tag></remove></tags>\
         <attributes><update><Attribute><name>Team</name><value>Red</value></Attribute></update></attributes>\
         <comments><add><Comment><contents>renamed</contents></Comment></add></comments></WebApp></data></ServiceRequest>",
    );
    assert_eq!(r.ids("WebApp"), vec![id], "{}", r.body);
    let got = s.call(
        "GET",
        &format!("/qps/rest/3.0/get/was/webapp/{id}"),
        &[],
        "",
    );
    got.assert_valid_xml();
    assert!(got.body.contains("Checkout v2"));
    assert!(got.body.contains("<![CDATA[Red]]>"));
    assert!(got.body.contains("<![CDATA[renamed]]>"));
    assert!(got.body.contains("<id>87832867</id>") && !got.body.contains("<id>87832819</id>"));
    let asset = s.call("GET", &format!("/qps/rest/2.0/get/am/asset/{id}"), &[], "");
    assert!(asset.body.contains("Checkout v2"));
    assert!(asset.body.contains("<id>87832867</id>") && !asset.body.contains("<id>87832819</id>"));

    // Purge keeps the app and clears its last scan (28297431 has one in the demo data).
    let before = s.call("GET", "/qps/rest/3.0/get/was/webapp/28297431", &[], "");
    assert!(before.body.contains("<lastScan>"));
    let r = s.post_xml("/qps/rest/3.0/purge/was/webapp/28297431", "");
    assert_eq!(r.ids("WebApp"), vec![28297431]);
    let after = s.call("GET", "/qps/rest/3.0/get/was/webapp/28297431", &[], "");
    assert_eq!(after.code(), "SUCCESS");
    assert!(!after.body.contains("<lastScan>"));
    let (scanned, _, _) = search_ids(
        &s,
        "<Criteria field=\"isScanned\" operator=\"EQUALS\">true</Criteria><Criteria field=\"id\" operator=\"EQUALS\">28297431</Criteria>",
        "",
    );
    assert!(scanned.is_empty());

    // Plain delete by filters: gone from WAS, still an asset (with its tags).
    let r = s.post_xml(
        "/qps/rest/3.0/delete/was/webapp",
        &format!("<ServiceRequest><filters><Criteria field=\"id\" operator=\"EQUALS\">{id}</Criteria></filters></ServiceRequest>"),
    );
    assert_eq!(r.ids("WebApp"), vec![id]);
    let gone = s.call(
        "GET",
        &format!("/qps/rest/3.0/get/was/webapp/{id}"),
        &[],
        "",
    );
    assert_eq!(gone.code(), "NOT_FOUND");
    let asset = s.call("GET", &format!("/qps/rest/2.0/get/am/asset/{id}"), &[], "");
    assert_eq!(asset.code(), "SUCCESS");
    assert!(asset.body.contains("<id>87832867</id>"));

    // removeFromSubscription: gone from both.
    let other = create(&s, "Temp", "https://temp.example.com/", "");
    let r = s.post_xml(
        &format!("/qps/rest/3.0/delete/was/webapp/{other}?action=removeFromSubscription"),
        "",
    );
    assert_eq!(r.ids("WebApp"), vec![other]);
    let asset = s.call(
        "GET",
        &format!("/qps/rest/2.0/get/am/asset/{other}"),
        &[],
        "",
    );
    assert_eq!(asset.code(), "NOT_FOUND");
}

#[test]
fn bad_web_app_input_is_refused_and_writes_nothing() {
    let s = Server::start_demo();
    let before = s.fingerprint();
    let bodies = [
        // Missing name, missing url, empty name.
        (
            CREATE,
            "<WebApp><url>https://x.example.com/</url></WebApp>",
            "name",
        ),
        (CREATE, "<WebApp><name>x</name></WebApp>", "url"),
        (
            CREATE,
            "<WebApp><name> </name><url>https://x.example.com/</url></WebApp>",
            "name",
        ),
        (
            CREATE,
            "<WebApp><name>x</name><url>ftp://x.example.com/</url></WebApp>",
            "url",
        ),
        // Read-only elements.
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><createdDate>2024-01-01T00:00:00Z</createdDate></WebApp>",
            "read-only",
        ),
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><owner><id>1</id></owner></WebApp>",
            "read-only",
        ),
        (
            "/qps/rest/3.0/update/was/webapp/28297430",
            "<WebApp><id>5</id></WebApp>",
            "read-only",
        ),
        (
            "/qps/rest/3.0/update/was/webapp/28297430",
            "<WebApp><updatedBy><id>1</id></updatedBy></WebApp>",
            "read-only",
        ),
        // Unknown elements and operations.
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><nope>1</nope></WebApp>",
            "unknown",
        ),
        (
            "/qps/rest/3.0/update/was/webapp/28297430",
            "<WebApp><tags><replace><Tag><id>1</id></Tag></replace></tags></WebApp>",
            "operation",
        ),
        (
            "/qps/rest/3.0/update/was/webapp/28297430",
            "<WebApp><authRecords><update><WebAppAuthRecord><id>1</id></WebAppAuthRecord></update></authRecords></WebApp>",
            "operation",
        ),
        // Bad enum and boolean values.
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><scope>WIDE</scope></WebApp>",
            "scope",
        ),
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><useRobots>OBEY</useRobots></WebApp>",
            "useRobots",
        ),
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><useSitemap>yes</useSitemap></WebApp>",
            "useSitemap",
        ),
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><urlBlacklist><set><UrlEntry regex=\"maybe\">/a</UrlEntry></set></urlBlacklist></WebApp>",
            "regex",
        ),
        // A tag that does not exist: the whole create is refused.
        (
            CREATE,
            "<WebApp><name>x</name><url>https://x.example.com/</url><tags><set><Tag><id>999</id></Tag></set></tags></WebApp>",
            "Tag with id 999",
        ),
        // Nothing to change.
        (
            "/qps/rest/3.0/update/was/webapp/28297430",
            "<WebApp></WebApp>",
            "changes nothing",
        ),
    ];
    for (path, webapp, needle) in bodies {
        let r = s.post_xml(
            path,
            &format!("<ServiceRequest><data>{webapp}</data></ServiceRequest>"),
        );
        assert_eq!(r.code(), "INVALID_REQUEST", "{webapp}: {}", r.body);
        let message = r.tag("errorMessage").unwrap_or_default();
        assert!(message.contains(needle), "{webapp}: {message}");
        r.assert_valid_xml();
        assert_eq!(before, s.fingerprint(), "{webapp} wrote");
    }
    // Bad criteria on search, purge and delete are refused before anything runs.
    for (path, criteria) in [
        (
            SEARCH,
            "<Criteria field=\"isScanned\" operator=\"EQUALS\">yes</Criteria>",
        ),
        (
            "/qps/rest/3.0/purge/was/webapp",
            "<Criteria field=\"lastScan.status\" operator=\"EQUALS\">DONE</Criteria>",
        ),
        (
            "/qps/rest/3.0/delete/was/webapp",
            "<Criteria field=\"tags\" operator=\"EQUALS\">1</Criteria>",
        ),
    ] {
        let r = s.post_xml(
            path,
            &format!("<ServiceRequest><filters>{criteria}</filters></ServiceRequest>"),
        );
        assert_eq!(r.code(), "INVALID_REQUEST", "{criteria}: {}", r.body);
        assert_eq!(before, s.fingerprint(), "{criteria} wrote");
    }
}
