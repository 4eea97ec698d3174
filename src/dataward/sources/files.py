"""CSV, NDJSON and Parquet files as Polars batches with their source location.

Every row carries `_dw_source` (the file), `_dw_source_row` (1-based record number) and,
for text formats, `_dw_source_line` (the line the record starts on, exact even when a
quoted CSV value spans lines). A file that cannot be read fails with its name and the
line (and column) of the first problem; nothing is guessed or silently dropped.

A CSV file may be compressed (`x.csv.gz`, or `x.csv.zip` holding that one file): it is
read through a decompressed temporary copy, and every location still names the original.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import mmap
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dataward.errors import InfrastructureError, Location, SourceError, UsageError

SOURCE_COLUMN = "_dw_source"
ROW_COLUMN = "_dw_source_row"
LINE_COLUMN = "_dw_source_line"
FORMATS = ("csv", "ndjson", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSIONS = {".gz": "gzip", ".zip": "zip"}
# What a damaged archive raises while it is read (BadGzipFile is an OSError, so OSError
# itself, which also means a failing disk, is not on the list).
_CORRUPT = (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile)
# pyarrow parses small blocks fastest but needs a whole record inside one block; a larger
# record (a 10 MB field, say) switches that file to large blocks.
CSV_BLOCK_BYTES = 1 << 20
CSV_LARGE_BLOCK_BYTES = 256 << 20
NDJSON_CHUNK_LINES = 200_000


@dataclass(frozen=True)
class DataFile:
    path: Path
    format: str
    delimiter: str = ","
    compression: str | None = None  # "gzip" or "zip" (CSV only)
    # The name shown when `path` is a decompressed temporary copy of a compressed file.
    shown_as: str | None = None
    # CSV texts read as missing besides the empty field (R and pandas exports write "NA").
    null_markers: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.shown_as or str(self.path)


def expand_paths(
    patterns: list[str],
    fmt: str | None = None,
    delimiter: str | None = None,
    null_markers: tuple[str, ...] = (),
) -> list[DataFile]:
    """Resolve files and globs, in a stable order; every pattern must match something."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--input-format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    files: list[DataFile] = []
    for pattern in patterns:
        matches = (
            sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        )
        if not matches:
            raise SourceError("no file matches this pattern", Location(file=pattern))
        for match in matches:
            path = Path(match)
            if not path.is_file():
                raise SourceError("file not found", Location(file=match))
            compression = _COMPRESSIONS.get(path.suffix.lower())
            # `x.csv.gz` tells its format by the suffix before the compression's.
            suffix = (path.with_suffix("") if compression else path).suffix.lower()
            kind = fmt or _EXTENSIONS.get(suffix)
            if kind not in FORMATS:
                named = "".join(path.suffixes[-2:]) if compression else path.suffix
                raise SourceError(
                    f"cannot tell the format from {named!r}; "
                    "pass --input-format csv|ndjson|parquet",
                    Location(file=match),
                )
            if compression is not None:
                _check_compressed(path, kind, compression, fmt is not None)
            sep = delimiter or ("\t" if suffix == ".tsv" else ",")
            if any(f.path.resolve() == path.resolve() for f in files):
                # Reading it twice would make every key a duplicate of itself.
                raise SourceError("this file is given twice", Location(file=match))
            files.append(DataFile(path, kind, sep, compression, null_markers=tuple(null_markers)))
    return files


def _check_compressed(path: Path, kind: str, compression: str, format_given: bool) -> None:
    """Refuse what the compressed reader cannot read before any row is: a format other
    than CSV, or a zip archive that is not exactly one readable CSV file."""
    if kind != "csv":
        raise SourceError(
            f"compressed {kind} is not read; decompress it, or use CSV", Location(file=str(path))
        )
    if compression != "zip":
        return  # a damaged gzip stream only shows while it is read
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                names = ", ".join(info.filename for info in members) or "none"
                raise SourceError(
                    f"a zip archive must hold exactly one CSV file; this one holds "
                    f"{len(members)} ({names})",
                    Location(file=str(path)),
                )
            member = members[0]
            inner = Path(member.filename).suffix.lower()
            if not format_given and _EXTENSIONS.get(inner) != "csv":
                raise SourceError(
                    f"the file in this zip archive, {member.filename!r}, is not named as CSV; "
                    "pass --input-format csv if it is one",
                    Location(file=str(path)),
                )
            # Opening checks what listing does not: encryption, an unknown compression.
            with archive.open(member):
                pass
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise SourceError(f"not a readable zip archive: {exc}", Location(file=str(path))) from None


