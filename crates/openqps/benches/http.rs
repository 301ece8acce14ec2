//! `cargo bench -p openqps --bench http` (or `scripts/bench.sh`, which installs wrk first): the
//! real `openqps` binary on loopback under `wrk -t1 -c32 -d10s --latency`, the load and the data
//! of the reference runs docs/performance.md compares against: 10,000 hosts (2,001 tracked by
//! QAGENT, 3 of 200 tags and 5 software items each; `OPENQPS_BENCH_HOSTS` changes the count),
//! a point `get/am/hostasset/{id}` and a `search/am/hostasset` for a page of 100 QAGENT hosts.
//!
//! Every answer is checked before and after the load: an error is an HTTP 200 `ServiceResponse`
//! too, so wrk's own counts cannot tell a fast error from a real answer. Under
//! `cargo test --all-targets` this runs once on 200 hosts as a smoke test, without wrk.

#[path = "../tests/support/mod.rs"]
mod support;

use base64::Engine;
use std::process::Command;
use support::{PASSWORD, Reply, Server};

const TAGS: usize = 200;
const TAGS_PER_HOST: usize = 3;
const SOFTWARE_PER_HOST: usize = 5;
const OS: [&str; 6] = [
    "Ubuntu 22.04.4 LTS",
    "Windows Server 2019 Datacenter",
    "Red Hat Enterprise Linux 9.3",
    "Debian GNU/Linux 12",
    "Windows 10 Enterprise",
    "Amazon Linux 2023",
];
const PREFIXES: [&str; 10] = [
    "web", "db", "app", "mail", "file", "dc", "build", "cache", "proxy", "vpn",
];
/// The tracking methods of the non-agent hosts.
const OTHER_TRACKING: [&str; 4] = ["IP", "DNSNAME", "NETBIOS", "EC2_INSTANCE_ID"];
const SOFTWARE: [&str; 12] = [
    "OpenSSH",
    "nginx",
    "PostgreSQL",
    "OpenSSL",
    "curl",
    "bash",
    "systemd",
    "Python",
    "IIS",
    ".NET Runtime",
    "Chrome",
    "7-Zip",
];

const SEARCH_QAGENT: &str = r#"<ServiceRequest><filters><Criteria field="trackingMethod" operator="EQUALS">QAGENT</Criteria></filters><preferences><limitResults>100</limitResults></preferences></ServiceRequest>"#;

/// A small deterministic generator (64-bit LCG, Knuth's constants): the same data every run,
/// without a dependency for it.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// What the seeded data must answer.
struct Seeded {
    /// Server-given ids, in creation order.
    host_ids: Vec<i64>,
    host_names: Vec<String>,
    qagent: usize,
}

fn expect_success(r: &Reply, what: &str) {
    assert!(
        r.status == 200 && r.code() == "SUCCESS",
        "{what}: HTTP {} {}",
        r.status,
        r.body
    );
}

