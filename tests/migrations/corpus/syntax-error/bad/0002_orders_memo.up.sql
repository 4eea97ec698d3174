SET lock_timeout = '5s';
-- linting goes on after a file that does not parse
ALTER TABLE orders ADD COLUMN memo text;
