DELETE FROM sessions; -- expect: delete-without-where
