-- Results agents upload with a completed job (/agent/v1/jobs/{id}/result). A SwCA result is the
-- software components the agent found; the latest upload replaces the asset's earlier one.
CREATE TABLE swca_result (
    asset_id    INTEGER PRIMARY KEY REFERENCES asset(id) ON DELETE CASCADE,
    job_id      INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL
);
CREATE TABLE swca_component (
    asset_id  INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    name      TEXT NOT NULL,
    version   TEXT,
    purl      TEXT,
    ecosystem TEXT,
    path      TEXT,
    PRIMARY KEY (asset_id, seq)
);
