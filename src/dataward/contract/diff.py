"""Compare two versions of a contract and say which changes break which readers.

Compatibility follows the Confluent Schema Registry modes:

- backward: a consumer using the new contract can read data written under the old one,
  i.e. the new contract accepts every row the old one accepted;
- forward: a consumer using the old contract can read data written under the new one,
  i.e. the old contract accepts every row the new one accepts;
- full: both.

So every change is first classified by what it does to the set of rows the contract accepts
(its `Effect`): loosened (the new set contains the old), tightened (the new set is inside the
old), incompatible (neither) or neutral (the same). The mode then only decides which effects
break: tightened breaks backward, loosened breaks forward, incompatible breaks both, and full
is broken by anything that is not neutral. Readers ignore columns they do not know (as Avro
readers ignore unknown fields), so an optional column can come and go freely.

Contract settings count too: `defaultTimezone` decides whether a TIMESTAMPTZ value without
an offset is accepted. A freshness SLA alters no row's verdict (it only warns about the
pipeline) but changes what validate checks, so it is reported as neutral.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from dataward.contract.model import (
    Column,
    Contract,
    Freshness,
    QualityRule,
    Severity,
    Table,
    Threshold,
    Unit,
)
from dataward.contract.types import (
    FLOAT_KINDS,
    INTEGER_KINDS,
    INTEGER_RANGES,
    TEXT_KINDS,
    DataType,
    TypeKind,
)
from dataward.errors import UsageError


class Mode(StrEnum):
    BACKWARD = "backward"
    FORWARD = "forward"
    FULL = "full"


class Effect(StrEnum):
    """What a change does to the set of rows the contract accepts."""

    NEUTRAL = "neutral"  # the same rows
    LOOSENED = "loosened"  # every row accepted before still is, and more
    TIGHTENED = "tightened"  # only rows accepted before, and fewer
    INCOMPATIBLE = "incompatible"  # some rows gained, some lost (or cannot be told)


BREAKS: dict[Effect, tuple[Mode, ...]] = {
    Effect.NEUTRAL: (),
    Effect.LOOSENED: (Mode.FORWARD, Mode.FULL),
    Effect.TIGHTENED: (Mode.BACKWARD, Mode.FULL),
    Effect.INCOMPATIBLE: (Mode.BACKWARD, Mode.FORWARD, Mode.FULL),
}


@dataclass(frozen=True)
class Change:
    """One difference between two contracts, judged under one compatibility mode."""

    table: str
    column: str | None
    kind: str  # a stable id such as "column_added_required"
    description: str
    breaking: bool  # under the mode the diff was asked for
    before: Any
    after: Any
    effect: Effect = Effect.NEUTRAL
    breaks: tuple[Mode, ...] = ()  # every mode this change breaks, whatever was asked

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "kind": self.kind,
            "description": self.description,
            "breaking": self.breaking,
            "effect": self.effect.value,
            "breaks": [mode.value for mode in self.breaks],
            "before": _plain(self.before),
            "after": _plain(self.after),
        }


def diff_contracts(old: Contract, new: Contract, mode: str) -> list[Change]:
    """Every difference that changes which rows are accepted, in contract order.

    Raises UsageError for a mode other than backward, forward or full.
    """
    try:
        chosen = Mode(mode.lower())
    except ValueError:
        raise UsageError(
            f"compatibility mode must be backward, forward or full, got {mode!r}"
        ) from None
    changes: list[Change] = []
    deltas = [
        *_diff_tables(old, new),
        *_diff_default_timezone(old, new),
        *_diff_freshness(old, new),
    ]
    for delta in deltas:
        changes.append(
            Change(
                table=delta.table,
                column=delta.column,
                kind=delta.kind,
                description=delta.description,
                breaking=chosen in BREAKS[delta.effect],
                before=delta.before,
                after=delta.after,
                effect=delta.effect,
                breaks=BREAKS[delta.effect],
            )
        )
    return changes


def breaking_changes(changes: list[Change]) -> list[Change]:
    return [change for change in changes if change.breaking]


# --- internals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Delta:
    table: str
    column: str | None
    kind: str
    description: str
    effect: Effect
    before: Any = None
    after: Any = None


def _plain(value: Any) -> Any:
    """JSON-ready: types and bounds as text, collections as lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _combine(first: Effect, second: Effect) -> Effect:
    if first is Effect.NEUTRAL or first is second:
        return second
    if second is Effect.NEUTRAL:
        return first
    return Effect.INCOMPATIBLE


def _set_effect(old: frozenset, new: frozenset) -> Effect:
    """Effect of changing a set of allowed things (values, key columns...)."""
    if old == new:
        return Effect.NEUTRAL
    if old <= new:
        return Effect.LOOSENED
    if new <= old:
        return Effect.TIGHTENED
    return Effect.INCOMPATIBLE


def _constraint_set_effect(old: frozenset, new: frozenset) -> Effect:
    """Effect of changing a set of constraints that must all hold (patterns, rules):
    the mirror of `_set_effect`, since more constraints accept fewer rows."""
    return _set_effect(new, old)


