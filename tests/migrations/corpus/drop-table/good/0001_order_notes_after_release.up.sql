SET lock_timeout = '5s';
-- dataward:ignore drop-table unused since 2.4, archived to the 2024-06 backup
DROP TABLE order_notes;
