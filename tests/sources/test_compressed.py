"""Compressed CSV (`.csv.gz`, `.csv.zip`): the same rows and lines as the plain file, shown
under the compressed file's own name; anything else is refused by name."""

from __future__ import annotations

import gzip
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

from dataward.errors import SourceError
from dataward.sources import expand_paths, read_batches, read_columns
from dataward.sources.files import LINE_COLUMN, ROW_COLUMN, SOURCE_COLUMN

# A quoted value spanning two lines makes the line numbers differ from the row numbers.
CSV = 'id,note,amount\n1,plain,1.50\n2,"two\nlines",2.00\n3,,3.25\n4,"say ""hi""",4.00\n'


def plain_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8", newline="")
    return path


def gz_csv(tmp_path: Path, content: bytes = CSV.encode()) -> Path:
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress(content))
    return path


def zip_csv(tmp_path: Path, members: dict[str, bytes] | None = None) -> Path:
    path = tmp_path / "orders.csv.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in (members or {"orders.csv": CSV.encode()}).items():
            archive.writestr(name, content)
    return path


def read_all(path: Path, batch_rows: int = 250_000) -> pl.DataFrame:
    [data] = expand_paths([str(path)])
    return pl.concat(list(read_batches(data, batch_rows)))


@pytest.mark.parametrize("compress", [gz_csv, zip_csv], ids=["gz", "zip"])
def test_same_rows_and_lines_as_the_plain_file(tmp_path: Path, compress) -> None:
    plain = read_all(plain_csv(tmp_path))
    compressed_path = compress(tmp_path)

    compressed = read_all(compressed_path)

    assert compressed.drop(SOURCE_COLUMN).equals(plain.drop(SOURCE_COLUMN))
    assert compressed[LINE_COLUMN].to_list() == [2, 3, 5, 6]
    assert compressed[ROW_COLUMN].to_list() == [1, 2, 3, 4]
    assert compressed[SOURCE_COLUMN].unique().to_list() == [str(compressed_path)]
    [data] = expand_paths([str(compressed_path)])
    assert read_columns(data) == ["id", "note", "amount"]


def test_many_rows_keep_their_lines(tmp_path: Path) -> None:
    rows = "".join(f"{i},n{i},{i}.00\n" for i in range(1, 2001))
    path = gz_csv(tmp_path, ("id,note,amount\n" + rows).encode())
    [data] = expand_paths([str(path)])

    batches = list(read_batches(data, batch_rows=500))

    assert sum(b.height for b in batches) == 2000
    assert pl.concat(batches)[LINE_COLUMN].to_list() == list(range(2, 2002))


def test_tsv_inside_gzip_keeps_its_tab(tmp_path: Path) -> None:
    path = tmp_path / "orders.tsv.gz"
    path.write_bytes(gzip.compress(b"id\tnote\n1\ta,b\n"))

    frame = read_all(path)

    assert frame.select("id", "note").rows() == [("1", "a,b")]


def test_temporary_copy_is_removed_even_when_reading_stops_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    [data] = expand_paths([str(gz_csv(tmp_path))])
    batches = read_batches(data, batch_rows=1)

    next(batches)
    copies = list(scratch.glob("dataward-*/data.csv"))
    batches.close()

    assert len(copies) == 1
    assert list(scratch.iterdir()) == []


def test_zip_with_two_members_is_refused(tmp_path: Path) -> None:
    path = zip_csv(tmp_path, {"a.csv": b"id\n1\n", "b.csv": b"id\n2\n"})

    with pytest.raises(
        SourceError, match=r"exactly one CSV file.*holds 2 \(a\.csv, b\.csv\)"
    ) as err:
        expand_paths([str(path)])

    assert err.value.location.file == str(path)


def test_zip_holding_something_else_is_refused(tmp_path: Path) -> None:
    path = zip_csv(tmp_path, {"orders.parquet": b"PAR1"})

    with pytest.raises(SourceError, match="not named as CSV"):
        expand_paths([str(path)])


def test_compressed_ndjson_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n'))

    with pytest.raises(SourceError, match="compressed ndjson is not read"):
        expand_paths([str(path)])


def test_corrupt_gzip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    whole = gzip.compress(CSV.encode() * 200)
    path.write_bytes(whole[: len(whole) // 2])  # cut short: the stream never ends
    [data] = expand_paths([str(path)])

    with pytest.raises(SourceError, match="damaged gzip stream") as err:
        list(read_batches(data))

    assert err.value.location.file == str(path)


def test_not_gzip_at_all_fails_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(CSV.encode())
    [data] = expand_paths([str(path)])

    with pytest.raises(SourceError, match="damaged gzip stream: Not a gzipped file") as err:
        read_columns(data)

    assert str(err.value).startswith(f"{path}: ")


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.zip"
    path.write_bytes(b"not a zip")

    with pytest.raises(SourceError, match="not a readable zip archive") as err:
        expand_paths([str(path)])

    assert err.value.location.file == str(path)


def test_errors_inside_point_at_the_compressed_file_and_its_line(tmp_path: Path) -> None:
    path = gz_csv(tmp_path, b"id,note\n1,a\n2,b,extra\n")
    [data] = expand_paths([str(path)])

    with pytest.raises(SourceError, match="expected 2 fields") as err:
        list(read_batches(data))

    assert (err.value.location.file, err.value.location.line) == (str(path), 3)


def test_invalid_utf8_inside_points_at_its_line_and_column(tmp_path: Path) -> None:
    path = zip_csv(tmp_path, {"orders.csv": b"id,note\n1,ok\n2,caf\xe9\n"})
    [data] = expand_paths([str(path)])

    with pytest.raises(SourceError, match="invalid UTF-8") as err:
        list(read_batches(data))

    location = err.value.location
    assert (location.file, location.line, location.column) == (str(path), 3, 6)
