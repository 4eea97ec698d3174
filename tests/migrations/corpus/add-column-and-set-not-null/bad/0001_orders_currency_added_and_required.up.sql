SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN currency text;
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL; -- expect: add-column-and-set-not-null
