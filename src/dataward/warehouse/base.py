"""The `Warehouse` interface: what a run needs from the database that stores the data.

A run talks to the warehouse through one `Warehouse` object: staging happens before the
write lock is taken (so two pipelines can extract and validate side by side), then
`open()` takes the lock and everything that writes (the load, the ledger, the changelog,
VERIFY) happens in one transaction between `begin()` and `commit()`/`rollback()`.

The SQL a run issues is written once, in pipeline/load.py, against this small surface;
an engine supplies the dialect-specific pieces (how a row becomes JSON, how a value is
read back from it, how tables are swapped).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dataward.contract.model import Column

LEDGER_SCHEMA = "dataward"


@dataclass(frozen=True)
class LiveColumn:
    """A column as the warehouse reports it, normalised for comparison."""

    name: str
    type: str
    nullable: bool


class Warehouse(ABC):
    dialect: str
    display_url: str  # never holds a password

    # ----------------------------------------------------------- connection

    @abstractmethod
    def open(self) -> None:
        """Connect for writing; waits for (then refuses with LockHeldError) a busy store."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection and everything staged."""

    @abstractmethod
    def release(self) -> None:
        """Give the write connection back (staged data is kept) so other runs can write."""

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed (or -1 when not known)."""

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def fetch_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table: ...

    def first_row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    # ----------------------------------------------------------- staging

    @abstractmethod
    def stage(self, name: str, batch: pa.Table, select_sql: str) -> None:
        """Append `batch` to the temporary table `name`, as `select_sql` (which reads the
        batch as the relation `batch`) shapes it; the table is created on first use."""

    # ----------------------------------------------------------- catalog

    @abstractmethod
    def live_columns(self, table: str, schema: str | None = None) -> list[LiveColumn] | None:
        """The table's columns, or None when it does not exist."""

    @abstractmethod
    def primary_key(self, table: str, schema: str | None = None) -> list[str]: ...

    # ----------------------------------------------------------- dialect pieces

    @abstractmethod
    def quote(self, name: str) -> str: ...

    def qualified(self, table: str, schema: str | None = None) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}" if schema else self.quote(table)

    @abstractmethod
    def json_of_columns(self, columns: Sequence[str], alias: str) -> str:
        """A JSON object holding each column's value as text (exact: no float rounding)."""

    @abstractmethod
    def column_from_json(self, document: str, column: Column | str, sql_type: str) -> str:
        """Read one column's text back out of such a JSON object, cast to its type."""

    @abstractmethod
    def rename_table(self, table: str, new_name: str) -> str: ...
