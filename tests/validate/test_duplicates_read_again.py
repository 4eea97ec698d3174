"""A duplicate key's first occurrence is reported exactly as the file wrote it, with its
file, record and line, for every format, across batches and files: read again from a text
file by its line, kept (in memory, or spilled) from a Parquet file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataward.contract.loader import parse_contract
from dataward.sources import expand_paths
from dataward.sources.refetch import _line_offsets, refetch
from dataward.validate import validate_files

CONTRACT = parse_contract(
    """apiVersion: v3.1.0
kind: DataContract
id: urn:test:dup
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - {name: id, physicalType: BIGINT, primaryKey: true}
      - {name: amount, physicalType: "DECIMAL(10,2)", required: true}
      - {name: note, physicalType: TEXT}
""",
    "c.yaml",
)

# Row 2 (id 7, written "+7" is not: a key cast from "07") and the last row share id 7;
# the first occurrence fails nothing else, so only re-reading the file can show it.
ROWS = [
    ("1", "1.00", "plain"),
    ("07", "2.50", 'a "quoted"\nvalue on two lines'),
    ("3", "3.000", ""),
    ("4", "4", "NA"),
    ("7", "9.99", "the repeat"),
]


def _csv(rows: list[tuple[str, str, str]], crlf: bool = False) -> str:
    newline = "\r\n" if crlf else "\n"

    def field(value: str) -> str:
        if any(c in value for c in ',"\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = ["id,amount,note", *(",".join(field(v) for v in row) for row in rows)]
    return newline.join(lines) + newline


def _rejects(path: Path) -> list[dict]:
    frame = pl.read_parquet(path).sort("_dw_source", "_dw_source_row")
    return [
        {
            "record": {k: r[k] for k in ("id", "amount", "note")},
            "source": Path(r["_dw_source"]).name,
            "row": r["_dw_source_row"],
            "line": r["_dw_source_line"],
            "checks": sorted(x["check"] for x in r["reasons"]),
        }
        for r in frame.iter_rows(named=True)
    ]


def _validate(tmp_path: Path, *paths: Path, **options) -> list[dict]:
    rejects = tmp_path / "rejects.parquet"
    result = validate_files(
        CONTRACT, expand_paths([str(p) for p in paths]), rejects_path=rejects, **options
    )
    assert result.rejected == 2
    return _rejects(rejects)


EXPECTED_CSV = [
    (2, 3, {"id": "07", "amount": "2.50", "note": 'a "quoted"\nvalue on two lines'}),
    (5, 7, {"id": "7", "amount": "9.99", "note": "the repeat"}),
]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_csv_with_a_value_on_two_lines(tmp_path, crlf):
    path = tmp_path / "a.csv"
    path.write_text(_csv(ROWS, crlf), encoding="utf-8", newline="")
    found = _validate(tmp_path, path)
    assert {r["checks"] == ["orders.primary_key"] and r["source"] == "a.csv" for r in found} == {
        True
    }
    # Records end in CRLF or LF; the value's own line break is kept as written.
    expected = EXPECTED_CSV
    assert [(r["row"], r["line"], r["record"]) for r in found] == expected


def test_gzip_csv_names_the_compressed_file(tmp_path):
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(_csv(ROWS).encode()))
    found = _validate(tmp_path, path)
    assert [(r["source"], r["row"], r["line"], r["record"]["id"]) for r in found] == [
        ("a.csv.gz", 2, 3, "07"),
        ("a.csv.gz", 5, 7, "7"),
    ]


def test_null_markers_read_again_as_nulls(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(_csv(ROWS), encoding="utf-8", newline="")
    files = expand_paths([str(path)], null_markers=("NA",))
    rows = [("4", "4", None)]
    wanted = pl.DataFrame({"_dw_source_row": [4], "_dw_source_line": [6]})
    again = refetch(files[0], wanted)
    assert again.select("id", "amount", "note").rows() == rows
    assert again.row(0, named=True)["_dw_source"] == str(path)


def test_the_first_occurrence_in_another_file_and_batch(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(_csv(ROWS[:2]), encoding="utf-8", newline="")
    second = tmp_path / "b.csv"
    many = [(str(100 + i), "1.00", f"n{i}") for i in range(300_000)] + [("7", "1.00", "again")]
    second.write_text(_csv(many), encoding="utf-8", newline="")
    found = _validate(tmp_path, first, second)
    assert [(r["source"], r["row"], r["line"], r["record"]) for r in found] == [
        ("a.csv", 2, 3, {"id": "07", "amount": "2.50", "note": ROWS[1][2]}),
        ("b.csv", 300_001, 300_002, {"id": "7", "amount": "1.00", "note": "again"}),
    ]


def test_ndjson_keeps_the_text_of_each_value(tmp_path):
    path = tmp_path / "a.ndjson"
    records = [
        {"id": 1, "amount": 1.0},
        {"id": 7, "amount": 2.50, "note": "first"},
        {"id": 3, "amount": "3"},
        {"id": 7, "amount": 9.99},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    found = _validate(tmp_path, path)
    assert [(r["row"], r["line"], r["record"]) for r in found] == [
        (2, 2, {"id": "7", "amount": "2.5", "note": "first"}),
        (4, 4, {"id": "7", "amount": "9.99", "note": None}),
    ]


@pytest.mark.parametrize("memory_budget", [512 << 20, 0], ids=["kept-in-memory", "spilled"])
def test_parquet_batches_are_kept_and_give_the_first_occurrence(tmp_path, memory_budget):
    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 7, 3, 7], pa.int64()),
                "amount": pa.array(["1.00", "2.50", "3.00", "9.99"]),
                "note": pa.array([None, "first", "x", "again"]),
            }
        ),
        path,
        row_group_size=2,
    )
    found = _validate(tmp_path, path, memory_budget=memory_budget)
    assert [(r["row"], r["line"], r["record"]) for r in found] == [
        (2, None, {"id": "7", "amount": "2.50", "note": "first"}),
        (4, None, {"id": "7", "amount": "9.99", "note": "again"}),
    ]


def test_a_file_changed_after_reading_is_named(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(_csv(ROWS), encoding="utf-8", newline="")
    data = expand_paths([str(path)])[0]
    path.write_text(_csv(ROWS[:1]), encoding="utf-8", newline="")
    wanted = pl.DataFrame({"_dw_source_row": [5], "_dw_source_line": [7]})
    with pytest.raises(Exception, match="the file changed while it was read"):
        refetch(data, wanted)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_line_offsets_across_chunk_edges(tmp_path, monkeypatch, chunk):
    import mmap

    import dataward.sources.refetch as module

    monkeypatch.setattr(module, "_CHUNK", chunk)
    text = b"h\nab\n\ncde\nf\n\ng"
    path = tmp_path / "t.txt"
    path.write_bytes(text)
    starts = [0] + [i + 1 for i, b in enumerate(text) if b == ord("\n")]
    lines = list(range(1, len(starts) + 1))
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert _line_offsets(m, lines) == starts
        assert _line_offsets(m, [2, 5, 7]) == [starts[1], starts[4], starts[6]]
