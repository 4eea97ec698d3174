"""Draft an ODCS contract from sample data, for a person to review before anyone relies on it.

Inference only ever proposes what the sample proves: a type every value casts to without
loss, a range that holds every observed value, a key that is actually unique. A value that
would need rounding or guessing (a 39-digit decimal, a code with leading zeros) keeps the
type that holds it as written, TEXT, because a contract that rejects its own sample, or
silently changes it, is worse than one a reviewer has to tighten.

CSV and Parquet are read by `dataward.sources`, the readers validation uses; CSV comes as
text and is typed here. NDJSON is parsed here, so each value keeps its JSON kind (a number
or a string of digits). String columns are refined where the text proves a date, a
timestamp or a UUID, by the grammar validation parses. A Parquet column no contract type
holds (durations, bytes that are not UTF-8) is refused with a SourceError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from dataward.contract.types import (
    EMAIL_PATTERN,
    FLOAT_KINDS,
    INTEGER_KINDS,
    INTEGER_RANGES,
    MAX_DECIMAL_PRECISION,
    UUID_PATTERN,
    DataType,
    TypeKind,
)
from dataward.errors import Location, SourceError, UsageError
from dataward.sources import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DataFile,
    expand_paths,
    read_batches,
    read_columns,
)
from dataward.sources.files import ndjson_records, records_as_text
from dataward.sources.iso8601 import (
    AWARE_TEXT,
    DATE_TEXT,
    NAIVE_TEXT,
    parse_aware,
    parse_date,
    parse_naive,
)

API_VERSION = "v3.1.0"

# A text column becomes an enumeration when it has few distinct values and each value is
# seen often enough (on average ten times) that the list is likely complete.
ENUM_MAX_VALUES = 20
ENUM_MIN_ROWS_PER_VALUE = 10

# Only ASCII: Polars' regular expressions are Unicode-aware, so `\d` would match `١٢` and
# `(?i:false)` would match "fal\u017fe" (a long s), neither of which validation casts.
_BOOLEAN = r"^(?:[tT][rR][uU][eE]|[fF][aA][lL][sS][eE])$"
_INTEGER = r"^[+-]?[0-9]+$"
_DECIMAL = r"^[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$"
_NON_FINITE = r"[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN]"
_FLOAT = rf"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|{_NON_FINITE})$"
# "007" is a code, not the number 7: reading it as a number would lose the zeros.
_LEADING_ZERO = r"^[+-]?0[0-9]"
_NON_ASCII = r"[^\x00-\x7F]"

_LOGICAL_TYPES: dict[TypeKind, str] = {
    **{kind: "integer" for kind in INTEGER_KINDS},
    TypeKind.DECIMAL: "number",
    TypeKind.REAL: "number",
    TypeKind.DOUBLE: "number",
    TypeKind.BOOLEAN: "boolean",
    TypeKind.DATE: "date",
    TypeKind.TIMESTAMP: "timestamp",
    TypeKind.TIMESTAMPTZ: "timestamp",
    TypeKind.TEXT: "string",
    TypeKind.VARCHAR: "string",
    TypeKind.UUID: "string",
    TypeKind.JSON: "object",
    TypeKind.JSONB: "object",
}
# Key columns are compared exactly; floats and documents make poor identities.
_KEYABLE = frozenset(TypeKind) - FLOAT_KINDS - {TypeKind.JSON, TypeKind.JSONB}


@dataclass
class _Column:
    """What the sample says about one column."""

    name: str
    type: DataType
    logical_type: str
    rows: int
    nulls: int
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    minimum: Any = None
    maximum: Any = None
    format: str | None = None
    valid_values: list[Any] | None = None
    allow_non_finite: bool = False
    notes: list[str] = field(default_factory=list)


def infer_contract(
    paths: list[str], table_name: str | None = None, sample_rows: int | None = None
) -> str:
    """An ODCS v3.1.0 draft (YAML text) describing the data in `paths`, as one table.

    Paths may be globs; all files must have one format (CSV, NDJSON or Parquet, told by
    the extension) and their columns are combined by name. With `sample_rows`, only the
    first rows are read. CSV and Parquet go through the readers `dataward validate` uses;
    NDJSON is parsed here to keep each value's JSON kind. Raises SourceError when a file
    cannot be read, holds nothing to infer from, or has a Parquet column no contract type
    holds (a duration, or bytes that are not UTF-8).
    """
    if not paths:
        raise UsageError("name at least one data file to infer a contract from")
    if sample_rows is not None and sample_rows < 1:
        raise UsageError(f"sample_rows must be positive, got {sample_rows}")
    files = expand_paths(paths)
    _check_one_format(files)
    sample = _read_sample(files, sample_rows)
    frame = sample.frame
    columns = [
        _infer_column(frame.get_column(name), sample.format, sample.json_kinds.get(name))
        for name in frame.columns
    ]
    _choose_primary_key(columns)
    name = table_name or _table_name(files[0].name)
    return _render(name, columns, paths, frame.height)


# --- reading -------------------------------------------------------------------------------


@dataclass
class _Sample:
    format: str
    frame: pl.DataFrame
    # NDJSON only: the JSON kinds (number, string, boolean, object, array) of each column.
    json_kinds: dict[str, set[str]] = field(default_factory=dict)


def _check_one_format(files: list[DataFile]) -> None:
    first = files[0]
    for data in files[1:]:
        if data.format != first.format:
            raise SourceError(
                f"all files must have one format: {first.name} is {first.format}, "
                f"this one is {data.format}",
                Location(file=data.name),
            )


def _read_sample(files: list[DataFile], sample_rows: int | None) -> _Sample:
    fmt = files[0].format
    frames: list[pl.DataFrame] = []
    kinds: dict[str, set[str]] = {}
    remaining = sample_rows
    for data in files:
        if remaining is not None and remaining <= 0:
            break
        if fmt == "ndjson":
            frame = _read_ndjson(data, remaining, kinds)
        else:
            frame = _read_typed(data, remaining)
        frames.append(frame)
        if remaining is not None:
            remaining -= frame.height
    frame = frames[0] if len(frames) == 1 else _combine(frames, files)
    if not frame.columns:
        raise SourceError("no columns found", Location(file=files[0].name))
    return _Sample(fmt, frame, kinds)


def _read_typed(data: DataFile, limit: int | None) -> pl.DataFrame:
    """CSV (every column text, empty fields null) or Parquet (its own types)."""
    batches: list[pl.DataFrame] = []
    rows = 0
    for batch in read_batches(data):
        batches.append(batch.drop(SOURCE_COLUMN, ROW_COLUMN, LINE_COLUMN))
        rows += batch.height
        if limit is not None and rows >= limit:
            break
    if batches:
        frame = pl.concat(batches)
        frame = frame if limit is None else frame.head(limit)
    elif data.format == "parquet":
        try:
            frame = pl.DataFrame(schema=pl.read_parquet_schema(data.path))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise SourceError(
                f"not a readable Parquet file: {exc}", Location(file=data.name)
            ) from None
    else:
        return pl.DataFrame(schema={name: pl.String for name in read_columns(data)})
    if data.format == "parquet":
        for series in frame.iter_columns():
            _check_parquet_column(data, series)
    return frame


def _check_parquet_column(data: DataFile, series: pl.Series) -> None:
    """Refuse a column no contract type can hold, naming it, rather than guess at it.

    Durations have no contract type (there is no INTERVAL) and no text form validation
    could read back; bytes are only text when every value is UTF-8.
    """
    dtype = series.dtype
    where = Location(file=data.name)
    if isinstance(dtype, pl.Duration):
        raise SourceError(
            f"column {series.name!r} holds durations ({dtype}), which no contract type "
            "holds: convert it to a number (of seconds, say) or drop it",
            where,
        )
    if dtype == pl.Binary:
        for row, value in enumerate(series.to_list(), start=1):
            try:
                if value is not None:
                    value.decode("utf-8")
            except UnicodeDecodeError:
                raise SourceError(
                    f"column {series.name!r} holds bytes that are not UTF-8 text, "
                    "which no contract type holds",
                    Location(file=data.name, row=row),
                ) from None
    if _contract_type_of(dtype) is None:
        try:
            series.cast(pl.String)
        except pl.exceptions.PolarsError:
            raise SourceError(
                f"column {series.name!r} has Parquet type {dtype}, which no contract type "
                "holds and which has no text form",
                where,
            ) from None


def _read_ndjson(data: DataFile, limit: int | None, kinds: dict[str, set[str]]) -> pl.DataFrame:
    """Records as text (as the NDJSON reader gives them), noting each value's JSON kind.

    Numbers are parsed as decimals so `12.50` keeps its two places; whether a value was a
    JSON number or a string matters: "00123" written as a string is a code, not a number.
    """
    records: list[dict[str, Any]] = []
    try:
        # The NDJSON reader's own parser: what it refuses (duplicate keys, NaN), the draft
        # refuses too.
        for _, record in ndjson_records(data):
            if limit is not None and len(records) >= limit:
                break
            records.append(record)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}", Location(file=data.name)) from None
    if not records:
        raise SourceError("file is empty: no records", Location(file=data.name))
    for record in records:
        for name, value in record.items():
            if value is not None:
                kinds.setdefault(name, set()).add(_json_kind(value))
    return records_as_text(records)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _combine(frames: list[pl.DataFrame], files: list[DataFile]) -> pl.DataFrame:
    try:
        return pl.concat(frames, how="diagonal_relaxed")
    except pl.exceptions.PolarsError as exc:
        raise SourceError(
            f"the files' columns have types that do not combine: {str(exc).splitlines()[0]}",
            Location(file=files[0].name),
        ) from None


def _table_name(path: str) -> str:
    stem = Path(path).name.split(".")[0]
    name = re.sub(r"\W+", "_", stem).strip("_")
    return name or "table"


# --- typing a column ----------------------------------------------------------------------


def _infer_column(series: pl.Series, file_format: str, json_kinds: set[str] | None) -> _Column:
    rows = series.len()
    nulls = series.null_count()
    values = series.drop_nulls()
    notes: list[str] = []
    if file_format == "csv":
        data_type, typed = _type_from_text(values)
    elif file_format == "ndjson":
        data_type, typed = _type_from_json(values, json_kinds or set(), notes)
    else:
        data_type, typed = _type_from_dtype(series.dtype, values, notes)
    is_array = isinstance(series.dtype, pl.List | pl.Array) or json_kinds == {"array"}
    column = _Column(
        name=series.name,
        type=data_type,
        logical_type="array" if is_array else _LOGICAL_TYPES[data_type.kind],
        rows=rows,
        nulls=nulls,
        notes=notes,
    )
    if rows == 0:
        column.notes.append("no rows to infer from: the type is a placeholder")
        return column
    if values.len() == 0:
        column.notes.append("every sampled value is empty: the type is a placeholder")
        return column
    column.required = nulls == 0
    # One row proves nothing about uniqueness, and a boolean is never usefully unique.
    column.unique = (
        column.required
        and rows >= 2
        and data_type.kind is not TypeKind.BOOLEAN
        and _all_distinct(typed)
    )
    _observe_bounds(column, typed)
    if data_type.kind is TypeKind.TEXT and typed.dtype == pl.String:
        _observe_text(column, typed)
    return column


def _all_distinct(values: pl.Series) -> bool:
    try:
        return values.n_unique() == values.len()
    except pl.exceptions.PolarsError:
        return False  # nested values without an ordering: claim nothing


def _all_match(values: pl.Series, pattern: str) -> bool:
    return bool(values.str.contains(pattern).all())


def _any_match(values: pl.Series, pattern: str) -> bool:
    return bool(values.str.contains(pattern).any())


def _type_from_text(values: pl.Series) -> tuple[DataType, pl.Series]:
    """The narrowest type every value converts to exactly, and the values converted."""
    if values.len() == 0:
        return DataType(TypeKind.TEXT), values
    if _all_match(values, _BOOLEAN):
        return DataType(TypeKind.BOOLEAN), values.str.to_lowercase() == "true"
    numeric = _numeric_from_text(values)
    if numeric is not None:
        return numeric
    refined = _refine_text(values)
    if refined is not None:
        return refined
    return DataType(TypeKind.TEXT), values


def _numeric_from_text(values: pl.Series) -> tuple[DataType, pl.Series] | None:
    if _any_match(values, _LEADING_ZERO):
        return None
    if _all_match(values, _INTEGER):
        as_int = values.cast(pl.Int64, strict=False)
        if as_int.null_count() == 0:
            low, high = INTEGER_RANGES[TypeKind.INTEGER]
            fits = low <= as_int.min() and as_int.max() <= high  # type: ignore[operator]
            return DataType(TypeKind.INTEGER if fits else TypeKind.BIGINT), as_int
    if _all_match(values, _DECIMAL):
        digits = values.str.replace(r"^[+-]", "").str.split_exact(".", 1)
        whole = digits.struct.field("field_0").str.replace(r"^0+", "")
        fraction = digits.struct.field("field_1").fill_null("")
        scale = int(fraction.str.len_chars().max() or 0)  # type: ignore[arg-type]
        precision = max(1, int(whole.str.len_chars().max() or 0) + scale)  # type: ignore[arg-type]
        if precision > MAX_DECIMAL_PRECISION:
            return None  # no exact type holds it; TEXT keeps every digit
        as_decimal = values.cast(pl.Decimal(precision, scale), strict=False)
        if as_decimal.null_count() == 0:
            data_type = DataType(TypeKind.DECIMAL, precision=precision, scale=scale)
            return data_type, as_decimal
    if _all_match(values, _FLOAT):
        as_float = values.cast(pl.Float64, strict=False)
        if as_float.null_count() == 0:
            return DataType(TypeKind.DOUBLE), as_float
    return None


# Dates and timestamps in exactly the grammar `dataward validate` accepts, parsed by the
# same functions, so a column is only typed so when validation will read every value.
_TEMPORAL_TEXT: tuple[tuple[TypeKind, str, Callable[[pl.Expr], pl.Expr]], ...] = (
    (TypeKind.DATE, DATE_TEXT, parse_date),
    (TypeKind.TIMESTAMPTZ, AWARE_TEXT, parse_aware),
    (TypeKind.TIMESTAMP, NAIVE_TEXT, parse_naive),
)


def _refine_text(values: pl.Series) -> tuple[DataType, pl.Series] | None:
    """Dates, timestamps and UUIDs, which every format can only carry as text."""
    if not _any_match(values, _NON_ASCII):
        for kind, pattern, parse in _TEMPORAL_TEXT:
            if _all_match(values, pattern):
                parsed = values.to_frame("value").select(parse(pl.col("value"))).to_series()
                if parsed.null_count() == 0:
                    return DataType(kind), parsed
    if _all_match(values, UUID_PATTERN):
        # Validation keeps one spelling per UUID: `A1...` and `a1...` are the same key.
        return DataType(TypeKind.UUID), values.str.to_lowercase()
    return None


def _type_from_json(
    values: pl.Series, kinds: set[str], notes: list[str]
) -> tuple[DataType, pl.Series]:
    """JSON says what a value is (number, string...); the text says which exact type."""
    if not kinds:
        return DataType(TypeKind.TEXT), values
    if kinds == {"number"}:
        numeric = _numeric_from_text(values)
        if numeric is not None:
            return numeric
        notes.append("numbers longer than DECIMAL(38) holds: kept as text")
        return DataType(TypeKind.TEXT), values
    if kinds == {"boolean"}:
        return DataType(TypeKind.BOOLEAN), values == "true"
    if kinds == {"string"}:
        refined = _refine_text(values)
        return refined if refined is not None else (DataType(TypeKind.TEXT), values)
    if kinds <= {"object", "array"}:
        return DataType(TypeKind.JSON), values
    notes.append(f"values of several JSON kinds ({', '.join(sorted(kinds))}): kept as text")
    return DataType(TypeKind.TEXT), values


def _contract_type_of(dtype: pl.DataType) -> TypeKind | None:
    """The kind of contract type a Parquet type maps to directly; None when it has none."""
    if isinstance(dtype, pl.Decimal):
        return TypeKind.DECIMAL
    if dtype == pl.Boolean:
        return TypeKind.BOOLEAN
    if dtype.is_integer():
        return TypeKind.INTEGER  # the width is chosen by _integer_type
    if dtype.is_float():
        return TypeKind.REAL if dtype == pl.Float32 else TypeKind.DOUBLE
    if dtype == pl.Date:
        return TypeKind.DATE
    if isinstance(dtype, pl.Datetime):
        return TypeKind.TIMESTAMPTZ if dtype.time_zone else TypeKind.TIMESTAMP
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return TypeKind.JSON
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return TypeKind.TEXT
    return None


def _type_from_dtype(
    dtype: pl.DataType, values: pl.Series, notes: list[str]
) -> tuple[DataType, pl.Series]:
    """Parquet's own types, mapped to the contract type that holds every value exactly."""
    kind = _contract_type_of(dtype)
    if isinstance(dtype, pl.Decimal):
        precision = dtype.precision or MAX_DECIMAL_PRECISION
        return DataType(TypeKind.DECIMAL, precision=precision, scale=dtype.scale or 0), values
    if dtype.is_integer():
        return _integer_type(dtype, notes), values
    if _has_nanoseconds(values):
        # Contract timestamps hold microseconds; validation refuses to truncate.
        notes.append("timestamps with nanoseconds, which TIMESTAMP would truncate: kept as text")
        return DataType(TypeKind.TEXT), values.cast(pl.String)
    if kind is TypeKind.TEXT:
        text = values.cast(pl.String)
        refined = _refine_text(text) if text.len() else None
        return refined if refined is not None else (DataType(TypeKind.TEXT), text)
    if kind is not None:
        return DataType(kind), values
    # Times of day, UTF-8 bytes: no contract type holds them, but validation reads their
    # text (durations and other bytes were refused while reading). A reviewer decides.
    notes.append(f"Parquet type {dtype} has no contract type: kept as text")
    return DataType(TypeKind.TEXT), values.cast(pl.String)


