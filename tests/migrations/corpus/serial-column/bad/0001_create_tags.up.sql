CREATE TABLE tags (
  id bigserial PRIMARY KEY, -- expect: serial-column
  name text NOT NULL
);
