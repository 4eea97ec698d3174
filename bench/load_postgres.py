"""Load benchmark: `dataward run` into PostgreSQL against binary COPY, executemany and dlt.

The seeded, clean `orders` data set that bench/load_duckdb.py prepares (Parquet; every row
valid against bench/orders.odcs.yaml, order_id unique; and the same file with 1% of the
order_ids changed) is loaded into a table with a primary key on order_id on the local
PostgreSQL server by:

  floor           CREATE TABLE ... PRIMARY KEY; pyarrow reads the Parquet file, pgpq encodes
                  it in the binary COPY format, psycopg 3 streams `COPY ... FROM STDIN (FORMAT
                  BINARY)`: the fastest honest first load, and the ratios' reference
  copy-write-row  the same COPY, each row written by psycopg's `copy.write_row` from a tuple
  executemany     psycopg `executemany` of INSERT ... ON CONFLICT (order_id) DO UPDATE
  dlt-merge       dlt, postgres destination, merge on order_id (default delete-insert)
  dlt-upsert      dlt, merge with the upsert strategy
  dataward        `dataward run orders` in a project directory this script writes

Each tool and repetition gets a database of its own (dw_bench_<tool>_<n>, created here and
dropped afterwards) and runs three scenarios in it: the first load into the empty database,
an identical re-run, and a re-run with the 1%-changed file. Every scenario is its own
process, as a scheduled job would be: its wall time (process start to exit) and its peak RSS
are its own. After each scenario the server's counters for the table are read (rows
inserted / updated / deleted, n_dead_tup) with its size; after scenario 3 the table's content
is compared, tool by tool, with the changed Parquet file itself, in SQL on the server.

    .venv/bin/python bench/load_postgres.py --rows 100000 --repeat 1   # a smoke run
    .venv/bin/python bench/load_postgres.py                 # 1M rows, 3 runs, every tool
    .venv/bin/python bench/load_postgres.py --tools floor,dataward --merge
    .venv/bin/python bench/load_postgres.py --render-only   # markdown again from the raw JSON

Every run goes to bench/data/load_postgres.json (gitignored); --merge keeps the tool/rows
pairs not run now.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import load_common as common
from load_duckdb import canonical_rows_sql, ensure_data
from machine import machine_info

RUNS_DIR = common.DATA_DIR / "load_postgres_runs"

# The local server, trust authentication (--server overrides).
SERVER = "postgresql://postgres@127.0.0.1:5432"
DB_PREFIX = "dw_bench_"
# dlt's PostgreSQL destination refuses a URL without a password even when the server trusts
# local logins; under trust authentication any password is accepted and ignored.
DLT_PASSWORD = "bench"

TOOLS = ("floor", "copy-write-row", "executemany", "dlt-merge", "dlt-upsert", "dataward")
DEFAULT_TOOLS = TOOLS
# Progress lines: the longest tool name (copy-write-row) and a space.
TOOL_WIDTH = 15
PACKAGES = (
    "dataward",
    "psycopg",
    "psycopg-binary",
    "pgpq",
    "dlt",
    "psycopg2-binary",
    "pyarrow",
    "duckdb",
    "polars",
    "psutil",
)
SERVER_SETTINGS = (
    "server_version",
    "autovacuum",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_level",
    "max_wal_size",
)
STATS_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05

# Targets for dataward (the issue's), at TARGET_ROWS.
TARGET_ROWS = 1_000_000
TARGET_FLOOR_RATIO = 1.8
TARGET_DLT_SPEEDUP = 2.0
TARGET_EXECUTEMANY_SPEEDUP = 7.0
TARGET_SAME_RATIO = 0.25
TARGET_CHANGED_RATIO = 0.35
TARGET_RSS_BYTES = 400 * 10**6  # "400 MB": decimal megabytes, the stricter reading
TARGET_RSS_MIB = TARGET_RSS_BYTES / 2**20


# --------------------------------------------------------------------------- the server
def database_url(base: str, database: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_password(url: str, password: str = DLT_PASSWORD) -> str:
    """The URL with a password, for dlt (a URL that has one keeps it)."""
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user or 'postgres'}:{password}@{host}"))


def database_name(tool: str, repeat: int) -> str:
    return f"{DB_PREFIX}{tool.replace('-', '_')}_{repeat}"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Server:
    """An autocommit session on the server's `postgres` database, for what the benchmark
    itself does: create and drop the databases, CHECKPOINT, read the WAL position."""

    def __init__(self, base: str) -> None:
        import psycopg

        self.base = base
        self.conn = psycopg.connect(
            database_url(base, "postgres"), autocommit=True, application_name="dw-bench"
        )

    def value(self, statement: str, params=()):
        row = self.conn.execute(statement, params).fetchone()
        return row[0] if row else None

    def settings(self) -> dict[str, str]:
        return {name: str(self.value(f"SHOW {name}")) for name in SERVER_SETTINGS}

    def recreate(self, database: str) -> None:
        self.drop(database)
        self.conn.execute(f"CREATE DATABASE {quoted(database)}")

    def drop(self, database: str) -> None:
        self.conn.execute(f"DROP DATABASE IF EXISTS {quoted(database)} WITH (FORCE)")

    def checkpoint(self) -> None:
        self.conn.execute("CHECKPOINT")

    def wal_lsn(self) -> str:
        return str(self.value("SELECT pg_current_wal_lsn()::text"))

    def wal_bytes_since(self, lsn: str) -> int:
        return int(self.value("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]))

    def close(self) -> None:
        self.conn.close()


def connect_to(url: str):
    """A reading session on a benchmark database: counters read live, times in UTC."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True, application_name="dw-bench-inspect")
    # Read the shared statistics afresh at every access, not from a per-transaction cache.
    conn.execute("SET stats_fetch_consistency = 'none'")
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def find_orders_table(conn) -> str | None:
    """The one table named orders, wherever the tool put it (dlt: bench.orders)."""
    found = conn.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'orders' "
        "AND table_schema NOT LIKE '%%staging%%' AND table_schema <> 'dataward' "
        "AND table_schema NOT LIKE 'pg\\_%%' AND table_type = 'BASE TABLE'"
    ).fetchall()
    if not found:
        return None
    if len(found) != 1:
        raise RuntimeError(f"expected one orders table, found schemas {[r[0] for r in found]}")
    return f"{quoted(found[0][0])}.{quoted('orders')}"