def _has_nanoseconds(values: pl.Series) -> bool:
    dtype = values.dtype
    if not isinstance(dtype, pl.Datetime) or dtype.time_unit != "ns":
        return False
    return bool((values.dt.nanosecond() % 1000 != 0).any())


def _integer_type(dtype: pl.DataType, notes: list[str]) -> DataType:
    if dtype in (pl.Int8, pl.Int16, pl.UInt8):
        return DataType(TypeKind.SMALLINT)
    if dtype in (pl.Int32, pl.UInt16):
        return DataType(TypeKind.INTEGER)
    if dtype in (pl.Int64, pl.UInt32):
        return DataType(TypeKind.BIGINT)
    if dtype == pl.UInt64:
        return DataType(TypeKind.DECIMAL, precision=20, scale=0)
    notes.append(f"{dtype} may exceed DECIMAL(38,0)")
    return DataType(TypeKind.DECIMAL, precision=MAX_DECIMAL_PRECISION, scale=0)


# --- observations -------------------------------------------------------------------------


def _observe_bounds(column: _Column, values: pl.Series) -> None:
    kind = column.type.kind
    if kind in FLOAT_KINDS:
        finite = values.filter(values.is_finite())
        column.allow_non_finite = finite.len() < values.len()
        if column.allow_non_finite:
            # A range check rejects NaN, so a column that holds NaN gets no range.
            column.notes.append("the sample holds NaN or infinity, so no range is proposed")
            return
        values = finite
        column.minimum, column.maximum = float(values.min()), float(values.max())  # type: ignore[arg-type]
    elif kind in INTEGER_KINDS:
        column.minimum, column.maximum = int(values.min()), int(values.max())  # type: ignore[call-overload]
    elif kind is TypeKind.DECIMAL:
        column.minimum = _yaml_decimal(values.min(), ROUND_FLOOR)  # type: ignore[arg-type]
        column.maximum = _yaml_decimal(values.max(), ROUND_CEILING)  # type: ignore[arg-type]
    elif kind is TypeKind.DATE:
        low, high = values.min(), values.max()
        assert isinstance(low, date) and isinstance(high, date)
        column.minimum, column.maximum = low.isoformat(), high.isoformat()
    elif kind in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMPTZ):
        column.minimum, column.maximum = _timestamp_bounds(values)


