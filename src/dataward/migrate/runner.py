"""Apply and undo migrations against the warehouse, one at a time, each recorded.

Before anything runs, the migrations on disk are held against the ledger: an applied
migration whose up script changed since is refused (write a new one instead), a pending
one older than the newest applied is refused (it would run out of order), and a
migration left dirty by a failure outside a transaction stops everything until someone
says what state the database is in (`dataward migrate resolve`).

Each migration runs in a transaction of its own, its ledger row included, so it applies
entirely or not at all; one marked non-transactional (CREATE INDEX CONCURRENTLY cannot run
in a transaction) is recorded dirty first and clean when every statement has run. On
PostgreSQL a session advisory lock keeps two runners apart (the second exits 4), and
`lock_timeout` bounds every wait for a lock: a migration that hits it is rolled back and
tried again after a growing pause, so it never queues for long in front of the
application's own queries.
"""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from dataward.errors import DatawardError, ExitCode, Location, LockTimeoutError, StatementError
from dataward.migrate import ledger
from dataward.migrate.alembic_project import refuse_to_apply
from dataward.migrate.files import Migration, MigrationError, Script
from dataward.migrate.ledger import Applied
from dataward.warehouse import Warehouse

Say = Callable[[str], None]


class MigrationFailed(DatawardError):
    """A migration's SQL failed on the database (its transaction rolled back)."""

    exit_code = ExitCode.CHECKS_FAILED


@dataclass(frozen=True)
class Settings:
    lock_timeout_seconds: float = 5.0
    attempts: int = 4  # a lock_timeout is retried this many times in all
    backoff_seconds: float = 1.0  # doubled after each attempt


@dataclass(frozen=True)
class Line:
    """One migration's state, for `status`."""

    migration: Migration | None
    version: str
    name: str
    state: str  # applied | pending | dirty | changed | missing
    applied: Applied | None


def status(wh: Warehouse, migrations: list[Migration]) -> list[Line]:
    if migrations and migrations[0].format == "alembic":
        from dataward.migrate.alembic_project import alembic_states

        return [Line(m, v, n, state, None) for m, v, n, state in alembic_states(wh, migrations)]
    ledger.ensure_ledger(wh)
    done = ledger.applied(wh)
    lines = []
    for migration in migrations:
        entry = done.get(migration.version)
        if entry is None:
            state = "pending"
        elif entry.dirty:
            state = "dirty"
        elif entry.checksum != migration.checksum:
            state = "changed"
        else:
            state = "applied"
        lines.append(Line(migration, migration.version, migration.name, state, entry))
    on_disk = {m.version for m in migrations}
    for version, entry in done.items():
        if version not in on_disk:
            lines.append(Line(None, version, entry.name, "missing", entry))
    return sorted(lines, key=lambda line: _order(line.version))


def check(lines: list[Line]) -> None:
    """Refuse to move while the ledger and the files disagree."""
    for line in lines:
        if line.state == "dirty":
            raise MigrationError(
                f"migration {line.version}_{line.name} failed outside a transaction and is "
                "marked dirty: part of it may have run. Look at the database, finish or undo "
                f"it by hand, then `dataward migrate resolve {line.version} --applied` (or "
                "--undone)"
            )
        if line.state == "changed":
            assert line.migration is not None
            raise MigrationError(
                f"migration {line.version}_{line.name} was applied, and its file has changed "
                "since: an applied migration is history; write a new migration for the change",
                Location(file=str(line.migration.up.file)),
            )
    newest = max((_order(x.version) for x in lines if x.state == "applied"), default=None)
    for line in lines:
        if line.state == "pending" and newest is not None and _order(line.version) < newest:
            assert line.migration is not None
            raise MigrationError(
                f"migration {line.version}_{line.name} is pending but older than the newest "
                "applied one: it would run out of order (a merge of two branches?); give it a "
                "new version",
                Location(file=str(line.migration.up.file)),
            )


def up(
    wh: Warehouse,
    migrations: list[Migration],
    *,
    to: str | None = None,
    settings: Settings = Settings(),
    say: Say = lambda _: None,
) -> list[Migration]:
    refuse_to_apply(migrations, "upgrade")
    _hold(wh)
    lines = status(wh, migrations)
    check(lines)
    if to is not None and all(m.version != to for m in migrations):
        raise MigrationError(f"no migration has version {to}")
    pending = [
        line.migration
        for line in lines
        if line.state == "pending"
        and line.migration is not None
        and (to is None or _order(line.version) <= _order(to))
    ]
    for migration in pending:
        if migration.up.empty:
            raise MigrationError(
                f"migration {migration} is empty: write its SQL, or remove it",
                Location(file=str(migration.up.file)),
            )
    for migration in pending:
        say(f"up {migration}")
        _apply(wh, migration, migration.up, "up", settings, say)
    return pending


