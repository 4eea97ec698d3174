"""Warehouses behind one interface: DuckDB (the embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dataward.errors import Location, UsageError
from dataward.warehouse.base import LEDGER_SCHEMA, LiveColumn, Warehouse

__all__ = [
    "LEDGER_SCHEMA",
    "LiveColumn",
    "Warehouse",
    "connect_warehouse",
    "duckdb_path",
    "project_warehouse",
]


def duckdb_path(url: str, root: Path) -> Path:
    """`duckdb:///warehouse.duckdb` is relative to the project, `duckdb:////abs/w.duckdb`
    absolute (the SQLAlchemy convention)."""
    rest = url[len("duckdb://") :]
    if not rest.startswith("/") or rest == "/":
        raise UsageError(
            f"a DuckDB warehouse URL looks like duckdb:///warehouse.duckdb, got {url!r}",
            Location(path="warehouse.url"),
        )
    path = Path(rest[1:])
    return path if path.is_absolute() else root / path


def connect_warehouse(
    url: str,
    root: Path,
    lock_wait_seconds: float = 30.0,
    *,
    lock_timeout_seconds: float = 10.0,
    statement_timeout_seconds: float = 3600.0,
) -> Warehouse:
    scheme = urlsplit(url).scheme
    if scheme == "duckdb":
        from dataward.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(duckdb_path(url, root), lock_wait_seconds)
    if scheme in ("postgresql", "postgres"):
        from dataward.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(
            url,
            lock_timeout_seconds=lock_timeout_seconds,
            statement_timeout_seconds=statement_timeout_seconds,
        )
    raise UsageError(
        f"unknown warehouse URL scheme {scheme or '(none)'!r}: use duckdb:///path.duckdb or "
        "postgresql://user@host/database",
        Location(path="warehouse.url"),
    )


def project_warehouse(project: Any) -> Warehouse:
    """The warehouse a project names, with its settings."""
    return connect_warehouse(
        project.warehouse_url,
        project.root,
        project.lock_wait_seconds,
        lock_timeout_seconds=project.lock_timeout_seconds,
        statement_timeout_seconds=project.statement_timeout_seconds,
    )