def wait_alone(conn) -> float:
    """Wait until no other session is connected to this database; the seconds it took.

    A PostgreSQL backend flushes its pending statistics when it exits, before it leaves
    pg_stat_activity, so once the tool's sessions are gone its counters are all in.
    (pg_stat_force_next_flush() flushes only the calling session's own counters.)
    """
    started = time.perf_counter()
    while True:
        (others,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        waited = time.perf_counter() - started
        if not others or waited > STATS_WAIT_SECONDS:
            if others:
                raise RuntimeError(
                    f"{others} session(s) still connected after {STATS_WAIT_SECONDS:.0f} s"
                )
            return waited
        time.sleep(POLL_SECONDS)


STAT_COLUMNS = (
    "n_tup_ins",
    "n_tup_upd",
    "n_tup_hot_upd",
    "n_tup_del",
    "n_live_tup",
    "n_dead_tup",
    "vacuum_count",
    "autovacuum_count",
    "analyze_count",
    "autoanalyze_count",
)


def table_state(url: str) -> dict:
    """The target table's counters and size, and what else the database holds."""
    conn = connect_to(url)
    try:
        waited = wait_alone(conn)
        relation = find_orders_table(conn)
        state: dict = {"stats_wait_s": waited, "relation": relation}
        if relation is not None:
            query = (
                f"SELECT {', '.join(STAT_COLUMNS)} FROM pg_stat_user_tables "
                "WHERE relid = to_regclass(%s)"
            )
            stats = None
            for _ in range(10):  # the same answer twice in a row: nothing is still arriving
                current = conn.execute(query, [relation]).fetchone()
                if current == stats:
                    break
                stats = current
                time.sleep(POLL_SECONDS)
            state["stats"] = dict(zip(STAT_COLUMNS, stats or (0,) * len(STAT_COLUMNS), strict=True))
            (state["table_bytes"],) = conn.execute(
                "SELECT pg_total_relation_size(to_regclass(%s))", [relation]
            ).fetchone()
        (other_bytes, other_dead) = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), "
            "coalesce(sum(s.n_dead_tup), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', "
            "'information_schema') AND n.nspname NOT LIKE 'pg\\_%%' "
            "AND c.oid <> coalesce(to_regclass(%s), 0)",
            [relation],
        ).fetchone()
        state["other_bytes"], state["other_dead"] = int(other_bytes), int(other_dead)
        return state
    finally:
        conn.close()