def down(
    wh: Warehouse,
    migrations: list[Migration],
    *,
    steps: int = 1,
    settings: Settings = Settings(),
    say: Say = lambda _: None,
) -> list[Migration]:
    if steps < 1:
        raise MigrationError("--steps must be at least 1")
    refuse_to_apply(migrations, "downgrade")
    _hold(wh)
    lines = status(wh, migrations)
    check(lines)
    newest_first = [line for line in lines if line.state in ("applied", "missing")][::-1]
    for line in newest_first[:steps]:
        if line.state == "missing":
            raise MigrationError(
                f"migration {line.version}_{line.name} is applied but its file is gone: its "
                "down cannot run; restore the file"
            )
    undone = []
    for line in newest_first[:steps]:
        migration = line.migration
        assert migration is not None
        if migration.down is None or migration.down.empty:
            raise MigrationError(
                f"migration {migration} has no down: it cannot be undone",
                Location(file=str(migration.up.file)),
            )
        say(f"down {migration}")
        _apply(wh, migration, migration.down, "down", settings, say)
        undone.append(migration)
    return undone


def resolve(wh: Warehouse, migrations: list[Migration], version: str, applied: bool) -> None:
    """Say what state a dirty migration left: applied (its row becomes clean) or undone."""
    _hold(wh)
    ledger.ensure_ledger(wh)
    entry = ledger.applied(wh).get(version)
    if entry is None or not entry.dirty:
        raise MigrationError(f"migration {version} is not dirty: nothing to resolve")
    wh.begin()
    try:
        if applied:
            migration = next((m for m in migrations if m.version == version), None)
            ledger.record(
                wh,
                Applied(
                    version,
                    entry.name,
                    migration.checksum if migration else entry.checksum,
                    entry.applied_at,
                    entry.duration_ms,
                    entry.applied_by,
                    dirty=False,
                ),
            )
        else:
            ledger.forget(wh, version)
        wh.commit()
    except BaseException:
        wh.rollback()
        raise


# ---------------------------------------------------------------- one migration


def _apply(
    wh: Warehouse,
    migration: Migration,
    script: Script,
    direction: str,
    settings: Settings,
    say: Say,
) -> None:
    statements = script.statements()  # a syntax error is refused before anything runs
    started = time.monotonic()
    entry = Applied(
        version=migration.version,
        name=migration.name,
        checksum=migration.checksum,
        applied_at=datetime.now(UTC),
        duration_ms=0,
        applied_by=_who(),
        dirty=False,
    )
    if migration.transactional:
        for attempt in range(1, settings.attempts + 1):
            wh.begin()
            try:
                _set_lock_timeout(wh, settings, local=True)
                for statement in statements:
                    _run(wh, migration, script, statement)
                if direction == "up":
                    ledger.record(wh, _finished(entry, started))
                else:
                    ledger.forget(wh, entry.version)
                wh.commit()
                return
            except LockTimeoutError as exc:
                wh.rollback()
                if attempt == settings.attempts:
                    raise MigrationFailed(
                        f"{direction} of {migration} could not take its locks within "
                        f"lock_timeout ({settings.lock_timeout_seconds:g} s), {attempt} times: "
                        f"nothing of it was applied ({exc.message})",
                        Location(file=str(script.file)),
                    ) from None
                pause = settings.backoff_seconds * 2 ** (attempt - 1)
                say(f"  lock_timeout; trying again in {pause:g} s")
                time.sleep(pause)
            except BaseException:
                wh.rollback()
                raise
        return
    # Outside a transaction: recorded dirty first, so a failure half-way is visible.
    _in_transaction(wh, lambda: ledger.record(wh, _with(entry, dirty=True)))
    _set_lock_timeout(wh, settings, local=False)
    for statement in statements:
        for attempt in range(1, settings.attempts + 1):
            try:
                _run(wh, migration, script, statement)
                break
            except LockTimeoutError:
                if attempt == settings.attempts:
                    raise
                time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
    finished = _finished(entry, started)
    if direction == "up":
        _in_transaction(wh, lambda: ledger.record(wh, finished))
    else:
        _in_transaction(wh, lambda: ledger.forget(wh, entry.version))


def _run(wh: Warehouse, migration: Migration, script: Script, statement) -> None:
    try:
        wh.execute_verbatim(statement.sql)
    except StatementError as exc:
        kept = (
            "rolled back: nothing of it was applied"
            if migration.transactional
            else (
                "it runs outside a transaction: the statements before this one are applied, and "
                "the migration is marked dirty"
            )
        )
        raise MigrationFailed(
            f"{migration} failed: {exc.message}; {kept}",
            Location(file=str(script.file), line=statement.line, column=statement.column),
        ) from None


def _set_lock_timeout(wh: Warehouse, settings: Settings, local: bool) -> None:
    if wh.dialect != "postgres":
        return  # DuckDB: the file has one writer, there is no lock to wait for
    scope = "LOCAL " if local else ""
    wh.execute(f"SET {scope}lock_timeout = '{int(settings.lock_timeout_seconds * 1000)}ms'")


def _in_transaction(wh: Warehouse, work: Callable[[], None]) -> None:
    wh.begin()
    try:
        work()
        wh.commit()
    except BaseException:
        wh.rollback()
        raise


def _hold(wh: Warehouse) -> None:
    """One runner at a time: a second one exits 4 at once, naming the first."""
    wh.open()
    wh.hold("dataward:migrate", "the migrations")


def _finished(entry: Applied, started: float) -> Applied:
    return _with(entry, duration_ms=int((time.monotonic() - started) * 1000))


def _with(entry: Applied, **changes) -> Applied:
    values = {**entry.__dict__, **changes}
    return Applied(**values)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _order(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.replace("_", ".").split("."))
