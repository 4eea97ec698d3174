SET lock_timeout = '5s';
-- dataward:ignore drop-collumn no release reads it since 2.4 -- expect: ignore-unknown-rule
ALTER TABLE orders DROP COLUMN legacy_code; -- expect: drop-column
