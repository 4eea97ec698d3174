"""Prisma Migrate: `prisma/migrations/<timestamp>_<name>/migration.sql`, in folder order.

The files are SQL already. Prisma has no down migrations: `prisma migrate` only goes
forward, and a bad migration is fixed by another one (or `migrate resolve`), so
missing-down fires for every Prisma migration, which is the truth about them. A `down.sql`
kept beside migration.sql (what Prisma's docs suggest, made with `prisma migrate diff`
and applied by hand with `prisma db execute`) is read as the down.

A migration.sql is sent as one multi-statement query, which PostgreSQL runs as one
implicit transaction: CREATE INDEX CONCURRENTLY fails in it unless it is the file's only
statement (so one with a single statement is read as outside a transaction).
"""

from __future__ import annotations

import re

import pglast
from pglast.parser import ParseError

from dataward.audit.formats.model import MigrationFolder, Reading
from dataward.migrate.files import Migration, Script

_FOLDER = re.compile(r"^(?P<version>\d+)_(?P<name>.+)$")


def read_prisma(folder: MigrationFolder, reading: Reading) -> list[Migration]:
    provider = _provider(folder)
    if provider is not None and provider not in ("postgresql", "postgres", "cockroachdb"):
        reading.note(f"Prisma migrations for {provider}, not PostgreSQL: not linted")
        return []
    ups = sorted(
        (f for f in folder.files if f.name == "migration.sql"), key=lambda f: f.parent.name
    )
    migrations = []
    for position, path in enumerate(ups, start=1):
        text = reading.text(path)
        if text is None:
            continue
        match = _FOLDER.match(path.parent.name)
        version, name = (match["version"], match["name"]) if match else (path.parent.name, "")
        down_path = path.with_name("down.sql")
        down = None
        if down_path.is_file():
            down_text = reading.text(down_path)
            if down_text is not None:
                down = Script(down_text, down_path)
        migrations.append(
            Migration(
                version=version,
                name=name or version,
                format="prisma",
                up=Script(text, path),
                down=down,
                transactional=_statement_count(text) != 1,
                files=(path, *((down_path,) if down is not None else ())),
                position=position,
            )
        )
    return migrations


def _provider(folder: MigrationFolder) -> str | None:
    """migration_lock.toml's `provider = "postgresql"`."""
    if folder.config is None:
        return None
    try:
        text = folder.config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r'^\s*provider\s*=\s*"([^"]+)"', text, re.M)
    return match.group(1).lower() if match else None


def _statement_count(sql: str) -> int:
    try:
        return len(pglast.parse_sql(sql))
    except ParseError:
        return 0  # the linter reports the syntax error where it is
