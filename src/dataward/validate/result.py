"""What a validation found: per-check results and a few failing rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dataward.contract.model import Severity


@dataclass
class CheckResult:
    id: str
    kind: str
    scope: str
    severity: str
    columns: list[str]
    message: str
    violations: int = 0
    measured: float | None = None
    passed: bool = True
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ValidationResult:
    contract: str
    table: str
    files: list[str]
    rows: int = 0
    rejected: int = 0
    flagged: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    rejects_file: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and all(
            c.passed or c.skipped or c.severity == Severity.WARNING for c in self.checks
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "contract": self.contract,
            "table": self.table,
            "files": self.files,
            "rows": self.rows,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "accepted": self.rows - self.rejected,
            "checks": [c.to_dict() for c in self.checks],
            "examples": self.examples,
            "rejects_file": self.rejects_file,
            "notes": self.notes,
        }
