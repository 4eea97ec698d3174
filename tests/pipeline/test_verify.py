"""VERIFY runs inside the load transaction: a failing contract rule means nothing commits."""

from __future__ import annotations

from pipeline_kit import ORDERS_COLUMNS, contract_yaml
from structlog.testing import capture_logs

FEW_ROWS = contract_yaml(
    "orders",
    ORDERS_COLUMNS,
    quality=[{"type": "library", "metric": "rowCount", "mustBeLessThan": 3}],
)
TWO = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"
FIVE = TWO + "3,3.00,paid\n4,4.00,paid\n5,5.00,paid\n"


def test_a_failing_dataset_rule_on_a_first_load_leaves_no_table(new_project):
    project = new_project(contract=FEW_ROWS, csv=FIVE)
    with capture_logs() as events:
        outcome = project.run()
    assert outcome.record.status == "failed"
    reason = outcome.record.reason or ""
    assert reason.startswith("verify orders.rowCount") and "measured 5" in reason, reason
    assert not project.exists("orders")
    (run,) = project.runs()
    assert run["status"] == "failed" and run["reason"] == outcome.record.reason
    alerts = [e for e in events if e["event"] == "alert"]
    assert alerts and alerts[0]["run_id"] == outcome.record.run_id
    assert alerts[0]["detector"] == "run_failed" and outcome.record.reason in alerts[0]["message"]


def test_a_failing_dataset_rule_leaves_the_committed_table_unchanged(new_project):
    project = new_project(contract=FEW_ROWS, csv=TWO)
    assert project.run().record.status == "succeeded"
    before = project.content_hash()
    project.csv(FIVE)
    outcome = project.run()
    assert outcome.record.status == "failed"
    assert project.content_hash() == before
    assert [r["order_id"] for r in project.rows()] == [1, 2]
    assert project.query("SELECT count(*) FROM dataward.changes")[0][0] == 0
    assert [r["status"] for r in project.runs()] == ["succeeded", "failed"]
