CREATE TABLE invoices (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  amount numeric(19,4) NOT NULL,
  unit_price_cents bigint NOT NULL,
  total_weight double precision,
  score real
);
