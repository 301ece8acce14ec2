//! Lenient HTTP, item by item: the server checklist of the client research (spec clients.md §3
//! items 1-3 and 9) and the public failure reports that concern the server (§4). Items already
//! pinned by a golden case name it; the rest are tested here, on the real binary.
//!
//! | item | where |
//! |---|---|
//! | §3.1 Content-Type missing / text/xml / application/xml / application/json | `content_types_*` here; golden `am/search-json-request` |
//! | §3.1 Accept independent of the request format; text/xml, */*, none get XML | `accept_*` here (also §4 #2, #3) |
//! | §3.2 trailing `/`, GET and POST for get/count | golden `am/get-post-no-body-trailing-slash`, `was/count-get`; `get_and_count_*` here |
//! | §3.2 junk or empty GET bodies, JSON `123`/`null` on by-id calls | `junk_bodies_*` here |
//! | §3.2 raw XML in a GET query string | golden `am/count-get-xml-in-query*`; long queries (§4 #23) here |
//! | §3.3 responseCode and count always; envelope order; hasMoreRecords a string in JSON; a Content-Type on every answer | `envelope_*` here |
//! | §3.9 raw `&` or `<` in a value: an envelope, never a 500 or HTML | golden `errors/malformed-xml`; `raw_markup_*` here |
//! | §4 #1 doubled prefix: INVALID_API_VERSION | golden `errors/doubled-path`; harness (qualysapi) |
//! | §4 #4 hostasset on 1.0 | golden `errors/wrong-version` |
//! | §4 #5 read-only `created`/`modified` in data | golden `errors/update-read-only`; `read_only_*` here |
//! | §4 #6 error details readable on non-200 answers | `error_statuses_*` here |
//! | §4 #14-#16 limits as 409 with 1965/1960 | tests/clients.rs |
//! | §4 #19 unknown filter field | golden `errors/unknown-field` |
//! | §4 #24 tag add/remove on host assets | golden `release-notes/update-hostasset-add-tag`; harness |

mod support;

use support::Server;

const SEARCH: &str = "/qps/rest/2.0/search/am/hostasset";
const COUNT: &str = "/qps/rest/2.0/count/am/hostasset";
const QAGENT: &str = "<ServiceRequest><filters><Criteria field=\"trackingMethod\" operator=\"EQUALS\">QAGENT</Criteria></filters></ServiceRequest>";

#[test]
fn content_types_missing_or_xml_or_json_all_read_the_body() {
    let s = Server::start_demo();
    let json = r#"{"ServiceRequest":{"filters":{"Criteria":[{"field":"trackingMethod","operator":"EQUALS","value":"QAGENT"}]}}}"#;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[], QAGENT),
        (&[("Content-Type", "text/xml")], QAGENT),
        (&[("Content-Type", "application/xml")], QAGENT),
        (&[("Content-Type", "text/xml; charset=UTF-8")], QAGENT),
        (&[("Content-Type", "application/json")], json),
    ];
    for (headers, body) in cases {
        let r = s.call("POST", COUNT, headers, body);
        assert_eq!(r.code(), "SUCCESS", "{headers:?}");
        assert_eq!(r.tag("count").as_deref(), Some("42"), "{headers:?}");
    }
}

#[test]
fn accept_picks_the_answer_format_independently_of_the_request() {
    let s = Server::start_demo();
    for accept in ["text/xml", "*/*", "application/xml", "text/xml, */*;q=0.1"] {
        let r = s.call(
            "POST",
            COUNT,
            &[("Content-Type", "text/xml"), ("Accept", accept)],
            QAGENT,
        );
        assert!(r.content_type.starts_with("application/xml"), "{accept}");
        assert_eq!(r.tag("count").as_deref(), Some("42"), "{accept}");
        r.assert_valid_xml();
    }
    // XML in, JSON out (qualysapi #99's header switching), and JSON in, XML out.
    let r = s.call(
        "POST",
        COUNT,
        &[("Content-Type", "text/xml"), ("Accept", "application/json")],
        QAGENT,
    );
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(
        r.body,
        r#"{"ServiceResponse":{"responseCode":"SUCCESS","count":42}}"#
    );
    let r = s.call(
        "POST",
        COUNT,
        &[("Content-Type", "application/json"), ("Accept", "text/xml")],
        r#"{"ServiceRequest":{}}"#,
    );
    assert!(r.content_type.starts_with("application/xml"));
    assert_eq!(r.tag("count").as_deref(), Some("250"));
}

