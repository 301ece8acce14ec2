-- WAS web application settings beyond identity (issue 5). Scalars are columns of `webapp`;
-- lists live in child tables that go with the WAS row (plain delete) or the asset (delete with
-- removeFromSubscription), by cascade.

ALTER TABLE webapp ADD COLUMN created_by BIGINT REFERENCES app_user(id);
ALTER TABLE webapp ADD COLUMN updated_by BIGINT REFERENCES app_user(id);
ALTER TABLE webapp ADD COLUMN sub_domain TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN default_profile_id BIGINT;
ALTER TABLE webapp ADD COLUMN default_profile_name TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN scanner_type TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN scanner_name TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN scanner_locked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webapp ADD COLUMN progressive_scanning BIGINT;
ALTER TABLE webapp ADD COLUMN use_robots TEXT COLLATE "C" NOT NULL DEFAULT 'IGNORE';
ALTER TABLE webapp ADD COLUMN use_sitemap BIGINT NOT NULL DEFAULT 0;
-- config: one of 'HOURS' (config_number), 'AT' (config_text), 'AUTH' (config_number = auth
-- record id, config_text = its name).
ALTER TABLE webapp ADD COLUMN config_kind TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN config_number BIGINT;
ALTER TABLE webapp ADD COLUMN config_text TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN last_scan_id BIGINT;
ALTER TABLE webapp ADD COLUMN last_scan_name TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN last_scan_status TEXT COLLATE "C";
ALTER TABLE webapp ADD COLUMN last_scan_date BIGINT;

-- Ordered list items: kind is the list's wire name (domains, uris, urlBlacklist, urlWhitelist,
-- postDataBlacklist, logoutRegexList, headers, authRecords, crawlingScripts). Text lists use
-- `text` (and `regex` for URL entries); reference lists use `ref_id` and `text` as the name.
CREATE TABLE webapp_item (
    asset_id BIGINT NOT NULL REFERENCES webapp(asset_id) ON DELETE CASCADE,
    kind     TEXT COLLATE "C" NOT NULL,
    ord      BIGINT NOT NULL,
    ref_id   BIGINT,
    text     TEXT COLLATE "C",
    regex    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (asset_id, kind, ord)
);

-- Custom attributes, searchable by name and value.
CREATE TABLE webapp_attribute (
    asset_id BIGINT NOT NULL REFERENCES webapp(asset_id) ON DELETE CASCADE,
    name     TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (asset_id, name)
);
CREATE INDEX webapp_attribute_by_name ON webapp_attribute(name, value, asset_id);

CREATE TABLE webapp_comment (
    asset_id  BIGINT NOT NULL REFERENCES webapp(asset_id) ON DELETE CASCADE,
    ord       BIGINT NOT NULL,
    contents  TEXT COLLATE "C" NOT NULL,
    author_id BIGINT REFERENCES app_user(id),
    created   BIGINT,
    PRIMARY KEY (asset_id, ord)
);
