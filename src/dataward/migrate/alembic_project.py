"""Alembic projects, read through Alembic's own offline mode.

An Alembic revision is Python: what it does to the schema is only known once Alembic
renders it. So dataward asks Alembic, in the project's Python (`DATAWARD_ALEMBIC_PYTHON`,
else dataward's own), for the SQL its `--sql` mode writes for each revision's upgrade
and downgrade (alembic_worker.py), drops Alembic's own bookkeeping (the alembic_version
table, the BEGIN/COMMIT around it) and reads what is left as that revision's up and down.
Every finding about one points at the revision file's upgrade() or downgrade().

For `lint`, `test` and `status`; `up` and `down` stay Alembic's (`alembic upgrade`):
two tools writing one schema's history would disagree about it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pglast
from pglast import ast
from pglast.enums import TransactionStmtKind
from pglast.parser import ParseError

from dataward.errors import Location
from dataward.migrate.files import Migration, MigrationError, Script

if TYPE_CHECKING:  # the warehouse (pyarrow, duckdb) only for status: lint reads files
    from dataward.warehouse import Warehouse

PYTHON_ENV = "DATAWARD_ALEMBIC_PYTHON"
WORKER = Path(__file__).with_name("alembic_worker.py")
BOOKKEEPING = "alembic_version"
_OPENING = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)


def alembic_ini(directory: Path) -> Path | None:
    """alembic.ini in `directory`, or in its parent when `directory` is the script
    directory (the one holding env.py)."""
    if (directory / "alembic.ini").is_file():
        return directory / "alembic.ini"
    if (directory / "env.py").is_file() and (directory.parent / "alembic.ini").is_file():
        return directory.parent / "alembic.ini"
    return None


def read_alembic(ini: Path) -> list[Migration]:
    python = os.environ.get(PYTHON_ENV) or sys.executable
    # The worker's source is passed with -c, not run as a file: run from this package's
    # directory, `import alembic` could find something else first.
    try:
        done = subprocess.run(
            [python, "-c", WORKER.read_text(encoding="utf-8"), str(ini.resolve())],
            cwd=ini.parent,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MigrationError(
            f"could not run {python} to read the Alembic project: {exc}", Location(file=str(ini))
        ) from None
    if done.returncode != 0:
        last = [line for line in done.stderr.strip().splitlines() if line.strip()][-3:]
        raise MigrationError(
            "Alembic could not write the offline SQL (`alembic upgrade --sql`) of this "
            f"project: {' / '.join(last) or 'exit ' + str(done.returncode)}. Its env.py must "
            "support offline mode (run_migrations_offline)",
            Location(file=str(ini)),
        )
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    if reply.get("error") == "no-alembic":
        raise MigrationError(
            f"this is an Alembic project ({ini.name}); dataward reads it through Alembic's "
            f"offline SQL, and alembic is not installed in {reply['python']}: "
            f"`pip install alembic` there, or set {PYTHON_ENV} to the Python that has the "
            "project's Alembic",
            Location(file=str(ini)),
        )
    migrations = []
    for position, revision in enumerate(reply["revisions"], start=1):
        if "merge" in revision:
            continue  # a merge point only moves alembic_version
        path = Path(revision["path"])
        up_sql, up_wrapped = _without_bookkeeping(revision["up"], path)
        down_sql, _ = _without_bookkeeping(revision["down"], path)
        migrations.append(
            Migration(
                version=revision["revision"],
                name=_slug(revision["message"]) or revision["revision"],
                format="alembic",
                up=Script(up_sql, path, int(revision["up_line"]), pinned=True),
                down=Script(down_sql, path, int(revision["down_line"]), pinned=True),
                transactional=up_wrapped,
                files=(path,),
                position=position,
            )
        )
    return migrations


def _without_bookkeeping(sql: str, path: Path) -> tuple[str, bool]:
    """The revision's own statements, and whether they all ran inside Alembic's
    transaction (not, for one in an autocommit_block: CREATE INDEX CONCURRENTLY)."""
    try:
        parsed = pglast.parse_sql(sql)
    except ParseError:
        return sql, True  # read as it is: the parse error is reported where it is linted
    kept: list[str] = []
    inside = False
    wrapped = True
    for raw in parsed:
        node = raw.stmt
        if isinstance(node, ast.TransactionStmt):
            inside = node.kind in _OPENING
            continue
        if _touches_bookkeeping(node):
            continue
        end = len(sql) if not raw.stmt_len else raw.stmt_location + raw.stmt_len
        text = sql[raw.stmt_location : end].strip()
        text = re.sub(r"^(--[^\n]*\n\s*)+", "", text)  # Alembic's "-- Running upgrade" lines
        kept.append(text + ";")
        wrapped = wrapped and inside
    return "\n\n".join(kept) + ("\n" if kept else ""), wrapped


def _touches_bookkeeping(node: ast.Node) -> bool:
    relation = getattr(node, "relation", None)
    if isinstance(relation, ast.RangeVar) and relation.relname == BOOKKEEPING:
        return True
    if isinstance(node, ast.DropStmt):
        return any(
            isinstance(part, tuple) and part and getattr(part[-1], "sval", None) == BOOKKEEPING
            for part in node.objects or ()
        )
    return False


def _slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")


def refuse_to_apply(migrations: list[Migration], verb: str) -> None:
    if migrations and migrations[0].format == "alembic":
        raise MigrationError(
            f"this is an Alembic project: `alembic {verb}` applies it. dataward reads it for "
            "`migrate lint`, `migrate test` and `migrate status`; two tools recording one "
            "schema's history would disagree about it",
            Location(file=str(migrations[0].up.file.parent)),
        )


State = tuple[Migration | None, str, str, str]


def alembic_states(wh: Warehouse, migrations: list[Migration]) -> list[State]:
    """(migration, revision, name, state) from the database's alembic_version table: the
    revision it names and every one before it in the chain are applied."""
    current: set[str] = set()
    if wh.live_columns(BOOKKEEPING) is not None:
        current = {str(row[0]) for row in wh.rows(f"SELECT version_num FROM {BOOKKEEPING}")}
    reached = max((m.position or 0 for m in migrations if m.version in current), default=0)
    found: list[State] = [
        (m, m.version, m.name, "applied" if (m.position or 0) <= reached else "pending")
        for m in migrations
    ]
    known = {m.version for m in migrations}
    found += [(None, revision, "", "missing") for revision in sorted(current - known)]
    return found
