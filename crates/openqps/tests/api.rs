//! End-to-end behaviour that a single request/answer pair cannot show: authentication, limits,
//! paging through everything, what deletes leave behind, persisted scan jobs, crash safety.

mod support;

use support::{PASSWORD, Server};

const SEARCH: &str = "/qps/rest/2.0/search/am/hostasset";

#[test]
fn missing_or_wrong_credentials_get_the_recorded_envelope() {
    let s = Server::start_demo();
    for auth in [None, Some(("admin", "wrong")), Some(("nobody", PASSWORD))] {
        let r = s.call_as(auth, "POST", SEARCH, &[], "<ServiceRequest/>");
        assert_eq!(r.status, 200, "{auth:?}");
        assert_eq!(r.code(), "INVALID_CREDENTIALS", "{auth:?}");
        assert_eq!(
            r.tag("errorMessage").as_deref(),
            Some("Authentication failed")
        );
        assert!(r.tag("data").is_none());
        r.assert_valid_xml();
    }
    // The right password works, and a cached success does not let a wrong one through.
    assert_eq!(s.post_xml(SEARCH, "<ServiceRequest/>").code(), "SUCCESS");
    let r = s.call_as(Some(("admin", "wrong")), "POST", SEARCH, &[], "");
    assert_eq!(r.code(), "INVALID_CREDENTIALS");
}

#[test]
fn a_body_over_the_limit_is_refused_with_413_and_writes_nothing() {
    let s = Server::start(&["--demo", "--body-limit", "4096"]);
    let before = s.fingerprint();
    let ids = (0..2000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let body = format!(
        "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">{ids}</Criteria></filters>\
         <data><HostAsset><tags><add><TagSimple><id>87832867</id></TagSimple></add></tags></HostAsset></data></ServiceRequest>"
    );
    let r = s.post_xml("/qps/rest/2.0/update/am/hostasset", &body);
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "INVALID_REQUEST");
    assert!(
        r.tag("errorMessage")
            .unwrap()
            .contains("larger than 4096 bytes")
    );
    r.assert_valid_xml();
    assert_eq!(before, s.fingerprint());
}

fn all_ids_by_offset(s: &Server, limit: u32) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut offset = 1;
    loop {
        let r = s.post_xml(
            SEARCH,
            &format!("<ServiceRequest><preferences><startFromOffset>{offset}</startFromOffset><limitResults>{limit}</limitResults></preferences></ServiceRequest>"),
        );
        r.assert_valid_xml();
        let page = r.ids("HostAsset");
        assert_eq!(r.tag("count").unwrap(), page.len().to_string());
        ids.extend(&page);
        if r.tag("hasMoreRecords").as_deref() != Some("true") {
            assert!(r.tag("lastId").is_none());
            return ids;
        }
        assert_eq!(r.tag("lastId").unwrap(), page.last().unwrap().to_string());
        offset += limit;
    }
}

fn all_ids_by_last_id(s: &Server, limit: u32) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut last = 0;
    loop {
        let r = s.post_xml(
            SEARCH,
            &format!("<ServiceRequest><filters><Criteria field=\"id\" operator=\"GREATER\">{last}</Criteria></filters><preferences><limitResults>{limit}</limitResults></preferences></ServiceRequest>"),
        );
        let page = r.ids("HostAsset");
        ids.extend(&page);
        match r.tag("lastId") {
            Some(l) => last = l.parse().unwrap(),
            None => return ids,
        }
    }
}

#[test]
fn paging_returns_every_host_exactly_once_in_id_order() {
    let s = Server::start_demo();
    let total: usize = s
        .post_xml("/qps/rest/2.0/count/am/hostasset", "")
        .tag("count")
        .unwrap()
        .parse()
        .unwrap();
    assert!(total >= 200);
    for ids in [all_ids_by_offset(&s, 7), all_ids_by_last_id(&s, 13)] {
        assert_eq!(ids.len(), total);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    }
}

#[test]
fn startfromid_starts_at_that_id() {
    let s = Server::start_demo();
    let r = s.post_xml(
        SEARCH,
        "<ServiceRequest><preferences><startFromId>19059400</startFromId><limitResults>3</limitResults></preferences></ServiceRequest>",
    );
    assert_eq!(r.ids("HostAsset"), vec![19059400, 19059401, 19059402]);
}

