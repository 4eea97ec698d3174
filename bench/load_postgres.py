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
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from load_duckdb import (
    SCENARIO_TITLES,
    SCENARIOS,
    canonical_rows_sql,
    dataward_available,
    dataward_last_run,
    ensure_data,
    fmt_mib,
    fmt_n,
    fmt_s,
    fmt_x,
    measured_process,
    median,
    point_dataward_at,
    size_of,
    tail,
    vm_hwm_kib,
    warm,
)
from machine import machine_info
from orders_spec import COLUMNS

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATA_DIR = BENCH / "data"
RUNS_DIR = DATA_DIR / "load_postgres_runs"
VENV_BIN = Path(sys.executable).parent
DATAWARD_EXE = VENV_BIN / "dataward"  # --dataward-exe overrides

# The local server, trust authentication (--server overrides).
SERVER = "postgresql://postgres@127.0.0.1:5432"
DB_PREFIX = "dw_bench_"
# dlt's PostgreSQL destination refuses a URL without a password even when the server trusts
# local logins; under trust authentication any password is accepted and ignored.
DLT_PASSWORD = "bench"

TOOLS = ("floor", "copy-write-row", "executemany", "dlt-merge", "dlt-upsert", "dataward")
DEFAULT_TOOLS = TOOLS
FLOOR = "floor"
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

CANONICAL_COLUMNS = COLUMNS


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
    parts = ", ".join(f"coalesce({exprs[name]}, '\\N')" for name in CANONICAL_COLUMNS)
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
        return {
            "relation": relation,
            "types": {k: v for k, v in types.items() if k in CANONICAL_COLUMNS},
            "extra_columns": [k for k in types if k not in CANONICAL_COLUMNS],
            "key": ", ".join(k for (k,) in keys) or "none",
            "tables": tables,
            "fingerprint": server_fingerprint(conn, relation),
        }
    finally:
        conn.close()


# --------------------------------------------------------------------------- child process
def child_main(args: argparse.Namespace) -> int:
    """Run one tool, one scenario, in this fresh process; report as JSON."""
    start = time.perf_counter()
    import load_postgres_peers

    runner = load_postgres_peers.prepare(args.child)
    loaded = time.perf_counter()
    outcome = runner(args.url, Path(args.source), args.scenario, Path(args.workdir))
    done = time.perf_counter()
    report = {
        "import_s": loaded - start,
        "work_s": done - loaded,
        "peak_rss_kib": vm_hwm_kib(),
        **outcome,
    }
    Path(args.report).write_text(json.dumps(report))
    return 0


# --------------------------------------------------------------------------- dataward
def write_dataward_project(project: Path, source: Path, url: str) -> None:
    (project / "pipelines").mkdir(parents=True, exist_ok=True)
    (project / "dataward.toml").write_text(
        f'[project]\nname = "bench"\n\n[warehouse]\nurl = "{url}"\n'
    )
    point_dataward_at(project, source)


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