#[test]
fn get_and_count_answer_on_get_and_post_with_and_without_a_trailing_slash() {
    let s = Server::start_demo();
    for method in ["GET", "POST"] {
        for path in [
            "/qps/rest/2.0/get/am/hostasset/19059310",
            "/qps/rest/2.0/get/am/hostasset/19059310/",
            "/qps/rest/3.0/get/was/webapp/28297430/",
        ] {
            let r = s.call(method, path, &[], "");
            assert_eq!(r.code(), "SUCCESS", "{method} {path}");
            assert_eq!(r.tag("count").as_deref(), Some("1"));
        }
        for (path, n) in [
            ("/qps/rest/2.0/count/am/hostasset/", "250"),
            ("/qps/rest/3.0/count/was/webapp", "30"),
        ] {
            let r = s.call(method, path, &[], "");
            assert_eq!(r.tag("count").as_deref(), Some(n), "{method} {path}");
        }
    }
}

#[test]
fn junk_bodies_on_get_and_on_by_id_calls_are_ignored() {
    let s = Server::start_demo();
    // A GET search with a body that is not a ServiceRequest counts as no body.
    for (ct, body) in [
        ("text/xml", "not xml at all"),
        ("application/json", "null"),
        ("application/json", "{"),
    ] {
        let r = s.call("GET", COUNT, &[("Content-Type", ct)], body);
        assert_eq!(r.tag("count").as_deref(), Some("250"), "{ct} {body}");
    }
    // By-id calls take nothing from their body, whatever it holds.
    for body in ["123", "null", "", "<ServiceRequest/>", "junk"] {
        let r = s.call(
            "POST",
            "/qps/rest/2.0/get/am/hostasset/19059310",
            &[("Content-Type", "application/json")],
            body,
        );
        assert_eq!(r.code(), "SUCCESS", "get with {body:?}");
        let r = s.call(
            "POST",
            "/qps/rest/1.0/ods/ca/agentasset/19059333?scan=Inventory_Scan",
            &[("Content-Type", "application/json")],
            body,
        );
        assert_eq!(r.code(), "SUCCESS", "ods with {body:?}");
    }
    let r = s.call(
        "POST",
        "/qps/rest/3.0/delete/was/webapp/28297440",
        &[("Content-Type", "application/json")],
        "null",
    );
    assert_eq!(r.code(), "SUCCESS");
    assert_eq!(r.ids("WebApp"), vec![28297440]);
    // A bulk call still reads its body: junk there is an error, not "everything".
    let r = s.call(
        "POST",
        "/qps/rest/3.0/delete/was/webapp",
        &[("Content-Type", "application/json")],
        "123",
    );
    assert_eq!(r.code(), "INVALID_REQUEST");
}

#[test]
fn a_long_query_string_of_xml_is_read_not_refused() {
    let s = Server::start_demo();
    // qualysapi puts GET XML into the URL (report §4 #23: 414 Request-URI Too Long elsewhere).
    let ids: Vec<String> = (19059300..19059550)
        .chain(1..2000)
        .map(|i| i.to_string())
        .collect();
    let xml = format!(
        "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">{}</Criteria></filters></ServiceRequest>",
        ids.join(",")
    );
    let query = xml
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace(' ', "%20")
        .replace('"', "%22");
    assert!(query.len() > 10_000, "{}", query.len());
    let r = s.call("GET", &format!("{COUNT}?{query}"), &[], "");
    assert_eq!(r.status, 200);
    assert_eq!(r.tag("count").as_deref(), Some("250"), "{}", r.body);
}

#[test]
fn envelope_fields_come_in_order_and_every_answer_has_a_content_type() {
    let s = Server::start_demo();
    let r = s.post_xml(
        SEARCH,
        "<ServiceRequest><preferences><limitResults>2</limitResults></preferences></ServiceRequest>",
    );
    let pos = |t: &str| {
        r.body
            .find(&format!("<{t}>"))
            .unwrap_or_else(|| panic!("{t}"))
    };
    assert!(pos("responseCode") < pos("count"));
    assert!(pos("count") < pos("hasMoreRecords"));
    assert!(pos("hasMoreRecords") < pos("lastId"));
    assert!(pos("lastId") < pos("data"));
    // JSON: the same order, hasMoreRecords as a string.
    let r = s.call(
        "POST",
        SEARCH,
        &[("Accept", "application/json")],
        "<ServiceRequest><preferences><limitResults>2</limitResults></preferences></ServiceRequest>",
    );
    assert!(
        r.body.starts_with(
            r#"{"ServiceResponse":{"responseCode":"SUCCESS","count":2,"hasMoreRecords":"true","lastId":19059301,"data":["#
        ),
        "{}",
        r.body
    );
    // Errors carry responseCode too; every kind of answer names its Content-Type.
    let answers = [
        s.post_xml(SEARCH, "<ServiceRequest><oops/></ServiceRequest>"),
        s.post_xml("/qps/rest/2.0/count/am/hostasset", ""),
        s.call_as(None, "POST", SEARCH, &[], ""),
        s.call("GET", "/nothing/here", &[], ""),
        s.call("GET", "/qps/xsd/none.xsd", &[], ""),
        s.call("GET", "/qps/xsd/2.0/am/hostasset.xsd", &[], ""),
        s.call("GET", "/msp/about.php", &[], ""),
    ];
    for a in answers {
        assert!(!a.content_type.is_empty(), "{}", a.body);
    }
}

