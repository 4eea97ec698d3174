"""Load benchmark: `dataward run` into DuckDB against a raw INSERT floor and dlt's merges.

A seeded, clean `orders` data set (every row valid against bench/orders.odcs.yaml, order_id
unique; made from bench/orders_data.py's generator with its known-bad rows removed) is loaded
from Parquet into a DuckDB file by:

  floor        duckdb: CREATE TABLE ... PRIMARY KEY(order_id); INSERT ... FROM the Arrow table
  dlt-merge    dlt, duckdb destination, merge on order_id (default delete-insert strategy)
  dlt-upsert   dlt, merge with the upsert strategy
  dataward     `dataward run orders` in a project directory this script writes

(and, on request, dlt-upsert-skip: upsert with skip_unchanged_rows=True). Each tool runs three
scenarios on a fresh DuckDB file per repetition: the first load into an empty file, an
identical re-run, and a re-run where 1% of the order_ids carry a different amount and status.
Every scenario is its own process, as a scheduled job would be: its wall time (process start
to exit, the "median s" column) and its peak RSS are its own. After scenario 3 the table's
content is compared, tool by tool, with the changed Parquet file itself.

    .venv/bin/python bench/load_duckdb.py --rows 100000 --repeat 1 --tools floor,dlt-merge
    .venv/bin/python bench/load_duckdb.py                 # 1M and 5M rows, 3 runs, four tools
    .venv/bin/python bench/load_duckdb.py --rows 5000000 --tools floor,dataward --merge
    .venv/bin/python bench/load_duckdb.py --render-only   # markdown again from the raw JSON

Every run goes to bench/data/load_duckdb.json (gitignored); --merge keeps the tool/rows pairs
not run now. Until `dataward run` exists, dataward is reported as not available.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import load_common as common
from machine import machine_info

ROOT = common.BENCH.parent
RUNS_DIR = common.DATA_DIR / "load_runs"
# dataward.toml's warehouse: a DuckDB file in the project directory.
WAREHOUSE_URL = "duckdb:///warehouse.duckdb"

TOOLS = ("floor", "dlt-merge", "dlt-upsert", "dataward", "dlt-upsert-skip")
DEFAULT_TOOLS = ("floor", "dlt-merge", "dlt-upsert", "dataward")
# Progress lines: the longest tool name (dlt-upsert-skip) and a space.
TOOL_WIDTH = 16
CHANGED_SHARE = 0.01
# Bump when the clean / changed files' content changes, so cached files are rebuilt.
LOAD_DATA_VERSION = 1
PACKAGES = ("dataward", "duckdb", "dlt", "pyarrow", "polars", "numpy", "psutil")

# Targets for dataward (the issue's), at the largest row count with dataward results.
TARGET_ROWS = 5_000_000
TARGET_FLOOR_RATIO = 1.3
TARGET_SAME_RATIO = 0.2
TARGET_CHANGED_RATIO = 0.3
TARGET_RSS_MIB = 1024.0


# --------------------------------------------------------------------------- data
def data_paths(rows: int) -> dict[str, Path]:
    import orders_data

    stem = f"load_orders_{rows}_v{orders_data.DATA_VERSION}.{LOAD_DATA_VERSION}"
    return {
        "clean": common.DATA_DIR / f"{stem}.clean.parquet",
        "changed": common.DATA_DIR / f"{stem}.changed.parquet",
    }


def prepare_main(rows: int) -> int:
    """Write the clean and the 1%-changed Parquet files for `rows` (in a child process).

    The generator's bad rows (and the clean partners of its duplicate keys) are the record
    numbers it returns as failing; dropping them leaves only rows that pass every check. It
    generates 2% more rows than asked so that exactly `rows` remain.
    """
    from decimal import Decimal

    import numpy as np
    import orders_data
    import orders_spec as spec
    import polars as pl

    files = data_paths(rows)
    generated = rows + rows // 50 + 100
    frame, failing = orders_data.generate(generated)
    keep = np.ones(generated, dtype=bool)
    keep[failing - 1] = False
    clean = frame.filter(pl.Series(keep)).head(rows)
    if clean.height != rows:
        raise RuntimeError(f"only {clean.height:,} clean rows out of {generated:,} generated")
    key = clean[spec.UNIQUE]
    if key.null_count() or key.n_unique() != rows:
        raise RuntimeError("order_id is not unique and non-null after dropping the bad rows")

    # A deterministic 1% of the rows: amount + 1, status moved to the next valid value (a
    # null status, one of the generator's edge rows, becomes "pending"). Both stay valid.
    rng = np.random.default_rng(orders_data.SEED + 1)
    picked = np.zeros(rows, dtype=bool)
    picked[rng.choice(rows, round(rows * CHANGED_SHARE), replace=False)] = True
    following = {
        s: spec.STATUSES[(i + 1) % len(spec.STATUSES)] for i, s in enumerate(spec.STATUSES)
    }
    which = pl.Series("picked", picked)
    changed = clean.with_columns(
        pl.when(which)
        .then(pl.col("amount") + pl.lit(Decimal("1.0000")))
        .otherwise(pl.col("amount"))
        .cast(pl.Decimal(19, 4))
        .alias("amount"),
        pl.when(which)
        .then(pl.col("status").replace(following).fill_null("pending"))
        .otherwise(pl.col("status"))
        .alias("status"),
    )
    assert changed.schema == clean.schema, (changed.schema, clean.schema)
    common.DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in (("clean", clean), ("changed", changed)):
        tmp = files[name].with_name(files[name].name + ".tmp")
        content.write_parquet(tmp, compression="zstd", statistics=True)
        tmp.replace(files[name])  # rename last: a half-written file is never picked up
    print(f"wrote {rows:,} clean rows and {int(picked.sum()):,} changed -> {common.DATA_DIR}")
    return 0


def ensure_data(rows: int) -> dict[str, Path]:
    files = data_paths(rows)
    if all(path.exists() for path in files.values()):
        return files
    print(f"generating the clean orders data set: {rows:,} rows ...", flush=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--prepare", str(rows)]
    subprocess.run(command, check=True, cwd=ROOT)
    return files


# --------------------------------------------------------------------------- the table
def find_orders_table(con) -> str:
    """The one table named orders, wherever the tool put it (dlt: <dataset>.orders)."""
    found = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'orders' "
        "AND table_schema NOT LIKE '%staging%' AND table_schema <> 'dataward' "
        "AND table_type = 'BASE TABLE'"
    ).fetchall()
    if len(found) != 1:
        raise RuntimeError(f"expected one orders table, found schemas {[r[0] for r in found]}")
    return f'"{found[0][0]}"."orders"'


def canonical_rows_sql(relation: str) -> str:
    """One text line per row, equal across tools whatever types they chose.

    Integers as BIGINT text; amount as DECIMAL(38,4) text; created_at as microseconds since
    the epoch of the value taken as TIMESTAMPTZ (session time zone UTC, so a naive TIMESTAMP
    would be read as UTC); NULL as \\N; columns joined by the unit separator.
    """
    exprs = {
        "order_id": "CAST(order_id AS BIGINT)::VARCHAR",
        "customer_id": "CAST(customer_id AS BIGINT)::VARCHAR",
        "amount": "CAST(amount AS DECIMAL(38,4))::VARCHAR",
        "email": "CAST(email AS VARCHAR)",
        "created_at": "epoch_us(CAST(created_at AS TIMESTAMPTZ))::VARCHAR",
        "status": "CAST(status AS VARCHAR)",
        "country": "CAST(country AS VARCHAR)",
        "quantity": "CAST(quantity AS BIGINT)::VARCHAR",
    }
    parts = ", ".join(f"coalesce({exprs[name]}, '\\N')" for name in common.CANONICAL_COLUMNS)
    return f"SELECT order_id, concat_ws(chr(31), {parts}) AS line FROM {relation}"


def fingerprint(con, relation: str) -> str:
    """rows / distinct keys / XOR of each canonical row's MD5.

    With order_id in every line and as many distinct keys as rows, the rows are a set keyed
    by order_id, so equal fingerprints mean equal `SELECT ... ORDER BY order_id` output (up
    to a 128-bit hash collision) without building one string of the whole table.
    """
    con.execute("SET TimeZone = 'UTC'")
    rows, keys, digest = con.execute(
        "SELECT count(*), count(DISTINCT order_id), bit_xor(md5_number(line)) "
        f"FROM ({canonical_rows_sql(relation)})"
    ).fetchone()
    return f"{rows}/{keys}/{int(digest or 0):032x}"


def source_fingerprint(path: Path) -> str:
    import duckdb

    con = duckdb.connect()
    try:
        return fingerprint(con, f"read_parquet('{path}')")
    finally:
        con.close()


def inspect_table(db: Path) -> dict:
    """Where the table is, its column types, its key, its fingerprint, and what else is there."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        relation = find_orders_table(con)
        schema = relation.split(".")[0].strip('"')
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = 'orders' ORDER BY ordinal_position",
                [schema],
            ).fetchall()
        )
        keys = con.execute(
            "SELECT constraint_type FROM duckdb_constraints() WHERE schema_name = ? "
            "AND table_name = 'orders' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
            [schema],
        ).fetchall()
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
        tables = {}
        for schema_name, name in names:
            query = f'SELECT count(*) FROM "{schema_name}"."{name}"'
            tables[f"{schema_name}.{name}"] = con.execute(query).fetchone()[0]
        return common.table_description(relation, types, keys, tables, fingerprint(con, relation))
    finally:
        con.close()


