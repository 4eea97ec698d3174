"""Per-row reasons: a list of {check, column, value, message} built only for failing rows."""

from __future__ import annotations

import polars as pl

REASON_TYPE = pl.List(
    pl.Struct({"check": pl.String, "column": pl.String, "value": pl.String, "message": pl.String})
)


def reason(check: str, column: str | None, value: pl.Expr, message: pl.Expr | str) -> pl.Expr:
    return pl.struct(
        check=pl.lit(check),
        column=pl.lit(column, dtype=pl.String),
        value=value.cast(pl.String),
        message=pl.lit(message) if isinstance(message, str) else message.cast(pl.String),
    )


def attach_reasons(
    frame: pl.DataFrame,
    entries: list[tuple[pl.Expr, pl.Expr]],
    key: list[str],
    name: str,
) -> pl.DataFrame:
    """Add a `name` column: for each row, the reasons whose flag is set, in entry order.

    Built in long form (one small filter per entry, then a group-by) because a
    `concat_list` of conditional structs costs Polars tens of microseconds per row.
    """
    parts = [
        frame.filter(flag).select(
            *key, pl.lit(order, dtype=pl.Int32).alias("_dw_order"), item.alias(name)
        )
        for order, (flag, item) in enumerate(entries)
    ]
    if not parts:
        return frame.with_columns(empty_reasons().alias(name))
    lists = (
        pl.concat(parts)
        .sort([*key, "_dw_order"])
        .group_by(key, maintain_order=True)
        .agg(pl.col(name))
    )
    return frame.join(lists, on=key, how="left").with_columns(
        pl.col(name).fill_null(empty_reasons())
    )


def empty_reasons() -> pl.Expr:
    return pl.lit([], dtype=REASON_TYPE)