def read_columns(data: DataFile) -> list[str]:
    """The column names a file declares (CSV header, Parquet schema, NDJSON first record)."""
    if data.format == "csv":
        return _csv_header(data)[0]
    if data.format == "parquet":
        try:
            return pq.read_schema(data.path).names
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceError(
                f"not a readable Parquet file: {exc}", Location(file=data.name)
            ) from None
    for line_number, line in _ndjson_lines(data):
        return list(_json_record(data, line_number, line).keys())
    raise SourceError("file is empty: no records", Location(file=data.name))


def read_batches(data: DataFile, batch_rows: int = 250_000) -> Iterator[pl.DataFrame]:
    if data.compression is not None:
        with _decompressed(data) as plain:
            yield from _csv_batches(plain, batch_rows)
    elif data.format == "csv":
        yield from _csv_batches(data, batch_rows)
    elif data.format == "parquet":
        yield from _parquet_batches(data, batch_rows)
    else:
        yield from _ndjson_batches(data)


# ---------------------------------------------------------------- CSV


def _csv_header(data: DataFile) -> tuple[list[str], int]:
    """Header names and the number of physical lines the header takes."""
    try:
        # Streamed, so a compressed file is not decompressed just for its header.
        with _text(data) as handle:
            reader = csv.reader(handle, delimiter=data.delimiter)
            header = next(reader, None)
            lines = reader.line_num
    except UnicodeDecodeError:
        raise _utf8_error(data) from None
    except _CORRUPT as exc:
        raise _corrupt_error(data, exc) from None
    except csv.Error as exc:
        raise SourceError(
            f"malformed CSV header: {exc}", Location(file=data.name, line=1)
        ) from None
    if header is None:
        raise SourceError("file is empty: expected a header line", Location(file=data.name))
    for index, name in enumerate(header):
        if name == "":
            raise SourceError(
                f"column {index + 1} of the header has no name",
                Location(file=data.name, line=1, column=index + 1),
            )
        if name in header[:index]:
            raise SourceError(
                f"column {name!r} appears twice in the header", Location(file=data.name, line=1)
            )
    return header, lines


def _csv_batches(data: DataFile, batch_rows: int) -> Iterator[pl.DataFrame]:
    header, header_lines = _csv_header(data)
    shape = _shape(data)
    records = 0
    line = header_lines + 1
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    blanks_checked = False

    def flush() -> pl.DataFrame:
        nonlocal records, line, pending, pending_rows, blanks_checked
        frame = _as_polars(pending)
        if not blanks_checked and frame.select(_all_null(header).any()).item():
            # A blank line and a record of empty fields both read as all nulls; the csv
            # module tells them apart (rare: only when such a row is there at all).
            _scan_records(data)
            blanks_checked = True
        height = frame.height
        rows = pl.int_range(records + 1, records + height + 1, dtype=pl.Int64, eager=True)
        if shape.has_quotes:
            lines, line = _record_lines(frame, line)
        else:
            # Without a quote character no value spans lines: the line is the record's
            # number plus the header, and the newline scan is skipped.
            lines = pl.int_range(line, line + height, dtype=pl.Int64, eager=True)
            line += height
        records += height
        pending, pending_rows = [], 0
        return frame.with_columns(
            pl.lit(data.name).alias(SOURCE_COLUMN),
            rows.alias(ROW_COLUMN),
            lines.alias(LINE_COLUMN),
        )

    held: pa.RecordBatch | None = None  # one block behind, so the last one is known
    for batch in _arrow_csv_batches(data, header, header_lines):
        if held is not None:
            pending.append(held)
            pending_rows += held.num_rows
            if pending_rows >= batch_rows:
                yield flush()
        held = batch
    if held is not None:
        pending.append(_without_trailing_blanks(data, held, header, shape.trailing_blank_lines))
    if pending:
        yield flush()


def _as_polars(blocks: list[pa.RecordBatch]) -> pl.DataFrame:
    """The reader's text blocks as one Polars frame with one chunk per column.

    Polars keeps text as string views; handing it Arrow's offset strings makes it build
    the views itself, which measured slower than Arrow's own cast to string_view (0.35
    s against 0.2 s at 5M rows x 8 columns), after which Polars adopts the buffers as
    they are. One chunk per column: the checks run ~30% faster on it than on the
    reader's 1 MB blocks.
    """
    table = pa.Table.from_batches(blocks).combine_chunks()  # the one chunk per column
    columns = [pc.cast(column, pa.string_view()) for column in table.columns]
    frame = pl.from_arrow(pa.Table.from_arrays(columns, names=table.column_names))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _all_null(header: list[str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(name).is_null() for name in header])


