"""`dataward trace TABLE KEY`: a row's values, where it came from, and what happened to it."""

from __future__ import annotations

import json

import pytest
from pipeline_kit import ORDERS_COLUMNS, contract_yaml

from dataward.contract.loader import load_contract
from dataward.errors import UsageError
from dataward.pipeline.trace import trace_row
from dataward.project.config import load_project
from dataward.warehouse import connect_warehouse

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"
V2 = "order_id,amount,status\n1,1.50,paid\n2,2.75,shipped\n"


def _trace(project, *key):
    config = load_project(project.root)
    table = load_contract(config.pipeline("orders").contract).table(None)
    wh = connect_warehouse(config.warehouse_url, config.root, 5)
    try:
        wh.open()
        return trace_row(wh, table, list(key))
    finally:
        wh.close()


def test_trace_shows_the_current_row_its_source_and_run(new_project):
    project = new_project(csv=V1)
    first = project.run()
    result = project.cli("trace", "orders", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["key"] == {"order_id": "2"}
    current = found["current"]
    assert current["order_id"] == 2 and current["amount"] == "2.00" and current["status"] == "new"
    assert current["_dw_source"] == "data/orders.csv"
    assert current["_dw_source_row"] == 2
    assert current["_dw_run_id"] == first.record.run_id
    assert found["history"] == []


def test_trace_shows_the_history_after_an_update(new_project):
    project = new_project(csv=V1)
    first = project.run()
    project.csv(V2)
    second = project.run()
    found = _trace(project, "2")
    assert found.current["amount"] == "2.75" and found.current["status"] == "shipped"
    assert found.current["_dw_run_id"] == second.record.run_id
    (change,) = found.history
    assert change["run_id"] == second.record.run_id and change["op"] == "update"
    assert change["kind"] == "load" and change["pipeline"] == "orders"
    before = change["before"]
    assert (before["amount"], before["status"]) == ("2.00", "new")
    assert before["_dw_run_id"] == first.record.run_id
    # The after-state of the latest change is the row as it is now.
    assert change["after"]["amount"] == "2.75"
    assert change["after"]["_dw_run_id"] == second.record.run_id
    # A row never changed has no history.
    assert _trace(project, "1").history == []


def test_trace_of_a_key_not_in_the_table(new_project):
    project = new_project(csv=V1)
    project.run()
    found = _trace(project, "99")
    assert found.current is None and found.history == []


def test_trace_with_a_value_that_is_not_a_key_is_a_usage_error(new_project):
    project = new_project(csv=V1)
    project.run()
    with pytest.raises(UsageError, match="cannot read the key"):
        _trace(project, "not-a-number")
    with pytest.raises(UsageError, match="give 1 value"):
        _trace(project, "1", "2")


def test_trace_of_a_composite_key(new_project):
    contract = contract_yaml(
        "orders",
        [("region", "TEXT", {"primaryKey": True}), *ORDERS_COLUMNS],
    )
    project = new_project(
        contract=contract, csv="region,order_id,amount,status\neu,1,1.00,a\nus,1,2.00,b\n"
    )
    project.run()
    project.csv("region,order_id,amount,status\neu,1,1.00,a\nus,1,3.00,b\n")
    project.run()
    found = _trace(project, "us", "1")
    assert found.current["amount"] == "3.00"
    assert [c["before"]["amount"] for c in found.history] == ["2.00"]
