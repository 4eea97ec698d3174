CREATE TABLE staging_rates (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rate numeric(12,6) NOT NULL
);
TRUNCATE staging_rates;