def _without_trailing_blanks(
    data: DataFile, last: pa.RecordBatch, header: list[str], blank_lines: int
) -> pa.RecordBatch:
    """Blank lines after the last record are not records: drop the rows they became."""
    if blank_lines == 0:
        return last
    tail = pl.from_arrow(last.slice(max(0, last.num_rows - blank_lines)))
    assert isinstance(tail, pl.DataFrame)
    if tail.height < blank_lines or not tail.select(_all_null(header).all()).item():
        raise SourceError("unexpected blank lines at the end of the file", Location(file=data.name))
    return last.slice(0, last.num_rows - blank_lines)


@dataclass(frozen=True)
class _Shape:
    has_quotes: bool
    trailing_blank_lines: int


def _shape(data: DataFile) -> _Shape:
    """What the bytes say before parsing: whether any value may be quoted, and how many
    blank lines end the file. A quote never closed would swallow every record after it,
    so an odd number of quote characters sends the file to the csv module to say where.
    """
    with data.path.open("rb") as handle:
        try:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file: the header check has already refused it
            return _Shape(False, 0)
        with mapped:
            size = len(mapped)
            has_quotes = mapped.find(b'"') != -1  # memchr speed: the common answer is no
            quotes = (
                sum(
                    mapped[start : start + _SCAN_BYTES].count(b'"')
                    for start in range(0, size, _SCAN_BYTES)
                )
                if has_quotes
                else 0
            )
            end = size
            while end > 0 and mapped[end - 1 : end] in (b"\n", b"\r"):
                end -= 1
            trailing = mapped[end:size].count(b"\n")
    if quotes % 2:
        _scan_records(data)
    return _Shape(has_quotes, max(0, trailing - 1))


_SCAN_BYTES = 64 << 20


def _scan_records(data: DataFile) -> None:
    """Walk the records with the csv module: refuse a quote never closed, or a blank line
    followed by more records, naming its line."""
    with data.path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=data.delimiter, strict=True)
        start = 1
        blank_line: int | None = None
        try:
            for record in reader:
                if not record:
                    blank_line = blank_line or start
                elif blank_line is not None:
                    raise SourceError(
                        "blank line inside the data: it is not a record; remove it",
                        Location(file=data.name, line=blank_line),
                    )
                start = reader.line_num + 1
        except csv.Error:
            raise SourceError(
                "a quoted value is never closed: every record after it would be swallowed",
                Location(file=data.name, line=start),
            ) from None


def _arrow_csv_batches(
    data: DataFile, header: list[str], header_lines: int
) -> Iterator[pa.RecordBatch]:
    """Small blocks parse fastest; a record larger than one block restarts the read with
    blocks big enough for it, after the records already delivered."""
    problems: list[str] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        problems.append(row.text)
        return "error"

    parse_options = pacsv.ParseOptions(
        delimiter=data.delimiter,
        newlines_in_values=True,
        # A blank line becomes a row of nulls: _csv_batches drops those that end the file
        # and refuses any other (so every record keeps its true line number).
        ignore_empty_lines=False,
        invalid_row_handler=on_invalid_row,
    )
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        # Only an empty field is missing, unless the source names other markers: "NA",
        # "NULL" or "NaN" are otherwise values to be checked.
        null_values=["", *data.null_markers],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    delivered = 0
    block = CSV_BLOCK_BYTES
    while True:
        read_options = pacsv.ReadOptions(
            column_names=header,
            skip_rows=header_lines,
            skip_rows_after_names=delivered,
            block_size=block,
            encoding="utf8",
        )
        try:
            reader = pacsv.open_csv(
                data.path,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            for batch in reader:
                delivered += batch.num_rows
                yield batch
            return
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc) and block < CSV_LARGE_BLOCK_BYTES:
                block = CSV_LARGE_BLOCK_BYTES
                continue
            raise _csv_error(data, exc, header, problems) from None


