"""overwrite-partition into a natively partitioned PostgreSQL table (PARTITION BY LIST):
each delivered partition is rebuilt beside the one it replaces and swapped in by DETACH and
ATTACH; the replaced one is kept. A value without a partition of its own (the DEFAULT one
holds it) is loaded by delete and upsert instead. Both are recorded and revert exactly."""

from __future__ import annotations

import json

import pytest
from pipeline_kit import assert_accounted, contract_yaml, pipeline_toml

from dataward.checks import compile_checks
from dataward.contract.loader import parse_contract
from dataward.pipeline.schema import target_ddl

pytestmark = pytest.mark.postgres_only

CONTRACT = contract_yaml(
    "sales",
    [
        # A partitioned table's key must hold its partition column.
        ("sale_id", "BIGINT", {"primaryKey": True}),
        ("day", "DATE", {"primaryKey": True}),
        ("amount", "DECIMAL(10,2)", {"required": True}),
    ],
)
V1 = "sale_id,day,amount\n1,2025-01-01,1.00\n2,2025-01-01,2.00\n3,2025-01-02,3.00\n4,2025-01-02,4.00\n"
# Only 2025-01-02 again: 3 changed, 4 gone, 5 new; 2025-01-01 untouched.
V2 = "sale_id,day,amount\n3,2025-01-02,30.00\n5,2025-01-02,5.00\n"


def _partitioned(project) -> None:
    """The table as a migration would have made it: the contract's DDL, partitioned."""
    table = parse_contract(CONTRACT).table("sales")
    ddl = target_ddl(table, "sales", "postgres", compile_checks(parse_contract(CONTRACT), table))
    project.execute(ddl + ' PARTITION BY LIST ("day")')
    project.execute("CREATE TABLE sales_d1 PARTITION OF sales FOR VALUES IN ('2025-01-01')")
    project.execute("CREATE TABLE sales_d2 PARTITION OF sales FOR VALUES IN ('2025-01-02')")
    project.execute("CREATE TABLE sales_other PARTITION OF sales DEFAULT")


def _oid(project, name: str) -> int | None:
    return project.query("SELECT to_regclass(?)::oid", [name])[0][0]


def _attached(project) -> list[str]:
    return [
        r[0]
        for r in project.query(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'sales'::regclass ORDER BY 1"
        )
    ]


def _amounts(project) -> list[tuple[int, str, str]]:
    return [(r["sale_id"], str(r["day"]), str(r["amount"])) for r in project.rows("sales")]


def test_a_delivered_partition_is_swapped_in_and_the_old_one_kept(new_project):
    project = new_project(
        contract=CONTRACT,
        pipeline=pipeline_toml(path="data/sales.csv", mode="overwrite-partition", partition="day"),
    )
    _partitioned(project)
    project.csv(V1, "data/sales.csv")
    assert project.run().record.counts.inserted == 4
    after_v1 = project.content_hash("sales")
    d1, d2 = _oid(project, "sales_d1"), _oid(project, "sales_d2")
    d2_key = project.query(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'sales_d2'::regclass"
    )[0][0]

    project.csv(V2, "data/sales.csv")
    second = project.run()
    c = second.record.counts
    assert (c.extracted, c.inserted, c.updated, c.unchanged, c.deleted) == (2, 1, 1, 0, 1)
    assert_accounted(c)
    assert _amounts(project) == [
        (1, "2025-01-01", "1.00"),
        (2, "2025-01-01", "2.00"),
        (3, "2025-01-02", "30.00"),
        (5, "2025-01-02", "5.00"),
    ]
    # 2025-01-02 is a new relation under the old name; 2025-01-01 was not touched.
    assert _oid(project, "sales_d1") == d1
    assert _oid(project, "sales_d2") != d2
    kept = f"sales_d2__dw_v{second.record.seq}"
    assert _oid(project, kept) == d2
    assert _attached(project) == ["sales_d1", "sales_d2", "sales_other"]
    assert project.query(f'SELECT count(*) FROM "{kept}"')[0][0] == 2  # the old rows
    assert (
        project.query(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'sales_d2'::regclass"
        )[0][0]
        == d2_key
    )
    ops = project.query("SELECT op, row_key FROM dataward.changes")
    assert sorted((op, json.loads(k)["sale_id"]) for op, k in ops) == [
        ("delete", "4"),
        ("update", "3"),
    ]

    # A value with no partition of its own lands in DEFAULT: loaded by delete and upsert.
    project.csv("sale_id,day,amount\n9,2025-01-03,9.00\n", "data/sales.csv")
    fresh = project.run()
    assert fresh.record.counts.inserted == 1
    project.csv("sale_id,day,amount\n9,2025-01-03,9.50\n", "data/sales.csv")
    third = project.run()
    assert (third.record.counts.updated, third.record.counts.unchanged) == (1, 0)
    assert _attached(project) == ["sales_d1", "sales_d2", "sales_other"]
    assert _amounts(project)[-1] == (9, "2025-01-03", "9.50")

    for run in (third, fresh, second):  # newest first
        reverted = project.cli("revert", run.record.run_id)
        assert reverted.returncode == 0, reverted.stderr
    assert project.content_hash("sales") == after_v1
