SET lock_timeout = '5s';
CREATE INDEX orders_status_idx ON orders (status); -- expect: create-index-not-concurrently
