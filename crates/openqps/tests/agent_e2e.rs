//! `openqps agent` end to end on this machine: it registers with a key made through the QPS
//! API, runs an Inventory and a SwCA scan launched on the QPS side, and its results show as the
//! host asset (this machine's OS and packages) and as a CycloneDX SBOM of the lock files.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::Server;

const EMPTY: &str = "<ServiceRequest></ServiceRequest>";

fn agent_command(base: &str, key: &str, root: &Path, state: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openqps"));
    cmd.args(["agent", "--once", "--server", base, "--activation-key", key])
        .arg("--scan-root")
        .arg(root)
        .arg("--state-dir")
        .arg(state)
        .env_remove("OPENQPS_AGENT_SCAN_ROOTS")
        .env_remove("OPENQPS_AGENT_STATE_DIR")
        .env_remove("OPENQPS_AGENT_CA_CERT");
    cmd
}

fn run_agent(base: &str, key: &str, root: &Path, state: &Path) {
    let mut child = agent_command(base, key, root, state)
        .spawn()
        .expect("start openqps agent");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "openqps agent failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("openqps agent did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn create_key(s: &Server) -> String {
    let r = s.post_xml(
        "/qps/rest/1.0/create/ca/agentactkey",
        "<ServiceRequest><data><AgentActKey><title>e2e</title><type>UNLIMITED</type><modules><list><ActivationKeyModule><license>VM_LICENSE</license></ActivationKeyModule><ActivationKeyModule><license>SWCA</license></ActivationKeyModule></list></modules></AgentActKey></data></ServiceRequest>",
    );
    r.tag("activationKey")
        .unwrap_or_else(|| panic!("{}", r.body))
}

fn pretty_name() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_string())
}

fn some_dpkg_package() -> Option<String> {
    let text = std::fs::read_to_string("/var/lib/dpkg/status").ok()?;
    text.split("\n\n")
        .find(|s| s.contains("Status: install ok installed"))
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Package: ")))
        .map(|p| p.trim().to_string())
}

