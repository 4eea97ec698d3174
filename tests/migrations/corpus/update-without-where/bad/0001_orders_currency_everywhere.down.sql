-- the previous values are not kept
SELECT 1;
