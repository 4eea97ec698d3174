"""Helpers for the lint tests: write migrations to a directory, lint them, read findings."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from dataward.cli.migrate_lint import lint as lint_command
from dataward.migrate.files import discover
from dataward.migrate.lint import Finding, lint

CORPUS = Path(__file__).resolve().parents[1] / "migrations" / "corpus"


def write_migrations(directory: Path, *ups: str, down: str | None = "SELECT 1;\n") -> Path:
    """Each up as migration 000N with `down` beside it (None: no down file)."""
    directory.mkdir(parents=True, exist_ok=True)
    for number, up in enumerate(ups, start=1):
        (directory / f"{number:04d}_step.up.sql").write_text(up + "\n", encoding="utf-8")
        if down is not None:
            (directory / f"{number:04d}_step.down.sql").write_text(down, encoding="utf-8")
    return directory


def lint_directory(directory: Path) -> list[Finding]:
    return lint(discover(directory))


def lint_sql(tmp_path: Path, *ups: str, down: str | None = "SELECT 1;\n") -> list[Finding]:
    return lint_directory(write_migrations(tmp_path / "migrations", *ups, down=down))


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def cli(*args: str | Path) -> Result:
    """The command as `dataward migrate lint` runs it, on an app of its own."""
    app = typer.Typer()
    app.command("lint")(lint_command)

    @app.command("other", hidden=True)
    def _other() -> None:  # a second command keeps `lint` a subcommand, as in main
        """unused"""

    return CliRunner().invoke(app, ["lint", *(str(a) for a in args)])
