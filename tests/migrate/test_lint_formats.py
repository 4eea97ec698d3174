"""The reports: SARIF 2.1.0's structure (no schema is available offline, so the parts code
scanning reads are checked one by one), JSON, and docs/rules.md generated from the registry."""

from __future__ import annotations

import json
from pathlib import Path

from lint_kit import lint_sql

from dataward.migrate.lint import all_rules
from dataward.migrate.lint.docs import render
from dataward.migrate.lint.model import Finding, Severity
from dataward.migrate.lint.reporters import render as render_report
from dataward.migrate.lint.sarif import artifact_uri, sarif

ROOT = Path(__file__).resolve().parents[2]
SQL = (
    "CREATE INDEX orders_note_idx ON orders (note);\n"
    "CREATE TABLE t (id bigserial PRIMARY KEY, price real);"
)


def test_sarif_structure(tmp_path):
    findings = lint_sql(tmp_path, SQL)
    document = json.loads(render_report(findings, "sarif"))
    assert document["version"] == "2.1.0" and "sarif-2.1.0" in document["$schema"]
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dataward" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and "```sql" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels["serial-column"] == "note"  # SARIF's name for info
    assert len(run["results"]) == len(findings) > 2
    for result, finding in zip(run["results"], findings, strict=True):
        assert result["ruleId"] == finding.rule
        assert rules[result["ruleIndex"]]["id"] == finding.rule
        assert result["level"] == finding.severity.sarif_level
        assert finding.message in result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == Path(finding.file).as_uri()
        assert physical["region"] == {"startLine": finding.line, "startColumn": finding.column}
        assert isinstance(finding.line, int) and finding.line >= 1 and finding.column >= 1


def test_sarif_uris():
    assert artifact_uri("migrations/0001 add.up.sql") == "migrations/0001%20add.up.sql"
    assert artifact_uri("/srv/app/m/1_x.up.sql") == "file:///srv/app/m/1_x.up.sql"


def test_sarif_with_no_findings_still_lists_the_rules():
    document = sarif([])
    assert document["runs"][0]["results"] == []
    assert len(document["runs"][0]["tool"]["driver"]["rules"]) == len(all_rules())


def test_json_round_trips():
    finding = Finding("drop-table", Severity.WARNING, "m", "f", "a.sql", 3, 1)
    assert json.loads(render_report([finding], "json")) == [
        {
            "rule": "drop-table",
            "severity": "warning",
            "message": "m",
            "fix": "f",
            "file": "a.sql",
            "line": 3,
            "column": 1,
        }
    ]


def test_text_summary_counts_by_severity(tmp_path):
    findings = lint_sql(tmp_path, SQL)
    last = render_report(findings, "text", migrations=1).splitlines()[-1]
    counts = {s: sum(f.severity.value == s for f in findings) for s in ("error", "warning", "info")}
    assert last.startswith(f"{len(findings)} findings (")
    assert f"{counts['error']} error" in last and f"{counts['info']} info" in last


def test_docs_rules_md_is_current():
    """docs/rules.md is generated: `python -m dataward.migrate.lint.docs > docs/rules.md`."""
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == render(), (
        "docs/rules.md is out of date: run `.venv/bin/python -m dataward.migrate.lint.docs "
        "> docs/rules.md`"
    )


def test_docs_describe_every_rule():
    text = render()
    for rule in all_rules():
        section = text.split(f"\n### {rule.id}\n", 1)[1].split("\n### ", 1)[0]
        assert f"**{rule.severity.value}**" in section
        for part in ("**What it catches.**", "**Why.**", "**Fix.**", "Bad:", "Good:"):
            assert part in section, (rule.id, part)
        assert rule.why in section and rule.fix in section and rule.bad[0] in section
