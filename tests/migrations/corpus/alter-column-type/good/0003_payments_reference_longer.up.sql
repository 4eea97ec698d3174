SET lock_timeout = '5s';
ALTER TABLE payments ALTER COLUMN reference TYPE varchar(40);
