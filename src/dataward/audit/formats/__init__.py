"""Migrations in every format a repository may hold, read into the linter's `Migration`s
without running any of the repository's code, so every `migrate lint` rule applies to them
unchanged.

    folders = find_migration_folders(root, files)   # detect.py
    read = read_folder(folder)                       # FolderRead(migrations, notes, problems)
    findings = lint(read.migrations)

A migration written in Python, Ruby or PHP becomes the PostgreSQL SQL its framework runs
for it (alembic.py, django.py, rails.py, laravel.py; types in pgtypes.py), laid out so that
each statement sits on the line of the operation it comes from (layout.py): a finding
names the file and line a person opens. SQL layouts are read by `discover`, Prisma's
folders by prisma.py, other numbered SQL by sqlfiles.py.

What a reader cannot follow is said, never guessed: `notes` count the operations not
understood (with file:line), `problems` are the files that do not parse (the caller
reports each as a finding; the other files are still read).
"""

from __future__ import annotations

from dataward.audit.formats.detect import find_migration_folders
from dataward.audit.formats.model import FolderRead, MigrationFolder, Reading

__all__ = ["FolderRead", "MigrationFolder", "find_migration_folders", "read_folder"]


def read_folder(folder: MigrationFolder, *, alembic_offline: bool = False) -> FolderRead:
    """The folder's migrations in order. `alembic_offline` reads an Alembic project
    through Alembic's offline SQL instead, which RUNS the project's env.py (an opt-in).
    A SQL layout `discover` refuses raises MigrationError, naming the file."""
    from dataward.audit.formats.alembic import read_alembic_static
    from dataward.audit.formats.django import read_django
    from dataward.audit.formats.laravel import read_laravel
    from dataward.audit.formats.prisma import read_prisma
    from dataward.audit.formats.rails import read_rails
    from dataward.audit.formats.sqlfiles import UP_ONLY, read_marked
    from dataward.migrate.files import discover

    reading = Reading(folder)
    kind = folder.format
    if kind == "alembic":
        if alembic_offline and folder.config is not None:
            from dataward.migrate.alembic_project import read_alembic

            return reading.result(read_alembic(folder.config))
        if alembic_offline:
            reading.note("no alembic.ini to run Alembic's offline mode with: read statically")
        migrations = read_alembic_static(folder, reading)
    elif kind == "django":
        migrations = read_django(folder, reading)
    elif kind == "rails":
        migrations = read_rails(folder, reading)
    elif kind == "laravel":
        migrations = read_laravel(folder, reading)
    elif kind == "prisma":
        migrations = read_prisma(folder, reading)
    elif UP_ONLY in kind or "sql-migrate" in kind or "node-pg-migrate" in kind:
        migrations = read_marked(folder, reading)
    else:
        migrations = discover(folder.path)
    return reading.result(migrations)
