//! `openqps subscription` and `openqps user` against the database a running server uses: a new
//! tenant's users log in at once over HTTP, see only their own subscription's objects, and a
//! refused command changes nothing.

mod support;

use std::process::{Command, Output};
use support::{Reply, Server};

const COUNT: &str = "/qps/rest/2.0/count/am/hostasset";
const SEARCH: &str = "/qps/rest/2.0/search/am/hostasset";

/// Runs `openqps ARGS` on the server's database; `password` goes in OPENQPS_USER_PASSWORD.
fn openqps(s: &Server, args: &[&str], password: Option<&str>) -> Output {
    let db: Vec<&str> = s
        .postgres
        .iter()
        .flat_map(|db| ["--database", db.url.as_str()])
        .collect();
    openqps_on(&s.data_dir, &[args, &db].concat(), password)
}

/// Runs `openqps ARGS --data-dir DIR`.
fn openqps_on(dir: &std::path::Path, args: &[&str], password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openqps"));
    cmd.args(args).arg("--data-dir").arg(dir);
    cmd.env_remove("OPENQPS_DATABASE")
        .env_remove("OPENQPS_DATA_DIR")
        .env_remove("OPENQPS_USER_PASSWORD");
    if let Some(p) = password {
        cmd.env("OPENQPS_USER_PASSWORD", p);
    }
    cmd.output().expect("run openqps")
}

