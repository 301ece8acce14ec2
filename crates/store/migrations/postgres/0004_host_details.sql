-- The rest of the HostAsset model: more scalars, docker, volumes, accounts, cloud sources.
ALTER TABLE asset ADD COLUMN domain TEXT COLLATE "C";
ALTER TABLE asset ADD COLUMN timezone TEXT COLLATE "C";
ALTER TABLE asset ADD COLUMN network_guid TEXT COLLATE "C";
ALTER TABLE asset ADD COLUMN netbios_network_id BIGINT;
ALTER TABLE asset ADD COLUMN information_gathered_updated BIGINT;
ALTER TABLE asset ADD COLUMN vulns_updated BIGINT;
ALTER TABLE asset ADD COLUMN cloud_provider TEXT COLLATE "C";
ALTER TABLE asset ADD COLUMN docker_present BIGINT NOT NULL DEFAULT 0;
ALTER TABLE asset ADD COLUMN docker_version TEXT COLLATE "C";
ALTER TABLE asset ADD COLUMN docker_containers BIGINT;
ALTER TABLE asset ADD COLUMN docker_images BIGINT;

CREATE TABLE host_volume (
    asset_id BIGINT NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord      BIGINT NOT NULL,
    name     TEXT COLLATE "C" NOT NULL,
    size     BIGINT,
    free     BIGINT,
    PRIMARY KEY (asset_id, ord)
);

CREATE TABLE host_account (
    asset_id BIGINT NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord      BIGINT NOT NULL,
    username TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (asset_id, ord)
);

CREATE TABLE host_source (
    asset_id         BIGINT NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    ord              BIGINT NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL,
    instance_id      TEXT COLLATE "C",
    instance_type    TEXT COLLATE "C",
    state            TEXT COLLATE "C",
    region           TEXT COLLATE "C",
    zone             TEXT COLLATE "C",
    account_id       TEXT COLLATE "C",
    vpc_id           TEXT COLLATE "C",
    subnet_id        TEXT COLLATE "C",
    image_id         TEXT COLLATE "C",
    private_ip       TEXT COLLATE "C",
    public_ip        TEXT COLLATE "C",
    resource_group   TEXT COLLATE "C",
    first_discovered BIGINT,
    last_updated     BIGINT,
    PRIMARY KEY (asset_id, ord)
);
CREATE INDEX host_source_by_instance ON host_source(instance_id, asset_id);
CREATE INDEX host_source_by_account ON host_source(account_id, asset_id);
