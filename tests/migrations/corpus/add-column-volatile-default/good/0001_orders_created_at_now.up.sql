SET lock_timeout = '5s';
-- now() is STABLE: one value for the whole statement, kept in the catalog
ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();
