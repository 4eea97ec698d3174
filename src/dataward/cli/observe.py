"""`dataward status` and `dataward check`: is every table fresh, and is anything odd?

`status` only reads: the last run, freshness measured now, and the anomalies the last
look stored. `check` looks again (detects, stores, alerts) without running a pipeline,
which is what a cron job between loads calls. Both exit 1 when something is wrong, so
cron and CI can gate on them.
"""

from __future__ import annotations

import json
import sys
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

if TYPE_CHECKING:
    from dataward.observe.freshness import Freshness
    from dataward.observe.store import Anomaly
    from dataward.pipeline.ledger import RunRecord
    from dataward.project.config import PipelineSpec, Project

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
TABLES_ARGUMENT = typer.Argument(
    None, metavar="[TABLE]...", help="Tables (or pipeline names); default: all."
)
FORMAT_OPTION = typer.Option("text", "--format", help="text or json.")
NO_HISTORY = "no history yet: no pipeline has run in this warehouse (dataward run loads one)"


@report_errors
def status(
    tables: list[str] = TABLES_ARGUMENT,
    output: str = FORMAT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Per table: the last run, rows loaded and rejected, freshness against the SLA and
    open anomalies. Exit 1 when an SLA is breached or an anomaly is open."""
    from dataward.observe.freshness import pipeline_freshness
    from dataward.observe.store import ensure_observe_tables, open_anomalies
    from dataward.pipeline import ledger
    from dataward.warehouse import project_warehouse

    _check_format(output)
    project = load_project(project_dir, warehouse)
    specs = _selected(project, tables)
    wh = project_warehouse(project)
    rows: list[dict[str, Any]] = []
    try:
        wh.open()
        if not ledger.ledger_exists(wh):
            _say_no_history(output)
            return
        wh.begin()
        ensure_observe_tables(wh)  # a ledger from before observe/ gains its tables
        wh.commit()
        anomalies = open_anomalies(wh)
        for spec in specs:
            fresh = pipeline_freshness(project, spec, wh)
            runs = ledger.read_runs(wh, "WHERE pipeline = ? AND kind = 'load'", [spec.name])
            mine = [a for a in anomalies if a.target_table == fresh.table]
            rows.append(_status_row(spec, runs[0] if runs else None, fresh, mine))
    finally:
        wh.close()
    if output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        _print_status(rows)
    if any(r["sla_breached"] or r["open_anomalies"] for r in rows):
        raise typer.Exit(int(ExitCode.CHECKS_FAILED))


@report_errors
def check(
    tables: list[str] = TABLES_ARGUMENT,
    output: str = FORMAT_OPTION,
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Look for anomalies now, without running a pipeline: freshness, volume, null rates,
    distinct counts, rejects per check, schema drift. Stores what it finds, alerts once
    per incident (and when one clears). Exit 1 when an anomaly is open."""
    from dataward.observe.watch import watch
    from dataward.warehouse import project_warehouse

    _check_format(output)
    project = load_project(project_dir, warehouse)
    specs = _selected(project, tables)
    wh = project_warehouse(project)
    try:
        result = watch(project, wh, specs)
    finally:
        wh.close()
    if not result.has_history:
        _say_no_history(output)
        return
    found = [
        {
            "pipeline": h.pipeline,
            "table": h.table,
            "anomalies": [_anomaly_json(a) for a in h.anomalies],
            "notes": h.notes,
        }
        for h in result.health
    ]
    if output == "json":
        document = {
            "pipelines": found,
            "opened": len(result.opened),
            "resolved": len(result.resolved),
            "deliveries_failed": sum(1 for d in result.deliveries if not d.ok),
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        for entry in found:
            mark = "[red]✗[/]" if entry["anomalies"] else "[green]✓[/]"
            console.print(f"{mark} {escape(entry['pipeline'])} ({escape(entry['table'])})")
            for a in entry["anomalies"]:
                console.print(f"    {_severity(a['severity'])} {escape(a['message'])}")
            for note in entry["notes"]:
                console.print(f"    [dim]{escape(note)}[/]")
        console.print(f"{len(result.opened)} incident(s) opened, {len(result.resolved)} resolved")
    if result.open_anomalies:
        raise typer.Exit(int(ExitCode.CHECKS_FAILED))


def _selected(project: Project, names: list[str] | None) -> list[PipelineSpec]:
    from dataward.contract.loader import load_contract

    specs = list(project.pipelines.values())
    if not names:
        return specs
    chosen: list[PipelineSpec] = []
    for name in names:
        matches = [
            s
            for s in specs
            if s.name == name or load_contract(s.contract).table(s.table).storage_name == name
        ]
        if not matches:
            known = ", ".join(sorted(project.pipelines)) or "none"
            raise UsageError(f"no table or pipeline named {name!r} (pipelines: {known})")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def _status_row(
    spec: PipelineSpec, last: RunRecord | None, fresh: Freshness, anomalies: list[Anomaly]
) -> dict[str, Any]:
    def seconds(delta: Any) -> float | None:
        return delta.total_seconds() if delta is not None else None

    duration = (
        (last.finished_at - last.started_at).total_seconds() if last and last.finished_at else None
    )
    return {
        "pipeline": spec.name,
        "table": fresh.table,
        "last_run": None
        if last is None
        else {
            "run_id": last.run_id,
            "status": last.status,
            "started_at": last.started_at.isoformat(),
            "duration_seconds": duration,
            "rows_loaded": last.counts.inserted + last.counts.updated,
            "rows_rejected": last.counts.rejected,
        },
        "time_column": fresh.time_column,
        "newest_row_at": fresh.newest_row_at.isoformat() if fresh.newest_row_at else None,
        "newest_row_age_seconds": seconds(fresh.newest_row_age),
        "last_success_at": fresh.last_success_at.isoformat() if fresh.last_success_at else None,
        "last_success_age_seconds": seconds(fresh.last_success_age),
        "sla_seconds": seconds(fresh.sla),
        "sla_breached": fresh.breached,
        "future_rows": fresh.future_rows,
        "open_anomalies": [_anomaly_json(a) for a in anomalies],
    }


def _anomaly_json(a: Anomaly) -> dict[str, Any]:
    return {
        "detector": a.detector,
        "metric": a.metric,
        "subject": a.subject,
        "value": a.value,
        "expected_low": a.expected_low,
        "expected_high": a.expected_high,
        "severity": a.severity,
        "message": a.message,
        "observed_at": a.observed_at.isoformat(),
        "run_id": a.run_id,
    }


def _print_status(rows: list[dict[str, Any]]) -> None:
    from datetime import timedelta

    from dataward.observe.freshness import describe_age

    def age(value: float | None) -> str:
        return describe_age(timedelta(seconds=value)) if value is not None else "-"

    table = RichTable(show_edge=False)
    for name, right in (
        ("table", False),
        ("last run", False),
        ("when (UTC)", False),
        ("s", True),
        ("loaded", True),
        ("rejected", True),
        ("newest row", True),
        ("last success", True),
        ("SLA", True),
        ("anomalies", True),
    ):
        table.add_column(name, justify="right" if right else "left")
    for r in rows:
        last = r["last_run"]
        status = last["status"] if last else "never run"
        colour = "green" if last and last["status"] == "succeeded" else "red"
        sla = age(r["sla_seconds"]) if r["sla_seconds"] is not None else "none"
        newest = age(r["newest_row_age_seconds"]) if r["time_column"] else "no time column"
        table.add_row(
            escape(r["table"]),
            f"[{colour}]{escape(status)}[/]",
            last["started_at"][:19].replace("T", " ") if last else "-",
            f"{last['duration_seconds']:.1f}" if last and last["duration_seconds"] else "-",
            f"{last['rows_loaded']:,}" if last else "-",
            f"{last['rows_rejected']:,}" if last else "-",
            f"[red]{newest}[/]" if r["sla_breached"] and r["time_column"] else newest,
            age(r["last_success_age_seconds"]),
            f"[red]{sla} breached[/]" if r["sla_breached"] else sla,
            f"[red]{len(r['open_anomalies'])}[/]" if r["open_anomalies"] else "0",
        )
    console.print(table)
    for r in rows:
        for a in r["open_anomalies"]:
            console.print(f"{_severity(a['severity'])} {escape(a['message'])}")
        if r["future_rows"]:
            console.print(
                f"{_severity('warning')} {escape(r['table'])}: {r['future_rows']:,} row(s) "
                "dated in the future"
            )


def _severity(level: str) -> str:
    colour = "red" if level == "error" else "yellow"
    return f"[{colour}]{escape('[' + level + ']')}[/]"


def _say_no_history(output: str) -> None:
    if output == "json":
        sys.stdout.write(json.dumps({"history": False, "message": NO_HISTORY}) + "\n")
    else:
        console.print(NO_HISTORY)


def _check_format(output: str) -> None:
    if output not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {output!r}")
