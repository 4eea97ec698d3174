SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN currency text;
UPDATE orders SET currency = 'EUR' WHERE currency IS NULL; -- expect: backfill-with-ddl
