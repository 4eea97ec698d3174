SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN touched_at timestamptz DEFAULT clock_timestamp(); -- expect: add-column-volatile-default
