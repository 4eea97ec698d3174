"""`dataward.migrations`: which migration is applied, with what, when, by whom, how long.

A row per applied migration: its version, name, the checksum of the up script that ran
(a file edited after it was applied is refused), when and by whom, how long it took, and
`dirty` for a migration run outside a transaction that has not finished: the runner
refuses to go on until someone says what state the database is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dataward.warehouse import LEDGER_SCHEMA, Warehouse

TABLE = f"{LEDGER_SCHEMA}.migrations"


@dataclass(frozen=True)
class Applied:
    version: str
    name: str
    checksum: str
    applied_at: datetime
    duration_ms: int
    applied_by: str
    dirty: bool


def ensure_ledger(wh: Warehouse) -> None:
    wh.serialize("dataward:ledger")
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {wh.quote(LEDGER_SCHEMA)}")
    wh.execute(
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            version VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            checksum VARCHAR NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL,
            duration_ms BIGINT NOT NULL,
            applied_by VARCHAR NOT NULL,
            dirty BOOLEAN NOT NULL
        )"""
    )


def applied(wh: Warehouse) -> dict[str, Applied]:
    found = wh.rows(
        f"SELECT version, name, checksum, applied_at, duration_ms, applied_by, dirty FROM {TABLE}"
    )
    return {str(row[0]): Applied(*row) for row in found}


def record(wh: Warehouse, entry: Applied) -> None:
    wh.execute(f"DELETE FROM {TABLE} WHERE version = ?", [entry.version])
    wh.execute(
        f"INSERT INTO {TABLE} (version, name, checksum, applied_at, duration_ms, applied_by, "
        "dirty) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            entry.version,
            entry.name,
            entry.checksum,
            entry.applied_at,
            entry.duration_ms,
            entry.applied_by,
            entry.dirty,
        ],
    )


def forget(wh: Warehouse, version: str) -> None:
    wh.execute(f"DELETE FROM {TABLE} WHERE version = ?", [version])
