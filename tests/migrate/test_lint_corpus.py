"""The corpus (tests/migrations/corpus/RULE/{bad,good}/): every rule fires exactly where its
bad cases say (`-- expect: RULE` on the line of each finding), and nowhere in its good
cases. Every finding in a bad case must be expected, so each case is clean of other rules:
the bench compares tools over these files rule by rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_kit import CORPUS

from dataward.migrate.lint import all_rules
from dataward.migrate.lint.engine import lint
from dataward.migrate.lint.inputs import collect

MARKER = "-- expect:"
RULE_IDS = [r.id for r in all_rules()]


def expected(directory: Path) -> set[tuple[str, int, str]]:
    """(file name, line, rule) for each `-- expect: RULE[, RULE]` in the case's files (read
    as bytes: the unreadable case is not UTF-8)."""
    found = set()
    for path in sorted(directory.glob("*.sql")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if MARKER in line:
                for rule in line.split(MARKER, 1)[1].split(","):
                    found.add((path.name, number, rule.strip()))
    return found


def findings_of(directory: Path) -> set[tuple[str, int, str]]:
    sets, problems = collect([directory])
    findings = problems + [f for s in sets for f in lint(s.migrations, report=s.report)]
    return {(Path(f.file).name, f.line, f.rule) for f in findings}


def test_every_rule_has_bad_and_good_cases():
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert on_disk == set(RULE_IDS)
    for rule in RULE_IDS:
        for kind in ("bad", "good"):
            case = CORPUS / rule / kind
            assert any(case.glob("*.up.sql")), case


@pytest.mark.parametrize("rule", RULE_IDS)
def test_bad_case_fires_on_the_marked_lines(rule):
    case = CORPUS / rule / "bad"
    want = expected(case)
    assert any(r == rule for _, _, r in want), f"{case} marks no {rule}"
    assert findings_of(case) == want


@pytest.mark.parametrize("rule", RULE_IDS)
def test_good_case_is_clean(rule):
    case = CORPUS / rule / "good"
    assert expected(case) == set()
    assert findings_of(case) == set()