def _kind(prefix: str, effect: Effect) -> str:
    suffix = {
        Effect.LOOSENED: "loosened",
        Effect.TIGHTENED: "tightened",
        Effect.INCOMPATIBLE: "changed",
        Effect.NEUTRAL: "changed",
    }[effect]
    return f"{prefix}_{suffix}"


# --- contract settings --------------------------------------------------------------------


def _diff_default_timezone(old: Contract, new: Contract) -> Iterator[_Delta]:
    """`defaultTimezone` decides whether a TIMESTAMPTZ value without an offset is accepted
    (read as a local time in that zone) or rejected (no zone is ever guessed)."""
    before, after = old.default_timezone, new.default_timezone
    if before == after:
        return
    aware = any(
        column.type.kind is TypeKind.TIMESTAMPTZ
        for contract in (old, new)
        for table in contract.tables
        for column in table.columns
    )
    if before is None:
        kind, effect = "default_timezone_added", Effect.LOOSENED
        text = f"defaultTimezone {after} added: TIMESTAMPTZ values without an offset, "
        text += f"rejected before, are now read as local times in {after}"
    elif after is None:
        kind, effect = "default_timezone_removed", Effect.TIGHTENED
        text = f"defaultTimezone {before} removed: TIMESTAMPTZ values without an offset, "
        text += "accepted before, are now rejected"
    else:
        kind, effect = "default_timezone_changed", Effect.INCOMPATIBLE
        text = f"defaultTimezone {before} -> {after}: TIMESTAMPTZ values without an offset "
        text += "are read as other instants (and other local times do not exist or are ambiguous)"
    if not aware:
        effect = Effect.NEUTRAL
        text += " (no column is TIMESTAMPTZ, so no row's verdict changes)"
    yield _Delta("", None, kind, text, effect, before=before, after=after)


def _show_freshness(freshness: Freshness | None) -> str:
    if freshness is None:
        return "none"
    where = f" on {freshness.table}.{freshness.column}" if freshness.column else ""
    return f"latency {freshness.latency}{where}"


def _diff_freshness(old: Contract, new: Contract) -> Iterator[_Delta]:
    """The freshness SLA (`slaProperties` latency) only ever warns: no row's verdict changes,
    but the check does, so the change is reported as neutral."""
    before, after = old.freshness, new.freshness

    def judged(freshness: Freshness | None) -> tuple | None:
        return None if freshness is None else (freshness.latency, freshness.table, freshness.column)

    if judged(before) == judged(after):
        return
    kind = {
        (True, False): "freshness_added",
        (False, True): "freshness_removed",
    }.get((before is None, after is None), "freshness_changed")
    shown_before, shown_after = _show_freshness(before), _show_freshness(after)
    table = next((f.table for f in (after, before) if f is not None and f.table), None)
    yield _Delta(
        table or "",
        next((f.column for f in (after, before) if f is not None and f.column), None),
        kind,
        f"freshness SLA {shown_before} -> {shown_after} (a warning only: no row is accepted "
        "or rejected differently)",
        Effect.NEUTRAL,
        before=shown_before,
        after=shown_after,
    )


# --- tables -------------------------------------------------------------------------------


def _diff_tables(old: Contract, new: Contract) -> Iterator[_Delta]:
    old_tables = {t.name: t for t in old.tables}
    new_tables = {t.name: t for t in new.tables}
    for name, table in old_tables.items():
        if name not in new_tables:
            # A table is always expected to exist: losing one is like losing a required column.
            yield _Delta(
                name,
                None,
                "table_removed",
                f"table {name} removed: consumers of the old contract expect it",
                Effect.LOOSENED,
                before=name,
            )
            continue
        yield from _diff_table(table, new_tables[name])
    for name in new_tables:
        if name not in old_tables:
            yield _Delta(
                name,
                None,
                "table_added",
                f"table {name} added: data written under the old contract does not have it",
                Effect.TIGHTENED,
                after=name,
            )


def _diff_table(old: Table, new: Table) -> Iterator[_Delta]:
    name = old.name
    if old.storage_name != new.storage_name:
        yield _Delta(
            name,
            None,
            "table_physical_name_changed",
            f"table {name} is stored as {new.storage_name} instead of {old.storage_name}",
            Effect.INCOMPATIBLE,
            before=old.storage_name,
            after=new.storage_name,
        )
    old_columns = {c.name: c for c in old.columns}
    new_columns = {c.name: c for c in new.columns}
    key_changed = old.primary_key != new.primary_key
    for column in old.columns:
        if column.name not in new_columns:
            required = column.required
            yield _Delta(
                name,
                column.name,
                f"column_removed_{'required' if required else 'optional'}",
                f"{'required' if required else 'optional'} column {column.name} removed"
                + (": consumers of the old contract require it" if required else ""),
                Effect.LOOSENED if required else Effect.NEUTRAL,
                before=str(column.type),
            )
            continue
        yield from _diff_column(old, new, column, new_columns[column.name], key_changed)
    for column in new.columns:
        if column.name not in old_columns:
            required = column.required
            yield _Delta(
                name,
                column.name,
                f"column_added_{'required' if required else 'optional'}",
                f"{'required' if required else 'optional'} column {column.name} added"
                + (": data written under the old contract does not have it" if required else ""),
                Effect.TIGHTENED if required else Effect.NEUTRAL,
                after=str(column.type),
            )
    yield from _diff_primary_key(old, new)
    yield from _diff_foreign_keys(old, new)
    yield from _diff_quality(name, None, old.quality, new.quality)