#[test]
fn a_plain_was_delete_keeps_the_asset_and_remove_from_subscription_does_not() {
    let s = Server::start_demo();
    let r = s.post_xml("/qps/rest/3.0/delete/was/webapp/28297440", "");
    assert_eq!(
        (r.code(), r.ids("WebApp")),
        ("SUCCESS".into(), vec![28297440])
    );
    assert_eq!(
        s.call("GET", "/qps/rest/3.0/get/was/webapp/28297440", &[], "")
            .code(),
        "NOT_FOUND"
    );
    let asset = s.call("GET", "/qps/rest/2.0/get/am/asset/28297440", &[], "");
    assert_eq!(asset.code(), "SUCCESS");
    assert_eq!(asset.tag("type").as_deref(), Some("WEBAPP"));

    let r = s.post_xml(
        "/qps/rest/3.0/delete/was/webapp/28297441?action=removeFromSubscription",
        "",
    );
    assert_eq!(r.ids("WebApp"), vec![28297441]);
    assert_eq!(
        s.call("GET", "/qps/rest/2.0/get/am/asset/28297441", &[], "")
            .code(),
        "NOT_FOUND"
    );
    // Deleting again finds nothing to delete.
    let again = s.post_xml("/qps/rest/3.0/delete/was/webapp/28297441", "");
    assert_eq!(again.code(), "NOT_FOUND");
    let count = s.call("GET", "/qps/rest/3.0/count/was/webapp", &[], "");
    assert_eq!(count.tag("count").as_deref(), Some("28"));
}

#[test]
fn every_accepted_scan_is_a_persisted_queued_job() {
    let s = Server::start_demo();
    let r = s.post_xml(
        "/qps/rest/1.0/ods/ca/agentasset?scan=SWCA_SCAN&overrideConfigCpu=true",
        "<ServiceRequest><filters><Criteria field=\"tagName\" operator=\"EQUALS\">Cloud Agent</Criteria></filters></ServiceRequest>",
    );
    assert_eq!(
        r.tag("assetIds").as_deref(),
        Some("[19059333, 19059411, 19059501]")
    );
    let jobs = s.fingerprint();
    let line = jobs.lines().find(|l| l.starts_with("scan_job:")).unwrap();
    for id in [19059333, 19059411, 19059501] {
        // id, subscription, asset, scan type, overrideConfigCpu, requested by (admin = 1), at, state
        assert!(
            line.contains(&format!(",1,{id},\"SWCA_Scan\",1,1,")),
            "job for {id} in {line}"
        );
    }
    assert_eq!(line.matches("\"QUEUED\"").count(), 3);
}

#[test]
fn an_acknowledged_write_survives_a_crash() {
    let s = Server::start_demo();
    let r = s.post_xml(
        "/qps/rest/2.0/update/am/hostasset/19059383",
        "<ServiceRequest><data><HostAsset><tags><add><TagSimple><id>87832867</id></TagSimple></add></tags></HostAsset></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS");
    let dir = s.crash();
    let s = Server::start_in(dir, &[]);
    let r = s.post_xml(
        SEARCH,
        "<ServiceRequest><filters><Criteria field=\"tagId\" operator=\"EQUALS\">87832867</Criteria></filters></ServiceRequest>",
    );
    assert_eq!(r.ids("HostAsset"), vec![19059383]);
}

#[test]
fn demo_data_loads_only_into_an_empty_subscription() {
    let s = Server::start_demo();
    let dir = s.crash();
    let s = Server::start_in(dir, &["--demo"]);
    let count = s.post_xml("/qps/rest/2.0/count/am/hostasset", "");
    assert_eq!(count.tag("count").as_deref(), Some("250"));
}

#[test]
fn xsds_are_served_for_every_schema_location() {
    let s = Server::start_demo();
    for path in [
        "2.0/am/hostasset.xsd",
        "2.0/am/asset.xsd",
        "2.0/am/tag.xsd",
        "1.0/ca/agentasset.xsd",
        "3.0/was/webapp.xsd",
    ] {
        let r = s.call_as(None, "GET", &format!("/qps/xsd/{path}"), &[], "");
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains("<xs:schema"), "{path}");
    }
    let r = s.call_as(None, "GET", "/qps/xsd/2.0/am/nothing.xsd", &[], "");
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND".to_string()));
}

