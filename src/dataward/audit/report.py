"""The audit's report as text (orientation, then findings by severity), JSON and SARIF.

JSON: `{"version": 1, "root", "orientation", "counts", "findings": [...], "skipped"}`,
each finding with its fingerprint, so a saved report is also a `--baseline`.
"""

from __future__ import annotations

import json
from typing import Any

from dataward import __version__
from dataward.audit.model import LABELS, AuditFinding
from dataward.audit.orientation import Found
from dataward.audit.run import AuditReport
from dataward.migrate.lint.registry import get
from dataward.migrate.lint.sarif import SCHEMA, artifact_uri, rule_descriptor

FORMATS = ("text", "json", "sarif")
REPORT_VERSION = 1


def render(report: AuditReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(as_json(report), indent=2) + "\n"
    if output_format == "sarif":
        return json.dumps(as_sarif(report), indent=2) + "\n"
    return as_text(report)


def as_json(report: AuditReport) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "root": report.orientation.root,
        "orientation": report.orientation.to_dict(),
        "counts": report.counts(),
        "findings": [f.to_dict() for f in report.findings],
        "skipped": [{"what": what, "why": why} for what, why in report.skipped],
    }


# ---------------------------------------------------------------- text

_SECTIONS: tuple[tuple[str, str], ...] = (
    ("stack", "Stack"),
    ("databases", "Database configuration"),
    ("migrations", "Migrations"),
    ("schemas", "Schema files and models"),
    ("pipelines", "Pipeline code"),
    ("dbt", "dbt"),
)


def as_text(report: AuditReport) -> str:
    seen = report.orientation
    lines = [f"Orientation: {seen.root} ({seen.files:,} files read)"]
    for attribute, heading in _SECTIONS:
        found: list[Found] = getattr(seen, attribute)
        lines.append(f"  {heading}:" + ("" if found else " none found"))
        lines += [f"    {f.path}: {f.what}" for f in found[:20]]
        if len(found) > 20:
            lines.append(f"    ... and {len(found) - 20} more")
    if seen.live:
        lines.append("  Live database:")
        lines += [f"    {note}" for note in seen.live]
    if report.skipped:
        lines.append(f"  Not read ({len(report.skipped)}):")
        lines += [f"    {what}: {why}" for what, why in report.skipped[:20]]
        if len(report.skipped) > 20:
            lines.append(f"    ... and {len(report.skipped) - 20} more")
    lines.append("")
    for severity, label in LABELS.items():
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        lines.append(f"{label.upper()} ({len(group)})")
        for item in group:
            lines += _finding_text(item)
        lines.append("")
    counts = report.counts()
    total = sum(counts.values())
    lines.append(
        f"{total} finding{'s' if total != 1 else ''}: "
        f"{counts['high']} high, {counts['medium']} medium, {counts['low']} low"
    )
    return "\n".join(lines) + "\n"


def _finding_text(item: AuditFinding) -> list[str]:
    lines = [f"  {item.location}: {item.rule}: {item.message}"]
    if item.evidence:
        lines.append(f"    | {item.evidence}")
    lines.append(f"    why: {item.why}")
    lines.append(f"    fix: {item.fix}")
    return lines


# ---------------------------------------------------------------- SARIF


def as_sarif(report: AuditReport) -> dict[str, Any]:
    used = sorted({f.rule for f in report.findings})
    rules = [get(rule_id) for rule_id in used]
    index = {rule.id: number for number, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dataward audit",
                        "version": __version__,
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "results": [_result(f, index) for f in report.findings],
            }
        ],
    }


def _result(item: AuditFinding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": item.rule,
        "ruleIndex": index[item.rule],
        "level": item.severity.sarif_level,
        "message": {"text": f"{item.message}\nfix: {item.fix}"},
        "partialFingerprints": {"dataward/v1": item.fingerprint},
    }
    if item.file:
        region: dict[str, int] = {"startLine": item.line or 1}
        if item.column:
            region["startColumn"] = item.column
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(item.file)},
                    "region": region,
                }
            }
        ]
    else:
        # A catalog object has no file: a logical location (schema.table.column).
        result["locations"] = [
            {"logicalLocations": [{"fullyQualifiedName": item.location, "kind": "member"}]}
        ]
    return result
