"""`diff_contracts`: every classification rule, under backward, forward and full.

Each case is two real contract files on disk, loaded by the real loader, that differ in one
thing. The case states the one change expected and the modes it breaks:
backward (new readers, old data), forward (old readers, new data), full (both).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataward.contract.diff import (
    Change,
    Effect,
    Mode,
    breaking_changes,
    diff_contracts,
)
from dataward.contract.loader import load_contract
from dataward.contract.model import Contract
from dataward.errors import UsageError

MODES = ("backward", "forward", "full")
NONE, BACKWARD, FORWARD, BOTH = "", "backward full", "forward full", "backward forward full"

KEY = {"name": "id", "physicalType": "BIGINT", "primaryKey": True}


def column(physical: str = "INTEGER", **more: Any) -> dict[str, Any]:
    return {"name": "v", "physicalType": physical, **more}


def valid_values(*values: Any, **more: Any) -> dict[str, Any]:
    """An invalidValues rule (`mustBe: 0` unless `more` says otherwise; None drops a key)."""
    rule = {"type": "library", "metric": "invalidValues", "mustBe": 0}
    rule = {**rule, "arguments": {"validValues": list(values)}, **more}
    return {key: value for key, value in rule.items() if value is not None}


def write_contract(
    path: Path, tables: dict[str, list[dict] | dict], **document_keys: Any
) -> Contract:
    schema = []
    for name, spec in tables.items():
        table = {"name": name, **spec} if isinstance(spec, dict) else {"name": name}
        if not isinstance(spec, dict):
            table["properties"] = spec
        schema.append(table)
    document = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "urn:test:diff",
        "version": "1.0.0",
        "status": "active",
        "schema": schema,
        **document_keys,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return load_contract(path)


def pair(tmp_path: Path, old: Any, new: Any) -> tuple[Contract, Contract]:
    """Contracts for two versions; a list is the properties of table t, a dict names tables."""

    def write(path: Path, spec: Any) -> Contract:
        spec, document_keys = spec if isinstance(spec, tuple) else (spec, {})
        tables = spec if isinstance(spec, dict) else {"t": spec}
        return write_contract(path, tables, **document_keys)

    return write(tmp_path / "old.yaml", old), write(tmp_path / "new.yaml", new)


def cols(*columns: dict) -> list[dict]:
    return [KEY, *columns]


TZ_PARIS = {"property": "defaultTimezone", "value": "Europe/Paris"}
TZ_TOKYO = {"property": "defaultTimezone", "value": "Asia/Tokyo"}


def latency(hours: int) -> dict[str, Any]:
    return {"property": "latency", "value": hours, "unit": "h", "element": "t.v"}


# (id, old, new, expected kind, modes it breaks); a version is the properties of table t,
# a dict of tables, or (tables, keys of the contract document).
CASES: list[tuple[str, Any, Any, str, str]] = [
    # tables: a table is always expected to exist, like a required column
    ("table added", {"t": [KEY]}, {"t": [KEY], "u": [KEY]}, "table_added", BACKWARD),
    ("table removed", {"t": [KEY], "u": [KEY]}, {"t": [KEY]}, "table_removed", FORWARD),
    (
        "table physical name",
        {"t": {"physicalName": "t_v1", "properties": [KEY]}},
        {"t": {"physicalName": "t_v2", "properties": [KEY]}},
        "table_physical_name_changed",
        BOTH,
    ),
    # columns: readers ignore columns they do not know
    ("add optional", cols(), cols(column()), "column_added_optional", NONE),
    ("add required", cols(), cols(column(required=True)), "column_added_required", BACKWARD),
    ("remove optional", cols(column()), cols(), "column_removed_optional", NONE),
    ("remove required", cols(column(required=True)), cols(), "column_removed_required", FORWARD),
    # types
    ("INTEGER->BIGINT", cols(column()), cols(column("BIGINT")), "type_widened", FORWARD),
    ("SMALLINT->INTEGER", cols(column("SMALLINT")), cols(column()), "type_widened", FORWARD),
    ("BIGINT->INTEGER", cols(column("BIGINT")), cols(column()), "type_narrowed", BACKWARD),
    ("REAL->DOUBLE", cols(column("REAL")), cols(column("DOUBLE")), "type_widened", FORWARD),
    ("DOUBLE->REAL", cols(column("DOUBLE")), cols(column("REAL")), "type_narrowed", BACKWARD),
    (
        "DECIMAL precision up",
        cols(column("DECIMAL(10,2)")),
        cols(column("DECIMAL(12,2)")),
        "type_widened",
        FORWARD,
    ),
    (
        "DECIMAL both parts up",
        cols(column("DECIMAL(10,2)")),
        cols(column("DECIMAL(12,3)")),
        "type_widened",
        FORWARD,
    ),
    (
        "DECIMAL precision down",
        cols(column("DECIMAL(12,2)")),
        cols(column("DECIMAL(10,2)")),
        "type_narrowed",
        BACKWARD,
    ),
    (
        "DECIMAL scale traded for digits",
        cols(column("DECIMAL(10,2)")),
        cols(column("DECIMAL(10,3)")),
        "type_changed",
        BOTH,
    ),
    (
        "INTEGER->DECIMAL wide",
        cols(column()),
        cols(column("DECIMAL(12,2)")),
        "type_widened",
        FORWARD,
    ),
    (
        "INTEGER->DECIMAL(9,0) holds fewer",
        cols(column()),
        cols(column("DECIMAL(9,0)")),
        "type_narrowed",
        BACKWARD,
    ),
    (
        "INTEGER->DECIMAL with fractions but fewer digits",
        cols(column()),
        cols(column("DECIMAL(9,2)")),
        "type_changed",
        BOTH,
    ),
    (
        "DECIMAL(4,0)->SMALLINT",
        cols(column("DECIMAL(4,0)")),
        cols(column("SMALLINT")),
        "type_widened",
        FORWARD,
    ),
    ("INTEGER->DOUBLE", cols(column()), cols(column("DOUBLE")), "type_widened", FORWARD),
    (
        "BIGINT->DOUBLE loses digits",
        cols(column("BIGINT")),
        cols(column("DOUBLE")),
        "type_changed",
        BOTH,
    ),
    (
        "DECIMAL->DOUBLE rounds",
        cols(column("DECIMAL(10,2)")),
        cols(column("DOUBLE")),
        "type_changed",
        BOTH,
    ),
    ("INT->INT4 same type", cols(column("INT")), cols(column("INT4")), None, NONE),
    ("INTEGER->TEXT", cols(column()), cols(column("TEXT")), "type_changed", BOTH),
    ("DATE->TIMESTAMP", cols(column("DATE")), cols(column("TIMESTAMP")), "type_changed", BOTH),
    (
        "TIMESTAMP->TIMESTAMPTZ guesses a zone",
        cols(column("TIMESTAMP")),
        cols(column("TIMESTAMPTZ")),
        "type_changed",
        BOTH,
    ),
    ("JSON->JSONB", cols(column("JSON")), cols(column("JSONB")), "type_respelled", NONE),
    ("UUID->TEXT", cols(column("UUID")), cols(column("TEXT")), "type_widened", FORWARD),
    ("TEXT->UUID", cols(column("TEXT")), cols(column("UUID")), "type_narrowed", BACKWARD),
    (
        "UUID->VARCHAR(10)",
        cols(column("UUID")),
        cols(column("VARCHAR(10)")),
        "type_changed",
        BOTH,
    ),
    (
        "VARCHAR longer",
        cols(column("VARCHAR(10)")),
        cols(column("VARCHAR(20)")),
        "type_widened",
        FORWARD,
    ),
    ("VARCHAR->TEXT", cols(column("VARCHAR(10)")), cols(column("TEXT")), "type_widened", FORWARD),
    ("TEXT->VARCHAR", cols(column("TEXT")), cols(column("VARCHAR(5)")), "type_narrowed", BACKWARD),
    (
        "VARCHAR(10) is TEXT with maxLength 10",
        cols(column("VARCHAR(10)")),
        cols(column("TEXT", logicalTypeOptions={"maxLength": 10})),
        "type_respelled",
        NONE,
    ),
    # nullability
    ("required added", cols(column()), cols(column(required=True)), "required_added", BACKWARD),
    ("required removed", cols(column(required=True)), cols(column()), "required_removed", FORWARD),
    # keys
    (
        "primary key added",
        [column(required=True)],
        [column(primaryKey=True)],
        "primary_key_added",
        BACKWARD,
    ),
    (
        "primary key removed",
        [column(primaryKey=True)],
        [column(required=True)],
        "primary_key_removed",
        FORWARD,
    ),
    (
        "primary key moved to another column",
        cols(column("BIGINT", required=True)),
        [
            {"name": "id", "physicalType": "BIGINT", "required": True},
            column("BIGINT", primaryKey=True),
        ],
        "primary_key_changed",
        BOTH,
    ),
    (
        "primary key gains a column (weaker uniqueness)",
        cols(column(required=True)),
        cols(column(primaryKey=True, primaryKeyPosition=2)),
        "primary_key_changed",
        FORWARD,
    ),
    (
        "primary key loses a column (stronger uniqueness)",
        cols(column(primaryKey=True, primaryKeyPosition=2)),
        cols(column(required=True)),
        "primary_key_changed",
        BACKWARD,
    ),
    (
        "primary key reordered",
        [
            {**KEY, "primaryKeyPosition": 1},
            column(primaryKey=True, primaryKeyPosition=2),
        ],
        [
            {**KEY, "primaryKeyPosition": 2},
            column(primaryKey=True, primaryKeyPosition=1),
        ],
        "primary_key_reordered",
        NONE,
    ),
    ("unique added", cols(column()), cols(column(unique=True)), "unique_added", BACKWARD),
    ("unique removed", cols(column(unique=True)), cols(column()), "unique_removed", FORWARD),
    # ranges
    (
        "minimum added",
        cols(column()),
        cols(column(logicalTypeOptions={"minimum": 0})),
        "range_tightened",
        BACKWARD,
    ),
    (
        "minimum raised",
        cols(column(logicalTypeOptions={"minimum": 0})),
        cols(column(logicalTypeOptions={"minimum": 10})),
        "range_tightened",
        BACKWARD,
    ),
    (
        "inclusive -> exclusive at the same bound",
        cols(column("DECIMAL(5,2)", logicalTypeOptions={"minimum": 0})),
        cols(column("DECIMAL(5,2)", logicalTypeOptions={"exclusiveMinimum": 0})),
        "range_tightened",
        BACKWARD,
    ),
    (
        "maximum raised",
        cols(column(logicalTypeOptions={"maximum": 100})),
        cols(column(logicalTypeOptions={"maximum": 200})),
        "range_loosened",
        FORWARD,
    ),
    (
        "range removed",
        cols(column(logicalTypeOptions={"minimum": 0, "maximum": 9})),
        cols(column()),
        "range_loosened",
        FORWARD,
    ),
    (
        "range shifted",
        cols(column(logicalTypeOptions={"minimum": 0, "maximum": 100})),
        cols(column(logicalTypeOptions={"minimum": 10, "maximum": 200})),
        "range_changed",
        BOTH,
    ),
    (
        "integer > 4 is >= 5",
        cols(column(logicalTypeOptions={"minimum": 5})),
        cols(column(logicalTypeOptions={"exclusiveMinimum": 4})),
        None,
        NONE,
    ),
    (
        "date maximum later",
        cols(column("DATE", logicalTypeOptions={"maximum": "2024-12-31"})),
        cols(column("DATE", logicalTypeOptions={"maximum": "2025-12-31"})),
        "range_loosened",
        FORWARD,
    ),
    # allowed values (ODCS 3.1 invalidValues; the 3.2 enum counts the same)
    (
        "enum added",
        cols(column("TEXT")),
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        "enum_added",
        BACKWARD,
    ),
    (
        "enum removed",
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        cols(column("TEXT")),
        "enum_removed",
        FORWARD,
    ),
    (
        "enum values added",
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        cols(column("TEXT", quality=[valid_values("a", "b", "c")])),
        "enum_values_added",
        FORWARD,
    ),
    (
        "enum values removed",
        cols(column("TEXT", quality=[valid_values("a", "b", "c")])),
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        "enum_values_removed",
        BACKWARD,
    ),
    (
        "enum values swapped",
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        cols(column("TEXT", quality=[valid_values("a", "c")])),
        "enum_values_changed",
        BOTH,
    ),
    (
        "allowed values rule now only warns",
        cols(column("TEXT", quality=[valid_values("a")])),
        cols(column("TEXT", quality=[valid_values("a", severity="warning")])),
        "enum_removed",
        FORWARD,
    ),
    (
        "ODCS 3.2 enum to the same invalidValues rule",
        cols(column("TEXT", enum=[{"value": "a"}, {"value": "b"}])),
        cols(column("TEXT", quality=[valid_values("b", "a")])),
        None,
        NONE,
    ),
    # patterns and formats: regex inclusion cannot be decided, so a replacement is both
    (
        "pattern added",
        cols(column("TEXT")),
        cols(column("TEXT", logicalTypeOptions={"pattern": "^[A-Z]+$"})),
        "pattern_added",
        BACKWARD,
    ),
    (
        "pattern removed",
        cols(column("TEXT", logicalTypeOptions={"pattern": "^[A-Z]+$"})),
        cols(column("TEXT")),
        "pattern_removed",
        FORWARD,
    ),
    (
        "pattern changed",
        cols(column("TEXT", logicalTypeOptions={"pattern": "^[A-Z]+$"})),
        cols(column("TEXT", logicalTypeOptions={"pattern": "^[A-Z0-9]+$"})),
        "pattern_changed",
        BOTH,
    ),
    (
        "pattern by a quality rule added",
        cols(column("TEXT")),
        cols(
            column(
                "TEXT",
                quality=[
                    {
                        "type": "library",
                        "metric": "invalidValues",
                        "arguments": {"pattern": "^x"},
                        "mustBe": 0,
                    }
                ],
            )
        ),
        "pattern_added",
        BACKWARD,
    ),
    (
        "format added",
        cols(column("TEXT")),
        cols(column("TEXT", logicalTypeOptions={"format": "email"})),
        "format_added",
        BACKWARD,
    ),
    (
        "format removed",
        cols(column("TEXT", logicalTypeOptions={"format": "email"})),
        cols(column("TEXT")),
        "format_removed",
        FORWARD,
    ),
    (
        "format changed",
        cols(column("TEXT", logicalTypeOptions={"format": "email"})),
        cols(column("TEXT", logicalTypeOptions={"format": "uuid"})),
        "format_changed",
        BOTH,
    ),
    # lengths
    (
        "maxLength raised",
        cols(column("TEXT", logicalTypeOptions={"maxLength": 10})),
        cols(column("TEXT", logicalTypeOptions={"maxLength": 20})),
        "length_loosened",
        FORWARD,
    ),
    (
        "minLength added",
        cols(column("TEXT")),
        cols(column("TEXT", logicalTypeOptions={"minLength": 1})),
        "length_tightened",
        BACKWARD,
    ),
    (
        "length window moved",
        cols(column("TEXT", logicalTypeOptions={"minLength": 1, "maxLength": 10})),
        cols(column("TEXT", logicalTypeOptions={"minLength": 2, "maxLength": 20})),
        "length_changed",
        BOTH,
    ),
    (
        "maxLength under a VARCHAR that already held it",
        cols(column("VARCHAR(10)")),
        cols(column("VARCHAR(10)", logicalTypeOptions={"maxLength": 20})),
        None,
        NONE,
    ),
    # severity and non-finite floats
    (
        "severity lowered",
        cols(column(required=True)),
        cols(
            column(required=True, customProperties=[{"property": "severity", "value": "warning"}])
        ),
        "severity_lowered",
        FORWARD,
    ),
    (
        "severity raised",
        cols(column(customProperties=[{"property": "severity", "value": "warning"}])),
        cols(column()),
        "severity_raised",
        BACKWARD,
    ),
    (
        "NaN allowed",
        cols(column("DOUBLE")),
        cols(column("DOUBLE", customProperties=[{"property": "allowNonFinite", "value": True}])),
        "non_finite_allowed",
        FORWARD,
    ),
    # other quality rules: judged by the measurements they accept
    (
        "quality rule added",
        cols(column()),
        cols(column(quality=[{"type": "library", "metric": "nullValues", "mustBeLessThan": 5}])),
        "quality_rule_added",
        BACKWARD,
    ),
    (
        "quality rule removed",
        cols(column(quality=[{"type": "library", "metric": "nullValues", "mustBeLessThan": 5}])),
        cols(column()),
        "quality_rule_removed",
        FORWARD,
    ),
    (
        "null allowance raised",
        cols(column(quality=[{"type": "library", "metric": "nullValues", "mustBeLessThan": 5}])),
        cols(column(quality=[{"type": "library", "metric": "nullValues", "mustBeLessThan": 9}])),
        "quality_threshold_loosened",
        FORWARD,
    ),
    (
        "row count floor raised",
        {"t": {"properties": [KEY], "quality": [{"metric": "rowCount", "mustBeGreaterThan": 1}]}},
        {"t": {"properties": [KEY], "quality": [{"metric": "rowCount", "mustBeGreaterThan": 9}]}},
        "quality_threshold_tightened",
        BACKWARD,
    ),
    (
        "row count window moved",
        {"t": {"properties": [KEY], "quality": [{"metric": "rowCount", "mustBeBetween": [1, 5]}]}},
        {"t": {"properties": [KEY], "quality": [{"metric": "rowCount", "mustBeBetween": [2, 9]}]}},
        "quality_threshold_changed",
        BOTH,
    ),
    (
        "quality rule now only warns",
        cols(column(quality=[{"metric": "nullValues", "mustBe": 0}])),
        cols(column(quality=[{"metric": "nullValues", "mustBe": 0, "severity": "warning"}])),
        "quality_severity_lowered",
        FORWARD,
    ),
    (
        "row rule relaxed to a tolerance",
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        cols(column("TEXT", quality=[valid_values("a", "b", mustBe=None, mustBeLessThan=5)])),
        "quality_threshold_loosened",
        FORWARD,
    ),
    (
        "tolerance tightened to a row rule",
        cols(column("TEXT", quality=[valid_values("a", mustBe=None, mustBeLessThan=5)])),
        cols(column("TEXT", quality=[valid_values("a")])),
        "quality_threshold_tightened",
        BACKWARD,
    ),
    (
        "mustNotBe is never a row rule: tightened to mustBe 0",
        cols(column("TEXT", quality=[valid_values("a", mustBe=None, mustNotBe=3)])),
        cols(column("TEXT", quality=[valid_values("a")])),
        "quality_threshold_tightened",
        BACKWARD,
    ),
    (
        "mustNotBe moved",
        cols(column(quality=[{"metric": "nullValues", "mustNotBe": 3}])),
        cols(column(quality=[{"metric": "nullValues", "mustNotBe": 4}])),
        "quality_threshold_changed",
        BOTH,
    ),
    (
        "mustNotBe 1 widened to accept any count",
        cols(column(quality=[{"metric": "nullValues", "mustNotBe": 1}])),
        cols(column(quality=[{"metric": "nullValues", "mustBeGreaterOrEqualTo": 0}])),
        "quality_threshold_loosened",
        FORWARD,
    ),
    (
        "null share allowance raised",
        cols(column(quality=[{"metric": "nullValues", "mustBeLessThan": 5, "unit": "percent"}])),
        cols(column(quality=[{"metric": "nullValues", "mustBeLessThan": 6, "unit": "percent"}])),
        "quality_threshold_loosened",
        FORWARD,
    ),
    # required: true and a zero-tolerance nullValues rule are one rule
    (
        "required respelled as a nullValues rule",
        cols(column(required=True)),
        cols(column(quality=[{"metric": "nullValues", "mustBe": 0}])),
        None,
        NONE,
    ),
    (
        "nullValues rule respelled as required",
        cols(column(quality=[{"metric": "nullValues", "mustBeLessThan": 1}])),
        cols(column(required=True)),
        None,
        NONE,
    ),
    (
        "required respelled as a rule that only warns",
        cols(column(required=True)),
        cols(column(quality=[{"metric": "nullValues", "mustBe": 0, "severity": "warning"}])),
        "quality_severity_lowered",
        FORWARD,
    ),
    (
        "required respelled as a rule with a tolerance",
        cols(column(required=True)),
        cols(column(quality=[{"metric": "nullValues", "mustBeLessThan": 3}])),
        "quality_threshold_loosened",
        FORWARD,
    ),
    (
        "a null tolerance tightened to required",
        cols(column(quality=[{"metric": "nullValues", "mustBeLessThan": 3}])),
        cols(column(required=True)),
        "quality_threshold_tightened",
        BACKWARD,
    ),
    (
        "required kept, an equivalent nullValues rule added",
        cols(column(required=True)),
        cols(column(required=True, quality=[{"metric": "nullValues", "mustBe": 0}])),
        None,
        NONE,
    ),
    (
        "a nullValues rule becomes required too",
        cols(column(quality=[{"metric": "nullValues", "mustBe": 0}])),
        cols(column(required=True, quality=[{"metric": "nullValues", "mustBe": 0}])),
        None,
        NONE,
    ),
    # contract settings
    (
        "defaultTimezone added",
        {"t": cols(column("TIMESTAMPTZ"))},
        ({"t": cols(column("TIMESTAMPTZ"))}, {"customProperties": [TZ_PARIS]}),
        "default_timezone_added",
        FORWARD,
    ),
    (
        "defaultTimezone removed",
        ({"t": cols(column("TIMESTAMPTZ"))}, {"customProperties": [TZ_PARIS]}),
        {"t": cols(column("TIMESTAMPTZ"))},
        "default_timezone_removed",
        BACKWARD,
    ),
    (
        "defaultTimezone changed",
        ({"t": cols(column("TIMESTAMPTZ"))}, {"customProperties": [TZ_PARIS]}),
        ({"t": cols(column("TIMESTAMPTZ"))}, {"customProperties": [TZ_TOKYO]}),
        "default_timezone_changed",
        BOTH,
    ),
    (
        "defaultTimezone without TIMESTAMPTZ columns",
        {"t": cols(column("TIMESTAMP"))},
        ({"t": cols(column("TIMESTAMP"))}, {"customProperties": [TZ_PARIS]}),
        "default_timezone_added",
        NONE,
    ),
    (
        "freshness added",
        {"t": cols(column("TIMESTAMP"))},
        ({"t": cols(column("TIMESTAMP"))}, {"slaProperties": [latency(4)]}),
        "freshness_added",
        NONE,
    ),
    (
        "freshness latency changed",
        ({"t": cols(column("TIMESTAMP"))}, {"slaProperties": [latency(4)]}),
        ({"t": cols(column("TIMESTAMP"))}, {"slaProperties": [latency(1)]}),
        "freshness_changed",
        NONE,
    ),
    (
        "freshness removed",
        ({"t": cols(column("TIMESTAMP"))}, {"slaProperties": [latency(4)]}),
        {"t": cols(column("TIMESTAMP"))},
        "freshness_removed",
        NONE,
    ),
    # foreign keys
    (
        "foreign key added",
        {"t": cols(column()), "u": [KEY]},
        {"t": cols(column(relationships=[{"type": "foreignKey", "to": "u.id"}])), "u": [KEY]},
        "foreign_key_added",
        BACKWARD,
    ),
    (
        "foreign key removed",
        {"t": cols(column(relationships=[{"type": "foreignKey", "to": "u.id"}])), "u": [KEY]},
        {"t": cols(column()), "u": [KEY]},
        "foreign_key_removed",
        FORWARD,
    ),
    # not a change: descriptions and column order do not change which rows are accepted
    (
        "description and order",
        cols(column(description="old"), {"name": "w", "physicalType": "TEXT"}),
        [{"name": "w", "physicalType": "TEXT"}, column(description="new"), KEY],
        None,
        NONE,
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("old", "new", "kind", "breaks"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(tmp_path, mode, old, new, kind, breaks):
    before, after = pair(tmp_path, old, new)
    changes = diff_contracts(before, after, mode)
    assert [c.kind for c in changes] == ([kind] if kind else []), [c.description for c in changes]
    if kind:
        (change,) = changes
        assert change.breaking is (mode in breaks.split())
        assert [m.value for m in change.breaks] == breaks.split()
        assert breaking_changes(changes) == (changes if change.breaking else [])


def test_the_task_example(tmp_path):
    """Adding a required column breaks backward; widening INTEGER->BIGINT is backward only."""
    before, after = pair(
        tmp_path,
        cols(column()),
        cols(column("BIGINT"), {"name": "w", "physicalType": "TEXT", "required": True}),
    )
    judged = {mode: diff_contracts(before, after, mode) for mode in MODES}
    kinds = {mode: {c.kind: c.breaking for c in changes} for mode, changes in judged.items()}
    assert kinds["backward"] == {"type_widened": False, "column_added_required": True}
    assert kinds["forward"] == {"type_widened": True, "column_added_required": False}
    assert kinds["full"] == {"type_widened": True, "column_added_required": True}


def test_the_same_contract_has_no_changes(tmp_path):
    spec = cols(
        column(
            "DECIMAL(10,2)",
            required=True,
            logicalTypeOptions={"minimum": 0},
            quality=[valid_values(1, 2)],
        )
    )
    before, after = pair(tmp_path, spec, spec)
    for mode in MODES:
        assert diff_contracts(before, after, mode) == []


def test_a_pk_column_gaining_its_key_also_reports_it_is_now_required(tmp_path):
    before, after = pair(tmp_path, [column()], [column(primaryKey=True)])
    changes = diff_contracts(before, after, "backward")
    assert [c.kind for c in changes] == ["required_added", "primary_key_added"]
    assert all(c.breaking for c in changes)


def test_changes_carry_location_values_and_serialize(tmp_path):
    before, after = pair(
        tmp_path,
        cols(column("DECIMAL(10,2)", logicalTypeOptions={"minimum": 0})),
        cols(column("DECIMAL(12,2)", logicalTypeOptions={"minimum": "0.5"})),
    )
    changes = diff_contracts(before, after, "BACKWARD")
    by_kind = {c.kind: c for c in changes}
    widened = by_kind["type_widened"]
    assert (widened.table, widened.column, widened.before, widened.after) == (
        "t",
        "v",
        "DECIMAL(10,2)",
        "DECIMAL(12,2)",
    )
    assert widened.effect is Effect.LOOSENED and not widened.breaking
    assert "DECIMAL(10,2)" in widened.description and "DECIMAL(12,2)" in widened.description
    tightened = by_kind["range_tightened"]
    assert tightened.breaking and tightened.breaks == (Mode.BACKWARD, Mode.FULL)
    for change in changes:
        data = change.to_dict()
        assert json.loads(json.dumps(data)) == data
        assert set(data) >= {"table", "column", "kind", "description", "breaking", "before"}


def test_enum_change_lists_what_was_added_and_removed(tmp_path):
    before, after = pair(
        tmp_path,
        cols(column("TEXT", quality=[valid_values("a", "b")])),
        cols(column("TEXT", quality=[valid_values("a", "c")])),
    )
    (change,) = diff_contracts(before, after, "full")
    assert "'c'" in change.description and "'b'" in change.description
    assert change.to_dict()["before"] == ["a", "b"]


def test_change_is_frozen(tmp_path):
    before, after = pair(tmp_path, cols(), cols(column(required=True)))
    (change,) = diff_contracts(before, after, "full")
    assert isinstance(change, Change)
    with pytest.raises(AttributeError):
        change.breaking = False  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["none", "backward_transitive", ""])
def test_unknown_mode_is_a_usage_error(tmp_path, mode):
    before, after = pair(tmp_path, cols(), cols())
    with pytest.raises(UsageError):
        diff_contracts(before, after, mode)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
_EFFECT_BREAKS = {"tightened": BACKWARD, "loosened": FORWARD, "incompatible": BOTH, "neutral": NONE}


def documented_rules() -> dict[str, set[str]]:
    """kind -> the effects the rule table in docs/contract.md gives it."""
    rules: dict[str, set[str]] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[2] in _EFFECT_BREAKS:
            rules.setdefault(cells[0].strip("`"), set()).add(cells[2])
            marks = ["backward", "forward", "full"]
            shown = " ".join(m for m, cell in zip(marks, cells[3:], strict=True) if cell == "✗")
            assert shown == _EFFECT_BREAKS[cells[2]], line
    return rules


@pytest.mark.parametrize(
    ("kind", "breaks"), [(c[3], c[4]) for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]]
)
def test_rule_table_in_the_docs_matches(kind, breaks):
    effects = documented_rules()[kind]
    assert breaks in {_EFFECT_BREAKS[effect] for effect in effects}
