SET lock_timeout = '5s';
ALTER TABLE order_lines DROP CONSTRAINT order_lines_pkey;
