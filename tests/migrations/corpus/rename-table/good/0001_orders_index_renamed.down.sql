SET lock_timeout = '5s';
ALTER INDEX orders_state_idx RENAME TO orders_status_idx;
