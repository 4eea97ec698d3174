"""mode = merge: upsert on the primary key; a re-run writes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC

from pipeline_kit import ORDERS, assert_accounted, pipeline_toml

from dataward.contract.loader import parse_contract
from dataward.pipeline.row_hash import python_row_hash

ORDERS_TABLE = parse_contract(ORDERS).table("orders")
V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,3.25,paid\n"
# Row 2 changed, row 3 the same, row 1 missing (merge keeps it), row 4 new.
V2 = "order_id,amount,status\n2,2.50,new\n3,3.25,paid\n4,4.00,\n"


def test_first_load_inserts_every_row(new_project):
    project = new_project(csv=V1)
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded"
    assert (c.extracted, c.inserted, c.updated, c.unchanged, c.rejected) == (3, 3, 0, 0, 0)
    assert [r["order_id"] for r in project.rows()] == [1, 2, 3]
    assert_accounted(c)


def test_identical_rerun_writes_nothing_and_leaves_the_table_byte_identical(new_project):
    project = new_project(csv=V1)
    first = project.run()
    before = project.content_hash()
    again = project.run()
    c = again.record.counts
    assert again.record.status == "succeeded"
    assert (c.inserted, c.updated, c.deleted, c.unchanged) == (0, 0, 0, 3)
    assert project.content_hash() == before
    # Every row still belongs to the first run: nothing was rewritten.
    assert {r["_dw_run_id"] for r in project.rows()} == {first.record.run_id}
    assert again.record.input_fingerprint == first.record.input_fingerprint
    assert project.query("SELECT count(*) FROM dataward.changes")[0][0] == 0


def test_changed_source_gives_exact_deltas_and_a_new_fingerprint(new_project):
    project = new_project(csv=V1)
    first = project.run()
    project.csv(V2)
    second = project.run()
    c = second.record.counts
    assert (c.extracted, c.inserted, c.updated, c.unchanged, c.deleted) == (3, 1, 1, 1, 0)
    assert second.record.input_fingerprint != first.record.input_fingerprint
    rows = {r["order_id"]: r for r in project.rows()}
    assert sorted(rows) == [1, 2, 3, 4]
    assert str(rows[2]["amount"]) == "2.50"
    assert rows[2]["_dw_run_id"] == second.record.run_id
    assert rows[3]["_dw_run_id"] == first.record.run_id  # unchanged: not rewritten
    assert rows[1]["_dw_run_id"] == first.record.run_id
    assert rows[4]["status"] is None
    # The update's before-state is in the changelog.
    changes = project.query("SELECT run_id, op, row_key FROM dataward.changes")
    assert [(r, op, json.loads(key)) for r, op, key in changes] == [
        (second.record.run_id, "update", {"order_id": "2"})
    ]
    assert_accounted(c)


def test_identical_duplicate_keys_in_one_batch_keep_one_row(new_project):
    project = new_project(csv="order_id,amount,status\n1,1.50,paid\n1,1.50,paid\n2,2.00,new\n")
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded"
    assert (c.extracted, c.duplicates_dropped, c.inserted, c.rejected) == (3, 1, 2, 0)
    rows = project.rows()
    assert [r["order_id"] for r in rows] == [1, 2]
    assert rows[0]["_dw_source_row"] == 1  # the first copy is the one kept
    assert_accounted(c)


def test_conflicting_duplicate_keys_are_all_rejected_with_the_key_named(new_project):
    project = new_project(
        csv="order_id,amount,status\n1,1.50,paid\n7,2.00,new\n7,9.99,new\n3,3.00,paid\n",
        pipeline=None,
    )
    project.pipeline(
        "orders",
        'contract = "contracts/orders.odcs.yaml"\nmax_reject_rate = 0.5\n'
        '[source]\npath = "data/orders.csv"\n',
    )
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded"
    assert (c.extracted, c.rejected, c.duplicates_dropped, c.inserted) == (4, 2, 0, 2)
    assert [r["order_id"] for r in project.rows()] == [1, 3]
    rejects = project.rejects(outcome.record.run_id)
    assert [(r["row"], r["stage"]) for r in rejects] == [(2, "load"), (3, "load")]
    for reject in rejects:
        assert reject["source"].endswith("data/orders.csv")
        assert reject["record"]["order_id"] == "7"
        (reason,) = reject["reasons"]
        assert reason["column"] == "order_id" and reason["value"] == "7"
        assert "primary_key" in reason["check"]
        assert "2 times" in reason["message"] and "source rows 2, 3" in reason["message"]
    assert_accounted(c)


def test_every_row_carries_its_lineage(new_project):
    project = new_project(csv=V1)
    outcome = project.run()
    source = "data/orders.csv"  # relative to the project: the same on every machine
    for index, row in enumerate(project.rows(), start=1):
        assert row["_dw_run_id"] == outcome.record.run_id
        assert row["_dw_source"] == source
        assert row["_dw_source_row"] == index
        # md5's 128 bits, stored as a UUID: the reference implementation's value.
        assert isinstance(row["_dw_row_hash"], uuid.UUID)
        assert str(row["_dw_row_hash"]) == python_row_hash(ORDERS_TABLE.columns, row)
        assert row["_dw_loaded_at"].tzinfo is not None
        assert row["_dw_loaded_at"].utcoffset() == UTC.utcoffset(None)
    types = {name: kind.lower() for name, kind, _ in project.look.shape("orders")}
    assert types["_dw_loaded_at"] == "timestamp with time zone"
    assert types["_dw_row_hash"] == "uuid"


def test_a_dry_run_reports_the_deltas_and_writes_nothing(new_project):
    project = new_project(csv=V1)
    project.run()
    before = project.content_hash()
    project.csv(V2)
    outcome = project.run(dry_run=True)
    c = outcome.record.counts
    assert outcome.record.status == "dry-run"
    assert (c.inserted, c.updated, c.unchanged) == (1, 1, 1)
    assert project.content_hash() == before
    assert len(project.runs()) == 1
    assert project.query("SELECT count(*) FROM dataward.changes")[0][0] == 0


def test_row_accounting_adds_up_with_every_kind_of_row(new_project):
    """extracted = rejected + duplicates_dropped + inserted + updated + unchanged, in a
    batch holding each kind: a row that does not parse, an identical copy, two rows
    that disagree on a key, a new row, a changed row and an unchanged one."""
    project = new_project(csv=V1, pipeline=pipeline_toml(max_reject_rate=0.5))
    project.run()
    project.csv(
        "order_id,amount,status\n"
        "1,1.50,paid\n"  # unchanged
        "2,2.25,new\n"  # updated
        "4,4.00,new\n"  # inserted
        "4,4.00,new\n"  # identical copy: dropped
        "5,5.00,a\n"  # 5 twice, different: both rejected
        "5,5.01,a\n"
        "6,six,new\n"  # does not parse: rejected
    )
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded", outcome.record.reason
    assert (c.extracted, c.rejected, c.duplicates_dropped) == (7, 3, 1)
    assert (c.inserted, c.updated, c.unchanged) == (1, 1, 1)
    assert c.extracted == c.rejected + c.duplicates_dropped + c.inserted + c.updated + c.unchanged
    (run,) = [r for r in project.runs() if r["run_id"] == outcome.record.run_id]
    assert_accounted(run)
