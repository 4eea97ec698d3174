-- dataward:no-transaction
SET lock_timeout = '5s';
REINDEX INDEX CONCURRENTLY orders_status_idx;
