//! What real Qualys clients need beside the QPS objects: the discovery and login endpoints
//! (`/msp/about.php`, `/qps/rest/portal/version`, `POST /auth` and bearer tokens) and the
//! per-user rate and concurrency limits with their headers.

mod support;

use support::{PASSWORD, Server};

const SEARCH: &str = "/qps/rest/2.0/search/am/hostasset";
const LIMIT_HEADERS: [&str; 6] = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Window-Sec",
    "X-RateLimit-ToWait-Sec",
    "X-Concurrency-Limit-Limit",
    "X-Concurrency-Limit-Running",
];

fn form_login(s: &Server, body: &str) -> support::Reply {
    s.call_as(
        None,
        "POST",
        "/auth",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body,
    )
}

#[test]
fn about_php_answers_get_and_post_with_the_limit_headers() {
    let s = Server::start_demo();
    for method in ["GET", "POST"] {
        for path in ["/msp/about.php", "/msp/about.php/"] {
            let r = s.call(method, path, &[], "");
            assert_eq!(r.status, 200, "{method} {path}");
            assert!(r.content_type.contains("xml"), "{method} {path}");
            assert!(r.body.contains("<ABOUT>"), "{}", r.body);
            for h in LIMIT_HEADERS {
                let v = r
                    .header(h)
                    .unwrap_or_else(|| panic!("{h} on {method} {path}"));
                assert!(v.parse::<u64>().is_ok(), "{h}: {v}");
            }
            assert_eq!(r.header("X-RateLimit-ToWait-Sec"), Some("0"));
        }
    }
    // Wrong credentials must not look valid to a client that checks them here first.
    let r = s.call_as(Some(("admin", "wrong")), "GET", "/msp/about.php", &[], "");
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "INVALID_CREDENTIALS");
    let r = s.call_as(None, "POST", "/msp/about.php/", &[], "");
    assert_eq!(r.status, 401);
}

#[test]
fn portal_version_is_a_service_response_that_validates() {
    let s = Server::start_demo();
    for method in ["GET", "POST"] {
        let r = s.call(method, "/qps/rest/portal/version", &[], "");
        assert_eq!(r.status, 200);
        assert_eq!(r.code(), "SUCCESS");
        assert_eq!(r.tag("count").as_deref(), Some("1"));
        let v = r.tag("PortalApplication-VERSION").expect("a version");
        assert!(!v.is_empty());
        assert!(r.body.contains("<Portal-Version>"));
        r.assert_valid_xml();
    }
    let r = s.call_as(None, "GET", "/qps/rest/portal/version/", &[], "");
    assert_eq!(r.code(), "INVALID_CREDENTIALS");
}

