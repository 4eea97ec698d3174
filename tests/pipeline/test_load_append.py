"""mode = append: events are inserted once and never updated."""

from __future__ import annotations

from pipeline_kit import assert_accounted, pipeline_toml

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"


def _project(new_project, csv):
    return new_project(csv=csv, pipeline=pipeline_toml(mode="append", max_reject_rate=0.5))


def test_new_keys_are_inserted(new_project):
    project = _project(new_project, V1)
    first = project.run()
    assert (first.record.counts.inserted, first.record.counts.unchanged) == (2, 0)
    project.csv(V1 + "3,3.00,paid\n")
    second = project.run()
    c = second.record.counts
    assert (c.extracted, c.inserted, c.unchanged, c.updated, c.rejected) == (3, 1, 2, 0, 0)
    assert [r["order_id"] for r in project.rows()] == [1, 2, 3]
    assert_accounted(c)


def test_identical_redelivery_is_a_no_op(new_project):
    project = _project(new_project, V1)
    project.run()
    before = project.content_hash()
    again = project.run()
    c = again.record.counts
    assert again.record.status == "succeeded"
    assert (c.inserted, c.updated, c.unchanged, c.rejected) == (0, 0, 2, 0)
    assert project.content_hash() == before


def test_a_different_event_with_a_known_key_is_rejected_never_updated(new_project):
    project = _project(new_project, V1)
    project.run()
    before = project.content_hash()
    project.csv("order_id,amount,status\n1,1.50,paid\n2,99.00,new\n")
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded"
    assert (c.rejected, c.updated, c.inserted, c.unchanged) == (1, 0, 0, 1)
    assert project.content_hash() == before  # row 2 keeps its first values
    (reject,) = project.rejects(outcome.record.run_id)
    assert reject["row"] == 2 and reject["record"]["amount"] == "99.00"
    assert "append never updates" in reject["reasons"][0]["message"]
    assert project.query("SELECT count(*) FROM dataward.changes")[0][0] == 0
    assert_accounted(c)


def test_changed_events_count_towards_the_reject_rate(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(mode="append"))
    project.run()
    before = project.content_hash()
    project.csv("order_id,amount,status\n1,9.00,paid\n2,9.00,new\n")
    outcome = project.run()  # every row rejected; the default maximum is 1%
    assert outcome.record.status == "failed"
    assert project.content_hash() == before
