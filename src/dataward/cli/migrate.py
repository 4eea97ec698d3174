"""`dataward migrate new|up|down|status|resolve`: schema migrations, applied and recorded."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dataward.cli.errors import report_errors, stderr
from dataward.cli.migrate_lint import lint
from dataward.cli.run import PROJECT_OPTION, WAREHOUSE_OPTION
from dataward.errors import UsageError
from dataward.project.config import load_project

# The runner and the warehouses (duckdb, pyarrow, sqlglot) are imported when a command
# runs: `dataward --help` and `migrate lint` start without them.
if TYPE_CHECKING:
    from dataward.migrate import runner
    from dataward.project.config import Project

app = typer.Typer(
    help="Schema migrations: write them, lint them, apply and undo them.", no_args_is_help=True
)
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
DIR_OPTION = typer.Option(None, "--dir", help="The migrations directory (default: migrations/).")
LOCK_TIMEOUT_OPTION = typer.Option(
    5.0, "--lock-timeout", help="Seconds a statement may wait for a lock before a retry."
)

_UP = """-- {name}: up. Runs in one transaction with its ledger row (add
-- `{marker}` on a line of its own for what cannot, like CREATE INDEX CONCURRENTLY).
-- dataward sets lock_timeout before it runs; `dataward migrate lint` checks it first.

"""
_DOWN = """-- {name}: down. Undoes exactly what the up did (`dataward migrate test` checks it).

"""


def _directory(project: Project, given: Path | None) -> Path:
    return given or project.root / "migrations"


@report_errors
def new(
    name: str = typer.Argument(..., help="What the migration does, e.g. add_orders_currency."),
    from_contract: Path | None = typer.Option(
        None,
        "--from-contract",
        help="Write what brings the live table to this contract (direct DDL, or a plan).",
    ),
    table: str | None = typer.Option(None, "--table", help="The contract's table, if several."),
    directory: Path | None = DIR_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Write <timestamp>_<name>.up.sql and .down.sql (empty, or from a contract)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", name):
        raise UsageError(f"a migration name is lower-case letters, digits and _, got {name!r}")
    from dataward.migrate.files import NO_TRANSACTION

    project = load_project(project_dir, warehouse)
    if from_contract is not None:
        _from_contract(project, from_contract, table, name, _directory(project, directory))
        return
    target = _directory(project, directory)
    target.mkdir(parents=True, exist_ok=True)
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    while any(target.glob(f"{version}_*")):
        version = str(int(version) + 1)  # two in one second keep their order
    up = target / f"{version}_{name}.up.sql"
    down = target / f"{version}_{name}.down.sql"
    up.write_text(_UP.format(name=name, marker=NO_TRANSACTION))
    down.write_text(_DOWN.format(name=name))
    console.print(f"{escape(str(up))}\n{escape(str(down))}")


def _from_contract(
    project: Project, path: Path, table: str | None, title: str, directory: Path
) -> None:
    from dataward.contract.loader import load_contract
    from dataward.migrate import plan as plans
    from dataward.migrate.from_contract import migration_for
    from dataward.warehouse import project_warehouse

    contract = load_contract(path)
    try:
        chosen = contract.table(table)
    except KeyError:
        names = ", ".join(t.name for t in contract.tables)
        raise UsageError(f"pick the contract's table with --table (one of: {names})") from None
    wh = project_warehouse(project)
    try:
        wh.open()
        outcome = migration_for(wh, contract, chosen, title)
    finally:
        wh.close()
    if not outcome.steps:
        console.print(
            f"{escape(chosen.storage_name)} already matches the contract: nothing to write"
        )
    for path_written in plans.write(outcome.steps, directory):
        console.print(escape(str(path_written)))
    for note in outcome.notes:
        stderr.print(f"note: {escape(note)}")


@report_errors
def up(
    to: str | None = typer.Option(None, "--to", help="Stop after this version."),
    directory: Path | None = DIR_OPTION,
    lock_timeout: float = LOCK_TIMEOUT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Apply the pending migrations, oldest first, each in its own transaction."""
    from dataward.migrate import runner
    from dataward.migrate.files import discover
    from dataward.warehouse import project_warehouse

    project = load_project(project_dir, warehouse)
    migrations = discover(_directory(project, directory))
    wh = project_warehouse(project)
    try:
        done = runner.up(wh, migrations, to=to, settings=_settings(lock_timeout), say=_say)
    finally:
        wh.close()
    console.print(f"{len(done)} migration(s) applied" if done else "nothing to apply")


