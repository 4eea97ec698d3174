"""A database's catalog as sorted lines of text, to compare before and after a migration.

It covers what a migration can change: tables, columns (type, nullability, default),
constraints, indexes, views, sequences, functions, triggers and enum types, in every
schema but the system's and dataward's own ledger. Each object is one line in the
database's own words (pg_get_constraintdef, pg_get_indexdef, ...), so two snapshots are
equal exactly when the schema is, and their difference reads like DDL.
"""

from __future__ import annotations

import difflib

from dataward.warehouse import LEDGER_SCHEMA, Warehouse

Snapshot = list[str]

_PG_SKIP = f"('pg_catalog', 'information_schema', 'pg_toast', '{LEDGER_SCHEMA}')"
_PG_QUERIES = (
    # tables and views with their kind
    "SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    f"AND n.nspname NOT IN {_PG_SKIP} AND n.nspname NOT LIKE 'pg_temp%'",
    # columns
    "SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || "
    "format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' "
    "END || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN "
    "a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END FROM pg_attribute a "
    "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    f"AND n.nspname NOT IN {_PG_SKIP} AND n.nspname NOT LIKE 'pg_temp%'",
    # constraints (NOT VALID shows in the definition)
    "SELECT 'constraint ' || n.nspname || '.' || c.relname || ' ' || k.conname || ' ' || "
    "pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
    f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN {_PG_SKIP}",
    # indexes (valid or not: a failed CONCURRENTLY build leaves an invalid one)
    "SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE "
    "' INVALID' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace "
    f"n ON n.oid = c.relnamespace WHERE n.nspname NOT IN {_PG_SKIP}",
    "SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || md5(pg_get_viewdef(c.oid)) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') "
    f"AND n.nspname NOT IN {_PG_SKIP}",
    "SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' || data_type::text || ' ' || "
    "start_value || ' ' || increment_by FROM pg_sequences "
    f"WHERE schemaname NOT IN {_PG_SKIP}",
    "SELECT 'function ' || n.nspname || '.' || p.proname || '(' || "
    "pg_get_function_identity_arguments(p.oid) || ') ' || md5(pg_get_functiondef(p.oid)) "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind IN ('f', 'p') "
    f"AND n.nspname NOT IN {_PG_SKIP}",
    "SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON "
    "c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
    f"AND n.nspname NOT IN {_PG_SKIP}",
    "SELECT 'enum ' || n.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ',' "
    "ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN "
    f"pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN {_PG_SKIP} "
    "GROUP BY n.nspname, t.typname",
)

_DUCKDB_SKIP = f"('information_schema', 'pg_catalog', '{LEDGER_SCHEMA}')"
_DUCKDB_QUERIES = (
    "SELECT 'relation ' || schema_name || '.' || table_name || ' table' FROM duckdb_tables() "
    f"WHERE database_name = current_database() AND schema_name NOT IN {_DUCKDB_SKIP} "
    "AND NOT temporary",
    "SELECT 'column ' || schema_name || '.' || table_name || '.' || column_name || ' ' || "
    "data_type || CASE WHEN is_nullable THEN '' ELSE ' NOT NULL' END || coalesce(' DEFAULT ' "
    "|| column_default, '') FROM duckdb_columns() WHERE database_name = current_database() "
    f"AND schema_name NOT IN {_DUCKDB_SKIP} AND NOT internal",
    "SELECT 'constraint ' || schema_name || '.' || table_name || ' ' || constraint_text FROM "
    "duckdb_constraints() WHERE database_name = current_database() "
    f"AND schema_name NOT IN {_DUCKDB_SKIP}",
    "SELECT 'index ' || coalesce(sql, index_name) FROM duckdb_indexes() WHERE database_name = "
    f"current_database() AND schema_name NOT IN {_DUCKDB_SKIP}",
    "SELECT 'view ' || schema_name || '.' || view_name || ' ' || md5(sql) FROM duckdb_views() "
    f"WHERE database_name = current_database() AND schema_name NOT IN {_DUCKDB_SKIP} "
    "AND NOT internal AND NOT temporary",
    "SELECT 'sequence ' || schema_name || '.' || sequence_name || ' ' || start_value || ' ' || "
    "increment_by FROM duckdb_sequences() WHERE database_name = current_database() "
    f"AND schema_name NOT IN {_DUCKDB_SKIP}",
    "SELECT 'function ' || schema_name || '.' || function_name || ' ' || "
    "coalesce(macro_definition, '') FROM duckdb_functions() "
    "WHERE database_name = current_database() AND NOT internal "
    f"AND schema_name NOT IN {_DUCKDB_SKIP}",
    "SELECT 'enum ' || schema_name || '.' || type_name || ' ' || logical_type FROM "
    "duckdb_types() WHERE database_name = current_database() AND NOT internal "
    f"AND logical_type = 'ENUM' AND schema_name NOT IN {_DUCKDB_SKIP}",
)


def snapshot(wh: Warehouse) -> Snapshot:
    queries = _PG_QUERIES if wh.dialect == "postgres" else _DUCKDB_QUERIES
    lines: list[str] = []
    for query in queries:
        lines.extend(str(row[0]) for row in wh.rows(query) if row[0] is not None)
    return sorted(lines)


def difference(before: Snapshot, after: Snapshot) -> list[str]:
    """The lines that differ, `-` for what went missing and `+` for what appeared."""
    return [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
