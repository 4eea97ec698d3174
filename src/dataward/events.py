"""Structured events: JSON lines for machines, readable lines for people.

Configured once at the edge (the CLI); library code only calls `get_logger`.
Events go to stderr so that a command's own output on stdout stays parseable.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog


def configure(*, json: bool | None = None, level: str | None = None) -> None:
    """JSON lines when stdout is not a terminal (a machine is reading), console lines when it
    is; `json` forces either. Events always go to stderr. The level comes from `level`,
    else DATAWARD_LOG_LEVEL, else info."""
    level = level or os.environ.get("DATAWARD_LOG_LEVEL", "info")
    if level.upper() not in logging.getLevelNamesMapping():
        level = "info"
    if json is None:
        # Piped output means a machine is reading: JSON. A person at a terminal: console.
        json = not sys.stdout.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(**context: Any) -> Any:
    return structlog.get_logger("dataward").bind(**context)