def _diff_primary_key(old: Table, new: Table) -> Iterator[_Delta]:
    before, after = old.primary_key, new.primary_key
    if before == after:
        return
    shown = f"({', '.join(before)}) -> ({', '.join(after)})"
    if not before:
        kind, effect, text = "primary_key_added", Effect.TIGHTENED, "primary key added"
    elif not after:
        kind, effect, text = "primary_key_removed", Effect.LOOSENED, "primary key removed"
    elif set(before) == set(after):
        kind, effect, text = "primary_key_reordered", Effect.NEUTRAL, "primary key reordered"
    else:
        # Unique on a set of columns implies unique on any superset of it.
        kind = "primary_key_changed"
        effect = _set_effect(frozenset(before), frozenset(after))
        text = "primary key changed (merges match rows on the new key: plan a migration)"
    yield _Delta(old.name, None, kind, f"{text}: {shown}", effect, before=before, after=after)


def _diff_foreign_keys(old: Table, new: Table) -> Iterator[_Delta]:
    def keyed(table: Table) -> dict[tuple, str]:
        return {
            (fk.columns, fk.referenced_table, fk.referenced_columns): (
                f"({', '.join(fk.columns)}) -> "
                f"{fk.referenced_table}({', '.join(fk.referenced_columns)})"
            )
            for fk in table.foreign_keys
        }

    before, after = keyed(old), keyed(new)
    for key, text in before.items():
        if key not in after:
            yield _Delta(
                old.name,
                None,
                "foreign_key_removed",
                f"foreign key {text} removed",
                Effect.LOOSENED,
                before=text,
            )
    for key, text in after.items():
        if key not in before:
            yield _Delta(
                old.name,
                None,
                "foreign_key_added",
                f"foreign key {text} added",
                Effect.TIGHTENED,
                after=text,
            )


# --- columns ------------------------------------------------------------------------------


_Emit = Callable[[str, str, Effect, Any, Any], _Delta]


def _diff_column(
    old_table: Table, new_table: Table, old: Column, new: Column, key_changed: bool
) -> Iterator[_Delta]:
    table, name = old_table.name, old.name

    def delta(kind: str, text: str, effect: Effect, before: Any, after: Any) -> _Delta:
        return _Delta(table, name, kind, f"{name}: {text}", effect, before, after)

    # A rule that switches between judging each row and judging the whole table (invalidValues
    # `mustBe: 0` -> `mustBeLessThan: 5`) is compared as one rule, by its threshold.
    crossed = _crossed_rules(old.quality, new.quality)
    old_rules = tuple(r for r in old.quality if all(r is not pair[0] for pair in crossed))
    new_rules = tuple(r for r in new.quality if all(r is not pair[1] for pair in crossed))
    if old.type.is_text and new.type.is_text:
        yield from _diff_text_length(old, new, delta)
    else:
        yield from _diff_type(old, new, delta)
        yield from _diff_lengths(old, new, delta)
    # `required: true` is a nullValues rule `mustBe: 0`: spelled either way it is one rule,
    # and a flag that becomes such a rule with a tolerance (or back) is a threshold change.
    respelled = (old.required and any(_spells_required(r, old) for r in new_rules)) or (
        new.required and any(_spells_required(r, new) for r in old_rules)
    )
    changed = old.required != new.required and not respelled
    as_rule = _required_as_rule(old, new, old_rules, new_rules) if changed else None
    if changed and as_rule is None:  # (a pair is compared with the quality rules below)
        if new.required:
            yield delta(
                "required_added",
                "now required (NOT NULL): old data may hold nulls",
                Effect.TIGHTENED,
                False,
                True,
            )
        else:
            yield delta(
                "required_removed",
                "now nullable: old consumers may not expect nulls",
                Effect.LOOSENED,
                True,
                False,
            )
    old_unique = old.unique or old_table.primary_key == (name,)
    new_unique = new.unique or new_table.primary_key == (name,)
    in_changed_key = key_changed and (
        name in old_table.primary_key or name in new_table.primary_key
    )
    if old_unique != new_unique and not in_changed_key:
        yield delta(
            "unique_added" if new_unique else "unique_removed",
            "values must now be unique" if new_unique else "values may now repeat",
            Effect.TIGHTENED if new_unique else Effect.LOOSENED,
            old_unique,
            new_unique,
        )
    yield from _diff_range(old, new, delta)
    yield from _diff_enum(_allowed_values(old, old_rules), _allowed_values(new, new_rules), delta)
    yield from _diff_patterns(_patterns(old, old_rules), _patterns(new, new_rules), delta)
    yield from _diff_format(old, new, delta)
    if old.severity != new.severity:
        lowered = new.severity is Severity.WARNING
        yield delta(
            "severity_lowered" if lowered else "severity_raised",
            "violations now only warn" if lowered else "violations now reject the row",
            Effect.LOOSENED if lowered else Effect.TIGHTENED,
            old.severity,
            new.severity,
        )
    floats = old.type.kind in FLOAT_KINDS or new.type.kind in FLOAT_KINDS
    if old.allow_non_finite != new.allow_non_finite and floats:
        allowed = new.allow_non_finite
        yield delta(
            "non_finite_allowed" if allowed else "non_finite_disallowed",
            "NaN and infinity now accepted" if allowed else "NaN and infinity now rejected",
            Effect.LOOSENED if allowed else Effect.TIGHTENED,
            old.allow_non_finite,
            new.allow_non_finite,
        )
    # Row rules are judged above as allowed values and patterns; the rest as rules.
    yield from _diff_quality(
        table,
        name,
        tuple(r for r in old_rules if not _is_row_rule(r)),
        tuple(r for r in new_rules if not _is_row_rule(r)),
        # A nullValues rule that only restates the other side's `required: true`, or that
        # is compared with it below.
        redundant_old=lambda rule: (
            (new.required and _spells_required(rule, new))
            or (as_rule is not None and rule is as_rule[0])
        ),
        redundant_new=lambda rule: (
            (old.required and _spells_required(rule, old))
            or (as_rule is not None and rule is as_rule[1])
        ),
    )
    for before, after in [*crossed, *([as_rule] if as_rule else [])]:
        yield from _diff_rule(table, name, before, after)


