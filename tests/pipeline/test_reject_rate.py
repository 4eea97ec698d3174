"""max_reject_rate: above it the run fails and loads nothing, but the rejects are kept."""

from __future__ import annotations

import json

import pytest
from pipeline_kit import assert_accounted, pipeline_toml

GOOD = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,3.25,paid\n"
# One row of four does not parse: a 25% reject rate.
ONE_BAD = "order_id,amount,status\n10,1.50,paid\n11,abc,new\n12,3.25,paid\n13,4.00,paid\n"


def test_above_the_threshold_the_cli_exits_1_loads_nothing_and_records_the_rejects(new_project):
    project = new_project(csv=GOOD, pipeline=pipeline_toml(max_reject_rate=0.2))
    project.run()
    before = project.content_hash()
    project.csv(ONE_BAD)
    result = project.cli("run", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (record,) = json.loads(result.stdout)
    assert record["status"] == "failed"
    assert "1 of 4 rows rejected" in record["reason"] and "nothing was loaded" in record["reason"]
    assert project.content_hash() == before
    (reject,) = project.rejects(record["run_id"])
    assert reject["row"] == 2 and reject["record"]["amount"] == "abc"
    assert reject["stage"] == "validate"


@pytest.mark.parametrize("limit", [0.25, 0.5])
def test_at_or_below_the_threshold_the_rest_loads(new_project, limit):
    project = new_project(csv=ONE_BAD, pipeline=pipeline_toml(max_reject_rate=limit))
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded"
    assert (c.extracted, c.rejected, c.inserted) == (4, 1, 3)
    assert [r["order_id"] for r in project.rows()] == [10, 12, 13]
    assert len(project.rejects(outcome.record.run_id)) == 1
    assert_accounted(c)


def test_just_above_the_threshold_fails_in_process(new_project):
    project = new_project(csv=ONE_BAD, pipeline=pipeline_toml(max_reject_rate=0.2499))
    outcome = project.run()
    assert outcome.record.status == "failed"
    assert not project.exists("orders")
    assert len(project.rejects(outcome.record.run_id)) == 1
    (run,) = project.runs()
    assert run["status"] == "failed" and run["rejected"] == 1 and run["inserted"] == 0


def test_load_time_rejects_of_a_failed_run_are_recorded(new_project):
    project = new_project(
        csv="order_id,amount,status\n1,1.00,a\n7,2.00,b\n7,3.00,b\n3,3.00,c\n",
        pipeline=pipeline_toml(max_reject_rate=0.1),
    )
    outcome = project.run()
    assert outcome.record.status == "failed"
    assert "2 of 4 rows rejected" in (outcome.record.reason or "")
    assert [r["row"] for r in project.rejects(outcome.record.run_id)] == [2, 3]
