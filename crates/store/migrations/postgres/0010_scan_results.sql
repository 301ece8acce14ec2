-- Results agents upload with a completed job (/agent/v1/jobs/{id}/result). A SwCA result is the
-- software components the agent found; the latest upload replaces the asset's earlier one.
CREATE TABLE swca_result (
    asset_id    BIGINT PRIMARY KEY REFERENCES asset(id) ON DELETE CASCADE,
    job_id      BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE TABLE swca_component (
    asset_id  BIGINT NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    name      TEXT COLLATE "C" NOT NULL,
    version   TEXT COLLATE "C",
    purl      TEXT COLLATE "C",
    ecosystem TEXT COLLATE "C",
    path      TEXT COLLATE "C",
    PRIMARY KEY (asset_id, seq)
);