# Largest absolute value of each integer type, in decimal digits.
_INTEGER_DIGITS = {kind: len(str(-low)) for kind, (low, _) in INTEGER_RANGES.items()}
# Integers a binary float holds exactly: up to 2^24 (REAL) and 2^53 (DOUBLE).
_FLOAT_EXACT = {TypeKind.REAL: 2**24, TypeKind.DOUBLE: 2**53}
_UUID_LENGTH = 36
_JSON_KINDS = frozenset({TypeKind.JSON, TypeKind.JSONB})


def _holds(a: DataType, b: DataType) -> bool:
    """True when every value of type `a` is, exactly, a value of type `b`."""
    ka, kb = a.kind, b.kind
    if ka in INTEGER_KINDS and kb in INTEGER_KINDS:
        (low_a, high_a), (low_b, high_b) = INTEGER_RANGES[ka], INTEGER_RANGES[kb]
        return low_b <= low_a and high_a <= high_b
    if ka in INTEGER_KINDS and kb is TypeKind.DECIMAL:
        return (b.precision or 0) - (b.scale or 0) >= _INTEGER_DIGITS[ka]
    if ka is TypeKind.DECIMAL and kb in INTEGER_KINDS:
        return (a.scale or 0) == 0 and 10 ** (a.precision or 0) - 1 <= INTEGER_RANGES[kb][1]
    if ka is TypeKind.DECIMAL and kb is TypeKind.DECIMAL:
        scale_a, scale_b = a.scale or 0, b.scale or 0
        return scale_a <= scale_b and (a.precision or 0) - scale_a <= (b.precision or 0) - scale_b
    if kb in _FLOAT_EXACT:
        if ka in INTEGER_KINDS:
            return INTEGER_RANGES[ka][1] < _FLOAT_EXACT[kb]
        if ka is TypeKind.DECIMAL:
            # 0.1 has no exact binary float: only whole decimals fit, and never rounded.
            return (a.scale or 0) == 0 and 10 ** (a.precision or 0) - 1 <= _FLOAT_EXACT[kb]
        if ka is TypeKind.REAL:
            return True
    if ka is TypeKind.UUID and kb in TEXT_KINDS:
        return b.length is None or b.length >= _UUID_LENGTH
    if ka in _JSON_KINDS and kb in _JSON_KINDS:
        return True
    return ka is kb and a.length == b.length


_TYPE_CHANGES: dict[Effect, tuple[str, str]] = {
    Effect.NEUTRAL: ("type_respelled", "type {} -> {} holds the same values"),
    Effect.LOOSENED: (
        "type_widened",
        "type widened {} -> {}: consumers of the old contract cannot hold every new value",
    ),
    Effect.TIGHTENED: ("type_narrowed", "type narrowed {} -> {}: old data may not fit"),
    Effect.INCOMPATIBLE: (
        "type_changed",
        "type changed {} -> {}: neither holds every value of the other",
    ),
}


