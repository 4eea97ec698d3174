"""What validation keeps between batches is its own, not the batch it came from."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from tests.validate.test_validate_files import HEADER, contract, write

from dataward.checks import compile_checks
from dataward.sources import read_batches
from dataward.sources.files import expand_paths
from dataward.validate.engine import BatchValidator
from dataward.validate.result import ValidationResult


def text_bytes_held(frame: pl.DataFrame, column: str) -> int:
    """Bytes of the buffers a text column's string views point into."""
    exported = frame[column].to_arrow(compat_level=pl.CompatLevel.newest())
    return sum(buffer.size for buffer in exported.buffers() if buffer is not None)


def test_failing_rows_do_not_keep_their_batch_text_alive(tmp_path: Path):
    # 40,000 rows with long notes, one of them failing (amount 0). Without copying the
    # failing row out, it would point into every note of the batch until the end.
    lines = [HEADER]
    lines += [f"{i},{0 if i == 17 else 1.5},,{'note-' * 20}{i},1\n" for i in range(1, 40_001)]
    path = write(tmp_path, "big.csv", "".join(lines))
    table = contract().table(None)
    validator = BatchValidator(
        contract(),
        table,
        compile_checks(contract(), table),
        ValidationResult(contract="c.yaml", table="orders", files=[str(path)]),
    )
    (batch,) = list(read_batches(expand_paths([str(path)])[0]))
    assert text_bytes_held(batch, "note") > 3_000_000
    validator.add_batch(batch)
    (kept,) = validator.failed_parts
    assert kept.height == 1
    assert kept["_dw_source_row"].to_list() == [17]
    assert text_bytes_held(kept, "raw:note") < 10_000