#[test]
fn the_agent_scans_this_machine_and_its_lock_files() {
    let started = Instant::now();
    let s = Server::start(&[]);
    let work = s.data_dir.with_extension("agent");
    let _ = std::fs::remove_dir_all(&work);
    let root = work.join("src");
    let state = work.join("state");
    std::fs::create_dir_all(root.join("app/web/node_modules/dep")).unwrap();
    std::fs::write(
        root.join("app/Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"serde\",\n]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("app/web/package-lock.json"),
        r#"{"name":"web","lockfileVersion":3,"packages":{"":{"name":"web"},"node_modules/left-pad":{"version":"1.3.0"}}}"#,
    )
    .unwrap();
    // Under node_modules: skipped by the walk.
    std::fs::write(
        root.join("app/web/node_modules/dep/package-lock.json"),
        r#"{"lockfileVersion":3,"packages":{"node_modules/hidden":{"version":"9.9.9"}}}"#,
    )
    .unwrap();

    let key = create_key(&s);

    // First run: registers, nothing to do.
    run_agent(&s.base, &key, &root, &state);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("agent.json")).unwrap()).unwrap();
    let asset = saved["assetId"].as_i64().expect("assetId saved");

    for scan in ["Inventory_Scan", "SWCA_SCAN"] {
        let r = s.post_xml(
            &format!("/qps/rest/1.0/ods/ca/agentasset/{asset}?scan={scan}"),
            EMPTY,
        );
        assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    }
    run_agent(&s.base, &key, &root, &state);

    let r = s.get_host(asset);
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    if let Some(os) = pretty_name() {
        let want = os.replace('&', "&amp;");
        assert!(
            r.body.contains(&format!("<os>{want}</os>")),
            "os {os}: {}",
            r.body
        );
    }
    if let Some(pkg) = some_dpkg_package() {
        assert!(
            r.body.contains(&format!("<name>{pkg}</name>")),
            "package {pkg}: {}",
            r.body
        );
    }
    assert!(r.tag("totalMemory").is_some(), "{}", r.body);

    // Both jobs completed, and recorded as uploaded in the state directory.
    let uploaded = std::fs::read_to_string(state.join("uploaded-jobs")).unwrap();
    assert_eq!(uploaded.lines().count(), 2, "{uploaded}");

    let sbom = |base: &str, version: &str| {
        let r = support::http_client()
            .post(format!("{base}/qps/rest/1.0/download/ca/downloadcdxsbom/"))
            .basic_auth("admin", Some(support::PASSWORD))
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"ServiceRequest":{{"data":{{"DownloadCDXSbom":{{"assetId":{asset},"cdxschemaversion":"{version}"}}}}}}}}"#))
            .send()
            .unwrap()
            .text()
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&r).unwrap_or_else(|e| panic!("{e}: {r}"))
    };
    for (version, spec) in [("CYCLONE_DX_1_4", "1.4"), ("CYCLONE_DX_1_6", "1.6")] {
        let doc = sbom(&s.base, version);
        assert_eq!(doc["bomFormat"], "CycloneDX", "{doc}");
        assert_eq!(doc["specVersion"], spec);
        // It parses as CycloneDX of that version (types generated from the official schemas).
        let parsed = match spec {
            "1.4" => {
                serde_json::from_value::<serde_cyclonedx::cyclonedx::v_1_4::CycloneDx>(doc.clone())
                    .map(|b| b.components.map_or(0, |c| c.len()))
            }
            _ => {
                serde_json::from_value::<serde_cyclonedx::cyclonedx::v_1_6::CycloneDx>(doc.clone())
                    .map(|b| b.components.map_or(0, |c| c.len()))
            }
        };
        assert_eq!(
            parsed.unwrap_or_else(|e| panic!("not CycloneDX {spec}: {e}")),
            doc["components"].as_array().unwrap().len()
        );
        let purls: Vec<&str> = doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["purl"].as_str())
            .collect();
        for want in [
            "pkg:cargo/serde@1.0.200",
            "pkg:cargo/app@0.1.0",
            "pkg:npm/left-pad@1.3.0",
        ] {
            assert!(purls.contains(&want), "{want} missing from {purls:?}");
        }
        assert!(!purls.iter().any(|p| p.contains("hidden")), "{purls:?}");
    }

    // After a server restart the agent keeps its credential and finds nothing to redo.
    let data = s.crash();
    let s = Server::start_in(data, &[]);
    run_agent(&s.base, &key, &root, &state);
    let uploaded = std::fs::read_to_string(state.join("uploaded-jobs")).unwrap();
    assert_eq!(uploaded.lines().count(), 2, "{uploaded}");
    let r = s.post_xml(
        "/qps/rest/1.0/search/ca/agentactkey",
        &format!("<ServiceRequest><filters><Criteria field=\"activationKey\" operator=\"EQUALS\">{key}</Criteria></filters></ServiceRequest>"),
    );
    assert_eq!(
        r.tag("countUsed").as_deref(),
        Some("1"),
        "registered once: {}",
        r.body
    );
    let _ = std::fs::remove_dir_all(&work);
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn the_agent_talks_https_trusting_only_the_ca_it_is_given() {
    let dir = std::env::temp_dir().join(format!("openqps-agent-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let made = Command::new(env!("CARGO_BIN_EXE_openqps"))
        .args(["cert", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let s = Server::start(&[
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        dir.join("cert.pem").to_str().unwrap(),
        "--tls-key",
        dir.join("key.pem").to_str().unwrap(),
    ]);
    let tls = s.tls_base.clone().expect("an https address");
    let key = create_key(&s);
    let root = dir.join("src");
    std::fs::create_dir_all(&root).unwrap();

    // The server's certificate comes from a CA the system does not know: refused at once, with
    // the reason, and without registering.
    let started = Instant::now();
    let out = agent_command(&tls, &key, &root, &dir.join("untrusting"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("TLS") && err.contains("--ca-cert"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "retried: {err}"
    );
    assert!(!dir.join("untrusting/agent.json").exists());

    // Trusting the CA of `openqps cert`, it registers over HTTPS.
    let state = dir.join("trusting");
    let out = agent_command(&tls, &key, &root, &state)
        .arg("--ca-cert")
        .arg(dir.join("ca.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("agent.json")).unwrap()).unwrap();
    let asset = saved["assetId"].as_i64().expect("assetId saved");
    let r = s.get_host(asset);
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);

    // A damaged state file stops the agent rather than registering this machine twice.
    std::fs::write(state.join("agent.json"), "{not json").unwrap();
    let out = agent_command(&tls, &key, &root, &state)
        .arg("--ca-cert")
        .arg(dir.join("ca.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a valid agent state file"),
        "{out:?}"
    );

    // A server address that is not an http(s) URL is refused before anything is sent.
    let out = agent_command(&tls.replace("https://", ""), &key, &root, &state)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("http:// or https://"),
        "{out:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
