SET lock_timeout = '5s';
TRUNCATE order_imports; -- expect: truncate-table