#[test]
fn auth_issues_a_token_that_qps_calls_accept_as_bearer() {
    let s = Server::start_demo();
    let r = form_login(
        &s,
        &format!("username=admin&password={PASSWORD}&token=true"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body.trim().to_string();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let bearer = format!("Bearer {token}");
    let r = s.call_as(
        None,
        "POST",
        "/qps/rest/2.0/count/am/hostasset",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(r.tag("count").as_deref(), Some("250"));
    let r = s.call_as(
        None,
        "GET",
        "/msp/about.php",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(r.status, 200);

    // A tampered or foreign token is refused with the usual envelope.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let r = s.call_as(
        None,
        "POST",
        SEARCH,
        &[("Authorization", &format!("Bearer {forged}"))],
        "",
    );
    assert_eq!(r.code(), "INVALID_CREDENTIALS");
    let r = s.call_as(
        None,
        "POST",
        SEARCH,
        &[("Authorization", "Bearer a.b.c")],
        "",
    );
    assert_eq!(r.code(), "INVALID_CREDENTIALS");

    // Wrong password, or no token=true, gets no token.
    let r = form_login(&s, "username=admin&password=wrong&token=true");
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "INVALID_CREDENTIALS");
    let r = form_login(&s, &format!("username=admin&password={PASSWORD}"));
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "INVALID_REQUEST");
}

#[test]
fn a_second_process_on_the_same_data_folder_accepts_the_token() {
    let a = Server::start_demo();
    let token = form_login(
        &a,
        &format!("username=admin&password={PASSWORD}&token=true"),
    )
    .body;
    let b = Server::start_in(a.data_dir.clone(), &[]);
    let r = b.call_as(
        None,
        "POST",
        "/qps/rest/2.0/count/am/hostasset",
        &[("Authorization", &format!("Bearer {}", token.trim()))],
        "",
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
}

#[test]
fn qps_answers_carry_the_limit_headers_and_a_spent_rate_limit_answers_409() {
    let s = Server::start(&["--demo", "--rate-limit", "3/60"]);
    for left in [2, 1, 0] {
        let r = s.post_xml(SEARCH, "<ServiceRequest/>");
        assert_eq!(r.code(), "SUCCESS");
        assert_eq!(r.header("X-RateLimit-Limit"), Some("3"));
        assert_eq!(r.header("X-RateLimit-Window-Sec"), Some("60"));
        assert_eq!(
            r.header("X-RateLimit-Remaining"),
            Some(left.to_string().as_str())
        );
        let wait: u64 = r.header("X-RateLimit-ToWait-Sec").unwrap().parse().unwrap();
        // Remaining 0 always comes with a wait.
        assert_eq!(left == 0, wait > 0, "remaining {left}, wait {wait}");
    }
    let before = s.fingerprint();
    let r = s.post_xml(
        "/qps/rest/2.0/update/am/hostasset/19059383",
        "<ServiceRequest><data><HostAsset><name>x</name></HostAsset></data></ServiceRequest>",
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "OTHER_ERROR");
    let msg = r.tag("errorMessage").unwrap();
    assert!(
        msg.starts_with("This API cannot be run again for another 0 hours, "),
        "{msg}"
    );
    // The markup qualysapi looks for to wait and retry reaches the body literally (CDATA).
    assert!(
        r.body
            .contains("<CODE>1965</CODE><TEXT>This API cannot be run again for another 0 hours, "),
        "{}",
        r.body
    );
    let wait: u64 = r.header("X-RateLimit-ToWait-Sec").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
    r.assert_valid_xml();
    assert_eq!(before, s.fingerprint(), "a refused call writes nothing");
    // The schema and discovery endpoints are not counted.
    assert_eq!(s.call("GET", "/msp/about.php", &[], "").status, 200);
}

#[test]
fn the_concurrency_limit_refuses_with_409_and_code_1960() {
    let s = Server::start(&["--demo", "--concurrency-limit", "1"]);
    let body = "<ServiceRequest><preferences><limitResults>1000</limitResults></preferences></ServiceRequest>";
    let outcomes: Vec<(u16, String, Option<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    (0..10)
                        .map(|_| {
                            let r = s.post_xml(SEARCH, body);
                            (r.status, r.code(), r.tag("errorResolution"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut refused = 0;
    for (status, code, resolution) in &outcomes {
        match status {
            200 => assert_eq!(code, "SUCCESS"),
            409 => {
                refused += 1;
                assert_eq!(code, "OTHER_ERROR");
                assert!(
                    resolution
                        .as_deref()
                        .unwrap()
                        .contains("<CODE>1960</CODE><TEXT>This API cannot be run again until "),
                    "{resolution:?}"
                );
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(refused < outcomes.len(), "some calls must get through");
    // Once everything has finished, nothing is counted as running.
    let r = s.call("GET", "/msp/about.php", &[], "");
    assert_eq!(r.header("X-Concurrency-Limit-Running"), Some("0"));
    assert_eq!(r.header("X-Concurrency-Limit-Limit"), Some("1"));
}

/// One HTTP/1.1 request over TLS, trusting only `ca`; the raw answer.
fn https_get(base: &str, host: &str, ca: &std::path::Path, path: &str) -> Result<String, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let addr = base.strip_prefix("https://").unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(host.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let sock = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic YWRtaW46ZTJlLXNlY3JldA==\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    tls.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[test]
fn https_serves_beside_http_with_a_certificate_from_openqps_cert() {
    let dir = std::env::temp_dir().join(format!("openqps-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openqps"))
        .args(["cert", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("REQUESTS_CA_BUNDLE="), "{printed}");
    // Run again, it keeps the CA that clients may already trust, unless told --force.
    let ca_before = std::fs::read(dir.join("ca.pem")).unwrap();
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_openqps"))
        .args(["cert", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(dir.join("ca.pem")).unwrap(), ca_before);
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let s = Server::start(&[
        "--demo",
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let tls = s.tls_base.clone().expect("an https address");
    let ca = dir.join("ca.pem");
    for host in ["127.0.0.1", "localhost"] {
        let answer = https_get(&tls, host, &ca, "/qps/rest/2.0/count/am/hostasset").unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("<count>250</count>"), "{answer}");
        // Schema locations follow the scheme the call came in on.
        assert!(
            answer.contains(&format!("\"{tls}/qps/xsd/2.0/am/hostasset.xsd\"")),
            "{answer}"
        );
    }
    // HTTP still answers, naming http schema locations.
    let r = s.call("POST", "/qps/rest/2.0/count/am/hostasset", &[], "");
    assert!(r.body.contains(&format!("\"{}/qps/xsd/", s.base)));
    // A client that trusts another CA refuses the certificate.
    let other = dir.join("other");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_openqps"))
        .args(["cert", "--out"])
        .arg(&other)
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    assert!(https_get(&tls, "localhost", &other.join("ca.pem"), "/msp/about.php").is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A busy port (or a missing certificate) stops `serve` before it touches the data folder, so
/// the first start's one-time password is not spent on a server that never ran.
#[test]
fn serve_checks_its_port_and_certificate_before_it_makes_the_database() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("openqps-busy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let serve = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_openqps"))
            .args(["serve", "--demo", "--data-dir"])
            .arg(&dir)
            .args(extra)
            .env_remove("OPENQPS_ADMIN_PASSWORD")
            .env_remove("OPENQPS_DATABASE")
            .output()
            .unwrap()
    };
    let out = serve(&["--listen", &port]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot listen"),
        "{out:?}"
    );
    assert!(!dir.exists(), "the data folder was made");
    let out = serve(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(!out.status.success(), "{out:?}");
    assert!(!dir.exists(), "the data folder was made");
    drop(busy);
}