@dataclass
class Check:
    tool: str
    rows: int
    repeat: int
    relation: str = ""
    types: dict = field(default_factory=dict)
    extra_columns: list = field(default_factory=list)
    key: str = ""
    tables: dict = field(default_factory=dict)
    fingerprint: str = ""
    expected: str = ""
    equal: bool | None = None
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
        project = workdir / "project"
        if scenario == "first":
            write_dataward_project(project, source, url)
        else:
            point_dataward_at(project, source)
        command = [str(options.dataward_exe), "run", "orders"]
        code, run.wall_s, sampler = measured_process(command, project, log, options.timeout)
        run.wal_mib = server.wal_bytes_since(lsn) / 2**20
        if code != 0:
            run.error = f"dataward run exited {code}: {tail(log)}"
        else:
            try:
                last = dataward_last_run(options.dataward_exe, project)
                run.counts = dict(last.get("counts") or {})
                changed = ("inserted", "updated", "deleted")
                run.rows_written = sum(int(run.counts.get(k) or 0) for k in changed)
                run.written_how = "dataward runs: inserted + updated + deleted"
            except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as error:
                run.error = f"cannot read the run's counts: {error}"
        run.peak_rss_mib = sampler.root_hwm_kib / 1024 if sampler.root_hwm_kib else None
        run.rss_from = "VmHWM polled"
        run.local_mib = size_of(project) / 2**20
    else:
        report = workdir / f"{scenario}.json"
        report.unlink(missing_ok=True)
        tool_url = with_password(url) if tool.startswith("dlt") else url
        command = [sys.executable, str(Path(__file__).resolve()), "--child", tool]
        command += ["--scenario", scenario, "--url", tool_url, "--source", str(source)]
        command += ["--workdir", str(workdir), "--report", str(report)]
        code, run.wall_s, sampler = measured_process(command, BENCH, log, options.timeout)
        run.wal_mib = server.wal_bytes_since(lsn) / 2**20
        if code != 0 or not report.exists():
            run.error = f"exit {code}: {tail(log)}"
        else:
            measured = json.loads(report.read_text())
            run.work_s, run.import_s = measured["work_s"], measured["import_s"]
            run.peak_rss_mib = (measured["peak_rss_kib"] or 0) / 1024 or None
            run.rss_from = "VmHWM"
            run.rows_written = measured.get("rows_written")
            run.written_how = measured.get("statement", "")
            if measured.get("rows_staged") is not None:
                run.counts = {"staged": measured["rows_staged"]}
            if measured.get("file_format"):
                run.counts["file format"] = measured["file_format"]
        run.local_mib = size_of(workdir / "dlt") / 2**20
    run.tree_rss_mib = sampler.peak_tree_bytes / 2**20 if sampler.samples else None

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
        for scenario in SCENARIOS:
            run, before = run_scenario(
                tool, scenario, rows, repeat, files, workdir, database, before, server, options
            )
            runs.append(run)
            print(f"{rows:>10,} {tool:<15} run {repeat} {scenario:<8} {describe(run)}", flush=True)
            if run.error:
                break
        check = Check(tool=tool, rows=rows, repeat=repeat, expected=expected)
        if runs[-1].error is None:
            try:
                for key, value in inspect_table(database_url(options.server, database)).items():
                    setattr(check, key, value)
                check.equal = check.fingerprint == expected
            except Exception as error:  # noqa: BLE001  (reported, and fails the benchmark)
                check.error = f"{type(error).__name__}: {error}"
            verdict = check.error or ("equal to the changed file" if check.equal else "DIFFERENT")
            print(f"{rows:>10,} {tool:<15} run {repeat} content  {verdict}", flush=True)
        else:
            check.error = "scenarios did not finish"
    finally:
        if not options.keep:
            server.drop(database)
            shutil.rmtree(workdir, ignore_errors=True)
    return runs, check


def describe(run: Run) -> str:
    if run.error:
        return f"ERROR {run.error[:300]}"
    parts = [f"{run.wall_s:.2f} s"]
    if run.work_s is not None:
        parts.append(f"({run.work_s:.2f} s work)")
    parts.append(f"{fmt_mib(run.peak_rss_mib)} MiB")
    parts.append(f"wrote {fmt_n(run.rows_written)}")
    parts.append(f"server {server_counts(run.server)}")
    parts.append(f"dead {fmt_n(run.dead_tuples)}")
    parts.append(f"table {run.table_mib:,.1f} MiB" if run.table_mib is not None else "no table")
    return ", ".join(parts)


def server_counts(server: dict) -> str:
    if not server:
        return "-"
    return "/".join(fmt_n(server.get(k)) for k in ("inserted", "updated", "deleted"))


# --------------------------------------------------------------------------- summary
@dataclass
class Summary:
    tool: str
    rows: int
    scenario: str
    runs: int
    median_s: float | None
    min_s: float | None
    max_s: float | None
    work_s: float | None
    peak_rss_mib: float | None
    rss_from: str
    tree_rss_mib: float | None
    rows_written: int | None
    written_how: str
    counts: dict
    server: dict
    dead_tuples: int | None
    vacuumed: bool
    table_mib: float | None
    other_mib: float | None
    other_dead: int | None
    wal_mib: float | None
    local_mib: float | None
    error: str | None
    x_floor: float | None = None
    x_first: float | None = None


