"""The in-process loaders the PostgreSQL load benchmark compares with `dataward run`.

Each runs one scenario in its own fresh process (see bench/load_postgres.py): read the Parquet
file, load it into the `orders` table of a database the benchmark created for this tool and
repetition, commit, close. A runner imports its libraries inside `prepare`, before the
child's clock starts, so the measured work excludes imports and the process holds only what
that tool needs.

  floor           CREATE TABLE ... PRIMARY KEY (order_id); the Parquet file read with pyarrow,
                  encoded in PostgreSQL's binary COPY format by pgpq (Rust, batch at a time)
                  and streamed with psycopg 3 `cursor.copy("COPY ... FROM STDIN (FORMAT
                  BINARY)")`, in one transaction. It cannot re-run: a second COPY into the key
                  violates it. The re-runs COPY into a temporary table and run one
                  `INSERT ... ON CONFLICT (order_id) DO UPDATE SET <every column>`, which
                  rewrites every row; the floor proper is the first load.
  copy-write-row  the same, but every row goes through psycopg's own `copy.write_row` as a
                  Python tuple (what psycopg's documentation shows), binary format with
                  `copy.set_types`.
  executemany     CREATE TABLE IF NOT EXISTS ... PRIMARY KEY; psycopg 3 `executemany` of
                  `INSERT ... ON CONFLICT (order_id) DO UPDATE SET <every column>` in batches
                  of EXECUTEMANY_BATCH rows (psycopg pipelines them), one transaction; the same
                  statement in every scenario, as a hand-written pipeline runs it.
  dlt-merge       dlt, postgres destination, write_disposition="merge",
                  primary_key="order_id" (the default delete-insert strategy).
  dlt-upsert      the same with {"disposition": "merge", "strategy": "upsert"}.

Every runner returns how many rows its writing statement(s) reported (psycopg's rowcount).
For dlt that number is observed, not inferred: a spy wraps the `execute_query` of dlt's
PostgreSQL SQL client (psycopg2), passes every call through unchanged and keeps the rowcount
of the statements that write the target table. dlt sends its merge as one multi-statement
string; psycopg2 reports the count of the string's last statement, so the spy counts a
string only when that last statement writes the target and says which statement it was.
The benchmark also reads the server's own per-table counters, whatever a tool reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orders_spec as spec
from load_duckdb_peers import DLT_DATASET, TABLE, dlt_load, dlt_outcome, floor_ddl

Runner = Callable[[str, Path, str, Path], dict[str, Any]]

DLT_DISPOSITIONS: dict[str, Any] = {
    "dlt-merge": "merge",
    "dlt-upsert": {"disposition": "merge", "strategy": "upsert"},
}
# Rows per executemany call (and per Arrow batch turned into Python tuples).
EXECUTEMANY_BATCH = 10_000
# Rows per Arrow batch handed to pgpq (a batch is encoded to one buffer, then sent).
COPY_BATCH = 65_536
# psycopg's names of the binary types write_row sends, in spec.COLUMNS order.
WRITE_ROW_TYPES = ("int8", "int8", "numeric", "text", "timestamptz", "text", "text", "int4")
WIRE = "orders_copy"


def column_list() -> str:
    return ", ".join(spec.COLUMNS)


def upsert_tail() -> str:
    """ON CONFLICT ... DO UPDATE of every non-key column: no check of what changed."""
    rest = [name for name in spec.COLUMNS if name != spec.UNIQUE]
    sets = ", ".join(f"{name} = EXCLUDED.{name}" for name in rest)
    return f"ON CONFLICT ({spec.UNIQUE}) DO UPDATE SET {sets}"


# --------------------------------------------------------------------------- floor (COPY)
def copy_pgpq(cursor, target: str, source: Path) -> int:
    """Binary COPY of the Parquet file into `target`: pyarrow reads, pgpq encodes."""
    import pyarrow.parquet as pq
    from pgpq import ArrowToPostgresBinaryEncoder

    arrow_table = pq.read_table(source)
    encoder = ArrowToPostgresBinaryEncoder(arrow_table.schema)
    statement = f"COPY {target} ({column_list()}) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(statement) as copy:
        copy.write(encoder.write_header())
        for batch in arrow_table.to_batches(max_chunksize=COPY_BATCH):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())
    return cursor.rowcount


def python_rows(source: Path, batch_size: int) -> Iterator[list[tuple]]:
    """The Parquet file as lists of Python tuples (int, Decimal, str, datetime, None)."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(source).iter_batches(batch_size=batch_size):
        yield list(zip(*(column.to_pylist() for column in batch.columns), strict=True))


def copy_write_row(cursor, target: str, source: Path) -> int:
    """Binary COPY with psycopg's own row writer: one Python tuple per row."""
    statement = f"COPY {target} ({column_list()}) FROM STDIN (FORMAT BINARY)"
    with cursor.copy(statement) as copy:
        copy.set_types(list(WRITE_ROW_TYPES))
        for rows in python_rows(source, COPY_BATCH):
            for row in rows:
                copy.write_row(row)
    return cursor.rowcount


