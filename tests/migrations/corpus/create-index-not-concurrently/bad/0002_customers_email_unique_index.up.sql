SET lock_timeout = '5s';
CREATE UNIQUE INDEX customers_email_key -- expect: create-index-not-concurrently
  ON customers (email);
