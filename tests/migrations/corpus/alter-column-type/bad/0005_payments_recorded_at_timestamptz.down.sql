SET lock_timeout = '5s';
-- dataward:ignore alter-column-type the down of a corpus case changes the type back
ALTER TABLE payments ALTER COLUMN recorded_at TYPE timestamp;
