"""Evaluate a table's checks with SQL where the data already is (DuckDB, PostgreSQL, Spark).

The same verdicts `dataward validate` reaches in flight, computed by the database: one
query counts every row-level violation, and each dataset measure (row count, a contract's
SQL rule, freshness) is one more query. The caller passes a function that runs a query
and returns its first row, so any DB-API connection (and a transaction in progress) works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dataward.checks.model import Check, CheckKind, Scope
from dataward.checks.sql_render import freshness_query, sql_check_query, violation_counts_query

FirstRow = Callable[[str], Sequence[Any] | None]


@dataclass(frozen=True)
class Verdict:
    check: Check
    violations: int | None  # rows violating a row-level predicate
    measured: float | None  # what a dataset check measured (a count, a percentage, seconds)
    passed: bool


def evaluate(
    first_row: FirstRow,
    table: str,
    checks: Sequence[Check],
    dialect: str,
    schema: str | None = None,
) -> list[Verdict]:
    row_checks = [c for c in checks if c.is_row_level]
    counts = first_row(violation_counts_query(table, row_checks, dialect, schema))
    assert counts is not None  # an aggregate always returns one row
    total = int(counts[0])
    violations = {c.id: int(v or 0) for c, v in zip(row_checks, counts[1:], strict=True)}
    verdicts = []
    for check in checks:
        if check.is_row_level:
            count = violations[check.id]
            if check.scope is Scope.ROW:
                verdicts.append(Verdict(check, count, None, count == 0))
            else:
                share = 100.0 * count / total if total else 0.0
                measured = share if check.unit == "percent" else float(count)
                verdicts.append(Verdict(check, count, measured, check.passes(count, total)))
        elif check.kind is CheckKind.ROW_COUNT:
            verdicts.append(Verdict(check, None, float(total), check.passes(total, total)))
        elif check.kind is CheckKind.SQL:
            row = first_row(sql_check_query(check, table, dialect, schema))
            value = None if row is None or row[0] is None else float(row[0])
            passed = value is not None and check.passes(value, total)
            verdicts.append(Verdict(check, None, value, passed))
        elif check.kind is CheckKind.FRESHNESS:
            row = first_row(freshness_query(check, table, dialect, schema))
            newest = None if row is None else row[0]
            age = None if newest is None else freshness_age(newest).total_seconds()
            passed = (
                age is not None
                and check.latency is not None
                and (age <= check.latency.total_seconds())
            )
            verdicts.append(Verdict(check, None, age, passed))
    return verdicts


def freshness_age(newest: datetime | date) -> timedelta:
    """How old the newest value is now (a date counts from its midnight, UTC)."""
    now = datetime.now(UTC)
    if isinstance(newest, datetime):
        if newest.tzinfo is None:
            return now.replace(tzinfo=None) - newest
        return now - newest
    return now.date() - newest
