SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN seen_at timestamp without time zone; -- expect: timestamp-without-time-zone