def _yaml_decimal(value: Decimal | int, rounding: str) -> int | float:
    """A YAML number that bounds `value` exactly, rounded outward only if it must be.

    YAML numbers are read back as floats; a decimal with more digits than a float keeps is
    widened to the next whole number outward, so the sample still passes its own contract.
    """
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) == value:
        return as_float
    return int(value.to_integral_value(rounding=rounding))


def _timestamp_bounds(values: pl.Series) -> tuple[str, str]:
    dtype = values.dtype
    assert isinstance(dtype, pl.Datetime)
    per_microsecond = {"ns": Decimal(1000), "us": Decimal(1), "ms": Decimal("0.001")}[
        dtype.time_unit or "us"
    ]
    ticks = values.to_physical()
    # YAML carries microseconds: the lower bound rounds down, the upper bound up.
    low = (Decimal(int(ticks.min())) / per_microsecond).to_integral_value(ROUND_FLOOR)  # type: ignore[arg-type]
    high = (Decimal(int(ticks.max())) / per_microsecond).to_integral_value(ROUND_CEILING)  # type: ignore[arg-type]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    bounds = [epoch + timedelta(microseconds=int(tick)) for tick in (low, high)]
    if dtype.time_zone is None:
        bounds = [bound.replace(tzinfo=None) for bound in bounds]
    return bounds[0].isoformat(), bounds[1].isoformat()


