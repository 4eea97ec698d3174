CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    amount double precision NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
