SET lock_timeout = '5s';
ALTER TABLE currencies DROP COLUMN flag;
