"""`validate_files` on real files: formats, CSV dialects, casts, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataward.contract.loader import parse_contract
from dataward.errors import ExitCode, SourceError
from dataward.sources import expand_paths
from dataward.validate import validate_files

CONTRACT = """apiVersion: v3.1.0
kind: DataContract
id: urn:test:v
version: 1.0.0
status: active
{extra}
schema:
  - name: orders
    properties:
      - {{name: id, physicalType: BIGINT, primaryKey: true}}
      - name: amount
        physicalType: DECIMAL(10,2)
        required: true
        logicalTypeOptions: {{exclusiveMinimum: 0}}
      - name: at
        physicalType: TIMESTAMPTZ
      - name: note
        physicalType: TEXT
      - name: score
        physicalType: DOUBLE
"""
HEADER = "id,amount,at,note,score\n"


def contract(extra: str = ""):
    return parse_contract(CONTRACT.format(extra=extra), "c.yaml")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def run(path: Path | list[Path], extra: str = "", **options):
    paths = [str(p) for p in (path if isinstance(path, list) else [path])]
    return validate_files(contract(extra), expand_paths(paths), **options)


def rejected_rows(result_path: Path) -> list[tuple[int, int | None, list[str]]]:
    frame = pl.read_parquet(result_path)
    return [
        (r["_dw_source_row"], r["_dw_source_line"], [x["check"] for x in r["reasons"]])
        for r in frame.iter_rows(named=True)
    ]


def test_clean_csv_passes(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + "1,1.50,2024-01-01T00:00:00Z,x,0.5\n2,2,,,\n")
    result = run(path)
    assert result.ok and result.rows == 2 and result.rejected == 0


def test_rejects_keep_source_line_and_reasons(tmp_path):
    path = write(
        tmp_path,
        "a.csv",
        HEADER
        + "1,1.50,2024-01-01T00:00:00Z,x,0.5\n"
        + '2,-3,2024-01-01T00:00:00Z,"two\nlines",1\n'
        + "3,1.999,2024-01-01T00:00:00Z,x,1\n"
        + "4,5,2024-01-01 10:00:00,x,1\n",
    )
    rejects = tmp_path / "rejects.parquet"
    result = run(path, rejects_path=rejects)
    assert not result.ok and result.rejected == 3
    assert rejected_rows(rejects) == [
        (2, 3, ["orders.amount.range"]),
        (3, 5, ["orders.amount.type"]),  # the quoted newline moves later lines down
        (4, 6, ["orders.at.type"]),
    ]
    frame = pl.read_parquet(rejects)
    assert frame["amount"].to_list() == ["-3", "1.999", "5"]  # original text kept
    reason = frame.row(1, named=True)["reasons"][0]
    assert reason["value"] == "1.999" and "would be rounded" in reason["message"]
    assert frame["_dw_source"].to_list() == [str(path)] * 3


def test_decimal_is_never_rounded_but_trailing_zeros_are_fine(tmp_path):
    path = write(
        tmp_path, "a.csv", HEADER + "1,1.2300,,,\n2,1.234,,,\n3,123456789.9,,,\n4,1e3,,,\n"
    )
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    assert [r[0] for r in rejected_rows(rejects)] == [2, 3, 4]
    assert result.rejected == 3


def test_timestamptz_needs_an_offset_unless_a_default_zone_is_named(tmp_path):
    path = write(
        tmp_path, "a.csv", HEADER + "1,1,2024-03-10 02:30:00,,\n2,1,2024-07-01 12:00:00,,\n"
    )
    assert run(path).rejected == 2
    zone = "customProperties:\n  - {property: defaultTimezone, value: America/New_York}"
    # 02:30 on 2024-03-10 does not exist in New York (clocks jump): still rejected.
    result = run(path, extra=zone)
    assert result.rejected == 1


def test_csv_dialects_bom_crlf_delimiter_quotes(tmp_path):
    content = '\ufeffid;amount;at;note;score\r\n1;2.5;;"a;b ""q""";\r\n2;3;;;\r\n'
    path = write(tmp_path, "a.csv", content)
    files = expand_paths([str(path)], delimiter=";")
    result = validate_files(contract(), files, rejects_path=tmp_path / "r.parquet")
    assert result.ok and result.rows == 2


def test_tsv_by_extension(tmp_path):
    path = write(tmp_path, "a.tsv", "id\tamount\tat\tnote\tscore\n1\t2\t\t\t\n")
    assert run(path).ok


