"""Every type a contract can declare survives a load, a comparison and a revert exactly,
on both warehouses: the first load (straight into the table), an identical re-run compared
row by row (--recheck hashes every stored row again), a change, and its revert."""

from __future__ import annotations

from pipeline_kit import assert_accounted, contract_yaml

COLUMNS = [
    ("id", "BIGINT", {"primaryKey": True}),
    ("small", "SMALLINT", {}),
    ("whole", "INTEGER", {}),
    ("money", "DECIMAL(19,4)", {}),
    ("ratio", "DOUBLE", {}),
    ("single", "REAL", {}),
    ("note", "TEXT", {}),
    ("code", "VARCHAR(8)", {}),
    ("flag", "BOOLEAN", {}),
    ("day", "DATE", {}),
    ("local_time", "TIMESTAMP", {}),
    ("instant", "TIMESTAMPTZ", {}),
    ("ref", "UUID", {}),
    ("doc", "JSON", {}),
    ("docb", "JSONB", {}),
]
HEADER = ",".join(name for name, _, _ in COLUMNS)
ROW_1 = (
    '1,-32768,2147483647,123456789012345.1234,0.1,1.5,"héllo, ""world""",AB-12,true,'
    "2024-02-29,2024-02-29T23:59:59.999999,2024-02-29T23:59:59.999999+05:45,"
    '6F1C2B3A-0000-4000-8000-00000000000A,"{""a"": [1, 2.50]}","{""b"": null}"'
)
ROW_2 = "2,,,,,,,,,,,,,,"  # every optional value missing
ROW_2_CHANGED = '2,7,,-0.0001,1e-7,,"",x,false,,,,,"[]","{}"'


def test_every_type_loads_compares_and_reverts_exactly(new_project):
    project = new_project(
        contract=contract_yaml("orders", COLUMNS), csv=f"{HEADER}\n{ROW_1}\n{ROW_2}\n"
    )
    first = project.run()
    assert first.record.status == "succeeded", first.record.reason
    assert first.record.counts.inserted == 2
    loaded = project.content_hash()
    same = project.run(recheck=True)
    assert (same.record.counts.unchanged, same.record.counts.updated) == (2, 0), same.record
    assert project.content_hash() == loaded
    rows = {r["id"]: r for r in project.rows()}
    assert str(rows[1]["money"]) == "123456789012345.1234"
    assert str(rows[1]["ref"]) == "6f1c2b3a-0000-4000-8000-00000000000a"
    assert rows[1]["instant"].isoformat() == "2024-02-29T18:14:59.999999+00:00"
    assert rows[1]["note"] == 'héllo, "world"'
    assert all(rows[2][name] is None for name, _, _ in COLUMNS[1:])

    project.csv(f"{HEADER}\n{ROW_1}\n{ROW_2_CHANGED}\n")
    changed = project.run()
    c = changed.record.counts
    assert (c.updated, c.unchanged) == (1, 1)
    assert_accounted(c)
    assert str(project.rows()[1]["money"]) == "-0.0001"
    reverted = project.cli("revert", changed.record.run_id)
    assert reverted.returncode == 0, reverted.stderr
    assert project.content_hash() == loaded