# --------------------------------------------------------------------------- same content
def canonical_rows_pg(relation: str) -> str:
    """One text line per row, equal across tools whatever types they chose, and equal to
    the line DuckDB makes from the Parquet file (load_duckdb.canonical_rows_sql).

    Integers as BIGINT text; amount as NUMERIC(38,4) text; created_at as microseconds since
    the epoch of the value taken as TIMESTAMPTZ (session time zone UTC); NULL as \\N;
    columns joined by the unit separator.
    """
    exprs = {
        "order_id": "CAST(order_id AS BIGINT)::text",
        "customer_id": "CAST(customer_id AS BIGINT)::text",
        "amount": "CAST(amount AS NUMERIC(38,4))::text",
        "email": "CAST(email AS text)",
        "created_at": "(extract(epoch FROM CAST(created_at AS TIMESTAMPTZ)) * 1000000)"
        "::BIGINT::text",
        "status": "CAST(status AS text)",
        "country": "CAST(country AS text)",
        "quantity": "CAST(quantity AS BIGINT)::text",
    }
    parts = ", ".join(f"coalesce({exprs[name]}, '\\N')" for name in common.CANONICAL_COLUMNS)
    return f"SELECT order_id, concat_ws(chr(31), {parts}) AS line FROM {relation}"


def digest_text(rows, keys, high, low) -> str:
    mask = (1 << 64) - 1
    return f"{rows}/{keys}/{int(high or 0) & mask:016x}{int(low or 0) & mask:016x}"


def server_fingerprint(conn, relation: str) -> str:
    """rows / distinct keys / XOR of each canonical row's MD5, computed by the server.

    PostgreSQL has no 128-bit XOR aggregate: the MD5's two 64-bit halves are XORed apart
    (bit_xor over BIGINT) and written one after the other.
    """
    rows, keys, high, low = conn.execute(
        "SELECT count(*), count(DISTINCT order_id), "
        "bit_xor(('x' || substr(md5(line), 1, 16))::bit(64)::bigint), "
        "bit_xor(('x' || substr(md5(line), 17, 16))::bit(64)::bigint) "
        f"FROM ({canonical_rows_pg(relation)}) AS canonical"
    ).fetchone()
    return digest_text(rows, keys, high, low)


def source_fingerprint(path: Path) -> str:
    """The same fingerprint of the Parquet file, computed by DuckDB over the same lines."""
    import duckdb

    parquet = f"read_parquet('{path}')"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        rows, keys, high, low = con.execute(
            "SELECT count(*), count(DISTINCT order_id), "
            "bit_xor(('0x' || substr(md5(line), 1, 16))::UBIGINT), "
            "bit_xor(('0x' || substr(md5(line), 17, 16))::UBIGINT) "
            f"FROM ({canonical_rows_sql(parquet)})"
        ).fetchone()
        return digest_text(rows, keys, high, low)
    finally:
        con.close()


def inspect_table(url: str) -> dict:
    """Where the table is, its column types, its key, its fingerprint, and what else is there."""
    conn = connect_to(url)
    try:
        relation = find_orders_table(conn)
        if relation is None:
            raise RuntimeError("no orders table in the database")
        types = dict(
            conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum",
                [relation],
            ).fetchall()
        )
        keys = conn.execute(
            "SELECT CASE contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END || ' (' || "
            "(SELECT string_agg(a.attname, ', ') FROM pg_attribute a WHERE a.attrelid = "
            "c.conrelid AND a.attnum = ANY (c.conkey)) || ')' FROM pg_constraint c "
            "WHERE c.conrelid = to_regclass(%s) AND c.contype IN ('p', 'u') ORDER BY 1",
            [relation],
        ).fetchall()
        names = conn.execute(
            "SELECT n.nspname, c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_%%' ORDER BY 1, 2"
        ).fetchall()
        tables = {}
        for schema, name, size in names:
            (count,) = conn.execute(
                f"SELECT count(*) FROM {quoted(schema)}.{quoted(name)}"
            ).fetchone()
            tables[f"{schema}.{name}"] = [int(count), round(int(size) / 2**20, 1)]
        fingerprint = server_fingerprint(conn, relation)
        return common.table_description(relation, types, keys, tables, fingerprint)
    finally:
        conn.close()


