SET lock_timeout = '5s';
-- already NOT NULL: nothing to scan
ALTER TABLE refunds ALTER COLUMN reason SET NOT NULL;