def _observe_text(column: _Column, values: pl.Series) -> None:
    if _all_match(values, EMAIL_PATTERN):
        column.format = "email"
    distinct = values.n_unique()
    if distinct <= ENUM_MAX_VALUES and distinct * ENUM_MIN_ROWS_PER_VALUE <= values.len():
        column.valid_values = sorted(values.unique().to_list())


def _choose_primary_key(columns: list[_Column]) -> None:
    for column in columns:
        named_like_key = column.name.lower() == "id" or column.name.lower().endswith("_id")
        if named_like_key and column.unique and column.required and column.type.kind in _KEYABLE:
            column.primary_key = True
            return


# --- rendering ----------------------------------------------------------------------------


def _render(name: str, columns: list[_Column], paths: list[str], rows: int) -> str:
    sources = ", ".join(paths)
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": name,
        "name": name,
        "version": "0.1.0",
        "status": "draft",
        "schema": [
            {
                "name": name,
                "physicalType": "table",
                "description": f"Inferred from {rows} row{'s' if rows != 1 else ''} of {sources}.",
                "properties": [_render_column(column) for column in columns],
            }
        ],
    }
    header = (
        f"# Inferred by `dataward contract infer` from {rows} row{'s' if rows != 1 else ''} "
        f"of {sources}.\n"
        "# DRAFT: inferred from a sample, not from intent. Review every type, key, range and\n"
        "# allowed value against what the data may hold, then change status to active.\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def _render_column(column: _Column) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "name": column.name,
        "physicalType": str(column.type),
        "logicalType": column.logical_type,
    }
    if column.notes:
        prop["description"] = "Inferred: " + "; ".join(column.notes) + "."
    if column.primary_key:
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = 1
    prop["required"] = column.required
    if column.unique:
        prop["unique"] = True
    options: dict[str, Any] = {}
    if column.minimum is not None:
        options["minimum"] = column.minimum
        options["maximum"] = column.maximum
    if column.format is not None:
        options["format"] = column.format
    if options:
        prop["logicalTypeOptions"] = options
    if column.allow_non_finite:
        prop["customProperties"] = [{"property": "allowNonFinite", "value": True}]
    if column.valid_values is not None:
        prop["quality"] = [
            {
                "type": "library",
                "metric": "invalidValues",
                "arguments": {"validValues": column.valid_values},
                "mustBe": 0,
            }
        ]
    return prop


__all__ = ["API_VERSION", "infer_contract"]
