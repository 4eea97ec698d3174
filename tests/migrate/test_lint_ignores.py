"""Inline ignores: where they may stand, what they need, and what they report."""

from __future__ import annotations

from lint_kit import lint_sql, rules_of

SET = "SET lock_timeout = '5s';"
DROP = "ALTER TABLE orders DROP COLUMN legacy_code;"
REASON = "no release reads it since 2.4"


def test_ignore_on_the_line_before(tmp_path):
    assert (
        rules_of(lint_sql(tmp_path, f"{SET}\n-- dataward:ignore drop-column {REASON}\n{DROP}"))
        == []
    )


def test_ignore_among_the_leading_comments(tmp_path):
    sql = f"{SET}\n-- dataward:ignore drop-column {REASON}\n-- (ticket 812)\n\n{DROP}"
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_ignore_at_the_end_of_the_statements_line(tmp_path):
    sql = f"{SET}\n{DROP} -- dataward:ignore drop-column {REASON}"
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_ignore_on_the_last_line_of_a_long_statement(tmp_path):
    sql = f"{SET}\nALTER TABLE orders\n  DROP COLUMN legacy_code; -- dataward:ignore drop-column {REASON}"
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_ignore_covers_only_its_statement(tmp_path):
    sql = (
        f"{SET}\n{DROP} -- dataward:ignore drop-column {REASON}\n"
        "ALTER TABLE orders DROP COLUMN other_code;"
    )
    findings = lint_sql(tmp_path, sql)
    assert [(f.rule, f.line) for f in findings] == [("drop-column", 3)]


def test_ignore_covers_only_its_rule(tmp_path):
    sql = f"-- dataward:ignore drop-column {REASON}\n{DROP}"
    assert rules_of(lint_sql(tmp_path, sql)) == ["missing-lock-timeout"]


def test_several_rules_in_one_ignore(tmp_path):
    sql = f"-- dataward:ignore drop-column,missing-lock-timeout {REASON}\n{DROP}"
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_a_block_comment_ignore(tmp_path):
    sql = f"{SET}\n/* dataward:ignore drop-column {REASON} */\n{DROP}"
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_an_ignore_without_reason_ignores_nothing_and_is_reported(tmp_path):
    findings = lint_sql(tmp_path, f"{SET}\n-- dataward:ignore drop-column\n{DROP}")
    assert [(f.rule, f.line, f.severity.value) for f in findings] == [
        ("ignore-without-reason", 2, "warning"),
        ("drop-column", 3, "warning"),
    ]
    punctuation_only = lint_sql(
        tmp_path / "p", f"{SET}\n-- dataward:ignore drop-column: --\n{DROP}"
    )
    assert "ignore-without-reason" in rules_of(punctuation_only)


def test_an_unknown_rule_is_reported(tmp_path):
    findings = lint_sql(tmp_path, f"{SET}\n-- dataward:ignore drop-collumn {REASON}\n{DROP}")
    assert [(f.rule, f.line) for f in findings] == [("ignore-unknown-rule", 2), ("drop-column", 3)]
    assert "drop-collumn" in findings[0].message
    bare = lint_sql(tmp_path / "b", f"{SET}\n-- dataward:ignore\n{DROP}")
    assert set(rules_of(bare)) == {"ignore-unknown-rule", "ignore-without-reason", "drop-column"}


def test_the_marker_inside_a_string_is_not_an_ignore(tmp_path):
    sql = f"{SET}\n{DROP}\nCOMMENT ON TABLE orders IS '-- dataward:ignore drop-column {REASON}';"
    assert rules_of(lint_sql(tmp_path, sql)) == ["drop-column"]


def test_a_trailing_ignore_does_not_leak_to_the_next_statement(tmp_path):
    sql = f"{SET} -- dataward:ignore drop-column {REASON}\n{DROP}"
    assert rules_of(lint_sql(tmp_path, sql)) == ["drop-column"]


def test_an_empty_down_is_ignored_from_inside_the_down(tmp_path):
    up = "DELETE FROM sessions WHERE expires_at < now();"
    down = "-- dataward:ignore missing-down expired sessions are not restored\n"
    assert rules_of(lint_sql(tmp_path, up, down=down)) == []
    assert rules_of(lint_sql(tmp_path / "x", up, down="-- nothing\n")) == ["missing-down"]


def test_a_missing_down_is_ignored_at_the_top_of_the_up(tmp_path):
    up = "-- dataward:ignore missing-down a one-way data fix\nDELETE FROM sessions WHERE id < 10;"
    assert rules_of(lint_sql(tmp_path, up, down=None)) == []
