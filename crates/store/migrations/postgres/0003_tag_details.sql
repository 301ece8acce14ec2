-- Tag API: the cloud provider of a tag, and children found by parent.
ALTER TABLE tag ADD COLUMN provider TEXT COLLATE "C";
CREATE INDEX tag_by_parent ON tag(parent_id);
