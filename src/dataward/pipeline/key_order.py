"""Keys that arrive in strictly ascending order are unique, and that is cheap to see.

Finding repeated keys among the staged rows is a GROUP BY over every key (0.5 s at 5M
rows). Extracts often come ordered by their key (a table dump, an incremental export);
comparing each batch's keys with their neighbours, and the first with the previous
batch's last, costs a millisecond a batch and, when every key is greater than the one
before, proves there is nothing to find. Anything else (a key out of order, a null, a
composite key, a type whose order Polars and the warehouse might not share) proves
nothing, and the GROUP BY runs as always.
"""

from __future__ import annotations

from typing import Any

import polars as pl

_ORDERED = (pl.String, pl.Date, pl.Datetime, pl.Decimal)


class AscendingKeys:
    def __init__(self, key: tuple[str, ...]) -> None:
        self.column = key[0] if len(key) == 1 else None
        # True only while every key seen is proven unique.
        self.unique = self.column is not None
        self._last: Any = None

    def see(self, rows: pl.DataFrame) -> None:
        """Rows about to be staged, in the order they are staged."""
        if not self.unique or rows.height == 0:
            return
        assert self.column is not None
        keys = rows[self.column]
        if keys.null_count() or not (keys.dtype.is_integer() or isinstance(keys.dtype, _ORDERED)):
            self.unique = False
            return
        ascending = bool((keys.slice(1) > keys.slice(0, keys.len() - 1)).all())
        if not ascending or (self._last is not None and not keys[0] > self._last):
            self.unique = False
            return
        self._last = keys[-1]
