SET lock_timeout = '5s';
ALTER TABLE payments ALTER COLUMN reference TYPE varchar(10); -- expect: alter-column-type
