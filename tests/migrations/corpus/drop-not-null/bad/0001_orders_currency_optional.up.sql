SET lock_timeout = '5s';
ALTER TABLE orders ALTER COLUMN currency DROP NOT NULL; -- expect: drop-not-null
