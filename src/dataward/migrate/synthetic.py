"""Synthetic rows, made in the database itself, so a migration can be timed on data.

Every empty table gets N rows from `generate_series` (DuckDB: `range`), parents before
children: row g holds g in every column, in the column's type (g, 'v' || g, a date g days
after 2020-01-01, md5(g) as a uuid, {"g": g} as JSON...). A key is therefore unique, and a
foreign key column holds the parent's key of the same row, which exists. A row a CHECK
constraint refuses is tried again with its optional columns empty; a table that still
refuses is left empty and said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dataward.errors import StatementError
from dataward.warehouse import LEDGER_SCHEMA, Warehouse


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as the catalog spells it
    not_null: bool
    has_default: bool


def fill(wh: Warehouse, rows: int) -> list[str]:
    """Fill every empty table with `rows` rows; what could not be filled, and why."""
    problems = []
    for table in _tables_parents_first(wh):
        count = wh.first_row(f"SELECT count(*) FROM {_quoted(table)}")
        if count and int(count[0]):
            continue
        columns = _columns(wh, table)
        for with_optional in (True, False):
            picked = [c for c in columns if c.not_null or (with_optional and not c.has_default)]
            values = [_value(wh.dialect, c) for c in picked]
            if any(v is None for v in values):
                problem = f"{table}: no synthetic value for type {_unknown(picked, values)}"
                break
            names = ", ".join(wh.quote(c.name) for c in picked)
            series = (
                f"generate_series(1, {int(rows)}) AS s(g)"
                if wh.dialect == "postgres"
                else f"range(1, {int(rows) + 1}) AS s(g)"
            )
            try:
                wh.execute_verbatim(
                    f"INSERT INTO {_quoted(table)} ({names}) SELECT {', '.join(values)} "  # type: ignore[arg-type]
                    f"FROM {series}"
                )
                problem = None
                break
            except StatementError as exc:
                problem = f"{table}: left empty, the database refused its rows ({exc.message})"
        if problem:
            problems.append(problem)
    return problems


def _unknown(columns: list[Column], values: list[str | None]) -> str:
    return ", ".join(c.type for c, v in zip(columns, values, strict=True) if v is None)


def _quoted(table: str) -> str:
    schema, _, name = table.partition(".")
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def _tables_parents_first(wh: Warehouse) -> list[str]:
    if wh.dialect == "postgres":
        tables = [
            r[0]
            for r in wh.rows(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON "
                "n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                f"AND n.nspname NOT IN ('pg_catalog', 'information_schema', '{LEDGER_SCHEMA}') "
                "AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast%'"
            )
        ]
        edges = wh.rows(
            "SELECT cn.nspname || '.' || c.relname, pn.nspname || '.' || p.relname FROM "
            "pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON "
            "cn.oid = c.relnamespace JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn "
            "ON pn.oid = p.relnamespace WHERE k.contype = 'f'"
        )
    else:
        tables = [
            r[0]
            for r in wh.rows(
                "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name "
                f"= current_database() AND schema_name <> '{LEDGER_SCHEMA}' AND NOT temporary"
            )
        ]
        edges = [
            (f"{schema}.{table}", f"{schema}.{parent}")
            for schema, table, parent in wh.rows(
                "SELECT schema_name, table_name, referenced_table FROM duckdb_constraints() "
                "WHERE database_name = current_database() AND constraint_type = 'FOREIGN KEY'"
            )
        ]
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in edges:
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, p in parents.items() if not p - set(ordered))
        if not ready:  # a cycle: fill the rest as they come, the database will say
            ready = sorted(parents)
        for table in ready:
            ordered.append(table)
            del parents[table]
    return ordered


def _columns(wh: Warehouse, table: str) -> list[Column]:
    schema, _, name = table.partition(".")
    if wh.dialect == "postgres":
        found = wh.rows(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [_quoted(table)],
        )
    else:
        found = wh.rows(
            "SELECT column_name, data_type, NOT is_nullable, column_default IS NOT NULL "
            "FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? "
            "AND table_name = ? ORDER BY column_index",
            [schema, name],
        )
    return [Column(str(n), str(t), bool(nn), bool(d)) for n, t, nn, d in found]


def _value(dialect: str, column: Column) -> str | None:
    """Row g's value in the column's type (None when dataward has none for the type)."""
    kind = column.type.lower()
    length = re.search(r"\((\d+)", kind)
    if kind.startswith(("smallint", "int2")):
        return "CAST(g % 32000 AS SMALLINT)"
    if kind.startswith(("integer", "int", "bigint", "hugeint", "ubigint", "uinteger")):
        return f"CAST(g AS {column.type})"
    if kind.startswith(("numeric", "decimal")):
        return f"CAST(g % 10 AS {column.type})"
    if kind.startswith(("real", "double", "float")):
        return f"CAST(g * 0.5 AS {column.type})"
    if kind.startswith(("text", "varchar", "character", "char", "bpchar", "string")):
        text = "'v' || CAST(g AS VARCHAR)"
        return f"left({text}, {length.group(1)})" if length else text
    if kind.startswith(("boolean", "bool")):
        return "g % 2 = 0"
    if kind.startswith("date"):
        return "CAST(DATE '2020-01-01' + CAST(g % 3650 AS INTEGER) AS DATE)"
    if kind.startswith("timestamp"):
        return f"CAST(TIMESTAMP '2020-01-01' + g * INTERVAL '1 second' AS {column.type})"
    if kind == "uuid":
        return "CAST(md5(CAST(g AS VARCHAR)) AS UUID)"
    if kind in ("json", "jsonb"):
        return (
            f"CAST(json_object('g', g) AS {column.type})"
            if dialect == "duckdb"
            else (f"CAST(json_build_object('g', g) AS {column.type})")
        )
    if kind in ("bytea", "blob"):
        return (
            "CAST(CAST(g AS VARCHAR) AS BLOB)"
            if dialect == "duckdb"
            else ("convert_to(CAST(g AS text), 'UTF8')")
        )
    if not column.not_null:
        return "NULL"
    return None
