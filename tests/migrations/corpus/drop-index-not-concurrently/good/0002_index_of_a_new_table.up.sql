CREATE TABLE scratch (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL
);
CREATE INDEX scratch_code_idx ON scratch (code);
DROP INDEX scratch_code_idx;
