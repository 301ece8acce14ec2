-- The agent control protocol (/agent/v1): each agent that registered through openqps has a
-- secret, stored as its SHA-256 hex digest only. Agents are found by their agent id (UUID).
CREATE TABLE agent_credential (
    asset_id    BIGINT PRIMARY KEY REFERENCES asset(id) ON DELETE CASCADE,
    secret_hash TEXT COLLATE "C" NOT NULL
);
CREATE INDEX agent_by_agent_id ON agent(agent_id);
