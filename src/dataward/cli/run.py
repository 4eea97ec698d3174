"""`dataward run [PIPELINE...]`: load pipelines, in dependency order."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dataward.cli.errors import is_terminal, report_errors, stderr
from dataward.errors import DatawardError, ExitCode
from dataward.project.config import load_project

if TYPE_CHECKING:
    from dataward.pipeline.run import RunOutcome

console = Console(highlight=False, soft_wrap=True)

PROJECT_OPTION = typer.Option(
    None, "--project", "-p", help="The project directory (default: found from here upwards)."
)
WAREHOUSE_OPTION = typer.Option(
    None,
    "--warehouse",
    help="Warehouse URL, overriding DATAWARD_WAREHOUSE and dataward.toml.",
)


@report_errors
def run(
    pipelines: list[str] = typer.Argument(None, help="Pipelines to run (default: all)."),
    partition: str | None = typer.Option(
        None, "--partition", help="Load only the rows of this partition value."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Do everything up to VERIFY, then roll back and record nothing."
    ),
    recheck: bool = typer.Option(
        False,
        "--recheck",
        help="Compare every row even when the input is the one the last run loaded into an "
        "untouched table (repairs a table edited outside dataward).",
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Extract, validate, transform, load, verify; exit 1 when a run fails."""
    # Imported when the command runs: `dataward --help` and `migrate lint` start without polars.
    from dataward.pipeline.order import dependency_order

    project = load_project(project_dir, warehouse)
    chosen = (
        [project.pipeline(name) for name in pipelines]
        if pipelines
        else list(project.pipelines.values())
    )
    if not chosen:
        console.print("no pipelines in this project (add one under pipelines/)")
        raise typer.Exit(int(ExitCode.USAGE))
    reports: list[dict] = []
    worst = ExitCode.OK
    for spec in dependency_order(chosen):
        # One pipeline's failure never keeps the others from running; the exit code is
        # the worst of them (4 lock held > 3 infrastructure > 2 usage > 1 failed run).
        try:
            outcome = _run_one(project, spec, dry_run, partition, recheck)
        except DatawardError as exc:
            stderr.print(f"[bold red]error[/]: {escape(spec.name)}: {escape(str(exc))}")
            reports.append(
                {
                    "pipeline": spec.name,
                    # 1: the run itself failed (it is in the ledger); else it never started.
                    "status": "failed" if exc.exit_code == ExitCode.CHECKS_FAILED else "error",
                    "reason": str(exc),
                    "exit_code": int(exc.exit_code),
                }
            )
            worst = max(worst, exc.exit_code)
            continue
        reports.append(outcome.record.to_json())
        if not outcome.ok:
            worst = max(worst, ExitCode.CHECKS_FAILED)
        if output == "text":
            _print(outcome)
    if output == "json":
        sys.stdout.write(json.dumps(reports, indent=2) + "\n")
    raise typer.Exit(int(worst))


def _run_one(project, spec, dry_run, partition, recheck) -> RunOutcome:
    from dataward.pipeline.run import run_pipeline  # polars, the warehouses: only to run

    if not is_terminal():
        return run_pipeline(
            project, spec, dry_run=dry_run, partition_value=partition, recheck=recheck
        )
    with Progress(
        TextColumn(f"[bold]{escape(spec.name)}[/]"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(spec.name, total=None)
        return run_pipeline(
            project,
            spec,
            dry_run=dry_run,
            partition_value=partition,
            recheck=recheck,
            progress=lambda rows: bar.advance(task, rows),
        )


def _print(outcome: RunOutcome) -> None:
    record = outcome.record
    c = record.counts
    colour = "green" if outcome.ok else "red"
    console.print(
        f"[bold]{escape(record.pipeline)}[/] → {escape(record.target_table)} "
        f"([{colour}]{record.status}[/], run {record.run_id}, {record.mode})"
    )
    console.print(
        f"  extracted {c.extracted:,} · rejected {c.rejected:,} · duplicates dropped "
        f"{c.duplicates_dropped:,} · inserted {c.inserted:,} · updated {c.updated:,} · "
        f"unchanged {c.unchanged:,}" + (f" · deleted {c.deleted:,}" if c.deleted else "")
    )
    if record.reason:
        console.print(f"  [red]reason[/]: {escape(record.reason)}")
    for warning in record.warnings:
        console.print(f"  [yellow]warning[/]: {escape(warning)}")
    for example in outcome.examples:
        reasons = "; ".join(r.get("message", "") for r in example["reasons"])
        where = f"{example['source']}:{example['line'] or example['row']}"
        console.print(f"  [dim]rejected[/] {escape(where)}: {escape(reasons)}")
    if c.rejected > len(outcome.examples) and outcome.examples:
        console.print(f"  … see all with: dataward rejects {record.run_id}")


@report_errors
def init(
    directory: Path = typer.Argument(Path("."), help="Where to create the project."),
    name: str | None = typer.Option(None, help="Project name (default: the directory's)."),
) -> None:
    """Scaffold a project: dataward.toml, contracts/, pipelines/, migrations/, sample data."""
    from dataward.project.init import init_project

    written = init_project(directory, name)
    for path in written:
        console.print(f"  created {escape(str(path))}")
    console.print(f"next: cd {escape(str(directory))} && dataward run")
