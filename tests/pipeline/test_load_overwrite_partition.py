"""mode = overwrite-partition: the batch's partitions become exactly the batch."""

from __future__ import annotations

import json

from pipeline_kit import assert_accounted, contract_yaml, pipeline_toml

KEYED = contract_yaml(
    "sales",
    [
        ("sale_id", "BIGINT", {"primaryKey": True}),
        ("day", "DATE", {"required": True}),
        ("amount", "DECIMAL(10,2)", {"required": True}),
    ],
)
UNKEYED = contract_yaml(
    "sales",
    [
        ("day", "DATE", {"required": True}),
        ("shop", "TEXT", {"required": True}),
        ("amount", "DECIMAL(10,2)", {"required": True}),
    ],
)
PIPELINE = pipeline_toml(path="data/sales.csv", mode="overwrite-partition", partition="day")

KEYED_V1 = (
    "sale_id,day,amount\n"
    "1,2025-01-01,1.00\n2,2025-01-01,2.00\n3,2025-01-02,3.00\n4,2025-01-02,4.00\n"
)
# Only 2025-01-02 is delivered again: 3 changed, 4 gone, 5 new; 2025-01-01 untouched.
KEYED_V2 = "sale_id,day,amount\n3,2025-01-02,30.00\n5,2025-01-02,5.00\n"


def _project(new_project, contract, csv):
    project = new_project(contract=contract, pipeline=PIPELINE)
    project.csv(csv, "data/sales.csv")
    return project


def test_the_batch_partitions_are_replaced_and_others_untouched(new_project):
    project = _project(new_project, KEYED, KEYED_V1)
    first = project.run()
    assert first.record.counts.inserted == 4
    day1 = [r for r in project.rows("sales") if str(r["day"]) == "2025-01-01"]
    project.csv(KEYED_V2, "data/sales.csv")
    second = project.run()
    c = second.record.counts
    assert second.record.status == "succeeded"
    assert (c.extracted, c.inserted, c.updated, c.unchanged, c.deleted) == (2, 1, 1, 0, 1)
    rows = project.rows("sales")
    assert [(r["sale_id"], str(r["day"]), str(r["amount"])) for r in rows] == [
        (1, "2025-01-01", "1.00"),
        (2, "2025-01-01", "2.00"),
        (3, "2025-01-02", "30.00"),
        (5, "2025-01-02", "5.00"),
    ]
    assert [r for r in rows if str(r["day"]) == "2025-01-01"] == day1  # lineage too
    ops = project.query("SELECT op, row_key FROM dataward.changes")
    assert sorted((op, json.loads(key)["sale_id"]) for op, key in ops) == [
        ("delete", "4"),
        ("update", "3"),
    ]
    assert_accounted(c)


def test_identical_rerun_writes_nothing(new_project):
    project = _project(new_project, KEYED, KEYED_V1)
    project.run()
    before = project.content_hash("sales")
    again = project.run()
    c = again.record.counts
    assert (c.inserted, c.updated, c.deleted, c.unchanged) == (0, 0, 0, 4)
    assert project.content_hash("sales") == before
    assert project.query("SELECT count(*) FROM dataward.changes")[0][0] == 0


def test_a_failure_inside_the_load_leaves_every_partition_as_it_was(new_project):
    """Atomic: the delete of the partition and the insert of the batch commit together.
    A VERIFY failure after both statements ran rolls both back."""
    project = _project(new_project, KEYED, KEYED_V1)
    project.run()
    before = project.content_hash("sales")
    # A table rule the new partition content breaks: amounts of at most 10.
    project.contract(
        contract_yaml(
            "sales",
            [
                ("sale_id", "BIGINT", {"primaryKey": True}),
                ("day", "DATE", {"required": True}),
                ("amount", "DECIMAL(10,2)", {"required": True}),
            ],
            quality=[
                {
                    "type": "sql",
                    "name": "small_amounts",
                    "query": "SELECT count(*) FROM ${object} WHERE amount > 10",
                    "mustBe": 0,
                }
            ],
        )
    )
    project.csv(KEYED_V2, "data/sales.csv")
    outcome = project.run()
    assert outcome.record.status == "failed"
    assert "small_amounts" in (outcome.record.reason or "")
    assert project.content_hash("sales") == before
    assert project.query("SELECT count(*) FROM dataward.changes")[0][0] == 0


def test_without_a_key_a_changed_partition_is_rewritten_and_the_others_kept(new_project):
    project = _project(
        new_project,
        UNKEYED,
        "day,shop,amount\n2025-01-01,a,1.00\n2025-01-01,b,2.00\n2025-01-02,a,3.00\n",
    )
    first = project.run()
    assert first.record.counts.inserted == 3
    untouched = [r for r in project.rows("sales") if str(r["day"]) == "2025-01-01"]
    before = project.content_hash("sales")
    again = project.run()
    assert (again.record.counts.inserted, again.record.counts.deleted) == (0, 0)
    assert again.record.counts.unchanged == 3
    assert project.content_hash("sales") == before
    project.csv(
        "day,shop,amount\n2025-01-02,a,3.00\n2025-01-02,c,7.00\n2025-01-02,c,7.00\n",
        "data/sales.csv",
    )
    third = project.run()
    c = third.record.counts
    assert third.record.status == "succeeded"
    # Identical rows without a key are distinct facts: both are kept.
    assert (c.extracted, c.inserted, c.deleted, c.duplicates_dropped) == (3, 3, 1, 0)
    rows = project.rows("sales", "day, shop, amount")
    assert [(str(r["day"]), r["shop"], str(r["amount"])) for r in rows] == [
        ("2025-01-01", "a", "1.00"),
        ("2025-01-01", "b", "2.00"),
        ("2025-01-02", "a", "3.00"),
        ("2025-01-02", "c", "7.00"),
        ("2025-01-02", "c", "7.00"),
    ]
    assert [r for r in project.rows("sales") if str(r["day"]) == "2025-01-01"] == untouched
    assert_accounted(c)
