"""`dataward audit`: an existing repository and database, read (never run) for the
defects that lose, duplicate or corrupt data, reported as findings and a TODO.md."""