fn seed(s: &Server, hosts: usize) -> Seeded {
    let tag_ids: Vec<i64> = (1..=TAGS)
        .map(|i| {
            let r = s.post_xml(
                "/qps/rest/2.0/create/am/tag",
                &format!(
                    "<ServiceRequest><data><Tag><name>Tag-{i}</name></Tag></data></ServiceRequest>"
                ),
            );
            expect_success(&r, "create tag");
            r.ids("Tag")[0]
        })
        .collect();
    let mut rng = Lcg(42);
    // Exactly every fifth host plus one is an agent host: 2,001 of 10,000, as in the reference.
    let is_agent = |i: usize| i.is_multiple_of(5) || i == 1;
    let mut seeded = Seeded {
        host_ids: Vec::with_capacity(hosts),
        host_names: Vec::with_capacity(hosts),
        qagent: 0,
    };
    for i in 1..=hosts {
        let name = format!("{}-{i:05}.example.com", PREFIXES[rng.below(PREFIXES.len())]);
        let tracking = if is_agent(i) {
            seeded.qagent += 1;
            "QAGENT"
        } else {
            OTHER_TRACKING[rng.below(OTHER_TRACKING.len())]
        };
        let mut tags: Vec<i64> = Vec::new();
        while tags.len() < TAGS_PER_HOST {
            let t = tag_ids[rng.below(TAGS)];
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let tags: String = tags
            .iter()
            .map(|t| format!("<TagSimple><id>{t}</id></TagSimple>"))
            .collect();
        let software: String = (0..SOFTWARE_PER_HOST)
            .map(|k| {
                format!(
                    "<HostAssetSoftware><name>{}</name><version>{}.{}</version></HostAssetSoftware>",
                    SOFTWARE[(i + k * 5) % SOFTWARE.len()],
                    1 + rng.below(9),
                    rng.below(30)
                )
            })
            .collect();
        let body = format!(
            "<ServiceRequest><data><HostAsset><name>{name}</name><address>10.{}.{}.{}</address>\
             <trackingMethod>{tracking}</trackingMethod><os>{}</os><tags><set>{tags}</set></tags>\
             <software><set>{software}</set></software></HostAsset></data></ServiceRequest>",
            i >> 16 & 255,
            i >> 8 & 255,
            i & 255,
            OS[rng.below(OS.len())],
        );
        let r = s.post_xml("/qps/rest/2.0/create/am/hostasset", &body);
        expect_success(&r, "create hostasset");
        seeded.host_ids.push(r.ids("HostAsset")[0]);
        seeded.host_names.push(name);
    }
    seeded
}

/// Both measured calls answer as they must: the right host, a full page of agent hosts.
fn check_answers(s: &Server, seeded: &Seeded, probe: usize) {
    let r = s.get_host(seeded.host_ids[probe]);
    expect_success(&r, "get hostasset");
    r.assert_valid_xml();
    assert_eq!(r.tag("count").as_deref(), Some("1"));
    assert_eq!(
        r.tag("name").as_deref(),
        Some(seeded.host_names[probe].as_str())
    );
    assert_eq!(r.body.matches("<TagSimple>").count(), TAGS_PER_HOST);
    assert_eq!(
        r.body.matches("<HostAssetSoftware>").count(),
        SOFTWARE_PER_HOST
    );

    let r = s.post_xml("/qps/rest/2.0/search/am/hostasset", SEARCH_QAGENT);
    expect_success(&r, "search hostasset");
    r.assert_valid_xml();
    let page = seeded.qagent.min(100);
    assert_eq!(r.ids("HostAsset").len(), page, "{}", r.body);
    assert_eq!(
        r.body
            .matches("<trackingMethod>QAGENT</trackingMethod>")
            .count(),
        page
    );
    let more = if seeded.qagent > 100 { "true" } else { "false" };
    assert_eq!(r.tag("hasMoreRecords").as_deref(), Some(more));
}

/// One wrk run's figures.
struct Run {
    requests_per_sec: String,
    p50: String,
    p99: String,
}

fn wrk(url: &str, script: Option<&std::path::Path>, seconds: u32) -> Run {
    let auth = format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
    );
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t1",
        "-c32",
        &format!("-d{seconds}s"),
        "--latency",
        "-H",
        &auth,
    ]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd.arg(url).output().unwrap_or_else(|e| {
        panic!("cannot run wrk ({e}): install it (apt-get install wrk) or use scripts/bench.sh")
    });
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {text}");
    assert!(
        !text.contains("Non-2xx") && !text.contains("Socket errors"),
        "wrk saw errors: {text}"
    );
    let field = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {label} in wrk output: {text}"))
    };
    Run {
        requests_per_sec: field("Requests/sec:"),
        p50: field("50%"),
        p99: field("99%"),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let hosts = match std::env::var("OPENQPS_BENCH_HOSTS") {
        Ok(n) if full => n.parse().expect("OPENQPS_BENCH_HOSTS is a number"),
        _ if full => 10_000,
        _ => 200,
    };
    let server = Server::start(&[]);
    let started = std::time::Instant::now();
    let seeded = seed(&server, hosts);
    let probe = hosts / 2;
    check_answers(&server, &seeded, probe);
    if !full {
        println!("http bench smoke: {hosts} hosts seeded, answers checked");
        return;
    }
    println!(
        "seeded {hosts} hosts ({} QAGENT) through the API in {:.1} s",
        seeded.qagent,
        started.elapsed().as_secs_f64()
    );

    let get_url = format!(
        "{}/qps/rest/2.0/get/am/hostasset/{}",
        server.base, seeded.host_ids[probe]
    );
    let search_url = format!("{}/qps/rest/2.0/search/am/hostasset", server.base);
    let script = server.data_dir.join("search.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"text/xml\"\nwrk.body = '{SEARCH_QAGENT}'\n"
        ),
    )
    .expect("write wrk script");
    let get_bytes = server.get_host(seeded.host_ids[probe]).body.len();
    let search_bytes = server
        .post_xml("/qps/rest/2.0/search/am/hostasset", SEARCH_QAGENT)
        .body
        .len();

    println!(
        "\n| call | response body | run | requests/s | p50 | p99 |\n|---|---|---|---|---|---|"
    );
    for (label, url, script, bytes) in [
        ("GET get/am/hostasset/{id}", &get_url, None, get_bytes),
        (
            "POST search/am/hostasset, QAGENT, limitResults 100",
            &search_url,
            Some(script.as_path()),
            search_bytes,
        ),
    ] {
        wrk(url, script, 3); // warm-up, not recorded
        for run in 1..=2 {
            let r = wrk(url, script, 10);
            println!(
                "| {label} | {bytes} B XML | {run} | {} | {} | {} |",
                r.requests_per_sec, r.p50, r.p99
            );
        }
    }
    // The load changed nothing and broke nothing.
    check_answers(&server, &seeded, probe);
}
