"""`dataward migrate test`: every migration, up, down and up again, on a scratch database.

For each migration in order, on a database created for the test and dropped after it:
snapshot the catalog, up, snapshot, down, snapshot (it must equal the first: the down
undoes the up), up again, snapshot (it must equal the second: the up is repeatable after
its down). A migration with no down, or an empty one, fails at once.

With `rows`, every empty table is first filled with that many synthetic rows
(migrate/synthetic.py); the up is then timed, its locks watched from a second connection
(migrate/locks.py, PostgreSQL), a table whose storage file changed was rewritten, a
table whose rows the down does not give back (same columns, same values) makes the down
lossy, and the duration is projected linearly to a production row count.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from dataward.errors import DatawardError, InfrastructureError, Location
from dataward.migrate import synthetic
from dataward.migrate.files import Migration, MigrationError, Script
from dataward.migrate.locks import Held, LockSampler
from dataward.migrate.snapshot import Snapshot, difference, snapshot
from dataward.sources.sql import redact_url
from dataward.warehouse import LEDGER_SCHEMA, Warehouse

Say = Callable[[str], None]


@dataclass
class Tested:
    """What testing one migration found."""

    migration: Migration
    problems: list[str] = field(default_factory=list)
    seconds: float | None = None  # the up, at `rows` rows
    rows: int = 0
    locks: list[Held] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    lossy: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    estimate_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and not self.lossy


def test_migrations(
    wh: Warehouse,
    migrations: list[Migration],
    *,
    rows: int = 0,
    estimate_rows: int | None = None,
    server_url: str | None = None,
    say: Say = lambda _: None,
) -> list[Tested]:
    """Test `migrations` in order on the scratch warehouse `wh`; stops at the first that
    fails (later ones build on it). `server_url` reaches the same scratch database from
    a second connection, to watch the locks (PostgreSQL)."""
    results = []
    for migration in migrations:
        say(f"test {migration}")
        tested = Tested(migration, rows=rows)
        results.append(tested)
        if migration.down is None or migration.down.empty:
            tested.problems.append("it has no down: it cannot be undone, and is not tested")
            break
        try:
            _test_one(wh, tested, rows, server_url)
        except (MigrationError, _Failed) as exc:
            tested.problems.append(str(exc))
        if tested.seconds is not None and estimate_rows and rows:
            tested.estimate_seconds = tested.seconds * estimate_rows / rows
        if tested.problems:
            break
    return results


class _Failed(DatawardError):
    pass


def _test_one(wh: Warehouse, tested: Tested, rows: int, server_url: str | None) -> None:
    migration = tested.migration
    assert migration.down is not None
    if rows:
        tested.notes.extend(synthetic.fill(wh, rows))
    before = snapshot(wh)
    data_before = _contents(wh, before) if rows else {}
    files_before = _storage(wh)
    tested.seconds, tested.locks = _timed(wh, migration, migration.up, server_url)
    after_up = snapshot(wh)
    files_after = _storage(wh)
    tested.rewritten = sorted(
        t for t, f in files_before.items() if t in files_after and files_after[t] != f
    )
    _run(wh, migration, migration.down)
    after_down = snapshot(wh)
    _same(before, after_down, "the down does not bring the schema back")
    if rows:
        data_after = _contents(wh, after_down)
        tested.lossy = sorted(
            f"{table}: its rows differ after up and down (the down does not give back what "
            "the up changed)"
            for table, fingerprint in data_before.items()
            if data_after.get(table) != fingerprint
        )
    _run(wh, migration, migration.up)
    again = snapshot(wh)
    _same(after_up, again, "the up, run again after its down, does not give the same schema")


def _same(expected: Snapshot, found: Snapshot, what: str) -> None:
    changes = difference(expected, found)
    if changes:
        raise _Failed(f"{what}:\n" + "\n".join(f"    {line}" for line in changes))


def _timed(
    wh: Warehouse, migration: Migration, script: Script, server_url: str | None
) -> tuple[float, list[Held]]:
    if wh.dialect != "postgres" or server_url is None:
        started = time.monotonic()
        _run(wh, migration, script)
        return time.monotonic() - started, []
    row = wh.first_row("SELECT pg_backend_pid()")
    assert row is not None
    with LockSampler(server_url, int(row[0])) as sampler:
        started = time.monotonic()
        _run(wh, migration, script)
        seconds = time.monotonic() - started
    return seconds, sampler.held()


def _run(wh: Warehouse, migration: Migration, script: Script) -> None:
    """The script as the runner runs it: in one transaction unless marked otherwise."""
    statements = script.statements()
    if migration.transactional:
        wh.begin()
    try:
        for statement in statements:
            try:
                wh.execute_verbatim(statement.sql)
            except DatawardError as exc:
                raise _Failed(
                    f"{script.file}:{statement.line}:{statement.column}: {exc.message}"
                ) from None
        if migration.transactional:
            wh.commit()
    except BaseException:
        if migration.transactional:
            wh.rollback()
        raise


def _contents(wh: Warehouse, catalog: Snapshot) -> dict[str, tuple[int, str]]:
    """Per table, its row count and a fingerprint of its rows (the columns it has now)."""
    columns: dict[str, list[str]] = {}
    for line in catalog:
        if line.startswith("column "):
            qualified = line.split(" ", 2)[1]
            schema, table, column = qualified.split(".", 2)
            columns.setdefault(f"{schema}.{table}", []).append(column)
    found = {}
    for table, names in columns.items():
        if table.split(".", 1)[0] == LEDGER_SCHEMA:
            continue
        picked = ", ".join(wh.quote(n) for n in sorted(names))
        schema, name = table.split(".", 1)
        row = wh.first_row(
            f"SELECT count(*), md5(coalesce(string_agg(r, chr(10) ORDER BY r), '')) FROM "
            f"(SELECT CAST(ROW({picked}) AS VARCHAR) AS r FROM {wh.qualified(name, schema)}) x"
        )
        if row is not None:
            found[table] = (int(row[0]), str(row[1]))
    return found


def _storage(wh: Warehouse) -> dict[str, int]:
    """PostgreSQL: each table's storage file; a rewrite gives it a new one."""
    if wh.dialect != "postgres":
        return {}
    return {
        str(name): int(node)
        for name, node in wh.rows(
            "SELECT n.nspname || '.' || c.relname, c.relfilenode FROM pg_class c JOIN "
            "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT "
            "IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
        )
    }