def summarize(runs: list[Run]) -> list[Summary]:
    groups: dict[tuple[str, int, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.tool, run.rows, run.scenario), []).append(run)
    summaries = []
    for (tool, rows, scenario), members in groups.items():
        good = [r for r in members if r.error is None and r.wall_s is not None]
        wall = [r.wall_s for r in good]
        errors = [r.error for r in members if r.error]
        written = {r.rows_written for r in good}
        dead = [r.dead_tuples for r in good if r.dead_tuples is not None]
        summaries.append(
            Summary(
                tool=tool,
                rows=rows,
                scenario=scenario,
                runs=len(good),
                median_s=median(wall),
                min_s=min(wall) if wall else None,
                max_s=max(wall) if wall else None,
                work_s=median([r.work_s for r in good]),
                peak_rss_mib=max((r.peak_rss_mib or 0 for r in good), default=None) or None,
                rss_from=good[-1].rss_from if good else "",
                tree_rss_mib=max((r.tree_rss_mib or 0 for r in good), default=None) or None,
                # The same in every run, or the largest (a tool that sometimes writes, writes).
                rows_written=max((w for w in written if w is not None), default=None),
                written_how=good[-1].written_how if good else "",
                counts=good[-1].counts if good else {},
                server=good[-1].server if good else {},
                dead_tuples=max(dead) if dead else None,  # the worst repetition
                vacuumed=any(r.vacuumed for r in good),
                table_mib=median([r.table_mib for r in good]),
                other_mib=median([r.other_mib for r in good]),
                other_dead=max((r.other_dead or 0 for r in good), default=None),
                wal_mib=median([r.wal_mib for r in good]),
                local_mib=median([r.local_mib for r in good]),
                error=errors[0] if errors else None,
            )
        )
    by_key = {(s.tool, s.rows, s.scenario): s for s in summaries}
    for s in summaries:
        floor = by_key.get((FLOOR, s.rows, "first"))
        first = by_key.get((s.tool, s.rows, "first"))
        if s.median_s and floor and floor.median_s:
            s.x_floor = s.median_s / floor.median_s
        if s.median_s and first and first.median_s:
            s.x_first = s.median_s / first.median_s
    order = {tool: i for i, tool in enumerate(TOOLS)}
    summaries.sort(key=lambda s: (s.rows, order.get(s.tool, 99), SCENARIOS.index(s.scenario)))
    return summaries


HEADERS = (
    "tool",
    "rows",
    "scenario",
    "runs",
    "median s",
    "min s",
    "max s",
    "work s",
    "x floor first",
    "x own first",
    "peak RSS MiB",
    "tree RSS MiB",
    "rows written",
    "server ins/upd/del",
    "dead tuples",
    "table MiB",
    "other MiB",
    "WAL MiB",
    "local MiB",
)


def fmt_1(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def table_rows(summaries: list[Summary]) -> list[tuple[str, ...]]:
    rows = []
    for s in summaries:
        if s.error and not s.runs:
            rows.append(
                (s.tool, f"{s.rows:,}", SCENARIO_TITLES[s.scenario], "0", "error")
                + ("-",) * (len(HEADERS) - 5)
            )
            continue
        dead = fmt_n(s.dead_tuples) + (" (vacuumed)" if s.vacuumed else "")
        rows.append(
            (
                s.tool,
                f"{s.rows:,}",
                SCENARIO_TITLES[s.scenario],
                str(s.runs),
                fmt_s(s.median_s),
                fmt_s(s.min_s),
                fmt_s(s.max_s),
                fmt_s(s.work_s),
                fmt_x(s.x_floor),
                fmt_x(s.x_first),
                fmt_mib(s.peak_rss_mib),
                fmt_mib(s.tree_rss_mib),
                fmt_n(s.rows_written),
                server_counts(s.server),
                dead,
                fmt_1(s.table_mib),
                fmt_1(s.other_mib),
                fmt_1(s.wal_mib),
                fmt_1(s.local_mib),
            )
        )
    return rows


def print_table(summaries: list[Summary], unavailable: dict[str, str]) -> None:
    rows = table_rows(summaries)
    rows += [(tool, "-", "not available") + ("-",) * (len(HEADERS) - 3) for tool in unavailable]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(" | ".join(HEADERS))
        for row in rows:
            print(" | ".join(row))
        return
    table = Table(title="PostgreSQL load (median of runs; wall clock of each scenario's process)")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i in (0, 2) else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=260).print(table)


