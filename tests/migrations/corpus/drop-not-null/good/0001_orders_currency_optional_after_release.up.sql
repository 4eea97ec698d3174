SET lock_timeout = '5s';
-- dataward:ignore drop-not-null readers handle NULL since 2.3; the column retires in 2.5
ALTER TABLE orders ALTER COLUMN currency DROP NOT NULL;