#[test]
fn json_and_xml_requests_find_the_same_hosts() {
    let s = Server::start_demo();
    let xml = s.post_xml(
        SEARCH,
        "<ServiceRequest><filters><Criteria field=\"os\" operator=\"CONTAINS\">windows</Criteria><Criteria field=\"port\" operator=\"EQUALS\">3389</Criteria></filters><preferences><limitResults>1000</limitResults></preferences></ServiceRequest>",
    );
    let json = s.call(
        "POST",
        SEARCH,
        &[("Content-Type", "application/json")],
        r#"{"ServiceRequest":{"filters":{"Criteria":[{"field":"os","operator":"CONTAINS","value":"windows"},{"field":"port","operator":"EQUALS","value":3389}]},"preferences":{"limitResults":"1000"}}}"#,
    );
    assert!(!xml.ids("HostAsset").is_empty());
    assert_eq!(xml.ids("HostAsset"), json.ids("HostAsset"));
}

#[test]
fn oversized_criteria_are_refused_cleanly_and_the_server_stays_up() {
    let s = Server::start_demo();
    let many = "<Criteria field=\"name\" operator=\"CONTAINS\">x</Criteria>".repeat(1000);
    let long_in = (1..=40_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let long_text = "y".repeat(60_000);
    let bodies = [
        format!("<ServiceRequest><filters>{many}</filters></ServiceRequest>"),
        format!(
            "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">{long_in}</Criteria></filters></ServiceRequest>"
        ),
        format!(
            "<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">{long_text}</Criteria></filters></ServiceRequest>"
        ),
    ];
    for body in &bodies {
        let r = s.post_xml(SEARCH, body);
        assert_eq!(
            (r.status, r.code()),
            (200, "INVALID_REQUEST".to_string()),
            "{}",
            r.body
        );
        r.assert_valid_xml();
    }
    // 10,000 ids in one IN list is the documented maximum and works.
    let ids = (19059300..19069300)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let r = s.post_xml(
        "/qps/rest/2.0/count/am/hostasset",
        &format!("<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">{ids}</Criteria></filters></ServiceRequest>"),
    );
    assert_eq!(r.tag("count").as_deref(), Some("250"));
    let r = s.post_xml(
        "/qps/rest/1.0/ods/ca/agentasset/19059333?scan=SWCA_SCAN&scan=FOO",
        "",
    );
    assert_eq!(r.code(), "INVALID_REQUEST");
}

#[test]
fn tags_are_created_with_children_and_deleted_from_every_asset() {
    let s = Server::start_demo();
    let r = s.post_xml(
        "/qps/rest/2.0/create/am/tag",
        "<ServiceRequest><data><Tag><name>Parent</name><ruleType>NAME_CONTAINS</ruleType><ruleText>windows</ruleText><color>#FFFFFF</color><children><set><TagSimple><name>Child 1</name></TagSimple><TagSimple><name>Child 2</name></TagSimple></set></children></Tag></data></ServiceRequest>",
    );
    r.assert_valid_xml();
    assert_eq!(r.code(), "SUCCESS");
    let parent = r.ids("Tag")[0];
    let children = r.ids("TagSimple");
    assert_eq!(children.len(), 2);
    let got = s.call(
        "GET",
        &format!("/qps/rest/2.0/get/am/tag/{parent}"),
        &[],
        "",
    );
    assert_eq!(got.ids("TagSimple"), children);
    assert_eq!(got.tag("ruleType").as_deref(), Some("NAME_CONTAINS"));

    // Windows Servers (87832806) and its child Domain Controllers (87832823) are on hosts.
    let on = |tag: i64| {
        s.post_xml(
            "/qps/rest/2.0/count/am/hostasset",
            &format!("<ServiceRequest><filters><Criteria field=\"tagId\" operator=\"EQUALS\">{tag}</Criteria></filters></ServiceRequest>"),
        )
        .tag("count")
        .unwrap()
    };
    assert_ne!(on(87832806), "0");
    let del = s.post_xml("/qps/rest/2.0/delete/am/tag/87832806", "");
    assert_eq!(del.ids("Tag"), vec![87832806, 87832823]);
    assert_eq!(on(87832806), "0");
    assert_eq!(on(87832823), "0");
    let gone = s.call("GET", "/qps/rest/2.0/get/am/tag/87832823", &[], "");
    assert_eq!(gone.code(), "NOT_FOUND");
}

fn count_with_tag(s: &Server, tag: i64) -> usize {
    s.post_xml(
        "/qps/rest/2.0/count/am/hostasset",
        &format!("<ServiceRequest><filters><Criteria field=\"tagId\" operator=\"EQUALS\">{tag}</Criteria></filters></ServiceRequest>"),
    )
    .tag("count")
    .unwrap()
    .parse()
    .unwrap()
}

fn create_rule_tag(s: &Server, name: &str, rule_type: &str, rule_text: &str) -> i64 {
    let r = s.post_xml(
        "/qps/rest/2.0/create/am/tag",
        &format!("<ServiceRequest><data><Tag><name>{name}</name><ruleType>{rule_type}</ruleType><ruleText>{rule_text}</ruleText></Tag></data></ServiceRequest>"),
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    r.ids("Tag")[0]
}

#[test]
fn rule_tags_follow_their_rule() {
    let s = Server::start_demo();
    let by_query = |criteria: &str| -> usize {
        s.post_xml(
            "/qps/rest/2.0/count/am/hostasset",
            &format!("<ServiceRequest><filters>{criteria}</filters></ServiceRequest>"),
        )
        .tag("count")
        .unwrap()
        .parse()
        .unwrap()
    };
    // Each rule lands on the hosts the equivalent criteria find.
    let name = create_rule_tag(&s, "Teams", "NAME_CONTAINS", "TEAMS");
    assert_eq!(
        count_with_tag(&s, name),
        by_query(r#"<Criteria field="name" operator="CONTAINS">teams</Criteria>"#)
    );
    let ports = create_rule_tag(&s, "RDP", "OPEN_PORTS", "3389");
    assert_eq!(
        count_with_tag(&s, ports),
        by_query(r#"<Criteria field="port" operator="EQUALS">3389</Criteria>"#)
    );
    assert!(count_with_tag(&s, ports) > 0);
    let vuln = create_rule_tag(&s, "QID 105241", "VULN_EXIST", "105241");
    assert!(count_with_tag(&s, vuln) >= 1);
    let net = create_rule_tag(
        &s,
        "Lab net",
        "NETWORK_RANGE_ENHANCED",
        "10.20.30.40/32, 2001:db8::/32",
    );
    assert!(count_with_tag(&s, net) >= 1);

    // ASSET_SEARCH: the rule is QPS criteria, run in SQL.
    let search = create_rule_tag(
        &s,
        "Windows RDP",
        "ASSET_SEARCH",
        r#"<![CDATA[<filters><Criteria field="port" operator="EQUALS">3389</Criteria><Criteria field="os" operator="CONTAINS">windows</Criteria></filters>]]>"#,
    );
    let rdp_windows = by_query(
        r#"<Criteria field="port" operator="EQUALS">3389</Criteria><Criteria field="os" operator="CONTAINS">windows</Criteria>"#,
    );
    assert!(rdp_windows > 0);
    assert_eq!(count_with_tag(&s, search), rdp_windows);
    let bad = s.post_xml(
        "/qps/rest/2.0/create/am/tag",
        "<ServiceRequest><data><Tag><name>bad search</name><ruleType>ASSET_SEARCH</ruleType><ruleText>&lt;filters&gt;&lt;Criteria field=\"nope\" operator=\"EQUALS\"&gt;1&lt;/Criteria&gt;&lt;/filters&gt;</ruleText></Tag></data></ServiceRequest>",
    );
    assert_eq!(bad.code(), "INVALID_REQUEST");
    assert!(bad.tag("errorMessage").unwrap().contains("nope"));

    // A host that changes gains or loses the tag.
    assert_eq!(count_with_tag(&s, name), 1);
    let r = s.post_xml(
        "/qps/rest/2.0/update/am/hostasset/19059300",
        "<ServiceRequest><data><HostAsset><name>teams-build-01</name><os>Windows Server 2022</os><openPort><add><HostAssetOpenPort><port>3389</port></HostAssetOpenPort></add></openPort></HostAsset></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS");
    assert_eq!(count_with_tag(&s, name), 2);
    let tagged = s.post_xml(
        SEARCH,
        &format!("<ServiceRequest><filters><Criteria field=\"tagId\" operator=\"EQUALS\">{search}</Criteria><Criteria field=\"id\" operator=\"EQUALS\">19059300</Criteria></filters></ServiceRequest>"),
    );
    assert_eq!(tagged.ids("HostAsset"), vec![19059300]);
    s.post_xml(
        "/qps/rest/2.0/update/am/hostasset/19059300",
        "<ServiceRequest><data><HostAsset><name>build-01</name></HostAsset></data></ServiceRequest>",
    );
    assert_eq!(count_with_tag(&s, name), 1);

    // Changing the rule re-applies it to the whole subscription; evaluate reports the tag.
    let r = s.post_xml(
        &format!("/qps/rest/2.0/update/am/tag/{name}"),
        "<ServiceRequest><data><Tag><ruleText>corp.example.com</ruleText></Tag></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS");
    assert_eq!(
        count_with_tag(&s, name),
        by_query(r#"<Criteria field="name" operator="CONTAINS">corp.example.com</Criteria>"#)
    );
    let r = s.post_xml(&format!("/qps/rest/2.0/evaluate/am/tag/{name}"), "");
    assert_eq!(r.ids("Tag"), vec![name]);

    // A rule tag is not assigned by hand, and a broken rule is refused with nothing written.
    let before = s.fingerprint();
    let r = s.post_xml(
        "/qps/rest/2.0/update/am/hostasset/19059300",
        &format!("<ServiceRequest><data><HostAsset><tags><add><TagSimple><id>{name}</id></TagSimple></add></tags></HostAsset></data></ServiceRequest>"),
    );
    assert_eq!(r.code(), "INVALID_REQUEST");
    let r = s.post_xml(
        "/qps/rest/2.0/create/am/tag",
        "<ServiceRequest><data><Tag><name>bad</name><ruleType>OS_REGEX</ruleType><ruleText>(</ruleText></Tag></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "INVALID_REQUEST");
    assert!(
        r.tag("errorMessage")
            .unwrap()
            .starts_with("ruleText: OS_REGEX")
    );
    assert_eq!(before, s.fingerprint());
}

#[test]
fn a_created_host_is_searchable_gets_its_rule_tags_and_can_be_deleted() {
    let s = Server::start_demo();
    let rdp = create_rule_tag(&s, "RDP", "OPEN_PORTS", "3389");
    let before = count_with_tag(&s, rdp);
    let r = s.post_xml(
        "/qps/rest/2.0/create/am/hostasset",
        "<ServiceRequest><data><HostAsset><name>new-host.example.com</name><address>10.99.0.7</address>\
         <trackingMethod>IP</trackingMethod><os>Windows Server 2022</os>\
         <tags><set><TagSimple><id>87832801</id></TagSimple></set></tags>\
         <openPort><set><HostAssetOpenPort><port>3389</port><protocol>TCP</protocol></HostAssetOpenPort></set></openPort>\
         <software><add><HostAssetSoftware><name>OpenSSH</name><version>9.6</version></HostAssetSoftware></add></software>\
         </HostAsset></data></ServiceRequest>",
    );
    r.assert_valid_xml();
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    let id = r.ids("HostAsset")[0];
    assert!(id > 19059549, "new ids follow the demo's");
    assert_eq!(
        r.ids("TagSimple"),
        vec![87832801, rdp],
        "manual tag and the rule tag"
    );
    assert_eq!(count_with_tag(&s, rdp), before + 1);
    let found = s.post_xml(
        SEARCH,
        "<ServiceRequest><filters><Criteria field=\"installedSoftware\" operator=\"CONTAINS\">openssh</Criteria><Criteria field=\"address\" operator=\"EQUALS\">10.99.0.7</Criteria></filters></ServiceRequest>",
    );
    assert_eq!(found.ids("HostAsset"), vec![id]);

    // Lists change by set/add/remove; the port goes, so does the rule tag.
    let r = s.post_xml(
        &format!("/qps/rest/2.0/update/am/hostasset/{id}"),
        "<ServiceRequest><data><HostAsset><openPort><remove><HostAssetOpenPort><port>3389</port><protocol>TCP</protocol></HostAssetOpenPort></remove></openPort></HostAsset></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS");
    let got = s.get_host(id);
    assert!(!got.body.contains("<port>3389</port>"));
    assert_eq!(got.ids("TagSimple"), vec![87832801]);
    assert_eq!(count_with_tag(&s, rdp), before);

    let r = s.post_xml(&format!("/qps/rest/2.0/delete/am/hostasset/{id}"), "");
    assert_eq!(r.ids("HostAsset"), vec![id]);
    let gone = s.get_host(id);
    assert_eq!(gone.code(), "NOT_FOUND");
    assert_eq!(
        s.call("GET", &format!("/qps/rest/2.0/get/am/asset/{id}"), &[], "")
            .code(),
        "NOT_FOUND"
    );
}