def test_glob_reads_every_file_in_order(tmp_path):
    write(tmp_path, "p1.csv", HEADER + "1,1,,,\n")
    write(tmp_path, "p2.csv", HEADER + "1,1,,,\n")
    rejects = tmp_path / "r.parquet"
    result = validate_files(
        contract(), expand_paths([str(tmp_path / "p*.csv")]), rejects_path=rejects
    )
    assert result.rows == 2 and result.rejected == 2  # the key repeats across files
    assert sorted(pl.read_parquet(rejects)["_dw_source"].to_list()) == [
        str(tmp_path / "p1.csv"),
        str(tmp_path / "p2.csv"),
    ]


def test_ndjson_with_line_numbers(tmp_path):
    lines = [
        {"id": 1, "amount": 2.5, "at": "2024-01-01T00:00:00Z", "note": {"nested": True}},
        {"id": 2, "amount": -1},
        {"id": 3, "amount": 0.123},
    ]
    content = (
        "\n".join(json.dumps(line) for line in lines[:1])
        + "\n\n"
        + "\n".join(json.dumps(line) for line in lines[1:])
        + "\n"
    )
    path = write(tmp_path, "a.ndjson", content)
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    assert result.rows == 3
    assert [(r[0], r[1]) for r in rejected_rows(rejects)] == [(2, 3), (3, 4)]


def test_parquet_typed_columns(tmp_path):
    table = pa.table(
        {
            "id": pa.array([1, 2, 2], pa.int64()),
            "amount": pa.array([1.5, 2.0, 0.001], pa.float64()),
            "at": pa.array([None, None, None], pa.timestamp("us", tz="UTC")),
            "note": pa.array(["a", None, "c"]),
            "score": pa.array([1.0, None, 2.0]),
        }
    )
    path = tmp_path / "a.parquet"
    pq.write_table(table, path)
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    # rows 2 and 3 share a key; row 3's amount would need rounding to 2 places
    assert [(r[0], sorted(r[2])) for r in rejected_rows(rejects)] == [
        (2, ["orders.primary_key"]),
        (3, ["orders.amount.type", "orders.primary_key"]),
    ]
    assert result.rejected == 2


# ---------------------------------------------------------------- bad inputs


def assert_source_error(path: Path, message: str, line: int | None = None, **options):
    with pytest.raises(SourceError) as caught:
        run(path, **options)
    error = caught.value
    assert message in error.message, error.message
    assert error.location.file == str(path)
    assert error.location.line == line
    assert error.exit_code is ExitCode.USAGE
    return error


def test_empty_file(tmp_path):
    assert_source_error(write(tmp_path, "a.csv", ""), "file is empty")


def test_header_only_has_no_rows(tmp_path):
    result = run(write(tmp_path, "a.csv", HEADER))
    assert result.rows == 0 and result.ok
    assert "the data has no rows" in result.notes


def test_wrong_column_count_on_one_line(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + "1,1,,,\n2,1,,\n3,1,,,\n")
    assert_source_error(path, "expected 5 fields as in the header, found 4", line=3)


def test_too_many_fields(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + '1,1,,,\n2,"x\ny",,,,extra\n')
    assert_source_error(path, "found 6", line=3)


def test_missing_required_column(tmp_path):
    path = write(tmp_path, "a.csv", "id,at,note,score\n1,,,\n")
    assert_source_error(path, "required column(s) 'amount' missing", line=1)


def test_missing_optional_column_is_null(tmp_path):
    path = write(tmp_path, "a.csv", "id,amount\n1,2\n")
    assert run(path).ok


def test_extra_column_refused_unless_allowed(tmp_path):
    path = write(tmp_path, "a.csv", "id,amount,surprise\n1,2,x\n")
    assert_source_error(path, "'surprise' are not in the contract", line=1)
    assert run(path, allow_extra_columns=True).ok


def test_invalid_utf8_names_line_and_column(tmp_path):
    path = write(tmp_path, "a.csv", HEADER.encode() + b"1,1,,ok,\n2,1,,caf\xe9,\n")
    error = assert_source_error(path, "invalid UTF-8", line=3)
    assert error.location.column == 9


def test_a_10_mb_field_is_read_whole(tmp_path):
    big = "x" * (10 * 1024 * 1024)
    path = write(tmp_path, "a.csv", HEADER + f"1,1,,{big},\n2,-1,,,\n")
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    assert result.rows == 2 and result.rejected == 1
    assert rejected_rows(rejects)[0][:2] == (2, 3)


