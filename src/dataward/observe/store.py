"""Where observations live: `dataward.metrics` and `dataward.anomalies`, beside the ledger.

`metrics` holds one row per (run, metric, subject): what a run measured of its delivery
(rows extracted, null rate of a column, rejects of a check...). `subject` is the column or
check the metric is about, '' for the table as a whole. `anomalies` holds every detection
with the value, the band it was expected in and a one-line message, so a report can draw
it and an alert can say it; an anomaly stays `open` until a later check no longer sees it.

Both tables are created by `ensure_observe_tables`, in the same warehouse (and the same
transaction when the caller has one open) as `dataward.runs`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

# Metric names, one idea each; `subject` says which column or check.
ROWS_EXTRACTED = "rows_extracted"  # rows the source delivered to the run
ROWS_LOADED = "rows_loaded"  # inserted + updated: what the run wrote
ROWS_REJECTED = "rows_rejected"
REJECT_RATE = "reject_rate"
NULL_RATE = "null_rate"  # subject: column; share of the delivery's rows that are null
DISTINCT_COUNT = "distinct_count"  # subject: column; distinct non-null values delivered
REJECTS_BY_CHECK = "rejects"  # subject: the check's name
DURATION_SECONDS = "duration_seconds"


@dataclass(frozen=True)
class Metric:
    run_id: str
    target_table: str
    measured_at: datetime
    metric: str
    subject: str
    value: float


@dataclass
class Anomaly:
    """One detection: `metric` of `subject` on `target_table` was `value`, expected inside
    [expected_low, expected_high] (either bound may be open: None)."""

    target_table: str
    metric: str
    subject: str
    detector: str  # day_over_day | robust | freshness | schema_drift | future_timestamps ...
    value: float | None
    expected_low: float | None
    expected_high: float | None
    message: str
    observed_at: datetime
    run_id: str | None = None
    # Set for what belongs to one pipeline (its runs, its source's columns); None for what
    # belongs to the table, whichever pipelines load it (its rows, its metrics).
    pipeline: str | None = None
    severity: str = "warning"  # warning | error
    status: str = "open"  # open | resolved
    detected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    resolved_at: datetime | None = None

    @property
    def key(self) -> str:
        """What stays the same while the same problem stays open (one alert per incident)."""
        owner = f"{self.pipeline}@" if self.pipeline else ""
        return f"{self.detector}:{owner}{self.target_table}:{self.metric}:{self.subject}"

    @property
    def anomaly_id(self) -> str:
        stamp = self.detected_at.astimezone(UTC).isoformat()
        return hashlib.sha256(f"{self.key}@{stamp}".encode()).hexdigest()[:16]


def ensure_observe_tables(wh: Warehouse) -> None:
    s = wh.quote(LEDGER_SCHEMA)
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"""CREATE TABLE IF NOT EXISTS {s}.metrics (
            run_id VARCHAR NOT NULL,
            target_table VARCHAR NOT NULL,
            measured_at TIMESTAMPTZ NOT NULL,
            metric VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, metric, subject)
        )""",
        f"""CREATE TABLE IF NOT EXISTS {s}.anomalies (
            anomaly_id VARCHAR PRIMARY KEY,
            anomaly_key VARCHAR NOT NULL,
            target_table VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,
            detector VARCHAR NOT NULL,
            value DOUBLE PRECISION,
            expected_low DOUBLE PRECISION,
            expected_high DOUBLE PRECISION,
            message VARCHAR NOT NULL,
            observed_at TIMESTAMPTZ NOT NULL,
            run_id VARCHAR,
            pipeline VARCHAR,
            severity VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            detected_at TIMESTAMPTZ NOT NULL,
            resolved_at TIMESTAMPTZ
        )""",
    ):
        wh.execute(statement)


def write_metrics(wh: Warehouse, metrics: Iterable[Metric]) -> int:
    written = 0
    for m in metrics:
        wh.execute(
            f"INSERT INTO {LEDGER_SCHEMA}.metrics "
            "(run_id, target_table, measured_at, metric, subject, value) VALUES (?, ?, ?, ?, ?, ?)",
            [m.run_id, m.target_table, m.measured_at, m.metric, m.subject, float(m.value)],
        )
        written += 1
    return written


def read_metrics(
    wh: Warehouse,
    target_table: str | None = None,
    metric: str | None = None,
    subject: str | None = None,
    last_runs: int | None = None,
) -> list[Metric]:
    """Metrics of successful loads only, oldest first: a failed run's delivery is not the
    table's history (its rows were never written), nor is a replay of rejects or a
    revert. `last_runs` bounds the read to the table's latest successful loads."""
    where, params = _filters(
        ("m.target_table", target_table), ("m.metric", metric), ("m.subject", subject)
    )
    if last_runs is not None:
        where += (
            f" AND r.seq >= (SELECT coalesce(min(seq), 0) FROM (SELECT seq FROM "
            f"{LEDGER_SCHEMA}.runs WHERE status = 'succeeded' AND kind = 'load' "
            f"{'AND target_table = ?' if target_table is not None else ''} "
            "ORDER BY seq DESC LIMIT ?) latest)"
        )
        params += [*([target_table] if target_table is not None else []), int(last_runs)]
    found = wh.rows(
        f"SELECT m.run_id, m.target_table, m.measured_at, m.metric, m.subject, m.value "
        f"FROM {LEDGER_SCHEMA}.metrics m JOIN {LEDGER_SCHEMA}.runs r ON r.run_id = m.run_id "
        f"WHERE r.status = 'succeeded' AND r.kind = 'load' {where} "
        "ORDER BY m.measured_at, r.seq",
        params,
    )
    return [Metric(r[0], r[1], _utc(r[2]), r[3], r[4], float(r[5])) for r in found]


