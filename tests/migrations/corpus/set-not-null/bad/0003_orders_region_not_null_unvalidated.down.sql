SET lock_timeout = '5s';
ALTER TABLE orders ALTER COLUMN region DROP NOT NULL;
