"""One exception hierarchy for everything dataward raises on purpose.

Each error carries where it happened (file, line, column, YAML path, table, row) so the
CLI can print one precise line instead of a traceback, and an exit code so every command
maps failures the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECKS_FAILED = 1
    USAGE = 2
    INFRASTRUCTURE = 3
    LOCK_HELD = 4


@dataclass(frozen=True)
class Location:
    """Where a problem is. Every field is optional; the ones that are set are printed."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None  # YAML path such as schema[0].properties[2].physicalType
    table: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            spot = self.file
            if self.line is not None:
                spot += f":{self.line}"
                if self.column is not None:
                    spot += f":{self.column}"
            parts.append(spot)
        if self.path:
            parts.append(self.path)
        if self.table:
            parts.append(f"table {self.table}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts)


class DatawardError(Exception):
    """Base of every error dataward raises deliberately."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class UsageError(DatawardError):
    """The command line or configuration is wrong."""


class ContractError(DatawardError):
    """A contract cannot be loaded or does not make sense."""


class SourceError(DatawardError):
    """Input data cannot be read (missing, empty, malformed, wrong encoding)."""


class InfrastructureError(DatawardError):
    """Something outside the user's input failed: a database, the disk, the network."""

    exit_code = ExitCode.INFRASTRUCTURE


class LockHeldError(DatawardError):
    """Another run holds the lock this one needs."""

    exit_code = ExitCode.LOCK_HELD


class StatementError(DatawardError):
    """SQL the user wrote (a migration, say) was refused by the database."""

    exit_code = ExitCode.CHECKS_FAILED


class LockTimeoutError(InfrastructureError):
    """A lock the statement needed was held by another session past lock_timeout."""
