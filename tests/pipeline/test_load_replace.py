"""mode = replace: the table becomes exactly the batch; the previous version is kept."""

from __future__ import annotations

from pipeline_kit import ORDERS_COLUMNS, assert_accounted, contract_yaml, pipeline_toml

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,3.25,paid\n"
V2 = "order_id,amount,status\n2,2.50,new\n3,3.25,paid\n4,4.00,new\n"
V3 = "order_id,amount,status\n4,4.00,new\n5,5.00,new\n"


def _project(new_project, csv, **settings):
    return new_project(csv=csv, pipeline=pipeline_toml(mode="replace", **settings))


def _versions(project):
    return [t for t in project.tables() if t.startswith("orders__dw_v")]


def test_the_table_becomes_exactly_the_batch_and_the_old_version_is_kept(new_project):
    project = _project(new_project, V1)
    project.run()
    v1 = project.content_hash()
    project.csv(V2)
    second = project.run()
    c = second.record.counts
    assert second.record.status == "succeeded"
    assert (c.extracted, c.inserted, c.updated, c.unchanged, c.deleted) == (3, 1, 1, 1, 1)
    assert [(r["order_id"], str(r["amount"])) for r in project.rows()] == [
        (2, "2.50"),
        (3, "3.25"),
        (4, "4.00"),
    ]
    previous = f"orders__dw_v{second.record.seq}"
    assert previous in _versions(project)
    assert project.content_hash(previous) == v1
    assert_accounted(c)


def test_identical_rerun_writes_nothing(new_project):
    project = _project(new_project, V1)
    project.run()
    tables = project.tables()
    assert tables == ["orders"]  # a first load has no previous version to keep
    before = project.content_hash()
    again = project.run()
    c = again.record.counts
    assert (c.inserted, c.updated, c.deleted, c.unchanged) == (0, 0, 0, 3)
    assert project.content_hash() == before
    assert project.tables() == tables  # no new version for a run that changed nothing


def test_keep_versions_bounds_the_versions_kept(new_project):
    project = _project(new_project, V1, keep_versions=1)
    project.run()
    project.csv(V2)
    project.run()
    v2 = project.content_hash()
    project.csv(V3)
    third = project.run()
    assert _versions(project) == [f"orders__dw_v{third.record.seq}"]
    assert project.content_hash(f"orders__dw_v{third.record.seq}") == v2
    assert [r["order_id"] for r in project.rows()] == [4, 5]


def test_replace_without_a_primary_key(new_project):
    columns = [
        (n, t, {k: v for k, v in extra.items() if k != "primaryKey"})
        for n, t, extra in ORDERS_COLUMNS
    ]
    project = new_project(
        contract=contract_yaml("orders", columns),
        csv=V1,
        pipeline=pipeline_toml(mode="replace"),
    )
    project.run()
    before = project.content_hash()
    again = project.run()
    assert (again.record.counts.inserted, again.record.counts.unchanged) == (0, 3)
    assert project.content_hash() == before
    project.csv(V2)
    third = project.run()
    c = third.record.counts
    assert (c.inserted, c.deleted, c.unchanged) == (3, 3, 0)
    assert [r["order_id"] for r in project.rows()] == [2, 3, 4]
    assert project.content_hash(f"orders__dw_v{third.record.seq}") == before
