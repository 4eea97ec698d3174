"""A table and columns whose names are SQL: every statement quotes them (psycopg's
sql.Identifier on PostgreSQL, the renderer's identifier on DuckDB), so loading, comparing,
tracing and reverting treat them as names and nothing else."""

from __future__ import annotations

from pipeline_kit import assert_accounted, contract_yaml, pipeline_toml

TABLE = 'orders"; DROP TABLE victims; --'
KEY = "id; DROP TABLE victims"
COLUMNS = [
    (KEY, "BIGINT", {"primaryKey": True}),
    ('"amount"', "DECIMAL(10,2)", {"required": True}),
    ("select", "TEXT", {}),
    ("Größe ünd $1 ?", "TEXT", {}),
]


def _csv(rows: list[tuple[int, str, str, str]]) -> str:
    header = ",".join('"' + name.replace('"', '""') + '"' for name, _, _ in COLUMNS)
    return header + "\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows) + ""


def test_hostile_names_load_compare_trace_and_revert(new_project):
    contract = contract_yaml("orders", COLUMNS).replace(
        "physicalType: table", f"physicalType: table\n  physicalName: '{TABLE}'"
    )
    project = new_project(
        contract=contract,
        csv=_csv([(1, "1.50", "x", "?"), (2, "2.00", "y", "$2")]),
        pipeline=pipeline_toml(),
    )
    project.execute("CREATE TABLE victims (id INTEGER)")
    first = project.run()
    assert first.record.status == "succeeded", first.record.reason
    assert (first.record.counts.inserted, first.record.counts.rejected) == (2, 0)
    assert TABLE in project.tables() and "victims" in project.tables()
    rows = project.rows(TABLE)
    assert [(r[KEY], str(r['"amount"']), r["select"], r["Größe ünd $1 ?"]) for r in rows] == [
        (1, "1.50", "x", "?"),
        (2, "2.00", "y", "$2"),
    ]
    project.csv(_csv([(1, "1.50", "x", "?"), (2, "2.50", "y", "$2"), (3, "3.00", "z", "'")]))
    second = project.run()
    c = second.record.counts
    assert (c.inserted, c.updated, c.unchanged) == (1, 1, 1)
    assert_accounted(c)
    traced = project.cli("trace", TABLE, "2")
    assert traced.returncode == 0, traced.stderr
    assert "2.00" in traced.stdout and "2.50" in traced.stdout
    reverted = project.cli("revert", second.record.run_id)
    assert reverted.returncode == 0, reverted.stderr
    assert [str(r['"amount"']) for r in project.rows(TABLE)] == ["1.50", "2.00"]
    assert "victims" in project.tables()
