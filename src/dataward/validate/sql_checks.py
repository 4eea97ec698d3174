"""Run a contract's SQL quality rules over the rows a validation would load.

The accepted rows are appended, batch by batch, to a table in a temporary DuckDB file so
the queries see exactly what would be loaded without holding it in memory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from dataward.checks import Check
from dataward.checks.polars_render import polars_type
from dataward.checks.sql_render import identifier, sql_check_query
from dataward.contract.model import Table
from dataward.errors import ContractError, Location


class SqlCheckRunner:
    def __init__(self, table: Table) -> None:
        import duckdb  # only validations with SQL rules pay for the import

        self.table = table
        self.columns = [c.name for c in table.columns]
        self._tmp = tempfile.TemporaryDirectory(prefix="dataward-sql-")
        # A contract's SQL reads the rows, nothing else: no files, no network, no extensions.
        self._duck = duckdb.connect(
            str(Path(self._tmp.name) / "rows.duckdb"),
            config={"enable_external_access": False, "autoinstall_known_extensions": False},
        )
        self._error = duckdb.Error
        self._name = identifier(table.storage_name).sql(dialect="duckdb")
        self._parts = 0

    def add(self, rows: pl.DataFrame) -> None:
        """Stage rows (with their batch/offset ids) that passed the row checks so far."""
        self._duck.register("dw_batch", rows.to_arrow())
        if self._parts == 0:
            self._duck.execute("CREATE TABLE dw_stage AS SELECT * FROM dw_batch")
        else:
            self._duck.execute("INSERT INTO dw_stage SELECT * FROM dw_batch")
        self._duck.unregister("dw_batch")
        self._parts += 1

    def seal(self, rejected: pl.DataFrame) -> None:
        """Build the table the queries see: staged rows less those rejected at the end."""
        columns = ", ".join(identifier(c).sql(dialect="duckdb") for c in self.columns)
        if self._parts == 0:
            empty = pl.DataFrame(schema={c.name: polars_type(c.type) for c in self.table.columns})
            self._duck.register("dw_empty", empty.to_arrow())
            self._duck.execute(f"CREATE TABLE {self._name} AS SELECT * FROM dw_empty")
            return
        self._duck.register("dw_rejected", rejected.to_arrow())
        self._duck.execute(
            f"CREATE TABLE {self._name} AS SELECT {columns} FROM dw_stage "
            "ANTI JOIN dw_rejected USING (_dw_batch, _dw_offset)"
        )
        self._duck.execute("DROP TABLE dw_stage")

    def measure(self, check: Check, contract_file: str) -> float:
        """The query's single number. A query that fails or returns no number is an error
        in the contract, reported where the rule is written."""
        query = sql_check_query(check, self.table.storage_name, "duckdb")
        where = Location(file=contract_file, line=check.origin_line, path=check.origin)
        try:
            row = self._duck.execute(query).fetchone()
        except self._error as exc:
            reason = str(exc).splitlines()[0]
            raise ContractError(f"the sql rule {check.id!r} failed: {reason}", where) from None
        if row is None or row[0] is None or isinstance(row[0], bool | str):
            shown = "no row" if row is None else repr(row[0])
            raise ContractError(
                f"the sql rule {check.id!r} must return one number; it returned {shown}", where
            )
        return float(row[0])

    def close(self) -> None:
        self._duck.close()
        self._tmp.cleanup()
