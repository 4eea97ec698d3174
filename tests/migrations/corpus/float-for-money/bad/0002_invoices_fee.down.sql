SET lock_timeout = '5s';
ALTER TABLE invoices DROP COLUMN fee;
