-- a rebuilt index is the same index: nothing to undo
SELECT 1;
