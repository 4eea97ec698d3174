"""`dataward audit [PATH] [--db URL]`: where an existing stack can lose, duplicate or
corrupt data, as text, JSON or SARIF, and a TODO.md checklist kept up to date."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from dataward.cli.errors import is_terminal, report_errors
from dataward.errors import ExitCode, UsageError

FAIL_ON = ("high", "medium", "low", "never")


@report_errors
def audit(
    path: Path = typer.Argument(Path("."), help="The repository to audit (default: here)."),
    db: str | None = typer.Option(
        None,
        "--db",
        help="A PostgreSQL URL to audit too, read-only (the audit never writes to it).",
    ),
    output_format: str = typer.Option("text", "--format", help="text, json or sarif."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here instead of stdout."
    ),
    todo: Path | None = typer.Option(
        None,
        "--todo",
        help="Create or update this checklist (statuses and hand-written text are kept).",
    ),
    fail_on: str = typer.Option(
        "high",
        "--fail-on",
        help="Exit 1 when a finding at this severity or worse is reported: high, medium, "
        "low, or never.",
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="A previous `--format json` report: only findings new since it are reported.",
    ),
    docs_url: str = typer.Option(
        "docs/rules.md",
        "--docs-url",
        envvar="DATAWARD_DOCS_URL",
        help="Where TODO.md's rule links point: the rules page of your dataward docs.",
    ),
    alembic_offline: bool = typer.Option(
        False,
        "--alembic-offline",
        help="Render Alembic revisions through Alembic's offline SQL mode. This RUNS the "
        "project's env.py and revisions; without it they are read statically.",
    ),
) -> None:
    """Audit a repository (and a live PostgreSQL database) for data-loss, duplication and
    corruption risks; it reads, never executes, the code it scans."""
    from dataward.audit.model import BY_LABEL
    from dataward.audit.report import FORMATS, render
    from dataward.audit.run import AuditOptions
    from dataward.audit.run import audit as run_audit

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    known = None
    if baseline is not None:
        from dataward.audit.baseline import load_baseline

        known = load_baseline(baseline)  # before the audit: a bad baseline fails fast
    options = AuditOptions(db_url=db, alembic_offline=alembic_offline)
    report = _with_progress(path, options, run_audit)
    if todo is not None:
        # Every finding, not only the new ones: TODO.md closes what it no longer sees.
        from dataward.audit.todo import update_todo

        change = update_todo(
            todo,
            report.findings,
            link_base=docs_url,
            database_audited=db is not None,
            unread_files={what for what, _ in report.skipped},
        )
        _say(f"{todo}: {change}")
    if known is not None:
        from dataward.audit.baseline import new_since

        report.findings = new_since(report.findings, known)
    text = render(report, output_format)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        counts = report.counts()
        _say(
            f"{sum(counts.values())} findings ({counts['high']} high, {counts['medium']} "
            f"medium, {counts['low']} low); report written to {output}"
        )
    from dataward.events import get_logger

    get_logger().info("audit.finished", root=str(path), **report.counts())
    if fail_on != "never":
        threshold = BY_LABEL[fail_on]
        if any(f.severity.at_least(threshold) for f in report.findings):
            raise typer.Exit(int(ExitCode.CHECKS_FAILED))


def _say(line: str) -> None:
    Console(stderr=True, highlight=False).print(escape(line))


def _with_progress(path: Path, options: object, run_audit: object) -> object:
    if not is_terminal():
        return run_audit(path, options)  # type: ignore[operator]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]audit[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def advance(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        return run_audit(path, options, advance)  # type: ignore[operator]
