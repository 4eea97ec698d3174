SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY orders_customer_id_idx;
