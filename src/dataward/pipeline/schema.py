"""The target table's shape, derived from the contract, and the check that the live
table still has it (a contract change the table does not match needs a migration)."""

from __future__ import annotations

from dataclasses import dataclass

from dataward.checks import Check, CheckKind, Scope
from dataward.checks.sql_render import create_table_sql
from dataward.contract.model import Severity, Table
from dataward.pipeline.row_hash import HASH_COLUMN
from dataward.sources import ROW_COLUMN, SOURCE_COLUMN
from dataward.warehouse.base import LEDGER_SCHEMA, LiveColumn, Warehouse

RUN_COLUMN = "_dw_run_id"
LOADED_AT_COLUMN = "_dw_loaded_at"
LINEAGE = (RUN_COLUMN, SOURCE_COLUMN, ROW_COLUMN, HASH_COLUMN, LOADED_AT_COLUMN)
LINEAGE_TYPES = (
    (RUN_COLUMN, "TEXT", True),
    (SOURCE_COLUMN, "TEXT", False),
    (ROW_COLUMN, "BIGINT", False),
    (HASH_COLUMN, "UUID", True),
    (LOADED_AT_COLUMN, "TIMESTAMPTZ", True),
)

# Kinds whose predicate reads one row only, so the database can enforce it as a CHECK.
_CONSTRAINT_KINDS = {
    CheckKind.RANGE,
    CheckKind.LENGTH,
    CheckKind.ACCEPTED_VALUES,
    CheckKind.PATTERN,
    CheckKind.FINITE,
}


def constraint_checks(checks: list[Check]) -> list[Check]:
    return [
        c
        for c in checks
        if c.kind in _CONSTRAINT_KINDS and c.scope is Scope.ROW and c.severity is Severity.ERROR
    ]


def target_ddl(table: Table, name: str, dialect: str, checks: list[Check] | None = None) -> str:
    return create_table_sql(
        table, dialect, name=name, trailing=LINEAGE_TYPES, checks=constraint_checks(checks or [])
    )


@dataclass(frozen=True)
class Mismatch:
    column: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.column}: the contract wants {self.expected}, the table has {self.found}"


def upgrade_row_hash_column(wh: Warehouse, name: str, key: tuple[str, ...]) -> bool:
    """Tables written before `_dw_row_hash` became a UUID hold it as 32 hex digits: the
    same md5, converted in place (and, for a table without a key, the ledger's row keys,
    which name rows by their hash). True when the table was converted."""
    live = {c.name: c for c in wh.live_columns(name) or []}
    hashed = live.get(HASH_COLUMN)
    if hashed is None or hashed.type.upper() not in ("VARCHAR", "TEXT"):
        return False
    column = wh.quote(HASH_COLUMN)
    wh.execute(f"ALTER TABLE {wh.quote(name)} ALTER COLUMN {column} TYPE UUID USING {column}::UUID")
    if not key and wh.live_columns("changes", LEDGER_SCHEMA) is not None:
        as_uuid = f"CAST(CAST({wh.json_text('row_key', HASH_COLUMN)} AS UUID) AS VARCHAR)"
        wh.execute(
            f"UPDATE {LEDGER_SCHEMA}.changes SET row_key = "
            f"{wh.json_object([(HASH_COLUMN, as_uuid)])} WHERE target_table = ?",
            [name],
        )
    return True


def expected_columns(wh: Warehouse, table: Table, checks: list[Check]) -> list[LiveColumn]:
    """The columns the contract's DDL gives, as the warehouse spells them: read back from
    a temporary table built with that DDL, so type spellings never need translating."""
    probe = "dw_expected_shape"
    wh.execute(f"DROP TABLE IF EXISTS {wh.temp_schema}.{wh.quote(probe)}")
    ddl = target_ddl(table, probe, wh.dialect, checks).replace(
        "CREATE TABLE", "CREATE TEMP TABLE", 1
    )
    wh.execute(ddl)
    expected = wh.temp_columns(probe)
    wh.execute(f"DROP TABLE {wh.temp_schema}.{wh.quote(probe)}")
    return expected


def compare_with_contract(
    wh: Warehouse, table: Table, name: str, checks: list[Check]
) -> list[Mismatch] | None:
    """Differences between the live table and the contract's DDL; None when the table
    does not exist. The expected shape is read back from a temporary table built with
    the same DDL, so type spellings never need translating."""
    live = wh.live_columns(name)
    if live is None:
        return None
    expected = expected_columns(wh, table, checks)
    found: list[Mismatch] = []
    live_by_name = {c.name: c for c in live}
    expected_names = {c.name for c in expected}
    for want in expected:
        have = live_by_name.get(want.name)
        if have is None:
            found.append(Mismatch(want.name, _describe(want), "no such column"))
        elif (have.type, have.nullable) != (want.type, want.nullable):
            found.append(Mismatch(want.name, _describe(want), _describe(have)))
    for have in live:
        if have.name not in expected_names:
            found.append(Mismatch(have.name, "no such column", _describe(have)))
    key = wh.primary_key(name)
    if list(key) != list(table.primary_key):
        found.append(
            Mismatch(
                "primary key",
                f"({', '.join(table.primary_key)})" if table.primary_key else "none",
                f"({', '.join(key)})" if key else "none",
            )
        )
    return found


def _describe(col: LiveColumn) -> str:
    return f"{col.type}{'' if col.nullable else ' NOT NULL'}"
