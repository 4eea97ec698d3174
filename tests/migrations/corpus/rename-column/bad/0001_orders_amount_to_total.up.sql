SET lock_timeout = '5s';
ALTER TABLE orders RENAME COLUMN amount TO total; -- expect: rename-column
