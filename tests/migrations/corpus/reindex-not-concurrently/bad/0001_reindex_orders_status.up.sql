-- dataward:no-transaction
SET lock_timeout = '5s';
REINDEX INDEX orders_status_idx; -- expect: reindex-not-concurrently
