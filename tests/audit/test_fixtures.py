"""Recall and precision, rule by rule, on fixture repositories with planted defects.

Each directory under fixtures/ with an expected.json is a small repository of one
ecosystem; expected.json lists every finding its defects must produce (rule and
location). The audit must report all of them (recall) and nothing else (precision):
each repository also holds code done right, which must stay silent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_kit import FIXTURES, audit_json, by_rule

REPOSITORIES = sorted(p.parent for p in FIXTURES.glob("*/expected.json"))


def _expected(repository: Path) -> list[dict[str, str]]:
    return json.loads((repository / "expected.json").read_text())["findings"]


@pytest.mark.parametrize("repository", REPOSITORIES, ids=lambda p: p.name)
def test_every_planted_defect_is_found_and_nothing_else(repository: Path) -> None:
    report = audit_json(repository)
    reported = by_rule(report["findings"])
    expected = by_rule(_expected(repository))
    for rule in sorted(set(reported) | set(expected)):
        missed = expected.get(rule, {}) - reported.get(rule, {})  # type: ignore[operator]
        extra = reported.get(rule, {}) - expected.get(rule, {})  # type: ignore[operator]
        assert not missed, f"{rule}: not reported at {sorted(missed)} (recall)"
        assert not extra, f"{rule}: reported at {sorted(extra)}, not planted (precision)"


def test_the_fixtures_cover_every_ecosystem() -> None:
    names = {p.name for p in REPOSITORIES}
    assert names == {"plain_sql", "alembic", "django", "rails", "laravel", "prisma", "dbt"}
