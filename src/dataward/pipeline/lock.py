"""One run per pipeline at a time: an exclusive lock on a file in the project.

flock is released by the kernel when the process dies, so a killed run never leaves a
stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from dataward.errors import InfrastructureError, Location, LockHeldError


class PipelineLock:
    def __init__(self, state_dir: Path, pipeline: str) -> None:
        self.path = state_dir / "locks" / f"{pipeline}.lock"
        self.pipeline = pipeline
        self._fd: int | None = None

    def __enter__(self) -> PipelineLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InfrastructureError(
                f"cannot create the lock file: {exc.strerror}", Location(file=str(self.path))
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockHeldError(
                f"pipeline {self.pipeline!r} is already running (lock held by pid {holder}); "
                "wait for it to finish",
                Location(file=str(self.path)),
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
