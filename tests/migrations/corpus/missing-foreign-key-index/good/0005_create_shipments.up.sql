SET lock_timeout = '5s';
CREATE TABLE shipments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL,
  customer_id bigint NOT NULL,
  FOREIGN KEY (order_id) REFERENCES orders (id),
  FOREIGN KEY (customer_id, order_id) REFERENCES customer_orders (customer_id, order_id)
);
-- one index serves both keys: its first columns are each key's, in any order
CREATE INDEX shipments_order_customer_idx ON shipments (order_id, customer_id);
