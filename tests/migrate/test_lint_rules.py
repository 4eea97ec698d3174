"""Rule behaviour beyond the corpus: locations, the SET NOT NULL decision, transactions,
type changes, downs, and what the migration set as a whole shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_kit import lint_sql, rules_of
from pglast import parse_sql

from dataward.migrate.lint.rules.column_types import is_money_name
from dataward.migrate.lint.sqltypes import change_verdict, sql_type

SET = "SET lock_timeout = '5s';"
PK = "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
NT = "-- dataward:no-transaction"


def test_a_column_finding_points_at_the_column_definition(tmp_path):
    sql = f"CREATE TABLE invoices (\n  {PK},\n    amount real NOT NULL\n);"
    (finding,) = lint_sql(tmp_path, sql)
    assert (finding.rule, finding.line, finding.column) == ("float-for-money", 3, 5)


def test_a_statement_finding_points_at_the_statement_after_its_comments(tmp_path):
    sql = f"{SET}\n\n-- the index\n  CREATE INDEX orders_a_idx ON orders (a);"
    (finding,) = lint_sql(tmp_path, sql)
    assert (finding.line, finding.column) == (4, 3)


# SET NOT NULL: each scan under an exclusive lock is reported once, where it comes from.
def test_set_not_null_after_a_check_validated_in_an_earlier_migration(tmp_path):
    add = f"{SET}\nALTER TABLE orders ADD CONSTRAINT c CHECK (region IS NOT NULL) NOT VALID;"
    validate = f"{SET}\nALTER TABLE orders VALIDATE CONSTRAINT c;"
    set_not_null = f"{SET}\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    assert rules_of(lint_sql(tmp_path, add, validate, set_not_null)) == []


def test_set_not_null_after_validate_in_the_same_migration_is_safe(tmp_path):
    """VALIDATE scans under SHARE UPDATE EXCLUSIVE; SET NOT NULL then needs no scan."""
    add = f"{SET}\nALTER TABLE orders ADD CONSTRAINT c CHECK (region IS NOT NULL) NOT VALID;"
    both = f"{SET}\nALTER TABLE orders VALIDATE CONSTRAINT c;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    assert rules_of(lint_sql(tmp_path, add, both)) == []


def test_check_added_and_validated_at_once_is_reported_at_the_add_only(tmp_path):
    sql = (
        f"{SET}\nALTER TABLE orders ADD CONSTRAINT c CHECK (region IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT c;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    )
    findings = lint_sql(tmp_path, sql)
    assert [(f.rule, f.line) for f in findings] == [("constraint-validated-in-same-migration", 2)]
    assert "line 3" in findings[0].message and "ACCESS EXCLUSIVE" in findings[0].message


def test_the_same_steps_outside_a_transaction_are_safe(tmp_path):
    sql = (
        f"{NT}\n{SET}\nALTER TABLE orders ADD CONSTRAINT c CHECK (region IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT c;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    )
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_explicit_begin_commit_is_a_transaction_of_its_own(tmp_path):
    sql = (
        f"{NT}\n{SET}\nBEGIN;\nALTER TABLE orders ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT c;\nCOMMIT;"
    )
    assert rules_of(lint_sql(tmp_path, sql)) == ["constraint-validated-in-same-migration"]


@pytest.mark.parametrize(
    ("check", "flagged"),
    [
        ("region IS NOT NULL AND region <> ''", False),
        ("other IS NOT NULL", True),
        ("region <> ''", True),
    ],
)
def test_which_checks_prove_not_null(tmp_path, check, flagged):
    add = f"{SET}\nALTER TABLE orders ADD CONSTRAINT c CHECK ({check}) NOT VALID;"
    later = f"{SET}\nALTER TABLE orders VALIDATE CONSTRAINT c;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    assert ("set-not-null" in rules_of(lint_sql(tmp_path, add, later))) is flagged


@pytest.mark.parametrize(
    ("old", "new", "verdict"),
    [
        ("varchar(20)", "varchar(40)", "no-rewrite"),
        ("varchar(20)", "varchar", "no-rewrite"),
        ("varchar(20)", "text", "no-rewrite"),
        ("text", "varchar", "no-rewrite"),
        ("varchar(40)", "varchar(20)", "rewrite"),
        ("text", "varchar(20)", "rewrite"),
        ("numeric(12,2)", "numeric(16,2)", "no-rewrite"),
        ("numeric(12,2)", "numeric", "no-rewrite"),
        ("numeric(12,2)", "numeric(16,4)", "rewrite"),
        ("numeric", "numeric(12,2)", "rewrite"),
        ("timestamp(3)", "timestamp(6)", "no-rewrite"),
        ("timestamp", "timestamptz", "utc-only"),
        ("integer", "bigint", "rewrite"),
        ("char(3)", "text", "rewrite"),
        ("cidr", "inet", "no-rewrite"),
        ("integer[]", "bigint[]", "rewrite"),
        ("text", "text", "same"),
    ],
)
def test_type_change_verdicts(old, new, verdict):
    def kind(text: str):
        return sql_type(parse_sql(f"CREATE TABLE t (c {text})")[0].stmt.tableElts[0].typeName)

    assert change_verdict(kind(old), kind(new)) == verdict


def test_timestamp_to_timestamptz_is_a_warning_about_utc(tmp_path):
    create = f"CREATE TABLE logs (\n  {PK},\n  at timestamp -- dataward:ignore timestamp-without-time-zone legacy\n);"
    alter = f"{SET}\nALTER TABLE logs ALTER COLUMN at TYPE timestamptz;"
    (finding,) = lint_sql(tmp_path, create, alter)
    assert finding.rule == "alter-column-type" and finding.severity.value == "warning"
    assert "TimeZone is UTC" in finding.message and "SET TimeZone" in finding.fix


def test_a_type_change_the_migrations_cannot_judge(tmp_path):
    to_text = lint_sql(tmp_path, f"{SET}\nALTER TABLE legacy ALTER COLUMN code TYPE text;")
    assert [(f.rule, f.severity.value) for f in to_text] == [("alter-column-type", "warning")]
    assert "do not show its current type" in to_text[0].message
    to_bigint = lint_sql(tmp_path / "b", f"{SET}\nALTER TABLE legacy ALTER COLUMN n TYPE bigint;")
    assert [(f.rule, f.severity.value) for f in to_bigint] == [("alter-column-type", "error")]


def test_volatile_defaults(tmp_path):
    def severities(default: str) -> list[str]:
        sql = f"{SET}\nALTER TABLE orders ADD COLUMN x text DEFAULT {default};"
        return [
            f.severity.value
            for f in lint_sql(tmp_path / default[:6], sql)
            if f.rule == "add-column-volatile-default"
        ]

    assert severities("random()::text") == ["error"]
    assert severities("now()::text") == []
    assert severities("'constant'") == []
    assert severities("my_function()") == ["warning"]  # VOLATILE unless declared otherwise


@pytest.mark.parametrize(
    ("name", "money"),
    [
        ("amount", True), ("unit_price", True), ("unitPrice", True), ("tax_total", True),
        ("amount_usd", True), ("total_weight", False), ("price_ratio", False), ("score", False),
        ("discount_pct", False), ("priced", False),
    ],
)  # fmt: skip
def test_money_names(name, money):
    assert is_money_name(name) is money


def test_a_down_undoing_its_up_is_not_judged_on_the_running_release(tmp_path):
    up = (
        f"{SET}\nCREATE TABLE notes ({PK});\nALTER TABLE orders ADD COLUMN memo text;\n"
        "ALTER TABLE orders RENAME COLUMN ref TO reference;"
    )
    down = (
        "DROP TABLE notes;\nALTER TABLE orders DROP COLUMN memo;\n"
        "ALTER TABLE orders RENAME COLUMN reference TO ref;\n"
    )
    findings = lint_sql(tmp_path, up, down=f"{SET}\n{down}")
    # The up's rename is reported; the down's drops and rename back are not.
    assert [(f.rule, f.file.endswith(".up.sql")) for f in findings] == [("rename-column", True)]


def test_a_down_still_answers_for_its_locks_and_other_drops(tmp_path):
    up = f"{SET}\nALTER TABLE orders ADD COLUMN memo text;"
    down = f"{SET}\nALTER TABLE orders DROP COLUMN note;\nCREATE INDEX orders_memo_idx ON orders (memo);\n"
    findings = lint_sql(tmp_path, up, down=down)
    assert [(f.rule, f.line) for f in findings] == [
        ("drop-column", 2),
        ("create-index-not-concurrently", 3),
    ]
    assert all(f.file.endswith(".down.sql") for f in findings)


def test_types_are_judged_in_ups_only(tmp_path):
    up = f"{SET}\nALTER TABLE orders DROP COLUMN price; -- dataward:ignore drop-column moved to prices"
    down = f"{SET}\nALTER TABLE orders ADD COLUMN price real;\n"
    assert rules_of(lint_sql(tmp_path, up, down=down)) == []


def test_new_tables_are_left_alone(tmp_path):
    sql = (
        f"CREATE TABLE t (\n  {PK},\n  a text,\n  b bigint\n);\n"
        "CREATE INDEX t_a_idx ON t (a);\nALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b);\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\nALTER TABLE t ADD CONSTRAINT t_b_check CHECK (b > 0);\n"
        "ALTER TABLE t RENAME COLUMN a TO c;\nUPDATE t SET b = 1;\nALTER TABLE t ALTER COLUMN b TYPE numeric;"
    )
    assert rules_of(lint_sql(tmp_path, sql)) == []


def test_a_foreign_key_dropped_later_needs_no_index(tmp_path):
    create = f"{SET}\nCREATE TABLE orders (\n  {PK},\n  customer_id bigint CONSTRAINT orders_customer_fkey REFERENCES customers (id)\n);"
    drop = f"{SET}\nALTER TABLE orders DROP COLUMN customer_id; -- dataward:ignore drop-column gone"
    assert rules_of(lint_sql(tmp_path, create)) == ["missing-foreign-key-index"]
    assert rules_of(lint_sql(tmp_path / "later", create, drop)) == []


def test_int_primary_key_added_to_a_known_column(tmp_path):
    create = "CREATE TABLE codes (n integer NOT NULL, label text);\n-- dataward:ignore missing-primary-key added next"
    # The ignore above sits after the statement: it covers nothing, the finding stays.
    add = f"{SET}\nALTER TABLE codes ADD PRIMARY KEY (n); -- dataward:ignore add-unique-constraint empty table"
    findings = lint_sql(tmp_path, create, add)
    assert [(f.rule, Path(f.file).name) for f in findings] == [
        ("missing-primary-key", "0001_step.up.sql"),
        ("int-primary-key", "0002_step.up.sql"),
    ]


def test_lock_timeout_must_come_first_and_be_positive(tmp_path):
    late = lint_sql(tmp_path, f"ALTER TABLE orders ADD COLUMN a text;\n{SET}")
    assert rules_of(late) == ["missing-lock-timeout"] and late[0].line == 1
    zero = lint_sql(
        tmp_path / "z", "SET lock_timeout = '0';\nALTER TABLE orders ADD COLUMN a text;"
    )
    assert rules_of(zero) == ["missing-lock-timeout"]
    assert "`dataward migrate up` sets lock_timeout itself" in zero[0].message


def test_only_the_reported_migrations_are_linted(tmp_path):
    from lint_kit import write_migrations

    from dataward.migrate.files import discover
    from dataward.migrate.lint import lint

    directory = write_migrations(tmp_path / "m", "TRUNCATE a;", "TRUNCATE b;")
    migrations = discover(directory)
    findings = lint(migrations, report={migrations[1].version})
    assert {Path(f.file).name for f in findings} == {"0002_step.up.sql"}
    assert "truncate-table" in rules_of(findings)
