"""What locks a PostgreSQL backend really takes, watched from a second connection.

While a migration runs, another session reads `pg_locks` for the migration's backend
every couple of milliseconds and keeps, per relation, the strongest mode it saw and how
long the backend held a lock on it. A statement shorter than the interval can be missed:
the report is a lower bound, which is what a migration under test should be judged by.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg

# From the weakest to the strongest (the order PostgreSQL's docs give them).
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
# What each strongest mode keeps waiting, in a DBA's words.
BLOCKS = {
    "AccessExclusiveLock": "blocks every read and write of the table",
    "ExclusiveLock": "blocks writes; reads go on",
    "ShareRowExclusiveLock": "blocks writes; reads go on",
    "ShareLock": "blocks writes; reads go on",
    "ShareUpdateExclusiveLock": "blocks other DDL and VACUUM; reads and writes go on",
    "RowExclusiveLock": "the lock of an ordinary write",
    "RowShareLock": "the lock of SELECT ... FOR UPDATE",
    "AccessShareLock": "the lock of an ordinary read",
}


@dataclass(frozen=True)
class Held:
    relation: str
    mode: str
    seconds: float

    @property
    def blocks(self) -> str:
        return BLOCKS.get(self.mode, "")


class LockSampler:
    def __init__(self, url: str, pid: int, interval: float = 0.002) -> None:
        self._conn = psycopg.connect(url, autocommit=True, application_name="dataward-locks")
        self._pid = pid
        self._interval = interval
        self._stop = threading.Event()
        self._seen: dict[str, tuple[str, float, float]] = {}  # relation -> mode, first, last
        self._thread = threading.Thread(target=self._watch, name="dataward-locks", daemon=True)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()

    def _watch(self) -> None:
        query = (
            "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE l.pid = %s AND l.granted "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        while not self._stop.is_set():
            now = time.monotonic()
            for relation, mode in self._conn.execute(query, [self._pid]).fetchall():
                known = self._seen.get(relation)
                if known is None:
                    self._seen[relation] = (mode, now, now)
                else:
                    strongest = max(known[0], mode, key=_strength)
                    self._seen[relation] = (strongest, known[1], now)
            time.sleep(self._interval)

    def held(self) -> list[Held]:
        return sorted(
            (
                Held(relation, mode, last - first + self._interval)
                for relation, (mode, first, last) in self._seen.items()
            ),
            key=lambda h: (-_strength(h.mode), h.relation),
        )


def _strength(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else -1