def targets(summaries: list[Summary], checks: list[Check]) -> list[tuple[str, str, str]]:
    """(where, target, PASS/FAIL (detail)) at TARGET_ROWS, else the largest row count
    with dataward results (said so)."""
    measured = [s.rows for s in summaries if s.tool == "dataward" and s.median_s]
    if not measured:
        return [("-", "all targets", "not measured: no dataward results")]
    rows = TARGET_ROWS if TARGET_ROWS in measured else max(measured)
    where = f"{rows:,} rows" + ("" if rows == TARGET_ROWS else f" (stated at {TARGET_ROWS:,})")
    get = {(s.tool, s.scenario): s for s in summaries if s.rows == rows}.get
    first, same, changed = (get(("dataward", sc)) for sc in SCENARIOS)
    if first and first.runs < 3:
        where += f", {first.runs} run{'s' if first.runs > 1 else ''}: smoke, not a result"
    lines = []

    def verdict(ok: bool | None, detail: str) -> str:
        if ok is None:
            return f"not measured ({detail})" if detail else "not measured"
        return ("PASS" if ok else "FAIL") + f" ({detail})"

    floor = get((FLOOR, "first"))
    ratio = first.median_s / floor.median_s if floor and floor.median_s else None
    lines.append(
        (
            where,
            f"first load within {TARGET_FLOOR_RATIO}x of the COPY floor's first load",
            verdict(None if ratio is None else ratio <= TARGET_FLOOR_RATIO, fmt_x(ratio)),
        )
    )
    for peer, factor in (
        ("dlt-merge", TARGET_DLT_SPEEDUP),
        ("dlt-upsert", TARGET_DLT_SPEEDUP),
        ("executemany", TARGET_EXECUTEMANY_SPEEDUP),
    ):
        other = get((peer, "first"))
        if other and other.median_s:
            speedup = other.median_s / first.median_s
            ok, detail = (
                speedup >= factor,
                f"{speedup:.2f}x: {first.median_s:.2f} s vs {other.median_s:.2f} s",
            )
        else:
            ok, detail = None, f"no {peer} first load"
        lines.append(
            (where, f"first load at least {factor:g}x faster than {peer}", verdict(ok, detail))
        )
    if same and same.median_s:
        x = same.median_s / first.median_s
        lines.append(
            (
                where,
                f"identical re-run at most {TARGET_SAME_RATIO}x of the first load",
                verdict(x <= TARGET_SAME_RATIO, fmt_x(x)),
            )
        )
        touched = sum(same.server.get(k, 0) for k in ("inserted", "updated", "deleted"))
        lines.append(
            (
                where,
                "identical re-run leaves zero dead tuples in the table",
                verdict(
                    None
                    if same.dead_tuples is None
                    else same.dead_tuples == 0 and not same.vacuumed,
                    f"n_dead_tup {fmt_n(same.dead_tuples)}"
                    + (", but a vacuum ran during it" if same.vacuumed else ""),
                ),
            )
        )
        lines.append(
            (
                where,
                "identical re-run writes zero rows",
                verdict(
                    None if same.rows_written is None else same.rows_written == 0 and touched == 0,
                    f"{fmt_n(same.rows_written)} reported, server counted "
                    f"{server_counts(same.server)} ins/upd/del",
                ),
            )
        )
    else:
        lines.append((where, "identical re-run", verdict(None, "no successful run")))
    if changed and changed.median_s:
        x = changed.median_s / first.median_s
        lines.append(
            (
                where,
                f"1%-changed re-run at most {TARGET_CHANGED_RATIO}x of the first load",
                verdict(x <= TARGET_CHANGED_RATIO, fmt_x(x)),
            )
        )
    else:
        lines.append((where, "1%-changed re-run", verdict(None, "no successful run")))
    # The process's own high-water mark, or the polled tree if that was larger (children).
    peaks = [max(s.peak_rss_mib or 0, s.tree_rss_mib or 0) for s in (first, same, changed) if s]
    peaks = [p for p in peaks if p]
    peak = max(peaks) if peaks else None
    lines.append(
        (
            where,
            f"peak RSS under 400 MB ({TARGET_RSS_MIB:,.0f} MiB), every scenario",
            verdict(None if peak is None else peak < TARGET_RSS_MIB, f"{fmt_mib(peak)} MiB"),
        )
    )
    mine = [c for c in checks if c.tool == "dataward" and c.rows == rows]
    if mine:
        ok = all(c.equal for c in mine)
        lines.append(
            (
                where,
                "table after scenario 3 equals the changed file",
                verdict(ok, f"{len(mine)} runs"),
            )
        )
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


