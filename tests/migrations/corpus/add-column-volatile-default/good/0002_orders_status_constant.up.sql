SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';