@report_errors
def down(
    steps: int = typer.Option(1, "--steps", help="How many of the newest to undo."),
    directory: Path | None = DIR_OPTION,
    lock_timeout: float = LOCK_TIMEOUT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Undo the newest applied migrations (their down scripts), newest first."""
    from dataward.migrate import runner
    from dataward.migrate.files import discover
    from dataward.warehouse import project_warehouse

    project = load_project(project_dir, warehouse)
    migrations = discover(_directory(project, directory))
    wh = project_warehouse(project)
    try:
        undone = runner.down(
            wh, migrations, steps=steps, settings=_settings(lock_timeout), say=_say
        )
    finally:
        wh.close()
    console.print(f"{len(undone)} migration(s) undone" if undone else "nothing to undo")


@report_errors
def status(
    output: str = typer.Option("text", "--format", help="text or json."),
    directory: Path | None = DIR_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Each migration: applied, pending, dirty, changed since applied, or missing its file."""
    from dataward.migrate import runner
    from dataward.migrate.files import discover
    from dataward.warehouse import project_warehouse

    if output not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {output!r}")
    project = load_project(project_dir, warehouse)
    migrations = discover(_directory(project, directory))
    wh = project_warehouse(project)
    try:
        wh.open()
        wh.begin()
        try:
            lines = runner.status(wh, migrations)
            wh.commit()
        except BaseException:
            wh.rollback()
            raise
    finally:
        wh.close()
    if output == "json":
        sys.stdout.write(json.dumps([_as_json(line) for line in lines], indent=2) + "\n")
        return
    table = Table(show_edge=False)
    for heading in ("version", "name", "state", "applied (UTC)", "ms", "by"):
        table.add_column(heading)
    for line in lines:
        entry = line.applied
        table.add_row(
            line.version,
            escape(line.name),
            _STATE_STYLE.get(line.state, line.state),
            entry.applied_at.strftime("%Y-%m-%d %H:%M:%S") if entry else "",
            str(entry.duration_ms) if entry else "",
            escape(entry.applied_by) if entry else "",
        )
    console.print(table)
    for line in lines:
        if line.state in _ADVICE:
            advice = _ADVICE[line.state].replace("VERSION", line.version)
            stderr.print(f"{line.version}_{escape(line.name)}: {escape(advice)}")


@report_errors
def resolve(
    version: str = typer.Argument(..., help="The dirty migration's version."),
    applied: bool = typer.Option(
        None, "--applied/--undone", help="What state the database is in now."
    ),
    directory: Path | None = DIR_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Say what a migration that failed outside a transaction left: applied or undone."""
    from dataward.migrate import runner
    from dataward.migrate.files import discover
    from dataward.warehouse import project_warehouse

    if applied is None:
        raise UsageError("say --applied or --undone: what state the database is in now")
    project = load_project(project_dir, warehouse)
    migrations = discover(_directory(project, directory))
    wh = project_warehouse(project)
    try:
        runner.resolve(wh, migrations, version, applied)
    finally:
        wh.close()
    console.print(f"{version} marked {'applied' if applied else 'undone'}")


@report_errors
def test(
    path: Path | None = typer.Argument(
        None, help="The migrations directory (default: migrations/)."
    ),
    database: str | None = typer.Option(
        None,
        "--database",
        help="Where to make the scratch database (a server's URL; default: the warehouse's).",
    ),
    rows: int = typer.Option(0, "--rows", help="Fill every table with N synthetic rows first."),
    estimate_rows: int | None = typer.Option(
        None, "--estimate-rows", help="Project each up's duration to this many rows."
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
    project_dir: Path | None = PROJECT_OPTION,
) -> None:
    """Up, down and up again for every migration on a scratch database, catalog compared
    at each step; with --rows, timed on data with the locks it takes watched."""
    from dataward.migrate.files import discover
    from dataward.migrate.testing import scratch_database, test_migrations

    if output not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {output!r}")
    if rows < 0:
        raise UsageError(f"--rows must be 0 or more, got {rows}")
    project = None if database and path else load_project(project_dir)
    directory = path or _directory(project, None)  # type: ignore[arg-type]
    migrations = discover(directory)
    url = database or (project.warehouse_url if project else "")
    with scratch_database(url if "://" in url else "duckdb:///scratch") as (wh, server_url):
        results = test_migrations(
            wh,
            migrations,
            rows=rows,
            estimate_rows=estimate_rows,
            server_url=server_url,
            say=_say,
        )
    if output == "json":
        sys.stdout.write(json.dumps([_tested_json(t) for t in results], indent=2) + "\n")
    else:
        for tested in results:
            _print_tested(tested)
    if not all(t.ok for t in results):
        raise typer.Exit(1)


def _print_tested(tested) -> None:
    verdict = "[green]ok[/]" if tested.ok else "[bold red]FAILED[/]"
    timing = ""
    if tested.seconds is not None and tested.rows:
        timing = f"  up {tested.seconds:.3f} s at {tested.rows:,} rows"
        if tested.estimate_seconds is not None:
            timing += f" (about {tested.estimate_seconds:,.1f} s at the estimate's rows)"
    console.print(f"{escape(str(tested.migration))}  {verdict}{timing}")
    for held in tested.locks:
        console.print(
            f"  lock {escape(held.relation)}: {held.mode} for {held.seconds:.3f} s ({held.blocks})"
        )
    for table in tested.rewritten:
        console.print(f"  rewrote {escape(table)} (a new storage file: every row copied)")
    for line in tested.lossy:
        console.print(f"  [bold red]lossy[/]: {escape(line)}")
    for note in tested.notes:
        console.print(f"  note: {escape(note)}")
    for problem in tested.problems:
        console.print(f"  [bold red]problem[/]: {escape(problem)}")


def _tested_json(tested) -> dict:
    return {
        "version": tested.migration.version,
        "name": tested.migration.name,
        "ok": tested.ok,
        "problems": tested.problems,
        "rows": tested.rows,
        "seconds": tested.seconds,
        "estimate_seconds": tested.estimate_seconds,
        "locks": [
            {"relation": h.relation, "mode": h.mode, "seconds": h.seconds} for h in tested.locks
        ],
        "rewritten": tested.rewritten,
        "lossy": tested.lossy,
        "notes": tested.notes,
    }


PLANS = (
    "change-type",
    "rename-column",
    "add-not-null-column",
    "set-not-null",
    "add-foreign-key",
    "add-index",
    "add-unique",
)


@report_errors
def plan(
    change: str = typer.Argument(..., help=f"One of: {', '.join(PLANS)}."),
    arguments: list[str] = typer.Argument(
        ...,
        help="change-type TABLE.COLUMN TYPE · rename-column TABLE.COLUMN NEW · "
        "add-not-null-column TABLE.COLUMN TYPE DEFAULT · set-not-null TABLE.COLUMN · "
        "add-foreign-key TABLE.COLUMN "
        "PARENT.COLUMN · add-index TABLE.COLUMN[,COLUMN] · add-unique TABLE.COLUMN[,COLUMN]",
    ),
    key: str | None = typer.Option(
        None, "--key", help="The table's key column for batched backfills (default: its PK)."
    ),
    directory: Path | None = DIR_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Write the expand/contract migrations of a change, each with its down."""
    from dataward.migrate import plan as plans

    if change not in PLANS:
        raise UsageError(f"unknown change {change!r}: one of {', '.join(PLANS)}")
    project = load_project(project_dir, warehouse)
    if not project.warehouse_url.startswith(("postgresql", "postgres")):
        raise UsageError(
            "plans are for PostgreSQL, where locks make one-step changes dangerous; a DuckDB "
            "file has one writer: make the change in one migration"
        )
    expected = {"change-type": 2, "rename-column": 2, "add-not-null-column": 3}.get(change, 1)
    # set-not-null, add-index and add-unique name one table and its columns.
    if change == "add-foreign-key":
        expected = 2
    if len(arguments) != expected:
        raise UsageError(f"{change} takes {expected} argument(s), got {len(arguments)}")
    table, columns = _table_columns(arguments[0])
    if change in ("add-index", "add-unique", "add-foreign-key"):
        if change == "add-foreign-key":
            parent, parent_columns = _table_columns(arguments[1])
            steps = plans.add_foreign_key(table, columns, parent, parent_columns)
        elif change == "add-unique":
            steps = plans.add_unique(table, columns)
        else:
            steps = plans.add_index(table, columns)
    else:
        column = _live_column(project, table, columns[0], key)
        if change == "change-type":
            steps = plans.change_type(column, arguments[1])
        elif change == "set-not-null":
            steps = plans.set_not_null(column)
        elif change == "rename-column":
            steps = plans.change_type(column, column.type, rename_to=arguments[1])
        else:
            steps = plans.add_not_null_column(
                table, columns[0], arguments[1], arguments[2], column.key
            )
    written = plans.write(steps, _directory(project, directory))
    for path in written:
        console.print(escape(str(path)))


def _table_columns(text: str) -> tuple[str, list[str]]:
    table, dot, columns = text.partition(".")
    if not dot or not table or not columns:
        raise UsageError(f"expected TABLE.COLUMN (or TABLE.COLUMN,COLUMN), got {text!r}")
    return table, [c for c in columns.split(",") if c]


def _live_column(project: Project, table: str, column: str, key: str | None):
    """The column as the warehouse has it: its type, NOT NULL, and the table's key."""
    from dataward.migrate.plan import Column
    from dataward.warehouse import project_warehouse

    wh = project_warehouse(project)
    try:
        wh.open()
        live = {c.name: c for c in wh.live_columns(table) or []}
        primary = tuple(wh.primary_key(table))
    finally:
        wh.close()
    if not live:
        raise UsageError(f"table {table!r} is not in the warehouse {wh.display_url}")
    if column not in live and key is None:
        # add-not-null-column: the column is new; only the key is needed.
        return Column(table, column, "", False, primary)
    found = live.get(column)
    return Column(
        table,
        column,
        found.type if found else "",
        bool(found and not found.nullable),
        (key,) if key else primary,
    )


_STATE_STYLE = {
    "applied": "[green]applied[/]",
    "pending": "pending",
    "dirty": "[bold red]dirty[/]",
    "changed": "[bold red]changed[/]",
    "missing": "[yellow]missing[/]",
}
_ADVICE = {
    "dirty": "failed outside a transaction; finish or undo it by hand, then "
    "`dataward migrate resolve VERSION --applied` (or --undone)",
    "changed": "edited after it was applied; restore the file and write a new migration",
    "missing": "applied, but its file is gone; restore it (its down is needed to undo it)",
}


def _as_json(line: runner.Line) -> dict:
    entry = line.applied
    return {
        "version": line.version,
        "name": line.name,
        "state": line.state,
        "applied_at": entry.applied_at.isoformat() if entry else None,
        "duration_ms": entry.duration_ms if entry else None,
        "applied_by": entry.applied_by if entry else None,
        "file": str(line.migration.up.file) if line.migration else None,
    }


def _settings(lock_timeout: float) -> runner.Settings:
    if lock_timeout <= 0:
        raise UsageError(f"--lock-timeout must be a positive number of seconds, got {lock_timeout}")
    from dataward.migrate import runner

    return runner.Settings(lock_timeout_seconds=lock_timeout)


def _say(text: str) -> None:
    stderr.print(escape(text))


for _name, _command in (
    ("new", new),
    ("up", up),
    ("down", down),
    ("status", status),
    ("resolve", resolve),
    ("test", test),
    ("plan", plan),
    ("lint", lint),
):
    app.command(name=_name)(_command)
