CREATE TABLE currencies (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code char(3) NOT NULL -- expect: char-type
);
