"""`dataward runs`, `dataward rejects`, `dataward trace`, `dataward revert`: the ledger."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from dataward.cli.errors import report_errors
from dataward.cli.run import PROJECT_OPTION, WAREHOUSE_OPTION
from dataward.errors import ExitCode, UsageError
from dataward.project.config import load_project

# The ledger, the warehouses and the pipeline are imported when a command runs:
# `dataward --help` and `migrate lint` start without polars, duckdb or pyarrow.
if TYPE_CHECKING:
    from dataward.project.config import Project
    from dataward.warehouse import Warehouse

# Wide when piped, so a listing is never cut to 80 columns.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")


@contextmanager
def _ledger(project: Project) -> Iterator[Warehouse]:
    from dataward.pipeline import ledger
    from dataward.warehouse import project_warehouse

    wh = project_warehouse(project)
    try:
        wh.open()
        if not ledger.ledger_exists(wh):
            raise UsageError(
                f"the warehouse {wh.display_url} has no dataward ledger yet: run a pipeline first"
            )
        # A ledger written by an older dataward gains the columns this one reads.
        wh.begin()
        ledger.ensure_ledger(wh)
        wh.commit()
        yield wh
    finally:
        wh.close()


def _check_format(output: str) -> None:
    if output not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {output!r}")


@report_errors
def runs(
    pipeline: str | None = typer.Option(None, "--pipeline", help="Only this pipeline's runs."),
    limit: int = typer.Option(50, help="How many runs, newest first."),
    output: str = FORMAT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """List runs, newest first, with status, counts, duration and input fingerprint."""
    from dataward.pipeline import ledger

    _check_format(output)
    project = load_project(project_dir, warehouse)
    with _ledger(project) as wh:
        where, params = ("WHERE pipeline = ?", [pipeline]) if pipeline else ("", [])
        found = ledger.read_runs(wh, where, params)[:limit]
    if output == "json":
        sys.stdout.write(json.dumps([r.to_json() for r in found], indent=2) + "\n")
        return
    table = RichTable(show_edge=False)
    for name in (
        "run",
        "pipeline",
        "status",
        "started (UTC)",
        "s",
        "extracted",
        "rejected",
        "dups",
        "inserted",
        "updated",
        "unchanged",
        "input",
    ):
        table.add_column(
            name,
            justify="right"
            if name in ("s", "extracted", "rejected", "dups", "inserted", "updated", "unchanged")
            else "left",
        )
    for r in found:
        seconds = f"{(r.finished_at - r.started_at).total_seconds():.1f}" if r.finished_at else "-"
        c = r.counts
        status = r.status if r.kind == "load" else f"{r.status} ({r.kind})"
        table.add_row(
            r.run_id,
            r.pipeline,
            status,
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            seconds,
            f"{c.extracted:,}",
            f"{c.rejected:,}",
            f"{c.duplicates_dropped:,}",
            f"{c.inserted:,}",
            f"{c.updated:,}",
            f"{c.unchanged:,}",
            (r.input_fingerprint or "-")[:12],
        )
    console.print(table)


@report_errors
def rejects(
    words: list[str] = typer.Argument(
        ..., metavar="RUN_ID | replay RUN_ID", help="A run id, or `replay` and a run id."
    ),
    limit: int = typer.Option(100, help="How many rows to list."),
    output: str = FORMAT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """List a run's rejected rows with source, line and reasons; `rejects replay RUN_ID`
    validates them against the current contract and loads those that pass, as a new run."""
    if words[0] == "replay":
        if len(words) != 2:
            raise UsageError("usage: dataward rejects replay RUN_ID")
        _replay(words[1], project_dir, warehouse)
        return
    if len(words) != 1:
        raise UsageError("usage: dataward rejects RUN_ID (or: dataward rejects replay RUN_ID)")
    run_id = words[0]
    _check_format(output)
    project = load_project(project_dir, warehouse)
    with _ledger(project) as wh:
        rows = _reject_rows(wh, run_id)
    if output == "json":
        sys.stdout.write(json.dumps(rows[:limit], indent=2, default=str) + "\n")
        return
    console.print(f"{len(rows):,} rejected row(s) in run {escape(run_id)}")
    for row in rows[:limit]:
        where = f"{row['source']}:{row['line'] or row['row']}"
        reasons = "; ".join(r.get("message", "") for r in row["reasons"])
        console.print(f"  {escape(where)} ({row['stage']}) {escape(reasons)}")


def _reject_rows(wh: Warehouse, run_id: str) -> list[dict[str, Any]]:
    from dataward.pipeline import ledger
    from dataward.warehouse.base import LEDGER_SCHEMA

    if not ledger.read_runs(wh, "WHERE run_id = ?", [run_id]):
        raise UsageError(f"no run {run_id!r} in the ledger (see `dataward runs`)")
    return [
        {
            "source": source,
            "row": row,
            "line": line,
            "stage": stage,
            "record": json.loads(record),
            "reasons": json.loads(reasons),
        }
        for source, row, line, stage, record, reasons in wh.rows(
            f"SELECT source, source_row, source_line, stage, record, reasons FROM "
            f"{LEDGER_SCHEMA}.rejects WHERE run_id = ? ORDER BY source, source_row",
            [run_id],
        )
    ]


def _replay(run_id: str, project_dir: Path | None, warehouse: str | None) -> None:
    """Validate a run's rejects against the current contract; load those that pass, as a
    new run (the others are rejected again, with today's reasons)."""
    from dataward.pipeline import ledger
    from dataward.pipeline.run import run_pipeline

    project = load_project(project_dir, warehouse)
    with _ledger(project) as wh:
        found = ledger.read_runs(wh, "WHERE run_id = ?", [run_id])
        if not found:
            raise UsageError(f"no run {run_id!r} in the ledger (see `dataward runs`)")
        records = _reject_rows(wh, run_id)
    spec = project.pipeline(found[0].pipeline)
    if not records:
        console.print(f"run {run_id} has no rejects: nothing to replay")
        return
    outcome = run_pipeline(project, spec, replay=records)
    c = outcome.record.counts
    console.print(
        f"replayed {len(records):,} reject(s) of {run_id} as run {outcome.record.run_id} "
        f"({outcome.record.status}): inserted {c.inserted:,}, updated {c.updated:,}, "
        f"unchanged {c.unchanged:,}, rejected again {c.rejected:,}"
    )
    if outcome.record.reason:
        console.print(f"  reason: {escape(outcome.record.reason)}")
    raise typer.Exit(int(ExitCode.OK if outcome.ok else ExitCode.CHECKS_FAILED))


@report_errors
def trace(
    table: str = typer.Argument(..., help="The target table."),
    key: list[str] = typer.Argument(..., help="The row's primary key value(s), in key order."),
    output: str = FORMAT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """A row's current values, the source file and record it came from, and its history."""
    from dataward.contract.loader import load_contract
    from dataward.pipeline.trace import trace_row

    _check_format(output)
    project = load_project(project_dir, warehouse)
    contract_table = None
    for spec in project.pipelines.values():
        candidate = load_contract(spec.contract).table(spec.table)
        if candidate.storage_name == table:
            contract_table = candidate
            break
    if contract_table is None:
        raise UsageError(f"no pipeline of this project loads a table named {table!r}")
    with _ledger(project) as wh:
        found = trace_row(wh, contract_table, key)
    if output == "json":
        sys.stdout.write(json.dumps(found.to_json(), indent=2, default=str) + "\n")
        return
    if found.current is None:
        console.print(f"{escape(table)} {escape(str(found.key))}: not in the table now")
    else:
        row = found.current
        console.print(f"[bold]{escape(table)}[/] {escape(str(found.key))}")
        for name, value in row.items():
            if not name.startswith("_dw_"):
                console.print(f"  {escape(name)} = {escape(repr(value))}")
        console.print(
            f"  from {escape(str(row['_dw_source']))} record {row['_dw_source_row']}, "
            f"run {row['_dw_run_id']}, loaded {row['_dw_loaded_at']}"
        )
    if not found.history:
        console.print("  history: loaded once, never changed since")
    for change in found.history:
        before = {k: v for k, v in change["before"].items() if not k.startswith("_dw_")}
        console.print(
            f"  {change['at']} run {change['run_id']} ({change['kind']}) {change['op']}: "
            f"before {escape(json.dumps(before))}"
        )


@report_errors
def revert(
    run_id: str = typer.Argument(..., help="The run to undo."),
    cascade: bool = typer.Option(
        False, "--cascade", help="Also revert later runs that changed the same rows, newest first."
    ),
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Restore the tables a run touched to their state before it, as a new run."""
    from dataward.pipeline.revert import revert_run

    project = load_project(project_dir, warehouse)
    outcome = revert_run(project, run_id, cascade=cascade)
    c = outcome.record.counts
    console.print(
        f"reverted {', '.join(outcome.reverted)} as run {outcome.record.run_id}: "
        f"removed {c.deleted:,} row(s), restored {c.inserted:,}"
    )
