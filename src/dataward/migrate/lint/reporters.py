"""Findings as people and machines read them: text lines, a JSON list, SARIF 2.1.0.

orders.up.sql:3:1: create-index-not-concurrently error: CREATE INDEX on orders ...
  help: CREATE INDEX CONCURRENTLY ...
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from dataward.migrate.lint.model import Finding
from dataward.migrate.lint.sarif import sarif

FORMATS = ("text", "json", "sarif")


def render(findings: Sequence[Finding], fmt: str, *, migrations: int = 0) -> str:
    if fmt == "json":
        return render_json(findings)
    if fmt == "sarif":
        return json.dumps(sarif(findings), indent=2) + "\n"
    return render_text(findings, migrations=migrations)


def render_text(findings: Sequence[Finding], *, migrations: int = 0) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.file}:{f.line}:{f.column}: {f.rule} {f.severity.value}: {f.message}")
        lines.append(f"  help: {f.fix}")
    lines.append(summary(findings, migrations))
    return "\n".join(lines) + "\n"


def summary(findings: Sequence[Finding], migrations: int) -> str:
    checked = f"{migrations} migration{'s' if migrations != 1 else ''}"
    if not findings:
        return f"no findings in {checked}"
    counts = Counter(f.severity.value for f in findings)
    parts = [
        f"{counts[level]} {level}{'s' if counts[level] != 1 and level != 'info' else ''}"
        for level in ("error", "warning", "info")
        if counts[level]
    ]
    total = len(findings)
    return f"{total} finding{'s' if total != 1 else ''} ({', '.join(parts)}) in {checked}"


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2) + "\n"
