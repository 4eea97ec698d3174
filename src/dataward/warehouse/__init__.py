"""Warehouses behind one interface: DuckDB (embedded default); PostgreSQL next."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from dataward.errors import Location, UsageError
from dataward.warehouse.base import LEDGER_SCHEMA, LiveColumn, Warehouse

__all__ = ["LEDGER_SCHEMA", "LiveColumn", "Warehouse", "connect_warehouse", "duckdb_path"]


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


def connect_warehouse(url: str, root: Path, lock_wait_seconds: float = 30.0) -> Warehouse:
    scheme = urlsplit(url).scheme
    if scheme == "duckdb":
        from dataward.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(duckdb_path(url, root), lock_wait_seconds)
    if scheme in ("postgresql", "postgres"):
        raise UsageError(
            "the PostgreSQL warehouse is not available yet; use a duckdb:/// URL",
            Location(path="warehouse.url"),
        )
    raise UsageError(
        f"unknown warehouse URL scheme {scheme or url!r}: use duckdb:///path.duckdb",
        Location(path="warehouse.url"),
    )
