-- The rest of the HostAsset model: more scalars, docker, volumes, accounts, cloud sources.
ALTER TABLE asset ADD COLUMN domain TEXT;
ALTER TABLE asset ADD COLUMN timezone TEXT;
ALTER TABLE asset ADD COLUMN network_guid TEXT;
ALTER TABLE asset ADD COLUMN netbios_network_id INTEGER;
ALTER TABLE asset ADD COLUMN information_gathered_updated INTEGER;
ALTER TABLE asset ADD COLUMN vulns_updated INTEGER;
ALTER TABLE asset ADD COLUMN cloud_provider TEXT;
ALTER TABLE asset ADD COLUMN docker_present INTEGER NOT NULL DEFAULT 0;
ALTER TABLE asset ADD COLUMN docker_version TEXT;
ALTER TABLE asset ADD COLUMN docker_containers INTEGER;
ALTER TABLE asset ADD COLUMN docker_images INTEGER;

CREATE TABLE host_volume (
    asset_id INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    size     INTEGER,
    free     INTEGER,
    PRIMARY KEY (asset_id, ord)
);

CREATE TABLE host_account (
    asset_id INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (asset_id, ord)
);

CREATE TABLE host_source (
    asset_id         INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord              INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    instance_id      TEXT,
    instance_type    TEXT,
    state            TEXT,
    region           TEXT,
    zone             TEXT,
    account_id       TEXT,
    vpc_id           TEXT,
    subnet_id        TEXT,
    image_id         TEXT,
    private_ip       TEXT,
    public_ip        TEXT,
    resource_group   TEXT,
    first_discovered INTEGER,
    last_updated     INTEGER,
    PRIMARY KEY (asset_id, ord)
);
CREATE INDEX host_source_by_instance ON host_source(instance_id, asset_id);
CREATE INDEX host_source_by_account ON host_source(account_id, asset_id);