# --------------------------------------------------------------------------- one scenario
@dataclass
class Run:
    tool: str
    rows: int
    repeat: int
    scenario: str
    session: str
    wall_s: float | None = None  # process start to exit: the compared number
    work_s: float | None = None  # inside the process, after imports (in-process tools)
    import_s: float | None = None
    peak_rss_mib: float | None = None  # VmHWM of the tool's process
    rss_from: str = ""
    tree_rss_mib: float | None = None  # polled from outside every 20 ms, whole tree
    db_mib: float | None = None  # DuckDB file (+ .wal) after the scenario
    used_mib: float | None = None  # the file's used blocks (the rest is free space)
    side_mib: float | None = None  # everything else the tool left in its directory
    rows_written: int | None = None
    written_how: str = ""
    counts: dict = field(default_factory=dict)  # dataward's own counts for this run
    error: str | None = None


def run_scenario(
    tool: str, scenario: str, rows: int, repeat: int, files: dict, workdir: Path, options
) -> tuple[Run, Path]:
    run = Run(tool=tool, rows=rows, repeat=repeat, scenario=scenario, session=options.session)
    source = files["clean" if scenario in ("first", "same") else "changed"]
    log = workdir / f"{scenario}.log"
    if tool == "dataward":
        project = common.dataward_project(workdir, scenario, source, WAREHOUSE_URL)
        db = project / "warehouse.duckdb"
        command = [str(options.dataward_exe), "run", "orders"]
        code, run.wall_s, sampler = common.measured_process(command, project, log, options.timeout)
        common.read_dataward_run(run, code, log, sampler, options.dataward_exe, project)
        run.side_mib = (
            common.size_of(project) - common.size_of(db) - common.size_of(wal_of(db))
        ) / 2**20
    else:
        db = workdir / "warehouse.duckdb"
        report = workdir / f"{scenario}.json"
        report.unlink(missing_ok=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--child", tool]
        command += ["--scenario", scenario, "--db", str(db), "--source", str(source)]
        command += ["--workdir", str(workdir), "--report", str(report)]
        code, run.wall_s, sampler = common.measured_process(
            command, common.BENCH, log, options.timeout
        )
        common.read_child_report(run, code, log, report, sampler)
        run.side_mib = common.size_of(workdir / "dlt") / 2**20
    run.db_mib = (common.size_of(db) + common.size_of(wal_of(db))) / 2**20
    if run.error is None:
        run.used_mib = used_bytes(db) / 2**20
    return run, db


def used_bytes(db: Path) -> int:
    """Bytes in the file's used blocks: a load leaves free blocks the file keeps."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        (used,) = con.execute(
            "SELECT used_blocks * block_size FROM pragma_database_size()"
        ).fetchone()
        return int(used)
    finally:
        con.close()


def wal_of(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def run_tool(tool: str, rows: int, repeat: int, files: dict, expected: str, options):
    """The three scenarios on a fresh DuckDB file, then the content check."""
    workdir = RUNS_DIR / f"{tool}-{rows}-r{repeat}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    runs: list[Run] = []
    db = None
    for scenario in common.SCENARIOS:
        run, db = run_scenario(tool, scenario, rows, repeat, files, workdir, options)
        runs.append(run)
        common.progress(rows, tool, repeat, scenario, describe(run), TOOL_WIDTH)
        if run.error:
            break
    finished = runs[-1].error is None
    check = common.check_content(
        tool, rows, repeat, expected, finished, lambda: inspect_table(db), TOOL_WIDTH
    )
    if not options.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return runs, check


def describe(run: Run) -> str:
    return common.describe(
        run, lambda: [f"file {run.db_mib:,.1f} MiB", f"wrote {common.fmt_n(run.rows_written)}"]
    )


# --------------------------------------------------------------------------- summary
@dataclass(kw_only=True)
class Summary(common.Summary):
    db_mib: float | None
    used_mib: float | None
    side_mib: float | None


def summarize(runs: list[Run]) -> list[Summary]:
    return common.summarize(runs, summary, TOOLS)


def summary(shared: dict[str, Any], good: list[Run]) -> Summary:
    """The shared fields, and the file sizes' medians over the successful runs."""
    return Summary(
        **shared,
        db_mib=common.median([r.db_mib for r in good]),
        used_mib=common.median([r.used_mib for r in good]),
        side_mib=common.median([r.side_mib for r in good]),
    )


HEADERS = (
    *common.LEADING_HEADERS,
    "file MiB",
    "used MiB",
    "side MiB",
    "rows written",
)
TABLE_TITLE = "DuckDB load (median of runs; wall clock of each scenario's process)"


def own_cells(s: Summary) -> tuple[str, ...]:
    """The table's cells after LEADING_HEADERS'."""
    return (
        f"{s.db_mib:,.1f}" if s.db_mib is not None else "-",
        f"{s.used_mib:,.1f}" if s.used_mib is not None else "-",
        f"{s.side_mib:,.1f}" if s.side_mib is not None else "-",
        common.fmt_n(s.rows_written),
    )


def table_rows(summaries: list[Summary]) -> list[tuple[str, ...]]:
    return common.summary_rows(summaries, len(HEADERS), own_cells)


def print_table(summaries: list[Summary], unavailable: dict[str, str]) -> None:
    common.print_rows(table_rows(summaries), unavailable, HEADERS, TABLE_TITLE, 200)


def targets(summaries: list[Summary], checks: list[common.Check]) -> list[common.Target]:
    """(where, target, PASS/FAIL (detail)) at the largest row count with dataward results."""
    measured = common.dataward_rows(summaries)
    if not measured:
        return [common.NOT_MEASURED]
    scope = common.target_scope(summaries, max(measured), TARGET_ROWS)
    where, first, same = scope.where, scope.first, scope.same
    lines = [
        common.floor_target(
            scope,
            f"first load at most {TARGET_FLOOR_RATIO}x the floor's first load",
            TARGET_FLOOR_RATIO,
        )
    ]
    for peer in ("dlt-merge", "dlt-upsert"):
        other = scope.get((peer, "first"))
        ok = None if not (other and other.median_s) else first.median_s < other.median_s
        detail = f"{first.median_s:.2f} s vs {other.median_s:.2f} s" if ok is not None else ""
        lines.append((where, f"first load faster than {peer}", common.verdict(ok, detail)))
    lines.append(common.rerun_target(scope, "identical re-run", same, TARGET_SAME_RATIO))
    if same and same.median_s:
        lines.append(
            (
                where,
                "identical re-run writes zero rows",
                common.verdict(
                    None if same.rows_written is None else same.rows_written == 0,
                    f"{common.fmt_n(same.rows_written)} rows written",
                ),
            )
        )
    lines += common.last_targets(scope, checks, TARGET_CHANGED_RATIO, "1 GiB", TARGET_RSS_MIB)
    return lines


# --------------------------------------------------------------------------- markdown
NOTES = (
    "- **median s**: wall clock of the scenario's process, from start to exit, as a scheduled",
    "  job would see it: interpreter start, imports, reading the Parquet file, the load, and",
    "  closing the database (DuckDB checkpoints on close). Median over the repetitions.",
    "  **work s**: the same run timed inside the process after its imports (the floor and",
    "  dlt run in a Python child of this script; `dataward run` is a subprocess, so it has",
    "  only the outside time).",
    "- **x floor first**: median s / the floor's first load (same rows); **x own first**:",
    "  median s / the same tool's first load.",
    "- **peak RSS**: the resident-set high-water mark (VmHWM) of the tool's process, worst",
    "  repetition. Every scenario is its own process, so each has its own peak. The floor",
    "  and dlt read their own VmHWM at the end; for `dataward run` a thread here reads",
    "  `/proc/<pid>/status` every 20 ms while it runs and keeps the last VmHWM seen (the",
    "  kernel's running maximum, so only growth in the last <= 20 ms could be missed).",
    "  **tree RSS**: the largest summed RSS of the process and its children, sampled every",
    "  20 ms with psutil, for every tool (samples can miss a short peak).",
    "- **file MiB**: the DuckDB file (and .wal, if any) after the scenario; **used MiB**: its",
    "  used blocks (`pragma_database_size`). DuckDB keeps freed blocks in the file for reuse",
    "  (even a first load leaves some), so the file can be larger than what it holds.",
    "  **side MiB**: whatever else the tool keeps next to it (dlt: its pipelines directory,",
    "  where every load package stays with its Parquet copy of the data; dataward: the",
    "  project directory without the warehouse file).",
    "- **rows written**: what the writing statements reported. floor: the INSERT's count.",
    "  dlt: the count DuckDB returned for the statement(s) writing the target table, seen",
    "  through a pass-through spy on dlt's SQL client (delete-insert sends `DELETE ...;",
    "  INSERT ...` as one string; DuckDB reports the INSERT's count, and the DELETE removed",
    "  as many). dataward: `dataward runs --format json`, inserted + updated + deleted.",
    "- **floor re-runs**: the floor is the first load only. A second plain INSERT into the",
    "  primary-key table fails, so its scenarios 2 and 3 run `INSERT OR REPLACE`, which",
    "  rewrites every row; they show the naive upsert, not a target.",
)

EQUALITY_NOTES = (
    "After scenario 3 each tool's table is compared with the changed Parquet file itself (so",
    "also with every other tool). Each row of the 8 contract columns becomes one canonical",
    "text line: order_id, customer_id and quantity cast to BIGINT; amount cast to",
    "DECIMAL(38,4) (exact for any DECIMAL(p,4)); created_at cast to TIMESTAMPTZ with the",
    "session time zone UTC and written as microseconds since the epoch; NULL as `\\N`;",
    "columns joined by U+001F. The fingerprint is row count / distinct order_id count / XOR of",
    "the lines' MD5 (128-bit). With order_id in every line and unique, the rows form a set",
    "keyed by order_id, so equal fingerprints mean equal `SELECT ... ORDER BY order_id`",
    "output; no single string of the table is built. The table is found by name",
    "(`orders` in any schema but a staging schema or `dataward`).",
)


def render_markdown(
    summaries: list[Summary], runs: list[Run], checks: list[common.Check], meta: dict
) -> str:
    unavailable = meta.get("unavailable", {})
    out = [
        "# Loading into DuckDB: dataward, dlt and a raw INSERT",
        "",
        "Generated by `bench/load_duckdb.py`; do not edit by hand. Command: `"
        + meta["command"]
        + "`.",
        "",
        "A seeded, clean `orders` data set (Parquet; every row valid against",
        "bench/orders.odcs.yaml, order_id unique) loaded into a DuckDB file. Each tool runs",
        "three scenarios on a fresh file per repetition: (1) the first load into an empty",
        "file, (2) an identical re-run, (3) a re-run where 1% of the order_ids (a seeded",
        "choice) carry amount + 1 and the next status. Each scenario is a fresh process.",
        "",
        *NOTES,
        "",
        "## Results",
        "",
        *common.table_lines(HEADERS, table_rows(summaries)),
        # Here the not-available rows follow the smoke-run note (load_postgres.py has them
        # before it): each driver keeps the markdown it has always written.
        *common.few_runs_lines(summaries),
        *common.unavailable_rows(unavailable, HEADERS),
        *common.unavailable_notes(unavailable),
        *common.targets_lines(targets(summaries, checks)),
        *common.tool_sections(summaries, checks, "file", file_tables, EQUALITY_NOTES),
        "",
        "## Machine",
        "",
        "**Shared and noisy**: a small VM whose CPUs are shared with other work running at",
        "the same time. Read the medians and the ratios (same session, tools interleaved",
        "repetition by repetition) rather than absolute seconds.",
        "",
        *common.machine_lines(meta),
    ]
    return "\n".join(out)


def file_tables(check: common.Check) -> str:
    return ", ".join(f"{name} ({size:,} rows)" for name, size in check.tables.items())


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(
        parser,
        name="load_duckdb",
        rows="1000000,5000000",
        tools=TOOLS,
        default_tools=DEFAULT_TOOLS,
        keep_help="keep each run's directory",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per scenario")
    # Internal: data preparation, and one tool / one scenario in this (fresh) process.
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    common.add_child_arguments(parser, "--db")
    args = parser.parse_args(argv)
    if args.child or args.prepare:
        return args
    return common.checked_args(parser, args, TOOLS)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.prepare:
        return prepare_main(args.prepare)
    if args.child:
        return common.child_main(args, "load_duckdb_peers", Path(args.db))
    if args.render_only:
        return common.render_only(args, REPORT)

    args.session = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
    meta = {
        "command": "python bench/load_duckdb.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(PACKAGES),
        "sessions": [args.session],
        "unavailable": {},
    }
    tools = common.available_tools(args, meta)
    runs, checks = common.run_all(
        args, tools, ensure_data, source_fingerprint, partial(run_tool, options=args)
    )
    meta["loadavg_end"] = os.getloadavg()
    return common.finish(args, runs, checks, meta, REPORT)


REPORT = common.Report(Run, summarize, print_table, targets, render_markdown)

if __name__ == "__main__":
    sys.exit(main())
