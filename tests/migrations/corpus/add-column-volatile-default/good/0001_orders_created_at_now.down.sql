SET lock_timeout = '5s';
ALTER TABLE orders DROP COLUMN created_at;
