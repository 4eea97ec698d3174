"""What the linter reports: severities, findings, and the hits rules return.

A rule returns `Hit`s (what it saw, where in the script); the engine turns each into a
`Finding` with the file, line and column a person opens, so rules never deal with files.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from dataward.migrate.files import Statement


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank

    @property
    def sarif_level(self) -> str:
        # SARIF calls the lowest level "note".
        return {"error": "error", "warning": "warning", "info": "note"}[self.value]


ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Hit:
    """One thing a rule found.

    `statement` is what an inline ignore is matched against; None means the whole script
    (a missing down, say). `offset` (characters into the script, as pglast gives node
    locations) points inside the statement, at a column definition for example.
    `severity` and `fix` override the rule's own when one case is milder than the rest.
    """

    message: str
    statement: Statement | None = None
    offset: int | None = None
    severity: Severity | None = None
    fix: str | None = None


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    fix: str
    file: str
    line: int
    column: int

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }
