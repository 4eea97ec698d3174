"""What validation keeps between batches is its own, not the batch it came from."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dataward.checks import compile_checks
from dataward.contract.loader import parse_contract
from dataward.sources import read_batches
from dataward.sources.files import expand_paths
from dataward.validate.engine import BatchValidator
from dataward.validate.result import ValidationResult

CONTRACT = """apiVersion: v3.1.0
kind: DataContract
id: urn:test:memory
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - {name: id, physicalType: BIGINT, primaryKey: true}
      - name: amount
        physicalType: DECIMAL(10,2)
        logicalTypeOptions: {exclusiveMinimum: 0}
      - {name: note, physicalType: TEXT}
"""


def text_bytes_held(frame: pl.DataFrame, column: str) -> int:
    """Bytes of the buffers a text column's string views point into."""
    exported = frame[column].to_arrow(compat_level=pl.CompatLevel.newest())
    return sum(buffer.size for buffer in exported.buffers() if buffer is not None)


def test_failing_rows_do_not_keep_their_batch_text_alive(tmp_path: Path):
    # 40,000 rows with long notes, one of them failing (amount 0). Without copying the
    # failing row out, it would point into every note of the batch until the end.
    lines = ["id,amount,note\n"]
    lines += [f"{i},{0 if i == 17 else 1.5},{'note-' * 20}{i}\n" for i in range(1, 40_001)]
    path = tmp_path / "big.csv"
    path.write_text("".join(lines), encoding="utf-8")
    contract = parse_contract(CONTRACT, "c.yaml")
    table = contract.table(None)
    validator = BatchValidator(
        contract,
        table,
        compile_checks(contract, table),
        ValidationResult(contract="c.yaml", table="orders", files=[str(path)]),
    )
    (batch,) = list(read_batches(expand_paths([str(path)])[0]))
    assert text_bytes_held(batch, "note") > 3_000_000
    validator.add_batch(batch)
    (kept,) = validator.failed_parts
    assert kept.height == 1
    assert kept["_dw_source_row"].to_list() == [17]
    assert text_bytes_held(kept, "raw:note") < 10_000
