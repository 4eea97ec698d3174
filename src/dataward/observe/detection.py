"""Everything dataward watches on one pipeline, as a list of open problems (Anomaly).

Run after every pipeline run and by `dataward check`. The same function answers both,
so an incident opened by a run is resolved by a later check that no longer sees it:

- the last run: FAILED (or aborted), or rejecting more than the pipeline's reject rate;
- freshness: the newest row's age and the last successful run's age against the SLA,
  and rows dated in the future;
- volume: the day-over-day drop rule on daily row counts, and the robust detector on
  rows per run;
- per column, the null rate and the distinct count; per check, the rows it rejected:
  the robust detector over the same metric's history;
- schema drift: columns the last delivery brought, or stopped bringing, compared with
  the last successful one.

Formulas and settings: docs/anomalies.md (observe/detect.py computes them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dataward.contract.loader import load_contract
from dataward.observe import detect
from dataward.observe.freshness import Freshness, describe_age, pipeline_freshness
from dataward.observe.metrics import SOURCE_COLUMN
from dataward.observe.store import (
    DISTINCT_COUNT,
    NULL_RATE,
    REJECT_RATE,
    REJECTS_BY_CHECK,
    ROWS_EXTRACTED,
    Anomaly,
    Metric,
    read_metrics,
)
from dataward.pipeline import ledger
from dataward.redact import redact_urls
from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

if TYPE_CHECKING:
    from dataward.contract.model import Contract
    from dataward.pipeline.ledger import RunRecord
    from dataward.project.config import PipelineSpec, Project

# Metrics judged by the robust detector, per subject (column or check).
_ROBUST_METRICS = (ROWS_EXTRACTED, NULL_RATE, DISTINCT_COUNT, REJECTS_BY_CHECK)


@dataclass
class PipelineHealth:
    """What one look at a pipeline found: the anomalies, and what could not be judged."""

    pipeline: str
    table: str
    last_run: RunRecord | None
    freshness: Freshness
    anomalies: list[Anomaly] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "1 run of history; 7 needed"


def inspect_pipeline(
    project: Project,
    spec: PipelineSpec,
    wh: Warehouse,
    settings: detect.DetectorSettings,
    now: datetime | None = None,
) -> PipelineHealth:
    now = now or datetime.now(UTC)
    contract = load_contract(spec.contract)  # read once for the SLA and the reject limit
    freshness = pipeline_freshness(project, spec, wh, now, contract)
    # A run still going has no verdict yet: judged by the last one that finished.
    runs = ledger.read_runs(
        wh, "WHERE pipeline = ? AND kind = 'load' AND status <> 'running'", [spec.name]
    )
    health = PipelineHealth(spec.name, freshness.table, runs[0] if runs else None, freshness)
    if not runs:
        health.notes.append("no run yet")
        return health
    health.anomalies += _last_run(spec, contract, runs[0], now)
    health.anomalies += _freshness(freshness)
    # Enough runs for the robust window and for several days of daily totals.
    metrics = read_metrics(wh, target_table=freshness.table, last_runs=4 * settings.window + 1)
    health.anomalies += _volume(freshness.table, metrics, settings, health.notes, now)
    health.anomalies += _robust(freshness.table, metrics, settings, health.notes)
    health.anomalies += _schema_drift(wh, spec.name, freshness.table, runs[0])
    for anomaly in health.anomalies:
        # A reason or a message may quote a source URL: its token never reaches a sink.
        anomaly.message = redact_urls(anomaly.message)
    return health


def _last_run(
    spec: PipelineSpec, contract: Contract, last: RunRecord, now: datetime
) -> list[Anomaly]:
    from dataward.pipeline.run import reject_rate_limit

    if last.status not in ("failed", "aborted"):
        return []
    at = last.finished_at or last.started_at or now
    counts = last.counts
    rate = counts.rejected / counts.extracted if counts.extracted else 0.0
    limit = reject_rate_limit(spec, contract)
    if rate > limit:
        # The reject rate is why the run failed: one incident, said the precise way.
        return [
            Anomaly(
                target_table=last.target_table,
                metric=REJECT_RATE,
                subject="",
                detector="reject_rate",
                value=rate,
                expected_low=None,
                expected_high=limit,
                message=f"run {last.run_id} of {spec.name} rejected {counts.rejected:,} of "
                f"{counts.extracted:,} rows ({rate:.2%}), above the maximum {limit:.2%}; "
                "nothing was loaded",
                observed_at=at,
                run_id=last.run_id,
                pipeline=spec.name,
                severity="error",
            )
        ]
    return [
        Anomaly(
            target_table=last.target_table,
            metric="run_status",
            subject="",
            detector="run_failed",
            value=None,
            expected_low=None,
            expected_high=None,
            message=f"run {last.run_id} of {spec.name} {last.status}: {last.reason or 'no reason'}",
            observed_at=at,
            run_id=last.run_id,
            pipeline=spec.name,
            severity="error",
        )
    ]


def _freshness(f: Freshness) -> list[Anomaly]:
    found: list[Anomaly] = []
    sla = f.sla
    if sla is not None and f.row_breach and f.table_exists:
        age = f.newest_row_age
        found.append(
            Anomaly(
                target_table=f.table,
                metric="newest_row_age_seconds",
                subject=f.time_column or "",
                detector="freshness",
                value=age.total_seconds() if age else None,
                expected_low=None,
                expected_high=sla.total_seconds(),
                message=(
                    f"{f.table}: newest row ({f.time_column}) is {describe_age(age)} old, "
                    f"SLA {describe_age(sla)}"
                    if age is not None
                    else f"{f.table}: no row has a {f.time_column}; SLA {describe_age(sla)}"
                ),
                observed_at=f.checked_at,
                severity="error",
            )
        )
    if sla is not None and f.run_breach:
        age = f.last_success_age
        found.append(
            Anomaly(
                target_table=f.table,
                metric="last_success_age_seconds",
                subject="",
                detector="freshness",
                value=age.total_seconds() if age else None,
                expected_low=None,
                expected_high=sla.total_seconds(),
                message=(
                    f"{f.pipeline}: last successful run {describe_age(age)} ago, "
                    f"SLA {describe_age(sla)}"
                    if age is not None
                    else f"{f.pipeline}: no successful run yet; SLA {describe_age(sla)}"
                ),
                observed_at=f.checked_at,
                pipeline=f.pipeline,
                severity="error",
            )
        )
    if f.future_rows:
        found.append(
            Anomaly(
                target_table=f.table,
                metric="future_rows",
                subject=f.time_column or "",
                detector="future_timestamps",
                value=float(f.future_rows),
                expected_low=None,
                expected_high=0.0,
                message=f"{f.table}: {f.future_rows:,} row(s) have a {f.time_column} in the "
                "future; they make the table look fresher than it is (freshness is measured "
                "without them)",
                observed_at=f.checked_at,
            )
        )
    return found


def _volume(
    table: str,
    metrics: Sequence[Metric],
    settings: detect.DetectorSettings,
    notes: list[str],
    now: datetime,
) -> list[Anomaly]:
    """The simple rule on daily counts: a day that drops more than max_daily_drop."""
    per_run = [m for m in metrics if m.metric == ROWS_EXTRACTED]
    if not per_run:
        return []
    days = _complete_days(per_run, now)
    verdict = detect.day_over_day(days, settings, label="daily rows_extracted")
    if verdict.method == "insufficient_history":
        notes.append(f"daily volume: {verdict.explanation}")
    if not verdict.is_anomaly:
        return []
    return [_anomaly(table, "daily_rows_extracted", "", "day_over_day", verdict, days[-1].at)]


def _complete_days(per_run: Sequence[Metric], now: datetime) -> list[detect.Point]:
    """Daily totals of the days that are over. A job that runs once a day completes its
    day with its run; one that runs more often has not finished today until tomorrow, and
    judging a day at 01:00 by its first hour would alert every night."""
    points = [detect.Point(m.measured_at, m.value) for m in per_run]
    days = detect.daily_totals(points)
    runs_per_day: dict[object, int] = defaultdict(int)
    for p in points:
        runs_per_day[p.at.astimezone(UTC).date()] += 1
    if max(runs_per_day.values()) <= 1:
        return days
    today = now.astimezone(UTC).date()
    return [d for d in days if d.at.date() < today]


def _robust(
    table: str, metrics: Sequence[Metric], settings: detect.DetectorSettings, notes: list[str]
) -> list[Anomaly]:
    series: dict[tuple[str, str], list[Metric]] = defaultdict(list)
    for m in metrics:
        if m.metric in _ROBUST_METRICS:
            series[(m.metric, m.subject)].append(m)
    found: list[Anomaly] = []
    for (metric, subject), history in sorted(series.items()):
        label = f"{metric}({subject})" if subject else metric
        points = [detect.Point(m.measured_at, m.value) for m in history]
        verdict = detect.robust(points, settings, label=label)
        if verdict.method == "insufficient_history":
            if metric == ROWS_EXTRACTED:  # one note per table, not one per column
                notes.append(f"anomalies: {verdict.explanation}")
            continue
        if verdict.is_anomaly:
            found.append(
                _anomaly(
                    table,
                    metric,
                    subject,
                    "robust",
                    verdict,
                    history[-1].measured_at,
                    run_id=history[-1].run_id,
                )
            )
    return found


def _schema_drift(wh: Warehouse, pipeline: str, table: str, last: RunRecord) -> list[Anomaly]:
    """The columns of the last run's delivery against the last successful one before it."""
    delivered = _source_columns(wh, last.run_id)
    if delivered is None:
        return []
    previous = wh.first_row(
        f"SELECT r.run_id FROM {LEDGER_SCHEMA}.runs r WHERE r.pipeline = ? AND r.kind = 'load' "
        "AND r.status = 'succeeded' AND r.seq < ? AND EXISTS (SELECT 1 FROM "
        f"{LEDGER_SCHEMA}.metrics m WHERE m.run_id = r.run_id AND m.metric = ?) "
        "ORDER BY r.seq DESC LIMIT 1",
        [pipeline, last.seq, SOURCE_COLUMN],
    )
    before = _source_columns(wh, previous[0]) if previous else None
    if before is None or before == delivered:
        return []
    new, gone = sorted(delivered - before), sorted(before - delivered)
    parts = []
    if new:
        parts.append(f"new column(s) {', '.join(new)}")
    if gone:
        parts.append(f"missing column(s) {', '.join(gone)}")
    return [
        Anomaly(
            target_table=table,
            metric="source_columns",
            subject="",
            detector="schema_drift",
            value=float(len(delivered)),
            expected_low=float(len(before)),
            expected_high=float(len(before)),
            message=f"{pipeline}: the source brought {' and '.join(parts)} in run "
            f"{last.run_id}, compared with run {previous[0] if previous else '?'}",
            observed_at=last.started_at,
            run_id=last.run_id,
            pipeline=pipeline,
        )
    ]


def _source_columns(wh: Warehouse, run_id: str) -> set[str] | None:
    found = wh.rows(
        f"SELECT subject FROM {LEDGER_SCHEMA}.metrics WHERE run_id = ? AND metric = ?",
        [run_id, SOURCE_COLUMN],
    )
    return {r[0] for r in found} if found else None


def _anomaly(
    table: str,
    metric: str,
    subject: str,
    detector: str,
    verdict: detect.Verdict,
    at: datetime,
    run_id: str | None = None,
) -> Anomaly:
    return Anomaly(
        target_table=table,
        metric=metric,
        subject=subject,
        detector=detector,
        value=verdict.value,
        expected_low=verdict.expected_low,
        expected_high=verdict.expected_high,
        message=f"{table}: {verdict.explanation}",
        observed_at=at,
        run_id=run_id,
    )