def copy_runner(write: Callable[[Any, str, Path], int]) -> Runner:
    def run(url: str, source: Path, scenario: str, workdir: Path) -> dict[str, Any]:
        import psycopg

        with psycopg.connect(url, application_name="bench-floor") as conn:
            cursor = conn.cursor()
            if scenario == "first":
                cursor.execute(floor_ddl())
                written = write(cursor, TABLE, source)
                statement = "COPY orders FROM STDIN (FORMAT BINARY)"
            else:
                # The naive re-run: everything to a temporary table, one upsert of every row.
                cursor.execute(
                    f"CREATE TEMP TABLE {WIRE} (LIKE {TABLE} INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                write(cursor, WIRE, source)
                cursor.execute(
                    f"INSERT INTO {TABLE} ({column_list()}) SELECT {column_list()} "
                    f"FROM {WIRE} {upsert_tail()}"
                )
                written = cursor.rowcount
                statement = "COPY to a temp table; INSERT ... ON CONFLICT DO UPDATE"
            # leaving the block commits
        return {"rows_written": int(written), "statement": statement}

    return run


# --------------------------------------------------------------------------- executemany
def run_executemany(url: str, source: Path, scenario: str, workdir: Path) -> dict[str, Any]:
    import psycopg

    placeholders = ", ".join(["%s"] * len(spec.COLUMNS))
    statement = f"INSERT INTO {TABLE} ({column_list()}) VALUES ({placeholders}) {upsert_tail()}"
    written = 0
    with psycopg.connect(url, application_name="bench-executemany") as conn:
        cursor = conn.cursor()
        cursor.execute(floor_ddl(if_not_exists=True))
        for rows in python_rows(source, EXECUTEMANY_BATCH):
            cursor.executemany(statement, rows)
            written += cursor.rowcount  # psycopg 3: the sum over the batch
        # leaving the block commits: one transaction, as the other tools
    return {
        "rows_written": written,
        "statement": f"executemany INSERT ... ON CONFLICT DO UPDATE, {EXECUTEMANY_BATCH:,} a call",
    }


# --------------------------------------------------------------------------- dlt
class StatementSpy:
    """Rowcounts psycopg2 reported for dlt's statements that write `<dataset>.orders`."""

    VERBS = ("INSERT INTO", "MERGE INTO", "DELETE FROM", "UPDATE")

    def __init__(self, dataset: str) -> None:
        self.target = f'"{dataset}"."{TABLE}"'.upper()
        self.writes: list[tuple[str, int]] = []

    def install(self) -> None:
        from dlt.destinations.impl.postgres.sql_client import Psycopg2SqlClient

        original = Psycopg2SqlClient.execute_query
        spy = self

        @contextmanager
        def execute_query(client, query, *args, **kwargs):
            with original(client, query, *args, **kwargs) as cursor:
                text = query if isinstance(query, str) else query.as_string(client._conn)
                spy.observe(text, cursor.native_cursor.rowcount)
                yield cursor

        Psycopg2SqlClient.execute_query = execute_query

    def writes_target(self, statement: str) -> list[str]:
        upper = " ".join(statement.split()).upper()
        return [verb for verb in self.VERBS if f"{verb} {self.target}" in upper]

    def observe(self, sql: str, rowcount: int) -> None:
        statements = [s for s in sql.split(";") if s.strip()]
        kinds = [kind for s in statements for kind in self.writes_target(s)]
        if not kinds:
            return
        # psycopg2's rowcount belongs to the last statement of a multi-statement string.
        last = self.writes_target(statements[-1])
        if last and rowcount is not None and rowcount >= 0:
            how = " + ".join(kinds) + (f" (count of the last, {last[0]})" if len(kinds) > 1 else "")
            self.writes.append((how, int(rowcount)))
        else:
            self.writes.append((" + ".join(kinds) + " (no count: not the last statement)", 0))


def dlt_runner(tool: str) -> Runner:
    import dlt

    spy = StatementSpy(DLT_DATASET)
    spy.install()

    def run(url: str, source: Path, scenario: str, workdir: Path) -> dict[str, Any]:
        destination = dlt.destinations.postgres(credentials=url)
        info, staged = dlt_load(destination, DLT_DISPOSITIONS[tool], source, workdir)
        formats = sorted(
            {
                job.job_file_info.file_format
                for package in info.load_packages
                for job in package.jobs.get("completed_jobs", [])
                if job.job_file_info.table_name == TABLE
            }
        )
        return {**dlt_outcome(spy.writes, staged), "file_format": ",".join(formats)}

    return run


# --------------------------------------------------------------------------- registry
TOOLS = ("floor", "copy-write-row", "executemany", *DLT_DISPOSITIONS)


def prepare(tool: str) -> Runner:
    """Import what `tool` needs and return its runner."""
    import pyarrow.parquet  # noqa: F401

    if tool in DLT_DISPOSITIONS:
        return dlt_runner(tool)  # dlt brings its own driver (psycopg2)
    import psycopg  # noqa: F401

    if tool == "floor":
        import pgpq  # noqa: F401

        return copy_runner(copy_pgpq)
    if tool == "copy-write-row":
        return copy_runner(copy_write_row)
    if tool == "executemany":
        return run_executemany
    raise ValueError(f"no in-process runner for {tool}")
