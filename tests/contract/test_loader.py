"""Loading ODCS contracts: every supported feature, and every bad input named precisely."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dataward.checks import CheckKind, Scope, compile_checks
from dataward.contract.loader import load_contract, parse_contract
from dataward.contract.model import Severity, Unit
from dataward.errors import ContractError, ExitCode

HEAD = """apiVersion: v3.1.0
kind: DataContract
id: urn:test:c
version: 1.0.0
status: active
"""


def contract_text(properties: str, extra: str = "", table_extra: str = "") -> str:
    return HEAD + extra + "schema:\n  - name: t\n    properties:\n" + properties + table_extra


def test_full_contract_loads(tmp_path: Path):
    text = contract_text(
        """      - name: id
        physicalType: BIGINT
        primaryKey: true
        primaryKeyPosition: 2
      - name: region
        physicalType: VARCHAR(2)
        primaryKey: true
        primaryKeyPosition: 1
      - name: amount
        physicalType: DECIMAL(12,2)
        required: true
        logicalTypeOptions: {minimum: 0, exclusiveMaximum: 1000000}
      - name: email
        physicalType: TEXT
        unique: true
        logicalTypeOptions: {format: email, minLength: 3, maxLength: 200}
      - name: at
        physicalType: TIMESTAMPTZ
        logicalTypeOptions: {minimum: "2020-01-01T00:00:00Z"}
      - name: day
        physicalType: DATE
        logicalTypeOptions: {maximum: "2030-12-31"}
      - name: status
        physicalType: TEXT
        quality:
          - {type: library, metric: invalidValues, arguments: {validValues: [a, b]}, mustBe: 0}
          - {type: library, metric: nullValues, mustBeLessThan: 5, unit: percent, severity: warning}
""",
        extra="slaProperties:\n  - {property: latency, value: 4, unit: h, element: t.at}\n",
        table_extra="""    quality:
      - {type: library, metric: rowCount, mustBeGreaterOrEqualTo: 10}
      - {type: sql, query: "SELECT COUNT(*) FROM ${object} WHERE amount > 100", mustBeLessThan: 3}
""",
    )
    path = tmp_path / "c.yaml"
    path.write_text(text)
    contract = load_contract(path)
    table = contract.table()
    assert table.primary_key == ("region", "id")
    amount = table.column("amount")
    assert amount.minimum == Decimal(0) and amount.exclusive_maximum == Decimal(1000000)
    assert table.column("at").minimum == datetime(2020, 1, 1, tzinfo=UTC)
    assert table.column("day").maximum == date(2030, 12, 31)
    assert contract.freshness is not None
    assert contract.freshness.latency == timedelta(hours=4)
    assert contract.freshness.column == "at"
    checks = {c.id: c for c in compile_checks(contract)}
    assert checks["t.status.invalidValues"].kind is CheckKind.ACCEPTED_VALUES
    assert checks["t.status.invalidValues"].scope is Scope.ROW
    nulls = checks["t.status.nullValues"]
    assert (nulls.scope, nulls.severity, nulls.unit) == (
        Scope.DATASET,
        Severity.WARNING,
        Unit.PERCENT,
    )
    assert checks["t.rowCount"].kind is CheckKind.ROW_COUNT
    assert checks["t.sql"].kind is CheckKind.SQL
    assert checks["t.primary_key"].columns == ("region", "id")
    assert checks["t.email.unique"].kind is CheckKind.UNIQUE
    assert checks["t.at.freshness"].latency == timedelta(hours=4)


def test_version_3_2_enum_and_3_1_valid_values_give_the_same_check():
    v32 = parse_contract(
        HEAD.replace("v3.1.0", "v3.2.0")
        + "schema:\n  - name: t\n    properties:\n"
        + "      - {name: s, physicalType: TEXT, enum: [{value: a}, {value: b}]}\n"
    )
    v31 = parse_contract(
        contract_text(
            "      - name: s\n        physicalType: TEXT\n        quality:\n"
            "          - {type: library, metric: invalidValues, arguments: {validValues: [a, b]}, mustBe: 0}\n"
        )
    )
    (enum_check,) = compile_checks(v32)
    (valid_check,) = compile_checks(v31)
    assert enum_check.kind is valid_check.kind is CheckKind.ACCEPTED_VALUES
    assert enum_check.values == valid_check.values == ("a", "b")


@pytest.mark.parametrize(
    "operator",
    [
        "mustBe: 10",
        "mustNotBe: 3",
        "mustBeGreaterThan: 1",
        "mustBeGreaterOrEqualTo: 1",
        "mustBeLessThan: 100",
        "mustBeLessOrEqualTo: 100",
        "mustBeBetween: [1, 100]",
        "mustNotBeBetween: [50, 60]",
    ],
)
def test_row_count_accepts_every_operator(operator):
    contract = parse_contract(
        contract_text(
            "      - {name: a, physicalType: INTEGER}\n",
            table_extra=f"    quality:\n      - {{type: library, metric: rowCount, {operator}}}\n",
        )
    )
    (check,) = [c for c in compile_checks(contract) if c.kind is CheckKind.ROW_COUNT]
    assert check.passes(10, 10)


def test_between_is_inclusive():
    contract = parse_contract(
        contract_text(
            "      - {name: a, physicalType: INTEGER}\n",
            table_extra="    quality:\n      - {type: library, metric: rowCount, mustBeBetween: [5, 10]}\n",
        )
    )
    (check,) = compile_checks(contract)
    assert [check.passes(n, n) for n in (4, 5, 10, 11)] == [False, True, True, False]


def test_percent_unit_measures_a_share_of_rows():
    contract = parse_contract(
        contract_text(
            "      - name: a\n        physicalType: INTEGER\n        quality:\n"
            "          - {type: library, metric: nullValues, mustBeLessOrEqualTo: 10, unit: percent}\n"
        )
    )
    (check,) = compile_checks(contract)
    assert check.passes(10, 100) and not check.passes(11, 100)


def test_money_like_double_is_allowed_with_a_warning():
    contract = parse_contract(
        contract_text(
            "      - {name: unit_price, physicalType: DOUBLE}\n"
            "      - {name: temperature, physicalType: REAL}\n"
        )
    )
    assert contract.table().column("unit_price").type.kind.value == "DOUBLE"
    (warning,) = contract.warnings
    assert "'unit_price' looks like money" in warning.message
    assert warning.line == 9
    assert warning.path == "schema[0].properties[0].physicalType"


def test_relationship_to_another_table():
    text = (
        HEAD
        + """schema:
  - name: customers
    properties:
      - {name: id, physicalType: BIGINT, primaryKey: true}
  - name: orders
    properties:
      - name: customer_id
        physicalType: BIGINT
        relationships: [{type: foreignKey, to: customers.id}]
