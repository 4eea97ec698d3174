SET lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0); -- expect: constraint-without-not-valid
