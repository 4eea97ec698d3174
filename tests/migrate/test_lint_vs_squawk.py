"""`migrate lint` against squawk over the lint corpus (bench/lint_compare.py, the comparison
bench/lint_vs_squawk.py times): agreement on the mapped rules, every disagreement
explained in bench/lint_squawk_map.py, no explanation left from one that went away.

squawk-cli is in the dev extra; a venv without it skips, naming what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))

import lint_compare as lc  # noqa: E402
from lint_squawk_map import EXPLANATIONS, MAPPINGS, SQUAWK_ONLY  # noqa: E402

SQUAWK = lc.squawk_binary()
pytestmark = pytest.mark.skipif(
    SQUAWK is None,
    reason="squawk is not installed: pip install 'squawk-cli>=2.70' (in the dev extra)",
)


@pytest.fixture(scope="module")
def comparison() -> lc.Comparison:
    return lc.compare_corpus()


def test_every_squawk_rule_named_exists():
    assert lc.squawk_unknown_rules(SQUAWK, lc.squawk_rule_names()) == []


def test_every_mapped_dataward_rule_exists():
    from dataward.migrate.lint import all_rules

    known = {r.id for r in all_rules()}
    assert {r for m in MAPPINGS for r in m.dataward} <= known


def test_agreement_on_the_mapped_rules(comparison):
    assert comparison.agreement >= 0.95, f"{comparison.agreement:.2%}"


def test_every_disagreement_is_explained(comparison):
    assert [f"{c.mapping} {c.file} ({c.kind})" for c in comparison.unexplained()] == []


def test_no_explanation_is_stale(comparison):
    assert comparison.stale_explanations() == []


def test_every_explanation_starts_with_a_verdict():
    assert [key for key, text in EXPLANATIONS.items() if not lc.verdict_of(text)] == []


def test_what_is_called_ignored_is_what_dataward_finds_without_its_ignores(comparison):
    assert comparison.misfiled_ignores(lc.dataward_without_ignores()) == []


def test_every_squawk_rule_that_fires_is_mapped_or_explained(comparison):
    assert set(comparison.unmapped_squawk_rules()) <= set(SQUAWK_ONLY)


def test_dataward_is_judged_only_where_both_tools_read_the_file(comparison):
    """The corpus's non-UTF-8 file stops squawk's whole run, so it is not given it; the
    directory holding it dataward refuses as a whole. Neither is a case."""
    assert set(comparison.skipped) == {
        f.path for f in lc.corpus_files() if f.path.startswith("unreadable-migration/bad/")
    }
