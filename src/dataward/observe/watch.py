"""One look at the project's pipelines: detect, store, alert, in that order.

After a run (with that run's metrics to store first) and on `dataward check`. The
anomalies and the metrics commit in one short transaction of their own, after the run's:
the run's outcome never waits on, or rolls back with, what watching it found. Alerts go
out after that commit, one per incident opened or resolved (the store knows which are
new), and their delivery is recorded in another transaction: a sink that is down delays
nothing and fails nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dataward.errors import DatawardError
from dataward.events import get_logger
from dataward.observe.detection import PipelineHealth, inspect_pipeline
from dataward.observe.store import Anomaly, Metric, ensure_observe_tables, record_anomalies
from dataward.observe.store import write_metrics as store_metrics
from dataward.pipeline import ledger

if TYPE_CHECKING:
    from dataward.observe.alerts import Delivery
    from dataward.project.config import PipelineSpec, Project
    from dataward.warehouse.base import Warehouse


@dataclass
class WatchResult:
    health: list[PipelineHealth] = field(default_factory=list)
    opened: list[Anomaly] = field(default_factory=list)
    resolved: list[Anomaly] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    has_history: bool = True

    @property
    def open_anomalies(self) -> list[Anomaly]:
        return [a for h in self.health for a in h.anomalies]


def watch(
    project: Project,
    wh: Warehouse,
    specs: Sequence[PipelineSpec],
    *,
    metrics: Iterable[Metric] = (),
    run_id: str | None = None,
    now: datetime | None = None,
) -> WatchResult:
    now = now or datetime.now(UTC)
    result = WatchResult()
    wh.open()
    try:
        wh.begin()
        try:
            if not ledger.ledger_exists(wh):
                result.has_history = False
                wh.rollback()
                return result
            # A run and a check looking at once must not both open the same incident.
            wh.serialize("dataward:anomalies")
            ensure_observe_tables(wh)
            store_metrics(wh, metrics)
            for spec in specs:
                result.health.append(inspect_pipeline(project, spec, wh, project.observe, now))
            result.opened, result.resolved = record_anomalies(
                wh,
                result.open_anomalies,
                {h.table for h in result.health},
                {h.pipeline for h in result.health},
            )
            wh.commit()
        except BaseException:
            wh.rollback()
            raise
    finally:
        # Before the sinks are tried: a webhook that is down must not hold a DuckDB file
        # that the next run is waiting for.
        wh.release()
    result.deliveries = _alert(project, wh, result, run_id)
    return result


def _alert(
    project: Project, wh: Warehouse, result: WatchResult, run_id: str | None
) -> list[Delivery]:
    from dataward.observe.alerts import Notice, deliver, record_deliveries

    notices = [
        Notice(
            event=event,
            anomaly=anomaly,
            project=project.name,
            pipeline=anomaly.pipeline or _pipelines_of(result, anomaly.target_table),
            run_id=anomaly.run_id or run_id,
        )
        for event, anomalies in (("opened", result.opened), ("resolved", result.resolved))
        for anomaly in anomalies
    ]
    if not notices:
        return []
    deliveries = deliver(project.alerts, notices)
    try:
        wh.open()
        wh.begin()
        record_deliveries(wh, deliveries)
        wh.commit()
    except DatawardError as exc:
        # Said loudly; the run it is about is committed and stays as it is.
        with contextlib.suppress(DatawardError):
            wh.rollback()
        get_logger().error("alert.record.failed", problem=str(exc))
    finally:
        wh.release()
    return deliveries


def _pipelines_of(result: WatchResult, table: str) -> str | None:
    """A table-level incident names the pipelines loading the table."""
    names = sorted({h.pipeline for h in result.health if h.table == table})
    return ", ".join(names) or None
