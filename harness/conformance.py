#!/usr/bin/env python3
"""Conformance harness: real, unmodified Qualys clients against the real openqps binary.

qualysapi (PyPI) talks HTTPS, trusting the CA that `openqps cert` makes through
REQUESTS_CA_BUNDLE, exactly as a user would set it up; qualys-cli (PyPI) talks plain HTTP. Every
scenario starts its own `openqps serve --demo` on free ports and asserts on parsed results (ids,
counts, values), not only on SUCCESS. The demo data facts used here are listed in
crates/openqps/src/demo.rs.

Usage: harness/conformance.py [OPENQPS_BINARY]   (default target/debug/openqps)
Prints one line per scenario and a closing `harness: N passed, N failed`; exits 1 on a failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "openqps")
VENV_BIN = os.path.dirname(sys.executable)
PASSWORD = "harness-secret"
WORK = tempfile.mkdtemp(prefix="openqps-harness-")
CERTS = os.path.join(WORK, "tls")

# Demo data facts (crates/openqps/src/demo.rs).
HOST_IDS = list(range(19059300, 19059550))
AGENT_IDS = list(range(19059303, 19059550, 6))
SWCA_AGENTS = [19059333, 19059411, 19059501]
CLOUD_AGENT_TAG = 87832800
UNUSED_TAG = 87832867
NEW_WEBAPPS = [28297451, 28297452, 28297453, 28297455]


class Server:
    """`openqps serve --demo` on free HTTP and HTTPS ports, in its own data folder."""

    def __init__(self, extra=()):
        self.data = tempfile.mkdtemp(prefix="data-", dir=WORK)
        env = dict(os.environ, OPENQPS_ADMIN_PASSWORD=PASSWORD)
        for k in ("OPENQPS_LISTEN", "OPENQPS_TLS_LISTEN", "OPENQPS_DEMO"):
            env.pop(k, None)
        self.proc = subprocess.Popen(
            [BIN, "serve", "--demo", "--data-dir", self.data,
             "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
             "--tls-cert", os.path.join(CERTS, "cert.pem"),
             "--tls-key", os.path.join(CERTS, "key.pem"), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.http = self.https = None
        for line in self.proc.stdout:
            m = re.match(r"openqps listening on (https?)://(\S+)", line)
            if m:
                setattr(self, m.group(1), m.group(2))
            if self.http and self.https:
                break
        if not (self.http and self.https):
            raise RuntimeError("openqps did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


# ---------------------------------------------------------------- parsing helpers

def parse(xml_text):
    root = ET.fromstring(xml_text.encode("utf-8"))
    assert root.tag == "ServiceResponse", root.tag
    return root


def code(root):
    return root.findtext("responseCode")


def ids(root, obj):
    return [int(e.findtext("id")) for e in root.findall(f"data/{obj}")]


def asset_ids_text(root):
    text = root.findtext("data/SingleModuleResponse/assetIds") or ""
    return [int(x) for x in re.findall(r"\d+", text)]


def cli_json(out):
    """qualys-cli prints a spinner before the JSON document; keep the document."""
    return json.loads(out[out.index("{"):])


def as_list(x):
    return x if isinstance(x, list) else [x]


# ---------------------------------------------------------------- clients

def qualysapi_connect(server):
    import qualysapi
    return qualysapi.connect(username="admin", password=PASSWORD, hostname=server.https)


def qualys_cli(server, *args, expect_failure=False):
    env = dict(os.environ,
               QUALYS_URL=f"http://{server.http}", QUALYS_GATEWAY_URL=f"http://{server.http}",
               QUALYS_USERNAME="admin", QUALYS_PASSWORD=PASSWORD,
               QUALYS_NO_TELEMETRY_HEADERS="1", NO_COLOR="1", TERM="dumb",
               HOME=tempfile.mkdtemp(prefix="home-", dir=WORK))
    run = subprocess.run([os.path.join(VENV_BIN, "qualys-cli"), *args],
                         capture_output=True, text=True, env=env, timeout=120)
    if expect_failure:
        assert run.returncode != 0, run.stdout
        return run.stdout + run.stderr
    assert run.returncode == 0, f"qualys-cli {' '.join(args)}: {run.returncode}\n{run.stdout}\n{run.stderr}"
    return run.stdout


# ---------------------------------------------------------------- scenarios

SCENARIOS = []


def scenario(fn=None, *, server_args=()):
    def register(f):
        f.server_args = server_args
        SCENARIOS.append(f)
        return f
    return register(fn) if fn else register


@scenario
def qualysapi_pages_through_every_host_by_last_id(s):
    qg = qualysapi_connect(s)
    seen, last, pages = [], 0, 0
    while True:
        body = ("<ServiceRequest><preferences><limitResults>60</limitResults></preferences>"
                f"<filters><Criteria field=\"id\" operator=\"GREATER\">{last}</Criteria></filters>"
                "</ServiceRequest>")
        r = parse(qg.request("search/am/hostasset", body))
        assert code(r) == "SUCCESS"
        page = ids(r, "HostAsset")
        assert int(r.findtext("count")) == len(page)
        seen += page
        pages += 1
        if r.findtext("hasMoreRecords") != "true":
            assert r.find("lastId") is None
            break
        last = int(r.findtext("lastId"))
        assert last == page[-1]
    assert seen == HOST_IDS, seen[:5]
    assert pages == 5


@scenario
def qualysapi_gets_and_counts(s):
    qg = qualysapi_connect(s)
    r = parse(qg.request("get/am/hostasset/19059310"))  # POST, no body
    assert code(r) == "SUCCESS"
    assert ids(r, "HostAsset") == [19059310]
    assert r.findtext("data/HostAsset/name") == "teams-test"
    assert r.findtext("data/HostAsset/trackingMethod") == "BMC Helix"
    tag_ids = sorted(int(t.findtext("id")) for t in r.findall("data/HostAsset/tags/list/TagSimple"))
    assert tag_ids == [19213462, 87832825], tag_ids
    # qualysapi sends a count with a body as GET, the XML URL-encoded into the query string.
    body = ("<ServiceRequest><filters><Criteria field=\"tagName\" operator=\"EQUALS\">Cloud Agent"
            "</Criteria></filters></ServiceRequest>")
    r = parse(qg.request("count/am/hostasset", body))
    assert code(r) == "SUCCESS" and int(r.findtext("count")) == len(AGENT_IDS)
    r = parse(qg.request("count/am/hostasset"))
    assert int(r.findtext("count")) == len(HOST_IDS)
    # A full path doubles the prefix (qualysapi #91): an envelope, not an HTML page.
    r = parse(qg.request("/qps/rest/2.0/search/am/hostasset", "<ServiceRequest/>"))
    assert code(r) == "INVALID_API_VERSION"


@scenario
def qualysapi_adds_and_removes_a_tag_by_update(s):
    qg = qualysapi_connect(s)

    def tagged():
        body = ("<ServiceRequest><filters><Criteria field=\"tagId\" operator=\"EQUALS\">"
                f"{UNUSED_TAG}</Criteria></filters></ServiceRequest>")
        return ids(parse(qg.request("search/am/hostasset", body)), "HostAsset")

    assert tagged() == []
    for op, expect in (("add", [19059383, 19059384]), ("remove", [])):
        body = ("<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">19059383,19059384"
                f"</Criteria></filters><data><HostAsset><tags><{op}><TagSimple><id>{UNUSED_TAG}</id>"
                f"</TagSimple></{op}></tags></HostAsset></data></ServiceRequest>")
        r = parse(qg.request("update/am/hostasset", body))
        assert code(r) == "SUCCESS", ET.tostring(r)
        assert sorted(ids(r, "HostAsset")) == [19059383, 19059384]
        assert tagged() == expect
    r = parse(qg.request("get/am/hostasset/19059383"))
    assert UNUSED_TAG not in [int(t.findtext("id")) for t in r.findall("data/HostAsset/tags/list/TagSimple")]
    # An unknown tag refuses the whole update.
    body = ("<ServiceRequest><filters><Criteria field=\"id\" operator=\"EQUALS\">19059383</Criteria>"
            "</filters><data><HostAsset><tags><add><TagSimple><id>1</id></TagSimple></add></tags>"
            "</HostAsset></data></ServiceRequest>")
    assert code(parse(qg.request("update/am/hostasset", body))) == "INVALID_REQUEST"


@scenario
def qualysapi_launches_single_and_bulk_on_demand_scans(s):
    qg = qualysapi_connect(s)
    # qualysapi cannot spell /qps/rest/1.0 paths; its own session (auth, retries, TLS) can.
    base = f"https://{s.https}/qps/rest/1.0/ods/ca/agentasset"
    headers = {"Content-Type": "text/xml"}
    r = qg.session.post(f"{base}/19059333?scan=SWCA_SCAN&overrideConfigCpu=false",
                        data="<ServiceRequest/>", auth=qg.auth, headers=headers)
    r.raise_for_status()
    root = parse(r.text)
    assert code(root) == "SUCCESS"
    assert root.findtext("data/SingleModuleResponse/module") == "SWCA Scan"
    assert asset_ids_text(root) == [19059333]
    body = ("<ServiceRequest><filters><Criteria field=\"tagName\" operator=\"EQUALS\">Cloud Agent"
            "</Criteria></filters></ServiceRequest>")
    r = qg.session.post(f"{base}?scan=SWCA_SCAN&overrideConfigCpu=true", data=body,
                        auth=qg.auth, headers=headers)
    root = parse(r.text)
    assert code(root) == "SUCCESS"
    assert asset_ids_text(root) == SWCA_AGENTS
    assert int(root.findtext("data/SingleModuleResponse/count")) == 3
    r = qg.session.post(f"{base}/19059300?scan=Inventory_Scan", data="", auth=qg.auth)
    assert code(parse(r.text)) == "INVALID_REQUEST"


@scenario
def qualysapi_searches_gets_and_deletes_web_apps(s):
    qg = qualysapi_connect(s)
    body = ("<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">New Webapp"
            "</Criteria></filters></ServiceRequest>")
    r = parse(qg.request("search/was/webapp", body))
    assert ids(r, "WebApp") == NEW_WEBAPPS
    r = parse(qg.request("get/was/webapp/28297430"))
    assert ids(r, "WebApp") == [28297430]
    assert r.findtext("data/WebApp/url").startswith("http")
    body = ("<ServiceRequest><filters><Criteria field=\"name\" operator=\"CONTAINS\">New Webapp"
            "</Criteria><Criteria field=\"id\" operator=\"LESSER\">28297453</Criteria></filters>"
            "</ServiceRequest>")
    r = parse(qg.request("delete/was/webapp?action=removeFromSubscription", body))
    assert code(r) == "SUCCESS"
    assert sorted(ids(r, "WebApp")) == [28297451, 28297452]
    r = parse(qg.request("count/was/webapp"))
    assert int(r.findtext("count")) == 28
    r = parse(qg.request("search/am/asset",
                         "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">"
                         "28297451,28297452,28297453</Criteria></filters></ServiceRequest>"))
    assert ids(r, "Asset") == [28297453], "removeFromSubscription removes the assets too"


@scenario
def discovery_login_and_bearer_tokens_over_https(s):
    qg = qualysapi_connect(s)
    sess = qg.session
    r = sess.get(f"https://{s.https}/msp/about.php", auth=qg.auth)
    assert r.status_code == 200
    for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Window-Sec",
              "X-RateLimit-ToWait-Sec", "X-Concurrency-Limit-Limit", "X-Concurrency-Limit-Running"):
        assert r.headers[h].isdigit(), h
    r = sess.get(f"https://{s.https}/qps/rest/portal/version", auth=qg.auth)
    assert parse(r.text).findtext("data/Portal-Version/PortalApplication-VERSION")
    r = sess.post(f"https://{s.https}/auth",
                  data={"username": "admin", "password": PASSWORD, "token": "true"})
    assert r.status_code == 201, r.text
    token = r.text.strip()
    assert token.count(".") == 2
    r = sess.post(f"https://{s.https}/qps/rest/2.0/count/am/hostasset",
                  headers={"Authorization": f"Bearer {token}"})
    assert int(parse(r.text).findtext("count")) == len(HOST_IDS)
    r = sess.post(f"https://{s.https}/auth",
                  data={"username": "admin", "password": "wrong", "token": "true"})
    assert r.status_code == 401


@scenario
def cyclonedx_validates_the_sbom_of_a_real_agent_swca_scan(s):
    """`openqps agent` scans lock files; the SBOM openqps then serves passes the strict
    JSON-schema validator of cyclonedx-python-lib (the CycloneDX project's own library, with its
    own copy of the official schemas) in both versions Qualys offers."""
    import requests
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    base = f"http://{s.http}"
    auth = ("admin", PASSWORD)

    def qps(path, body="<ServiceRequest></ServiceRequest>"):
        r = requests.post(base + path, data=body, auth=auth,
                          headers={"Content-Type": "text/xml"}, timeout=30)
        root = parse(r.text)
        assert code(root) == "SUCCESS", r.text
        return root

    key = qps("/qps/rest/1.0/create/ca/agentactkey",
              "<ServiceRequest><data><AgentActKey><title>harness</title><type>UNLIMITED</type>"
              "<modules><list><ActivationKeyModule><license>VM_LICENSE</license>"
              "</ActivationKeyModule><ActivationKeyModule><license>SWCA</license>"
              "</ActivationKeyModule></list></modules></AgentActKey></data></ServiceRequest>"
              ).findtext(".//activationKey")
    assert key, "no activation key"
    work = tempfile.mkdtemp(prefix="agent-", dir=WORK)
    roots = os.path.join(work, "src")
    os.makedirs(os.path.join(roots, "api"))
    with open(os.path.join(roots, "Cargo.lock"), "w") as f:
        f.write('version = 3\n\n[[package]]\nname = "serde"\nversion = "1.0.200"\n')
    with open(os.path.join(roots, "api", "requirements.txt"), "w") as f:
        f.write("requests==2.32.3\nFlask_Login==0.6.3\n")

    def agent():
        subprocess.run([BIN, "agent", "--once", "--server", base, "--activation-key", key,
                        "--scan-root", roots, "--state-dir", os.path.join(work, "state")],
                       check=True, timeout=60, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    agent()
    with open(os.path.join(work, "state", "agent.json")) as f:
        asset = json.load(f)["assetId"]
    qps(f"/qps/rest/1.0/ods/ca/agentasset/{asset}?scan=SWCA_SCAN")
    agent()
    for version, schema in (("CYCLONE_DX_1_4", SchemaVersion.V1_4),
                            ("CYCLONE_DX_1_6", SchemaVersion.V1_6)):
        r = requests.post(base + "/qps/rest/1.0/download/ca/downloadcdxsbom/", auth=auth,
                          json={"ServiceRequest": {"data": {"DownloadCDXSbom": {
                              "assetId": asset, "cdxschemaversion": version}}}}, timeout=30)
        assert r.status_code == 200, r.text
        error = JsonStrictValidator(schema).validate_str(r.text)
        assert error is None, f"{version}: {error}"
        doc = r.json()
        assert doc["specVersion"] == schema.to_version()
        purls = sorted(c.get("purl") for c in doc["components"])
        assert purls == ["pkg:cargo/serde@1.0.200", "pkg:pypi/flask-login@0.6.3",
                         "pkg:pypi/requests@2.32.3"], purls


@scenario(server_args=("--rate-limit", "3/600"))
def clients_see_the_rate_limit_headers_and_the_409(s):
    import requests
    url = f"https://{s.https}/qps/rest/2.0/count/am/hostasset"
    auth = ("admin", PASSWORD)
    for left in (2, 1, 0):
        r = requests.post(url, auth=auth, timeout=30)
        assert int(parse(r.text).findtext("count")) == len(HOST_IDS)
        assert r.headers["X-RateLimit-Remaining"] == str(left)
    r = requests.post(url, auth=auth, timeout=30)
    assert r.status_code == 409
    assert 0 < int(r.headers["X-RateLimit-ToWait-Sec"]) <= 600
    assert r.headers["X-RateLimit-Remaining"] == "0"
    root = parse(r.text)
    assert root.findtext("responseErrorDetails/errorMessage").startswith(
        "This API cannot be run again for another")
    # The markup of Qualys' limit answer, literally (qualysapi waits and retries on it).
    assert "<CODE>1965</CODE><TEXT>This API cannot be run again for another" in r.text, r.text
    # qualys-cli does not retry a 409: it fails with the server's message.
    out = qualys_cli(s, "ca", "agent", "count", "--format", "json", expect_failure=True)
    assert "409" in out or "cannot be run again" in out, out


@scenario(server_args=("--rate-limit", "3/3"))
def qualysapi_waits_out_the_rate_limit_and_retries(s):
    import time
    qg = qualysapi_connect(s)
    for left in (2, 1, 0):
        parse(qg.request("count/am/hostasset"))
        assert qg.rate_limit_remaining["count/am/hostasset"] == left
    # Spent: qualysapi reads the 409, sleeps X-RateLimit-ToWait-Sec and retries by itself.
    started = time.monotonic()
    r = parse(qg.request("count/am/hostasset"))
    assert int(r.findtext("count")) == len(HOST_IDS)
    assert time.monotonic() - started >= 0.5, "answered without waiting for the window"


@scenario
def qualys_cli_lists_and_counts_agents(s):
    doc = cli_json(qualys_cli(s, "ca", "agent", "list", "--tag-id", str(CLOUD_AGENT_TAG),
                              "--format", "json"))
    resp = doc["ServiceResponse"]
    assert resp["responseCode"] == "SUCCESS"
    found = [int(h["id"]) for h in as_list(resp["data"]["HostAsset"])]
    assert found == AGENT_IDS, found[:5]
    doc = cli_json(qualys_cli(s, "ca", "agent", "count", "--tracking-method", "QAGENT",
                              "--format", "json"))
    assert int(doc["ServiceResponse"]["count"]) == len(AGENT_IDS)
    doc = cli_json(qualys_cli(s, "ca", "agent", "count", "--format", "json"))
    assert int(doc["ServiceResponse"]["count"]) == len(AGENT_IDS)


@scenario
def qualys_cli_launches_an_on_demand_scan_by_tag(s):
    out = qualys_cli(s, "ca", "scan", "launch-ods", "--scan-type", "SWCA_scan", "--tag", "Cloud Agent")
    m = re.search(r"\[(\d+(?:,\s*\d+)*)\]", out)
    assert m, out
    assert [int(x) for x in m.group(1).split(",")] == SWCA_AGENTS
    assert "SUCCESS" in out


@scenario
def qualys_cli_lists_gets_and_deletes_web_apps(s):
    doc = cli_json(qualys_cli(s, "was", "webapp", "list", "--name", "New Webapp", "--format", "json"))
    apps = as_list(doc["ServiceResponse"]["data"]["WebApp"])
    assert [int(a["id"]) for a in apps] == NEW_WEBAPPS
    assert apps[0]["name"] == "New Webapp 1"
    doc = cli_json(qualys_cli(s, "was", "webapp", "get", "28297430", "--format", "json"))
    assert [int(a["id"]) for a in as_list(doc["ServiceResponse"]["data"]["WebApp"])] == [28297430]
    out = qualys_cli(s, "was", "webapp", "delete", "28297451", "--yes")
    assert "28297451" in out, out
    doc = cli_json(qualys_cli(s, "was", "webapp", "count", "--format", "json"))
    assert int(doc["ServiceResponse"]["count"]) == 29
    # A plain delete keeps the Asset (only removeFromSubscription drops it).
    qg = qualysapi_connect(s)
    r = parse(qg.request("get/am/asset/28297451"))
    assert ids(r, "Asset") == [28297451]
    r = parse(qg.request("get/was/webapp/28297451"))
    assert code(r) == "NOT_FOUND"


def main():
    if not os.access(BIN, os.X_OK):
        print(f"harness: no openqps binary at {BIN}", file=sys.stderr)
        return 2
    subprocess.run([BIN, "cert", "--out", CERTS], check=True, stdout=subprocess.DEVNULL)
    os.environ["REQUESTS_CA_BUNDLE"] = os.path.join(CERTS, "ca.pem")
    passed = failed = 0
    try:
        for fn in SCENARIOS:
            server = Server(fn.server_args)
            try:
                fn(server)
                passed += 1
                print(f"harness: {fn.__name__} ... ok", flush=True)
            except Exception:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"harness: {fn.__name__} ... FAILED", flush=True)
                traceback.print_exc()
            finally:
                server.stop()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"harness: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
