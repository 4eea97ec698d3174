CREATE TABLE currencies (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL CHECK (length(code) = 3),
  symbol varchar(4),
  kind "char"
);
