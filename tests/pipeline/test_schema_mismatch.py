"""A contract the live table no longer matches stops the run before the source is read."""

from __future__ import annotations

import pytest
from pipeline_kit import ORDERS_COLUMNS, contract_yaml

from dataward.pipeline.run import SchemaMismatchError

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"

ADDED_COLUMN = contract_yaml(
    "orders", [*ORDERS_COLUMNS, ("customer_id", "BIGINT", {"required": True})]
)
CHANGED_TYPE = contract_yaml(
    "orders",
    [("order_id", "BIGINT", {"primaryKey": True}), ("amount", "DOUBLE", {"required": True}), ("status", "TEXT", {})],
)


@pytest.mark.parametrize(
    ("contract", "column"),
    [(ADDED_COLUMN, "customer_id"), (CHANGED_TYPE, "amount")],
    ids=["added-required-column", "changed-type"],
)
def test_the_cli_exits_2_naming_the_column_and_the_migration(new_project, contract, column):
    project = new_project(csv=V1)
    project.run()
    before = project.content_hash()
    project.contract(contract)
    # The source is gone: a run that read it would fail with "file not found" instead.
    (project.root / "data" / "orders.csv").unlink()
    result = project.cli("run")
    assert result.returncode == 2, result.stderr
    assert column in result.stderr and "migration" in result.stderr, result.stderr
    assert "file not found" not in result.stderr
    assert "Traceback" not in result.stderr
    assert project.content_hash() == before


def test_the_library_raises_schema_mismatch_before_extracting(new_project):
    project = new_project(csv=V1)
    project.run()
    project.contract(CHANGED_TYPE)
    (project.root / "data" / "orders.csv").unlink()
    with pytest.raises(SchemaMismatchError, match=r"amount: the contract wants DOUBLE NOT NULL"):
        project.run()
