"""What an audit reports: one finding per defect, with where it is, the evidence, why it
matters and the fix, and a fingerprint that stays the same from one audit to the next
(TODO.md and --baseline match findings by it, not by line number)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from dataward.migrate.lint.model import Severity
from dataward.migrate.lint.registry import Rule

# The audit speaks of high, medium and low; the rules share the linter's severities.
LABELS = {Severity.ERROR: "high", Severity.WARNING: "medium", Severity.INFO: "low"}
BY_LABEL = {label: severity for severity, label in LABELS.items()}


@dataclass(frozen=True)
class AuditHit:
    """What an audit rule saw; the runner adds the rule's metadata and the file."""

    message: str
    line: int | None = None
    column: int | None = None
    evidence: str = ""  # the offending line, or the catalog fact
    location: str | None = None  # schema.table.column, for what is not in a file
    fix: str | None = None  # when the fix depends on the case (the exact SQL)
    severity: Severity | None = None
    anchor: str = ""  # what identifies it when lines move; default: the evidence


@dataclass(frozen=True)
class AuditFinding:
    rule: str
    severity: Severity
    location: str  # path/to/file.py:12, or schema.table.column for the live database
    message: str
    evidence: str  # the offending line, or the catalog fact
    why: str
    fix: str
    file: str | None = None  # relative to the audited root
    line: int | None = None
    column: int | None = None
    # What identifies the finding when lines move: the rule, the file or object, and the
    # evidence (the offending text), not the line number.
    anchor: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.severity]

    @property
    def fingerprint(self) -> str:
        place = self.file or self.location
        text = re.sub(r"\s+", " ", self.anchor or self.evidence).strip()
        return hashlib.sha256(f"{self.rule}|{place}|{text}".encode()).hexdigest()[:12]

    @property
    def sort_key(self) -> tuple[int, str, int, str]:
        return (-self.severity.rank, self.file or self.location, self.line or 0, self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.label,
            "location": self.location,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "evidence": self.evidence,
            "why": self.why,
            "fix": self.fix,
            "fingerprint": self.fingerprint,
        }


def finding(rule: Rule, hit: AuditHit, file: str | None = None) -> AuditFinding:
    """A hit of `rule` in `file` (relative to the root), or at `hit.location`."""
    if file is not None:
        location = f"{file}:{hit.line}" if hit.line else file
    else:
        location = hit.location or ""
    return AuditFinding(
        rule=rule.id,
        severity=hit.severity or rule.severity,
        location=location,
        message=hit.message,
        evidence=hit.evidence,
        why=rule.why,
        fix=hit.fix or rule.fix,
        file=file,
        line=hit.line,
        column=hit.column,
        anchor=hit.anchor,
    )


@dataclass
class AuditPart:
    """What one part of the audit (the repository's code, its migrations, the live
    database) produced: its findings, what it could not read and why, and lines for the
    orientation summary (what was found where)."""

    findings: list[AuditFinding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: AuditPart) -> None:
        self.findings += other.findings
        self.skipped += other.skipped
        self.notes += other.notes
