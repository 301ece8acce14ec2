-- openqps schema, SQLite dialect. Times are epoch seconds (UTC); booleans 0/1.
-- Every row belongs to a subscription, directly or through its asset.

CREATE TABLE subscription (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE TABLE app_user (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscription(id),
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tag (
    id                INTEGER PRIMARY KEY,
    subscription_id   INTEGER NOT NULL REFERENCES subscription(id),
    name              TEXT NOT NULL,
    created           INTEGER NOT NULL,
    modified          INTEGER NOT NULL,
    color             TEXT,
    rule_type         TEXT NOT NULL DEFAULT 'STATIC',
    rule_text         TEXT,
    parent_id         INTEGER REFERENCES tag(id),
    criticality_score INTEGER,
    description       TEXT
);
CREATE INDEX tag_by_name ON tag(subscription_id, name);

-- Host assets and the asset side of web applications share one table: `/am/asset` is one view.
CREATE TABLE asset (
    id                   INTEGER PRIMARY KEY,
    subscription_id      INTEGER NOT NULL REFERENCES subscription(id),
    asset_type           TEXT NOT NULL,
    name                 TEXT NOT NULL,
    created              INTEGER NOT NULL,
    modified             INTEGER NOT NULL,
    criticality_score    INTEGER,
    qweb_host_id         INTEGER,
    last_vuln_scan       INTEGER,
    last_compliance_scan INTEGER,
    last_system_boot     INTEGER,
    last_logged_on_user  TEXT,
    fqdn                 TEXT,
    os                   TEXT,
    dns_host_name        TEXT,
    netbios_name         TEXT,
    address              TEXT,
    tracking_method      TEXT,
    manufacturer         TEXT,
    model                TEXT,
    total_memory         INTEGER,
    bios_description     TEXT,
    is_docker_host       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX asset_by_type ON asset(subscription_id, asset_type, id);
CREATE INDEX asset_by_tracking ON asset(subscription_id, tracking_method, id);
CREATE INDEX asset_by_qweb ON asset(subscription_id, qweb_host_id);
CREATE INDEX asset_by_name ON asset(subscription_id, name);
CREATE INDEX asset_by_address ON asset(subscription_id, address);

CREATE TABLE asset_tag (
    tag_id   INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
    asset_id INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, asset_id)
) WITHOUT ROWID;
CREATE INDEX asset_tag_by_asset ON asset_tag(asset_id, tag_id);

CREATE TABLE host_port (
    asset_id     INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord          INTEGER NOT NULL,
    port         INTEGER NOT NULL,
    protocol     TEXT NOT NULL,
    service_id   INTEGER,
    service_name TEXT,
    PRIMARY KEY (asset_id, ord)
);
CREATE INDEX host_port_by_port ON host_port(port, asset_id);

CREATE TABLE host_software (
    asset_id INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    version  TEXT,
    PRIMARY KEY (asset_id, ord)
);
CREATE INDEX host_software_by_name ON host_software(name, asset_id);

CREATE TABLE host_vuln (
    asset_id               INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord                    INTEGER NOT NULL,
    qid                    INTEGER NOT NULL,
    host_instance_vuln_id  INTEGER NOT NULL,
    first_found            INTEGER NOT NULL,
    last_found             INTEGER NOT NULL,
    PRIMARY KEY (asset_id, ord)
);
CREATE INDEX host_vuln_by_qid ON host_vuln(qid, asset_id);

CREATE TABLE host_processor (
    asset_id INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    speed    INTEGER,
    PRIMARY KEY (asset_id, ord)
);

CREATE TABLE host_interface (
    asset_id        INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord             INTEGER NOT NULL,
    hostname        TEXT,
    interface_name  TEXT,
    mac_address     TEXT,
    address         TEXT,
    gateway_address TEXT,
    PRIMARY KEY (asset_id, ord)
);

CREATE TABLE agent (
    asset_id             INTEGER PRIMARY KEY REFERENCES asset(id) ON DELETE CASCADE,
    agent_id             TEXT NOT NULL,
    agent_version        TEXT NOT NULL,
    status               TEXT NOT NULL,
    last_checked_in      INTEGER,
    connected_from       TEXT,
    platform             TEXT NOT NULL,
    activated_modules    TEXT NOT NULL DEFAULT '',
    configuration_id     INTEGER,
    configuration_name   TEXT,
    activation_key_id    TEXT,
    activation_key_title TEXT
);

-- The WAS side of a web application; its asset row outlives it when WAS deletes the app.
CREATE TABLE webapp (
    asset_id     INTEGER PRIMARY KEY REFERENCES asset(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    os           TEXT,
    owner_id     INTEGER NOT NULL REFERENCES app_user(id),
    scope        TEXT NOT NULL DEFAULT 'ALL',
    is_scheduled INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL
);

CREATE TABLE scan_job (
    id                  INTEGER PRIMARY KEY,
    subscription_id     INTEGER NOT NULL REFERENCES subscription(id),
    asset_id            INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    scan_type           TEXT NOT NULL,
    override_config_cpu INTEGER NOT NULL,
    requested_by        INTEGER NOT NULL REFERENCES app_user(id),
    requested_at        INTEGER NOT NULL,
    state               TEXT NOT NULL
);
CREATE INDEX scan_job_by_asset ON scan_job(asset_id, state);
