"""One check, described once, independent of the engine that evaluates it.

Row-level kinds define a *violation predicate* ("this row breaks the check"). Nulls pass
every predicate except `not_null` and `missing`, as in SQL, so a nullable column is only
checked where it has a value. A dataset-level check either measures a predicate over the
rows (a count or a percentage compared to a threshold) or measures the table as a whole
(row count, a SQL query, freshness).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from dataward.contract.model import Severity, Threshold, Unit
from dataward.contract.types import DataType


class CheckKind(StrEnum):
    # Row-level predicates.
    NOT_NULL = "not_null"
    MISSING = "missing"  # null or one of the values the contract calls missing
    RANGE = "range"
    LENGTH = "length"
    PATTERN = "pattern"
    ACCEPTED_VALUES = "accepted_values"
    FINITE = "finite"  # NaN and ±infinity in a floating column
    UNIQUE = "unique"  # every row whose (non-null) key occurs more than once
    FOREIGN_KEY = "foreign_key"
    # Whole-table measures.
    ROW_COUNT = "row_count"
    SQL = "sql"
    FRESHNESS = "freshness"


ROW_KINDS = frozenset(
    {
        CheckKind.NOT_NULL,
        CheckKind.MISSING,
        CheckKind.RANGE,
        CheckKind.LENGTH,
        CheckKind.PATTERN,
        CheckKind.ACCEPTED_VALUES,
        CheckKind.FINITE,
        CheckKind.UNIQUE,
        CheckKind.FOREIGN_KEY,
    }
)


class Scope(StrEnum):
    ROW = "row"  # every violating row is rejected (error) or flagged (warning)
    DATASET = "dataset"  # a metric compared with a threshold; rows are counted, not rejected


@dataclass(frozen=True)
class Check:
    id: str
    kind: CheckKind
    scope: Scope
    severity: Severity
    table: str
    columns: tuple[str, ...]
    message: str  # what the data must do, e.g. "amount must be > 0"
    origin: str  # the contract's YAML path this check came from
    origin_line: int | None = None  # ... and its line
    column_type: DataType | None = None
    # Parameters; only those of the check's kind are set.
    low: Any = None
    high: Any = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    values: tuple[Any, ...] | None = None
    referenced_table: str | None = None
    referenced_columns: tuple[str, ...] | None = None
    query: str | None = None
    latency: timedelta | None = None
    threshold: Threshold | None = None
    unit: Unit = Unit.ROWS

    @property
    def column(self) -> str | None:
        return self.columns[0] if len(self.columns) == 1 else None

    @property
    def is_row_level(self) -> bool:
        return self.kind in ROW_KINDS

    @property
    def rejects_rows(self) -> bool:
        return self.scope is Scope.ROW and self.severity is Severity.ERROR

    def passes(self, measured: float, total_rows: int) -> bool:
        """Judge a dataset metric: a violation count, or the value a table measure gave."""
        if self.threshold is None:
            return measured == 0
        value = measured
        if self.unit is Unit.PERCENT and self.is_row_level:
            value = 100.0 * measured / total_rows if total_rows else 0.0
        return self.threshold.holds(value)
