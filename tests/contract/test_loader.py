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
    ("operator", "passes", "fails"),
    [
        ("mustBe: 10", 10, 11),
        ("mustNotBe: 3", 10, 3),
        ("mustBeGreaterThan: 1", 2, 1),
        ("mustBeGreaterOrEqualTo: 1", 1, 0),
        ("mustBeLessThan: 100", 99, 100),
        ("mustBeLessOrEqualTo: 100", 100, 101),
        ("mustBeBetween: [1, 100]", 100, 101),
        ("mustNotBeBetween: [50, 60]", 49, 50),
    ],
)
def test_row_count_accepts_every_operator(operator, passes, fails):
    contract = parse_contract(
        contract_text(
            "      - {name: a, physicalType: INTEGER}\n",
            table_extra=f"    quality:\n      - {{type: library, metric: rowCount, {operator}}}\n",
        )
    )
    (check,) = [c for c in compile_checks(contract) if c.kind is CheckKind.ROW_COUNT]
    assert check.passes(passes, passes)
    assert not check.passes(fails, fails)


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


# ---------------------------------------------------------------- found in review


def test_must_not_be_is_a_dataset_rule_not_a_row_rule():
    contract = parse_contract(
        contract_text(
            "      - name: a\n        physicalType: TEXT\n        quality:\n"
            "          - {type: library, metric: nullValues, mustNotBe: 1}\n"
            "          - {type: library, metric: missingValues, mustNotBeBetween: [1, 3]}\n"
        )
    )
    assert {c.scope for c in compile_checks(contract)} == {Scope.DATASET}


def test_offsets_of_bounds_are_normalised_to_utc():
    contract = parse_contract(
        contract_text(
            "      - name: at\n        physicalType: TIMESTAMPTZ\n"
            "        logicalTypeOptions: {minimum: '2024-01-01T02:00:00+02:00'}\n"
        )
    )
    assert contract.table().column("at").minimum == datetime(2024, 1, 1, tzinfo=UTC)
    assert contract.table().column("at").minimum.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("[{value: a}, {value: null}]", "null is not a value to list"),
        ("[{value: 1}, {value: x}]", "not a valid BIGINT"),
    ],
)
def test_enum_values_are_checked_against_the_column_type(values, message):
    physical = "BIGINT" if "x" in values else "TEXT"
    text = contract_text(
        f"      - name: a\n        physicalType: {physical}\n        enum: {values}\n"
    ).replace("v3.1.0", "v3.2.0")
    assert_contract_error(text, message, "enum")


def test_valid_values_are_typed():
    contract = parse_contract(
        contract_text(
            "      - name: a\n        physicalType: DECIMAL(5,2)\n        quality:\n"
            "          - {type: library, metric: invalidValues, arguments: {validValues: [1.5, '2']}, mustBe: 0}\n"
        )
    )
    (check,) = compile_checks(contract)
    assert check.values == (Decimal("1.5"), Decimal("2"))


def test_unknown_logical_type_option_is_refused():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n        logicalTypeOptions:\n          minLenght: 3\n"
    )
    assert_contract_error(text, "logicalTypeOptions.minLenght is not supported", "minLenght")


def test_text_options_on_a_number_are_refused():
    text = contract_text(
        "      - name: a\n        physicalType: DOUBLE\n        logicalTypeOptions:\n          pattern: '^1'\n"
    )
    assert_contract_error(text, "pattern applies to text columns", "pattern")


def test_unknown_argument_is_refused():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n        quality:\n"
        "          - {type: library, metric: invalidValues, arguments: {validValue: [a]}, mustBe: 0}\n"
    )
    assert_contract_error(text, "takes no argument 'validValue'", "validValue")


@pytest.mark.parametrize(
    ("value", "expected"), [("'false'", False), ("true", True), ("'TRUE'", True)]
)
def test_boolean_custom_properties(value, expected):
    contract = parse_contract(
        contract_text(
            "      - name: a\n        physicalType: DOUBLE\n        customProperties:\n"
            f"          - {{property: allowNonFinite, value: {value}}}\n"
        )
    )
    assert contract.table().column("a").allow_non_finite is expected


def test_boolean_custom_property_with_another_value_is_refused():
    text = contract_text(
        "      - {name: a, physicalType: INTEGER}\n",
        extra="customProperties:\n  - {property: requirePrimaryKey, value: sometimes}\n",
    )
    assert_contract_error(text, "requirePrimaryKey must be true or false", "sometimes")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC COUNT(*) FROM ${object}", "does not parse"),
        ("DELETE FROM ${object}", "one SELECT statement"),
        ("SELECT 1; SELECT 2", "one SELECT statement"),
    ],
)
def test_sql_rules_are_checked_when_loaded(query, message):
    text = contract_text(
        "      - {name: a, physicalType: INTEGER}\n",
        table_extra=f'    quality:\n      - {{type: sql, query: "{query}", mustBe: 0}}\n',
    )
    assert_contract_error(text, message, "type: sql")


def test_row_count_in_percent_is_refused():
    text = contract_text(
        "      - {name: a, physicalType: INTEGER}\n",
        table_extra="    quality:\n      - {type: library, metric: rowCount, mustBe: 5, unit: percent}\n",
    )
    assert_contract_error(text, "a percentage has no base", "rowCount")


def test_a_key_column_is_never_null_even_when_its_checks_warn():
    contract = parse_contract(
        contract_text(
            "      - name: id\n        physicalType: BIGINT\n        primaryKey: true\n"
            "        customProperties: [{property: severity, value: warning}]\n"
        )
    )
    checks = {c.id: c for c in compile_checks(contract)}
    assert checks["t.id.not_null"].severity is Severity.ERROR


def test_a_key_given_twice_is_refused_with_its_second_line():
    text = contract_text(
        "      - name: a\n        physicalType: TEXT\n"
        "        logicalTypeOptions: {minLength: 1}\n"
        "        logicalTypeOptions: {maxLength: 3}\n"
    )
    error = assert_contract_error(text, "appears twice", "maxLength")
    assert error.location.path == "schema[0].properties[0].logicalTypeOptions"


def test_engine_dependent_pattern_classes_warn():
    contract = parse_contract(
        contract_text(
            "      - name: zip\n        physicalType: TEXT\n"
            "        logicalTypeOptions: {pattern: '^\\d{5}$'}\n"
            "      - name: code\n        physicalType: TEXT\n"
            "        logicalTypeOptions: {pattern: '^[0-9]{5}$'}\n"
        )
    )
    (warning,) = contract.warnings
    assert "[0-9]" in warning.message and warning.path.startswith("schema[0].properties[0]")