def _type_change(old: DataType, new: DataType, effect: Effect, delta: _Emit) -> _Delta:
    kind, text = _TYPE_CHANGES[effect]
    return delta(kind, text.format(old, new), effect, str(old), str(new))


def _diff_type(old: Column, new: Column, delta: _Emit) -> Iterator[_Delta]:
    if old.type == new.type:
        return
    widened, narrowed = _holds(old.type, new.type), _holds(new.type, old.type)
    if widened and narrowed:
        effect = Effect.NEUTRAL
    elif widened:
        effect = Effect.LOOSENED
    elif narrowed:
        effect = Effect.TIGHTENED
    else:
        effect = Effect.INCOMPATIBLE
    yield _type_change(old.type, new.type, effect, delta)


Bound = tuple[Any, bool] | None  # (value, inclusive); None is unbounded


def _compare_lower(old: Bound, new: Bound) -> int:
    """+1 when the new lower bound admits less, -1 when more, 0 when the same."""
    if old == new:
        return 0
    if old is None:
        return 1
    if new is None:
        return -1
    if new[0] != old[0]:
        return 1 if new[0] > old[0] else -1
    return 1 if old[1] and not new[1] else -1


def _compare_upper(old: Bound, new: Bound) -> int:
    if old == new:
        return 0
    if old is None:
        return 1
    if new is None:
        return -1
    if new[0] != old[0]:
        return 1 if new[0] < old[0] else -1
    return 1 if old[1] and not new[1] else -1


def _interval_effect(old: tuple[Bound, Bound], new: tuple[Bound, Bound]) -> Effect:
    try:
        moves = {_compare_lower(old[0], new[0]), _compare_upper(old[1], new[1])}
    except TypeError:  # bounds of different types (the column's type changed)
        return Effect.INCOMPATIBLE
    moves.discard(0)
    if not moves:
        return Effect.NEUTRAL
    if moves == {1}:
        return Effect.TIGHTENED
    if moves == {-1}:
        return Effect.LOOSENED
    return Effect.INCOMPATIBLE


def _range(column: Column) -> tuple[Bound, Bound]:
    integral = column.type.kind in INTEGER_KINDS

    def tighter(first: Bound, second: Bound, lower: bool) -> Bound:
        if first is None or second is None:
            return first or second
        compare = _compare_lower if lower else _compare_upper
        return second if compare(first, second) > 0 else first

    low: Bound = None if column.minimum is None else (column.minimum, True)
    if column.exclusive_minimum is not None:
        value = column.exclusive_minimum
        # On integers, > 4 is >= 5: compare them as the same bound.
        bound = (_whole(value, ROUND_FLOOR) + 1, True) if integral else (value, False)
        low = tighter(low, bound, lower=True)
    high: Bound = None if column.maximum is None else (column.maximum, True)
    if column.exclusive_maximum is not None:
        value = column.exclusive_maximum
        bound = (_whole(value, ROUND_CEILING) - 1, True) if integral else (value, False)
        high = tighter(high, bound, lower=False)
    return low, high


def _whole(value: Any, rounding: str) -> Decimal:
    return Decimal(value).to_integral_value(rounding=rounding)


def _show_range(interval: tuple[Bound, Bound]) -> str:
    low, high = interval
    left = "(-inf" if low is None else ("[" if low[1] else "(") + str(low[0])
    right = "+inf)" if high is None else str(high[0]) + ("]" if high[1] else ")")
    return f"{left}, {right}"


def _diff_range(old: Column, new: Column, delta: _Emit) -> Iterator[_Delta]:
    before, after = _range(old), _range(new)
    effect = _interval_effect(before, after)
    if effect is Effect.NEUTRAL:
        return
    shown_before, shown_after = _show_range(before), _show_range(after)
    yield delta(
        _kind("range", effect),
        f"allowed range {shown_before} -> {shown_after}",
        effect,
        shown_before,
        shown_after,
    )


def _lengths(column: Column, *, with_type: bool) -> tuple[Bound, Bound]:
    high = column.max_length
    if with_type and column.type.length is not None:
        high = column.type.length if high is None else min(high, column.type.length)
    low = column.min_length or None  # a minimum of 0 admits everything
    return (
        None if low is None else (low, True),
        None if high is None else (high, True),
    )


def _show_lengths(bounds: tuple[Bound, Bound]) -> str:
    low, high = bounds
    return f"[{0 if low is None else low[0]}, {'inf' if high is None else high[0]}]"


def _diff_text_length(old: Column, new: Column, delta: _Emit) -> Iterator[_Delta]:
    """TEXT and VARCHAR differ only in length, so the type and the bounds are judged together.

    VARCHAR(10) and TEXT with maxLength 10 accept the same strings and are not a change.
    """
    before, after = _lengths(old, with_type=True), _lengths(new, with_type=True)
    effect = _interval_effect(before, after)
    type_changed = old.type != new.type
    if effect is Effect.NEUTRAL:
        if type_changed:
            yield _type_change(old.type, new.type, effect, delta)
        return
    if type_changed and _lengths(old, with_type=False) == _lengths(new, with_type=False):
        yield _type_change(old.type, new.type, effect, delta)
        return
    shown_before, shown_after = _show_lengths(before), _show_lengths(after)
    yield delta(
        _kind("length", effect),
        f"allowed length {shown_before} -> {shown_after}",
        effect,
        shown_before,
        shown_after,
    )


