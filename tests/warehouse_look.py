"""Look at a warehouse from outside dataward: a DuckDB file through its own connection, a
PostgreSQL database through psycopg; the same `?` placeholders for both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg.types.string import TextLoader

from dataward.warehouse.postgres import numbered


class DuckDBLook:
    """Read (and, for tests that tamper, write) a DuckDB warehouse file from outside."""

    dialect = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"duckdb:///{path.name}"

    def query(self, sql: str, params: list[Any] | None = None, write: bool = False) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=not write)
        try:
            con.execute("SET TimeZone = 'UTC'")
            cursor = con.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []
        finally:
            con.close()

    def described(self, sql: str) -> tuple[list[str], list[tuple]]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            con.execute("SET TimeZone = 'UTC'")
            cursor = con.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()

    def shape(self, table: str) -> list[tuple]:
        return self.query(
            "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table],
        )

    def table_names(self) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
            )
        ]

    def row_text(self, columns: list[str]) -> str:
        picked = ", ".join(f'"{c}"' for c in columns)
        return f"CAST(ROW({picked}) AS VARCHAR)"

    def exists(self) -> bool:
        return self.path.exists()


class PostgresLook:
    """The same, for a PostgreSQL database (psycopg; `?` placeholders as in DuckDB)."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=True, cursor_factory=psycopg.RawCursor)
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        conn.execute("SET TimeZone = 'UTC'")
        return conn

    def query(self, sql: str, params: list[Any] | None = None, write: bool = False) -> list[tuple]:
        with self._connect() as conn:
            cursor = conn.execute(numbered(sql), params or None)
            return cursor.fetchall() if cursor.description else []

    def described(self, sql: str) -> tuple[list[str], list[tuple]]:
        with self._connect() as conn:
            cursor = conn.execute(numbered(sql))
            return [d.name for d in cursor.description or []], cursor.fetchall()

    def shape(self, table: str) -> list[tuple]:
        return self.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum",
            ['"' + table.replace('"', '""') + '"'],
        )

    def table_names(self) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]

    def row_text(self, columns: list[str]) -> str:
        picked = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        return f"CAST(ROW({picked}) AS text)"

    def exists(self) -> bool:
        return bool(self.query("SELECT to_regclass('dataward.runs') IS NOT NULL")[0][0])
