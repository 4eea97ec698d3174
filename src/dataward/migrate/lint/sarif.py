"""SARIF 2.1.0, the format code-scanning services read (GitHub, GitLab, Azure DevOps).

One run; its driver lists every rule of the registry (so a service can show a rule's
description next to each result), and each result points at a file, line and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from dataward import __version__
from dataward.migrate.lint.model import Finding
from dataward.migrate.lint.registry import Rule, all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif(findings: Sequence[Finding]) -> dict[str, Any]:
    rules = all_rules()
    index = {rule.id: number for number, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dataward",
                        "version": __version__,
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "results": [_result(f, index) for f in findings],
            }
        ],
    }


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.what} {rule.why}"},
        "help": {"text": rule.fix, "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": rule.severity.sarif_level},
        "properties": {"tags": [rule.group]},
    }


def _help_markdown(rule: Rule) -> str:
    bad = "\n\n".join(rule.bad)
    good = "\n\n".join(rule.good)
    return (
        f"{rule.why}\n\n**Fix:** {rule.fix}\n\n"
        f"Bad:\n\n```{rule.language}\n{bad}\n```\n\n"
        f"Good:\n\n```{rule.language}\n{good}\n```"
    )


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": finding.severity.sarif_level,
        "message": {"text": f"{finding.message}\nhelp: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.file)},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    return result


def artifact_uri(file: str) -> str:
    """A relative path stays relative (code scanning resolves it against the checkout);
    an absolute one becomes a file:// URI."""
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(PurePosixPath(*path.parts).as_posix())
