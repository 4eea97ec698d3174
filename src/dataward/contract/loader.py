"""Read an ODCS v3 YAML file into a `Contract`, failing with file, YAML path and line.

Parsing is delegated to the official `open-data-contract-standard` Pydantic models (which
reject unknown keys); this module only adds locations and the meaning dataward gives to
each field. dataward's own settings live in `customProperties`, as ODCS intends.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl
import pydantic
import yaml
from open_data_contract_standard.model import (
    CustomProperty,
    DataQuality,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
)

from dataward.contract.model import (
    OPERATORS,
    RANGE_OPERATORS,
    Column,
    Contract,
    ContractWarning,
    ForeignKey,
    Freshness,
    QualityRule,
    Severity,
    Table,
    Threshold,
    Unit,
)
from dataward.contract.types import (
    FLOAT_KINDS,
    NUMERIC_KINDS,
    DataType,
    TypeKind,
    parse_physical_type,
)
from dataward.contract.yaml_lines import LineIndex, PathPart, format_path, load_yaml
from dataward.errors import ContractError, Location

SUPPORTED_API_VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")
LIBRARY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount")
TABLE_ONLY_METRICS = ("rowCount",)
FORMATS = ("email", "uuid")
SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.WARNING}
_SLA_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}


class _Reader:
    """Carries the file name and line index so every error can say where it is."""

    def __init__(self, source: str, lines: LineIndex) -> None:
        self.source = source
        self.lines = lines

    def fail(self, path: Sequence[PathPart], message: str) -> ContractError:
        return ContractError(
            message,
            Location(file=self.source, line=self.lines.line(path), path=format_path(path)),
        )


def load_contract(path: str | Path) -> Contract:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError("contract file not found", Location(file=source)) from None
    except UnicodeDecodeError as exc:
        raise ContractError(
            f"contract is not UTF-8 ({exc.reason})", Location(file=source)
        ) from None
    except OSError as exc:
        raise ContractError(
            f"cannot read contract: {exc.strerror}", Location(file=source)
        ) from None
    return parse_contract(text, source)


def parse_contract(text: str, source: str = "<contract>") -> Contract:
    try:
        data, lines = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(
            f"malformed YAML: {problem}",
            Location(
                file=source,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ),
        ) from None
    reader = _Reader(source, lines)
    if lines.duplicate is not None:
        path, line = lines.duplicate
        raise ContractError(
            f"key {path[-1]!r} appears twice in the same mapping: which one is meant?",
            Location(file=source, line=line, path=format_path(path)),
        )
    if not isinstance(data, dict):
        raise reader.fail((), "a contract must be a YAML mapping (apiVersion, kind, id, schema...)")
    try:
        document = OpenDataContractStandard.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _pydantic_error(reader, exc) from None
    # The ODCS models forbid unknown keys only at the top level; nested objects would
    # drop a misspelt key silently, so every level is checked here.
    _reject_unknown_keys(reader, OpenDataContractStandard, data, ())
    return _build_contract(reader, document)


def _model_types(annotation: Any) -> list[type[pydantic.BaseModel]]:
    """The Pydantic models an annotation can hold, directly or as list items."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    found: list[type[pydantic.BaseModel]] = []
    for argument in typing.get_args(annotation):
        found.extend(_model_types(argument))
    return found


def _reject_unknown_keys(
    reader: _Reader, model: type[pydantic.BaseModel], data: Any, path: tuple[PathPart, ...]
) -> None:
    if isinstance(data, list):
        for index, item in enumerate(data):
            _reject_unknown_keys(reader, model, item, (*path, index))
        return
    if not isinstance(data, dict):
        return
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    for key, value in data.items():
        info = fields.get(key)
        if info is None:
            raise reader.fail(
                (*path, key),
                f"unknown key {key!r} (dataward settings belong in customProperties)",
            )
        candidates = _model_types(info.annotation)
        # A union of several models (e.g. team: Team | list[TeamMember]) is checked
        # against the one whose keys fit; Pydantic has already accepted one of them.
        if len(candidates) == 1:
            _reject_unknown_keys(reader, candidates[0], value, (*path, key))


