SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY customers_email_key;
