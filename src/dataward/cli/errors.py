"""Map dataward's exception hierarchy to exit codes and one readable line each."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from dataward.errors import DatawardError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def report_errors(function: F) -> F:
    """Turn a DatawardError (or an OS failure) into `error: where: what` and its exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except DatawardError as exc:
            stderr.print(f"[bold red]error[/]: {_escape(str(exc))}")
            raise typer.Exit(int(exc.exit_code)) from None
        except MemoryError:
            stderr.print("[bold red]error[/]: out of memory")
            raise typer.Exit(int(ExitCode.INFRASTRUCTURE)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            stderr.print(f"[bold red]error[/]: {_escape(where)}{_escape(exc.strerror or str(exc))}")
            raise typer.Exit(int(ExitCode.INFRASTRUCTURE)) from None

    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def is_terminal() -> bool:
    return sys.stderr.isatty()
