SET lock_timeout = '5s';
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL; -- expect: set-not-null
