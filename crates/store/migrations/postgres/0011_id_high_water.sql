-- The SQLite migration of this version keeps a high-water mark per table so deleted ids are not
-- handed out again. PostgreSQL's identity sequences never repeat a value: nothing to do.
SELECT 1;
