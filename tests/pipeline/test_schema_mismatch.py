"""A contract the live table no longer matches stops the run before the source is read."""

from __future__ import annotations

import pytest
from pipeline_kit import ORDERS_COLUMNS, contract_yaml
from structlog.testing import capture_logs

from dataward.pipeline.run import SchemaMismatchError

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"

ADDED_COLUMN = contract_yaml(
    "orders", [*ORDERS_COLUMNS, ("customer_id", "BIGINT", {"required": True})]
)
CHANGED_TYPE = contract_yaml(
    "orders",
    [
        ("order_id", "BIGINT", {"primaryKey": True}),
        ("amount", "DOUBLE", {"required": True}),
        ("status", "TEXT", {}),
    ],
)


def test_the_cli_exits_2_naming_the_column_and_the_migration(new_project):
    project = new_project(csv=V1)
    project.run()
    before = project.content_hash()
    project.contract(ADDED_COLUMN)
    # The source is gone: a run that read it would fail with "file not found" instead.
    (project.root / "data" / "orders.csv").unlink()
    result = project.cli("run")
    assert result.returncode == 2, result.stderr
    assert "customer_id" in result.stderr and "migration" in result.stderr, result.stderr
    assert "file not found" not in result.stderr
    assert "Traceback" not in result.stderr
    assert project.content_hash() == before


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        # Types as the warehouse spells them (DuckDB: BIGINT, PostgreSQL: bigint).
        (
            ADDED_COLUMN,
            r"(?i)customer_id: the contract wants BIGINT NOT NULL, the table has no such",
        ),
        (
            CHANGED_TYPE,
            r"(?i)amount: the contract wants (DOUBLE|double precision) NOT NULL, "
            r"the table has (DECIMAL|numeric)",
        ),
    ],
    ids=["added-required-column", "changed-type"],
)
def test_the_run_stops_before_extracting(new_project, contract, message):
    project = new_project(csv=V1)
    project.run()
    before = project.content_hash()
    project.contract(contract)
    (project.root / "data" / "orders.csv").unlink()
    with pytest.raises(SchemaMismatchError, match=message) as raised:
        project.run()
    assert "migration" in str(raised.value)
    assert project.content_hash() == before


def test_a_schema_mismatch_is_recorded_and_alerts(new_project):
    project = new_project(csv=V1)
    project.run()
    project.contract(CHANGED_TYPE)
    with capture_logs() as events, pytest.raises(SchemaMismatchError):
        project.run()
    assert any(e["event"] == "alert" for e in events)
    assert [r["status"] for r in project.runs()] == ["succeeded", "failed"]
