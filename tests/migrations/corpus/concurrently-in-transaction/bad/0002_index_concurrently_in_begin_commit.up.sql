-- dataward:no-transaction
SET lock_timeout = '5s';
BEGIN;
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at); -- expect: concurrently-in-transaction
COMMIT;