def _pydantic_error(reader: _Reader, exc: pydantic.ValidationError) -> ContractError:
    first = exc.errors()[0]
    path = [p for p in first["loc"] if isinstance(p, str | int)]
    path = ["schema" if p == "schema_" else p for p in path]
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {path[-1]!r} (dataward settings belong in customProperties)"
    else:
        message = first["msg"]
    others = exc.error_count() - 1
    if others:
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return reader.fail(path, message)


def _build_contract(reader: _Reader, doc: OpenDataContractStandard) -> Contract:
    if doc.apiVersion not in SUPPORTED_API_VERSIONS:
        raise reader.fail(
            ("apiVersion",),
            f"apiVersion {doc.apiVersion!r} is not supported; use one of "
            + ", ".join(SUPPORTED_API_VERSIONS),
        )
    if doc.kind not in (None, "DataContract"):
        raise reader.fail(("kind",), f"kind must be DataContract, got {doc.kind!r}")
    settings = _custom_properties(doc.customProperties)
    if not doc.schema_:
        raise reader.fail(("schema",), "the contract has no schema: nothing to check")
    tables = tuple(_build_table(reader, obj, ("schema", i)) for i, obj in enumerate(doc.schema_))
    seen: set[str] = set()
    for i, table in enumerate(tables):
        if table.name in seen:
            raise reader.fail(("schema", i, "name"), f"table {table.name!r} is defined twice")
        seen.add(table.name)
    if _flag(reader, doc.customProperties, "requirePrimaryKey", ("customProperties",)):
        for i, table in enumerate(tables):
            if not table.primary_key:
                raise reader.fail(
                    ("schema", i),
                    f"table {table.name!r} has no primary key, but customProperties "
                    "requirePrimaryKey is true: mark its key with primaryKey: true",
                )
    rate = settings.get("maxRejectRate")
    if rate is not None:
        index = next(
            i for i, p in enumerate(doc.customProperties or []) if p.property == "maxRejectRate"
        )
        try:
            fraction = float(rate)
        except (TypeError, ValueError):
            fraction = -1.0
        if isinstance(rate, bool) or not 0 <= fraction <= 1:
            raise reader.fail(
                ("customProperties", index, "value"),
                f"maxRejectRate is a fraction of the extracted rows between 0 and 1, got {rate!r}",
            )
        settings["maxRejectRate"] = fraction
    default_tz = settings.get("defaultTimezone")
    if default_tz is not None:
        _check_timezone(reader, doc.customProperties or [], str(default_tz))
    contract = Contract(
        id=str(doc.id),
        name=doc.name,
        version=str(doc.version),
        api_version=str(doc.apiVersion),
        tables=tables,
        source=reader.source,
        default_timezone=str(default_tz) if default_tz is not None else None,
        settings=settings,
    )
    freshness = _build_freshness(reader, doc, contract)
    warnings = _money_warnings(contract) + _pattern_warnings(contract)
    contract = replace(contract, freshness=freshness, warnings=warnings)
    _check_foreign_keys(reader, contract)
    return contract


# Column names that usually hold money, for which binary floating point loses cents.
_MONEY_NAME = re.compile(
    r"(^|_)(amount|amt|price|cost|total|subtotal|balance|fee|fees|revenue|salary|wage|tax|"
    r"payment|paid|refund|discount|money|cash|credit|debit|charge|invoice|budget|spend|gmv)"
    r"($|_)",
    re.IGNORECASE,
)


def _money_warnings(contract: Contract) -> tuple[ContractWarning, ...]:
    found = []
    for table in contract.tables:
        for column in table.columns:
            if column.type.kind in FLOAT_KINDS and _MONEY_NAME.search(column.name):
                found.append(
                    ContractWarning(
                        f"{column.name!r} looks like money but is {column.type}: binary "
                        "floating point cannot hold 0.10 exactly and sums drift by cents; "
                        "use DECIMAL(19,4)",
                        f"{column.path}.physicalType",
                        column.line,
                    )
                )
    return tuple(found)


