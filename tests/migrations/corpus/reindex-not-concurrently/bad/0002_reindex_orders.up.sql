-- dataward:no-transaction
SET lock_timeout = '5s';
REINDEX TABLE orders; -- expect: reindex-not-concurrently
