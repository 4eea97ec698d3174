SET lock_timeout = '5s';
CREATE TABLE order_notes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  body text NOT NULL
);
CREATE INDEX order_notes_order_id_idx ON order_notes (order_id);