#[test]
fn raw_markup_in_a_value_gets_an_envelope_and_the_server_stays_up() {
    let s = Server::start_demo();
    for value in ["A&B", "a<b", "x & y < z", "&unknown;"] {
        let body = format!(
            "<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">{value}</Criteria></filters></ServiceRequest>"
        );
        let r = s.post_xml(SEARCH, &body);
        assert_eq!(r.status, 200, "{value}");
        assert_eq!(r.code(), "INVALID_XML", "{value}");
        assert!(r.tag("errorMessage").is_some());
        r.assert_valid_xml();
    }
    // Escaped, the same values are plain text.
    let r = s.post_xml(
        SEARCH,
        "<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">A&amp;B &lt;</Criteria></filters></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS");
    assert_eq!(r.tag("count").as_deref(), Some("0"));
}

#[test]
fn read_only_created_and_modified_in_data_are_named_in_the_error() {
    let s = Server::start_demo();
    let before = s.fingerprint();
    for element in ["created", "modified"] {
        let r = s.post_xml(
            "/qps/rest/2.0/update/am/hostasset/19059300",
            &format!(
                "<ServiceRequest><data><HostAsset><name>n</name><{element}>2024-01-01T00:00:00Z</{element}></HostAsset></data></ServiceRequest>"
            ),
        );
        assert_eq!(r.code(), "INVALID_REQUEST");
        let msg = r.tag("errorMessage").unwrap();
        assert!(
            msg.starts_with(&format!(
                "{element}: An error occurred while validating the element"
            )),
            "{msg}"
        );
    }
    assert_eq!(before, s.fingerprint());
}

#[test]
fn error_statuses_other_than_200_still_carry_readable_details() {
    let s = Server::start(&["--demo", "--body-limit", "64"]);
    let r = s.post_xml(
        SEARCH,
        &format!("<ServiceRequest>{}</ServiceRequest>", " ".repeat(100)),
    );
    assert_eq!(r.status, 413);
    assert!(r.tag("errorMessage").is_some());
    let r = s.call("GET", "/qps/xsd/2.0/am/none.xsd", &[], "");
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "NOT_FOUND");
    assert!(r.tag("errorResolution").is_some());
}

/// A body that breaks off before its Content-Length is an invalid request (an INVALID_REQUEST
/// envelope, on HTTP 200 as other request errors), not a body that is too large (413).
#[test]
fn a_body_cut_short_of_its_content_length_is_an_invalid_request_not_too_large() {
    use std::io::{Read, Write};
    let s = Server::start_demo();
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        sock,
        "POST /qps/rest/2.0/create/am/tag HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic YWRtaW46ZTJlLXNlY3JldA==\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<Serv"
    )
    .unwrap();
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = sock.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("<responseCode>INVALID_REQUEST</responseCode>"),
        "{answer}"
    );
    assert!(
        answer.contains("ended before its announced length"),
        "{answer}"
    );
}

/// A body that stops short of its Content-Length while the connection stays open is answered
/// once `--body-timeout` has passed, not waited for forever; it writes nothing.
#[test]
fn a_stalled_body_is_answered_after_the_body_timeout() {
    use std::io::{Read, Write};
    let s = Server::start(&["--demo", "--body-timeout", "1"]);
    let before = s.fingerprint();
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let started = std::time::Instant::now();
    write!(
        sock,
        "POST /qps/rest/2.0/create/am/tag HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic YWRtaW46ZTJlLXNlY3JldA==\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<ServiceRequest><data>"
    )
    .unwrap();
    // The socket stays open for writing: only the server's deadline can end the wait.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("</ServiceResponse>") {
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "waited {:?}",
        started.elapsed()
    );
    assert!(
        answer.contains("<responseCode>INVALID_REQUEST</responseCode>"),
        "{answer}"
    );
    assert!(answer.contains("did not arrive within 1 s"), "{answer}");
    drop(sock);
    assert_eq!(s.fingerprint(), before);
}

/// A Content-Length over `--body-limit` is answered 413 at once, before the body is waited for.
#[test]
fn an_announced_body_over_the_limit_is_refused_at_once() {
    use std::io::{Read, Write};
    let s = Server::start(&["--demo", "--body-limit", "100000", "--body-timeout", "20"]);
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let started = std::time::Instant::now();
    write!(
        sock,
        "POST /qps/rest/2.0/count/am/tag HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic YWRtaW46ZTJlLXNlY3JldA==\r\nContent-Type: text/xml\r\nContent-Length: 5000000\r\n\r\n<Serv"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("</ServiceResponse>") {
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "waited {:?} for the body timeout",
        started.elapsed()
    );
}
