CREATE TABLE order_lines (
  order_id bigint NOT NULL,
  line_no integer NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
