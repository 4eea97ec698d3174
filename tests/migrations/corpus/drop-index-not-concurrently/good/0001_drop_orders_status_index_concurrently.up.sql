-- dataward:no-transaction
SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY orders_status_idx;
