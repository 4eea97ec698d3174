SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN region text;
UPDATE customers SET region = 'eu' WHERE region IS NULL AND id < 10000;
