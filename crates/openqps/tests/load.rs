//! A bounded load test on loopback: many concurrent clients mix reads and writes for a fixed,
//! short time against one server with a concurrency limit. No answer may be anything but
//! SUCCESS or the configured 409 (code 1960), and every acknowledged write must be there
//! afterwards, also after the server is killed and restarted.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{PASSWORD, Server};

const CLIENTS: usize = 12;
const DURATION: Duration = Duration::from_secs(8);
/// A hard cap per client, so a very fast machine still does bounded work.
const MAX_CALLS_PER_CLIENT: usize = 3000;
const HOSTS_PER_CLIENT: i64 = 8;

#[derive(Default)]
struct Tally {
    ok: usize,
    refused: usize,
    /// The last acknowledged name of each host this client owns.
    names: HashMap<i64, String>,
    scans: usize,
}

fn client(s: &Server, me: usize) -> Tally {
    let http = support::http_client();
    let first_host = 19059300 + me as i64 * HOSTS_PER_CLIENT;
    let mut t = Tally::default();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < DURATION && n < MAX_CALLS_PER_CLIENT {
        n += 1;
        let host = first_host + (n as i64 % HOSTS_PER_CLIENT);
        let name = format!("load-{me}-{n}");
        let (path, body, what) = match n % 5 {
            0 => (
                "/qps/rest/2.0/search/am/hostasset".to_string(),
                "<ServiceRequest><preferences><limitResults>50</limitResults></preferences><filters><Criteria field=\"tagName\" operator=\"EQUALS\">Cloud Agent</Criteria></filters></ServiceRequest>".to_string(),
                "search",
            ),
            1 => (
                "/qps/rest/2.0/count/am/hostasset".to_string(),
                String::new(),
                "count",
            ),
            2 => (
                format!("/qps/rest/2.0/get/am/hostasset/{host}"),
                String::new(),
                "get",
            ),
            3 => (
                format!("/qps/rest/2.0/update/am/hostasset/{host}"),
                format!("<ServiceRequest><data><HostAsset><name>{name}</name></HostAsset></data></ServiceRequest>"),
                "update",
            ),
            _ => (
                "/qps/rest/1.0/ods/ca/agentasset/19059333?scan=Inventory_Scan".to_string(),
                "<ServiceRequest/>".to_string(),
                "ods",
            ),
        };
        let resp = http
            .post(format!("{}{}", s.base, path))
            .basic_auth("admin", Some(PASSWORD))
            .header("Content-Type", "text/xml")
            .body(body)
            .send()
            .unwrap_or_else(|e| panic!("client {me} call {n} ({what}): {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().expect("body");
        match status {
            200 => {
                assert!(
                    text.contains("<responseCode>SUCCESS</responseCode>"),
                    "{what}: {text}"
                );
                t.ok += 1;
                match what {
                    "update" => {
                        t.names.insert(host, name);
                    }
                    "ods" => t.scans += 1,
                    "count" => assert!(text.contains("<count>250</count>"), "{text}"),
                    _ => {}
                }
            }
            409 => {
                assert!(text.contains("<CODE>1960</CODE>"), "{what}: {text}");
                t.refused += 1;
            }
            other => panic!("{what}: unexpected status {other}: {text}"),
        }
    }
    t
}

fn name_of(s: &Server, id: i64) -> String {
    let r = s.get_host(id);
    assert_eq!(r.code(), "SUCCESS");
    r.tag("name").expect("a name")
}

fn scan_jobs(s: &Server) -> usize {
    support::row_count(&s.data_dir.join("openqps.db"), "scan_job") as usize
}

#[test]
fn concurrent_clients_mixing_reads_and_writes_lose_no_acknowledged_write() {
    let s = Server::start(&["--demo", "--concurrency-limit", "6"]);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|me| {
                let s = &s;
                scope.spawn(move || client(s, me))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: usize = tallies.iter().map(|t| t.ok).sum();
    let refused: usize = tallies.iter().map(|t| t.refused).sum();
    let scans: usize = tallies.iter().map(|t| t.scans).sum();
    eprintln!("load: {ok} acknowledged, {refused} refused by the concurrency limit, {scans} scans");
    assert!(ok > CLIENTS * 10, "too little got through: {ok}");

    let check = |s: &Server| {
        for t in &tallies {
            for (id, name) in &t.names {
                assert_eq!(&name_of(s, *id), name, "host {id}");
            }
        }
        // Every scan goes to the same agent and scan type: acknowledged requests join the one
        // pending job instead of queueing another.
        assert_eq!(
            scan_jobs(s),
            scans.min(1),
            "one pending job per agent and scan type"
        );
    };
    check(&s);
    // Acknowledged means durable: kill the server outright and look again.
    let data_dir = s.crash();
    let s = Server::start_in(data_dir, &[]);
    check(&s);
}
