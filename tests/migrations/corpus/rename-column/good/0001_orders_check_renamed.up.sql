SET lock_timeout = '5s';
ALTER TABLE orders RENAME CONSTRAINT orders_amount_check TO orders_amount_positive;
