SET lock_timeout = '5s';
DROP VIEW orders;
ALTER TABLE purchases RENAME TO orders;