def _diff_lengths(old: Column, new: Column, delta: _Emit) -> Iterator[_Delta]:
    before, after = _lengths(old, with_type=False), _lengths(new, with_type=False)
    effect = _interval_effect(before, after)
    if effect is Effect.NEUTRAL:
        return
    shown_before, shown_after = _show_lengths(before), _show_lengths(after)
    yield delta(
        _kind("length", effect),
        f"allowed length {shown_before} -> {shown_after}",
        effect,
        shown_before,
        shown_after,
    )


_UPPER_BOUNDED = ("mustBe", "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween")


def _tolerates_nothing(threshold: Threshold) -> bool:
    """Holds for zero violations and fails for *every* count >= 1 (`mustBe: 0`,
    `mustBeLessThan` <= 1, `mustBeLessOrEqualTo` < 1, `mustBeBetween [a, b]` with
    a <= 0 <= b < 1), as the check compiler decides which rules judge each row.
    `mustNotBe: 1` holds for 0 and for 4: never such a rule."""
    return threshold.operator in _UPPER_BOUNDED and threshold.holds(0) and not threshold.holds(1)


def _zero_tolerance(rule: QualityRule, metric: str) -> bool:
    return (
        rule.kind == "library"
        and rule.metric == metric
        and rule.unit is Unit.ROWS
        and _tolerates_nothing(rule.threshold)
    )


def _is_row_rule(rule: QualityRule) -> bool:
    """An invalidValues rule that fails on the first bad value: a constraint on each row."""
    return _zero_tolerance(rule, "invalidValues")


def _rejects(rule: QualityRule) -> bool:
    """A row rule at error severity: a row that breaks it is not accepted (a warning is)."""
    return _is_row_rule(rule) and rule.severity is Severity.ERROR


def _spells_required(rule: QualityRule, column: Column) -> bool:
    """True when `rule` says exactly what `column`'s `required: true` says: no null, judged
    per row, at the severity the required check has (a key's is always an error)."""
    if not column.required or not _zero_tolerance(rule, "nullValues"):
        return False
    severity = Severity.ERROR if column.is_primary_key else column.severity
    return rule.severity is severity


def _required_rule(column: Column) -> QualityRule:
    """`required: true` written as the nullValues rule it amounts to."""
    return QualityRule(
        kind="library",
        metric="nullValues",
        threshold=Threshold("mustBe", 0),
        unit=Unit.ROWS,
        severity=Severity.ERROR if column.is_primary_key else column.severity,
        arguments={},
        query=None,
        name="required",
        column=column.name,
        path=column.path,
        line=column.line,
    )


def _required_as_rule(
    old: Column,
    new: Column,
    old_rules: tuple[QualityRule, ...],
    new_rules: tuple[QualityRule, ...],
) -> tuple[QualityRule, QualityRule] | None:
    """When one side's `required: true` became (or came from) a nullValues rule in rows on
    the other side, the pair to compare as one rule: the flag as a rule, and that rule."""
    flagged, flagged_rules, other_rules = (
        (old, old_rules, new_rules) if old.required else (new, new_rules, old_rules)
    )
    keys = {_rule_key(rule) for rule in flagged_rules}
    candidate = next(
        (
            rule
            for rule in other_rules
            if rule.kind == "library"
            and rule.metric == "nullValues"
            and rule.unit is Unit.ROWS
            and _rule_key(rule) not in keys
        ),
        None,
    )
    if candidate is None:
        return None
    required = _required_rule(flagged)
    return (required, candidate) if flagged is old else (candidate, required)


def _crossed_rules(
    old: tuple[QualityRule, ...], new: tuple[QualityRule, ...]
) -> list[tuple[QualityRule, QualityRule]]:
    """Rules checking the same thing that are a row rule on one side only."""
    pairs: list[tuple[QualityRule, QualityRule]] = []
    remaining = list(new)
    for rule in old:
        match = next((r for r in remaining if _rule_key(r) == _rule_key(rule)), None)
        if match is None:
            continue
        remaining.remove(match)
        if _is_row_rule(rule) != _is_row_rule(match):
            pairs.append((rule, match))
    return pairs


def _allowed_values(column: Column, rules: tuple[QualityRule, ...]) -> frozenset | None:
    """The values the column may hold (ODCS 3.2 enum and invalidValues rules), or None."""
    allowed: frozenset | None = None if column.enum is None else frozenset(column.enum)
    for rule in rules:
        if _rejects(rule) and "validValues" in rule.arguments:
            values = frozenset(rule.arguments["validValues"])
            allowed = values if allowed is None else allowed & values
    return allowed


