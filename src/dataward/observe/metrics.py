"""What a run measures of its delivery, for the detectors to learn from.

Counted from the run's own record (rows extracted, loaded, rejected, the reject rate and
the duration) and, when the run staged rows, from the staging tables in one pass: per
column the null rate and the distinct count of the delivered rows, per check the rows
it rejected, and the columns the source brought (schema drift). The distinct count is
DuckDB's HyperLogLog estimate (within a few percent): exact counts of every column of a
5M-row delivery would cost more than the load, and a detector compares it with itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from dataward.observe.store import (
    DISTINCT_COUNT,
    DURATION_SECONDS,
    NULL_RATE,
    REJECT_RATE,
    REJECTS_BY_CHECK,
    ROWS_EXTRACTED,
    ROWS_LOADED,
    ROWS_REJECTED,
    Metric,
)
from dataward.pipeline.ledger import Counts
from dataward.warehouse.staging import Staging

SOURCE_COLUMN = "source_column"  # subject: a column the source delivered; value 1


def run_metrics(
    run_id: str,
    target: str,
    measured_at: datetime,
    counts: Counts,
    duration_seconds: float | None,
) -> list[Metric]:
    def metric(name: str, value: float, subject: str = "") -> Metric:
        return Metric(run_id, target, measured_at, name, subject, value)

    found = [
        metric(ROWS_EXTRACTED, counts.extracted),
        metric(ROWS_LOADED, counts.inserted + counts.updated),
        metric(ROWS_REJECTED, counts.rejected),
        metric(REJECT_RATE, counts.rejected / counts.extracted if counts.extracted else 0.0),
    ]
    if duration_seconds is not None:
        found.append(metric(DURATION_SECONDS, duration_seconds))
    return found


def delivery_metrics(
    staging: Staging,
    stage_table: str,
    rejects_table: str,
    columns: Sequence[str],
    checks: Sequence[str],
    run_id: str,
    target: str,
    measured_at: datetime,
) -> tuple[list[Metric], int]:
    """Null rate and distinct count per column of the staged rows, rejects per check
    (0 for each of `checks` that rejected nothing: a series with gaps never clears), and
    how many rows were staged."""
    found: list[Metric] = []
    total = 0
    if columns:
        parts = ["count(*)"]
        for name in columns:
            col = '"' + name.replace('"', '""') + '"'
            parts += [f"count({col})", f"approx_count_distinct({col})"]
        row = staging.rows(f"SELECT {', '.join(parts)} FROM temp.{stage_table}")[0]
        total = int(row[0])
        for i, name in enumerate(columns):
            present, distinct = int(row[1 + 2 * i]), int(row[2 + 2 * i])
            if total:
                found.append(
                    Metric(run_id, target, measured_at, NULL_RATE, name, 1 - present / total)
                )
            found.append(Metric(run_id, target, measured_at, DISTINCT_COUNT, name, distinct))
    rejected = {check: 0 for check in checks}
    rejected.update(_rejects_by_check(staging, rejects_table))
    for check, count in sorted(rejected.items()):
        found.append(Metric(run_id, target, measured_at, REJECTS_BY_CHECK, check, count))
    return found, total


def source_column_metrics(
    columns: Sequence[str], run_id: str, target: str, measured_at: datetime
) -> list[Metric]:
    return [Metric(run_id, target, measured_at, SOURCE_COLUMN, c, 1.0) for c in columns]


def _rejects_by_check(staging: Staging, rejects_table: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    # A row's reasons are few and a run's rejects are bounded by its reject rate: read as
    # text and counted here, the same for every reason layout the stages write.
    for (reasons,) in staging.rows(f"SELECT reasons FROM temp.{rejects_table}"):
        seen: set[str] = set()
        for reason in json.loads(reasons) if reasons else []:
            if isinstance(reason, dict):
                name = str(reason.get("check") or "unknown")
                seen.add(name)
        for name in seen:  # a row failing one check twice is one rejected row
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items())
