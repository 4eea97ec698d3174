SET lock_timeout = '5s';
ALTER TABLE invoices ADD COLUMN fee float8; -- expect: float-for-money
