"""Getting notices out: every notice to every sink, retried with backoff, never raising.

A sink that is down must neither fail nor hide the run that found the problem, so
`deliver` turns every failure (an exception from a sink included) into a failed
`Delivery`, prints it as an `alert.delivery.failed` event and returns;
`record_deliveries` keeps the outcome in `dataward.alert_deliveries`, beside the ledger.
The `alert` event on stderr is written for every notice before any sink is tried, so the
incident is visible even when every sink is broken.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dataward.events import get_logger
from dataward.observe.alerts.config import NO_RETRY, AlertSettings
from dataward.observe.alerts.message import Notice, summary
from dataward.observe.alerts.sinks import DeliveryProblem, Sink, open_sink, redact
from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

DELIVERIES_TABLE = "alert_deliveries"


@dataclass(frozen=True)
class Delivery:
    """What became of one notice at one sink."""

    sink: str
    key: str  # the incident's key (Anomaly.key)
    event: str  # opened | resolved
    ok: bool
    attempts: int  # 0 when the sink could not even try (a variable unset)
    problem: str | None = None  # safe to print: never holds a secret
    anomaly_id: str | None = None
    run_id: str | None = None
    delivered_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def deliver(settings: AlertSettings, notices: Sequence[Notice]) -> list[Delivery]:
    """Announce each notice on stderr, then hand it to every configured sink; one Delivery
    per (notice, sink). Never raises."""
    log = get_logger()
    sinks = [open_sink(config) for config in settings.sinks]
    # A sink that stayed down through all its retries is tried once per later notice:
    # ten notices to a dead server must not hold the run for ten rounds of backoff.
    exhausted: set[str] = set()
    deliveries: list[Delivery] = []
    try:
        for notice in notices:
            _announce(log, notice)
            for sink in sinks:
                patient = sink.name not in exhausted
                delivery, gave_up = _deliver_one(log, sink, notice, patient=patient)
                if gave_up:
                    exhausted.add(sink.name)
                deliveries.append(delivery)
    finally:
        for sink in sinks:
            _close(sink)
    return deliveries


def _close(sink: Sink) -> None:
    # Every notice is already delivered or recorded: a failure to hang up changes nothing.
    with contextlib.suppress(Exception):
        sink.close()


def _announce(log: Any, notice: Notice) -> None:
    try:
        fields = _event_fields(notice)
    except Exception as exc:  # noqa: BLE001 - the incident is still announced, by its key
        fields = {"key": notice.key, "problem": f"cannot format the notice: {exc!r}"}
    if notice.event == "opened":
        log.error("alert", **fields)
    else:
        log.info("alert.resolved", **fields)


def _event_fields(notice: Notice) -> dict[str, Any]:
    a = notice.anomaly
    return {
        "summary": summary(notice),
        "project": notice.project,
        "pipeline": notice.pipeline,
        "run_id": notice.run_id,
        "key": a.key,
        "anomaly_id": a.anomaly_id,
        "table": a.target_table,
        "detector": a.detector,
        "metric": a.metric,
        "subject": a.subject,
        "severity": a.severity,
        "value": a.value,
        "expected_low": a.expected_low,
        "expected_high": a.expected_high,
        "message": a.message,
    }


def _deliver_one(log: Any, sink: Sink, notice: Notice, *, patient: bool) -> tuple[Delivery, bool]:
    """The Delivery, and whether the sink was given up on after every retry failed."""
    attempts, retryable = 0, False
    problem = _unavailable(sink)
    policy = sink.retry if patient else NO_RETRY
    while problem is None:
        attempts += 1
        problem, retryable = _attempt(sink, notice)
        if problem is None:
            log.info("alert.delivered", sink=sink.name, key=notice.key, attempts=attempts)
            return _delivery(sink, notice, attempts, None), False
        if not retryable or attempts > policy.retries:
            break
        wait = policy.delay(attempts)
        log.warning(
            "alert.delivery.retry",
            sink=sink.name,
            key=notice.key,
            attempt=attempts,
            problem=redact(problem, sink.secrets()),
            wait_seconds=wait,
        )
        time.sleep(wait)
        problem = None
    safe = redact(problem or "", sink.secrets())
    log.error(
        "alert.delivery.failed",
        sink=sink.name,
        key=notice.key,
        notice=notice.event,
        attempts=attempts,
        problem=safe,
    )
    return _delivery(sink, notice, attempts, safe), retryable


def _attempt(sink: Sink, notice: Notice) -> tuple[str | None, bool]:
    """(None, _) when delivered, else (problem, whether a retry may help)."""
    try:
        sink.send(notice)
    except DeliveryProblem as exc:
        return exc.problem, exc.retryable
    except Exception as exc:  # noqa: BLE001 - a sink's bug must not fail the run; it is recorded
        return f"unexpected {type(exc).__name__}: {exc}", False
    return None, False


def _unavailable(sink: Sink) -> str | None:
    try:
        return sink.unavailable()
    except Exception as exc:  # noqa: BLE001 - see _attempt
        return f"unexpected {type(exc).__name__}: {exc}"


def _safely(value: Callable[[], str]) -> str | None:
    try:
        return value()
    except Exception:  # noqa: BLE001 - a malformed anomaly is recorded without its id
        return None


def _delivery(sink: Sink, notice: Notice, attempts: int, problem: str | None) -> Delivery:
    return Delivery(
        sink=sink.name,
        key=notice.key,
        event=notice.event,
        ok=problem is None,
        attempts=attempts,
        problem=problem,
        anomaly_id=_safely(lambda: notice.anomaly.anomaly_id),
        run_id=notice.run_id,
    )


def ensure_deliveries_table(wh: Warehouse) -> None:
    s = wh.quote(LEDGER_SCHEMA)
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    wh.execute(
        f"""CREATE TABLE IF NOT EXISTS {s}.{DELIVERIES_TABLE} (
            delivered_at TIMESTAMPTZ NOT NULL,
            sink VARCHAR NOT NULL,
            anomaly_key VARCHAR NOT NULL,
            anomaly_id VARCHAR,
            event VARCHAR NOT NULL,
            ok BOOLEAN NOT NULL,
            attempts INTEGER NOT NULL,
            problem VARCHAR,
            run_id VARCHAR
        )"""
    )


_COLUMNS = "delivered_at, sink, anomaly_key, anomaly_id, event, ok, attempts, problem, run_id"


def record_deliveries(wh: Warehouse, deliveries: Sequence[Delivery]) -> None:
    """Keep each outcome in dataward.alert_deliveries, in the caller's transaction."""
    ensure_deliveries_table(wh)
    for d in deliveries:
        wh.execute(
            f"INSERT INTO {LEDGER_SCHEMA}.{DELIVERIES_TABLE} ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                d.delivered_at,
                d.sink,
                d.key,
                d.anomaly_id,
                d.event,
                d.ok,
                d.attempts,
                d.problem,
                d.run_id,
            ],
        )


def read_deliveries(wh: Warehouse, *, failed_only: bool = False) -> list[Delivery]:
    """The recorded outcomes, oldest first (none when nothing was ever recorded)."""
    if wh.live_columns(DELIVERIES_TABLE, LEDGER_SCHEMA) is None:
        return []
    condition = "WHERE NOT ok" if failed_only else ""
    rows = wh.rows(
        f"SELECT {_COLUMNS} FROM {LEDGER_SCHEMA}.{DELIVERIES_TABLE} {condition} "
        "ORDER BY delivered_at, sink"
    )
    return [
        Delivery(
            delivered_at=_utc(r[0]),
            sink=r[1],
            key=r[2],
            anomaly_id=r[3],
            event=r[4],
            ok=bool(r[5]),
            attempts=int(r[6]),
            problem=r[7],
            run_id=r[8],
        )
        for r in rows
    ]


def _utc(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(moment)).astimezone(UTC)
