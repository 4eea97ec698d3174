SET lock_timeout = '5s';
ALTER TABLE payments ALTER COLUMN amount TYPE numeric(12,4); -- expect: alter-column-type
