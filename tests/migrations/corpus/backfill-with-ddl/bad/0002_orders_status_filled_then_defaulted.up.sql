SET lock_timeout = '5s';
UPDATE orders SET status = 'open' WHERE status IS NULL; -- expect: backfill-with-ddl
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'open';
