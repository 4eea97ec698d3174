"""The `Warehouse` interface: what a run needs from the database that stores the data.

A run talks to the warehouse through one `Warehouse` object. Its `staging` area (an
in-memory DuckDB on this machine, warehouse/staging.py) takes the batches before the
warehouse is touched, so two pipelines can extract and validate side by side; then
`open()` connects for writing and everything that writes (the load, the ledger, the
changelog, VERIFY) happens in one warehouse transaction between `begin()` and
`commit()`/`rollback()`, which covers the staging area's changes too.

SQL shared by every engine (the ledger, VERIFY, revert, trace) is written once against
this surface, with `?` for parameters; an engine supplies the dialect-specific pieces
(how a row becomes JSON, how a value is read back from it, how tables are swapped) and
the load plan of its own (pipeline/load.py for DuckDB, pipeline/load_postgres.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dataward.contract.model import Column

if TYPE_CHECKING:
    from dataward.warehouse.staging import Staging

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
    staging: Staging
    json_type: str  # the type of the ledger's JSON documents (row keys, before-states)
    temp_schema: str  # where the session's temporary tables live

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

    def lock_table(self, table: str) -> None:  # noqa: B027 - most engines need nothing more
        """Hold `table` for this run (until close), or raise LockHeldError at once."""

    def hold(self, key: str, what: str) -> None:  # noqa: B027 - a DuckDB file has one writer
        """Hold the named lock `key` until close, or raise LockHeldError at once."""

    def serialize(self, name: str) -> None:  # noqa: B027 - one writer at a time already
        """Until this transaction ends, no other session passes `serialize(name)`."""

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
    def execute_verbatim(self, sql: str) -> None:
        """Run one statement someone wrote (a migration's), exactly as written: no
        placeholders are read in it. The database refusing it is a StatementError; a
        lost connection or a timeout an InfrastructureError."""

    def first_row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    @abstractmethod
    def copy_from_staging(
        self, select_sql: str, params: Sequence[Any], table: str, columns: Sequence[str]
    ) -> int:
        """Insert the rows of a staging query into the warehouse table `table` (`name`
        or `schema.name`, plain names), as `columns`; the number of rows."""

    # ----------------------------------------------------------- catalog

    @abstractmethod
    def live_columns(self, table: str, schema: str | None = None) -> list[LiveColumn] | None:
        """The table's columns, or None when it does not exist."""

    @abstractmethod
    def temp_columns(self, table: str) -> list[LiveColumn]:
        """The columns of a temporary table of the warehouse (types spelt as live_columns)."""

    @abstractmethod
    def primary_key(self, table: str, schema: str | None = None) -> list[str]: ...

    @abstractmethod
    def tables_starting_with(self, prefix: str) -> list[str]: ...

    # ----------------------------------------------------------- dialect pieces

    @abstractmethod
    def quote(self, name: str) -> str: ...

    def qualified(self, table: str, schema: str | None = None) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}" if schema else self.quote(table)

    @abstractmethod
    def json_of_columns(self, columns: Sequence[str], alias: str) -> str:
        """A JSON object holding each column's value as text (exact: no float rounding)."""

    @abstractmethod
    def json_object(self, pairs: Sequence[tuple[str, str]]) -> str:
        """A JSON object of (key, SQL text expression) pairs, as `json_of_columns` makes."""

    @abstractmethod
    def json_text(self, document: str, key: str) -> str:
        """One key's value of a JSON document, as text."""

    @abstractmethod
    def as_json(self, text_sql: str) -> str:
        """A SQL text expression (a literal, say) as a value of `json_type`."""

    @abstractmethod
    def column_from_json(self, document: str, column: Column | str, sql_type: str) -> str:
        """Read one column's text back out of such a JSON object, cast to its type."""

    @abstractmethod
    def rename_table(self, table: str, new_name: str) -> str: ...
