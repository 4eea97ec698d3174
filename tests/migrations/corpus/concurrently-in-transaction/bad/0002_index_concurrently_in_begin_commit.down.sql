SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY orders_placed_at_idx;