def _diff_enum(before: frozenset | None, after: frozenset | None, delta: _Emit) -> Iterator[_Delta]:
    if before == after:
        return
    if before is None:
        yield delta(
            "enum_added", f"values restricted to {_show(after)}", Effect.TIGHTENED, None, after
        )
        return
    if after is None:
        yield delta(
            "enum_removed", "values no longer restricted to a list", Effect.LOOSENED, before, None
        )
        return
    assert after is not None
    effect = _set_effect(before, after)
    added, removed = after - before, before - after
    kind = {
        Effect.LOOSENED: "enum_values_added",
        Effect.TIGHTENED: "enum_values_removed",
        Effect.INCOMPATIBLE: "enum_values_changed",
    }[effect]
    parts = []
    if added:
        parts.append(f"added {_show(added)}")
    if removed:
        parts.append(f"removed {_show(removed)}")
    yield delta(kind, "allowed values " + " and ".join(parts), effect, before, after)


def _show(values: frozenset | None) -> str:
    return "[" + ", ".join(repr(v) for v in sorted(values or (), key=repr)) + "]"


def _patterns(column: Column, rules: tuple[QualityRule, ...]) -> frozenset[str]:
    found = {column.pattern} if column.pattern is not None else set()
    for rule in rules:
        if _rejects(rule) and "pattern" in rule.arguments:
            found.add(str(rule.arguments["pattern"]))
    return frozenset(found)


def _diff_patterns(before: frozenset[str], after: frozenset[str], delta: _Emit) -> Iterator[_Delta]:
    if before == after:
        return
    # Whether one regular expression admits a subset of another cannot be told in general:
    # a replaced pattern is judged incompatible.
    effect = _constraint_set_effect(before, after)
    kind = {
        Effect.TIGHTENED: "pattern_added",
        Effect.LOOSENED: "pattern_removed",
        Effect.INCOMPATIBLE: "pattern_changed",
    }[effect]
    text = f"pattern {_show_patterns(before)} -> {_show_patterns(after)}"
    yield delta(kind, text, effect, sorted(before), sorted(after))


def _show_patterns(patterns: frozenset[str]) -> str:
    return " and ".join(repr(p) for p in sorted(patterns)) or "none"


def _diff_format(old: Column, new: Column, delta: _Emit) -> Iterator[_Delta]:
    before, after = old.format, new.format
    if before == after:
        return
    if before is None:
        kind, effect = "format_added", Effect.TIGHTENED
    elif after is None:
        kind, effect = "format_removed", Effect.LOOSENED
    else:
        kind, effect = "format_changed", Effect.INCOMPATIBLE
    yield delta(kind, f"format {before or 'none'} -> {after or 'none'}", effect, before, after)


# --- quality rules ------------------------------------------------------------------------


def _rule_key(rule: QualityRule) -> str:
    """What a rule checks, without how strictly: rules with one key are compared."""
    return json.dumps(
        [rule.kind, rule.metric, rule.name, rule.query, rule.unit.value, rule.arguments],
        sort_keys=True,
        default=str,
    )


def _rule_label(rule: QualityRule) -> str:
    label = rule.name or rule.metric or "sql"
    return f"quality rule {label} ({rule.threshold} {rule.unit.value})"


Interval = tuple[Bound, Bound]


def _threshold_intervals(threshold: Threshold) -> list[Interval]:
    """The numbers a threshold accepts, as intervals (two for the mustNot* operators)."""
    value = threshold.value
    match threshold.operator:
        case "mustBe":
            return [((value, True), (value, True))]
        case "mustNotBe":
            return [(None, (value, False)), ((value, False), None)]
        case "mustBeGreaterThan":
            return [((value, False), None)]
        case "mustBeGreaterOrEqualTo":
            return [((value, True), None)]
        case "mustBeLessThan":
            return [(None, (value, False))]
        case "mustBeLessOrEqualTo":
            return [(None, (value, True))]
    low, high = value  # type: ignore[misc]
    if threshold.operator == "mustBeBetween":
        return [((low, True), (high, True))]
    return [(None, (low, False)), ((high, False), None)]  # mustNotBeBetween


def _whole_numbers(interval: Interval) -> Interval | None:
    """The counts (whole numbers from 0) in an interval, as closed bounds; None if none."""
    low, high = interval
    start = 0
    if low is not None:
        start = max(0, math.ceil(low[0]) if low[1] else math.floor(low[0]) + 1)
    if high is None:
        return (start, True), None
    end = math.floor(high[0]) if high[1] else math.ceil(high[0]) - 1
    return ((start, True), (end, True)) if start <= end else None


def _clip(interval: Interval, floor: float, ceiling: float) -> Interval | None:
    """An interval of real numbers cut to [floor, ceiling]; None if nothing is left."""
    low, high = interval
    if low is None or low[0] < floor:
        low = (floor, True)
    if high is None or high[0] > ceiling:
        high = (ceiling, True)
    if low[0] > high[0] or (low[0] == high[0] and not (low[1] and high[1])):
        return None
    return low, high


