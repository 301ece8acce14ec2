//! Cloud Agent lifecycle end to end: module activation shows in `agentInfo.activatedModule`,
//! uninstall removes the asset and everything it carries.

mod support;

use support::{Server, row_count};

const EMPTY: &str = "<ServiceRequest></ServiceRequest>";

/// A SwCA result with no components.
const EMPTY_SBOM: &str =
    r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}}"#;

fn modules_of(s: &Server, id: i64) -> String {
    let r = s.get_host(id);
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    r.tag("activatedModule").unwrap_or_default()
}

#[test]
fn activation_and_deactivation_change_the_agent_modules() {
    let s = Server::start_demo();
    // 19059465: Windows agent without any module.
    assert_eq!(modules_of(&s, 19059465), "");
    let r = s.post_xml(
        "/qps/rest/2.0/activate/am/asset/19059465?module=AGENT_VM,%20agent_swca",
        EMPTY,
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(modules_of(&s, 19059465), "AGENT_VM,AGENT_SwCA");
    // Again, in another order: success, and nothing changes, not even `modified`.
    let before = s.fingerprint();
    let r = s.post_xml(
        "/qps/rest/2.0/activate/am/asset/19059465?module=AGENT_SwCA,AGENT_VM",
        EMPTY,
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(s.fingerprint(), before);
    // Refused: VM stays while SwCA does; nothing written.
    let r = s.post_xml(
        "/qps/rest/2.0/deactivate/am/asset/19059465?module=AGENT_VM",
        EMPTY,
    );
    assert_eq!(r.code(), "INVALID_REQUEST", "{}", r.body);
    assert_eq!(s.fingerprint(), before);
    let r = s.post_xml(
        "/qps/rest/2.0/deactivate/am/asset/19059465?module=AGENT_SwCA,AGENT_VM",
        EMPTY,
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(modules_of(&s, 19059465), "");
}

#[test]
fn uninstall_removes_the_asset_its_data_and_its_scan_jobs() {
    let s = Server::start_demo();
    let db = s.data_dir.join("openqps.db");
    // 19059333 has AGENT_SwCA: give it a scan job first.
    let r = s.post_xml(
        "/qps/rest/1.0/ods/ca/agentasset/19059333?scan=SWCA_SCAN",
        EMPTY,
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(row_count(&db, "scan_job"), 1);
    let agents = row_count(&db, "agent");
    let r = s.post_xml("/qps/rest/2.0/uninstall/am/asset/19059333", EMPTY);
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(r.ids("Asset"), vec![19059333]);
    assert_eq!(row_count(&db, "scan_job"), 0);
    assert_eq!(row_count(&db, "agent"), agents - 1);
    let r = s.call("GET", "/qps/rest/2.0/get/am/hostasset/19059333", &[], "");
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    // A second uninstall of the same id: it is gone.
    let r = s.post_xml("/qps/rest/2.0/uninstall/am/asset/19059333", EMPTY);
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
}

#[test]
fn a_second_scan_request_joins_the_pending_job_until_it_expires() {
    let s = Server::start(&["--demo", "--scan-expiry", "1"]);
    let db = s.data_dir.join("openqps.db");
    let launch = || {
        let r = s.post_xml(
            "/qps/rest/1.0/ods/ca/agentasset/19059333?scan=Inventory_Scan",
            EMPTY,
        );
        assert_eq!(r.code(), "SUCCESS", "{}", r.body);
        assert_eq!(r.tag("assetIds").as_deref(), Some("[19059333]"));
    };
    launch();
    launch();
    assert_eq!(
        row_count(&db, "scan_job"),
        1,
        "the pending job is not doubled"
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    launch();
    assert_eq!(
        row_count(&db, "scan_job"),
        2,
        "the expired job does not block a new one"
    );
    let states = support::fingerprint(&db);
    let line = states.lines().find(|l| l.starts_with("scan_job:")).unwrap();
    assert_eq!(line.matches("\"EXPIRED\"").count(), 1, "{line}");
    assert_eq!(line.matches("\"QUEUED\"").count(), 1, "{line}");
}

#[test]
fn created_activation_keys_get_distinct_v4_uuids_and_a_new_default_profile_takes_over() {
    let s = Server::start_demo();
    let create = || {
        let r = s.post_xml(
            "/qps/rest/1.0/create/ca/agentactkey",
            "<ServiceRequest><data><AgentActKey><title>k</title><type>UNLIMITED</type></AgentActKey></data></ServiceRequest>",
        );
        assert_eq!(r.code(), "SUCCESS", "{}", r.body);
        r.assert_valid_xml();
        r.tag("activationKey").unwrap()
    };
    let (a, b) = (create(), create());
    assert_ne!(a, b);
    for k in [&a, &b] {
        assert_eq!(k.len(), 36, "{k}");
        assert_eq!(&k[14..15], "4", "version 4: {k}");
        assert!("89ab".contains(&k[19..20]), "variant: {k}");
    }
    let r = s.post_xml(
        "/qps/rest/1.0/search/ca/agentactkey",
        &format!("<ServiceRequest><filters><Criteria field=\"activationKey\" operator=\"EQUALS\">{a}</Criteria></filters></ServiceRequest>"),
    );
    assert_eq!(r.tag("count").as_deref(), Some("1"), "{}", r.body);

    let r = s.post_xml(
        "/qps/rest/1.0/create/ca/agentconfig",
        "<ServiceRequest><data><AgentConfig><name>New default</name><isDefault>true</isDefault></AgentConfig></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    let id: i64 = r.tag("id").unwrap().parse().unwrap();
    let r = s.post_xml(
        "/qps/rest/1.0/search/ca/agentconfig",
        "<ServiceRequest><filters><Criteria field=\"isDefault\" operator=\"EQUALS\">true</Criteria></filters></ServiceRequest>",
    );
    assert_eq!(r.ids("AgentConfig"), vec![id], "{}", r.body);
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn an_agent_registers_checks_in_claims_a_job_and_reports_its_result() {
    let s = Server::start_demo();
    let post = |path: &str, auth: Option<(&str, &str)>, body: &str| {
        s.call_as(
            auth,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body,
        )
    };
    // A key for one agent only.
    let r = s.post_xml(
        "/qps/rest/1.0/create/ca/agentactkey",
        "<ServiceRequest><data><AgentActKey><title>one</title><type>COUNT_LIMITED</type><countPurchased>1</countPurchased><modules><list><ActivationKeyModule><license>VM_LICENSE</license></ActivationKeyModule></list></modules></AgentActKey></data></ServiceRequest>",
    );
    let key = r.tag("activationKey").unwrap();
    let reg = format!(
        r#"{{"activationKey":"{key}","hostname":"build-01","platform":"linux","os":"Ubuntu 24.04","address":"10.9.8.7"}}"#
    );
    // A host name XML cannot carry is refused, and does not use up the key.
    let r = post(
        "/agent/v1/register",
        None,
        &reg.replace("build-01", "build\\u000101"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(json(&r.body)["error"].as_str().unwrap().contains("U+0001"));
    // So is an address that is not one, as QPS refuses it on a host asset.
    let r = post(
        "/agent/v1/register",
        None,
        &reg.replace("10.9.8.7", "not-an-ip"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // A path or method the protocol does not have still answers its JSON error.
    for (method, path, status) in [
        ("GET", "/agent/v1/register", 405),
        ("POST", "/agent/v1/nope", 404),
    ] {
        let r = s.call_as(None, method, path, &[], "");
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(json(&r.body)["error"].is_string(), "{}", r.body);
    }
    let r = post("/agent/v1/register", None, &reg);
    assert_eq!(r.status, 201, "{}", r.body);
    let v = json(&r.body);
    let agent_id = v["agentId"].as_str().unwrap().to_string();
    let secret = v["secret"].as_str().unwrap().to_string();
    let asset = v["assetId"].as_i64().unwrap();
    // The key is used up.
    let r = post("/agent/v1/register", None, &reg);
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post(
        "/agent/v1/register",
        None,
        r#"{"activationKey":"nope","hostname":"x","platform":"Linux"}"#,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post("/agent/v1/register", None, r#"{"hostname":"x"}"#);
    assert_eq!(r.status, 400, "{}", r.body);

    // The new agent is a host asset on the QPS side, with the key's module.
    let r = s.get_host(asset);
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(r.tag("activatedModule").as_deref(), Some("AGENT_VM"));
    assert_eq!(r.tag("trackingMethod").as_deref(), Some("QAGENT"));
    assert!(r.body.contains("<name>Cloud Agent</name>"), "{}", r.body);
    let r = s.post_xml("/qps/rest/1.0/search/ca/agentactkey", &format!("<ServiceRequest><filters><Criteria field=\"activationKey\" operator=\"EQUALS\">{key}</Criteria></filters></ServiceRequest>"));
    assert_eq!(r.tag("countUsed").as_deref(), Some("1"));

    let me = Some((agent_id.as_str(), secret.as_str()));
    let r = post("/agent/v1/checkin", Some((agent_id.as_str(), "wrong")), "");
    assert_eq!(r.status, 401, "{}", r.body);
    let r = post("/agent/v1/checkin", me, r#"{"agentVersion":"6.2.0.1"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r.body)["queuedJobs"], 0);
    let r = post("/agent/v1/jobs/claim", me, "");
    assert_eq!(json(&r.body)["job"], serde_json::Value::Null);

    let r = s.post_xml(
        &format!(
            "/qps/rest/1.0/ods/ca/agentasset/{asset}?scan=Vulnerability_Scan&overrideConfigCpu=true"
        ),
        EMPTY,
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    let r = post("/agent/v1/checkin", me, "");
    assert_eq!(json(&r.body)["queuedJobs"], 1);
    let r = post("/agent/v1/jobs/claim", me, "");
    let job = json(&r.body)["job"].clone();
    assert_eq!(job["state"], "DISPATCHED", "{}", r.body);
    assert_eq!(job["overrideConfigCpu"], true);
    let id = job["id"].as_i64().unwrap();
    let path = format!("/agent/v1/jobs/{id}/state");
    let r = post(&path, me, r#"{"state":"COMPLETED"}"#);
    assert_eq!(r.status, 409, "{}", r.body);
    let r = post(&path, me, r#"{"state":"RUNNING"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(&path, me, r#"{"state":"COMPLETED"}"#);
    assert_eq!(json(&r.body)["job"]["state"], "COMPLETED");
    let r = s.get_host(asset);
    assert!(r.tag("lastVulnScan").is_some(), "{}", r.body);
    // A job that is not this agent's is not found.
    let r = s.post_xml(
        "/qps/rest/1.0/ods/ca/agentasset/19059333?scan=Inventory_Scan",
        EMPTY,
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    let other = format!("/agent/v1/jobs/{}/state", id + 1);
    let r = post(&other, me, r#"{"state":"RUNNING"}"#);
    assert_eq!(r.status, 404, "{}", r.body);
    // Uninstalling the agent removes its credential with it.
    s.post_xml(&format!("/qps/rest/2.0/uninstall/am/asset/{asset}"), EMPTY);
    let r = post("/agent/v1/checkin", me, "");
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn an_agent_uploads_inventory_and_swca_results_once() {
    let s = Server::start_demo();
    let post = |path: &str, auth: Option<(&str, &str)>, body: &str| {
        s.call_as(
            auth,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body,
        )
    };
    let r = s.post_xml(
        "/qps/rest/1.0/create/ca/agentactkey",
        "<ServiceRequest><data><AgentActKey><title>inv</title><type>UNLIMITED</type><modules><list><ActivationKeyModule><license>VM_LICENSE</license></ActivationKeyModule><ActivationKeyModule><license>SWCA</license></ActivationKeyModule></list></modules></AgentActKey></data></ServiceRequest>",
    );
    let key = r
        .tag("activationKey")
        .unwrap_or_else(|| panic!("{}", r.body));
    let r = post(
        "/agent/v1/register",
        None,
        &format!(r#"{{"activationKey":"{key}","hostname":"inv-01","platform":"Linux"}}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = json(&r.body);
    let agent_id = v["agentId"].as_str().unwrap().to_string();
    let secret = v["secret"].as_str().unwrap().to_string();
    let asset = v["assetId"].as_i64().unwrap();
    let me = Some((agent_id.as_str(), secret.as_str()));

    for scan in ["Inventory_Scan", "SWCA_SCAN"] {
        let r = s.post_xml(
            &format!("/qps/rest/1.0/ods/ca/agentasset/{asset}?scan={scan}"),
            EMPTY,
        );
        assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    }
    let claim = || {
        let r = post("/agent/v1/jobs/claim", me, "");
        json(&r.body)["job"].clone()
    };
    let inv = claim();
    assert_eq!(inv["scanType"], "Inventory_Scan", "{inv}");
    let inv_path = format!("/agent/v1/jobs/{}/result", inv["id"]);
    // The wrong kind of result, and a malformed one, are refused; nothing changes.
    let r = post(&inv_path, me, EMPTY_SBOM);
    assert_eq!(r.status, 409, "{}", r.body);
    let r = post(
        &inv_path,
        me,
        r#"{"inventory":{"openPorts":[{"port":99999,"protocol":"TCP"}]}}"#,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = post(&inv_path, me, r#"{"inventory":{"os":"Bad\u0000OS"}}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    let body = r#"{"inventory":{"os":"Debian GNU/Linux 12 (bookworm)","manufacturer":"QEMU","model":"Standard PC","totalMemory":2048,
        "lastSystemBoot":"2026-01-02T03:04:05Z","software":[{"name":"bash","version":"5.2.15-2"}],
        "openPorts":[{"port":22,"protocol":"TCP"}],"processors":[{"name":"Virtual CPU","speed":2400}],
        "networkInterfaces":[{"interfaceName":"eth0","macAddress":"52:54:00:12:34:56","address":"10.0.2.15"}]}}"#;
    let r = post(&inv_path, me, body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r.body)["job"]["state"], "COMPLETED");
    // Never twice: a second upload of the same job is refused, and changes nothing.
    let r = post(&inv_path, me, body);
    assert_eq!(r.status, 409, "{}", r.body);
    let r = s.get_host(asset);
    assert_eq!(
        r.tag("os").as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)"),
        "{}",
        r.body
    );
    assert_eq!(r.tag("totalMemory").as_deref(), Some("2048"));
    assert!(r.body.contains("<name>bash</name>"), "{}", r.body);
    assert!(r.body.contains("<port>22</port>"), "{}", r.body);
    assert!(r.body.contains("10.0.2.15"), "{}", r.body);

    let sw = claim();
    assert_eq!(sw["scanType"], "SWCA_Scan", "{sw}");
    let sw_path = format!("/agent/v1/jobs/{}/result", sw["id"]);
    // A result that is not CycloneDX is refused (400) and the job stays open for a good one.
    for bad in [
        r#"{"components":[{"name":"serde"}]}"#,
        r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.3","version":1}}"#,
        r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library"}]}}"#,
    ] {
        let r = post(&sw_path, me, bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let r = post(
        &sw_path,
        me,
        r#"{"sbom":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"serde","version":"1.0.200","purl":"pkg:cargo/serde@1.0.200","properties":[{"name":"openqps:path","value":"/srv/app/Cargo.lock"}]}]}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(&sw_path, me, EMPTY_SBOM);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        row_count(&s.data_dir.join("openqps.db"), "swca_component"),
        1
    );

    // The SBOM of those components, in both spec versions, XML and JSON requests.
    let sbom = "/qps/rest/1.0/download/ca/downloadcdxsbom/";
    let r = s.post_xml(
        sbom,
        &format!("<ServiceRequest><data><DownloadCDXSbom><assetId>{asset}</assetId><cdxschemaversion>CYCLONE_DX_1_4</cdxschemaversion></DownloadCDXSbom></data></ServiceRequest>"),
    );
    let doc = json(&r.body);
    assert_eq!(doc["bomFormat"], "CycloneDX", "{}", r.body);
    assert_eq!(doc["specVersion"], "1.4");
    assert_eq!(doc["components"][0]["purl"], "pkg:cargo/serde@1.0.200");
    // The ecosystem came from the purl, the path from the uploaded property.
    let props = &doc["components"][0]["properties"];
    assert_eq!(props[0]["value"], "cargo", "{props}");
    assert_eq!(props[1]["value"], "/srv/app/Cargo.lock", "{props}");
    let r = s.call(
        "POST",
        sbom,
        &[("Content-Type", "application/json")],
        &format!(r#"{{"ServiceRequest":{{"data":{{"DownloadCDXSbom":{{"assetId":"{asset}","cdxschemaversion":"CYCLONE_DX_1_6"}}}}}}}}"#),
    );
    let doc = json(&r.body);
    assert_eq!(doc["specVersion"], "1.6", "{}", r.body);
    assert_eq!(doc["components"][0]["name"], "serde");
    // Unknown asset, an asset without SwCA results, a bad version: envelopes.
    let ask = |id: i64, v: &str| {
        s.post_xml(
            sbom,
            &format!("<ServiceRequest><data><DownloadCDXSbom><assetId>{id}</assetId><cdxschemaversion>{v}</cdxschemaversion></DownloadCDXSbom></data></ServiceRequest>"),
        )
    };
    assert_eq!(ask(999_999_999, "CYCLONE_DX_1_4").code(), "NOT_FOUND");
    let r = ask(19059333, "CYCLONE_DX_1_4");
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    assert!(r.body.contains("no software composition"), "{}", r.body);
    assert_eq!(ask(asset, "SPDX_2_3").code(), "INVALID_REQUEST");
    let r = s.post_xml(sbom, EMPTY);
    assert_eq!(r.code(), "INVALID_REQUEST", "{}", r.body);
}
