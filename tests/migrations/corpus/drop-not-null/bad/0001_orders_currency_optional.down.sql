SET lock_timeout = '5s';
-- dataward:ignore set-not-null the down of a corpus case: orders is small in this example
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
