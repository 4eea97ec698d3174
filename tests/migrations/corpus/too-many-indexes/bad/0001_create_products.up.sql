CREATE TABLE products (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  a text,
  b text,
  c text,
  d text,
  e text,
  f text
);
CREATE INDEX products_a_idx ON products (a);
CREATE INDEX products_b_idx ON products (b);
CREATE INDEX products_c_idx ON products (c);
CREATE INDEX products_d_idx ON products (d);
CREATE INDEX products_e_idx ON products (e); -- expect: too-many-indexes
