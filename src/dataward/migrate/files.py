"""Migration files in the layouts teams already use, read into one model.

  native          migrations/<version>_<name>.up.sql and .down.sql (golang-migrate style);
                  `-- dataward:no-transaction` on a line of its own marks a migration that
                  must not run in a transaction (CREATE INDEX CONCURRENTLY needs that)
  dbmate          <version>_<name>.sql with `-- migrate:up [transaction:false]` and
                  `-- migrate:down`
  flyway          V<version>__<name>.sql, with its undo U<version>__<name>.sql if there is one
  goose           <version>_<name>.sql with `-- +goose Up`, `-- +goose Down`, and
                  `-- +goose NO TRANSACTION`
  alembic         alembic.ini and its revisions, rendered by Alembic's offline mode
                  (alembic_project.py)

Each migration's up and down are `Script`s that remember where in their file they start,
so every statement (split by pglast, PostgreSQL's own parser) carries its file, line and
column. A file that is not UTF-8 or two migrations with one version are refused naming the
files; a migration with nothing in it is read (`migrate new` writes one) and refused by
what would run it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pglast
from pglast.parser import ParseError

from dataward.errors import ContractError, Location

NO_TRANSACTION = "-- dataward:no-transaction"
FORMATS = ("native", "dbmate", "flyway", "goose", "alembic")

_NATIVE = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.(?P<direction>up|down)\.sql$")
_NUMBERED = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.sql$")
_FLYWAY = re.compile(r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<name>.+)\.sql$")
_DBMATE_UP = re.compile(r"^--\s*migrate:up\b(?P<options>.*)$", re.MULTILINE)
_DBMATE_DOWN = re.compile(r"^--\s*migrate:down\b.*$", re.MULTILINE)
_GOOSE_UP = re.compile(r"^--\s*\+goose\s+Up\b.*$", re.MULTILINE | re.IGNORECASE)
_GOOSE_DOWN = re.compile(r"^--\s*\+goose\s+Down\b.*$", re.MULTILINE | re.IGNORECASE)
_GOOSE_NO_TRANSACTION = re.compile(r"^--\s*\+goose\s+NO\s+TRANSACTION\b", re.M | re.I)
# goose wraps statements it must not split (functions, DO blocks) in these; pglast splits
# correctly without them, so they are only blanked out.
_GOOSE_BLOCK = re.compile(r"^--\s*\+goose\s+Statement(Begin|End)\b.*$", re.M | re.I)


class MigrationError(ContractError):
    """A migration file that cannot be read or makes no sense (exit 2)."""


@dataclass(frozen=True)
class Statement:
    sql: str
    node: pglast.ast.Node
    line: int  # in the file
    column: int

    @property
    def kind(self) -> str:
        return type(self.node).__name__


@dataclass(frozen=True)
class Script:
    """SQL from a file, with where it starts in that file."""

    sql: str
    file: Path
    first_line: int = 1
    # SQL that is not the file's text (Alembic's offline output for a revision): every
    # position is the file's `first_line` (its upgrade() or downgrade()).
    pinned: bool = False
    # statements(), once: the linter, the runner and the audit all ask for them, and
    # building pglast's Python nodes is most of the cost of reading a migration.
    _parsed: list[Statement] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return not strip_comments(self.sql).strip()

    def location(self, offset: int) -> Location:
        """File, line and column of a character offset into `sql`."""
        if self.pinned:
            return Location(file=str(self.file), line=self.first_line, column=1)
        before = self.sql[:offset]
        line = self.first_line + before.count("\n")
        column = offset - (before.rfind("\n") + 1) + 1
        return Location(file=str(self.file), line=line, column=column)

    def statements(self) -> list[Statement]:
        """The script's statements, as PostgreSQL parses them; a syntax error names the
        file, the line and the column, with the parser's message."""
        if self._parsed is None:
            object.__setattr__(self, "_parsed", self._parse())
        return list(self._parsed)  # type: ignore[arg-type]

    def _parse(self) -> list[Statement]:
        try:
            parsed = pglast.parse_sql(self.sql)
        except ParseError as exc:
            message, position = (*exc.args, None)[:2]
            where = (
                self.location(int(position))
                if isinstance(position, int)
                else Location(file=str(self.file), line=self.first_line)
            )
            raise MigrationError(f"SQL does not parse: {message}", where) from None
        found = []
        for raw in parsed:
            # pglast gives character offsets (0 length: to the end).
            start = raw.stmt_location
            end = len(self.sql) if not raw.stmt_len else start + raw.stmt_len
            text = self.sql[start:end]
            # A statement's location counts from the end of the previous one: skip the
            # blank lines and comments in front of it, so the line is the statement's own.
            lead = len(text) - len(_strip_leading_comments(text))
            where = self.location(start + lead)
            found.append(
                Statement(
                    sql=text[lead:].strip(),
                    node=raw.stmt,
                    line=where.line or self.first_line,
                    column=where.column or 1,
                )
            )
        return found


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    format: str
    up: Script
    down: Script | None
    transactional: bool = True
    files: tuple[Path, ...] = field(default=())
    position: int | None = None  # order in the chain, where versions do not sort (Alembic)

    @property
    def checksum(self) -> str:
        """sha256 of the up script: what was applied, to see a file changed since."""
        return hashlib.sha256(self.up.sql.encode()).hexdigest()

    @property
    def order(self) -> tuple[int, ...]:
        if self.position is not None:
            return (self.position,)
        return tuple(int(part) for part in re.split(r"[._]", self.version))

    def __str__(self) -> str:
        return f"{self.version}_{self.name}"


