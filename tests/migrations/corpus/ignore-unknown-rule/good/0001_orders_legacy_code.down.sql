SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN legacy_code text;
