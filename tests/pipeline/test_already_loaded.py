"""An identical re-run into an untouched table is recognised from the ledger and compares
nothing; anything that could change the outcome makes it compare every row again."""

from __future__ import annotations

from pipeline_kit import assert_accounted, pipeline_toml

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,x,paid\n"


def test_the_same_input_into_an_untouched_table_is_recognised(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(max_reject_rate=0.5))
    first = project.run()
    before = project.content_hash()
    again = project.run()
    assert again.record.status == "succeeded"
    assert any(f"already loaded by run {first.record.run_id}" in w for w in again.record.warnings)
    c = again.record.counts
    assert (c.extracted, c.rejected, c.inserted, c.updated, c.unchanged) == (3, 1, 0, 0, 2)
    assert_accounted(c)
    assert project.content_hash() == before
    # The run's rejects are its own, like any run's.
    assert len(project.rejects(again.record.run_id)) == 1


def test_recheck_compares_every_row_and_repairs_an_edit_made_outside_dataward(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(max_reject_rate=0.5))
    project.run()
    project.execute("UPDATE orders SET amount = 99 WHERE order_id = 1")
    # The edit left every row's run id in place, so the ledger cannot see it ...
    assert project.run().record.counts.updated == 0
    assert project.rows()[0]["amount"] == 99
    # ... a full comparison can.
    repaired = project.run(recheck=True)
    assert repaired.record.counts.updated == 1
    assert float(project.rows()[0]["amount"]) == 1.5


def test_a_row_deleted_outside_dataward_makes_the_next_run_compare(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(max_reject_rate=0.5))
    project.run()
    project.execute("DELETE FROM orders WHERE order_id = 2")
    again = project.run()
    assert (again.record.counts.inserted, again.record.counts.unchanged) == (1, 1)


def test_a_changed_contract_or_transform_makes_the_next_run_compare(new_project):
    project = new_project(
        csv=V1, pipeline=pipeline_toml(max_reject_rate=0.5, transform="pipelines/t.py:same")
    )
    project.write("pipelines/t.py", "def same(rows):\n    return rows\n")
    project.run()
    project.write("pipelines/t.py", "def same(rows):\n    return rows  # edited\n")
    after_transform = project.run()
    assert not any("already loaded" in w for w in after_transform.record.warnings)
    assert after_transform.record.counts.unchanged == 2
    recognised = project.run()
    assert any("already loaded" in w for w in recognised.record.warnings)
    project.pipeline("orders", pipeline_toml(max_reject_rate=0.6, transform="pipelines/t.py:same"))
    assert not any("already loaded" in w for w in project.run().record.warnings)


def test_a_ledger_from_before_table_state_still_reads_and_runs(new_project):
    project = new_project(csv=V1, pipeline=pipeline_toml(max_reject_rate=0.5))
    project.run()
    project.execute("ALTER TABLE dataward.runs DROP COLUMN table_state")
    listed = project.cli("runs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert project.run().record.counts.unchanged == 2
