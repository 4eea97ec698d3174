SET lock_timeout = '5s';
-- CASCADE empties every table with a foreign key to order_imports too
TRUNCATE order_imports CASCADE; -- expect: truncate-table
