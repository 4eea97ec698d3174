"""The in-process loaders the DuckDB load benchmark compares with `dataward run`.

Each runs one scenario in its own fresh process (see bench/load_duckdb.py): read the Parquet
file into Arrow, load it into a DuckDB file, close. A runner imports its libraries inside
`prepare`, before the child's clock starts, so the measured work excludes imports and the
process holds only what that tool needs.

  floor        CREATE TABLE ... PRIMARY KEY(order_id); INSERT INTO orders SELECT * FROM arrow.
               It cannot re-run: a second INSERT into the key violates it. The re-runs use
               INSERT OR REPLACE, which rewrites every row; the floor proper is the first load.
  dlt-merge    dlt, duckdb destination, write_disposition="merge", primary_key="order_id"
               (the default delete-insert strategy).
  dlt-upsert   the same with {"disposition": "merge", "strategy": "upsert"}.
  dlt-upsert-skip
               upsert with "skip_unchanged_rows": True (dlt >= 1.31), which compares every
               column before updating. Not in the default tool list: the issue names the two
               default strategies; this one shows what dlt can do when asked.

Every runner returns how many rows its writing statement(s) reported. For dlt that number is
observed, not inferred: a spy wraps dlt's DuckDB SQL client's `execute_sql`, passes every call
through unchanged and keeps the count DuckDB returned for statements that write the target
table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orders_spec as spec

Runner = Callable[[Path, Path, str, Path], dict[str, Any]]

TABLE = "orders"
DLT_PIPELINE = "bench_orders"
DLT_DATASET = "bench"
DLT_DISPOSITIONS: dict[str, Any] = {
    "dlt-merge": "merge",
    "dlt-upsert": {"disposition": "merge", "strategy": "upsert"},
    "dlt-upsert-skip": {"disposition": "merge", "strategy": "upsert", "skip_unchanged_rows": True},
}


# --------------------------------------------------------------------------- floor
def floor_ddl(if_not_exists: bool = False) -> str:
    """The contract's columns and types (orders_spec.SQL_TYPES are valid DuckDB and PostgreSQL:
    bench/load_postgres_peers.py creates its table with this too)."""
    columns = [
        f"{name} {spec.SQL_TYPES[name]}" + (" NOT NULL" if name in spec.NOT_NULL else "")
        for name in spec.COLUMNS
    ]
    exists = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE TABLE {exists}{TABLE} ({', '.join(columns)}, PRIMARY KEY ({spec.UNIQUE}))"


def run_floor(db: Path, source: Path, scenario: str, workdir: Path) -> dict[str, Any]:
    import duckdb
    import pyarrow.parquet as pq

    arrow_table = pq.read_table(source)
    con = duckdb.connect(str(db))
    try:
        con.register("arrow_table", arrow_table)
        if scenario == "first":
            con.execute(floor_ddl())
            statement = f"INSERT INTO {TABLE} SELECT * FROM arrow_table"
        else:
            statement = f"INSERT OR REPLACE INTO {TABLE} SELECT * FROM arrow_table"
        (written,) = con.execute(statement).fetchone()
    finally:
        con.close()  # checkpoints: part of the load, as it is for the other tools
    return {"rows_written": int(written), "statement": statement.split(" SELECT")[0]}


# --------------------------------------------------------------------------- dlt
class StatementSpy:
    """Counts rows reported by dlt's statements that write `<dataset>.orders`.

    dlt sends its merge as one multi-statement string (delete-insert: DELETE ...; INSERT ...);
    DuckDB returns the count of the last statement, which is the INSERT or the MERGE.
    """

    def __init__(self, dataset: str) -> None:
        self.target = f'"{dataset}"."{TABLE}"'
        self.writes: list[tuple[str, int]] = []

    def install(self) -> None:
        from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

        original = DuckDbSqlClient.execute_sql
        spy = self

        def execute_sql(client, sql, *args, **kwargs):
            result = original(client, sql, *args, **kwargs)
            spy.observe(str(sql), result)
            return result

        DuckDbSqlClient.execute_sql = execute_sql

    def observe(self, sql: str, result) -> None:
        text = " ".join(sql.split())
        upper = text.upper()
        writes_target = any(
            f"{verb} {self.target}".upper() in upper
            for verb in ("INSERT INTO", "MERGE INTO", "DELETE FROM", "UPDATE")
        )
        if not writes_target:
            return
        count = result[0][0] if result and result[0] and isinstance(result[0][0], int) else 0
        kinds = [
            verb
            for verb in ("DELETE", "INSERT", "MERGE")
            if f"{verb} {'FROM' if verb == 'DELETE' else 'INTO'} {self.target}".upper() in upper
        ]
        if "WHEN MATCHED AND (" in upper:
            kinds.append("(WHEN MATCHED AND changed)")
        self.writes.append((" + ".join(kinds), int(count)))


def dlt_load(destination: Any, disposition: Any, source: Path, workdir: Path) -> tuple[Any, Any]:
    """One dlt pipeline run of the Parquet file into TABLE, merged on the key; its load info
    and the rows dlt staged. bench/load_postgres_peers.py runs dlt through this too."""
    import dlt
    import pyarrow.parquet as pq

    arrow_table = pq.read_table(source)
    pipeline = dlt.pipeline(
        pipeline_name=DLT_PIPELINE,
        destination=destination,
        dataset_name=DLT_DATASET,
        pipelines_dir=str(workdir / "dlt"),
        progress=None,
    )
    info = pipeline.run(
        arrow_table,
        table_name=TABLE,
        write_disposition=disposition,
        primary_key=spec.UNIQUE,
    )
    info.raise_on_failed_jobs()
    return info, pipeline.last_trace.last_normalize_info.row_counts.get(TABLE)


def dlt_outcome(writes: list[tuple[str, int]], staged: Any) -> dict[str, Any]:
    """A dlt run's report: what the spy saw written, and what dlt staged."""
    return {
        "rows_written": sum(count for _, count in writes) if writes else None,
        "statement": "; ".join(kind for kind, _ in writes),
        "rows_staged": staged,
    }


def dlt_runner(tool: str) -> Runner:
    import dlt

    spy = StatementSpy(DLT_DATASET)
    spy.install()

    def run(db: Path, source: Path, scenario: str, workdir: Path) -> dict[str, Any]:
        destination = dlt.destinations.duckdb(str(db))
        _, staged = dlt_load(destination, DLT_DISPOSITIONS[tool], source, workdir)
        return dlt_outcome(spy.writes, staged)

    return run


# --------------------------------------------------------------------------- registry
TOOLS = ("floor", *DLT_DISPOSITIONS)


def prepare(tool: str) -> Runner:
    """Import what `tool` needs and return its runner."""
    import duckdb  # noqa: F401  (every runner writes DuckDB)
    import pyarrow.parquet  # noqa: F401

    if tool == "floor":
        return run_floor
    if tool in DLT_DISPOSITIONS:
        return dlt_runner(tool)
    raise ValueError(f"no in-process runner for {tool}")
