"""`dataward contract infer|diff`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dataward.cli.errors import report_errors
from dataward.errors import ExitCode, UsageError

app = typer.Typer(
    help="Contracts: draft one from data, compare two versions.", no_args_is_help=True
)


@app.command()
@report_errors
def infer(
    data: list[str] = typer.Argument(..., help="Files or globs (CSV, NDJSON or Parquet)."),
    table: str | None = typer.Option(None, help="Table name (default: from the file name)."),
    sample_rows: int | None = typer.Option(
        None, help="Profile only the first N rows (default: all)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the draft here instead of stdout."
    ),
) -> None:
    """Profile data and print a draft ODCS contract for a person to review."""
    if sample_rows is not None and sample_rows < 1:
        raise UsageError("--sample-rows must be at least 1")
    # Imported here: `dataward run` (every scheduled job) need not load the profiler.
    from dataward.contract.infer import infer_contract

    text = infer_contract(data, table_name=table, sample_rows=sample_rows)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        Console(stderr=True).print(f"draft contract written to {escape(str(output))}")


@app.command()
@report_errors
def diff(
    old: Path = typer.Argument(..., help="The contract as it was."),
    new: Path = typer.Argument(..., help="The contract as proposed."),
    mode: str = typer.Option(
        "backward",
        help="backward (new readers, old data), forward (old readers, new data) or full.",
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Classify every change as breaking or not; exit 1 when one breaks the mode."""
    if output not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {output!r}")
    # Imported when the command runs: `dataward --help` and `migrate lint` start without
    # the ODCS model, pyarrow and polars.
    from dataward.contract.diff import breaking_changes, diff_contracts
    from dataward.contract.loader import load_contract

    changes = diff_contracts(load_contract(old), load_contract(new), mode)
    breaking = breaking_changes(changes)
    if output == "json":
        report = {
            "mode": mode,
            "compatible": not breaking,
            "changes": [c.to_dict() for c in changes],
        }
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        console = Console(highlight=False)
        if not changes:
            console.print("no changes that affect which rows are accepted")
        else:
            table = Table(show_edge=False, header_style="bold")
            for name in ("", "table", "column", "change", "breaks"):
                table.add_column(name)
            for change in changes:
                mark = "[red]BREAKING[/]" if change.breaking else "[green]ok[/]"
                table.add_row(
                    mark,
                    escape(change.table),
                    escape(change.column or ""),
                    escape(change.description),
                    ", ".join(m.value for m in change.breaks) or "-",
                )
            console.print(table)
        verdict = "not compatible" if breaking else "compatible"
        console.print(
            f"{len(breaking)} of {len(changes)} change(s) break {mode} compatibility: {verdict}"
        )
    raise typer.Exit(int(ExitCode.CHECKS_FAILED if breaking else ExitCode.OK))
