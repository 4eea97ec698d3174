SET lock_timeout = '5s';
ALTER TABLE payments ALTER COLUMN amount TYPE bigint USING (amount * 100)::bigint; -- expect: alter-column-type
