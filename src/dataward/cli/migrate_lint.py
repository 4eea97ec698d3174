"""`dataward migrate lint [PATHS...]`: migration safety findings, as text, JSON or SARIF."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from dataward.cli.errors import report_errors
from dataward.errors import ExitCode, UsageError

# The linter (pglast, every rule) is imported when the command runs: `dataward --help`
# starts without it.
if TYPE_CHECKING:
    from dataward.migrate.lint.model import Finding, Severity

FAIL_ON = ("error", "warning", "info")


@report_errors
def lint(
    paths: list[Path] | None = typer.Argument(
        None,
        help="Migration files or directories (default: the project's migrations/). A file "
        "is judged with the rest of its directory as history.",
    ),
    output_format: str = typer.Option("text", "--format", help="text, json or sarif."),
    fail_on: str = typer.Option(
        "error",
        "--fail-on",
        help="Exit 1 on a finding of this severity or worse: error, warning or info.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here instead of stdout."
    ),
    max_indexes: int | None = typer.Option(
        None,
        "--max-indexes",
        help="Indexes a table may have before too-many-indexes (default: [lint] "
        "max_indexes_per_table in dataward.toml, else 5).",
    ),
) -> None:
    """Check migrations for locks, rewrites and changes that break the running release;
    exit 1 on findings at or above --fail-on, 2 when a file cannot be read or parsed."""
    from dataward.migrate.lint.context import LintOptions
    from dataward.migrate.lint.engine import lint as lint_migrations
    from dataward.migrate.lint.inputs import collect
    from dataward.migrate.lint.model import Severity
    from dataward.migrate.lint.reporters import FORMATS, render, summary
    from dataward.migrate.lint.rules.meta import SYNTAX_ERROR, UNREADABLE_MIGRATION

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    if max_indexes is not None and max_indexes < 1:
        raise UsageError(f"--max-indexes must be at least 1, got {max_indexes}")
    options = LintOptions(max_indexes_per_table=max_indexes or _configured_max_indexes())
    sets, findings = collect(paths or [_default_directory()])
    for found in sets:
        findings += lint_migrations(found.migrations, report=found.report, options=options)
    findings.sort(key=lambda f: f.sort_key)
    checked = sum(len(s.reported) for s in sets)
    report = render(findings, output_format, migrations=checked)
    if output is None:
        sys.stdout.write(report)
    else:
        output.write_text(report, encoding="utf-8")
        Console(stderr=True, highlight=False).print(
            f"{escape(summary(findings, checked))}; report written to {escape(str(output))}"
        )
    # A file that could not be read or parsed was not checked at all: that is bad input
    # (exit 2) whatever else was found. A bad ignore is an ordinary finding.
    bad_input = any(f.rule in (SYNTAX_ERROR, UNREADABLE_MIGRATION) for f in findings)
    raise typer.Exit(int(_exit_code(findings, Severity(fail_on), bad_input)))


def _exit_code(findings: list[Finding], threshold: Severity, bad_input: bool) -> ExitCode:
    if bad_input:
        return ExitCode.USAGE
    if any(f.severity.at_least(threshold) for f in findings):
        return ExitCode.CHECKS_FAILED
    return ExitCode.OK


def _configured_max_indexes() -> int:
    """[lint] max_indexes_per_table of the project around here, if there is one."""
    from dataward.migrate.lint.context import LintOptions
    from dataward.project.config import find_project, load_project

    try:
        root = find_project()
    except UsageError:
        return LintOptions().max_indexes_per_table  # files outside any project
    return load_project(root).lint_max_indexes


def _default_directory() -> Path:
    """The project's migrations/, found from here upwards like every other command."""
    from dataward.project.config import find_project

    try:
        root = find_project()
    except UsageError:
        raise UsageError(
            "not inside a dataward project (no dataward.toml here or above): name the "
            "migration files or directories to lint"
        ) from None
    directory = root / "migrations"
    if not directory.is_dir():
        raise UsageError(f"{directory} does not exist: this project has no migrations yet")
    return directory
