CREATE TABLE customers (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- expect: int-primary-key
  email text NOT NULL
);
