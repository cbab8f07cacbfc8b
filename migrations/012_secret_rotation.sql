-- Secret rotation (spec rest-storage-ops §3): which secrets replica created a version, so a test
-- or an operator can see that concurrent replicas never both rotated in one tick. Rotation itself
-- is serialised by a transaction-scoped advisory lock; (name, version) stays the primary key.
ALTER TABLE server_secret ADD COLUMN created_by TEXT;
