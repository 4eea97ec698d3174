SET lock_timeout = '5s';
-- dataward:ignore rename-table the view keeps the old name working until release 2.5
ALTER TABLE orders RENAME TO purchases;
CREATE VIEW orders AS SELECT * FROM purchases;
