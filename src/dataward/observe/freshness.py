"""Freshness: how old the newest row is, and the last successful run, against the SLA.

The contract's `slaProperties` latency names the time column (its `element`) and how old
the newest row may be. Two ages are measured per pipeline: the newest row's (by that
column, read from the table) and the last successful run's (from the ledger): a source
that keeps delivering old rows and a job that stopped running both breach it. Rows dated
in the future are counted on their own: they make the table look fresh when it is not.

A DATE counts from the start of its day (UTC); a TIMESTAMP without time zone is read as
UTC, the time zone dataward writes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from dataward.contract.loader import load_contract
from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

if TYPE_CHECKING:
    from dataward.contract.model import Contract
    from dataward.project.config import PipelineSpec, Project

# Clocks disagree by seconds, not minutes: later than this is a row from the future.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Freshness:
    pipeline: str
    table: str
    time_column: str | None
    newest_row_at: datetime | None
    last_success_at: datetime | None
    sla: timedelta | None
    checked_at: datetime
    future_rows: int = 0
    table_exists: bool = True

    @property
    def newest_row_age(self) -> timedelta | None:
        return self.checked_at - self.newest_row_at if self.newest_row_at else None

    @property
    def last_success_age(self) -> timedelta | None:
        return self.checked_at - self.last_success_at if self.last_success_at else None

    @property
    def row_breach(self) -> bool:
        """The newest row is older than the SLA (or there is no row at all)."""
        if self.sla is None or self.time_column is None:
            return False
        age = self.newest_row_age
        return age is None or age > self.sla

    @property
    def run_breach(self) -> bool:
        """No successful run within the SLA."""
        if self.sla is None:
            return False
        age = self.last_success_age
        return age is None or age > self.sla

    @property
    def breached(self) -> bool:
        return self.row_breach or self.run_breach


def pipeline_freshness(
    project: Project,
    spec: PipelineSpec,
    wh: Warehouse,
    now: datetime | None = None,
    contract: Contract | None = None,
) -> Freshness:
    now = now or datetime.now(UTC)
    contract = contract or load_contract(spec.contract)
    table = contract.table(spec.table)
    sla = contract.freshness
    # An SLA element names its table; one on another table of the contract is not ours.
    applies = sla is not None and (sla.table is None or sla.table == table.name)
    column = sla.column if applies and sla is not None else None
    target = table.storage_name
    exists = wh.live_columns(target) is not None
    newest, future = None, 0
    if exists and column:
        newest, future = _newest_row(wh, target, column, now)
    return Freshness(
        pipeline=spec.name,
        table=target,
        time_column=column,
        newest_row_at=newest,
        last_success_at=_last_success(wh, spec.name),
        sla=sla.latency if applies and sla is not None else None,
        checked_at=now,
        future_rows=future,
        table_exists=exists,
    )


def project_freshness(
    project: Project, wh: Warehouse, now: datetime | None = None
) -> list[Freshness]:
    now = now or datetime.now(UTC)
    return [pipeline_freshness(project, spec, wh, now) for spec in project.pipelines.values()]


def _newest_row(
    wh: Warehouse, target: str, column: str, now: datetime
) -> tuple[datetime | None, int]:
    """The newest value not in the future, and how many rows are in the future."""
    col, table = wh.quote(column), wh.qualified(target)
    # max() alone can use an index on PostgreSQL; the full scan below is the rare case.
    newest_row = wh.first_row(f"SELECT max({col}) FROM {table}")
    if not newest_row or newest_row[0] is None:
        return None, 0
    newest = as_instant(newest_row[0])
    limit = now + FUTURE_TOLERANCE
    if newest <= limit:
        return newest, 0
    bound = limit.date() if _is_date(newest_row[0]) else limit
    split = wh.first_row(
        f"SELECT max({col}) FILTER (WHERE {col} <= ?), count(*) FILTER (WHERE {col} > ?) "
        f"FROM {table}",
        [bound, bound],
    )
    assert split is not None
    past = as_instant(split[0]) if split[0] is not None else None
    return past, int(split[1])


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _last_success(wh: Warehouse, pipeline: str) -> datetime | None:
    row = wh.first_row(
        f"SELECT max(finished_at) FROM {LEDGER_SCHEMA}.runs "
        "WHERE pipeline = ? AND kind = 'load' AND status = 'succeeded'",
        [pipeline],
    )
    return as_instant(row[0]) if row and row[0] is not None else None


def as_instant(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def describe_age(age: timedelta | None) -> str:
    """`3 d 2 h`, `41 min`, `12 s`: what a person reads in a table or an alert."""
    if age is None:
        return "never"
    seconds = int(age.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    if minutes:
        return f"{sign}{minutes} min"
    return f"{sign}{seconds} s"
