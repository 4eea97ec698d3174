SET lock_timeout = '5s';
-- the CHECK was never validated: SET NOT NULL still scans
ALTER TABLE orders ALTER COLUMN region SET NOT NULL; -- expect: set-not-null
