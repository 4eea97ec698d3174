CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  happened_at timestamp NOT NULL, -- expect: timestamp-without-time-zone
  logged_at timestamp(3) -- expect: timestamp-without-time-zone
);
