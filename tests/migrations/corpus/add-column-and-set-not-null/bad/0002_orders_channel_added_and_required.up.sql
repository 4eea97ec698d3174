SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web', ALTER COLUMN channel SET NOT NULL; -- expect: add-column-and-set-not-null
