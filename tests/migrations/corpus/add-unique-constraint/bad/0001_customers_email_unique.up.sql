SET lock_timeout = '5s';
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email); -- expect: add-unique-constraint