# ---------------------------------------------------------------- scratch databases


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[tuple[Warehouse, str | None]]:
    """A new, empty database beside `url`'s (on the same PostgreSQL server), or an
    in-memory-like DuckDB file in a temporary directory; dropped afterwards. Yields the
    warehouse and, for PostgreSQL, its URL (for a second connection)."""
    scheme = urlsplit(url).scheme
    if scheme == "duckdb":
        from dataward.warehouse.duckdb import DuckDBWarehouse

        directory = tempfile.mkdtemp(prefix="dataward-migrate-test-")
        wh = DuckDBWarehouse(Path(directory) / "scratch.duckdb")
        try:
            wh.open()
            yield wh, None
        finally:
            wh.close()
            shutil.rmtree(directory, ignore_errors=True)
        return
    from dataward.warehouse.postgres import PostgresWarehouse

    name = f"dw_migrate_test_{secrets.token_hex(4)}"
    parts = urlsplit(url)
    scratch_url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        admin = psycopg.connect(url, autocommit=True, application_name="dataward")
    except psycopg.Error as exc:
        raise InfrastructureError(
            f"cannot connect to PostgreSQL to make a scratch database: {exc}",
            Location(file=redact_url(url)),
        ) from None
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        wh = PostgresWarehouse(scratch_url)
        try:
            wh.open()
            yield wh, scratch_url
        finally:
            wh.close()
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    except psycopg.Error as exc:
        raise InfrastructureError(
            f"cannot create or drop the scratch database {name}: {exc}",
            Location(file=redact_url(url)),
        ) from None
    finally:
        admin.close()
