CREATE TABLE drafts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  word_count integer NOT NULL
);
ALTER TABLE drafts ALTER COLUMN word_count TYPE bigint;
