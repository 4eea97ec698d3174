-- dataward:no-transaction
-- its own migration, outside a transaction: each statement commits and lets go
UPDATE orders SET currency = 'EUR' WHERE currency IS NULL AND id < 10000;
