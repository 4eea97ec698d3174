"""dataward's own view of a contract: only what the engine needs, already validated.

ODCS documents are rich and permissive; these frozen dataclasses are the narrow, typed
shape everything downstream (check compiler, warehouses, diff) relies on. Values such as
bounds are parsed to the column's type here, once, so renderers never re-parse text.
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from dataward.contract.types import DataType


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "mustBe": op.eq,
    "mustNotBe": op.ne,
    "mustBeGreaterThan": op.gt,
    "mustBeGreaterOrEqualTo": op.ge,
    "mustBeLessThan": op.lt,
    "mustBeLessOrEqualTo": op.le,
}
RANGE_OPERATORS = ("mustBeBetween", "mustNotBeBetween")
OPERATORS = (*_COMPARATORS, *RANGE_OPERATORS)


@dataclass(frozen=True)
class Threshold:
    """An ODCS comparison such as `mustBeLessThan: 5`. Between is inclusive on both ends."""

    operator: str
    value: float | tuple[float, float]

    def holds(self, measured: float) -> bool:
        if self.operator in RANGE_OPERATORS:
            low, high = self.value  # type: ignore[misc]
            inside = low <= measured <= high
            return inside if self.operator == "mustBeBetween" else not inside
        return _COMPARATORS[self.operator](measured, self.value)

    @property
    def tolerates_nothing(self) -> bool:
        """True when the rule holds for zero violations and fails for *every* count >= 1
        (`mustBe: 0`, `mustBeLessThan: 1`, `mustBeBetween: [0, 0]`...), so each violating
        row can be judged on its own. `mustNotBe: 1` holds for 0 and for 4: not such a rule.
        """
        upper_bounded = ("mustBe", "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween")
        return self.operator in upper_bounded and self.holds(0) and not self.holds(1)

    def __str__(self) -> str:
        if isinstance(self.value, tuple):
            return f"{self.operator} [{self.value[0]:g}, {self.value[1]:g}]"
        return f"{self.operator} {self.value:g}"

    @property
    def phrase(self) -> str:
        """The comparison in words for a message: `mustBeLessThan: 3` reads `< 3`."""
        if isinstance(self.value, tuple):
            low, high = self.value
            inside = f"between {low:g} and {high:g}"
            return inside if self.operator == "mustBeBetween" else f"not {inside}"
        symbol = {
            "mustBe": "",
            "mustNotBe": "not ",
            "mustBeGreaterThan": "> ",
            "mustBeGreaterOrEqualTo": ">= ",
            "mustBeLessThan": "< ",
            "mustBeLessOrEqualTo": "<= ",
        }.get(self.operator, f"{self.operator} ")
        return f"{symbol}{self.value:g}"


class Unit(StrEnum):
    ROWS = "rows"
    PERCENT = "percent"


@dataclass(frozen=True)
class QualityRule:
    """One ODCS `quality` entry of type library or sql, on a column or on a table."""

    kind: str  # "library" | "sql"
    metric: str | None  # library metric: nullValues, missingValues, invalidValues, ...
    threshold: Threshold
    unit: Unit
    severity: Severity
    arguments: dict[str, Any]
    query: str | None
    name: str | None
    column: str | None
    path: str
    line: int | None = None


@dataclass(frozen=True)
class Column:
    name: str
    type: DataType
    path: str
    line: int | None = None
    required: bool = False
    unique: bool = False
    primary_key_position: int | None = None
    minimum: Any = None
    maximum: Any = None
    exclusive_minimum: Any = None
    exclusive_maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    enum: tuple[Any, ...] | None = None
    quality: tuple[QualityRule, ...] = ()
    severity: Severity = Severity.ERROR
    allow_non_finite: bool = False
    description: str | None = None

    @property
    def is_primary_key(self) -> bool:
        return self.primary_key_position is not None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    referenced_table: str
    referenced_columns: tuple[str, ...]
    path: str
    # A warning-level key is reported but loads: a flight with an unknown plane happened.
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    path: str
    physical_name: str | None = None
    quality: tuple[QualityRule, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    description: str | None = None

    @property
    def primary_key(self) -> tuple[str, ...]:
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        keyed.sort(key=lambda c: c.primary_key_position or 0)
        return tuple(c.name for c in keyed)

    @property
    def storage_name(self) -> str:
        return self.physical_name or self.name

    def column(self, name: str) -> Column:
        for candidate in self.columns:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


@dataclass(frozen=True)
class Freshness:
    """`slaProperties` latency (or its alias freshness): newest row no older than this."""

    latency: timedelta
    table: str | None
    column: str | None
    path: str


@dataclass(frozen=True)
class ContractWarning:
    """Something allowed but risky, reported with where it is."""

    message: str
    path: str
    line: int | None

    def __str__(self) -> str:
        return (
            f"{self.path} (line {self.line}): {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(frozen=True)
class Contract:
    id: str
    name: str | None
    version: str
    api_version: str
    tables: tuple[Table, ...]
    source: str
    freshness: Freshness | None = None
    default_timezone: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[ContractWarning, ...] = ()

    def table(self, name: str | None = None) -> Table:
        """The named table, or the only one when the contract has just one."""
        if name is None:
            if len(self.tables) != 1:
                names = ", ".join(t.name for t in self.tables)
                raise KeyError(f"contract has several tables ({names}); name one")
            return self.tables[0]
        for candidate in self.tables:
            if name in (candidate.name, candidate.physical_name):
                return candidate
        raise KeyError(name)
