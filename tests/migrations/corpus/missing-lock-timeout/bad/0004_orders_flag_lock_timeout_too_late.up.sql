ALTER TABLE orders ADD COLUMN flag boolean; -- expect: missing-lock-timeout
SET lock_timeout = '5s';
