"""What to lint: command-line paths (migration directories or single files) read into sets
of migrations, each set one directory.

A file given alone is linted with the rest of its directory as history, so the linter
knows the tables the older migrations made. A directory that cannot be read (a file that is
not UTF-8, two migrations with one version) becomes an `unreadable-migration` finding and
the other paths are still linted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dataward.errors import Location, UsageError
from dataward.migrate.files import Migration, MigrationError, discover
from dataward.migrate.lint import registry
from dataward.migrate.lint.model import Finding
from dataward.migrate.lint.rules.meta import UNREADABLE_MIGRATION


@dataclass(frozen=True)
class MigrationSet:
    directory: Path
    migrations: list[Migration]
    report: frozenset[str] | None  # versions to report; None: every one

    @property
    def reported(self) -> list[Migration]:
        return [m for m in self.migrations if self.report is None or m.version in self.report]


def collect(paths: Sequence[Path]) -> tuple[list[MigrationSet], list[Finding]]:
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path} does not exist")
    wanted: dict[Path, tuple[Path, set[Path] | None]] = {}
    given = {path.resolve(): path for path in paths}  # to name a file as the user did
    for path in paths:
        directory = path if path.is_dir() else path.parent
        key = directory.resolve()
        shown, files = wanted.setdefault(key, (directory, set()))
        if path.is_dir() or files is None:
            wanted[key] = (shown, None)
        else:
            files.add(path.resolve())
    sets: list[MigrationSet] = []
    problems: list[Finding] = []
    for directory, files in wanted.values():
        try:
            migrations = discover(directory)
        except MigrationError as exc:
            problems.append(unreadable(exc.message, exc.location, directory))
            continue
        if files is None:
            sets.append(MigrationSet(directory, migrations, None))
            continue
        chosen = [m for m in migrations if files & {f.resolve() for f in m.files}]
        matched = {f.resolve() for m in chosen for f in m.files}
        for stray in sorted(files - matched):
            problems.append(
                unreadable(
                    "not a migration file: dataward reads <version>_<name>.up.sql and "
                    ".down.sql, and dbmate, Flyway and goose files",
                    Location(file=str(given.get(stray, stray))),
                    directory,
                )
            )
        sets.append(MigrationSet(directory, migrations, frozenset(m.version for m in chosen)))
    return sets, problems


def unreadable(message: str, where: Location, directory: Path) -> Finding:
    rule = registry.get(UNREADABLE_MIGRATION)
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        message=message,
        fix=rule.fix,
        file=where.file or str(directory),
        line=where.line or 1,
        column=where.column or 1,
    )