def _accepted_measures(rule: QualityRule) -> list[Interval]:
    """Every measurement a rule accepts, as disjoint intervals in order.

    Row counts (a library metric in rows) are whole numbers from 0, so `mustBe: 0` accepts
    {0} and `mustBeLessThan: 5` accepts {0..4}; a percentage lies in [0, 100]; a SQL result
    can be any number.
    """
    pieces = _threshold_intervals(rule.threshold)
    if rule.kind == "library" and rule.unit is Unit.ROWS:
        counts = [p for p in map(_whole_numbers, pieces) if p is not None]
        return _merge(counts, whole=True)
    if rule.kind == "library":
        percents = [p for p in (_clip(p, 0.0, 100.0) for p in pieces) if p is not None]
        return _merge(percents, whole=False)
    return _merge(pieces, whole=False)


def _merge(intervals: list[Interval], *, whole: bool) -> list[Interval]:
    """Overlapping or touching intervals joined, so each connected run is one interval."""

    def start(interval: Interval) -> tuple:
        low = interval[0]
        return (0, 0, 0) if low is None else (1, low[0], 0 if low[1] else 1)

    merged: list[Interval] = []
    for interval in sorted(intervals, key=start):
        if merged and _joins(merged[-1], interval, whole=whole):
            last = merged[-1]
            if _compare_upper(last[1], interval[1]) < 0:  # the new one reaches further
                merged[-1] = (last[0], interval[1])
            continue
        merged.append(interval)
    return merged


def _joins(first: Interval, second: Interval, *, whole: bool) -> bool:
    """Whether `second` (which starts no earlier) overlaps or touches `first`."""
    end, begin = first[1], second[0]
    if end is None or begin is None:
        return True
    if whole:
        return begin[0] <= end[0] + 1
    return begin[0] < end[0] or (begin[0] == end[0] and (begin[1] or end[1]))


def _contains(outer: Interval, inner: Interval) -> bool:
    # _compare_* give +1 when the second bound admits less than the first.
    return _compare_lower(outer[0], inner[0]) >= 0 and _compare_upper(outer[1], inner[1]) >= 0


def _subset(inner: list[Interval], outer: list[Interval]) -> bool:
    return all(any(_contains(o, i) for o in outer) for i in inner)


def _measures_effect(before: list[Interval], after: list[Interval]) -> Effect:
    """Accepting more measurements (bad rows, row counts) accepts more data."""
    wider, narrower = _subset(before, after), _subset(after, before)
    if wider and narrower:
        return Effect.NEUTRAL
    if wider:
        return Effect.LOOSENED
    if narrower:
        return Effect.TIGHTENED
    return Effect.INCOMPATIBLE


def _diff_quality(
    table: str,
    column: str | None,
    old: tuple[QualityRule, ...],
    new: tuple[QualityRule, ...],
    redundant_old: Callable[[QualityRule], bool] = lambda rule: False,
    redundant_new: Callable[[QualityRule], bool] = lambda rule: False,
) -> Iterator[_Delta]:
    remaining = list(new)
    for rule in old:
        match = next((r for r in remaining if _rule_key(r) == _rule_key(rule)), None)
        if match is None:
            if redundant_old(rule):
                continue
            yield _Delta(
                table,
                column,
                "quality_rule_removed",
                f"{_rule_label(rule)} removed",
                Effect.LOOSENED,
                before=_rule_label(rule),
            )
            continue
        remaining.remove(match)
        yield from _diff_rule(table, column, rule, match)
    for rule in remaining:
        if redundant_new(rule):
            continue
        yield _Delta(
            table,
            column,
            "quality_rule_added",
            f"{_rule_label(rule)} added",
            Effect.TIGHTENED,
            after=_rule_label(rule),
        )


def _diff_rule(
    table: str, column: str | None, old: QualityRule, new: QualityRule
) -> Iterator[_Delta]:
    effect = _measures_effect(_accepted_measures(old), _accepted_measures(new))
    # The same measurements spelled another way (`mustBeLessThan: 5`, `mustBeLessOrEqualTo:
    # 4` on a count) are not a change, as equivalent range bounds are not.
    if effect is not Effect.NEUTRAL:
        yield _Delta(
            table,
            column,
            _kind("quality_threshold", effect),
            f"{old.name or old.metric or 'sql'}: threshold {old.threshold} -> {new.threshold}",
            effect,
            before=str(old.threshold),
            after=str(new.threshold),
        )
    if old.severity != new.severity:
        lowered = new.severity is Severity.WARNING
        yield _Delta(
            table,
            column,
            "quality_severity_lowered" if lowered else "quality_severity_raised",
            f"{_rule_label(new)}: severity {old.severity.value} -> {new.severity.value}",
            Effect.LOOSENED if lowered else Effect.TIGHTENED,
            before=old.severity,
            after=new.severity,
        )


__all__ = ["BREAKS", "Change", "Effect", "Mode", "breaking_changes", "diff_contracts"]
