-- SQLite numbers a new row max(id) + 1, so once the newest object of a table is deleted its id
-- would be handed out again; Qualys never reuses an id. The store draws the ids of these tables
-- above the highest ever used, which is kept here.
CREATE TABLE id_high_water (
    table_name TEXT PRIMARY KEY,
    high INTEGER NOT NULL
);
INSERT INTO id_high_water (table_name, high) SELECT 'tag', COALESCE(MAX(id), 0) FROM tag;
INSERT INTO id_high_water (table_name, high) SELECT 'asset', COALESCE(MAX(id), 0) FROM asset;
INSERT INTO id_high_water (table_name, high)
    SELECT 'agent_act_key', COALESCE(MAX(id), 0) FROM agent_act_key;
INSERT INTO id_high_water (table_name, high)
    SELECT 'agent_config', COALESCE(MAX(id), 0) FROM agent_config;
INSERT INTO id_high_water (table_name, high) SELECT 'scan_job', COALESCE(MAX(id), 0) FROM scan_job;
