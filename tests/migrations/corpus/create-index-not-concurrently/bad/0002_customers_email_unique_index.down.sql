SET lock_timeout = '5s';
-- dataward:ignore drop-index-not-concurrently undoes the up (a brief lock)
DROP INDEX customers_email_key;