# Classes whose meaning differs between the engines on non-ASCII text or newlines.
_ENGINE_DEPENDENT = re.compile(r"(?<!\\)(\\[dDwWsSb])")


def _pattern_warnings(contract: Contract) -> tuple[ContractWarning, ...]:
    found = []
    for table in contract.tables:
        for column in table.columns:
            if column.pattern and _ENGINE_DEPENDENT.search(column.pattern):
                found.append(
                    ContractWarning(
                        f"pattern {column.pattern!r} uses \\d, \\w, \\s or \\b, which match "
                        "different characters in Polars, DuckDB and PostgreSQL for non-ASCII "
                        "text; spell the class out, e.g. [0-9] or [A-Za-z0-9_]",
                        f"{column.path}.logicalTypeOptions.pattern",
                        column.line,
                    )
                )
    return tuple(found)


def _check_timezone(reader: _Reader, props: list[CustomProperty], zone: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        index = next(i for i, p in enumerate(props) if p.property == "defaultTimezone")
        raise reader.fail(
            ("customProperties", index, "value"), f"unknown time zone {zone!r}"
        ) from None


def _flag(
    reader: _Reader, props: list[CustomProperty] | None, name: str, path: tuple[PathPart, ...]
) -> bool:
    """A boolean custom property: true/false (or their strings), anything else refused."""
    for index, prop in enumerate(props or []):
        if prop.property != name:
            continue
        value = prop.value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, bool):
            return value
        raise reader.fail((*path, index, "value"), f"{name} must be true or false, got {value!r}")
    return False


def _custom_properties(props: list[CustomProperty] | None) -> dict[str, Any]:
    return {p.property: p.value for p in props or [] if p.property}


