"""AscendingKeys: proof of unique keys from their order, and nothing more."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from dataward.pipeline.key_order import AscendingKeys


def seen(*batches: list, key: tuple[str, ...] = ("id",)) -> bool:
    keys = AscendingKeys(key)
    for values in batches:
        keys.see(pl.DataFrame({"id": values}, strict=False))
    return keys.unique


def test_ascending_within_and_across_batches_is_proven_unique():
    assert seen([1, 2, 5], [6, 9], [10])


@pytest.mark.parametrize(
    "batches",
    [
        ([1, 2, 2, 3],),  # a repeat inside a batch
        ([1, 3, 2],),  # out of order (no repeat, but nothing is proven)
        ([1, 2, 3], [3, 4]),  # the next batch starts with the last key
        ([5, 6], [1, 2]),  # the next batch starts lower
        ([1, None, 3],),  # a null key
    ],
)
def test_anything_else_proves_nothing(batches):
    assert not seen(*batches)


def test_text_dates_and_decimals_are_ordered_too():
    assert seen(["a", "b"], ["ba", "c"])
    assert not seen(["b", "a"])
    assert seen([date(2024, 1, 1), date(2024, 1, 2)])
    assert seen([Decimal("1.50"), Decimal("2.00")])


def test_floats_and_composite_keys_are_not_trusted():
    assert not seen([0.5, 1.5])  # -0.0 == 0.0 and NaN: left to the warehouse's GROUP BY
    keys = AscendingKeys(("a", "b"))
    keys.see(pl.DataFrame({"a": [1, 2], "b": [1, 2]}))
    assert not keys.unique


def test_empty_batches_change_nothing():
    keys = AscendingKeys(("id",))
    keys.see(pl.DataFrame({"id": []}, schema={"id": pl.Int64}))
    keys.see(pl.DataFrame({"id": [3, 4]}))
    keys.see(pl.DataFrame({"id": []}, schema={"id": pl.Int64}))
    keys.see(pl.DataFrame({"id": [5]}))
    assert keys.unique
