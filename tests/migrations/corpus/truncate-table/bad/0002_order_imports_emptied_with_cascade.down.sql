-- the rows are gone, here and in the tables the cascade reached: nothing can restore them
SELECT 1;
