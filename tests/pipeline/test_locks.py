"""One run per pipeline; the warehouse file is written by one process at a time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from pipeline_kit import pipeline_toml

from dataward.pipeline.lock import PipelineLock
from dataward.project.config import load_project

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"

HOLD_WAREHOUSE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_second_run_of_a_pipeline_whose_lock_is_held_exits_4_at_once(new_project):
    project = new_project(csv=V1)
    with PipelineLock(load_project(project.root).state_dir, "orders"):
        started = time.monotonic()
        result = project.cli("run", "orders")
        elapsed = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    assert "already running" in result.stderr and "Traceback" not in result.stderr
    assert elapsed < 10  # no waiting: the CLI's own start-up is most of it
    assert not project.look.exists()  # it never touched the warehouse


@pytest.mark.duckdb_only
def test_a_warehouse_held_by_another_process_exits_4_saying_it_is_locked(new_project):
    project = new_project(csv=V1, config="lock_wait_seconds = 1\n")
    assert load_project(project.root).lock_wait_seconds == 1
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WAREHOUSE, str(project.warehouse), "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        result = project.cli("run")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 4, result.stderr
    assert "locked" in result.stderr and "Traceback" not in result.stderr


def test_two_pipelines_into_one_warehouse_started_together_both_succeed(new_project):
    project = new_project(csv=V1)
    project.write(
        "contracts/other.odcs.yaml",
        (project.root / "contracts" / "orders.odcs.yaml")
        .read_text()
        .replace("name: orders", "name: other"),
    )
    project.pipeline(
        "other", pipeline_toml(contract="contracts/other.odcs.yaml", path="data/other.csv")
    )
    project.csv("order_id,amount,status\n7,7.00,x\n8,8.00,y\n9,9.00,z\n", "data/other.csv")
    runs = [project.popen("run", name) for name in ("orders", "other")]
    outputs = [p.communicate(timeout=60) for p in runs]
    for process, (_, err) in zip(runs, outputs, strict=True):
        assert process.returncode == 0, err
    assert [r["order_id"] for r in project.rows("orders")] == [1, 2]
    assert [r["order_id"] for r in project.rows("other")] == [7, 8, 9]
    assert sorted(r["status"] for r in project.runs()) == ["succeeded", "succeeded"]
