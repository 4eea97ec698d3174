CREATE TABLE invoices (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  amount double precision NOT NULL, -- expect: float-for-money
  unit_price real NOT NULL, -- expect: float-for-money
  tax_total float NOT NULL -- expect: float-for-money
);
