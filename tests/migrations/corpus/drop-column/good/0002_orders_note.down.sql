SET lock_timeout = '5s';
-- the down drops what its up added: not reported
ALTER TABLE orders DROP COLUMN note;
