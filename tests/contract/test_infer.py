"""`infer_contract` on real files: each format, each inferred rule, and every bad input.

Every draft must load with the real loader, and must accept the very sample it was inferred
from when `validate_files` checks it (a draft that rejects its own data is wrong).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from dataward.contract.infer import infer_contract
from dataward.contract.loader import parse_contract
from dataward.contract.model import Column, Contract
from dataward.contract.types import DataType, TypeKind
from dataward.errors import SourceError, UsageError
from dataward.sources import expand_paths
from dataward.validate import validate_files


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return str(path)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join([",".join(header), *(",".join(row) for row in rows)]) + "\n"


def infer_and_check(paths: list[str], **options) -> tuple[str, Contract]:
    """Infer, load with the real loader, and validate the sample against its own draft."""
    text = infer_contract(paths, **options)
    contract = parse_contract(text, "inferred.yaml")
    if options.get("sample_rows") is None:
        result = validate_files(contract, expand_paths(paths))
        failed = [(c.id, c.message) for c in result.checks if not c.passed]
        assert result.rejected == 0 and not failed, (failed, result.examples, text)
    return text, contract


def props(text: str) -> dict[str, dict]:
    document = yaml.safe_load(text)
    return {p["name"]: p for p in document["schema"][0]["properties"]}


def col(contract: Contract, name: str) -> Column:
    return contract.table().column(name)


# ------------------------------------------------------------------------------ CSV


ORDERS = csv_text(
    [
        "order_id",
        "email",
        "amount",
        "qty",
        "big",
        "status",
        "placed_at",
        "local_at",
        "ship_date",
        "paid",
        "ref",
        "zip",
        "ratio",
        "note",
    ],
    [
        [
            str(i + 1),
            f"user{i}@example.com",
            f"{i}.5{i % 10}" if i % 3 else f"-{i}.1",
            str(i * 7),
            str(3_000_000_000 + i),
            ["new", "paid", "shipped"][i % 3],
            f"2024-03-{i % 28 + 1:02d}T10:00:00{'Z' if i % 2 else '+02:00'}",
            f"2024-03-{i % 28 + 1:02d} 08:30:00.25",
            f"2024-04-{i % 30 + 1:02d}",
            "true" if i % 2 else "FALSE",
            f"{i:08x}-3b1a-4c2e-9d7a-1a2b3c4d5e6f",
            f"0{i:04d}",
            f"{i}e-3",
            "" if i % 4 == 0 else f"free text {i}",
        ]
        for i in range(40)
    ],
)


def test_csv_types_keys_ranges_and_values(tmp_path):
    path = write(tmp_path, "orders.csv", ORDERS)
    text, contract = infer_and_check([path])
    table = contract.table()
    assert table.name == "orders"
    assert table.primary_key == ("order_id",)
    types = {c.name: str(c.type) for c in table.columns}
    assert types == {
        "order_id": "INTEGER",
        "email": "TEXT",
        "amount": "DECIMAL(4,2)",
        "qty": "INTEGER",
        "big": "BIGINT",
        "status": "TEXT",
        "placed_at": "TIMESTAMPTZ",
        "local_at": "TIMESTAMP",
        "ship_date": "DATE",
        "paid": "BOOLEAN",
        "ref": "UUID",
        "zip": "TEXT",  # leading zeros: a code, not a number
        "ratio": "DOUBLE",  # exponents
        "note": "TEXT",
    }
    assert col(contract, "order_id").minimum == Decimal(1)
    assert col(contract, "order_id").maximum == Decimal(40)
    assert col(contract, "amount").minimum == Decimal("-39.1")
    assert col(contract, "amount").maximum == Decimal("38.58")
    assert col(contract, "email").format == "email"
    assert col(contract, "ship_date").minimum == date(2024, 4, 1)
    assert col(contract, "placed_at").minimum == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert col(contract, "local_at").maximum == datetime(2024, 3, 28, 8, 30, 0, 250000)
    assert col(contract, "note").required is False
    assert col(contract, "status").required is True
    assert col(contract, "order_id").unique and col(contract, "email").unique
    assert not col(contract, "status").unique
    (rule,) = col(contract, "status").quality
    assert (rule.metric, rule.arguments, str(rule.threshold)) == (
        "invalidValues",
        {"validValues": ["new", "paid", "shipped"]},
        "mustBe 0",
    )
    rendered = props(text)
    assert rendered["order_id"]["logicalType"] == "integer"
    assert rendered["amount"]["logicalType"] == "number"
    assert rendered["placed_at"]["logicalType"] == "timestamp"
    assert rendered["ship_date"]["logicalType"] == "date"
    assert rendered["paid"]["logicalType"] == "boolean"
    assert rendered["ref"]["logicalType"] == "string"
    assert rendered["order_id"]["primaryKeyPosition"] == 1
    assert "enum" not in rendered["status"]  # ODCS 3.1 has no enum: a quality rule instead


def test_draft_is_marked_for_review(tmp_path):
    path = write(tmp_path, "t.csv", csv_text(["a"], [["1"], ["2"]]))
    text = infer_contract([path])
    assert text.startswith("# ")
    header = text.split("apiVersion")[0].lower()
    assert "inferred" in header and "review" in header
    document = yaml.safe_load(text)
    assert document["status"] == "draft"
    assert document["apiVersion"] == "v3.1.0"
    assert document["kind"] == "DataContract"


def test_same_input_gives_the_same_draft(tmp_path):
    path = write(tmp_path, "orders.csv", ORDERS)
    assert infer_contract([path]) == infer_contract([path])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3"], "INTEGER"),
        (["2147483647", "-2147483648"], "INTEGER"),
        (["2147483648"], "BIGINT"),
        (["99999999999999999999"], "DECIMAL(20,0)"),
        (["1" * 39], "TEXT"),  # no exact type holds 39 digits
        (["1.5", "22.25", "-333"], "DECIMAL(5,2)"),
        ([".5", "0.125"], "DECIMAL(3,3)"),
        (["0.0"], "DECIMAL(1,1)"),
        (["1e5", "2.5"], "DOUBLE"),
        (["007", "12"], "TEXT"),
        (["true", "False", "TRUE"], "BOOLEAN"),
        (["1", "true"], "TEXT"),
        (["2024-02-29", "1999-12-31"], "DATE"),
        (["2024-02-30"], "TEXT"),  # not a real day
        (["2024-01-01", "2024-01-01T00:00:00"], "TEXT"),  # a date and a timestamp
        (["2024-01-01T10:00:00.123456Z", "2024-01-01 10:00:00-05:30"], "TIMESTAMPTZ"),
        (["2024-01-01T10:00+05", "2024-01-01T10:00:00-0530"], "TIMESTAMPTZ"),
        (["2024-01-01T10:00:00", "2024-06-01 23:59:59.5"], "TIMESTAMP"),
        (["2024-01-01T10:00", "2024-06-01 23:59:59.123456"], "TIMESTAMP"),
        (["2024-01-01T10:00:00", "2024-01-01T10:00:00Z"], "TEXT"),  # never guess a zone
        # Only the grammar validation parses: no lower-case separators, at most 6 digits.
        (["2024-01-01t10:00:00z"], "TEXT"),
        (["2024-01-01t10:00:00"], "TEXT"),
        (["2024-01-01T10:00:00.123456789Z"], "TEXT"),
        (["2024-01-01T10:00:00.1234567"], "TEXT"),
        (["2024-01-01t10:00:00z", "2024-01-01T10:00:00Z"], "TEXT"),
        (["2024-01-01T24:00:00"], "TEXT"),  # not a real time
        (["6F1C7C1E-3B1A-4C2E-9D7A-1A2B3C4D5E6F"], "UUID"),
        ([" 12"], "TEXT"),
        # Only ASCII digits and letters are numbers, booleans and dates (Polars' regex
        # `\d` and case-insensitivity are Unicode; validation's casts are not).
        (["\u0661\u0662", "\u0663"], "TEXT"),  # Arabic-Indic 12, 3
        (["\u0661\u0662.\u0665"], "TEXT"),
        (["1e\u0665"], "TEXT"),
        (["\u0660\u0667"], "TEXT"),
        (["\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661"], "TEXT"),
        (["\uff11\uff12"], "TEXT"),  # fullwidth 12
        (["fal\u017fe", "true"], "TEXT"),  # a long s folds to s in a (?i) regex
    ],
)
def test_csv_type_inference(tmp_path, values, expected):
    path = write(tmp_path, "v.csv", csv_text(["v"], [[f'"{v}"'] for v in values]))
    _, contract = infer_and_check([path])
    assert str(col(contract, "v").type) == expected


def test_decimal_bounds_are_exact_or_rounded_outward(tmp_path):
    # 12345678901234567.25 has more digits than a YAML float keeps.
    values = ["-12345678901234567.25", "12345678901234567.75", "0.1"]
    path = write(tmp_path, "v.csv", csv_text(["v"], [[v] for v in values]))
    _, contract = infer_and_check([path])
    column = col(contract, "v")
    assert column.type == DataType(TypeKind.DECIMAL, precision=19, scale=2)
    assert column.minimum == Decimal("-12345678901234568")
    assert column.maximum == Decimal("12345678901234568")
    assert column.minimum <= Decimal(values[0]) and Decimal(values[1]) <= column.maximum


def test_nanosecond_text_timestamps_stay_text(tmp_path):
    # Validation refuses more than six fractional digits rather than truncate them.
    values = ["2024-01-01T10:00:00.000000001Z", "2024-01-01T10:00:00.999999999+00:00"]
    path = write(tmp_path, "v.csv", csv_text(["v"], [[v] for v in values]))
    _, contract = infer_and_check([path])
    assert col(contract, "v").type.kind is TypeKind.TEXT


@pytest.mark.parametrize("zone", [None, "UTC"])
def test_nanosecond_parquet_timestamps_stay_text(tmp_path, zone):
    # Contract timestamps hold microseconds; validation refuses to truncate the rest.
    values = [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 999999)]
    ticks = pl.Series("v", values, dtype=pl.Datetime("ns")).to_physical() + 1
    path = str(tmp_path / "v.parquet")
    pl.DataFrame([ticks.cast(pl.Datetime("ns", zone))]).write_parquet(path)
    text, contract = infer_and_check([path])
    assert col(contract, "v").type.kind is TypeKind.TEXT
    assert "nanoseconds" in props(text)["v"]["description"]


def test_whole_microsecond_parquet_nanoseconds_are_timestamps(tmp_path):
    values = [datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 10, 0, 0, 999999)]
    path = str(tmp_path / "v.parquet")
    pl.DataFrame([pl.Series("v", values, dtype=pl.Datetime("ns", "UTC"))]).write_parquet(path)
    _, contract = infer_and_check([path])
    assert col(contract, "v").type.kind is TypeKind.TIMESTAMPTZ
    assert col(contract, "v").minimum == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert col(contract, "v").maximum == datetime(2024, 1, 1, 10, 0, 0, 999999, tzinfo=UTC)


def test_uuids_in_two_spellings_are_not_unique(tmp_path):
    # Validation keeps one spelling per UUID, so these two rows hold the same key.
    upper, lower = "6F1C7C1E-3B1A-4C2E-9D7A-1A2B3C4D5E6F", "6f1c7c1e-3b1a-4c2e-9d7a-1a2b3c4d5e6f"
    path = write(tmp_path, "u.csv", csv_text(["ref_id"], [[upper], [lower]]))
    _, contract = infer_and_check([path])
    assert col(contract, "ref_id").type.kind is TypeKind.UUID
    assert not col(contract, "ref_id").unique
    assert contract.table().primary_key == ()


# Timestamps text that validation's grammar refuses, in every format that carries text: the
# draft must type them TEXT, or the sample would fail its own contract.
ROUND_TRIP = {
    "lower": ["2024-01-01t10:00:00z", "2024-01-02t11:00:00z"],
    "nanos": ["2024-01-01T10:00:00.123456789", "2024-01-02T10:00:00.000000001"],
    "mixed": ["2024-01-01t10:00:00z", "2024-01-01T10:00:00.123456789Z"],
    "aware": ["2024-01-01T10:00:00.123456Z", "2024-01-01 10:00+01"],
    "naive": ["2024-01-01T10:00", "2024-01-01 10:00:00.5"],
    "day": ["2024-02-29", "2024-12-31"],
}
ROUND_TRIP_TYPES = {
    "lower": "TEXT",
    "nanos": "TEXT",
    "mixed": "TEXT",
    "aware": "TIMESTAMPTZ",
    "naive": "TIMESTAMP",
    "day": "DATE",
}


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_a_draft_accepts_its_own_timestamps(tmp_path, fmt):
    columns = list(ROUND_TRIP)
    rows = [dict(zip(columns, row, strict=True)) for row in zip(*ROUND_TRIP.values(), strict=True)]
    if fmt == "csv":
        path = write(
            tmp_path, "t.csv", csv_text(list(ROUND_TRIP), [list(r.values()) for r in rows])
        )
    elif fmt == "ndjson":
        path = write(tmp_path, "t.ndjson", "".join(json.dumps(r) + "\n" for r in rows))
    else:
        path = str(tmp_path / "t.parquet")
        pl.DataFrame(rows).write_parquet(path)
    _, contract = infer_and_check([path])  # validates the sample: zero rejected rows
    assert {c.name: str(c.type) for c in contract.table().columns} == ROUND_TRIP_TYPES


def test_nan_allows_non_finite_and_drops_the_range(tmp_path):
    path = write(tmp_path, "v.csv", csv_text(["v"], [["1.5e0"], ["NaN"], ["inf"]]))
    text, contract = infer_and_check([path])
    column = col(contract, "v")
    assert column.type.kind is TypeKind.DOUBLE
    assert column.allow_non_finite
    assert column.minimum is None and column.maximum is None
    assert "NaN" in props(text)["v"]["description"]


def test_empty_fields_are_nulls_so_the_column_is_optional(tmp_path):
    path = write(tmp_path, "v.csv", 'id,v\n1,""\n2,\n3,4\n')
    _, contract = infer_and_check([path])
    assert col(contract, "v").type.kind is TypeKind.INTEGER
    assert not col(contract, "v").required
    assert not col(contract, "v").unique


def test_all_empty_column_is_text_with_a_note(tmp_path):
    path = write(tmp_path, "v.csv", "id,v\n1,\n2,\n")
    text, contract = infer_and_check([path])
    assert col(contract, "v").type.kind is TypeKind.TEXT
    assert not col(contract, "v").required
    assert "placeholder" in props(text)["v"]["description"]


@pytest.mark.parametrize(
    ("header", "rows", "key"),
    [
        (["name", "customer_id", "id"], [["a", "1", "10"], ["b", "2", "11"]], ("customer_id",)),
        (["ID", "v"], [["1", "x"], ["2", "x"]], ("ID",)),
        (["id", "user_id"], [["1", "5"], ["1", "6"]], ("user_id",)),  # id repeats
        (["id", "v"], [["1", "x"], ["", "y"]], ()),  # id has a null
        (["idea", "v"], [["1", "x"], ["2", "y"]], ()),  # not named like a key
        (["id", "v"], [["1", "x"]], ()),  # one row proves no uniqueness
        (["id", "v"], [["1.5", "x"], ["2.5", "y"]], ("id",)),  # DECIMAL keys are exact
        (["id", "v"], [["1e1", "x"], ["2e1", "y"]], ()),  # floats make poor keys
    ],
)
def test_primary_key_candidate(tmp_path, header, rows, key):
    path = write(tmp_path, "k.csv", csv_text(header, rows))
    _, contract = infer_and_check([path])
    assert contract.table().primary_key == key


@pytest.mark.parametrize(
    ("distinct", "rows", "enumerated"),
    [(3, 30, True), (3, 29, False), (20, 200, True), (21, 1000, False), (1, 10, True)],
)
def test_enumeration_needs_few_values_seen_often(tmp_path, distinct, rows, enumerated):
    values = [[f"v{i % distinct:02d}"] for i in range(rows)]
    path = write(tmp_path, "e.csv", csv_text(["v"], values))
    _, contract = infer_and_check([path])
    rules = col(contract, "v").quality
    assert bool(rules) is enumerated
    if enumerated:
        assert rules[0].arguments["validValues"] == [f"v{i:02d}" for i in range(distinct)]


def test_enumeration_values_that_look_like_other_types_stay_text(tmp_path):
    values = [["yes"], ["no"], ["n/a"]] * 10
    path = write(tmp_path, "e.csv", csv_text(["v"], values))
    text, _ = infer_and_check([path])
    assert props(text)["v"]["quality"][0]["arguments"]["validValues"] == ["n/a", "no", "yes"]


def test_email_format_only_when_every_value_matches(tmp_path):
    path = write(tmp_path, "e.csv", csv_text(["a", "b"], [["x@y.io", "x@y.io"], ["z@w.de", "no"]]))
    _, contract = infer_and_check([path])
    assert col(contract, "a").format == "email"
    assert col(contract, "b").format is None


def test_header_only_csv_gives_optional_text_columns_with_a_note(tmp_path):
    path = write(tmp_path, "h.csv", "id,amount\n")
    text = infer_contract([path])
    contract = parse_contract(text)
    for column in contract.table().columns:
        assert column.type.kind is TypeKind.TEXT
        assert not column.required and not column.unique
    assert contract.table().primary_key == ()
    assert all("no rows" in p["description"] for p in props(text).values())


def test_several_files_combine_by_column_name(tmp_path):
    first = write(tmp_path, "a.csv", csv_text(["id", "v"], [["1", "10"], ["2", "20"]]))
    second = write(tmp_path, "b.csv", csv_text(["id", "w"], [["3", "x"], ["4", "y"]]))
    _, contract = parse_and_keep(infer_contract([first, second]))
    assert [c.name for c in contract.table().columns] == ["id", "v", "w"]
    assert contract.table().primary_key == ("id",)
    assert not col(contract, "v").required and not col(contract, "w").required
    assert col(contract, "id").maximum == Decimal(4)


def test_globs_are_expanded(tmp_path):
    write(tmp_path, "p1.csv", csv_text(["id"], [["1"], ["2"]]))
    write(tmp_path, "p2.csv", csv_text(["id"], [["3"], ["4"]]))
    _, contract = infer_and_check([str(tmp_path / "p*.csv")], table_name="parts")
    assert contract.table().name == "parts"
    assert col(contract, "id").maximum == Decimal(4)


def test_sample_rows_reads_only_the_first_rows(tmp_path):
    rows = [[str(i), "x" if i < 5 else "2024-01-01"] for i in range(10)]
    path = write(tmp_path, "s.csv", csv_text(["id", "v"], rows))
    text, contract = infer_and_check([path], sample_rows=3)
    assert col(contract, "id").maximum == Decimal(2)
    assert "3 rows" in text.splitlines()[0]


def test_sample_rows_spans_files(tmp_path):
    first = write(tmp_path, "a.csv", csv_text(["id"], [["1"], ["2"]]))
    second = write(tmp_path, "b.csv", csv_text(["id"], [["3"], ["4"]]))
    _, contract = infer_and_check([first, second], sample_rows=3)
    assert col(contract, "id").maximum == Decimal(3)


def parse_and_keep(text: str) -> tuple[str, Contract]:
    return text, parse_contract(text)


# ---------------------------------------------------------------------------- NDJSON


def test_ndjson_uses_json_kinds_and_the_written_digits(tmp_path):
    records = [
        {
            "id": i,
            "price": Decimal(f"{i}.50"),
            "code": f"{i:05d}",
            "digits": str(i),
            "day": f"2024-05-{i + 1:02d}",
            "active": i % 2 == 0,
            "tags": ["a", "b"][: i % 3],
            "meta": {"k": i},
            "maybe": None if i % 2 else i,
            "mixed": i if i % 2 else "x",
            "big": 10**12 + i,
            "score": Decimal("1.5E+3") if i % 2 else 2,
        }
        for i in range(12)
    ]
    body = "".join(_json_line(r) for r in records)
    path = write(tmp_path, "events.ndjson", body)
    text, contract = infer_and_check([path])
    types = {c.name: str(c.type) for c in contract.table().columns}
    assert types == {
        "id": "INTEGER",
        "price": "DECIMAL(4,2)",  # 12.50 keeps its two places
        "code": "TEXT",  # a JSON string of digits is a code
        "digits": "TEXT",
        "day": "DATE",
        "active": "BOOLEAN",
        "tags": "JSON",
        "meta": "JSON",
        "maybe": "INTEGER",
        "mixed": "TEXT",
        "big": "BIGINT",
        "score": "DOUBLE",
    }
    assert contract.table().primary_key == ("id",)
    assert not col(contract, "maybe").required
    assert col(contract, "price").maximum == Decimal("11.5")
    rendered = props(text)
    assert rendered["tags"]["logicalType"] == "array"
    assert rendered["meta"]["logicalType"] == "object"
    assert "several JSON kinds" in rendered["mixed"]["description"]


def _json_line(record: dict) -> str:
    # json.dumps cannot write a Decimal as a number; write those digits as they are.
    parts = []
    for key, value in record.items():
        shown = str(value) if isinstance(value, Decimal) else json.dumps(value)
        parts.append(f"{json.dumps(key)}: {shown}")
    return "{" + ", ".join(parts) + "}\n"


def test_ndjson_record_missing_a_key_makes_it_optional(tmp_path):
    path = write(tmp_path, "e.jsonl", '{"id": 1, "v": "a"}\n\n{"id": 2}\n')
    _, contract = infer_and_check([path])
    assert not col(contract, "v").required
    assert col(contract, "id").required


# --------------------------------------------------------------------------- Parquet


def test_parquet_keeps_its_types(tmp_path):
    frame = pl.DataFrame(
        {
            "id": pl.Series([1, 2, 3], dtype=pl.Int64),
            "small": pl.Series([1, 2, 3], dtype=pl.Int16),
            "mid": pl.Series([1, 2, 3], dtype=pl.Int32),
            "huge": pl.Series([1, 2, 2**64 - 1], dtype=pl.UInt64),
            "amount": pl.Series(
                [Decimal("1.500"), Decimal("-2.250"), None], dtype=pl.Decimal(12, 3)
            ),
            "ratio": pl.Series([0.1, 0.2, 0.3], dtype=pl.Float32),
            "score": [1.0, 2.5, 3.25],
            "ok": [True, False, True],
            "day": [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)],
            "at": pl.Series(
                [datetime(2024, 1, 1, 12, tzinfo=UTC)] * 3, dtype=pl.Datetime("us", "UTC")
            ),
            "local": [datetime(2024, 1, 1, 12)] * 3,
            "text_day": ["2024-01-01", "2024-01-02", None],
            "name": ["a", "b", "c"],
        }
    )
    path = str(tmp_path / "facts.parquet")
    frame.write_parquet(path)
    _, contract = infer_and_check([path])
    types = {c.name: str(c.type) for c in contract.table().columns}
    assert types == {
        "id": "BIGINT",  # the writer chose 64 bits
        "small": "SMALLINT",
        "mid": "INTEGER",
        "huge": "DECIMAL(20,0)",
        "amount": "DECIMAL(12,3)",
        "ratio": "REAL",
        "score": "DOUBLE",
        "ok": "BOOLEAN",
        "day": "DATE",
        "at": "TIMESTAMPTZ",
        "local": "TIMESTAMP",
        "text_day": "DATE",
        "name": "TEXT",
    }
    assert contract.table().primary_key == ("id",)
    assert col(contract, "amount").minimum == Decimal("-2.25")
    assert not col(contract, "amount").required
    assert col(contract, "huge").maximum == Decimal(2**64 - 1)
    assert col(contract, "at").maximum == datetime(2024, 1, 1, 12, tzinfo=UTC)


def test_parquet_nested_columns_are_json(tmp_path):
    # Loaded but not validated: the Parquet cast does not yet turn nested values into JSON.
    path = str(tmp_path / "nested.parquet")
    pl.DataFrame({"items": [[1], [2, 3]], "meta": [{"k": 1}, {"k": 2}]}).write_parquet(path)
    text = infer_contract([path])
    contract = parse_contract(text)
    assert str(col(contract, "items").type) == "JSON"
    assert str(col(contract, "meta").type) == "JSON"
    assert props(text)["items"]["logicalType"] == "array"
    assert props(text)["meta"]["logicalType"] == "object"


def test_parquet_types_without_a_contract_type_are_text_validation_reads(tmp_path):
    frame = pl.DataFrame(
        {
            "at": [time(1, 2, 3), time(23, 59, 59)],
            "raw": pl.Series([b"caf\xc3\xa9", b"ok"], dtype=pl.Binary),
        }
    )
    path = str(tmp_path / "odd.parquet")
    frame.write_parquet(path)
    text, contract = infer_and_check([path])
    assert str(col(contract, "at").type) == "TEXT"
    assert str(col(contract, "raw").type) == "TEXT"
    assert "Binary has no contract type" in props(text)["raw"]["description"]


@pytest.mark.parametrize("rows", [True, False])
def test_parquet_duration_is_refused_naming_the_column(tmp_path, rows):
    schema = {"id": pl.Int32, "wait": pl.Duration("us")}
    data = {"id": [1, 2], "wait": [timedelta(seconds=1), timedelta(days=2)]} if rows else None
    path = str(tmp_path / "waits.parquet")
    pl.DataFrame(data, schema=schema).write_parquet(path)
    with pytest.raises(SourceError) as caught:
        infer_contract([path])
    assert caught.value.location.file == path
    assert "'wait'" in caught.value.message and "duration" in caught.value.message


def test_parquet_bytes_that_are_not_utf8_are_refused_naming_the_column(tmp_path):
    blobs = pl.Series([b"fine", None, b"\xff\xfe"], dtype=pl.Binary)
    path = str(tmp_path / "blobs.parquet")
    pl.DataFrame({"id": [1, 2, 3], "blob": blobs}).write_parquet(path)
    with pytest.raises(SourceError) as caught:
        infer_contract([path])
    assert caught.value.location.file == path
    assert caught.value.location.row == 3
    assert "'blob'" in caught.value.message and "UTF-8" in caught.value.message


def test_parquet_without_rows_keeps_types_and_notes_it(tmp_path):
    path = str(tmp_path / "empty.parquet")
    pl.DataFrame(schema={"id": pl.Int32, "v": pl.String}).write_parquet(path)
    text = infer_contract([path])
    contract = parse_contract(text)
    assert str(col(contract, "id").type) == "INTEGER"
    assert not col(contract, "id").required
    assert "no rows" in props(text)["id"]["description"]


# ------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("empty.ndjson", b"\n\n", "empty"),
        ("empty.parquet", b"", "Parquet"),
        ("bad.parquet", b"not parquet at all", "Parquet"),
        ("latin1.csv", "id,name\n1,Jos\xe9\n".encode("latin-1"), "UTF-8"),
        ("ragged.csv", b"a,b\n1,2\n1,2,3\n", "fields"),
        ("broken.ndjson", b'{"a": 1}\n{"a": \n', "malformed JSON"),
        ("list.ndjson", b"[1, 2]\n", "JSON object"),
        # What validation's NDJSON reader refuses, the draft refuses too.
        ("twice.ndjson", b'{"a": 1, "a": 2}\n', "appears twice"),
        ("nan.ndjson", b'{"a": NaN}\n', "NaN"),
        ("data.xlsx", b"whatever", "format"),
    ],
)
def test_unreadable_input_is_a_source_error_naming_the_file(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(SourceError) as caught:
        infer_contract([path])
    assert caught.value.location.file == path
    assert message in caught.value.message


def test_missing_file_is_a_source_error(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(SourceError) as caught:
        infer_contract([path])
    assert caught.value.location.file == path


def test_files_of_different_formats_are_refused(tmp_path):
    first = write(tmp_path, "a.csv", "id\n1\n")
    second = write(tmp_path, "b.ndjson", '{"id": 1}\n')
    with pytest.raises(SourceError) as caught:
        infer_contract([first, second])
    assert caught.value.location.file == second


@pytest.mark.parametrize("options", [{"paths": []}, {"sample_rows": 0}])
def test_bad_arguments_are_usage_errors(tmp_path, options):
    path = write(tmp_path, "a.csv", "id\n1\n")
    arguments = {"paths": [path], **options}
    with pytest.raises(UsageError):
        infer_contract(**arguments)