def test_nan_and_infinity_are_rejected_in_numeric_columns(tmp_path):
    path = write(
        tmp_path, "a.csv", HEADER + "1,NaN,,,1\n2,1,,,NaN\n3,1,,,inf\n4,1,,,-Infinity\n5,1,,,2\n"
    )
    rejects = tmp_path / "r.parquet"
    run(path, rejects_path=rejects)
    assert rejected_rows(rejects) == [
        (1, 2, ["orders.amount.type"]),
        (2, 3, ["orders.score.finite"]),
        (3, 4, ["orders.score.finite"]),
        (4, 5, ["orders.score.finite"]),
    ]


def test_duplicate_keys_reject_every_occurrence(tmp_path):
    rows = "".join(f"{i},1,,,\n" for i in range(1, 2001)) + "7,1,,,\n1999,-5,,,\n"
    path = write(tmp_path, "a.csv", HEADER + rows)
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    got = {r[0]: sorted(r[2]) for r in rejected_rows(rejects)}
    assert got == {
        7: ["orders.primary_key"],
        1999: ["orders.primary_key"],
        2001: ["orders.primary_key"],
        2002: ["orders.amount.range", "orders.primary_key"],
    }
    assert result.rejected == 4


def test_not_a_parquet_file(tmp_path):
    assert_source_error(write(tmp_path, "a.parquet", "nope"), "not a readable Parquet file")


def test_malformed_ndjson_line(tmp_path):
    path = write(tmp_path, "a.ndjson", '{"id": 1, "amount": 1}\n{"id": 2, "amount": \n')
    error = assert_source_error(path, "malformed JSON", line=2)
    assert error.location.column is not None


def test_no_file_matches(tmp_path):
    with pytest.raises(SourceError, match="no file matches"):
        expand_paths([str(tmp_path / "*.csv")])


def test_nested_parquet_values_are_json(tmp_path):
    path = tmp_path / "n.parquet"
    pq.write_table(
        pa.table(
            {
                "id": [1, 1],
                "tags": [[1, 2], None],
                "meta": [{"a": 1, "b": "x"}, {"a": 2, "b": None}],
            }
        ),
        path,
    )
    nested = parse_contract(
        "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: '1'\nstatus: active\n"
        "schema: [{name: t, properties: [{name: id, physicalType: BIGINT, primaryKey: true},"
        " {name: tags, physicalType: JSON}, {name: meta, physicalType: JSONB}]}]\n"
    )
    rejects = tmp_path / "r.parquet"
    result = validate_files(nested, expand_paths([str(path)]), rejects_path=rejects)
    assert result.rejected == 2  # the key repeats
    assert pl.read_parquet(rejects).select("tags", "meta").rows() == [
        ("[1,2]", '{"a":1,"b":"x"}'),
        (None, '{"a":2,"b":null}'),
    ]


def test_dataset_checks_judge_only_the_rows_that_would_be_loaded(tmp_path):
    """A row rejected at the end (its key repeats) is not counted by dataset checks."""
    sql_contract = parse_contract(
        CONTRACT.format(extra="")
        + "    quality:\n"
        + "      - {type: library, metric: rowCount, mustBe: 2}\n"
        + '      - {type: sql, query: "SELECT COUNT(*) FROM ${object} WHERE amount > 5", mustBe: 1}\n',
        "c.yaml",
    )
    path = write(tmp_path, "a.csv", HEADER + "1,9,,,\n2,9,,,\n2,9,,,\n3,1,,,\n")
    result = validate_files(sql_contract, expand_paths([str(path)]))
    measured = {c.id: c.measured for c in result.checks}
    assert result.rejected == 2
    assert measured["orders.rowCount"] == 2
    assert measured["orders.sql"] == 1  # the two rows with key 2 are not loaded
    assert all(c.passed for c in result.checks if c.scope == "dataset")


# ---------------------------------------------------------------- found in review


def test_blank_line_inside_the_data_is_refused_with_its_line(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + "1,1,,,\n\n2,1,,,\n")
    assert_source_error(path, "blank line inside the data", line=3)


def test_blank_line_inside_a_quoted_value_is_data(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + '1,1,,"a\n\nb",\n2,1,,,\n\n')
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    assert result.rows == 2 and result.ok


