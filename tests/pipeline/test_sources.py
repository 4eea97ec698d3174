"""The source between runs: a changed file gives a new fingerprint and exact deltas; a
missing one fails the run with a clear message."""

from __future__ import annotations

import polars as pl
from pipeline_kit import assert_accounted, pipeline_toml


def _orders(ids, amounts, statuses) -> pl.DataFrame:
    return pl.DataFrame(
        {"order_id": ids, "amount": amounts, "status": statuses},
        schema={"order_id": pl.Int64, "amount": pl.String, "status": pl.String},
    )


def test_a_parquet_source_that_changes_gives_a_new_fingerprint_and_exact_deltas(new_project):
    project = new_project(pipeline=pipeline_toml(path="data/orders.parquet"))
    path = project.root / "data" / "orders.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    _orders([1, 2, 3], ["1.50", "2.00", "3.25"], ["paid", "new", "paid"]).write_parquet(path)
    first = project.run()
    assert first.record.status == "succeeded", first.record.reason
    assert first.record.counts.inserted == 3
    same = project.run()
    assert same.record.input_fingerprint == first.record.input_fingerprint
    assert same.record.counts.unchanged == 3
    _orders(
        [1, 2, 3, 4], ["1.50", "2.10", "3.25", "4.00"], ["paid", "new", None, "x"]
    ).write_parquet(path)
    changed = project.run()
    c = changed.record.counts
    assert changed.record.input_fingerprint != first.record.input_fingerprint
    assert (c.extracted, c.inserted, c.updated, c.unchanged) == (4, 1, 2, 1)
    rows = {r["order_id"]: r for r in project.rows()}
    assert str(rows[2]["amount"]) == "2.10" and rows[3]["status"] is None
    assert_accounted(c)


def test_the_fingerprint_covers_every_file_of_a_glob(new_project):
    project = new_project(pipeline=pipeline_toml(path="data/part-*.csv"))
    project.csv("order_id,amount,status\n1,1.00,a\n", "data/part-1.csv")
    project.csv("order_id,amount,status\n2,2.00,b\n", "data/part-2.csv")
    first = project.run()
    assert first.record.counts.inserted == 2
    project.csv("order_id,amount,status\n3,3.00,c\n", "data/part-3.csv")
    second = project.run()
    assert second.record.input_fingerprint != first.record.input_fingerprint
    assert (second.record.counts.inserted, second.record.counts.unchanged) == (1, 2)
    sources = {r["order_id"]: r["_dw_source"] for r in project.rows()}
    assert sources[3].endswith("data/part-3.csv") and sources[1].endswith("data/part-1.csv")


def test_a_missing_source_file_fails_with_a_clear_message_and_is_recorded(new_project):
    project = new_project(csv="order_id,amount,status\n1,1.50,paid\n")
    project.run()
    (project.root / "data" / "orders.csv").unlink()
    result = project.cli("run")
    assert result.returncode in (2, 3), result.stderr
    assert "Traceback" not in result.stderr
    assert "orders.csv" in result.stderr and "not found" in result.stderr, result.stderr
    runs = project.runs()
    assert [r["status"] for r in runs] == ["succeeded", "failed"]
    assert "not found" in runs[-1]["reason"]
