SET lock_timeout = '5s';
-- café, saved as Latin-1 -- expect: unreadable-migration
ALTER TABLE orders ADD COLUMN note text;
