"""Render row-level checks as Polars expressions: the in-flight engine.

Each expression is True exactly where a row violates the check, and never null, so the
same verdicts can be summed, filtered on, and compared with the SQL renderer's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import polars as pl

from dataward.checks.model import Check, CheckKind
from dataward.contract.types import (
    FLOAT_KINDS,
    INTEGER_KINDS,
    DataType,
    TypeKind,
)


def polars_type(data_type: DataType) -> pl.DataType:
    """The Polars dtype a column of this contract type is held in while in flight."""
    kind = data_type.kind
    if kind is TypeKind.SMALLINT:
        return pl.Int16()
    if kind is TypeKind.INTEGER:
        return pl.Int32()
    if kind is TypeKind.BIGINT:
        return pl.Int64()
    if kind is TypeKind.DECIMAL:
        return pl.Decimal(data_type.precision, data_type.scale)
    if kind is TypeKind.REAL:
        return pl.Float32()
    if kind is TypeKind.DOUBLE:
        return pl.Float64()
    if kind is TypeKind.BOOLEAN:
        return pl.Boolean()
    if kind is TypeKind.DATE:
        return pl.Date()
    if kind is TypeKind.TIMESTAMP:
        return pl.Datetime("us")
    if kind is TypeKind.TIMESTAMPTZ:
        return pl.Datetime("us", "UTC")
    # TEXT, VARCHAR, UUID and JSON travel as text; their shape is checked when cast.
    return pl.String()


def literal(value: Any, data_type: DataType | None) -> pl.Expr:
    """A literal in the column's own type, so comparisons are exact (no float decimals)."""
    if data_type is None:
        return pl.lit(value)
    dtype = polars_type(data_type)
    kind = data_type.kind
    if kind is TypeKind.DECIMAL or kind in INTEGER_KINDS:
        if isinstance(value, Decimal) and kind in INTEGER_KINDS:
            # A fractional bound on an integer column: compare as a wide decimal.
            return pl.lit(value, dtype=pl.Decimal(38, max(0, -value.as_tuple().exponent)))
        return pl.lit(value).cast(dtype)
    if kind in FLOAT_KINDS:
        return pl.lit(float(value), dtype=pl.Float64())
    return pl.lit(value, dtype=dtype)


def violation(check: Check, references: Mapping[str, pl.DataFrame] | None = None) -> pl.Expr:
    """True where the row violates `check`. Only row-level kinds have a predicate.

    A foreign key needs the referenced table's keys, given in `references` by table name.
    """
    expr = _predicate(check, references or {})
    return expr.fill_null(False).alias(check.id)


def _predicate(check: Check, references: Mapping[str, pl.DataFrame]) -> pl.Expr:
    kind = check.kind
    columns = [pl.col(c) for c in check.columns]
    if kind is CheckKind.NOT_NULL:
        return columns[0].is_null()
    if kind is CheckKind.MISSING:
        col = columns[0]
        if not check.values:
            return col.is_null()
        return col.is_null() | col.is_in(_typed_values(check).implode()).fill_null(False)
    if kind is CheckKind.FINITE:
        return ~columns[0].is_finite()
    if kind is CheckKind.RANGE:
        col = columns[0]
        parts: list[pl.Expr] = []
        if check.low is not None:
            low = literal(check.low, check.column_type)
            parts.append(col < low if check.low_inclusive else col <= low)
        if check.high is not None:
            high = literal(check.high, check.column_type)
            parts.append(col > high if check.high_inclusive else col >= high)
        return pl.any_horizontal(parts)
    if kind is CheckKind.LENGTH:
        length = columns[0].cast(pl.String).str.len_chars()
        parts = []
        if check.min_length is not None:
            parts.append(length < check.min_length)
        if check.max_length is not None:
            parts.append(length > check.max_length)
        return pl.any_horizontal(parts)
    if kind is CheckKind.PATTERN:
        return ~columns[0].cast(pl.String).str.contains(check.pattern or "")
    if kind is CheckKind.ACCEPTED_VALUES:
        return ~columns[0].is_in(_typed_values(check).implode())
    if kind is CheckKind.UNIQUE:
        key = columns[0] if len(columns) == 1 else pl.struct(columns)
        present = pl.all_horizontal([c.is_not_null() for c in columns])
        # Nulls are not equal to each other (SQL semantics): only complete keys can repeat.
        return pl.when(present).then(key.is_duplicated().over(present)).otherwise(False)
    if kind is CheckKind.FOREIGN_KEY:
        table = check.referenced_table or ""
        if table not in references:
            raise ValueError(f"{check.id} needs the keys of {table!r} to be checked in flight")
        ref_columns = list(check.referenced_columns or ())
        # Compare as structs named by our own columns so composite keys line up.
        known = (
            references[table]
            .select(
                pl.struct(
                    [
                        pl.col(r).alias(own)
                        for own, r in zip(check.columns, ref_columns, strict=True)
                    ]
                )
            )
            .to_series()
        )
        present = pl.all_horizontal([c.is_not_null() for c in columns])
        return present & ~pl.struct(columns).is_in(known.implode())
    raise ValueError(f"{kind} has no in-flight predicate")


def _typed_values(check: Check) -> pl.Series:
    values = list(check.values or ())
    data_type = check.column_type
    if data_type is None or data_type.is_text or data_type.kind in (TypeKind.UUID,):
        return pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)
    dtype = polars_type(data_type)
    if data_type.kind is TypeKind.DECIMAL:
        values = [Decimal(str(v)) for v in values]
    return pl.Series(values, dtype=dtype, strict=False)
