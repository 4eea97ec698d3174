SET lock_timeout = '5s';
ALTER TABLE customers DROP CONSTRAINT customers_email_key;
