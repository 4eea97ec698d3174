"""The embedded warehouse: a DuckDB file.

A run works in the staging connection (an in-memory DuckDB, warehouse/staging.py):
batches are staged there while nothing holds the warehouse file. `open()` then ATTACHes
the file to that same connection, which takes DuckDB's exclusive file lock: another
process writing the same file waits, up to `lock_wait_seconds`, and then gets a
LockHeldError naming the holder. A DuckDB transaction may write temporary tables and one
attached database together, which is what lets the load, the ledger and VERIFY share one
transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from dataward.contract.model import Column
from dataward.errors import InfrastructureError, Location, LockHeldError, StatementError
from dataward.events import get_logger
from dataward.warehouse.base import LiveColumn, Warehouse
from dataward.warehouse.staging import SLOW_SECONDS, Staging, sql_string

ATTACHED = "dw_warehouse"


class DuckDBWarehouse(Warehouse):
    dialect = "duckdb"
    json_type = "VARCHAR"
    temp_schema = "temp"

    def __init__(self, path: Path, lock_wait_seconds: float = 30.0) -> None:
        self.path = path
        self.display_url = f"duckdb:///{path}"
        self.lock_wait_seconds = lock_wait_seconds
        self.staging = Staging(path)
        self.con = self.staging.con
        self._attached = False

    # ----------------------------------------------------------- connection

    def open(self) -> None:
        if self._attached:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InfrastructureError(
                f"cannot create the warehouse directory: {exc.strerror}",
                Location(file=str(self.path.parent)),
            ) from None
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.05
        while True:
            try:
                self.con.execute(f"ATTACH {sql_string(str(self.path))} AS {ATTACHED}")
                break
            except duckdb.IOException as exc:
                message = str(exc)
                if "lock" not in message.lower():
                    raise InfrastructureError(
                        f"cannot open the warehouse: {_first_line(message)}",
                        Location(file=str(self.path)),
                    ) from None
                if time.monotonic() >= deadline:
                    raise LockHeldError(
                        f"the warehouse file is locked by another process (waited "
                        f"{self.lock_wait_seconds:g} s): {_first_line(message)}",
                        Location(file=str(self.path)),
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise InfrastructureError(
                    f"cannot open the warehouse: {_first_line(str(exc))}",
                    Location(file=str(self.path)),
                ) from None
        try:
            self.con.execute(f"USE {ATTACHED}")
        except duckdb.Error as exc:
            raise self.staging.error(exc) from None
        self._attached = True

    def release(self) -> None:
        if not self._attached:
            return
        self._attached = False
        if SLOW_SECONDS is not None:
            wal = self.path.with_name(self.path.name + ".wal")
            get_logger().info(
                "warehouse.release", wal_bytes=wal.stat().st_size if wal.exists() else 0
            )
        try:
            self.con.execute("USE memory")
            # DETACH checkpoints: this is where a full disk shows itself.
            self.con.execute(f"DETACH {ATTACHED}")
        except duckdb.Error as exc:
            raise self.staging.error(exc) from None

    def close(self) -> None:
        try:
            self.staging.close()
        finally:
            self._attached = False

    def begin(self) -> None:
        self.staging.begin()

    def commit(self) -> None:
        self.staging.commit()

    def rollback(self) -> None:
        self.staging.rollback()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.staging.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.staging.rows(sql, params)

    def execute_verbatim(self, sql: str) -> None:
        try:
            self.con.execute(sql)
        except (duckdb.IOException, duckdb.OutOfMemoryException) as exc:
            raise self.staging.error(exc) from None
        except duckdb.Error as exc:
            raise StatementError(
                " ".join(str(exc).split()), Location(file=str(self.path))
            ) from None

    def copy_from_staging(
        self, select_sql: str, params: Sequence[Any], table: str, columns: Sequence[str]
    ) -> int:
        # One connection holds both: a plain INSERT ... SELECT.
        names = ", ".join(self.quote(c) for c in columns)
        schema, _, name = table.rpartition(".")
        into = self.qualified(name, schema or None)
        return max(self.execute(f"INSERT INTO {into} ({names}) {select_sql}", params), 0)

    # ----------------------------------------------------------- catalog

    def live_columns(self, table: str, schema: str | None = None) -> list[LiveColumn] | None:
        found = self.rows(
            "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? "
            "ORDER BY column_index",
            [ATTACHED, schema or "main", table],
        )
        if not found:
            return None
        return [LiveColumn(name, str(kind), bool(nullable)) for name, kind, nullable in found]

    def temp_columns(self, table: str) -> list[LiveColumn]:
        return [LiveColumn(*c) for c in self.staging.temp_columns(table)]

    def primary_key(self, table: str, schema: str | None = None) -> list[str]:
        found = self.rows(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'",
            [ATTACHED, schema or "main", table],
        )
        return list(found[0][0]) if found else []

    def tables_starting_with(self, prefix: str) -> list[str]:
        return [
            str(name)
            for (name,) in self.rows(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = current_schema() AND starts_with(table_name, ?)",
                [prefix],
            )
        ]

    # ----------------------------------------------------------- dialect pieces

    def quote(self, name: str) -> str:
        return self.staging.quote(name)

    def json_of_columns(self, columns: Sequence[str], alias: str) -> str:
        return self.staging.json_of_columns(columns, alias)

    def json_object(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "json_object(" + ", ".join(f"{sql_string(k)}, {v}" for k, v in pairs) + ")"

    def json_text(self, document: str, key: str) -> str:
        return f"json_extract_string({document}, {sql_string('$.' + _json_path_key(key))})"

    def as_json(self, text_sql: str) -> str:
        return text_sql

    def column_from_json(self, document: str, column: Column | str, sql_type: str) -> str:
        name = column.name if isinstance(column, Column) else column
        return f"CAST({self.json_text(document, name)} AS {sql_type})"

    def rename_table(self, table: str, new_name: str) -> str:
        return f"ALTER TABLE {self.quote(table)} RENAME TO {self.quote(new_name)}"


def _json_path_key(name: str) -> str:
    # A JSON path quotes a key that is not a plain word.
    return name if name.isidentifier() else '"' + name.replace('"', '\\"') + '"'


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message
