"""`dataward validate DATA... --contract C.yaml`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dataward.cli.errors import is_terminal, report_errors
from dataward.errors import ExitCode, UsageError
from dataward.events import get_logger

if TYPE_CHECKING:
    from dataward.validate import ValidationResult


@report_errors
def validate(
    data: list[str] = typer.Argument(..., help="Files or globs: CSV, NDJSON or Parquet."),
    contract: Path = typer.Option(..., "--contract", "-c", help="The ODCS contract (YAML)."),
    table: str | None = typer.Option(None, help="The contract table (when it has several)."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write every rejected row, with reasons, to this Parquet file."
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
    input_format: str | None = typer.Option(
        None, "--input-format", help="csv, ndjson or parquet (default: from the extension)."
    ),
    delimiter: str | None = typer.Option(None, help="CSV delimiter (default , or tab for .tsv)."),
    null_value: list[str] = typer.Option(
        [], "--null-value", help="A CSV text that means missing, besides the empty field (repeat)."
    ),
    allow_extra_columns: bool = typer.Option(
        False, help="Ignore data columns the contract does not name instead of refusing the file."
    ),
    examples: int = typer.Option(5, help="How many failing rows to show."),
) -> None:
    """Check data files against a contract. Exit 0 all rows pass, 1 checks failed, 2 bad input."""
    if output not in ("text", "json"):
        raise UsageError(f"--format must be text or json, got {output!r}")
    if delimiter is not None and len(delimiter) != 1:
        raise UsageError(f"--delimiter must be one character, got {delimiter!r}")
    # Imported when the command runs: `dataward --help` and `migrate lint` start without polars.
    from dataward.contract.loader import load_contract
    from dataward.sources import expand_paths

    loaded = load_contract(contract)
    files = expand_paths(data, input_format, delimiter, tuple(null_value))
    log = get_logger(command="validate", contract=str(contract))
    log.info("validate.start", files=[f.name for f in files])
    try:
        chosen = loaded.table(table)
    except KeyError:
        names = ", ".join(t.name for t in loaded.tables)
        what = f"no table {table!r} in the contract" if table else "the contract has several tables"
        raise UsageError(f"{what}; pass --table with one of: {names}") from None
    result = _run(loaded, files, chosen.name, rejects, allow_extra_columns, examples, log)
    log.info(
        "validate.finish",
        rows=result.rows,
        rejected=result.rejected,
        flagged=result.flagged,
        ok=result.ok,
    )
    if output == "json":
        sys.stdout.write(json.dumps(result.to_dict(), default=str, indent=2) + "\n")
    else:
        _print(result)
    raise typer.Exit(int(ExitCode.OK if result.ok else ExitCode.CHECKS_FAILED))


def _run(loaded, files, table, rejects, allow_extra_columns, examples, log) -> ValidationResult:
    from dataward.validate import validate_files

    if not is_terminal():
        return validate_files(
            loaded,
            files,
            table=table,
            rejects_path=rejects,
            allow_extra_columns=allow_extra_columns,
            examples=examples,
            progress=lambda rows: log.info("validate.batch", rows=rows),
        )
    with Progress(
        TextColumn("[bold]validate"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("rows", total=None)
        return validate_files(
            loaded,
            files,
            table=table,
            rejects_path=rejects,
            allow_extra_columns=allow_extra_columns,
            examples=examples,
            progress=lambda rows: progress.advance(task, rows),
        )


def _print(result: ValidationResult) -> None:
    # soft_wrap: a long reason stays on one line when piped, so tools can grep it.
    # Piped output has no screen to fit: keep the table wide rather than folding check ids.
    width = None if sys.stdout.isatty() else 160
    console = Console(highlight=False, soft_wrap=True, width=width)
    verdict = "[green]PASS[/]" if result.ok else "[red]FAIL[/]"
    console.print(
        f"{verdict} {escape(result.table)}: {result.rows:,} rows, "
        f"{result.rejected:,} rejected, {result.flagged:,} flagged (warnings)"
    )
    table = Table(show_edge=False, header_style="bold")
    for name in ("check", "severity", "scope", "violations", "measured", "result"):
        table.add_column(
            name,
            justify="right" if name in ("violations", "measured") else "left",
            overflow="fold",  # a check id is never cut: it is what people search for
        )
    for check in result.checks:
        if check.skipped:
            status = f"[yellow]skipped[/]: {escape(check.skipped)}"
        elif check.passed:
            status = "[green]ok[/]"
        else:
            status = "[red]failed[/]" if check.severity == "error" else "[yellow]warning[/]"
        measured = "" if check.measured is None else f"{check.measured:g}"
        table.add_row(
            escape(check.id), check.severity, check.scope, f"{check.violations:,}", measured, status
        )
    console.print(table)
    if result.examples:
        console.print("first failing rows:")
    for example in result.examples:
        line = f":{example['line']}" if example["line"] is not None else ""
        state = "rejected" if example["rejected"] else "flagged"
        console.print(f"  {escape(example['source'])}{line} (row {example['row']}, {state})")
        for why in example["reasons"]:
            shown = f"{why['column']}={why['value']!r}: {why['message']}"
            console.print(f"      {escape(shown)}")
    for note in result.notes:
        console.print(f"[yellow]note[/]: {escape(note)}")
    if result.rejects_file:
        console.print(f"rejected rows written to {escape(result.rejects_file)}")
