SET lock_timeout = '5s';
-- index_orders_customer: a plain CREATE INDEX, which lint flags (it blocks writes).
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