def _record_lines(frame: pl.DataFrame, first_line: int) -> tuple[pl.Series, int]:
    """The physical line each record starts on: a quoted value may contain newlines."""
    height = frame.height
    if height == 0:
        return pl.Series(LINE_COLUMN, [], dtype=pl.Int64), first_line
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    has_breaks = (
        text_columns
        and frame.select(
            pl.any_horizontal(
                pl.col(text_columns).str.contains("\n", literal=True).fill_null(False)
            ).any()
        ).item()
    )
    if not has_breaks:
        lines = pl.int_range(first_line, first_line + height, dtype=pl.Int64, eager=True)
        return lines, first_line + height
    breaks = frame.select(
        pl.sum_horizontal(
            pl.col(text_columns).str.count_matches("\n", literal=True).fill_null(0)
        ).cast(pl.Int64)
    ).to_series()
    span = breaks + 1
    starts = span.cum_sum() - span + first_line
    return starts, first_line + int(span.sum())


def _csv_error(
    data: DataFile, exc: pa.ArrowInvalid, header: list[str], problems: list[str]
) -> SourceError:
    text = str(exc)
    if "UTF8" in text or "utf8" in text.lower() or "utf-8" in text.lower():
        return _utf8_error(data)
    if problems or "Expected" in text:
        return _ragged_error(data, header)
    if "straddling" in text:
        return SourceError(
            f"a record is larger than {CSV_LARGE_BLOCK_BYTES >> 20} MB or a quote is never closed",
            Location(file=data.name),
        )
    return SourceError(f"cannot parse CSV: {text}", Location(file=data.name))


def _ragged_error(data: DataFile, header: list[str]) -> SourceError:
    """Find the first record whose field count differs from the header, with its line."""
    with data.path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=data.delimiter)
        next(reader, None)
        start = reader.line_num + 1
        for record in reader:
            if len(record) != len(header):
                return SourceError(
                    f"expected {len(header)} fields as in the header, found {len(record)}",
                    Location(file=data.name, line=start),
                )
            start = reader.line_num + 1
    return SourceError(
        "a record does not have as many fields as the header", Location(file=data.name)
    )


def _utf8_error(data: DataFile) -> SourceError:
    with _binary(data) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = len(raw[: exc.start].decode("utf-8", errors="replace")) + 1
                return SourceError(
                    f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}); re-encode the file as UTF-8",
                    Location(file=data.name, line=number, column=column),
                )
    return SourceError("invalid UTF-8", Location(file=data.name))


# ---------------------------------------------------------------- compressed CSV


@contextmanager
def _binary(data: DataFile) -> Iterator[io.BufferedIOBase]:
    """The file's bytes, decompressed."""
    if data.compression == "gzip":
        with gzip.open(data.path, "rb") as handle:
            yield handle
    elif data.compression == "zip":
        with zipfile.ZipFile(data.path) as archive:
            # expand_paths has checked that there is exactly one file in it.
            member = next(info for info in archive.infolist() if not info.is_dir())
            with archive.open(member) as handle:
                yield handle
    else:
        with data.path.open("rb") as handle:
            yield handle


@contextmanager
def _text(data: DataFile) -> Iterator[io.TextIOWrapper]:
    with _binary(data) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        yield text


@contextmanager
def _decompressed(data: DataFile) -> Iterator[DataFile]:
    """A decompressed temporary copy of a compressed CSV file, shown under its name.

    The CSV reader needs a real file: it maps it, and reads it again to say where a
    problem is. The copy lives in the system's temporary directory (TMPDIR) and is
    removed when reading ends, early or not.
    """
    with tempfile.TemporaryDirectory(prefix="dataward-") as scratch:
        copy = Path(scratch) / "data.csv"
        try:
            with _binary(data) as source, copy.open("wb") as sink:
                while chunk := source.read(CSV_BLOCK_BYTES):
                    _write_copy(data, sink, chunk)
        except _CORRUPT as exc:
            raise _corrupt_error(data, exc) from None
        yield DataFile(
            copy,
            data.format,
            data.delimiter,
            shown_as=data.name,
            null_markers=data.null_markers,
        )


def _write_copy(data: DataFile, sink: io.BufferedWriter, chunk: bytes) -> None:
    try:
        sink.write(chunk)
    except OSError as exc:
        # The disk, not the input: a full temporary directory is an infrastructure failure.
        raise InfrastructureError(
            f"cannot write a decompressed copy: {exc.strerror}; point TMPDIR at a disk with room",
            Location(file=data.name),
        ) from None


def _corrupt_error(data: DataFile, exc: BaseException) -> SourceError:
    what = "gzip stream" if data.compression == "gzip" else "zip archive"
    detail = str(exc) or type(exc).__name__
    return SourceError(f"damaged {what}: {detail}", Location(file=data.name))


# ---------------------------------------------------------------- Parquet


