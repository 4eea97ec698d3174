"""The registry: complete metadata, and every rule's own examples behave as documented."""

from __future__ import annotations

import re

import pytest
from lint_kit import lint_sql, rules_of

from dataward.migrate.lint import all_rules
from dataward.migrate.lint.registry import GROUPS

RULES = all_rules()
# Examples that cannot be a migration's text: a missing down is the absence of a file, and
# an unreadable file is bytes, not SQL. The corpus has real files for both.
NOT_RUNNABLE = {"missing-down", "unreadable-migration"}


def test_ids_are_stable_kebab_case_and_unique():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", i) for i in ids)


def test_plan_ignores_name_rules_that_exist():
    """`dataward migrate plan` writes ignores for these ids into the files it generates."""
    from dataward.migrate import plan

    for rule_id in (
        plan.DROP_COLUMN,
        plan.RENAME_COLUMN,
        plan.DROP_NOT_NULL,
        plan.VALIDATED_AT_ONCE,
        plan.BACKFILL_WITH_DDL,
        plan.SET_NOT_NULL,
    ):
        assert rule_id in {r.id for r in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_metadata_is_complete(rule):
    for text in (rule.title, rule.what, rule.why, rule.fix):
        assert text.strip() and not text.endswith(" ")
    assert rule.group in GROUPS
    assert rule.bad and rule.good
    assert (rule.check is None) == (rule.kind == "input")


@pytest.mark.parametrize("rule", [r for r in RULES if r.id not in NOT_RUNNABLE], ids=lambda r: r.id)
def test_bad_example_is_caught(rule, tmp_path):
    findings = lint_sql(tmp_path, *rule.bad)
    last = f"{len(rule.bad):04d}_step.up.sql"
    assert rule.id in [f.rule for f in findings if f.file.endswith(last)], findings


@pytest.mark.parametrize("rule", [r for r in RULES if r.id not in NOT_RUNNABLE], ids=lambda r: r.id)
def test_good_example_is_clean_under_every_rule(rule, tmp_path):
    assert rules_of(lint_sql(tmp_path, *rule.good)) == []