def _build_table(reader: _Reader, obj: SchemaObject, path: tuple[PathPart, ...]) -> Table:
    if not obj.name:
        raise reader.fail(path, "every schema object needs a name")
    if not obj.properties:
        raise reader.fail((*path, "properties"), f"table {obj.name!r} has no properties")
    columns = tuple(
        _build_column(reader, prop, (*path, "properties", i))
        for i, prop in enumerate(obj.properties)
    )
    names = [c.name for c in columns]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise reader.fail((*path, "properties", i, "name"), f"column {name!r} is defined twice")
    _check_key_positions(reader, columns, path)
    quality = tuple(
        _build_quality(reader, rule, (*path, "quality", i), column=None, table_columns=names)
        for i, rule in enumerate(obj.quality or [])
    )
    foreign_keys = tuple(
        fk
        for i, rel in enumerate(obj.relationships or [])
        if (fk := _build_foreign_key(reader, rel, (*path, "relationships", i), obj.name, None))
    ) + tuple(
        fk
        for ci, prop in enumerate(obj.properties)
        for ri, rel in enumerate(prop.relationships or [])
        if (
            fk := _build_foreign_key(
                reader, rel, (*path, "properties", ci, "relationships", ri), obj.name, prop.name
            )
        )
    )
    return Table(
        name=obj.name,
        physical_name=obj.physicalName,
        columns=columns,
        path=format_path(path),
        quality=quality,
        foreign_keys=foreign_keys,
        description=_text(obj.description),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _check_key_positions(reader: _Reader, columns: tuple[Column, ...], path: tuple) -> None:
    positions = [c.primary_key_position for c in columns if c.primary_key_position is not None]
    if len(positions) != len(set(positions)):
        raise reader.fail(path, "two primary key columns share a primaryKeyPosition")


def _build_column(reader: _Reader, prop: SchemaProperty, path: tuple[PathPart, ...]) -> Column:
    if not prop.name:
        raise reader.fail(path, "every property needs a name")
    if prop.name.startswith("_dw_"):
        raise reader.fail(
            (*path, "name"), f"{prop.name!r}: names starting with _dw_ are dataward's own columns"
        )
    if not prop.physicalType:
        raise reader.fail(
            (*path, "physicalType"),
            f"column {prop.name!r} has no physicalType: dataward builds and checks tables from it",
        )
    try:
        data_type = parse_physical_type(prop.physicalType)
    except ValueError as exc:
        raise reader.fail((*path, "physicalType"), str(exc)) from None
    custom = _custom_properties(prop.customProperties)
    options = dict(prop.logicalTypeOptions or {})
    opt_path = (*path, "logicalTypeOptions")
    _check_options(reader, options, data_type, opt_path)

    def bound(key: str) -> Any:
        if key not in options:
            return None
        return _parse_bound(reader, data_type, options[key], (*opt_path, key))

    minimum, maximum = bound("minimum"), bound("maximum")
    exclusive_minimum = exclusive_maximum = None
    # ODCS 3.0 spelled exclusivity as a boolean beside minimum/maximum; 3.1+ as the bound.
    if isinstance(options.get("exclusiveMinimum"), bool):
        exclusive_minimum, minimum = (
            (minimum, None) if options["exclusiveMinimum"] else (None, minimum)
        )
    else:
        exclusive_minimum = bound("exclusiveMinimum")
    if isinstance(options.get("exclusiveMaximum"), bool):
        exclusive_maximum, maximum = (
            (maximum, None) if options["exclusiveMaximum"] else (None, maximum)
        )
    else:
        exclusive_maximum = bound("exclusiveMaximum")
    pattern = options.get("pattern")
    if pattern is not None:
        _check_pattern(reader, str(pattern), (*opt_path, "pattern"))
    fmt = options.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise reader.fail(
            (*opt_path, "format"),
            f"format {fmt!r} is not supported; use one of {', '.join(FORMATS)}",
        )
    severity_text = str(custom.get("severity", "error")).lower()
    if severity_text not in SEVERITIES:
        raise reader.fail(
            (*path, "customProperties"), f"severity must be error or warning, got {severity_text!r}"
        )
    enum_values: tuple[Any, ...] | None = None
    if prop.enum:
        enum_values = _typed_values(
            reader, data_type, [e.value for e in prop.enum], (*path, "enum")
        )
    quality = tuple(
        _build_quality(
            reader,
            rule,
            (*path, "quality", i),
            column=prop.name,
            table_columns=None,
            column_type=data_type,
        )
        for i, rule in enumerate(prop.quality or [])
    )
    primary = bool(prop.primaryKey)
    position = prop.primaryKeyPosition if primary else None
    if primary and position is None:
        position = 1
    if prop.primaryKeyPosition is not None and not primary:
        raise reader.fail(
            (*path, "primaryKeyPosition"), "primaryKeyPosition is set but primaryKey is not true"
        )
    return Column(
        name=prop.name,
        type=data_type,
        path=format_path(path),
        line=reader.lines.line(path),
        required=bool(prop.required) or primary,
        unique=bool(prop.unique),
        primary_key_position=position,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive_minimum,
        exclusive_maximum=exclusive_maximum,
        min_length=_length(reader, options, "minLength", opt_path),
        max_length=_length(reader, options, "maxLength", opt_path),
        pattern=str(pattern) if pattern is not None else None,
        format=fmt,
        enum=enum_values,
        quality=quality,
        severity=SEVERITIES[severity_text],
        allow_non_finite=_flag(
            reader, prop.customProperties, "allowNonFinite", (*path, "customProperties")
        ),
        description=_text(prop.description),
    )


SUPPORTED_OPTIONS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
)
# Text checks on numbers or instants would depend on how each engine prints them
# (`1.0` or `1`, with or without `.000000`), so they are refused there.
TEXT_ONLY_OPTIONS = ("minLength", "maxLength", "pattern", "format")


def _check_options(reader: _Reader, options: dict, data_type: DataType, path: tuple) -> None:
    for key in options:
        if key not in SUPPORTED_OPTIONS:
            raise reader.fail(
                (*path, key),
                f"logicalTypeOptions.{key} is not supported by dataward; "
                f"use {', '.join(SUPPORTED_OPTIONS)}",
            )
        textual = data_type.is_text or data_type.kind is TypeKind.UUID
        if key in TEXT_ONLY_OPTIONS and not textual:
            raise reader.fail(
                (*path, key), f"{key} applies to text columns, not to {data_type} columns"
            )