# --------------------------------------------------------------------------- one scenario
@dataclass
class Run:
    tool: str
    rows: int
    repeat: int
    scenario: str
    session: str
    database: str = ""
    wall_s: float | None = None  # process start to exit: the compared number
    work_s: float | None = None  # inside the process, after imports (in-process tools)
    import_s: float | None = None
    peak_rss_mib: float | None = None  # VmHWM of the tool's process
    rss_from: str = ""
    tree_rss_mib: float | None = None  # polled from outside every 20 ms, whole tree
    rows_written: int | None = None  # as the tool reported it
    written_how: str = ""
    counts: dict = field(default_factory=dict)  # dataward's own counts; dlt's staged rows
    server: dict = field(default_factory=dict)  # the table's counters, this scenario's deltas
    dead_tuples: int | None = None  # n_dead_tup of the table after the scenario
    vacuumed: bool = False  # a (auto)vacuum of the table ran during the scenario
    table_mib: float | None = None  # pg_total_relation_size of the table after the scenario
    other_mib: float | None = None  # every other table in the database (staging, ledger)
    other_dead: int | None = None  # n_dead_tup summed over those other tables
    wal_mib: float | None = None  # WAL the server wrote during the scenario (server-wide)
    local_mib: float | None = None  # what the tool left on this machine
    stats_wait_s: float | None = None
    error: str | None = None


def run_scenario(
    tool: str,
    scenario: str,
    rows: int,
    repeat: int,
    files: dict,
    workdir: Path,
    database: str,
    before: dict,
    server: Server,
    options,
) -> tuple[Run, dict]:
    run = Run(
        tool=tool,
        rows=rows,
        repeat=repeat,
        scenario=scenario,
        session=options.session,
        database=database,
    )
    source = files["clean" if scenario in ("first", "same") else "changed"]
    log = workdir / f"{scenario}.log"
    url = database_url(options.server, database)
    # Every scenario starts with no dirty buffers left by the one before (not timed).
    server.checkpoint()
    lsn = server.wal_lsn()
    if tool == "dataward":
        project = common.dataward_project(workdir, scenario, source, url)
        command = [str(options.dataward_exe), "run", "orders"]
        code, run.wall_s, sampler = common.measured_process(command, project, log, options.timeout)
        run.wal_mib = server.wal_bytes_since(lsn) / 2**20
        common.read_dataward_run(run, code, log, sampler, options.dataward_exe, project)
        run.local_mib = common.size_of(project) / 2**20
    else:
        report = workdir / f"{scenario}.json"
        report.unlink(missing_ok=True)
        tool_url = with_password(url) if tool.startswith("dlt") else url
        command = [sys.executable, str(Path(__file__).resolve()), "--child", tool]
        command += ["--scenario", scenario, "--url", tool_url, "--source", str(source)]
        command += ["--workdir", str(workdir), "--report", str(report)]
        code, run.wall_s, sampler = common.measured_process(
            command, common.BENCH, log, options.timeout
        )
        run.wal_mib = server.wal_bytes_since(lsn) / 2**20
        measured = common.read_child_report(run, code, log, report, sampler)
        if measured is not None and measured.get("file_format"):
            run.counts["file format"] = measured["file_format"]
        run.local_mib = common.size_of(workdir / "dlt") / 2**20

    try:
        state = table_state(url)
    except Exception as error:  # noqa: BLE001  (reported, and fails the benchmark)
        run.error = run.error or f"reading the table's counters: {type(error).__name__}: {error}"
        return run, before
    run.stats_wait_s = state["stats_wait_s"]
    run.other_mib = state["other_bytes"] / 2**20
    run.other_dead = state["other_dead"]
    stats = state.get("stats")
    if stats is not None:
        old = before.get("stats") if before.get("relation") == state["relation"] else None
        old = old or dict.fromkeys(STAT_COLUMNS, 0)
        delta = {k: int(stats[k]) - int(old[k]) for k in STAT_COLUMNS}
        run.server = {
            "inserted": delta["n_tup_ins"],
            "updated": delta["n_tup_upd"],
            "hot_updated": delta["n_tup_hot_upd"],
            "deleted": delta["n_tup_del"],
            "vacuums": delta["vacuum_count"] + delta["autovacuum_count"],
            "analyzes": delta["analyze_count"] + delta["autoanalyze_count"],
        }
        run.dead_tuples = int(stats["n_dead_tup"])
        run.vacuumed = bool(run.server["vacuums"])
        run.table_mib = int(state["table_bytes"]) / 2**20
    elif run.error is None:
        run.error = "no orders table after the scenario"
    return run, state