def _parquet_batches(data: DataFile, batch_rows: int) -> Iterator[pl.DataFrame]:
    try:
        total = pq.ParquetFile(data.path).metadata.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"not a readable Parquet file: {exc}", Location(file=data.name)) from None
    scan = pl.scan_parquet(data.path)
    # Polars' reader decodes a slice of row groups in parallel, faster than pyarrow's
    # batch iterator followed by a conversion; memory stays bounded by the slice.
    for start in range(0, total, batch_rows):
        try:
            frame = scan.slice(start, batch_rows).collect().rechunk()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise SourceError(
                f"corrupt Parquet data after row {start}: {exc}", Location(file=data.name)
            ) from None
        height = frame.height
        yield frame.with_columns(
            pl.lit(data.name).alias(SOURCE_COLUMN),
            pl.int_range(start + 1, start + height + 1, dtype=pl.Int64, eager=True).alias(
                ROW_COLUMN
            ),
            pl.lit(None, dtype=pl.Int64).alias(LINE_COLUMN),
        )


# ---------------------------------------------------------------- NDJSON


def _ndjson_lines(data: DataFile) -> Iterator[tuple[int, bytes]]:
    with data.path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.strip():
                yield number, raw


def ndjson_records(data: DataFile) -> Iterator[tuple[int, dict]]:
    """Each record of an NDJSON file with its line; blank lines are not records."""
    for number, raw in _ndjson_lines(data):
        yield number, _json_record(data, number, raw)


def records_as_text(records: list[dict]) -> pl.DataFrame:
    """Records as a frame of text columns (the cast step parses them), one per key seen."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns: dict[str, list[str | None]] = {name: [] for name in names}
    for record in records:
        for name in names:
            columns[name].append(json_text(record.get(name)))
    return pl.DataFrame(columns, schema={name: pl.String for name in names})


def _json_record(data: DataFile, line_number: int, raw: bytes) -> dict:
    try:
        value = load_json(raw)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"invalid UTF-8: {exc.reason}",
            Location(file=data.name, line=line_number, column=exc.start + 1),
        ) from None
    except DuplicateKeyError as exc:
        raise SourceError(
            f"key {exc.args[0]!r} appears twice in one object: which value is meant?",
            Location(file=data.name, line=line_number),
        ) from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"malformed JSON: {exc.msg}",
            Location(file=data.name, line=line_number, column=exc.colno),
        ) from None
    if not isinstance(value, dict):
        raise SourceError(
            "each line must be a JSON object", Location(file=data.name, line=line_number)
        )
    return value


def _ndjson_batches(data: DataFile) -> Iterator[pl.DataFrame]:
    # Every line is parsed here first: a malformed line must be named, and Polars' reader
    # would report it without a line number.
    records = 0
    numbers: list[int] = []
    chunk: list[dict] = []
    for number, record in ndjson_records(data):
        numbers.append(number)
        chunk.append(record)
        if len(chunk) >= NDJSON_CHUNK_LINES:
            yield _ndjson_frame(data, numbers, chunk, records)
            records += len(chunk)
            numbers, chunk = [], []
    if chunk or records == 0:
        if not chunk and records == 0:
            raise SourceError("file is empty: no records", Location(file=data.name))
        yield _ndjson_frame(data, numbers, chunk, records)


def _ndjson_frame(
    data: DataFile, numbers: list[int], chunk: list[dict], records: int
) -> pl.DataFrame:
    frame = records_as_text(chunk)
    height = frame.height
    return frame.with_columns(
        pl.lit(data.name).alias(SOURCE_COLUMN),
        pl.int_range(records + 1, records + height + 1, dtype=pl.Int64, eager=True).alias(
            ROW_COLUMN
        ),
        pl.Series(LINE_COLUMN, numbers, dtype=pl.Int64),
    )


def load_json(raw: bytes | str) -> object:
    """A JSON document as every JSON reader here takes it (NDJSON lines, HTTP pages).

    Raises json.JSONDecodeError, UnicodeDecodeError, or DuplicateKeyError when one
    object names a key twice.
    """
    # Decimals keep every digit they were written with; a float would round them.
    return json.loads(
        raw, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_unique_keys
    )


class DuplicateKeyError(ValueError):
    """One JSON object names the same key twice: which value is meant cannot be known."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    record: dict[str, object] = {}
    for key, value in pairs:
        if key in record:
            raise DuplicateKeyError(key)
        record[key] = value
    return record


def _no_constant(name: str) -> object:
    # NaN and Infinity are not JSON; Python accepts them by default, PostgreSQL does not.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def json_text(value: object) -> str | None:
    """JSON values as the text the cast step parses; nested values stay JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
