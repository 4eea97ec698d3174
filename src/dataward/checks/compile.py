"""Turn a contract's table into the list of checks every engine evaluates.

This is the only place that reads contract semantics; renderers only translate kinds.
"""

from __future__ import annotations

from dataclasses import replace

from dataward.checks.model import Check, CheckKind, Scope
from dataward.contract.model import Column, Contract, QualityRule, Severity, Table, Unit
from dataward.contract.types import FLOAT_KINDS, FORMAT_PATTERNS


def compile_checks(contract: Contract, table: Table | None = None) -> list[Check]:
    table = table or contract.table()
    checks: list[Check] = []
    for column in table.columns:
        checks.extend(_column_checks(table, column))
    primary_key = table.primary_key
    if primary_key:
        checks.append(
            Check(
                id=f"{table.name}.primary_key",
                kind=CheckKind.UNIQUE,
                scope=Scope.ROW,
                severity=Severity.ERROR,
                table=table.name,
                columns=primary_key,
                message=f"primary key ({', '.join(primary_key)}) must be unique",
                origin=table.path,
            )
        )
    for rule in table.quality:
        checks.extend(_quality_checks(table, None, rule))
    for fk in table.foreign_keys:
        checks.append(
            Check(
                id=f"{table.name}.{'_'.join(fk.columns)}.foreign_key",
                kind=CheckKind.FOREIGN_KEY,
                scope=Scope.ROW,
                severity=fk.severity,
                table=table.name,
                columns=fk.columns,
                message=(
                    f"({', '.join(fk.columns)}) must exist in "
                    f"{fk.referenced_table}({', '.join(fk.referenced_columns)})"
                ),
                origin=fk.path,
                referenced_table=fk.referenced_table,
                referenced_columns=fk.referenced_columns,
            )
        )
    freshness = contract.freshness
    if freshness and freshness.column and freshness.table in (table.name, table.physical_name):
        checks.append(
            Check(
                id=f"{table.name}.{freshness.column}.freshness",
                kind=CheckKind.FRESHNESS,
                scope=Scope.DATASET,
                # Staleness is about the pipeline, not this data: it warns, it does not fail.
                severity=Severity.WARNING,
                table=table.name,
                columns=(freshness.column,),
                message=f"newest {freshness.column} must be at most {freshness.latency} old",
                origin=freshness.path,
                column_type=table.column(freshness.column).type,
                latency=freshness.latency,
            )
        )
    _check_unique_ids(checks)
    return checks


def _check_unique_ids(checks: list[Check]) -> None:
    """Two rules of the same kind on one column get ids `x` and `x#2`: results stay apart."""
    seen: dict[str, int] = {}
    for index, check in enumerate(checks):
        if check.id in seen:
            seen[check.id] += 1
            checks[index] = replace(check, id=f"{check.id}#{seen[check.id]}")
        else:
            seen[check.id] = 1


def _column_checks(table: Table, column: Column) -> list[Check]:
    name = column.name
    base = {
        "table": table.name,
        "columns": (name,),
        "origin": column.path,
        "origin_line": column.line,
        "column_type": column.type,
        "severity": column.severity,
        "scope": Scope.ROW,
    }
    checks: list[Check] = []
    if column.required:
        # A key with a hole cannot identify its row: never merely a warning.
        severity = Severity.ERROR if column.is_primary_key else column.severity
        checks.append(
            Check(
                id=f"{table.name}.{name}.not_null",
                kind=CheckKind.NOT_NULL,
                message=f"{name} is required",
                **{**base, "severity": severity},  # type: ignore[arg-type]
            )
        )
    if column.type.kind in FLOAT_KINDS and not column.allow_non_finite:
        checks.append(
            Check(
                id=f"{table.name}.{name}.finite",
                kind=CheckKind.FINITE,
                message=f"{name} must be a finite number (not NaN or infinity)",
                **base,  # type: ignore[arg-type]
            )
        )
    low, low_inclusive = column.minimum, True
    if column.exclusive_minimum is not None:
        low, low_inclusive = column.exclusive_minimum, False
    high, high_inclusive = column.maximum, True
    if column.exclusive_maximum is not None:
        high, high_inclusive = column.exclusive_maximum, False
    if low is not None or high is not None:
        parts = []
        if low is not None:
            parts.append(f"{'>=' if low_inclusive else '>'} {low}")
        if high is not None:
            parts.append(f"{'<=' if high_inclusive else '<'} {high}")
        checks.append(
            Check(
                id=f"{table.name}.{name}.range",
                kind=CheckKind.RANGE,
                message=f"{name} must be {' and '.join(parts)}",
                low=low,
                high=high,
                low_inclusive=low_inclusive,
                high_inclusive=high_inclusive,
                **base,  # type: ignore[arg-type]
            )
        )
    max_length = column.max_length
    if column.type.length is not None:
        max_length = min(max_length or column.type.length, column.type.length)
    if column.min_length is not None or max_length is not None:
        checks.append(
            Check(
                id=f"{table.name}.{name}.length",
                kind=CheckKind.LENGTH,
                message=f"{name} length must be within [{column.min_length or 0}, "
                f"{max_length if max_length is not None else '∞'}] characters",
                min_length=column.min_length,
                max_length=max_length,
                **base,  # type: ignore[arg-type]
            )
        )
    if column.pattern is not None:
        checks.append(
            Check(
                id=f"{table.name}.{name}.pattern",
                kind=CheckKind.PATTERN,
                message=f"{name} must match {column.pattern}",
                pattern=column.pattern,
                **base,  # type: ignore[arg-type]
            )
        )
    if column.format is not None:
        checks.append(
            Check(
                id=f"{table.name}.{name}.format",
                kind=CheckKind.PATTERN,
                message=f"{name} must be a valid {column.format}",
                pattern=FORMAT_PATTERNS[column.format],
                **base,  # type: ignore[arg-type]
            )
        )
    if column.enum is not None:
        checks.append(
            Check(
                id=f"{table.name}.{name}.enum",
                kind=CheckKind.ACCEPTED_VALUES,
                message=f"{name} must be one of {_show(column.enum)}",
                values=column.enum,
                **base,  # type: ignore[arg-type]
            )
        )
    if column.unique and not (column.is_primary_key and len(table.primary_key) == 1):
        checks.append(
            Check(
                id=f"{table.name}.{name}.unique",
                kind=CheckKind.UNIQUE,
                message=f"{name} must be unique",
                **base,  # type: ignore[arg-type]
            )
        )
    for rule in column.quality:
        checks.extend(_quality_checks(table, column, rule))
    return checks


