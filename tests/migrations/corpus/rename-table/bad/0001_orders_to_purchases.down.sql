SET lock_timeout = '5s';
ALTER TABLE purchases RENAME TO orders;