fn ok(out: Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn as_user(s: &Server, user: &str, password: &str, path: &str, body: &str) -> Reply {
    s.call_as(
        Some((user, password)),
        "POST",
        path,
        &[("Content-Type", "text/xml")],
        body,
    )
}

fn count(s: &Server, user: &str, password: &str) -> String {
    let r = as_user(s, user, password, COUNT, "");
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    r.tag("count").expect("count")
}

#[test]
fn a_new_subscription_is_a_tenant_of_its_own() {
    let s = Server::start_demo();
    let demo_hosts = count(&s, "admin", support::PASSWORD);
    assert_ne!(demo_hosts, "0");

    let out = ok(openqps(
        &s,
        &["subscription", "create", "Acme SOC", "--user", "acme_soc"],
        Some("acme-pw-1"),
    ));
    let sub: i64 = out
        .strip_prefix("Created subscription ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no subscription id in {out:?}"));
    assert!(!out.contains("acme-pw-1"), "a given password is not echoed");

    // The running server takes the new login at once; the tenant starts empty.
    assert_eq!(count(&s, "acme_soc", "acme-pw-1"), "0");
    let r = as_user(
        &s,
        "acme_soc",
        "acme-pw-1",
        "/qps/rest/2.0/create/am/hostasset",
        "<ServiceRequest><data><HostAsset><name>acme-web-01</name><address>10.9.9.9</address></HostAsset></data></ServiceRequest>",
    );
    assert_eq!(r.code(), "SUCCESS", "{}", r.body);
    r.assert_valid_xml();
    let acme_host = r.ids("HostAsset")[0];
    assert_eq!(count(&s, "acme_soc", "acme-pw-1"), "1");
    // Neither tenant sees the other's hosts.
    assert_eq!(count(&s, "admin", support::PASSWORD), demo_hosts);
    let r = s.get_host(acme_host);
    assert_ne!(r.code(), "SUCCESS", "{}", r.body);
    let r = as_user(&s, "acme_soc", "acme-pw-1", SEARCH, "<ServiceRequest/>");
    assert_eq!(r.ids("HostAsset"), vec![acme_host]);

    // A second user of the same tenant, with a generated password.
    let out = ok(openqps(
        &s,
        &["user", "add", "acme_ro", "--subscription", &sub.to_string()],
        None,
    ));
    let password = out
        .split("password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no generated password in {out:?}"))
        .to_string();
    assert_eq!(count(&s, "acme_ro", &password), "1");

    let out = ok(openqps(&s, &["subscription", "list"], None));
    let acme_line = out
        .lines()
        .find(|l| l.starts_with(&format!("{sub} ")))
        .unwrap_or_else(|| panic!("subscription {sub} not listed: {out}"));
    assert!(acme_line.contains("Acme SOC") && acme_line.ends_with("acme_soc,acme_ro"));
    assert!(out.lines().any(|l| l.ends_with(" admin")), "{out}");

    // A bearer token lasts hours, but only while its password does.
    let r = s.call_as(
        None,
        "POST",
        "/auth",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "username=acme_soc&password=acme-pw-1&token=true",
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let bearer = format!("Bearer {}", r.body.trim());
    let by_token = |s: &Server| {
        s.call_as(None, "POST", COUNT, &[("Authorization", &bearer)], "")
            .code()
    };
    assert_eq!(by_token(&s), "SUCCESS");

    // A new password: the old one stops working (a restarted server has no remembered logins),
    // and so does the token, at once.
    ok(openqps(
        &s,
        &["user", "password", "acme_soc"],
        Some("acme-pw-2"),
    ));
    assert_eq!(by_token(&s), "INVALID_CREDENTIALS");
    // POST /auth checks the stored password, not the remembered login: the old one gets no token.
    let r = s.call_as(
        None,
        "POST",
        "/auth",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "username=acme_soc&password=acme-pw-1&token=true",
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let s = Server::start_in(s.crash(), &[]);
    assert_eq!(count(&s, "acme_soc", "acme-pw-2"), "1");
    let r = as_user(&s, "acme_soc", "acme-pw-1", COUNT, "");
    assert_eq!(r.code(), "INVALID_CREDENTIALS", "{}", r.body);

    // Disabled: no login, until a new password enables the user again (a fresh server: this
    // one remembers the last successful login for a minute).
    ok(openqps(&s, &["user", "disable", "acme_soc"], None));
    let out = ok(openqps(&s, &["subscription", "list"], None));
    assert!(out.contains("acme_soc(disabled),acme_ro"), "{out}");
    let s = Server::start_in(s.crash(), &[]);
    let r = as_user(&s, "acme_soc", "acme-pw-2", COUNT, "");
    assert_eq!(r.code(), "INVALID_CREDENTIALS", "{}", r.body);
    ok(openqps(
        &s,
        &["user", "password", "acme_soc"],
        Some("acme-pw-3"),
    ));
    assert_eq!(count(&s, "acme_soc", "acme-pw-3"), "1");
}

#[test]
fn account_commands_leave_other_databases_alone() {
    let dir = std::env::temp_dir().join(format!("openqps-foreign-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("openqps.db");
    std::fs::write(&empty, b"").unwrap();
    let err = refused(openqps_on(&dir, &["subscription", "list"], None));
    assert!(err.contains("is not an openqps database"), "{err}");
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "the file was written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn account_commands_need_a_database_serve_made() {
    let dir = std::env::temp_dir().join(format!("openqps-no-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for args in [
        &["subscription", "list"][..],
        &["subscription", "create", "Acme", "--user", "acme"],
        &["user", "add", "bob", "--subscription", "1"],
        &["user", "password", "admin"],
    ] {
        let err = refused(openqps_on(&dir, args, Some("pw")));
        assert!(err.contains("no database at"), "{args:?}: {err}");
        assert!(!dir.exists(), "{args:?} made {}", dir.display());
    }
}

#[test]
fn refused_account_commands_change_nothing() {
    let s = Server::start_demo();
    ok(openqps(
        &s,
        &["subscription", "create", "Acme", "--user", "acme"],
        Some("pw"),
    ));
    let before = s.fingerprint();
    for (args, says) in [
        (
            &["subscription", "create", "Other", "--user", "admin"][..],
            "exists already",
        ),
        (
            &["user", "add", "acme", "--subscription", "1"],
            "exists already",
        ),
        (
            &["user", "add", "bob", "--subscription", "999"],
            "no subscription has id 999",
        ),
        (
            &["user", "add", "bo:b", "--subscription", "1"],
            "cannot hold ':'",
        ),
        (
            &["user", "add", "", "--subscription", "1"],
            "1 to 100 characters",
        ),
        (
            &["subscription", "create", "  ", "--user", "carol"],
            "a subscription name has 1 to 100 characters",
        ),
        (
            &["user", "add", "ACME", "--subscription", "1"],
            "a user named 'acme' exists already; logins differing only in case",
        ),
        (
            &["subscription", "create", "ACME", "--user", "carol"],
            "is named 'Acme' already",
        ),
        (
            &["user", "add", ".dot", "--subscription", "1"],
            "starts with an ASCII letter",
        ),
        (
            &["user", "add", "jürgen", "--subscription", "1"],
            "cannot hold 'ü'",
        ),
        (
            &["user", "add", "zero\u{200b}width", "--subscription", "1"],
            "cannot hold",
        ),
        (&["user", "password", "nobody"], "no user is named 'nobody'"),
        (&["user", "disable", "nobody"], "no user is named 'nobody'"),
    ] {
        let err = refused(openqps(&s, args, Some("pw")));
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = refused(openqps(&s, &["user", "password", "acme"], Some("pw\n")));
    assert!(err.contains("control character"), "{err}");
    assert_eq!(s.fingerprint(), before);
    // The refused password change left the old login working.
    assert_eq!(count(&s, "acme", "pw"), "0");
}

#[test]
fn account_commands_and_a_writing_server_wait_for_each_other() {
    let s = Server::start_demo();
    let sub = ok(openqps(
        &s,
        &["subscription", "create", "Busy", "--user", "busy0"],
        Some("pw"),
    ));
    let sub = sub
        .strip_prefix("Created subscription ")
        .and_then(|r| r.split_whitespace().next())
        .expect("subscription id")
        .to_string();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        // The server writes all along, as the commands write beside it.
        let writer = scope.spawn(|| {
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || n < 20 {
                n += 1;
                let r = s.post_xml(
                    "/qps/rest/2.0/create/am/hostasset",
                    &format!("<ServiceRequest><data><HostAsset><name>busy-{n}</name></HostAsset></data></ServiceRequest>"),
                );
                assert_eq!(r.code(), "SUCCESS", "{}", r.body);
            }
            n
        });
        let adds: Vec<_> = (1..=6)
            .map(|i| {
                let (s, sub) = (&s, &sub);
                scope.spawn(move || {
                    ok(openqps(
                        s,
                        &["user", "add", &format!("busy{i}"), "--subscription", sub],
                        Some("pw"),
                    ))
                })
            })
            .collect();
        for add in adds {
            add.join().expect("user add");
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(writer.join().expect("writer") >= 20);
    });
    for i in 0..=6 {
        assert_eq!(count(&s, &format!("busy{i}"), "pw"), "0");
    }
}
