SET lock_timeout = '5s';
ALTER TABLE payments ALTER COLUMN note TYPE text;
