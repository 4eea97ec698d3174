SET lock_timeout = '5s';
ALTER TABLE payments ALTER COLUMN recorded_at TYPE timestamptz; -- expect: alter-column-type
