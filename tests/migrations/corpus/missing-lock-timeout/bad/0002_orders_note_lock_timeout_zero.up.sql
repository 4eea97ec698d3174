SET lock_timeout = 0;
ALTER TABLE orders ADD COLUMN memo text; -- expect: missing-lock-timeout