def _length(reader: _Reader, options: dict, key: str, path: tuple) -> int | None:
    if key not in options:
        return None
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise reader.fail((*path, key), f"{key} must be a non-negative integer, got {value!r}")
    return value


def _check_pattern(reader: _Reader, pattern: str, path: tuple) -> None:
    """A pattern must mean the same in Python, Polars (Rust regex), DuckDB and PostgreSQL.

    Compiling it with Polars' engine rejects what the common subset lacks (look-around,
    back-references), so a contract never passes in one engine and fails in another.
    """
    try:
        re.compile(pattern)
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except (re.error, pl.exceptions.ComputeError) as exc:
        # Polars says "error: <reason>" among other lines; Python's re says it in one line.
        lines = [line.strip() for line in str(exc).strip().splitlines()]
        reasons = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
        reason = reasons[0] if reasons else (lines[0] if lines else "invalid")
        raise reader.fail(
            path, f"pattern {pattern!r} is not a valid regular expression: {reason}"
        ) from None


def _typed_values(
    reader: _Reader, data_type: DataType, values: list[Any], path: tuple
) -> tuple[Any, ...]:
    """Listed values in the column's type, so every engine compares the same things."""
    typed = []
    for index, value in enumerate(values):
        if value is None:
            raise reader.fail(
                (*path, index),
                "null is not a value to list: whether a column may be null is `required`",
            )
        if data_type.is_text or data_type.kind in (TypeKind.UUID, TypeKind.JSON, TypeKind.JSONB):
            typed.append(str(value))
        elif data_type.kind is TypeKind.BOOLEAN:
            if not isinstance(value, bool):
                raise reader.fail((*path, index), f"{value!r} is not a BOOLEAN")
            typed.append(value)
        else:
            typed.append(_parse_bound(reader, data_type, value, (*path, index)))
    return tuple(typed)


def _parse_bound(reader: _Reader, data_type: DataType, raw: Any, path: tuple) -> Any:
    """Bounds are compared in the column's own type: exact decimals, dates, instants."""
    kind = data_type.kind
    try:
        if kind in NUMERIC_KINDS:
            if isinstance(raw, bool):
                raise ValueError
            value = Decimal(str(raw))
            if not value.is_finite():
                raise ValueError
            return value
        if kind is TypeKind.DATE:
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        if kind in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMPTZ):
            value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
            if kind is TypeKind.TIMESTAMPTZ and value.tzinfo is None:
                raise reader.fail(path, f"bound {raw!r} on a TIMESTAMPTZ column needs a UTC offset")
            if kind is TypeKind.TIMESTAMP and value.tzinfo is not None:
                raise reader.fail(
                    path, f"bound {raw!r} on a TIMESTAMP column must not have an offset"
                )
            # Instants are compared in UTC, as TIMESTAMPTZ values are held.
            return value.astimezone(UTC) if value.tzinfo is not None else value
    except (ValueError, InvalidOperation):
        raise reader.fail(path, f"bound {raw!r} is not a valid {data_type}") from None
    raise reader.fail(path, f"range bounds are not supported on {data_type} columns")


ARGUMENTS = {
    "nullValues": (),
    "missingValues": ("missingValues",),
    "invalidValues": ("validValues", "pattern"),
    "duplicateValues": ("properties",),
    "rowCount": (),
}


