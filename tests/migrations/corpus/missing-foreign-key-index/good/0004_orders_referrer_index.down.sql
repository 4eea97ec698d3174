SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY orders_referrer_id_idx;
