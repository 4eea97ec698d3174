CREATE TABLE payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  amount numeric(12,2) NOT NULL,
  reference varchar(20) NOT NULL,
  recorded_at timestamp NOT NULL -- expect: timestamp-without-time-zone
);
