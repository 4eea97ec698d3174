"""Raw batches kept so any row can be fetched again by (batch, offset).

Uniqueness is only known once every key has been seen, so the first occurrence of a
duplicate key has usually been passed over already. Keeping the raw batches (in memory up
to a budget, then as uncompressed Arrow IPC files read back memory-mapped) costs far less
than parsing the source a second time, and keeps memory bounded.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc

DEFAULT_MEMORY_BUDGET = 512 << 20


class RawStore:
    def __init__(self, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        self._budget = memory_budget
        self._in_memory = 0
        self._frames: list[pl.DataFrame | Path] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def add(self, frame: pl.DataFrame) -> int:
        """Keep one batch; returns its index."""
        size = frame.estimated_size()
        if self._in_memory + size <= self._budget:
            self._frames.append(frame)
            self._in_memory += size
        else:
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="dataward-raw-")
            path = Path(self._tmp.name) / f"batch-{len(self._frames):06d}.arrow"
            frame.write_ipc(path, compression="uncompressed")
            self._frames.append(path)
        return len(self._frames) - 1

    def take(self, batch: int, offsets: pl.Series) -> pl.DataFrame:
        stored = self._frames[batch]
        if isinstance(stored, pl.DataFrame):
            return stored[offsets]
        # Memory-mapped: only the pages holding the wanted rows are read.
        table = pa.ipc.open_file(pa.memory_map(str(stored))).read_all()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame[offsets]

    def close(self) -> None:
        self._frames = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
