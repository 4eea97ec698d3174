"""`dataward report [--out report.html] [--audit FILE]`: one self-contained HTML page of
charts of the ledger (runs, rows, rejects, null rates, freshness, audit findings)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from dataward.cli.errors import report_errors
from dataward.cli.run import PROJECT_OPTION, WAREHOUSE_OPTION
from dataward.errors import Location, UsageError
from dataward.project.config import load_project

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


@report_errors
def report(
    out: Path = typer.Option(
        Path("report.html"), "--out", "-o", help="Where to write the HTML file."
    ),
    audit: Path | None = typer.Option(
        None,
        "--audit",
        help="A saved `dataward audit --format json --output FILE`, shown as the latest "
        "audit findings.",
    ),
    project_dir: Path | None = PROJECT_OPTION,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Write an HTML report (opens with no network) of runs, rows per run with anomalies,
    rejects by reason, null rates, freshness against the SLA and audit findings."""
    # Imported when the command runs: `dataward --help` starts without altair or duckdb.
    from dataward.observe.report import render_report, write_atomically
    from dataward.observe.report_data import project_report_data, read_audit_file
    from dataward.pipeline import ledger
    from dataward.warehouse import project_warehouse

    if out.is_dir():
        raise UsageError("--out names a directory; give a file name", Location(file=str(out)))
    if not out.parent.is_dir():
        raise UsageError("--out: the directory does not exist", Location(file=str(out.parent)))
    # The audit file is read first: a wrong one fails before the warehouse is opened.
    findings = read_audit_file(audit) if audit is not None else None
    project = load_project(project_dir, warehouse)
    wh = project_warehouse(project)
    try:
        wh.open()
        if ledger.ledger_exists(wh):
            # A ledger written by an older dataward gains the columns this one reads.
            wh.begin()
            ledger.ensure_ledger(wh)
            wh.commit()
        data = project_report_data(project, wh, audit=findings)
    finally:
        wh.close()
    write_atomically(out, render_report(data))
    console.print(f"wrote {escape(str(out))}: {escape(data.summary())}")
