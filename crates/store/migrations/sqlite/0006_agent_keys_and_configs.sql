-- Cloud Agent activation keys and configuration profiles (QPS 1.0 /ca/agentactkey, /ca/agentconfig).
-- An agent names its key by `agent.activation_key_id` (the key's UUID) and its profile by
-- `agent.configuration_id`; countUsed is counted from those, never stored.
CREATE TABLE agent_act_key (
    id               INTEGER PRIMARY KEY,
    subscription_id  INTEGER NOT NULL REFERENCES subscription(id),
    title            TEXT NOT NULL,
    activation_key   TEXT NOT NULL UNIQUE,
    key_type         TEXT NOT NULL,
    count_purchased  INTEGER NOT NULL DEFAULT 0,
    expire_date      INTEGER,
    licenses         TEXT NOT NULL DEFAULT '',
    created          INTEGER NOT NULL
);
CREATE INDEX agent_act_key_by_sub ON agent_act_key(subscription_id, id);
CREATE INDEX agent_by_activation_key ON agent(activation_key_id);

CREATE TABLE agent_act_key_tag (
    key_id INTEGER NOT NULL REFERENCES agent_act_key(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
    PRIMARY KEY (key_id, tag_id)
) WITHOUT ROWID;

CREATE TABLE agent_config (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscription(id),
    name            TEXT NOT NULL,
    description     TEXT,
    is_default      INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL,
    modified        INTEGER NOT NULL
);
CREATE INDEX agent_config_by_sub ON agent_config(subscription_id, id);
