-- dataward:no-transaction
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
