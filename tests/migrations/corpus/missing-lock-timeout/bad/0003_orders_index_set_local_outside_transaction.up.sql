-- dataward:no-transaction
-- SET LOCAL outside a transaction block has no effect
SET LOCAL lock_timeout = '5s';
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note); -- expect: missing-lock-timeout
