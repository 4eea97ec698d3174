-- café, written as UTF-8 (with a byte-order mark)
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN note text;
