"""`dataward contract infer|diff`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Contracts: infer a draft from data, diff two versions.", no_args_is_help=True
)
