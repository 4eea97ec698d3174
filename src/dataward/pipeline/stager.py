"""Stage batches on a thread of their own.

Staging (cast, row hash, append to the staging table) runs in DuckDB, which releases
the GIL; validating the next batch runs in Polars, which does too. Handing batches to a
thread through a short queue lets the two overlap instead of taking turns. The queue is
bounded, so memory stays bounded: at most `depth` batches wait.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import pyarrow as pa

_DONE = object()


class BackgroundStager:
    def __init__(self, stage: Callable[[pa.Table], None], depth: int = 2) -> None:
        self._stage = stage
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="dataward-stager", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is not None:
                continue  # drain after a failure; the caller hears about it at put or close
            try:
                self._stage(item)  # type: ignore[arg-type]
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc

    def put(self, batch: pa.Table) -> None:
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until everything handed over is staged; re-raise what staging raised."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
