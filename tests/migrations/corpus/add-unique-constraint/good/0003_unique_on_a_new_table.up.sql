CREATE TABLE coupons (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL
);
ALTER TABLE coupons ADD CONSTRAINT coupons_code_key UNIQUE (code);
