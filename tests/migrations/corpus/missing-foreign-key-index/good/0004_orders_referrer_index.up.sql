-- dataward:no-transaction
SET lock_timeout = '5s';
-- a later migration's index counts: the set as a whole has it
CREATE INDEX CONCURRENTLY orders_referrer_id_idx ON orders (referrer_id);
