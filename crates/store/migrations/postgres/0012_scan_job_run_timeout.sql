-- A claimed job must be finished within run_timeout seconds of its last move (DISPATCHED,
-- RUNNING), or it FAILS: an agent that died mid-scan must not hold the asset's pending job, which
-- later requests for the same scan would join, for ever. expires_at then holds that deadline.
ALTER TABLE scan_job ADD COLUMN run_timeout BIGINT NOT NULL DEFAULT 14400;
