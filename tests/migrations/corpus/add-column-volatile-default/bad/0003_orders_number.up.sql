SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN number bigint GENERATED ALWAYS AS IDENTITY; -- expect: add-column-volatile-default
