SET lock_timeout = '5s';
ALTER TABLE order_lines ADD PRIMARY KEY (order_id, line_no); -- expect: add-unique-constraint
