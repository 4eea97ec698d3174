-- the up does not parse, so there is nothing to undo yet
SELECT 1;
