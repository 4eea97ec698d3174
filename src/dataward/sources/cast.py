"""Cast source values to the contract's types, strictly.

A value that does not cast is a rejection with its original text kept; nothing is
rounded, truncated, trimmed or assigned a time zone by guesswork (` 7` is not an
integer: a stray space usually means a misaligned or hand-edited file). Text sources are
parsed here; typed sources (Parquet) are cast directly when the conversion is exact, and
through their text form otherwise so the same rules apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dataward.checks.polars_render import polars_type
from dataward.contract.model import Column
from dataward.contract.types import FLOAT_KINDS, INTEGER_KINDS, TypeKind
from dataward.sources.iso8601 import parse_aware, parse_date, parse_naive

_BOOLEAN_TEXT = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}
_UUID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
# An offset only counts after a time of day: `2024-01-05` ends in `-05` but has none.
_HAS_OFFSET = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_FLOAT_TEXT = (
    r"^[+-]?([0-9]+\.?[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|inf|infinity|nan)$"
)


@dataclass(frozen=True)
class Cast:
    """How one column is cast: its typed value, and why it failed where it did.

    A cast fails exactly where the source has a value and the typed result is null, so
    the failure flag is derived from the two columns rather than computed a second time.
    """

    column: str
    value: pl.Expr  # aliased to the column name; null where the value does not cast
    reason: pl.Expr  # the message for a failed row (evaluated on failing rows only)
    # False when every value casts (the source already has the type, or any text is a
    # value): no failure flag is computed for the column at all.
    can_fail: bool = True

    def failed(self, raw_name: str) -> pl.Expr:
        return pl.col(self.column).is_null() & pl.col(raw_name).is_not_null()


def _decimal_shape(precision: int, scale: int) -> str:
    whole = precision - scale
    # Leading zeros and trailing fractional zeros carry no information; anything else
    # past the declared digits would have to be rounded, so it is rejected.
    return rf"^[+-]?0*[0-9]{{0,{whole}}}(\.[0-9]{{0,{scale}}}0*)?$"


def cast_column(column: Column, source: pl.DataType, default_timezone: str | None) -> Cast:
    name = column.name
    raw = pl.col(name)
    data_type = column.type
    kind = data_type.kind
    target = polars_type(data_type)
    type_name = str(data_type)

    def result(value: pl.Expr, reason: pl.Expr | str) -> Cast:
        # No failure flag here: Cast.failed derives it (a value that did not become one).
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        return Cast(name, value.alias(name), reason_expr)

    def infallible(value: pl.Expr) -> Cast:
        return Cast(name, value.alias(name), pl.lit(""), can_fail=False)

    def bad(what: str) -> pl.Expr:
        return pl.format("{} is not " + what, _quoted(raw.cast(pl.String)))

    if source == target and kind not in (TypeKind.UUID, TypeKind.JSON, TypeKind.JSONB):
        return infallible(raw)
    if kind in INTEGER_KINDS:
        if source.is_integer():
            value = raw.cast(target, strict=False)
            return result(value, bad(f"within {type_name} range"))
        text = raw.cast(pl.String)
        value = text.cast(target, strict=False)
        return result(value, bad(f"a valid {type_name}"))
    if kind is TypeKind.DECIMAL:
        assert data_type.precision is not None and data_type.scale is not None
        if source.is_integer():
            value = raw.cast(target, strict=False)
            return result(value, bad(f"within {type_name}"))
        text = raw.cast(pl.String)
        fits = text.str.contains(
            _decimal_shape(data_type.precision, data_type.scale)
        ) & text.str.contains(r"[0-9]")
        value = pl.when(fits).then(text).otherwise(None).cast(target, strict=False)
        numeric = text.str.contains(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
        scale_text = rf"^[+-]?[0-9]*\.[0-9]{{0,{data_type.scale}}}0*$|^[+-]?[0-9]+$"
        reason = (
            pl.when(~numeric)
            .then(bad("a plain decimal number"))
            .when(~text.str.contains(scale_text))
            .then(
                pl.format(
                    "{} has more than "
                    + str(data_type.scale)
                    + " decimal places; it would be rounded",
                    _quoted(text),
                )
            )
            .otherwise(pl.format("{} has too many digits for " + type_name, _quoted(text)))
        )
        return result(value, reason)
    if kind in FLOAT_KINDS:
        if source.is_numeric():
            value = raw.cast(target, strict=False)
            return result(value, bad(f"a valid {type_name}"))
        text = raw.cast(pl.String)
        shaped = text.str.to_lowercase().str.contains(_FLOAT_TEXT)
        value = pl.when(shaped).then(text).otherwise(None).cast(target, strict=False)
        return result(value, bad(f"a valid {type_name}"))
    if kind is TypeKind.BOOLEAN:
        text = raw.cast(pl.String).str.to_lowercase()
        value = text.replace_strict(_BOOLEAN_TEXT, default=None, return_dtype=pl.Boolean)
        return result(value, bad("a boolean (true/false)"))
    if kind is TypeKind.DATE:
        if isinstance(source, pl.Datetime):
            # A date with a time of day would lose it: only midnight is a date.
            midnight = raw.dt.truncate("1d") == raw
            return result(
                pl.when(midnight).then(raw.cast(pl.Date)),
                bad("a date: it has a time of day"),
            )
        text = raw.cast(pl.String)
        value = parse_date(text)
        return result(value, bad("a date (YYYY-MM-DD)"))
    if kind is TypeKind.TIMESTAMP:
        if isinstance(source, pl.Datetime):
            if source.time_zone is not None:
                return result(
                    pl.lit(None, dtype=target),
                    "an instant with a time zone cannot go in a TIMESTAMP without time zone",
                )
            return result(_in_microseconds(raw, source, target), _sub_micro(raw))
        text = raw.cast(pl.String)
        value = parse_naive(text)
        reason = (
            pl.when(text.str.contains(_HAS_OFFSET))
            .then(
                pl.format(
                    "{} has a UTC offset but the column is TIMESTAMP without time zone",
                    _quoted(text),
                )
            )
            .otherwise(bad("an ISO-8601 timestamp"))
        )
        return result(value, reason)
    if kind is TypeKind.TIMESTAMPTZ:
        if isinstance(source, pl.Datetime):
            if source.time_zone is None:
                if default_timezone is None:
                    return result(
                        pl.lit(None, dtype=target),
                        "a timestamp without a time zone; name defaultTimezone in the contract",
                    )
                value = raw.dt.replace_time_zone(
                    default_timezone, ambiguous="null", non_existent="null"
                )
                value = value.dt.convert_time_zone("UTC").cast(target)
                return result(value, bad(f"a valid local time in {default_timezone}"))
            utc = raw.dt.convert_time_zone("UTC")
            return result(_in_microseconds(utc, source, target), _sub_micro(raw))
        text = raw.cast(pl.String)
        with_offset = parse_aware(text)
        has_offset = text.str.contains(_HAS_OFFSET)
        if default_timezone is None:
            value = with_offset
            reason = (
                pl.when(has_offset)
                .then(bad("an ISO-8601 timestamp"))
                .otherwise(
                    pl.format(
                        "{} has no UTC offset and the contract names no defaultTimezone",
                        _quoted(text),
                    )
                )
            )
        else:
            local = (
                parse_naive(text)
                .dt.replace_time_zone(default_timezone, ambiguous="null", non_existent="null")
                .dt.convert_time_zone("UTC")
            )
            value = pl.coalesce(with_offset, local)
            reason = bad(
                f"an ISO-8601 timestamp (or is ambiguous/non-existent in {default_timezone})"
            )
        return result(value.cast(target), reason)
    if kind is TypeKind.UUID:
        # One spelling per UUID (lower case, hyphenated), as PostgreSQL stores it: the
        # same UUID in capitals or without hyphens must be the same key.
        text = as_text(raw, source)
        hexits = text.str.replace_all("-", "", literal=True).str.to_lowercase()
        valid = text.str.contains(_UUID)
        canonical = pl.concat_str(
            [
                hexits.str.slice(0, 8),
                hexits.str.slice(8, 4),
                hexits.str.slice(12, 4),
                hexits.str.slice(16, 4),
                hexits.str.slice(20, 12),
            ],
            separator="-",
        )
        return result(pl.when(valid).then(canonical), bad("a UUID"))
    if kind in (TypeKind.JSON, TypeKind.JSONB):
        if source.is_nested():
            # Lists and structs (Parquet, nested NDJSON) are JSON by construction.
            return infallible(as_text(raw, source))
        text = raw.cast(pl.String)
        valid = text.map_elements(_is_json, return_dtype=pl.Boolean, skip_nulls=True)
        return result(pl.when(valid).then(text), bad("valid JSON"))
    # TEXT / VARCHAR: any text is a value; its length is a check, not a cast. Bytes must
    # be UTF-8 (rare: Parquet BYTE_ARRAY without a string annotation, decoded one by one);
    # lists and structs become their JSON text.
    if source == pl.Binary:
        value = raw.map_elements(_utf8_or_none, return_dtype=pl.String, skip_nulls=True)
        return result(value, bad("UTF-8 text"))
    return infallible(as_text(raw, source))


def _shown_bytes(value: bytes) -> str:
    return value.decode("utf-8", errors="backslashreplace")


def _utf8_or_none(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _in_microseconds(value: pl.Expr, source: pl.Datetime, target: pl.DataType) -> pl.Expr:
    """Nanosecond instants fit microseconds only when their last three digits are zero."""
    if source.time_unit == "ns":
        return pl.when(value.dt.nanosecond() % 1000 == 0).then(value.cast(target))
    return value.cast(target)


def _sub_micro(raw: pl.Expr) -> pl.Expr:
    return pl.format(
        "{} has nanoseconds; they would be truncated to microseconds", _quoted(raw.cast(pl.String))
    )


def as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A value as text: nested values as JSON, bytes as UTF-8 (null where they are not),
    everything else as Polars prints it."""
    if dtype.is_nested():
        wrapped = pl.struct(expr.alias("_")).struct.json_encode()
        # {"_":<value>} -> <value>
        return pl.when(expr.is_not_null()).then(wrapped.str.slice(5).str.head(-1))
    if dtype == pl.Binary:
        # Shown, not cast: bytes that are not UTF-8 keep their value as \x escapes.
        return expr.map_elements(_shown_bytes, return_dtype=pl.String, skip_nulls=True)
    return expr.cast(pl.String)


def _quoted(expr: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("'"), expr.str.slice(0, 80), pl.lit("'")])


def _is_json(text: str) -> bool:
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True
