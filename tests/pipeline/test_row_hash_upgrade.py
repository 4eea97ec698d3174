"""A table written when `_dw_row_hash` was 32 hex digits is converted to the UUID form in
place: the same hashes, nothing rewritten, the ledger's keys for keyless tables too."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from pipeline_kit import assert_accounted, contract_yaml, pipeline_toml

# About the DuckDB warehouse alone: its file, its disk, its older format.
pytestmark = pytest.mark.duckdb_only

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"
KEYLESS = contract_yaml("orders", [("order_id", "BIGINT", {}), ("amount", "DECIMAL(10,2)", {})])


def _downgrade(project, table: str = "orders") -> None:
    """Make the table look as an earlier dataward wrote it: the hash as hex text."""
    con = duckdb.connect(str(project.warehouse))
    try:
        con.execute(
            f"ALTER TABLE {table} ALTER COLUMN _dw_row_hash TYPE VARCHAR "
            "USING replace(_dw_row_hash::VARCHAR, '-', '')"
        )
        con.execute(
            "UPDATE dataward.changes SET row_key = json_object('_dw_row_hash', "
            "replace(row_key ->> '$._dw_row_hash', '-', '')) "
            "WHERE row_key ->> '$._dw_row_hash' IS NOT NULL"
        )
    finally:
        con.close()


def _hash_type(project) -> str:
    ((kind,),) = project.query(
        "SELECT data_type FROM duckdb_columns() WHERE table_name = 'orders' "
        "AND column_name = '_dw_row_hash'"
    )
    return kind


def test_an_identical_rerun_on_a_legacy_table_converts_it_and_writes_nothing(new_project):
    project = new_project(csv=V1)
    project.run()
    hashes = [str(r["_dw_row_hash"]) for r in project.rows()]
    _downgrade(project)
    assert _hash_type(project) == "VARCHAR"
    outcome = project.run(recheck=True)  # compares every row's stored hash
    c = outcome.record.counts
    assert outcome.record.status == "succeeded"
    assert (c.inserted, c.updated, c.unchanged) == (0, 0, 2)
    assert_accounted(c)
    assert _hash_type(project) == "UUID"
    assert [str(r["_dw_row_hash"]) for r in project.rows()] == hashes


def test_a_keyless_table_keeps_its_revertable_history(new_project):
    project = new_project(
        contract=KEYLESS, csv=V1.replace(",status", "").replace(",paid", "").replace(",new", "")
    )
    project.pipeline("orders", pipeline_toml(mode="replace"))
    project.run()
    project.csv("order_id,amount\n1,1.50\n3,3.00\n")
    changed = project.run()
    before_revert = project.rows(columns="order_id, amount")
    _downgrade(project)
    project.csv("order_id,amount\n1,1.50\n3,3.00\n")
    project.run()  # converts the table and the ledger's row keys
    assert _hash_type(project) == "UUID"
    assert project.rows(columns="order_id, amount") == before_revert
    # A keyless row is named by its hash: the ledger's names now read as the table's do.
    keys = [
        k for (k,) in project.query("SELECT row_key ->> '$._dw_row_hash' FROM dataward.changes")
    ]
    assert keys and all(len(k) == 36 and k.count("-") == 4 for k in keys), keys
    stored = {str(r["_dw_row_hash"]) for r in project.rows(columns="_dw_row_hash")}
    assert stored & set(keys)  # row 1 was kept: its name is in both
    result = project.cli("revert", changed.record.run_id)
    assert result.returncode == 0, result.stderr
    assert project.rows(columns="order_id, amount") == [
        {"order_id": 1, "amount": Decimal("1.50")},
        {"order_id": 2, "amount": Decimal("2.00")},
    ]
