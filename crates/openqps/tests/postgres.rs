//! Two `openqps serve` processes on one PostgreSQL database (the scale-out set-up): what one
//! writes the other reads, and creates through both at once get distinct ids and all land.
//!
//! Runs on the server `OPENQPS_TEST_POSTGRES_URL` names, in a fresh database. Without it the
//! test skips with a notice, unless `CI` is set: there it fails.

mod support;

use support::{PgDatabase, Server, postgres_server};

fn tag_body(name: &str) -> String {
    format!("<ServiceRequest><data><Tag><name>{name}</name></Tag></data></ServiceRequest>")
}

#[test]
fn two_servers_share_one_postgres_database() {
    let Some(server) = postgres_server() else {
        return;
    };
    // Declared first, dropped last: after both servers stopped.
    let db = PgDatabase::create(&server);
    let url = db.url.clone();
    // Both start at once on the empty database: one migrates it, creates the subscription and
    // loads the demo data; the other waits for the migration lock and finds them.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| Server::start(&["--database", &url, "--demo"]));
        let b = scope.spawn(|| Server::start(&["--database", &url, "--demo"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    let count = |s: &Server| {
        let r = s.post_xml("/qps/rest/2.0/count/am/hostasset", "<ServiceRequest/>");
        assert_eq!(r.code(), "SUCCESS", "{}", r.body);
        r.tag("count").unwrap()
    };
    assert_eq!(count(&a), "250");
    assert_eq!(count(&b), "250");

    // A write through one is read through the other.
    let r = a.post_xml("/qps/rest/2.0/create/am/tag", &tag_body("Written by A"));
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    let id = r.ids("Tag")[0];
    let r = b.call("GET", &format!("/qps/rest/2.0/get/am/tag/{id}"), &[], "");
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    assert_eq!(r.tag("name").as_deref(), Some("Written by A"));
    let r = b.post_xml(
        "/qps/rest/2.0/update/am/hostasset/19059310",
        &format!(
            "<ServiceRequest><data><HostAsset><tags><add><TagSimple><id>{id}</id></TagSimple>\
             </add></tags></HostAsset></data></ServiceRequest>"
        ),
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    let r = a.post_xml(
        "/qps/rest/2.0/search/am/hostasset",
        &format!(
            "<ServiceRequest><filters><Criteria field=\"tagId\" operator=\"EQUALS\">{id}\
             </Criteria></filters></ServiceRequest>"
        ),
    );
    assert_eq!(r.ids("HostAsset"), vec![19059310], "{}", r.body);

    // Creates through both at once: distinct ids, every one lands.
    let ids: Vec<i64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let s = if i % 2 == 0 { &a } else { &b };
                scope.spawn(move || {
                    let r = s.post_xml(
                        "/qps/rest/2.0/create/am/tag",
                        &tag_body(&format!("Concurrent {i}")),
                    );
                    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
                    r.ids("Tag")[0]
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 24, "ids {ids:?}");
    for s in [&a, &b] {
        let r = s.post_xml(
            "/qps/rest/2.0/count/am/tag",
            "<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">Concurrent \
             </Criteria></filters></ServiceRequest>",
        );
        assert_eq!(r.tag("count").as_deref(), Some("24"), "{}", r.body);
    }
    // The servers stop before their database is dropped.
    drop((a, b));
    drop(db);
}
