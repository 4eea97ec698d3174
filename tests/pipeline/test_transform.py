"""TRANSFORM: user code on a LazyFrame; it may reject rows with a reason, never drop them."""

from __future__ import annotations

import pytest
from pipeline_kit import assert_accounted, pipeline_toml

from dataward.pipeline.transform import TransformError

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n3,3.25,paid\n"

TRANSFORMS = """
import polars as pl
from dataward.pipeline.transform import reject


def upper(rows):
    return rows.with_columns(pl.col("status").str.to_uppercase())


def broken(rows):
    total = 0
    return rows.with_columns(pl.lit(1 / total).alias("status"))


def extra_column(rows):
    return rows.with_columns(pl.lit("x").alias("surprise"))


def drops(rows):
    return rows.filter(pl.col("status") == "paid")


def rejects_new(rows):
    return reject(rows, pl.col("status") == "new", "new orders are not billed yet")
"""
BROKEN_LINE = (
    TRANSFORMS.splitlines().index('    return rows.with_columns(pl.lit(1 / total).alias("status"))')
    + 1
)


def _project(new_project, function, **settings):
    project = new_project(
        csv=V1, pipeline=pipeline_toml(transform=f"pipelines/clean.py:{function}", **settings)
    )
    project.write("pipelines/clean.py", TRANSFORMS)
    return project


def test_a_transform_changes_the_rows_it_is_given(new_project):
    project = _project(new_project, "upper")
    outcome = project.run()
    assert outcome.record.status == "succeeded"
    assert [r["status"] for r in project.rows()] == ["PAID", "NEW", "PAID"]
    assert outcome.record.counts.transformed == 3
    # A re-run of a deterministic transform writes nothing.
    assert project.run().record.counts.unchanged == 3


def test_a_transform_that_raises_fails_the_run_naming_its_file_and_line(new_project):
    project = _project(new_project, "broken")
    result = project.cli("run", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    where = f"clean.py:{BROKEN_LINE}"
    assert where in result.stderr and "ZeroDivisionError" in result.stderr, result.stderr
    assert not project.exists("orders")
    (run,) = project.runs()
    assert run["status"] == "failed" and where in run["reason"]


def test_a_transform_returning_a_column_the_contract_lacks_fails_naming_it(new_project):
    project = _project(new_project, "extra_column")
    with pytest.raises(TransformError, match="'surprise'"):
        project.run()
    assert not project.exists("orders")
    (run,) = project.runs()
    assert run["status"] == "failed" and "surprise" in run["reason"]


def test_a_transform_that_drops_rows_silently_fails(new_project):
    project = _project(new_project, "drops")
    with pytest.raises(TransformError, match="rows may not be dropped"):
        project.run()
    assert not project.exists("orders")
    assert [r["status"] for r in project.runs()] == ["failed"]


def test_rows_rejected_by_the_transform_land_in_the_rejects_with_its_reason(new_project):
    project = _project(new_project, "rejects_new", max_reject_rate=0.5)
    outcome = project.run()
    c = outcome.record.counts
    assert outcome.record.status == "succeeded", outcome.record.reason
    assert (c.extracted, c.rejected, c.inserted) == (3, 1, 2)
    assert [r["order_id"] for r in project.rows()] == [1, 3]
    (reject,) = project.rejects(outcome.record.run_id)
    assert reject["stage"] == "transform" and reject["row"] == 2
    assert reject["source"].endswith("data/orders.csv")
    assert reject["record"] == {"order_id": "2", "amount": "2.00", "status": "new"}
    assert [r["message"] for r in reject["reasons"]] == ["new orders are not billed yet"]
    assert_accounted(c)
