-- expired sessions are not restored
SELECT 1;
