-- dataward:no-transaction
SET lock_timeout = '5s';
-- each statement commits on its own: VALIDATE runs under SHARE UPDATE EXCLUSIVE only
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;