def run_tool(tool: str, rows: int, repeat: int, files: dict, expected: str, server, options):
    """The three scenarios in a fresh database, then the content check."""
    workdir = RUNS_DIR / f"{tool}-{rows}-r{repeat}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    database = database_name(tool, repeat)
    server.recreate(database)
    runs: list[Run] = []
    before: dict = {}
    try:
        for scenario in common.SCENARIOS:
            run, before = run_scenario(
                tool, scenario, rows, repeat, files, workdir, database, before, server, options
            )
            runs.append(run)
            common.progress(rows, tool, repeat, scenario, describe(run), TOOL_WIDTH)
            if run.error:
                break
        check = common.check_content(
            tool,
            rows,
            repeat,
            expected,
            runs[-1].error is None,
            lambda: inspect_table(database_url(options.server, database)),
            TOOL_WIDTH,
        )
    finally:
        if not options.keep:
            server.drop(database)
            shutil.rmtree(workdir, ignore_errors=True)
    return runs, check


def describe(run: Run) -> str:
    return common.describe(
        run,
        lambda: [
            f"wrote {common.fmt_n(run.rows_written)}",
            f"server {server_counts(run.server)}",
            f"dead {common.fmt_n(run.dead_tuples)}",
            f"table {run.table_mib:,.1f} MiB" if run.table_mib is not None else "no table",
        ],
    )


def server_counts(server: dict) -> str:
    if not server:
        return "-"
    return "/".join(common.fmt_n(server.get(k)) for k in ("inserted", "updated", "deleted"))


# --------------------------------------------------------------------------- summary
@dataclass(kw_only=True)
class Summary(common.Summary):
    server: dict
    dead_tuples: int | None
    vacuumed: bool
    table_mib: float | None
    other_mib: float | None
    other_dead: int | None
    wal_mib: float | None
    local_mib: float | None


def summarize(runs: list[Run]) -> list[Summary]:
    return common.summarize(runs, summary, TOOLS)


def summary(shared: dict[str, Any], good: list[Run]) -> Summary:
    """The shared fields, and the server's numbers over the successful runs."""
    dead = [r.dead_tuples for r in good if r.dead_tuples is not None]
    return Summary(
        **shared,
        server=good[-1].server if good else {},
        dead_tuples=max(dead) if dead else None,  # the worst repetition
        vacuumed=any(r.vacuumed for r in good),
        table_mib=common.median([r.table_mib for r in good]),
        other_mib=common.median([r.other_mib for r in good]),
        other_dead=max((r.other_dead or 0 for r in good), default=None),
        wal_mib=common.median([r.wal_mib for r in good]),
        local_mib=common.median([r.local_mib for r in good]),
    )


HEADERS = (
    *common.LEADING_HEADERS,
    "rows written",
    "server ins/upd/del",
    "dead tuples",
    "table MiB",
    "other MiB",
    "WAL MiB",
    "local MiB",
)
TABLE_TITLE = "PostgreSQL load (median of runs; wall clock of each scenario's process)"


