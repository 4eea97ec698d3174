"""`dataward revert RUN_ID [--cascade]`: put a table back exactly as it was before a run."""

from __future__ import annotations

import shutil

import pytest
from pipeline_kit import ProjectDir, contract_yaml, make_project, pipeline_toml

from dataward.pipeline import ledger
from dataward.pipeline.revert import RevertRefused, revert_run
from dataward.project.config import load_project
from dataward.warehouse import connect_warehouse

# Every kind of value must survive the trip through the changelog's JSON text exactly.
WIDE = contract_yaml(
    "orders",
    [
        ("order_id", "BIGINT", {"primaryKey": True}),
        ("amount", "DECIMAL(19,4)", {"required": True}),
        ("ratio", "DOUBLE", {}),
        ("placed_at", "TIMESTAMPTZ", {}),
        ("day", "DATE", {}),
        ("paid", "BOOLEAN", {}),
        ("note", "TEXT", {}),
    ],
)
HEADER = "order_id,amount,ratio,placed_at,day,paid,note\n"
RUN0 = HEADER + (
    "1,1.5000,0.1,2025-03-01T09:15:00.123456Z,2025-03-01,true,plain\n"
    '2,2.0000,1e-07,2025-03-01T10:02:11+01:00,2025-03-02,false,"quote "" and, comma"\n'
    "3,3.2500,,2025-03-02T08:00:00Z,,,\n"
    "4,4.0000,-0.0,2025-03-02T11:30:00Z,2025-03-04,true,ünïcode: x\n"
)
# Run 1 changes 2, 3 and 4 and adds 5; run 2 changes 2 again and adds 6.
RUN1 = HEADER + (
    "1,1.5000,0.1,2025-03-01T09:15:00.123456Z,2025-03-01,true,plain\n"
    "2,2.5000,0.30000000000000004,2025-03-01T10:02:11+01:00,2025-03-02,true,changed\n"
    "3,3.2500,1e300,2025-03-02T08:00:00Z,2025-03-03,false,now set\n"
    "4,4.0000,0.0,2025-03-02T11:30:00Z,2025-03-04,true,ünïcode: y\n"
    "5,5.0000,5,2025-03-05T00:00:00Z,2025-03-05,false,new\n"
)
RUN2 = HEADER + (
    "2,9.9900,0.5,2025-03-01T10:02:11+01:00,2025-03-02,true,changed again\n"
    "6,6.0000,6,2025-03-06T00:00:00Z,2025-03-06,false,newer\n"
)


@pytest.fixture(scope="module")
def three_runs_template(tmp_path_factory):
    """A table after run 0 (the base), run 1 and run 2, with its content after each;
    built once, copied for each test."""
    project = make_project(tmp_path_factory.mktemp("revert"), contract=WIDE, csv=RUN0)
    hashes, ids = [], []
    for data in (RUN0, RUN1, RUN2):
        project.csv(data)
        outcome = project.run()
        assert outcome.record.status == "succeeded", outcome.record.reason
        ids.append(outcome.record.run_id)
        hashes.append(project.content_hash())
    return project, ids, hashes


@pytest.fixture
def three_runs(three_runs_template, tmp_path):
    template, ids, hashes = three_runs_template
    copy = tmp_path / "project"
    shutil.copytree(template.root, copy)
    return ProjectDir(copy), ids, hashes


def test_reverting_the_last_run_restores_the_exact_content_before_it(three_runs):
    project, (_, _, run2), hashes = three_runs
    outcome = revert_run(load_project(project.root), run2)
    assert outcome.reverted == [run2]
    assert project.content_hash() == hashes[1]


def test_reverting_a_run_that_later_runs_built_on_is_refused_naming_them(three_runs):
    project, (_, run1, run2), hashes = three_runs
    with pytest.raises(
        RevertRefused, match=f"later runs changed rows that run {run1} wrote: {run2}"
    ) as refused:
        revert_run(load_project(project.root), run1)
    assert refused.value.exit_code == 1 and "--cascade" in str(refused.value)
    assert project.content_hash() == hashes[2]
    assert [r["kind"] for r in project.runs()] == ["load", "load", "load"]


def test_cascade_reverts_the_later_runs_too_and_the_revert_is_a_run(three_runs):
    project, (run0, run1, run2), hashes = three_runs
    result = project.cli("revert", run1, "--cascade")
    assert result.returncode == 0, result.stderr
    assert f"reverted {run2}, {run1} as run" in result.stdout
    assert project.content_hash() == hashes[0]
    # What `dataward runs --format json` lists.
    wh = connect_warehouse(f"duckdb:///{project.warehouse}", project.root, 5)
    try:
        wh.open()
        runs = [r.to_json() for r in ledger.read_runs(wh)]
    finally:
        wh.close()
    newest = runs[0]
    assert newest["kind"] == "revert" and newest["status"] == "succeeded"
    assert newest["reverts"].split(",") == [run2, run1]
    assert [r["run_id"] for r in runs[1:]] == [run2, run1, run0]


def test_reverting_the_later_run_first_then_the_earlier_one_is_allowed(three_runs):
    """What the refusal tells the user to do must work."""
    project, (_, run1, run2), hashes = three_runs
    project_config = load_project(project.root)
    revert_run(project_config, run2)
    assert project.content_hash() == hashes[1]
    revert_run(project_config, run1)
    assert project.content_hash() == hashes[0]


def test_a_run_is_reverted_once(three_runs):
    project, (_, _, run2), _ = three_runs
    revert_run(load_project(project.root), run2)
    with pytest.raises(RevertRefused, match="already reverted"):
        revert_run(load_project(project.root), run2)


def test_a_revert_can_be_reverted(three_runs):
    project, (_, _, run2), hashes = three_runs
    undo = revert_run(load_project(project.root), run2)
    assert project.content_hash() == hashes[1]
    revert_run(load_project(project.root), undo.record.run_id)
    assert project.content_hash() == hashes[2]


def test_a_cascade_revert_can_be_reverted(three_runs):
    project, (_, run1, _), hashes = three_runs
    undo = revert_run(load_project(project.root), run1, cascade=True)
    assert project.content_hash() == hashes[0]
    revert_run(load_project(project.root), undo.record.run_id)
    assert project.content_hash() == hashes[2]


def test_reverting_an_overwrite_partition_run_restores_deleted_rows(new_project):
    contract = contract_yaml(
        "sales",
        [
            ("sale_id", "BIGINT", {"primaryKey": True}),
            ("day", "DATE", {"required": True}),
            ("amount", "DECIMAL(10,2)", {"required": True}),
        ],
    )
    project = new_project(
        contract=contract,
        pipeline=pipeline_toml(path="data/sales.csv", mode="overwrite-partition", partition="day"),
    )
    project.csv(
        "sale_id,day,amount\n1,2025-01-01,1.00\n2,2025-01-02,2.00\n3,2025-01-02,3.00\n",
        "data/sales.csv",
    )
    project.run()
    before = project.content_hash("sales")
    project.csv("sale_id,day,amount\n2,2025-01-02,20.00\n4,2025-01-02,4.00\n", "data/sales.csv")
    second = project.run()
    assert second.record.counts.deleted == 1
    after = project.content_hash("sales")
    undo = revert_run(load_project(project.root), second.record.run_id)
    assert project.content_hash("sales") == before
    revert_run(load_project(project.root), undo.record.run_id)
    assert project.content_hash("sales") == after
