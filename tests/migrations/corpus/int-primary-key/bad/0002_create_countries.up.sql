CREATE TABLE countries (
  id smallint NOT NULL, -- expect: int-primary-key
  name text NOT NULL,
  PRIMARY KEY (id)
);
