SET lock_timeout = '5s'; -- expect: missing-down
ALTER TABLE orders ADD COLUMN note text;
