"""Strict casts from text (CSV) and from typed sources (Parquet), one type at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from dataward.contract.loader import parse_contract
from dataward.sources.cast import cast_column


def column(physical_type: str, extra: str = ""):
    text = f"""apiVersion: v3.1.0
kind: DataContract
id: urn:t
version: 1.0.0
status: active
{extra}
schema:
  - name: t
    properties:
      - {{name: v, physicalType: "{physical_type}"}}
"""
    return parse_contract(text).table().column("v")


def cast_text(
    physical_type: str, values: list[str | None], extra: str = ""
) -> tuple[list, list[bool], list[str]]:
    col = column(physical_type, extra)
    zone = parse_contract(
        f"apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: '1'\nstatus: a\n{extra}\n"
        "schema: [{name: t, properties: [{name: v, physicalType: TEXT}]}]\n"
    ).default_timezone
    cast = cast_column(col, pl.String(), zone)
    raw = pl.DataFrame({"v": values}, schema={"v": pl.String})
    # As the engine does: cast, derive the failure flag, then explain it from the raw text.
    typed = raw.select(cast.value, pl.col("v").alias("raw")).with_columns(
        cast.failed("raw").alias("failed")
    )
    why = raw.with_columns(typed["failed"]).select(pl.when("failed").then(cast.reason).alias("why"))
    return typed["v"].to_list(), typed["failed"].to_list(), why["why"].to_list()


@pytest.mark.parametrize(
    ("physical_type", "values", "expected", "failed"),
    [
        (
            "SMALLINT",
            ["1", "-32768", "32768", " 7", "1.0"],
            [1, -32768, None, None, None],
            [False, False, True, True, True],
        ),
        (
            "INTEGER",
            ["2147483647", "2147483648", "+5", ""],
            [2147483647, None, 5, None],
            [False, True, False, True],
        ),
        (
            "BIGINT",
            ["9223372036854775807", "abc", None],
            [9223372036854775807, None, None],
            [False, True, False],
        ),
        (
            "DECIMAL(6,2)",
            ["1234.5", "12345.6", "0.125", "1.500", "-.5", "1e3", "."],
            [Decimal("1234.50"), None, None, Decimal("1.50"), Decimal("-0.50"), None, None],
            [False, True, True, False, False, True, True],
        ),
        (
            "DOUBLE",
            ["1.5", "-2e-3", "nan", "inf", "x"],
            [1.5, -0.002, None, None, None],
            [False, False, False, False, True],
        ),
        (
            "BOOLEAN",
            ["true", "F", "yes", "0", "maybe"],
            [True, False, True, False, None],
            [False, False, False, False, True],
        ),
        (
            "DATE",
            ["2024-02-29", "2023-02-29", "29/02/2024"],
            [date(2024, 2, 29), None, None],
            [False, True, True],
        ),
        (
            "TIMESTAMP",
            ["2024-01-01T10:00:00", "2024-01-01 10:00:00.25", "2024-01-01T10:00:00Z"],
            [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 250000), None],
            [False, False, True],
        ),
        (
            "TIMESTAMPTZ",
            ["2024-01-01T10:00:00Z", "2024-01-01T12:00:00+02:00", "2024-01-01T10:00:00"],
            [datetime(2024, 1, 1, 10, tzinfo=UTC), datetime(2024, 1, 1, 10, tzinfo=UTC), None],
            [False, False, True],
        ),
        (
            "UUID",
            ["8d3a0f4e-9b1c-4c1e-8a6f-0b2f6c1d9e11", "nope"],
            ["8d3a0f4e-9b1c-4c1e-8a6f-0b2f6c1d9e11", None],
            [False, True],
        ),
        ("JSON", ['{"a": [1, 2]}', "{broken"], ['{"a": [1, 2]}', None], [False, True]),
        ("VARCHAR(3)", ["abcdef"], ["abcdef"], [False]),  # length is a check, not a cast
    ],
)
def test_text_casts(physical_type, values, expected, failed):
    got, got_failed, reasons = cast_text(physical_type, values)
    if physical_type == "DOUBLE":
        assert got[:2] == expected[:2]
    else:
        assert got == expected
    assert got_failed == failed
    for flag, why in zip(got_failed, reasons, strict=True):
        assert (why is not None) == flag


def test_rounding_reason_is_explicit():
    _, failed, reasons = cast_text("DECIMAL(10,2)", ["1.234"])
    assert failed == [True]
    assert reasons == ["'1.234' has more than 2 decimal places; it would be rounded"]


def test_timestamptz_default_zone_and_dst_gap():
    zone = "customProperties:\n  - {property: defaultTimezone, value: Europe/Lisbon}"
    got, failed, _ = cast_text(
        "TIMESTAMPTZ", ["2024-07-01 12:00:00", "2024-03-31 01:30:00", "2024-07-01T12:00:00Z"], zone
    )
    assert got[0] == datetime(2024, 7, 1, 11, tzinfo=UTC)  # Lisbon is UTC+1 in summer
    assert failed == [False, True, False]  # 01:30 does not exist on the spring-forward night


@pytest.mark.parametrize(
    ("physical_type", "series", "failed"),
    [
        ("INTEGER", pl.Series([1, 2**40], dtype=pl.Int64), [False, True]),
        ("DECIMAL(10,2)", pl.Series([1, 2], dtype=pl.Int64), [False, False]),
        ("DECIMAL(10,2)", pl.Series([1.5, 0.001], dtype=pl.Float64), [False, True]),
        ("TIMESTAMPTZ", pl.Series([datetime(2024, 1, 1)], dtype=pl.Datetime("us")), [True]),
        (
            "TIMESTAMP",
            pl.Series([datetime(2024, 1, 1, tzinfo=UTC)], dtype=pl.Datetime("us", "UTC")),
            [True],
        ),
        (
            "DATE",
            pl.Series([datetime(2024, 1, 1, 5), datetime(2024, 1, 2)], dtype=pl.Datetime("us")),
            [True, False],
        ),
        (
            "TIMESTAMP",
            pl.Series([1_000, 1_001], dtype=pl.Int64).cast(pl.Datetime("ns")),
            [False, True],
        ),
        ("TEXT", pl.Series([b"caf\xc3\xa9", b"caf\xe9"], dtype=pl.Binary), [False, True]),
    ],
)
def test_typed_source_casts(physical_type, series, failed):
    col = column(physical_type)
    cast = cast_column(col, series.dtype, None)
    typed = pl.DataFrame({"v": series}).select(cast.value, pl.col("v").alias("raw"))
    assert typed.select(cast.failed("raw").alias("f"))["f"].to_list() == failed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01 10:00:00+0200", datetime(2024, 1, 1, 8, tzinfo=UTC)),
        ("2024-01-01T10:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00-00:30", datetime(2024, 1, 1, 10, 30, tzinfo=UTC)),
        ("2024-01-01T10:00:00.123456+00:00", datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-01T10:00:00.1234567Z", None),  # would be truncated to microseconds
        ("2024-02-30T10:00:00Z", None),  # no such day
        ("2024-01-01T24:00:00Z", None),
        (" 2024-01-01T10:00:00Z", None),  # surrounding space is not trimmed
        ("2024-01-01T10:00:00 Z", None),
        ("20240101T100000Z", None),  # the basic format is not accepted
    ],
)
def test_iso8601_instants(text, expected):
    got, failed, _ = cast_text("TIMESTAMPTZ", [text])
    assert got == [expected]
    assert failed == [expected is None]


def test_a_bad_value_does_not_change_its_neighbours():
    values = (
        ["2024-01-01T00:00:00Z"] * 50 + ["2024-02-30T00:00:00Z"] + ["2024-01-02T00:00:00Z"] * 50
    )
    got, failed, _ = cast_text("TIMESTAMPTZ", values)
    assert failed == [False] * 50 + [True] + [False] * 50
    assert got[49] == datetime(2024, 1, 1, tzinfo=UTC) and got[51] == datetime(
        2024, 1, 2, tzinfo=UTC
    )


def test_uuids_get_one_spelling():
    got, failed, _ = cast_text(
        "UUID",
        ["8D3A0F4E-9B1C-4C1E-8A6F-0B2F6C1D9E11", "8d3a0f4e9b1c4c1e8a6f0b2f6c1d9e11", "nope"],
    )
    assert got == ["8d3a0f4e-9b1c-4c1e-8a6f-0b2f6c1d9e11"] * 2 + [None]
    assert failed == [False, False, True]


def test_a_date_is_not_mistaken_for_an_offset():
    _, failed, reasons = cast_text("TIMESTAMP", ["2024-01-05", "2024-01-05T10:00:00-05"])
    assert failed == [True, True]
    assert reasons[0] == "'2024-01-05' is not an ISO-8601 timestamp"
    assert "has a UTC offset" in reasons[1]


def test_every_accepted_form_reads_the_same_in_a_batch_with_a_bad_value():
    forms = [
        "2024-01-01T10:00:00Z",
        "2024-01-01 10:00:00+0200",
        "2024-01-01T10:00Z",
        "2024-01-01T10:00:00-00:30",
        "2024-01-01T10:00:00+02",
        "2024-01-01T10:00:00.5+00:00",
    ]
    clean, _, _ = cast_text("TIMESTAMPTZ", forms)
    dirty, failed, _ = cast_text("TIMESTAMPTZ", [*forms, "2024-02-30T00:00:00Z"])
    assert dirty == [*clean, None]
    assert failed == [False] * len(forms) + [True]
    assert None not in clean


def test_a_batch_of_bad_dates_is_all_rejected():
    _, failed, _ = cast_text("DATE", ["2024-02-30"] * 1000 + ["2024-02-29"])
    assert failed == [True] * 1000 + [False]
