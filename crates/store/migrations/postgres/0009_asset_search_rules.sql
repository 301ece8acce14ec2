-- ASSET_SEARCH tags: the rule's criteria in the form openqps_query::encode_criteria writes.
ALTER TABLE tag ADD COLUMN rule_criteria TEXT COLLATE "C";
