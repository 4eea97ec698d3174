-- a new table, but its foreign key locks orders (SHARE ROW EXCLUSIVE: writes wait)
CREATE TABLE order_notes ( -- expect: missing-lock-timeout
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  body text NOT NULL
);
CREATE INDEX order_notes_order_id_idx ON order_notes (order_id);