"""
    )
    contract = parse_contract(text)
    (fk,) = contract.table("orders").foreign_keys
    assert (fk.columns, fk.referenced_table, fk.referenced_columns) == (
        ("customer_id",),
        "customers",
        ("id",),
    )


# ---------------------------------------------------------------- bad inputs


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing `needle`."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def assert_contract_error(text: str, message: str, at: str | int):
    """The error's message, file and line; `at` is the text on the offending line."""
    with pytest.raises(ContractError) as caught:
        parse_contract(text, "bad.yaml")
    error = caught.value
    assert message in error.message, error.message
    assert error.location.file == "bad.yaml"
    assert error.location.line == (at if isinstance(at, int) else line_of(text, at))
    assert error.exit_code is ExitCode.USAGE
    return error


def test_malformed_yaml_names_line_and_column():
    error = assert_contract_error(
        HEAD + "schema: [\n  - name: t\n    : :\n", "malformed YAML", "- name: t"
    )
    assert error.location.column is not None


def test_unknown_key_names_its_line_and_path():
    text = (
        contract_text("      - {name: a, physicalType: INTEGER}\n        \n") + "    colour: blue\n"
    )
    error = assert_contract_error(text, "unknown key 'colour'", "colour")
    assert error.location.path == "schema[0].colour"


def test_unknown_key_on_a_property():
    text = contract_text("      - name: a\n        physicalType: INTEGER\n        nullable: true\n")
    error = assert_contract_error(text, "unknown key 'nullable'", "nullable")
    assert error.location.path == "schema[0].properties[0].nullable"


def test_unsupported_physical_type():
    text = contract_text("      - name: a\n        physicalType: MONEY\n")
    error = assert_contract_error(text, "unsupported physical type 'MONEY'", "MONEY")
    assert error.location.path == "schema[0].properties[0].physicalType"


def test_missing_physical_type():
    assert_contract_error(contract_text("      - name: a\n"), "has no physicalType", "name: a")


def test_invalid_regex_pattern():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n        logicalTypeOptions:\n"
        "          pattern: '[a-z'\n"
    )
    error = assert_contract_error(text, "not a valid regular expression", "pattern:")
    assert error.location.path == "schema[0].properties[0].logicalTypeOptions.pattern"


def test_pattern_other_engines_cannot_run_is_refused():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n        logicalTypeOptions:\n"
        "          pattern: '^(?!x)'\n"
    )
    assert_contract_error(text, "not a valid regular expression", "pattern:")


def test_required_primary_key_missing():
    text = contract_text(
        "      - {name: a, physicalType: INTEGER}\n",
        extra="customProperties:\n  - {property: requirePrimaryKey, value: true}\n",
    )
    assert_contract_error(text, "has no primary key", "- name: t")


def test_bound_of_the_wrong_type():
    text = contract_text(
        "      - name: a\n        physicalType: DATE\n        logicalTypeOptions: {minimum: soon}\n"
    )
    assert_contract_error(text, "not a valid DATE", "minimum")


def test_timestamptz_bound_without_offset():
    text = contract_text(
        "      - name: a\n        physicalType: TIMESTAMPTZ\n"
        "        logicalTypeOptions: {minimum: '2020-01-01T00:00:00'}\n"
    )
    assert_contract_error(text, "needs a UTC offset", "minimum")


def test_quality_rule_without_threshold():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n        quality:\n"
        "          - {type: library, metric: nullValues}\n"
    )
    assert_contract_error(text, "needs exactly one of", "metric: nullValues")


def test_unknown_library_metric():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n        quality:\n"
        "          - {type: library, metric: freshness, mustBe: 0}\n"
    )
    assert_contract_error(text, "library metric 'freshness' is not supported", "freshness")


def test_unknown_time_zone():
    text = contract_text(
        "      - {name: a, physicalType: TIMESTAMPTZ}\n",
        extra="customProperties:\n  - {property: defaultTimezone, value: Mars/Olympus}\n",
    )
    assert_contract_error(text, "unknown time zone", "Mars")


def test_not_a_mapping():
    assert_contract_error("- just\n- a list\n", "must be a YAML mapping", 1)


def test_missing_file(tmp_path: Path):
    with pytest.raises(ContractError, match="not found"):
        load_contract(tmp_path / "nope.yaml")


def test_unsupported_api_version():
    text = contract_text("      - {name: a, physicalType: INTEGER}\n").replace("v3.1.0", "v2.2.2")
    assert_contract_error(text, "apiVersion 'v2.2.2' is not supported", 1)
