SET lock_timeout = '5s';
-- dataward:ignore drop-column no release reads it since 2.4 (ticket 812)
ALTER TABLE orders DROP COLUMN legacy_code;
