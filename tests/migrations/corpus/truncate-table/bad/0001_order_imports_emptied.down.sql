-- the rows are gone: nothing can restore them
SELECT 1;
