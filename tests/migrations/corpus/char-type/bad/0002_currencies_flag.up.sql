SET lock_timeout = '5s';
ALTER TABLE currencies ADD COLUMN flag character(1); -- expect: char-type
