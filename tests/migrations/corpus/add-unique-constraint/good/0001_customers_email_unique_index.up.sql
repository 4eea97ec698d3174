-- dataward:no-transaction
SET lock_timeout = '5s';
CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (email);