def test_trailing_blank_lines_are_not_records(tmp_path):
    assert run(write(tmp_path, "a.csv", HEADER + "1,1,,,\n2,1,,,\n\n\n")).rows == 2


def test_a_quote_never_closed_is_refused_where_it_opens(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + '1,1,,"abc,\n2,1,,,\n')
    assert_source_error(path, "a quoted value is never closed", line=2)


def test_ndjson_unknown_key_in_a_later_record_is_refused(tmp_path):
    path = write(
        tmp_path, "a.ndjson", '{"id": 1, "amount": 1}\n{"id": 2, "amount": 1, "secret": "x"}\n'
    )
    assert_source_error(path, "'secret' are not in the contract", line=2)


def test_ndjson_key_missing_from_a_record_is_a_null_in_that_row(tmp_path):
    path = write(tmp_path, "a.ndjson", '{"id": 1}\n{"id": 2, "amount": 1}\n')
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    assert rejected_rows(rejects) == [(1, 1, ["orders.amount.not_null"])]
    assert result.rows == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 1, "amount": 1, "amount": 2}', "key 'amount' appears twice"),
        ('{"id": 1, "amount": NaN}', "malformed JSON"),
    ],
)
def test_ndjson_ambiguous_objects_are_refused(tmp_path, line, message):
    path = write(tmp_path, "a.ndjson", '{"id": 0, "amount": 1}\n' + line + "\n")
    assert_source_error(path, message, line=2)


def test_the_same_file_twice_is_refused(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + "1,1,,,\n")
    with pytest.raises(SourceError, match="given twice"):
        expand_paths([str(path), str(tmp_path / "." / "a.csv")])


def test_rejects_may_not_overwrite_an_input(tmp_path):
    from dataward.errors import UsageError

    path = write(tmp_path, "a.csv", HEADER + "1,-1,,,\n")
    with pytest.raises(UsageError, match="is one of the input files"):
        run(path, rejects_path=path)
    assert path.read_text().startswith("id,amount")


def _with_sql(query: str):
    return parse_contract(
        CONTRACT.format(extra="")
        + f'    quality:\n      - {{type: sql, query: "{query}", mustBe: 0}}\n',
        "c.yaml",
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT COUNT(*) FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT COUNT(*) FROM ${object} WHERE nope = 1", "nope"),
        ("SELECT 'x' FROM ${object}", "must return one number"),
    ],
)
def test_sql_rules_read_only_the_rows_and_fail_loudly(tmp_path, query, message):
    from dataward.errors import ContractError

    path = write(tmp_path, "a.csv", HEADER + "1,1,,,\n")
    with pytest.raises(ContractError, match=message) as caught:
        validate_files(_with_sql(query), expand_paths([str(path)]))
    assert caught.value.location.file == "c.yaml"
    assert caught.value.location.line is not None


def test_column_called_reasons_keeps_its_values(tmp_path):
    contract = parse_contract(
        "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: '1'\nstatus: active\n"
        "schema: [{name: t, properties: [{name: id, physicalType: BIGINT, primaryKey: true},"
        " {name: reasons, physicalType: TEXT}]}]\n"
    )
    path = write(tmp_path, "a.csv", "id,reasons\n1,mine\n1,also mine\n")
    rejects = tmp_path / "r.parquet"
    validate_files(contract, expand_paths([str(path)]), rejects_path=rejects)
    frame = pl.read_parquet(rejects)
    assert frame["reasons"].to_list() == ["mine", "also mine"]
    assert frame["_dw_reasons"].list.len().to_list() == [1, 1]


def test_dataward_column_names_are_reserved():
    from dataward.errors import ContractError

    with pytest.raises(ContractError, match="dataward's own columns"):
        parse_contract(CONTRACT.format(extra="").replace("name: note", "name: _dw_source"))


def test_a_record_of_empty_fields_is_a_record(tmp_path):
    path = write(tmp_path, "a.csv", "id,amount\n1,1\n,\n2,1\n")
    rejects = tmp_path / "r.parquet"
    result = run(path, rejects_path=rejects)
    assert result.rows == 3
    assert [(r[0], r[1]) for r in rejected_rows(rejects)] == [(2, 3)]


def test_crlf_file_with_trailing_blank_lines(tmp_path):
    path = write(tmp_path, "a.csv", HEADER.replace("\n", "\r\n") + "1,1,,,\r\n2,1,,,\r\n\r\n\r\n")
    assert run(path).rows == 2
