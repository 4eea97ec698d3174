UPDATE orders SET currency = 'EUR'; -- expect: update-without-where
