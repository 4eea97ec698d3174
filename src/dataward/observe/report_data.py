"""What the HTML report shows, read once from a warehouse's ledger: `ReportData`.

Reading is bounded so that a ledger of years of runs and millions of rejects still makes
a page in seconds: the latest `MAX_RUNS` runs with their metrics and anomalies, and the
reject reasons of the latest `REJECT_RUNS` runs that rejected rows, at most
`MAX_REJECT_ROWS` rows of them (counted in Python: the reasons are a JSON array per row,
and this keeps one query for DuckDB and PostgreSQL). The page says what it covers.

Collecting only reads: the report can be made while nothing else is allowed to change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataward.errors import Location, UsageError
from dataward.observe.store import (
    NULL_RATE,
    ROWS_EXTRACTED,
    ROWS_LOADED,
    Anomaly,
    Metric,
    all_anomalies,
    read_metrics,
)
from dataward.pipeline.ledger import RunRecord, ledger_exists, read_runs
from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

if TYPE_CHECKING:
    from dataward.observe.freshness import Freshness
    from dataward.project.config import Project

MAX_RUNS = 500
REJECT_RUNS = 20
MAX_REJECT_ROWS = 100_000
# The metrics the charts draw; the others stay in the ledger.
CHARTED_METRICS = (ROWS_LOADED, ROWS_EXTRACTED, NULL_RATE)
SEVERITIES = ("high", "medium", "low")  # the audit's labels, worst first
AUDIT_COMMAND = "dataward audit --format json --output audit.json"


@dataclass(frozen=True)
class RejectCount:
    """Rows of `target_table` rejected by `check` on `column` ('' for a row-level check)."""

    target_table: str
    check: str
    column: str
    rows: int


@dataclass(frozen=True)
class RejectScope:
    """Which rejects the counts cover: the latest `runs` runs with rejects, `rows_read` of
    their `rows_total` rejected rows."""

    runs: int
    rows_read: int
    rows_total: int


@dataclass(frozen=True)
class AuditEntry:
    severity: str  # high | medium | low
    rule: str
    location: str
    message: str
    fix: str


@dataclass(frozen=True)
class AuditSummary:
    """The findings of one saved `dataward audit --format json` report."""

    file: str
    root: str
    findings: tuple[AuditEntry, ...]

    def counts(self) -> dict[str, int]:
        counted = Counter(f.severity for f in self.findings)
        return {severity: counted[severity] for severity in SEVERITIES}


@dataclass(frozen=True)
class ReportData:
    project: str
    warehouse: str  # the display URL: never a password
    generated_at: datetime
    runs: tuple[RunRecord, ...]  # newest first, at most MAX_RUNS
    total_runs: int
    metrics: tuple[Metric, ...]  # of `runs`, oldest first; CHARTED_METRICS only
    anomalies: tuple[Anomaly, ...]  # detected since the oldest of `runs`
    rejects: tuple[RejectCount, ...]  # most rows first
    reject_scope: RejectScope
    freshness: tuple[Freshness, ...]
    audit: AuditSummary | None = None

    @property
    def has_history(self) -> bool:
        return bool(self.runs)

    def summary(self) -> str:
        """One line: what the page shows, for the command's output and the page's top."""
        if not self.has_history:
            return "no history yet: run a pipeline (`dataward run`) and make the report again"
        by_status = Counter(r.status for r in self.runs)
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
        tables = len({r.target_table for r in self.runs})
        open_anomalies = sum(1 for a in self.anomalies if a.status == "open")
        breaches = sum(1 for f in self.freshness if f.breached)
        shown = (
            f"latest {len(self.runs)} of {self.total_runs}"
            if self.total_runs > len(self.runs)
            else f"{len(self.runs)}"
        )
        parts = [
            f"{shown} run{'s' if len(self.runs) != 1 else ''} of {tables} "
            f"table{'s' if tables != 1 else ''} ({statuses})",
            f"{open_anomalies} open anomal{'ies' if open_anomalies != 1 else 'y'}",
            f"{breaches} freshness breach{'es' if breaches != 1 else ''}",
        ]
        if self.audit is not None:
            parts.append(f"{len(self.audit.findings)} audit finding(s)")
        return ", ".join(parts)


def project_report_data(
    project: Project,
    wh: Warehouse,
    *,
    audit: AuditSummary | None = None,
    now: datetime | None = None,
    max_runs: int = MAX_RUNS,
) -> ReportData:
    """The report of `project` from its open warehouse `wh`, freshness measured now."""
    from dataward.observe.freshness import project_freshness

    now = now or datetime.now(UTC)
    # Without a ledger nothing has run: the tables and the SLA clock have no history.
    freshness = project_freshness(project, wh, now) if ledger_exists(wh) else []
    return collect_report_data(
        wh,
        project=project.name,
        freshness=freshness,
        audit=audit,
        now=now,
        max_runs=max_runs,
    )


def collect_report_data(
    wh: Warehouse,
    *,
    project: str,
    freshness: Sequence[Freshness] = (),
    audit: AuditSummary | None = None,
    now: datetime | None = None,
    max_runs: int = MAX_RUNS,
) -> ReportData:
    """Everything the page draws, from the ledger of the open warehouse `wh`."""
    now = now or datetime.now(UTC)
    runs, total = _latest_runs(wh, max_runs) if ledger_exists(wh) else ([], 0)
    observed = _has_observe_tables(wh)
    run_ids = {r.run_id for r in runs}
    since = min((r.started_at for r in runs), default=now)
    metrics = [
        m
        for name in CHARTED_METRICS
        for m in (read_metrics(wh, metric=name) if observed and runs else [])
        if m.run_id in run_ids
    ]
    # A total order: the same ledger makes the same page, on either warehouse.
    metrics.sort(key=lambda m: (m.measured_at, m.target_table, m.metric, m.subject))
    anomalies = [
        a
        for a in (all_anomalies(wh) if observed and runs else [])
        if a.status == "open" or a.observed_at >= since
    ]
    rejects, scope = _reject_counts(wh, runs)
    return ReportData(
        project=project,
        warehouse=wh.display_url,
        generated_at=now,
        runs=tuple(runs),
        total_runs=total,
        metrics=tuple(metrics),
        anomalies=tuple(anomalies),
        rejects=tuple(rejects),
        reject_scope=scope,
        freshness=tuple(freshness),
        audit=audit,
    )


def _latest_runs(wh: Warehouse, limit: int) -> tuple[list[RunRecord], int]:
    counted = wh.first_row(f"SELECT count(*) FROM {LEDGER_SCHEMA}.runs")
    total = int(counted[0]) if counted else 0
    if total <= limit:
        return read_runs(wh), total
    # The seq of the limit-th newest run: read_runs takes a WHERE, not a LIMIT.
    edge = wh.first_row(
        f"SELECT seq FROM {LEDGER_SCHEMA}.runs ORDER BY seq DESC LIMIT 1 OFFSET ?", [limit - 1]
    )
    assert edge is not None
    return read_runs(wh, "WHERE seq >= ?", [edge[0]]), total


def _has_observe_tables(wh: Warehouse) -> bool:
    # A ledger written before observability existed has runs but no metrics yet.
    return (
        wh.live_columns("metrics", LEDGER_SCHEMA) is not None
        and wh.live_columns("anomalies", LEDGER_SCHEMA) is not None
    )


def _reject_counts(
    wh: Warehouse, runs: Sequence[RunRecord]
) -> tuple[list[RejectCount], RejectScope]:
    chosen = [r for r in runs if r.counts.rejected > 0][:REJECT_RUNS]
    if not chosen:
        return [], RejectScope(0, 0, 0)
    marks = ", ".join("?" for _ in chosen)
    found = wh.rows(
        f"SELECT target_table, reasons FROM {LEDGER_SCHEMA}.rejects WHERE run_id IN ({marks}) "
        f"LIMIT {MAX_REJECT_ROWS}",
        [r.run_id for r in chosen],
    )
    counted: Counter[tuple[str, str, str]] = Counter()
    for table, reasons in found:
        for check, column in _checks_of(reasons):
            counted[(table, check, column)] += 1
    total = sum(r.counts.rejected for r in chosen)
    counts = [RejectCount(t, c, col, n) for (t, c, col), n in counted.items()]
    counts.sort(key=lambda c: (-c.rows, c.target_table, c.check, c.column))
    return counts, RejectScope(len(chosen), len(found), max(total, len(found)))


def _checks_of(reasons: str) -> set[tuple[str, str]]:
    """The (check, column) pairs a rejected row failed; a row failing one check on two
    values still counts once for it."""
    try:
        parsed = json.loads(reasons)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, list):
        # Shown, not dropped: a ledger row this version cannot read is still a reject.
        return {("(unreadable reasons)", "")}
    found = set()
    for item in parsed:
        if isinstance(item, dict):
            found.add((str(item.get("check") or "?"), str(item.get("column") or "")))
    return found or {("(no reason recorded)", "")}


# ---------------------------------------------------------------- the audit's JSON


def read_audit_file(path: Path) -> AuditSummary:
    """The findings of a file written by `dataward audit --format json --output FILE`;
    anything else is a UsageError naming the file."""
    where = Location(file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"--audit: no such file (write it with `{AUDIT_COMMAND}`)", where
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--audit: cannot read the file: {reason}", where) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--audit: not JSON ({exc.msg}); expected the output of `{AUDIT_COMMAND}`",
            Location(file=str(path), line=exc.lineno, column=exc.colno),
        ) from None
    return _audit_summary(doc, path)


def _audit_summary(doc: Any, path: Path) -> AuditSummary:
    from dataward.audit.report import REPORT_VERSION

    def refuse(what: str) -> UsageError:
        return UsageError(
            f"--audit: {what}; expected the JSON of `{AUDIT_COMMAND}`", Location(file=str(path))
        )

    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise refuse("not an audit report (no findings list)")
    if doc.get("version") != REPORT_VERSION:
        raise refuse(
            f"audit report version {doc.get('version')!r}, this dataward reads "
            f"version {REPORT_VERSION}"
        )
    entries = []
    for index, item in enumerate(doc["findings"]):
        if not isinstance(item, dict) or item.get("severity") not in SEVERITIES:
            raise refuse(f"findings[{index}] is not a finding with a severity of high/medium/low")
        fields = {key: item.get(key) for key in ("rule", "location", "message", "fix")}
        if not all(isinstance(value, str) for value in fields.values()):
            raise refuse(f"findings[{index}] lacks a text rule, location, message or fix")
        entries.append(AuditEntry(severity=item["severity"], **fields))
    entries.sort(key=lambda e: (SEVERITIES.index(e.severity), e.location, e.rule))
    root = doc.get("root")
    return AuditSummary(
        file=str(path), root=root if isinstance(root, str) else "", findings=tuple(entries)
    )
