CREATE TABLE visits (
  visitor_id bigint NOT NULL,
  day date NOT NULL
);
ALTER TABLE visits ADD PRIMARY KEY (visitor_id, day);
