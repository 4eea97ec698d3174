SET lock_timeout = '5s';
ALTER TABLE legacy_orders ALTER COLUMN total TYPE bigint; -- expect: alter-column-type
