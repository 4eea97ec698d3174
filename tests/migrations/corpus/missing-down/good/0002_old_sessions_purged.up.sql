DELETE FROM sessions WHERE expires_at < now() - interval '1 year';
