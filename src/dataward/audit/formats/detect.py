"""Which folders of a repository hold migrations, and in which format, from the file list
the audit's walk made (and the files' text: nothing is imported or run).

  alembic           alembic.ini's script_location (and version_locations), or a versions/
                    directory whose .py files have `revision = ` and `def upgrade`
  django            <app>/migrations/NNNN_*.py with `class Migration(`
  rails             NNNN_*.rb with an ActiveRecord::Migration class (db/migrate/)
  laravel           migrations/*.php with a class extending Migration
                    (database/migrations/)
  prisma            <dir>/migrations/<timestamp>_<name>/migration.sql
  flyway, dbmate, goose, golang-migrate, dataward
                    a directory of .sql files `discover` reads (dataward when a
                    dataward.toml is beside it; golang-migrate otherwise: one layout)
  sql-migrate, node-pg-migrate, sql (up only)
                    numbered .sql files with those tools' markers, or none at all in a
                    directory named like migrations

A file belongs to one folder at most: the first format above that claims it.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from dataward.audit.formats.model import MigrationFolder
from dataward.audit.formats.sqlfiles import NUMBERED, UP_ONLY, marker_format

_DJANGO_FILE = re.compile(r"^\d{4,}_\w+\.py$")
_RAILS_FILE = re.compile(r"^\d+_\w+\.rb$")
_NATIVE = re.compile(r"^\d+_.+\.(up|down)\.sql$")
_FLYWAY = re.compile(r"^[VU]\d+(?:[._]\d+)*__.+\.sql$")
_DBMATE = re.compile(r"^--\s*migrate:up\b", re.M)
_GOOSE = re.compile(r"^--\s*\+goose\s+Up\b", re.M | re.I)
_REVISION = re.compile(r"^revision\s*(?::\s*\w+\s*)?=", re.M)
_UPGRADE = re.compile(r"^def upgrade\s*\(", re.M)


def find_migration_folders(root: Path, files: list[Path]) -> list[MigrationFolder]:
    claimed: set[Path] = set()
    folders: list[MigrationFolder] = []
    for finder in (_alembic, _django, _rails, _laravel, _prisma, _sql):
        for folder in finder(root, files, claimed):
            claimed.update(folder.files)
            folders.append(folder)
    return sorted(folders, key=lambda f: (str(f.path), f.format))


def _text(path: Path) -> str:
    try:
        return path.read_bytes()[:200_000].decode("utf-8", errors="replace")
    except OSError:
        return ""


def _by_directory(files: Iterable[Path]) -> dict[Path, list[Path]]:
    grouped: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        grouped[path.parent].append(path)
    return grouped


# ---- Alembic ------------------------------------------------------------------------------


def _alembic(root: Path, files: list[Path], claimed: set[Path]) -> list[MigrationFolder]:
    folders = []
    python = [f for f in files if f.suffix == ".py"]
    covered: set[Path] = set()
    configs = [f for f in files if f.name == "alembic.ini"]
    configs += [f for f in files if f.name == "pyproject.toml" and "[tool.alembic]" in _text(f)]
    for config in configs:
        script_dir, versions = _alembic_locations(config)
        if script_dir is None:
            continue
        members = [f for f in python if f.parent in versions and f not in claimed]
        env = script_dir / "env.py"
        if not members and not env.is_file():
            continue
        covered.update(versions)
        extra = [f for f in python if f == env]
        ini = config if config.name == "alembic.ini" else None
        folders.append(MigrationFolder(script_dir, "alembic", sorted(members + extra), ini))
    # Versions directories no configuration names (alembic.ini elsewhere, or generated).
    for directory, members in sorted(_by_directory(python).items()):
        if directory.name != "versions" or directory in covered:
            continue
        revisions = [
            f
            for f in members
            if f not in claimed and _REVISION.search(t := _text(f)) and _UPGRADE.search(t)
        ]
        if revisions:
            env = [f for f in python if f == directory.parent / "env.py"]
            folders.append(MigrationFolder(directory.parent, "alembic", sorted(revisions + env)))
    return folders


def _alembic_locations(config: Path) -> tuple[Path | None, list[Path]]:
    """The script directory and the versions directories a configuration names."""
    here = config.parent
    options: dict[str, str] = {}
    if config.name == "pyproject.toml":
        try:
            data = tomllib.loads(_text(config))
        except tomllib.TOMLDecodeError:
            return None, []
        section = data.get("tool", {}).get("alembic", {})
        options = {k: str(v) for k, v in section.items() if isinstance(v, str)}
        locations = section.get("version_locations")
        if isinstance(locations, list):
            options["version_locations"] = " ".join(str(v) for v in locations)
    else:
        parser = configparser.RawConfigParser()
        try:
            parser.read_string(_text(config))
        except configparser.Error:
            return None, []
        if parser.has_section("alembic"):
            options = dict(parser.items("alembic"))
    location = options.get("script_location")
    if location:
        script_dir = _resolve(here, location)
    elif (here / "env.py").is_file():
        script_dir = here  # Flask-Migrate: the ini lives in the script directory
    else:
        return None, []
    versions = [script_dir / "versions"]
    if options.get("version_locations"):
        separator = options.get("version_path_separator", "")
        splitter = {"os": os.pathsep, ";": ";", ":": ":", "space": " ", ",": ","}.get(separator)
        raw = options["version_locations"]
        parts = raw.split(splitter) if splitter and splitter != " " else re.split(r"[\s,]+", raw)
        versions = [_resolve(here, p) for p in parts if p.strip()]
    return script_dir, versions


def _resolve(here: Path, location: str) -> Path:
    location = location.strip().replace("%(here)s", str(here))
    if ":" in location and not re.match(r"^[A-Za-z]:[\\/]", location):
        package, _, sub = location.partition(":")  # myapp:migrations, a package resource
        location = os.path.join(*package.split("."), sub)
    path = Path(location)
    return path if path.is_absolute() else here / path


# ---- Django, Rails, Laravel ---------------------------------------------------------------


def _django(root: Path, files: list[Path], claimed: set[Path]) -> list[MigrationFolder]:
    folders = []
    python = [f for f in files if f.suffix == ".py" and f not in claimed]
    for directory, members in sorted(_by_directory(python).items()):
        if directory.name != "migrations":
            continue
        migrations = [
            f for f in members if _DJANGO_FILE.match(f.name) and "class Migration(" in _text(f)
        ]
        if migrations:
            folders.append(MigrationFolder(directory, "django", sorted(members)))
    return folders


def _rails(root: Path, files: list[Path], claimed: set[Path]) -> list[MigrationFolder]:
    ruby = [
        f
        for f in files
        if f.suffix == ".rb" and f not in claimed and _RAILS_FILE.match(f.name)
        and "ActiveRecord::Migration" in _text(f)
    ]  # fmt: skip
    return [
        MigrationFolder(directory, "rails", sorted(members))
        for directory, members in sorted(_by_directory(ruby).items())
    ]


def _laravel(root: Path, files: list[Path], claimed: set[Path]) -> list[MigrationFolder]:
    php = [
        f
        for f in files
        if f.suffix == ".php" and f not in claimed and f.parent.name == "migrations"
        and re.search(r"extends\s+\\?(?:[\w\\]+\\)?Migration\b", _text(f))
    ]  # fmt: skip
    return [
        MigrationFolder(directory, "laravel", sorted(members))
        for directory, members in sorted(_by_directory(php).items())
    ]


# ---- SQL ------------------------------------------------------------------------------------


def _prisma(root: Path, files: list[Path], claimed: set[Path]) -> list[MigrationFolder]:
    grouped: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        if path in claimed or path.name not in ("migration.sql", "down.sql"):
            continue
        if path.parent.parent.name == "migrations" and ((path.parent / "migration.sql").is_file()):
            grouped[path.parent.parent].append(path)
    folders = []
    for directory, members in sorted(grouped.items()):
        lock = directory / "migration_lock.toml"
        is_prisma = lock.is_file() or directory.parent.name == "prisma"
        if is_prisma and any(m.name == "migration.sql" for m in members):
            extra = [lock] if lock in files else []
            folders.append(
                MigrationFolder(
                    directory, "prisma", sorted(members + extra), lock if lock.is_file() else None
                )
            )
    return folders


def _sql(root: Path, files: list[Path], claimed: set[Path]) -> list[MigrationFolder]:
    folders = []
    sql = [f for f in files if f.suffix.lower() == ".sql" and f not in claimed]
    for directory, members in sorted(_by_directory(sql).items()):
        kinds: set[str] = set()
        read: list[Path] = []
        unmarked: list[Path] = []
        others: list[Path] = []
        for path in sorted(members):
            name = path.name
            if _NATIVE.match(name):
                kinds.add("native")
                read.append(path)
            elif _FLYWAY.match(name):
                kinds.add("flyway")
                read.append(path)
            elif NUMBERED.match(name):
                text = _text(path)
                if _DBMATE.search(text):
                    kinds.add("dbmate")
                    read.append(path)
                elif _GOOSE.search(text):
                    kinds.add("goose")
                    read.append(path)
                elif (marker := marker_format(text)) is not None:
                    others.append(path)
                    kinds.add(marker)
                else:
                    unmarked.append(path)
        discovered = kinds & {"native", "flyway", "dbmate", "goose"}
        if discovered and not others:
            # `discover` reads these; an unmarked numbered file among them is its error
            # to report ("not a migration dataward can read").
            folders.append(
                MigrationFolder(directory, _sql_format(directory, discovered), read + unmarked)
            )
        elif others or (unmarked and "migrat" in directory.name.lower()):
            marked = kinds - {"native", "flyway", "dbmate", "goose"}
            name = "+".join(sorted(marked)) if marked else UP_ONLY
            if unmarked and marked:
                name += f"+{UP_ONLY}"
            folders.append(MigrationFolder(directory, name, sorted(others + unmarked)))
    return folders


def _sql_format(directory: Path, kinds: set[str]) -> str:
    names = set(kinds)
    if "native" in names:
        names.discard("native")
        dataward = (directory / "dataward.toml").is_file() or (
            directory.parent / "dataward.toml"
        ).is_file()
        names.add("dataward" if dataward else "golang-migrate")
    return "+".join(sorted(names))