def open_anomalies(wh: Warehouse, target_table: str | None = None) -> list[Anomaly]:
    return _read_anomalies(wh, "status = 'open'", target_table)


def all_anomalies(wh: Warehouse, target_table: str | None = None) -> list[Anomaly]:
    return _read_anomalies(wh, "1 = 1", target_table)


_ANOMALY_COLUMNS = (
    "target_table, metric, subject, detector, value, expected_low, expected_high, message, "
    "observed_at, run_id, pipeline, severity, status, detected_at, resolved_at"
)


def _read_anomalies(wh: Warehouse, condition: str, target_table: str | None) -> list[Anomaly]:
    where, params = _filters(("target_table", target_table))
    found = wh.rows(
        f"SELECT {_ANOMALY_COLUMNS} FROM {LEDGER_SCHEMA}.anomalies WHERE {condition} {where} "
        "ORDER BY detected_at, anomaly_id",
        params,
    )
    return [
        Anomaly(
            target_table=r[0],
            metric=r[1],
            subject=r[2],
            detector=r[3],
            value=r[4],
            expected_low=r[5],
            expected_high=r[6],
            message=r[7],
            observed_at=_utc(r[8]),
            run_id=r[9],
            pipeline=r[10],
            severity=r[11],
            status=r[12],
            detected_at=_utc(r[13]),
            resolved_at=_utc(r[14]) if r[14] is not None else None,
        )
        for r in found
    ]


def record_anomalies(
    wh: Warehouse,
    seen: Sequence[Anomaly],
    checked_tables: Iterable[str],
    checked_pipelines: Iterable[str] = (),
) -> tuple[list[Anomaly], list[Anomaly]]:
    """Store what this look saw: a problem not open yet is opened; an open one this look
    covered and no longer sees is resolved. A look covers the table-level problems of
    `checked_tables` and the pipeline-level ones of `checked_pipelines`: a look at one
    pipeline never resolves another pipeline's failed run. Returns (opened, resolved)."""
    tables, pipelines = set(checked_tables), set(checked_pipelines)

    def covered(a: Anomaly) -> bool:
        return a.pipeline in pipelines if a.pipeline else a.target_table in tables

    open_now = {a.key: a for a in open_anomalies(wh) if covered(a)}
    # Two pipelines of one table both see its table-level problems: one incident.
    unique = list({a.key: a for a in seen}.values())
    seen_keys = {a.key for a in unique}
    opened: list[Anomaly] = []
    for anomaly in unique:
        if anomaly.key in open_now or not covered(anomaly):
            continue  # still the same incident: no new row, no new alert
        wh.execute(
            f"INSERT INTO {LEDGER_SCHEMA}.anomalies (anomaly_id, anomaly_key, {_ANOMALY_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                anomaly.anomaly_id,
                anomaly.key,
                anomaly.target_table,
                anomaly.metric,
                anomaly.subject,
                anomaly.detector,
                anomaly.value,
                anomaly.expected_low,
                anomaly.expected_high,
                anomaly.message,
                anomaly.observed_at,
                anomaly.run_id,
                anomaly.pipeline,
                anomaly.severity,
                "open",
                anomaly.detected_at,
                None,
            ],
        )
        opened.append(anomaly)
    resolved: list[Anomaly] = []
    now = datetime.now(UTC)
    for key, anomaly in open_now.items():
        if key in seen_keys:
            continue
        wh.execute(
            f"UPDATE {LEDGER_SCHEMA}.anomalies SET status = 'resolved', resolved_at = ? "
            "WHERE anomaly_key = ? AND status = 'open'",
            [now, key],
        )
        anomaly.status, anomaly.resolved_at = "resolved", now
        resolved.append(anomaly)
    return opened, resolved


def _filters(*pairs: tuple[str, Any]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, value in pairs:
        if value is not None:
            clauses.append(f"AND {column} = ?")
            params.append(value)
    return " ".join(clauses), params


def _utc(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(moment)).astimezone(UTC)