def _build_quality(
    reader: _Reader,
    rule: DataQuality,
    path: tuple[PathPart, ...],
    *,
    column: str | None,
    table_columns: list[str] | None,
    column_type: DataType | None = None,
) -> QualityRule:
    kind = (rule.type or "library").lower()
    if kind not in ("library", "sql", "text"):
        raise reader.fail(
            (*path, "type"), f"quality type {rule.type!r} is not supported; use library or sql"
        )
    severity_text = (rule.severity or "error").lower()
    if severity_text not in SEVERITIES:
        raise reader.fail(
            (*path, "severity"), f"severity must be error or warning, got {rule.severity!r}"
        )
    metric = rule.metric or rule.rule
    arguments = dict(rule.arguments or {})
    if kind == "library":
        if metric not in LIBRARY_METRICS:
            raise reader.fail(
                (*path, "metric"),
                f"library metric {metric!r} is not supported; "
                f"use one of {', '.join(LIBRARY_METRICS)}",
            )
        for key in arguments:
            if key not in ARGUMENTS[metric]:
                allowed = ", ".join(ARGUMENTS[metric]) or "none"
                raise reader.fail(
                    (*path, "arguments", key),
                    f"{metric} takes no argument {key!r} (arguments it reads: {allowed})",
                )
        if column is not None and metric in TABLE_ONLY_METRICS:
            raise reader.fail((*path, "metric"), f"{metric} belongs on a table, not on a column")
        if column is None and metric not in TABLE_ONLY_METRICS and metric != "duplicateValues":
            raise reader.fail((*path, "metric"), f"{metric} belongs on a column (a property)")
        if metric == "rowCount" and (rule.unit or "rows").lower() != "rows":
            raise reader.fail((*path, "unit"), "rowCount counts rows; a percentage has no base")
        if metric == "invalidValues" and not ("validValues" in arguments or "pattern" in arguments):
            raise reader.fail(
                (*path, "arguments"),
                "invalidValues needs arguments.validValues or arguments.pattern",
            )
        if column_type is not None:
            for key in ("validValues", "missingValues"):
                if key in arguments:
                    if not isinstance(arguments[key], list):
                        raise reader.fail((*path, "arguments", key), f"{key} must be a list")
                    arguments[key] = list(
                        _typed_values(
                            reader, column_type, arguments[key], (*path, "arguments", key)
                        )
                    )
        if metric == "invalidValues" and "pattern" in arguments:
            _check_pattern(reader, str(arguments["pattern"]), (*path, "arguments", "pattern"))
        if metric == "duplicateValues" and column is None:
            props = arguments.get("properties")
            if not props or not isinstance(props, list):
                raise reader.fail(
                    (*path, "arguments"), "a table-level duplicateValues needs arguments.properties"
                )
            unknown = [p for p in props if p not in (table_columns or [])]
            if unknown:
                raise reader.fail(
                    (*path, "arguments", "properties"), f"unknown column(s) {unknown}"
                )
    elif kind == "sql":
        _check_sql_rule(reader, rule.query, path)
    threshold = _threshold(reader, rule, path) if kind != "text" else Threshold("mustBe", 0)
    unit_text = (rule.unit or "rows").lower()
    if unit_text not in ("rows", "percent"):
        raise reader.fail((*path, "unit"), f"unit must be rows or percent, got {rule.unit!r}")
    return QualityRule(
        kind=kind,
        metric=metric,
        threshold=threshold,
        unit=Unit(unit_text),
        severity=SEVERITIES[severity_text],
        arguments=arguments,
        query=rule.query,
        name=rule.name,
        column=column,
        path=format_path(path),
        line=reader.lines.line(path),
    )


