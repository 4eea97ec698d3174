ALTER TABLE orders ADD COLUMN note text; -- expect: missing-lock-timeout
