"""Read the next batch while the current one is being checked.

Parsing (pyarrow, mostly one thread) and checking (Polars, all threads) release the GIL,
so a reader thread one or two batches ahead keeps both busy; the queue bound keeps memory
at a few batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                buffer.put(item)
        except BaseException as exc:  # noqa: BLE001 - not swallowed: the consumer re-raises it
            buffer.put(_Failure(exc))
            return
        buffer.put(_DONE)

    worker = threading.Thread(target=produce, name="dataward-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        # The consumer stopped early (an error, or it had enough): let the reader end.
        stop.set()
        while worker.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
