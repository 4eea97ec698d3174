SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id); -- expect: missing-foreign-key-index