def discover(directory: Path) -> list[Migration]:
    """Every migration in `directory` (any of the layouts above), in version order; an
    Alembic project (alembic.ini here, or this is its script directory) is read through
    Alembic's offline SQL (migrate/alembic_project.py)."""
    if not directory.is_dir():
        raise MigrationError("no migrations directory", Location(file=str(directory)))
    from dataward.migrate.alembic_project import alembic_ini, read_alembic

    if (ini := alembic_ini(directory)) is not None:
        return read_alembic(ini)
    migrations: list[Migration] = []
    pairs: dict[tuple[str, str], dict[str, Path]] = {}
    flyway: dict[str, dict[str, Path]] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix != ".sql":
            continue
        if native := _NATIVE.match(path.name):
            key = (native["version"], native["name"])
            pairs.setdefault(key, {})[native["direction"]] = path
        elif fly := _FLYWAY.match(path.name):
            flyway.setdefault(fly["version"], {})[fly["kind"]] = path
        elif _NUMBERED.match(path.name):
            migrations.append(_single_file(path))
    for (version, name), found in pairs.items():
        if "up" not in found:
            raise MigrationError(
                f"a down migration without its up ({version}_{name}.up.sql)",
                Location(file=str(found["down"])),
            )
        up_text = read_text(found["up"])
        down = Script(read_text(found["down"]), found["down"]) if "down" in found else None
        migrations.append(
            Migration(
                version=version,
                name=name,
                format="native",
                up=Script(up_text, found["up"]),
                down=down,
                transactional=not _marked_no_transaction(up_text),
                files=tuple(found[d] for d in ("up", "down") if d in found),
            )
        )
    for version, found in flyway.items():
        if "V" not in found:
            raise MigrationError(
                "an undo migration without its versioned one", Location(file=str(found["U"]))
            )
        name = _FLYWAY.match(found["V"].name)["name"]  # type: ignore[index]
        up_text = read_text(found["V"])
        migrations.append(
            Migration(
                version=version,
                name=name,
                format="flyway",
                up=Script(up_text, found["V"]),
                down=Script(read_text(found["U"]), found["U"]) if "U" in found else None,
                transactional=not _marked_no_transaction(up_text),
                files=tuple(found[k] for k in ("V", "U") if k in found),
            )
        )
    _refuse_repeated_versions(migrations)
    return sorted(migrations, key=lambda m: m.order)


def _single_file(path: Path) -> Migration:
    """A dbmate or goose file: both directions in one, told apart by marker comments."""
    match = _NUMBERED.match(path.name)
    assert match is not None
    text = read_text(path)
    if up := _DBMATE_UP.search(text):
        down = _DBMATE_DOWN.search(text)
        up_script, down_script = _between(path, text, up, down)
        transactional = "transaction:false" not in up["options"].replace(" ", "")
        fmt = "dbmate"
    elif up := _GOOSE_UP.search(text):
        down = _GOOSE_DOWN.search(text)
        # Blanked to their length: every offset, line and column stays as in the file.
        cleaned = _GOOSE_BLOCK.sub(lambda block: " " * len(block.group(0)), text)
        up_script, down_script = _between(path, cleaned, up, down)
        transactional = not _GOOSE_NO_TRANSACTION.search(text)
        fmt = "goose"
    else:
        raise MigrationError(
            "not a migration dataward can read: a <version>_<name>.sql file needs "
            "`-- migrate:up` (dbmate) or `-- +goose Up` (goose); dataward's own layout is "
            "<version>_<name>.up.sql with a .down.sql",
            Location(file=str(path)),
        )
    return Migration(
        version=match["version"],
        name=match["name"],
        format=fmt,
        up=up_script,
        down=down_script,
        transactional=transactional,
        files=(path,),
    )


def _between(
    path: Path, text: str, up: re.Match[str], down: re.Match[str] | None
) -> tuple[Script, Script | None]:
    """The up section (after its marker, up to the down marker) and the down section."""
    up_start = up.end()
    up_end = down.start() if down is not None and down.start() > up_start else len(text)
    up_script = Script(text[up_start:up_end], path, text[:up_start].count("\n") + 1)
    if down is None:
        return up_script, None
    down_end = len(text) if down.start() > up_start else up.start()
    down_script = Script(text[down.end() : down_end], path, text[: down.end()].count("\n") + 1)
    return up_script, down_script


def _refuse_repeated_versions(migrations: list[Migration]) -> None:
    seen: dict[tuple[int, ...], Migration] = {}
    for migration in migrations:
        other = seen.get(migration.order)
        if other is not None:
            raise MigrationError(
                f"two migrations have version {migration.version}: {other.up.file.name} and "
                f"{migration.up.file.name}; give one of them a new version",
                Location(file=str(migration.up.file)),
            )
        seen[migration.order] = migration


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MigrationError(f"cannot read: {exc.strerror}", Location(file=str(path))) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise MigrationError(
            f"not UTF-8 (byte 0x{raw[exc.start]:02x}); re-encode the file as UTF-8",
            Location(file=str(path), line=line),
        ) from None


def _marked_no_transaction(text: str) -> bool:
    return any(line.strip() == NO_TRANSACTION for line in text.splitlines())


def strip_comments(sql: str) -> str:
    """`sql` without its -- and /* */ comments (for telling an empty script)."""
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.S)


def _strip_leading_comments(text: str) -> str:
    rest = text
    while True:
        stripped = rest.lstrip()
        if stripped.startswith("--"):
            newline = stripped.find("\n")
            rest = "" if newline == -1 else stripped[newline + 1 :]
        elif stripped.startswith("/*"):
            end = stripped.find("*/")
            rest = "" if end == -1 else stripped[end + 2 :]
        else:
            return stripped
