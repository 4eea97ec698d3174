SET lock_timeout = '5s';
/* dataward:ignore drop-column */ -- expect: ignore-without-reason
ALTER TABLE orders DROP COLUMN legacy_code; -- expect: drop-column
