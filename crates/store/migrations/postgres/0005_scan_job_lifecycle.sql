-- Scan job lifecycle: QUEUED → DISPATCHED → RUNNING → COMPLETED / FAILED, or EXPIRED when no
-- agent claims a QUEUED job before expires_at. Jobs written before this migration get the
-- default expiry (24 h after their request).
ALTER TABLE scan_job ADD COLUMN state_changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scan_job ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE scan_job SET state_changed_at = requested_at, expires_at = requested_at + 86400;
CREATE INDEX scan_job_by_state ON scan_job(state, expires_at);