def _show(values: tuple) -> str:
    shown = ", ".join(repr(v) for v in values[:8])
    return f"[{shown}{', ...' if len(values) > 8 else ''}]"


def _quality_checks(table: Table, column: Column | None, rule: QualityRule) -> list[Check]:
    if rule.kind == "text":
        return []
    label = rule.name or rule.metric or "sql"
    where = f"{table.name}.{column.name}" if column else table.name
    check_id = f"{where}.{label}"
    common = {
        "id": check_id,
        "severity": rule.severity,
        "table": table.name,
        "origin": rule.path,
        "origin_line": rule.line,
        "threshold": rule.threshold,
        "unit": rule.unit,
    }
    if rule.kind == "sql":
        return [
            Check(
                kind=CheckKind.SQL,
                scope=Scope.DATASET,
                columns=(column.name,) if column else (),
                message=f"{label}: query result must be {rule.threshold.phrase}",
                query=rule.query,
                column_type=column.type if column else None,
                **common,  # type: ignore[arg-type]
            )
        ]
    if rule.metric == "rowCount":
        return [
            Check(
                kind=CheckKind.ROW_COUNT,
                scope=Scope.DATASET,
                columns=(),
                message=f"row count must be {rule.threshold.phrase}",
                **common,  # type: ignore[arg-type]
            )
        ]
    # A rule whose threshold cannot tolerate one bad row is a per-row rule: the violating
    # rows are rejected (or flagged when it is a warning). Otherwise it is a dataset metric.
    per_row = rule.unit is Unit.ROWS and rule.threshold.tolerates_nothing
    scope = Scope.ROW if per_row else Scope.DATASET
    threshold_text = "" if per_row else f" ({rule.metric} {rule.threshold} {rule.unit.value})"
    column_type = column.type if column else None
    if rule.metric == "nullValues":
        assert column is not None
        return [
            Check(
                kind=CheckKind.NOT_NULL,
                scope=scope,
                columns=(column.name,),
                message=f"{column.name} must not be null{threshold_text}",
                column_type=column_type,
                **common,  # type: ignore[arg-type]
            )
        ]
    if rule.metric == "missingValues":
        assert column is not None
        missing = tuple(rule.arguments.get("missingValues") or ())
        return [
            Check(
                kind=CheckKind.MISSING,
                scope=scope,
                columns=(column.name,),
                message=f"{column.name} must not be missing (null or {_show(missing)})"
                f"{threshold_text}",
                values=missing,
                column_type=column_type,
                **common,  # type: ignore[arg-type]
            )
        ]
    if rule.metric == "invalidValues":
        assert column is not None
        if "validValues" in rule.arguments:
            valid = tuple(rule.arguments["validValues"])
            return [
                Check(
                    kind=CheckKind.ACCEPTED_VALUES,
                    scope=scope,
                    columns=(column.name,),
                    message=f"{column.name} must be one of {_show(valid)}{threshold_text}",
                    values=valid,
                    column_type=column_type,
                    **common,  # type: ignore[arg-type]
                )
            ]
        pattern = str(rule.arguments["pattern"])
        return [
            Check(
                kind=CheckKind.PATTERN,
                scope=scope,
                columns=(column.name,),
                message=f"{column.name} must match {pattern}{threshold_text}",
                pattern=pattern,
                column_type=column_type,
                **common,  # type: ignore[arg-type]
            )
        ]
    if rule.metric == "duplicateValues":
        columns = (column.name,) if column else tuple(rule.arguments.get("properties") or ())
        return [
            Check(
                kind=CheckKind.UNIQUE,
                scope=scope,
                columns=columns,
                message=f"({', '.join(columns)}) must not repeat{threshold_text}",
                column_type=column_type,
                **common,  # type: ignore[arg-type]
            )
        ]
    raise AssertionError(f"unhandled metric {rule.metric}")  # the loader admits no other