def render_markdown(summaries, runs, checks, meta) -> str:
    info = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    settings = ", ".join(f"{k} {v}" for k, v in meta.get("server", {}).items())
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
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" if i in (0, 2) else "---:" for i in range(len(HEADERS))) + "|",
    ]
    for row in table_rows(summaries):
        out.append("| " + " | ".join(row) + " |")
    unavailable = meta.get("unavailable", {})
    for tool in unavailable:
        out.append(f"| {tool} | - | not available |" + " - |" * (len(HEADERS) - 3))
    few = sorted({(s.tool, s.rows) for s in summaries if 0 < s.runs < 3})
    if few:
        which = ", ".join(f"{tool} at {rows:,}" for tool, rows in few)
        out += ["", f"**Fewer than 3 repetitions** ({which}): a smoke run, not a result."]
    if unavailable:
        out.append("")
        out += [f"- **{tool}** not available: {reason}" for tool, reason in unavailable.items()]
    out += ["", "## Targets (dataward)", "", "| where | target | verdict |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in targets(summaries, checks)]

    out += ["", "## What each tool left in the database", ""]
    largest: dict[str, Check] = {}
    for check in checks:  # the largest row count each tool has a good table for
        if not check.error and check.rows >= largest.get(check.tool, check).rows:
            largest[check.tool] = check
    for check in largest.values():
        types = ", ".join(f"{k} {v}" for k, v in check.types.items())
        extra = f"; extra columns {', '.join(check.extra_columns)}" if check.extra_columns else ""
        tables = ", ".join(
            f"{name} ({count:,} rows, {size:,.1f} MiB)"
            for name, (count, size) in check.tables.items()
        )
        out.append(
            f"- **{check.tool}**, {check.rows:,} rows: `{check.relation}`, "
            f"key constraint: {check.key}{extra}. "
            f"Types: {types}. Tables in the database: {tables}."
        )
    out += ["", "How each tool wrote (the last repetition's statement and counts):", ""]
    by_key = {(x.tool, x.rows, x.scenario): x for x in summaries}
    for s in summaries:
        if s.scenario != "first" or not s.runs:
            continue
        entries = []
        for scenario in SCENARIOS:
            one = by_key.get((s.tool, s.rows, scenario))
            if one is None or not one.runs:
                continue
            counts = ", ".join(
                f"{k} {fmt_n(v) if isinstance(v, int) else v}" for k, v in one.counts.items()
            )
            server = ", ".join(f"{k} {fmt_n(v)}" for k, v in one.server.items())
            entries.append(
                f"{scenario}: `{one.written_how}` -> {fmt_n(one.rows_written)}"
                + (f" ({counts})" if counts else "")
                + f"; server: {server}; dead tuples in other tables {fmt_n(one.other_dead)}"
            )
        out.append(f"- **{s.tool}**, {s.rows:,} rows: " + "; ".join(entries))

    out += ["", "## Same content", ""]
    groups: dict[int, list[Check]] = {}
    for check in checks:
        groups.setdefault(check.rows, []).append(check)
    for rows, members in sorted(groups.items()):
        bad = [c for c in members if not c.equal]
        if not bad:
            out.append(
                f"- {rows:,} rows: all {len(members)} tables ({len({c.tool for c in members})} "
                f"tools) equal the changed file (`{members[0].expected}`)"
            )
        else:
            for c in bad:
                out.append(
                    f"- {rows:,} rows: **{c.tool} run {c.repeat} differs**: "
                    f"{c.error or c.fingerprint} vs expected {c.expected}"
                )
    out += ["", *EQUALITY_NOTES]

    problems = [s for s in summaries if s.error]
    if problems:
        out += ["", "## Problems", ""]
        out += [f"- {s.tool} {s.rows:,} {s.scenario}: `{s.error[:400]}`" for s in problems]
    out += [
        "",
        "## Machine",
        "",
        "**Shared and noisy**: a small VM whose CPUs are shared with other work running at",
        "the same time, the PostgreSQL server on the same CPUs as the tools. Read the medians",
        "and the ratios (same session, tools interleaved repetition by repetition) rather",
        "than absolute seconds.",
        "",
        f"- {info.get('nproc')} CPUs ({info.get('cpu', 'unknown CPU')}), "
        f"{info.get('ram_gib', '?')} GiB RAM, {info.get('platform')}",
        f"- Python {info.get('python')}; {versions}",
        f"- PostgreSQL server at {meta.get('server_url', SERVER)}: {settings}",
        f"- sessions: {', '.join(meta['sessions'])}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in meta['loadavg_end'])}",
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000", help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool (>= 3)")
    parser.add_argument(
        "--tools", default=",".join(DEFAULT_TOOLS), help=f"any of {','.join(TOOLS)}"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "load_postgres.md")
    parser.add_argument(
        "--raw",
        type=Path,
        default=DATA_DIR / "load_postgres.json",
        help="every run as JSON (kept under the gitignored bench/data/)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep earlier results (from --raw) for the tool/rows pairs not run now",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep each run's directory and database"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the markdown from --raw, running nothing",
    )
    parser.add_argument(
        "--dataward-exe",
        type=Path,
        default=DATAWARD_EXE,
        help="the dataward executable to run (default: the one next to this Python)",
    )
    parser.add_argument(
        "--server",
        default=SERVER,
        help="the PostgreSQL server, as a URL without a database (trust authentication)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per scenario")
    # Internal: one tool / one scenario in this (fresh) process.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return args
    args.row_counts = [int(x.replace("_", "")) for x in args.rows.split(",") if x]
    args.tool_list = [x for x in args.tools.split(",") if x]
    unknown = sorted(set(args.tool_list) - set(TOOLS))
    if unknown:
        parser.error(f"--tools: unknown {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return child_main(args)

    if args.render_only:
        saved = json.loads(args.raw.read_text())
        runs = [Run(**r) for r in saved["runs"]]
        checks = [Check(**c) for c in saved["checks"]]
        args.output.write_text(render_markdown(summarize(runs), runs, checks, saved["meta"]))
        print(f"wrote {args.output} from {args.raw}")
        return 0

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
    tools = list(args.tool_list)
    if "dataward" in tools:
        ok, reason = dataward_available(args.dataward_exe)
        if not ok:
            print(f"dataward: not available ({reason})", flush=True)
            meta["unavailable"]["dataward"] = reason
            tools.remove("dataward")

    runs: list[Run] = []
    checks: list[Check] = []
    try:
        for rows in args.row_counts:
            files = ensure_data(rows)
            expected = source_fingerprint(files["changed"])
            for path in files.values():
                warm(path)
            # Interleave the tools repetition by repetition: slow drift hits all alike.
            for repeat in range(1, args.repeat + 1):
                for tool in tools:
                    done, check = run_tool(tool, rows, repeat, files, expected, server, args)
                    runs += done
                    checks.append(check)
    finally:
        server.close()
    meta["loadavg_end"] = os.getloadavg()

    if args.merge and args.raw.exists():
        earlier = json.loads(args.raw.read_text())
        fresh = {(r.tool, r.rows) for r in runs}
        runs = [Run(**r) for r in earlier["runs"] if (r["tool"], r["rows"]) not in fresh] + runs
        checks = [
            Check(**c) for c in earlier["checks"] if (c["tool"], c["rows"]) not in fresh
        ] + checks
        meta["sessions"] = sorted({r.session for r in runs})
        for tool, reason in earlier["meta"].get("unavailable", {}).items():
            if tool not in args.tool_list:
                meta["unavailable"].setdefault(tool, reason)
    summaries = summarize(runs)
    print_table(summaries, meta["unavailable"])
    for tool, reason in meta["unavailable"].items():
        print(f"{tool}: not available: {reason}")
    for where, target, verdict in targets(summaries, checks):
        print(f"target [{where}] {target}: {verdict}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_markdown(summaries, runs, checks, meta))
    args.raw.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "runs": [asdict(r) for r in runs],
        "checks": [asdict(c) for c in checks],
    }
    args.raw.write_text(json.dumps(payload, indent=1))
    print(f"wrote {args.output} and {args.raw}")

    failed = [c for c in checks if not c.equal]
    for c in failed:
        problem = c.error or f"content {c.fingerprint} != {c.expected}"
        print(f"FAILED {c.tool} {c.rows:,} run {c.repeat}: {problem}", file=sys.stderr)
    return 1 if failed or any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
