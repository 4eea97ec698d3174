SET lock_timeout = '5s';
ALTER TABLE orders DROP CONSTRAINT orders_amount_positive;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
