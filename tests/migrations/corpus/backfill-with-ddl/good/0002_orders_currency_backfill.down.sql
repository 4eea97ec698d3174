-- nothing to undo: the previous migration's down drops the column
SELECT 1;
