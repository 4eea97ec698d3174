-- create_orders: the table the orders pipeline loads (see examples/orders).
CREATE TABLE orders (
  order_id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  amount numeric(19,4) NOT NULL,
  placed_at timestamptz NOT NULL
);