def _check_sql_rule(reader: _Reader, query: str | None, path: tuple) -> None:
    """A SQL rule is one read-only SELECT returning a number; checked when loaded."""
    import sqlglot
    from sqlglot import exp

    if not query:
        raise reader.fail(path, "a sql quality rule needs a query")
    # Placeholders are replaced by quoted names at run time; a plain name parses the same.
    probe = query
    for key in ("object", "property"):
        probe = probe.replace("${" + key + "}", "dw_placeholder").replace(
            "{" + key + "}", "dw_placeholder"
        )
    try:
        statements = [s for s in sqlglot.parse(probe) if s is not None]
    except sqlglot.errors.ParseError as exc:
        reason = str(exc).splitlines()[0]
        raise reader.fail((*path, "query"), f"the query does not parse: {reason}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise reader.fail((*path, "query"), "the query must be one SELECT statement")


def _threshold(reader: _Reader, rule: DataQuality, path: tuple) -> Threshold:
    given = [(name, getattr(rule, name)) for name in OPERATORS if getattr(rule, name) is not None]
    if len(given) != 1:
        raise reader.fail(
            path,
            "a quality rule needs exactly one of "
            + ", ".join(OPERATORS)
            + (f"; found {', '.join(n for n, _ in given)}" if given else ""),
        )
    name, value = given[0]
    if name in RANGE_OPERATORS:
        low, high = (float(v) for v in value)
        if low > high:
            raise reader.fail((*path, name), f"{name} lower bound {low:g} exceeds upper {high:g}")
        return Threshold(name, (low, high))
    try:
        return Threshold(name, float(value))
    except (TypeError, ValueError):
        raise reader.fail((*path, name), f"{name} must be a number, got {value!r}") from None


def _split_ref(reader: _Reader, ref: str, path: tuple) -> tuple[str, str]:
    parts = ref.rsplit(".", 1)
    if len(parts) != 2 or not all(parts):
        raise reader.fail(path, f"reference {ref!r} must look like table.column")
    return parts[0], parts[1]


def _build_foreign_key(
    reader: _Reader, rel: Any, path: tuple, table: str, column: str | None
) -> ForeignKey | None:
    if (rel.type or "foreignKey") != "foreignKey":
        return None
    if rel.to is None:
        raise reader.fail(path, "a foreignKey relationship needs `to`")
    targets = [rel.to] if isinstance(rel.to, str) else list(rel.to)
    if rel.from_ is not None:
        sources = [rel.from_] if isinstance(rel.from_, str) else list(rel.from_)
        from_cols = [_split_ref(reader, s, (*path, "from"))[1] if "." in s else s for s in sources]
    elif column is not None:
        from_cols = [column]
    else:
        raise reader.fail(path, "a table-level foreignKey needs `from`")
    refs = [_split_ref(reader, t, (*path, "to")) for t in targets]
    ref_tables = {t for t, _ in refs}
    if len(ref_tables) != 1 or len(refs) != len(from_cols):
        raise reader.fail(path, "`from` and `to` must name the same number of columns of one table")
    custom = _custom_properties(rel.customProperties)
    severity_text = str(custom.get("severity", "error")).lower()
    if severity_text not in SEVERITIES:
        raise reader.fail(
            (*path, "customProperties"), f"severity must be error or warning, got {severity_text!r}"
        )
    return ForeignKey(
        columns=tuple(from_cols),
        referenced_table=refs[0][0],
        referenced_columns=tuple(c for _, c in refs),
        path=format_path(path),
        severity=SEVERITIES[severity_text],
    )


def _check_foreign_keys(reader: _Reader, contract: Contract) -> None:
    for table in contract.tables:
        names = {c.name for c in table.columns}
        for fk in table.foreign_keys:
            missing = [c for c in fk.columns if c not in names]
            if missing:
                raise ContractError(
                    f"foreign key column(s) {missing} are not columns of {table.name!r}",
                    Location(file=reader.source, path=fk.path),
                )


def _build_freshness(
    reader: _Reader, doc: OpenDataContractStandard, contract: Contract
) -> Freshness | None:
    for i, sla in enumerate(doc.slaProperties or []):
        if (sla.property or "").lower() not in ("latency", "freshness"):
            continue
        path = ("slaProperties", i)
        try:
            amount = float(sla.value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise reader.fail(
                (*path, "value"), f"latency value must be a number, got {sla.value!r}"
            ) from None
        unit = (sla.unit or "d").lower()
        if unit not in _SLA_UNITS:
            raise reader.fail(
                (*path, "unit"), f"latency unit {sla.unit!r} is not one of s, m, h, d, w"
            )
        element = sla.element or doc.slaDefaultElement
        table_name = column_name = None
        if element:
            table_name, column_name = _split_ref(reader, element, (*path, "element"))
            try:
                table = contract.table(table_name)
                table.column(column_name)
            except KeyError:
                raise reader.fail(
                    (*path, "element"), f"{element!r} is not a column of this contract"
                ) from None
            if not table.column(column_name).type.is_temporal:
                raise reader.fail(
                    (*path, "element"), f"{element!r} is not a date or timestamp column"
                )
        return Freshness(
            latency=timedelta(seconds=amount * _SLA_UNITS[unit]),
            table=table_name,
            column=column_name,
            path=format_path(path),
        )
    return None
