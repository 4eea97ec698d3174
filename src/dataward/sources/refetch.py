"""Read chosen records of a text file again (CSV, NDJSON), by the line they start on, with
the values exactly as the batch reader gave them.

Uniqueness is known only once every key has been seen, so the first occurrence of a
repeated key has usually been passed over. Reading those few records again costs one
newline count over the file (at memchr speed) and a parse of just them; keeping every
raw row in case it turns out to be a duplicate cost up to 512 MB at 5M rows.
"""

from __future__ import annotations

import csv
import mmap
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import polars as pl

from dataward.errors import Location, SourceError
from dataward.sources.files import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DataFile,
    _csv_header,
    _decompressed,
    _json_record,
    json_text,
)

_CHUNK = 4 << 20


def refetch(data: DataFile, wanted: pl.DataFrame) -> pl.DataFrame:
    """The records of `data` at `wanted`'s record numbers (`_dw_source_row`) and start
    lines (`_dw_source_line`), with every location column."""
    if data.compression is not None:
        with _decompressed(data) as plain:
            return refetch(plain, wanted)
    if data.format not in ("csv", "ndjson"):
        raise ValueError(f"records are read again by line, and {data.format} has none")
    wanted = wanted.select(ROW_COLUMN, LINE_COLUMN).unique().sort(ROW_COLUMN)
    records = (
        _csv_records(data, wanted[LINE_COLUMN].to_list())
        if data.format == "csv"
        else _ndjson_records(data, wanted[LINE_COLUMN].to_list())
    )
    frame = pl.DataFrame(records, schema=dict.fromkeys(records, pl.String))
    if frame.height == wanted.height:
        frame = frame.with_columns(wanted[ROW_COLUMN], wanted[LINE_COLUMN])
    if frame.height != wanted.height:
        raise SourceError(
            "the file changed while it was read: records found at first are gone",
            Location(file=data.name),
        )
    return frame.with_columns(pl.lit(data.name).alias(SOURCE_COLUMN))


def _line_offsets(mapped: mmap.mmap, lines: list[int]) -> list[int]:
    """Byte offset where each of the sorted `lines` (1-based) starts.

    The file is looked at in chunks through numpy, without copying: a chunk with no
    wanted line is only counted (0.08 s for 500 MB); one with any is indexed once.
    """
    offsets: list[int] = []
    targets = iter(lines)
    target = next(targets, None)
    line, start = 1, 0  # the line that starts at byte `start`
    size = len(mapped)
    while target is not None and target == line:  # the first line starts at 0
        offsets.append(0)
        target = next(targets, None)
    while target is not None and start < size:
        length = min(_CHUNK, size - start)
        is_break = np.frombuffer(mapped, dtype=np.uint8, count=length, offset=start) == 10
        breaks = int(np.count_nonzero(is_break))
        if target <= line + breaks:
            positions = np.flatnonzero(is_break)
            while target is not None and target <= line + breaks:
                # Line `target` starts just after the (target - line)-th break of the chunk.
                offsets.append(start + int(positions[target - line - 1]) + 1)
                target = next(targets, None)
        line += breaks
        _release(mapped, start, length)
        start += length
    return offsets


def _release(mapped: mmap.mmap, start: int, length: int) -> None:
    """Unmap a scanned chunk from this process: the pages stay in the page cache, but a
    500 MB file walked through would otherwise count in full in the resident set."""
    if hasattr(mmap, "MADV_DONTNEED"):  # not on Windows
        begin = start - start % mmap.PAGESIZE  # madvise takes whole pages
        mapped.madvise(mmap.MADV_DONTNEED, begin, start + length - begin)


@contextmanager
def _mapped(data: DataFile) -> Iterator[mmap.mmap]:
    with (
        data.path.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m,
    ):
        yield m


def _lines_from(mapped: mmap.mmap, offset: int) -> Iterator[str]:
    position = offset
    while position < len(mapped):
        end = mapped.find(b"\n", position)
        stop = len(mapped) if end == -1 else end + 1
        yield mapped[position:stop].decode("utf-8")
        position = stop


def _csv_records(data: DataFile, lines: list[int]) -> dict[str, list[str | None]]:
    header, _ = _csv_header(data)
    missing = {"", *data.null_markers}
    columns: dict[str, list[str | None]] = {name: [] for name in header}
    with (
        data.path.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m,
    ):
        for offset in _line_offsets(m, lines):
            record = next(csv.reader(_lines_from(m, offset), delimiter=data.delimiter), None)
            if record is None or len(record) != len(header):
                continue  # counted as missing by the caller
            for name, value in zip(header, record, strict=True):
                # As the batch reader: an empty field (quoted or not) or a marker is null.
                columns[name].append(None if value in missing else value)
    return columns


def _ndjson_records(data: DataFile, lines: list[int]) -> dict[str, list[str | None]]:
    records: list[dict] = []
    with (
        data.path.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m,
    ):
        for line, offset in zip(lines, _line_offsets(m, lines), strict=False):
            end = m.find(b"\n", offset)
            raw = m[offset : len(m) if end == -1 else end]
            if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            records.append(_json_record(data, line, raw))
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return {name: [json_text(r.get(name)) for r in records] for name in names}
