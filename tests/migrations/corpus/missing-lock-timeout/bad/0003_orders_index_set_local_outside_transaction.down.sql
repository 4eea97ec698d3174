SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY orders_note_idx;
