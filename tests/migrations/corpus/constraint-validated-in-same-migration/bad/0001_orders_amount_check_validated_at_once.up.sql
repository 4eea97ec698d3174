SET lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID; -- expect: constraint-validated-in-same-migration
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
