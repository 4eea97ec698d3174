-- dataward:no-transaction
SET lock_timeout = '5s';
DROP INDEX orders_status_idx; -- expect: drop-index-not-concurrently