def fmt_1(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def own_cells(s: Summary) -> tuple[str, ...]:
    """The table's cells after LEADING_HEADERS'."""
    dead = common.fmt_n(s.dead_tuples) + (" (vacuumed)" if s.vacuumed else "")
    return (
        common.fmt_n(s.rows_written),
        server_counts(s.server),
        dead,
        fmt_1(s.table_mib),
        fmt_1(s.other_mib),
        fmt_1(s.wal_mib),
        fmt_1(s.local_mib),
    )


def table_rows(summaries: list[Summary]) -> list[tuple[str, ...]]:
    return common.summary_rows(summaries, len(HEADERS), own_cells)


def print_table(summaries: list[Summary], unavailable: dict[str, str]) -> None:
    common.print_rows(table_rows(summaries), unavailable, HEADERS, TABLE_TITLE, 260)


def targets(summaries: list[Summary], checks: list[common.Check]) -> list[common.Target]:
    """(where, target, PASS/FAIL (detail)) at TARGET_ROWS, else the largest row count
    with dataward results (said so)."""
    measured = common.dataward_rows(summaries)
    if not measured:
        return [common.NOT_MEASURED]
    rows = TARGET_ROWS if TARGET_ROWS in measured else max(measured)
    scope = common.target_scope(summaries, rows, TARGET_ROWS)
    where, first, same = scope.where, scope.first, scope.same
    lines = [
        common.floor_target(
            scope,
            f"first load within {TARGET_FLOOR_RATIO}x of the COPY floor's first load",
            TARGET_FLOOR_RATIO,
        )
    ]
    for peer, factor in (
        ("dlt-merge", TARGET_DLT_SPEEDUP),
        ("dlt-upsert", TARGET_DLT_SPEEDUP),
        ("executemany", TARGET_EXECUTEMANY_SPEEDUP),
    ):
        other = scope.get((peer, "first"))
        if other and other.median_s:
            speedup = other.median_s / first.median_s
            ok, detail = (
                speedup >= factor,
                f"{speedup:.2f}x: {first.median_s:.2f} s vs {other.median_s:.2f} s",
            )
        else:
            ok, detail = None, f"no {peer} first load"
        lines.append(
            (
                where,
                f"first load at least {factor:g}x faster than {peer}",
                common.verdict(ok, detail),
            )
        )
    lines.append(common.rerun_target(scope, "identical re-run", same, TARGET_SAME_RATIO))
    if same and same.median_s:
        touched = sum(same.server.get(k, 0) for k in ("inserted", "updated", "deleted"))
        lines.append(
            (
                where,
                "identical re-run leaves zero dead tuples in the table",
                common.verdict(
                    None
                    if same.dead_tuples is None
                    else same.dead_tuples == 0 and not same.vacuumed,
                    f"n_dead_tup {common.fmt_n(same.dead_tuples)}"
                    + (", but a vacuum ran during it" if same.vacuumed else ""),
                ),
            )
        )
        lines.append(
            (
                where,
                "identical re-run writes zero rows",
                common.verdict(
                    None if same.rows_written is None else same.rows_written == 0 and touched == 0,
                    f"{common.fmt_n(same.rows_written)} reported, server counted "
                    f"{server_counts(same.server)} ins/upd/del",
                ),
            )
        )
    lines += common.last_targets(scope, checks, TARGET_CHANGED_RATIO, "400 MB", TARGET_RSS_MIB)
    return lines


# --------------------------------------------------------------------------- markdown
NOTES = (
    "- **median s**: wall clock of the scenario's process, from start to exit, as a scheduled",
    "  job would see it: interpreter start, imports, reading the Parquet file, the load, the",
    "  commit, and the server's work meanwhile (the client waits for it). Median over the",
    "  repetitions; **min s** / **max s** the fastest and slowest. **work s**: the same run",
    "  timed inside the process after its imports (the in-process tools run in a Python child",
    "  of this script; `dataward run` is a subprocess, so it has only the outside time).",
    "- **x floor first**: median s / the floor's (pgpq COPY) first load, same rows; **x own",
    "  first**: median s / the same tool's first load.",
    "- **peak RSS**: the resident-set high-water mark (VmHWM) of the tool's process, worst",
    "  repetition. Every scenario is its own process, so each has its own peak. The",
    "  in-process tools read their own VmHWM at the end; for `dataward run` a thread here",
    "  reads `/proc/<pid>/status` every 20 ms while it runs and keeps the last VmHWM seen",
    "  (the kernel's running maximum, so only growth in the last <= 20 ms could be missed).",
    "  **tree RSS**: the largest summed RSS of the process and its children, sampled every",
    "  20 ms with psutil (samples can miss a short peak). Neither counts the server's",
    "  backend process, which is the same PostgreSQL for every tool.",
    "- **rows written**: what the tool itself reported. floor and copy-write-row: psycopg's",
    "  rowcount of the COPY (first load) or of the upsert (re-runs); executemany: the sum of",
    "  psycopg's rowcounts (an ON CONFLICT DO UPDATE counts every row it updated); dlt: the",
    "  rowcount psycopg2 returned for the statements that write the target table, seen",
    "  through a pass-through spy on dlt's SQL client (dlt sends its merge as one",
    "  multi-statement string, and psycopg2 reports the count of its last statement: for",
    "  delete-insert the INSERT, so the rows the DELETE removed are not in it); dataward:",
    "  `dataward runs --format json`, inserted + updated + deleted.",
    "- **server ins/upd/del**: what the server counted for the table during the scenario,",
    "  whatever the tool says: the change of `n_tup_ins` / `n_tup_upd` / `n_tup_del` in",
    "  `pg_stat_user_tables` (rows, not statements; an ON CONFLICT DO UPDATE that skips a row",
    "  by its WHERE writes nothing and counts nothing).",
    "- **dead tuples**: `n_dead_tup` of the table after the scenario (worst repetition). It is",
    "  cumulative: what earlier scenarios left stays until something vacuums the table, and",
    "  the server here runs with autovacuum as shown under Machine. `(vacuumed)` marks a",
    "  scenario during which a VACUUM or autovacuum of the table ran (`vacuum_count` +",
    "  `autovacuum_count` grew), which resets the number. The counters are current when",
    "  read: a backend flushes its pending statistics when it exits, before it leaves",
    "  `pg_stat_activity`, so after each scenario this script waits until no session but its",
    "  own is connected to the database, reads with `stats_fetch_consistency = none`, and",
    "  reads again until two reads 50 ms apart agree. (`pg_stat_force_next_flush()` flushes",
    "  only the calling session's own counters, so it cannot hurry another process's.)",
    "- **table MiB**: `pg_total_relation_size` of the table (heap, indexes, TOAST) after the",
    "  scenario. **other MiB**: the same summed over every other table in the database:",
    "  dlt's staging schema and `_dlt_*` tables, dataward's ledger schema.",
    "- **WAL MiB**: WAL the server wrote during the scenario (`pg_current_wal_lsn()` before",
    "  and after; server-wide, so other clients of the server would show up in it). Each",
    "  scenario starts right after a CHECKPOINT (not timed), so no tool pays for the dirty",
    "  pages of the scenario before it, and each writes full-page images of the pages it",
    "  first touches, alike for all.",
    "- **local MiB**: what the tool left on this machine (dlt: its pipelines directory, where",
    "  every load package stays; dataward: its project directory).",
    "- **floor re-runs**: the floor (and copy-write-row) is the first load only. A second",
    "  COPY into the primary-key table fails, so their scenarios 2 and 3 COPY into a",
    "  temporary table and run one `INSERT ... ON CONFLICT (order_id) DO UPDATE SET` of every",
    "  column, which rewrites every row; they show the naive upsert, not a target.",
    "- **executemany**: psycopg 3 `executemany` (which pipelines the statements) of",
    "  `INSERT ... ON CONFLICT (order_id) DO UPDATE SET` every column, 10,000 rows a call, in",
    "  one transaction, the table created with `CREATE TABLE IF NOT EXISTS ... PRIMARY KEY`.",
    "- **dlt**: `dlt[postgres]` as installed, default settings. It turns the Arrow table into",
    "  CSV and COPYs that into a staging table, then merges (dlt's faster Parquet path needs",
    "  an ADBC driver that `dlt[postgres]` does not install). Its URL carries a dummy",
    "  password: dlt requires one, and trust authentication ignores it. dlt creates no",
    "  primary key (see below).",
)

EQUALITY_NOTES = (
    "After scenario 3 each tool's table is compared with the changed Parquet file itself (so",
    "also with every other tool). Each row of the 8 contract columns becomes one canonical",
    "text line: order_id, customer_id and quantity cast to BIGINT; amount cast to",
    "NUMERIC(38,4) (exact for any NUMERIC(p,4)); created_at cast to TIMESTAMPTZ with the",
    "session time zone UTC and written as microseconds since the epoch; NULL as `\\N`;",
    "columns joined by U+001F. The fingerprint is row count / distinct order_id count / the",
    "XOR of the lines' MD5 (128-bit, as two 64-bit halves), computed by the server in one",
    "query over the table; the expected one is computed by DuckDB from the Parquet file over",
    "the same lines. With order_id in every line and unique, the rows form a set keyed by",
    "order_id, so equal fingerprints mean equal `SELECT ... ORDER BY order_id` output; no",
    "single string of the table is built. The table is found by name (`orders` in any",
    "schema but a staging schema or `dataward`).",
)


def render_markdown(
    summaries: list[Summary], runs: list[Run], checks: list[common.Check], meta: dict
) -> str:
    settings = ", ".join(f"{k} {v}" for k, v in meta.get("server", {}).items())
    unavailable = meta.get("unavailable", {})
    out = [
        "# Loading into PostgreSQL: dataward, dlt, executemany and binary COPY",
        "",
        "Generated by `bench/load_postgres.py`; do not edit by hand. Command: `"
        + meta["command"]
        + "`.",
        "",
        "A seeded, clean `orders` data set (Parquet; every row valid against",
        "bench/orders.odcs.yaml, order_id unique) loaded into a table with a primary key on",
        "order_id on a local PostgreSQL server. Each tool and repetition gets a fresh",
        "database and runs three scenarios in it: (1) the first load into the empty database,",
        "(2) an identical re-run, (3) a re-run where 1% of the order_ids (a seeded choice)",
        "carry amount + 1 and the next status. Each scenario is a fresh process.",
        "",
        *NOTES,
        "",
        "## Results",
        "",
        *common.table_lines(HEADERS, table_rows(summaries)),
        *common.unavailable_rows(unavailable, HEADERS),
        *common.few_runs_lines(summaries),
        *common.unavailable_notes(unavailable),
        *common.targets_lines(targets(summaries, checks)),
        *common.tool_sections(
            summaries, checks, "database", database_tables, EQUALITY_NOTES, server_words
        ),
        "",
        "## Machine",
        "",
        "**Shared and noisy**: a small VM whose CPUs are shared with other work running at",
        "the same time, the PostgreSQL server on the same CPUs as the tools. Read the medians",
        "and the ratios (same session, tools interleaved repetition by repetition) rather",
        "than absolute seconds.",
        "",
        *common.machine_lines(
            meta, [f"- PostgreSQL server at {meta.get('server_url', SERVER)}: {settings}"]
        ),
    ]
    return "\n".join(out)


def database_tables(check: common.Check) -> str:
    return ", ".join(
        f"{name} ({count:,} rows, {size:,.1f} MiB)" for name, (count, size) in check.tables.items()
    )


def server_words(one: Summary) -> str:
    """What the server counted in a scenario, after the tool's own words."""
    server = ", ".join(f"{k} {common.fmt_n(v)}" for k, v in one.server.items())
    return f"; server: {server}; dead tuples in other tables {common.fmt_n(one.other_dead)}"


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_arguments(
        parser,
        name="load_postgres",
        rows="1000000",
        tools=TOOLS,
        default_tools=DEFAULT_TOOLS,
        keep_help="keep each run's directory and database",
    )
    parser.add_argument(
        "--server",
        default=SERVER,
        help="the PostgreSQL server, as a URL without a database (trust authentication)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per scenario")
    # Internal: one tool / one scenario in this (fresh) process.
    common.add_child_arguments(parser, "--url")
    args = parser.parse_args(argv)
    if args.child:
        return args
    return common.checked_args(parser, args, TOOLS)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return common.child_main(args, "load_postgres_peers", args.url)
    if args.render_only:
        return common.render_only(args, REPORT)

    # The warehouse is the one dataward.toml names; an inherited override would win over it.
    os.environ.pop("DATAWARD_WAREHOUSE", None)
    args.session = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
    server = Server(args.server)
    meta = {
        "command": "python bench/load_postgres.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(PACKAGES),
        "server": server.settings(),
        "server_url": args.server,
        "sessions": [args.session],
        "unavailable": {},
    }
    tools = common.available_tools(args, meta)
    try:
        runs, checks = common.run_all(
            args,
            tools,
            ensure_data,
            source_fingerprint,
            partial(run_tool, server=server, options=args),
        )
    finally:
        server.close()
    meta["loadavg_end"] = os.getloadavg()
    return common.finish(args, runs, checks, meta, REPORT)


REPORT = common.Report(Run, summarize, print_table, targets, render_markdown)

if __name__ == "__main__":
    sys.exit(main())
