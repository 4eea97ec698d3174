SET lock_timeout = '5s';
ALTER INDEX orders_status_idx RENAME TO orders_state_idx;
