//! Golden cases: each `cases/<area>/<name>.req` is an HTTP request (with `# source:` provenance
//! and optional `# writes: yes` / `# status: N` lines) sent to a fresh demo server; the answer
//! must equal `<name>.resp.xml` or `<name>.resp.json` (`{base}` stands for the server's URL),
//! every XML answer must validate against our XSD, and a case that does not say `writes: yes`
//! must leave the database exactly as it was.
//!
//! `OPENQPS_BLESS=1 cargo test --test golden` rewrites the expected files from the answers; review
//! the diff before committing it.

mod support;

use std::path::{Path, PathBuf};
use support::Server;

struct Case {
    path: PathBuf,
    source: String,
    writes: bool,
    status: u16,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn parse_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).expect("read case");
    let mut lines = text.lines().peekable();
    let (mut source, mut writes, mut status) = (String::new(), false, 200);
    while let Some(line) = lines.peek() {
        let Some(meta) = line.strip_prefix('#') else {
            break;
        };
        if let Some((k, v)) = meta.split_once(':') {
            match k.trim() {
                "source" => source = v.trim().to_string(),
                "writes" => writes = v.trim() == "yes",
                "status" => status = v.trim().parse().expect("status"),
                other => panic!("{}: unknown meta '{other}'", path.display()),
            }
        }
        lines.next();
    }
    let request_line = lines.next().expect("request line");
    let (method, target) = request_line.split_once(' ').expect("METHOD PATH");
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').expect("header");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let body = lines.collect::<Vec<_>>().join("\n");
    assert!(
        !source.is_empty(),
        "{}: every case needs a '# source:' line",
        path.display()
    );
    Case {
        path: path.to_path_buf(),
        source,
        writes,
        status,
        method: method.to_string(),
        target: target.trim().to_string(),
        headers,
        body,
    }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("read cases dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "req") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn run(case: &Case) -> Result<(), String> {
    let server = Server::start_demo();
    let before = server.fingerprint();
    let headers: Vec<(&str, &str)> = case
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let started = jiff::Timestamp::now();
    let reply = server.call(&case.method, &case.target, &headers, &case.body);
    let ended = jiff::Timestamp::now();
    let after = server.fingerprint();
    let json = reply.content_type.contains("json");
    let expected_path = case
        .path
        .with_extension(if json { "resp.json" } else { "resp.xml" });
    let actual = mask_now(&reply.body.replace(&server.base, "{base}"), started, ended);
    let actual = mask_minted_uuids(&actual, &before, &after);
    if std::env::var_os("OPENQPS_BLESS").is_some() {
        std::fs::write(&expected_path, &actual).expect("bless");
    }
    let expected = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;
    if reply.status != case.status {
        return Err(format!(
            "status {} (expected {})\n{}",
            reply.status, case.status, reply.body
        ));
    }
    if actual.trim_end() != expected.trim_end() {
        return Err(format!(
            "answer differs from {}\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        ));
    }
    if json {
        serde_json_check(&reply.body)?;
    } else {
        reply.assert_valid_xml();
    }
    match (case.writes, before == after) {
        (false, false) => Err("the call changed the database".into()),
        (true, true) => Err("the call was expected to write but changed nothing".into()),
        _ => Ok(()),
    }
}

/// Writes `{uuid}` for each UUID the call itself minted: one the database did not hold before the
/// call and holds after it (the activationKey of a created key), so the expected files stay fixed.
fn mask_minted_uuids(body: &str, before: &str, after: &str) -> String {
    const LEN: usize = 36;
    let is_uuid = |s: &str| {
        s.len() == LEN
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match body.get(i..i + LEN) {
            Some(c) if is_uuid(c) && !before.contains(c) && after.contains(c) => {
                out.push_str("{uuid}");
                i += LEN;
            }
            _ => {
                let ch = body[i..].chars().next().expect("in bounds");
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// Writes `{now}` for each timestamp the call itself stamped (between `started` and `ended`),
/// such as the dates of a created web app, so the expected files stay fixed.
fn mask_now(body: &str, started: jiff::Timestamp, ended: jiff::Timestamp) -> String {
    const LEN: usize = "2023-01-01T00:00:00Z".len();
    let fmt = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let lo = fmt(started - jiff::SignedDuration::from_secs(1));
    let hi = fmt(ended + jiff::SignedDuration::from_secs(1));
    let is_stamp = |s: &str| {
        s.len() == LEN
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'Z',
                _ => b.is_ascii_digit(),
            })
    };
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let cand = body.get(i..i + LEN).filter(|c| is_stamp(c));
        match cand {
            Some(c) if c >= lo.as_str() && c <= hi.as_str() => {
                out.push_str("{now}");
                i += LEN;
            }
            _ => {
                let ch = body[i..].chars().next().expect("in bounds");
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

fn serde_json_check(body: &str) -> Result<(), String> {
    // The JSON shape itself is pinned by the expected file; here only that it parses.
    if body.starts_with("{\"ServiceResponse\":") && body.ends_with('}') {
        Ok(())
    } else {
        Err(format!("not a ServiceResponse JSON document: {body}"))
    }
}

#[test]
fn golden_cases() {
    let paths = cases();
    assert!(paths.len() >= 10, "golden cases missing");
    // Each case has its own server; a few run at once (most of a case is waiting on IO).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(p) = paths.get(i) else { break };
                    let case = parse_case(p);
                    eprintln!("case {} ({})", p.display(), case.source);
                    if let Err(e) = run(&case) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {e}", p.display()));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
}
