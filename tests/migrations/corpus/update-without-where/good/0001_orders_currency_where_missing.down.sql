UPDATE orders SET currency = NULL WHERE currency = 'EUR' AND id < 10000;
