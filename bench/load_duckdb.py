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
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from machine import machine_info
from orders_spec import COLUMNS

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DATA_DIR = BENCH / "data"
RUNS_DIR = DATA_DIR / "load_runs"
CONTRACT = BENCH / "orders.odcs.yaml"
VENV_BIN = Path(sys.executable).parent
DATAWARD_EXE = VENV_BIN / "dataward"  # --dataward-exe overrides

TOOLS = ("floor", "dlt-merge", "dlt-upsert", "dataward", "dlt-upsert-skip")
DEFAULT_TOOLS = ("floor", "dlt-merge", "dlt-upsert", "dataward")
FLOOR = "floor"
SCENARIOS = ("first", "same", "changed")
SCENARIO_TITLES = {
    "first": "1 first load",
    "same": "2 identical re-run",
    "changed": "3 re-run, 1% changed",
}
CHANGED_SHARE = 0.01
# Bump when the clean / changed files' content changes, so cached files are rebuilt.
LOAD_DATA_VERSION = 1
POLL_SECONDS = 0.02
PACKAGES = ("dataward", "duckdb", "dlt", "pyarrow", "polars", "numpy", "psutil")

# Targets for dataward (the issue's), at the largest row count with dataward results.
TARGET_ROWS = 5_000_000
TARGET_FLOOR_RATIO = 1.3
TARGET_SAME_RATIO = 0.2
TARGET_CHANGED_RATIO = 0.3
TARGET_RSS_MIB = 1024.0

# The contract columns every tool must load identically.
CANONICAL_COLUMNS = COLUMNS


# --------------------------------------------------------------------------- data
def data_paths(rows: int) -> dict[str, Path]:
    import orders_data

    stem = f"load_orders_{rows}_v{orders_data.DATA_VERSION}.{LOAD_DATA_VERSION}"
    return {
        "clean": DATA_DIR / f"{stem}.clean.parquet",
        "changed": DATA_DIR / f"{stem}.changed.parquet",
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
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in (("clean", clean), ("changed", changed)):
        tmp = files[name].with_name(files[name].name + ".tmp")
        content.write_parquet(tmp, compression="zstd", statistics=True)
        tmp.replace(files[name])  # rename last: a half-written file is never picked up
    print(f"wrote {rows:,} clean rows and {int(picked.sum()):,} changed -> {DATA_DIR}")
    return 0


def ensure_data(rows: int) -> dict[str, Path]:
    files = data_paths(rows)
    if all(path.exists() for path in files.values()):
        return files
    print(f"generating the clean orders data set: {rows:,} rows ...", flush=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--prepare", str(rows)]
    subprocess.run(command, check=True, cwd=ROOT)
    return files


def warm(path: Path) -> None:
    """Read the file once so every tool starts from the page cache, not the disk."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


# --------------------------------------------------------------------------- child process
def vm_hwm_kib(pid: int | str = "self") -> int | None:
    """A process's resident-set high-water mark (VmHWM), or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def child_main(args: argparse.Namespace) -> int:
    """Run one tool, one scenario, in this fresh process; report as JSON."""
    start = time.perf_counter()
    import load_duckdb_peers

    runner = load_duckdb_peers.prepare(args.child)
    loaded = time.perf_counter()
    outcome = runner(Path(args.db), Path(args.source), args.scenario, Path(args.workdir))
    done = time.perf_counter()
    report = {
        "import_s": loaded - start,
        "work_s": done - loaded,
        "peak_rss_kib": vm_hwm_kib(),
        **outcome,
    }
    Path(args.report).write_text(json.dumps(report))
    return 0


# --------------------------------------------------------------------------- measuring
class TreeSampler(threading.Thread):
    """Samples a process tree every POLL_SECONDS from outside.

    Keeps the largest summed RSS of the tree, and the last VmHWM read of the root process
    (the kernel's own high-water mark: exact up to the last read, at most one poll before
    the process exits).
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_tree_bytes = 0
        self.root_hwm_kib: int | None = None
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._done.is_set():
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            total = 0
            for member in members:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += member.memory_info().rss
            hwm = vm_hwm_kib(self.pid)
            if hwm:  # a zombie's status has no VmHWM: keep the last real one
                self.root_hwm_kib = hwm
            self.peak_tree_bytes = max(self.peak_tree_bytes, total)
            self.samples += 1
            self._done.wait(POLL_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def measured_process(
    command: list[str], cwd: Path, log: Path, timeout: float
) -> tuple[int, float, TreeSampler]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", RUNTIME__DLTHUB_TELEMETRY="false")
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}  (cwd {cwd})\n")
        out.flush()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        sampler = TreeSampler(process.pid)
        sampler.start()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        wall = time.perf_counter() - started
        sampler.stop()
    return code, wall, sampler


def tail(log: Path, lines: int = 12) -> str:
    return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


# --------------------------------------------------------------------------- dataward
def dataward_available(exe: Path) -> tuple[bool, str]:
    if not exe.exists():
        return False, f"{exe} does not exist"
    try:
        result = subprocess.run(
            [str(exe), "run", "--help"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"`dataward run --help` failed: {error}"
    if result.returncode != 0:
        # Keep the words of typer's boxed error, not the box.
        text = "".join(c for c in result.stderr or result.stdout if not 0x2500 <= ord(c) < 0x2580)
        words = " ".join(text.split()).replace("Try 'dataward --help' for help.", "")
        words = words.split(" Error ", 1)[-1]  # the usage line says nothing here
        return False, f"`dataward run --help` exited {result.returncode}: {words.strip()}"
    return True, ""


def write_dataward_project(project: Path, source: Path) -> None:
    (project / "pipelines").mkdir(parents=True, exist_ok=True)
    (project / "dataward.toml").write_text(
        '[project]\nname = "bench"\n\n[warehouse]\nurl = "duckdb:///warehouse.duckdb"\n'
    )
    point_dataward_at(project, source)


def point_dataward_at(project: Path, source: Path) -> None:
    (project / "pipelines" / "orders.toml").write_text(
        f'contract = "{CONTRACT}"\ntable = "orders"\nmode = "merge"\n\n'
        f'[source]\npath = "{source}"\n'
    )


def dataward_last_run(exe: Path, project: Path) -> dict:
    result = subprocess.run(
        [str(exe), "runs", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`dataward runs --format json` exited {result.returncode}")
    runs = json.loads(result.stdout)
    if not runs:
        raise RuntimeError("`dataward runs --format json` listed no runs")
    return runs[0]


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
    parts = ", ".join(f"coalesce({exprs[name]}, '\\N')" for name in CANONICAL_COLUMNS)
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
        return {
            "relation": relation,
            "types": {k: v for k, v in types.items() if k in CANONICAL_COLUMNS},
            "extra_columns": [k for k in types if k not in CANONICAL_COLUMNS],
            "key": ", ".join(k for (k,) in keys) or "none",
            "tables": tables,
            "fingerprint": fingerprint(con, relation),
        }
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
    tool: str, scenario: str, rows: int, repeat: int, files: dict, workdir: Path, options
) -> tuple[Run, Path]:
    run = Run(tool=tool, rows=rows, repeat=repeat, scenario=scenario, session=options.session)
    source = files["clean" if scenario in ("first", "same") else "changed"]
    log = workdir / f"{scenario}.log"
    if tool == "dataward":
        project = workdir / "project"
        if scenario == "first":
            write_dataward_project(project, source)
        else:
            point_dataward_at(project, source)
        db = project / "warehouse.duckdb"
        command = [str(options.dataward_exe), "run", "orders"]
        code, run.wall_s, sampler = measured_process(command, project, log, options.timeout)
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
        run.side_mib = (size_of(project) - size_of(db) - size_of(wal_of(db))) / 2**20
    else:
        db = workdir / "warehouse.duckdb"
        report = workdir / f"{scenario}.json"
        report.unlink(missing_ok=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--child", tool]
        command += ["--scenario", scenario, "--db", str(db), "--source", str(source)]
        command += ["--workdir", str(workdir), "--report", str(report)]
        code, run.wall_s, sampler = measured_process(command, BENCH, log, options.timeout)
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
        run.side_mib = size_of(workdir / "dlt") / 2**20
    run.tree_rss_mib = sampler.peak_tree_bytes / 2**20 if sampler.samples else None
    run.db_mib = (size_of(db) + size_of(wal_of(db))) / 2**20
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
    for scenario in SCENARIOS:
        run, db = run_scenario(tool, scenario, rows, repeat, files, workdir, options)
        runs.append(run)
        print(f"{rows:>10,} {tool:<16} run {repeat} {scenario:<8} {describe(run)}", flush=True)
        if run.error:
            break
    check = Check(tool=tool, rows=rows, repeat=repeat, expected=expected)
    if runs[-1].error is None:
        try:
            for key, value in inspect_table(db).items():
                setattr(check, key, value)
            check.equal = check.fingerprint == expected
        except Exception as error:  # noqa: BLE001  (reported, and fails the benchmark)
            check.error = f"{type(error).__name__}: {error}"
        verdict = check.error or ("equal to the changed file" if check.equal else "DIFFERENT")
        print(f"{rows:>10,} {tool:<16} run {repeat} content  {verdict}", flush=True)
    else:
        check.error = "scenarios did not finish"
    if not options.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return runs, check


def describe(run: Run) -> str:
    if run.error:
        return f"ERROR {run.error[:300]}"
    parts = [f"{run.wall_s:.2f} s"]
    if run.work_s is not None:
        parts.append(f"({run.work_s:.2f} s work)")
    parts.append(f"{fmt_mib(run.peak_rss_mib)} MiB")
    parts.append(f"file {run.db_mib:,.1f} MiB")
    parts.append(f"wrote {fmt_n(run.rows_written)}")
    return ", ".join(parts)


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
    db_mib: float | None
    used_mib: float | None
    side_mib: float | None
    rows_written: int | None
    written_how: str
    counts: dict
    error: str | None
    x_floor: float | None = None
    x_first: float | None = None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


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
                db_mib=median([r.db_mib for r in good]),
                used_mib=median([r.used_mib for r in good]),
                side_mib=median([r.side_mib for r in good]),
                # The same in every run, or the largest (a tool that sometimes writes, writes).
                rows_written=max((w for w in written if w is not None), default=None),
                written_how=good[-1].written_how if good else "",
                counts=good[-1].counts if good else {},
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


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def fmt_mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def fmt_n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


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
    "file MiB",
    "used MiB",
    "side MiB",
    "rows written",
)


def table_rows(summaries: list[Summary]) -> list[tuple[str, ...]]:
    rows = []
    for s in summaries:
        if s.error and not s.runs:
            rows.append(
                (s.tool, f"{s.rows:,}", SCENARIO_TITLES[s.scenario], "0", "error")
                + ("-",) * (len(HEADERS) - 5)
            )
            continue
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
                f"{s.db_mib:,.1f}" if s.db_mib is not None else "-",
                f"{s.used_mib:,.1f}" if s.used_mib is not None else "-",
                f"{s.side_mib:,.1f}" if s.side_mib is not None else "-",
                fmt_n(s.rows_written),
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
    table = Table(title="DuckDB load (median of runs; wall clock of each scenario's process)")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i in (0, 2) else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def targets(summaries: list[Summary], checks: list[Check]) -> list[tuple[str, str, str]]:
    """(where, target, PASS/FAIL (detail)) at the largest row count with dataward results."""
    measured = [s.rows for s in summaries if s.tool == "dataward" and s.median_s]
    if not measured:
        return [("-", "all targets", "not measured: no dataward results")]
    rows = max(measured)
    where = f"{rows:,} rows" + ("" if rows == TARGET_ROWS else f" (stated at {TARGET_ROWS:,})")
    get = {(s.tool, s.scenario): s for s in summaries if s.rows == rows}.get
    first, same, changed = (get(("dataward", sc)) for sc in SCENARIOS)
    if first and first.runs < 3:
        where += f", {first.runs} run{'s' if first.runs > 1 else ''}: smoke, not a result"
    floor = get((FLOOR, "first"))
    lines = []

    def verdict(ok: bool | None, detail: str) -> str:
        if ok is None:
            return f"not measured ({detail})" if detail else "not measured"
        return ("PASS" if ok else "FAIL") + f" ({detail})"

    ratio = first.median_s / floor.median_s if floor and floor.median_s else None
    lines.append(
        (
            where,
            f"first load at most {TARGET_FLOOR_RATIO}x the floor's first load",
            verdict(None if ratio is None else ratio <= TARGET_FLOOR_RATIO, fmt_x(ratio)),
        )
    )
    for peer in ("dlt-merge", "dlt-upsert"):
        other = get((peer, "first"))
        ok = None if not (other and other.median_s) else first.median_s < other.median_s
        detail = f"{first.median_s:.2f} s vs {other.median_s:.2f} s" if ok is not None else ""
        lines.append((where, f"first load faster than {peer}", verdict(ok, detail)))
    if same and same.median_s:
        x = same.median_s / first.median_s
        lines.append(
            (
                where,
                f"identical re-run at most {TARGET_SAME_RATIO}x of the first load",
                verdict(x <= TARGET_SAME_RATIO, fmt_x(x)),
            )
        )
        lines.append(
            (
                where,
                "identical re-run writes zero rows",
                verdict(
                    None if same.rows_written is None else same.rows_written == 0,
                    f"{fmt_n(same.rows_written)} rows written",
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
            f"peak RSS under 1 GiB ({TARGET_RSS_MIB:,.0f} MiB), every scenario",
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


def render_markdown(summaries, runs, checks, meta) -> str:
    info = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
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
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" if i in (0, 2) else "---:" for i in range(len(HEADERS))) + "|",
    ]
    for row in table_rows(summaries):
        out.append("| " + " | ".join(row) + " |")
    few = sorted({(s.tool, s.rows) for s in summaries if 0 < s.runs < 3})
    if few:
        which = ", ".join(f"{tool} at {rows:,}" for tool, rows in few)
        out += ["", f"**Fewer than 3 repetitions** ({which}): a smoke run, not a result."]
    unavailable = meta.get("unavailable", {})
    for tool in unavailable:
        out.append(f"| {tool} | - | not available |" + " - |" * (len(HEADERS) - 3))
    if unavailable:
        out.append("")
        out += [f"- **{tool}** not available: {reason}" for tool, reason in unavailable.items()]
    out += ["", "## Targets (dataward)", "", "| where | target | verdict |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in targets(summaries, checks)]

    out += ["", "## What each tool left in the file", ""]
    largest: dict[str, Check] = {}
    for check in checks:  # the largest row count each tool has a good table for
        if not check.error and check.rows >= largest.get(check.tool, check).rows:
            largest[check.tool] = check
    for check in largest.values():
        types = ", ".join(f"{k} {v}" for k, v in check.types.items())
        extra = f"; extra columns {', '.join(check.extra_columns)}" if check.extra_columns else ""
        tables = ", ".join(f"{name} ({size:,} rows)" for name, size in check.tables.items())
        out.append(
            f"- **{check.tool}**, {check.rows:,} rows: `{check.relation}`, "
            f"key constraint: {check.key}{extra}. "
            f"Types: {types}. Tables in the file: {tables}."
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
            entries.append(
                f"{scenario}: `{one.written_how}` -> {fmt_n(one.rows_written)}"
                + (f" ({counts})" if counts else "")
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
        "the same time. Read the medians and the ratios (same session, tools interleaved",
        "repetition by repetition) rather than absolute seconds.",
        "",
        f"- {info.get('nproc')} CPUs ({info.get('cpu', 'unknown CPU')}), "
        f"{info.get('ram_gib', '?')} GiB RAM, {info.get('platform')}",
        f"- Python {info.get('python')}; {versions}",
        f"- sessions: {', '.join(meta['sessions'])}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in meta['loadavg_end'])}",
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000,5000000", help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool (>= 3)")
    parser.add_argument(
        "--tools", default=",".join(DEFAULT_TOOLS), help=f"any of {','.join(TOOLS)}"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "load_duckdb.md")
    parser.add_argument(
        "--raw",
        type=Path,
        default=DATA_DIR / "load_duckdb.json",
        help="every run as JSON (kept under the gitignored bench/data/)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep earlier results (from --raw) for the tool/rows pairs not run now",
    )
    parser.add_argument("--keep", action="store_true", help="keep each run's directory")
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
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per scenario")
    # Internal: data preparation, and one tool / one scenario in this (fresh) process.
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child or args.prepare:
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
    if args.prepare:
        return prepare_main(args.prepare)
    if args.child:
        return child_main(args)

    if args.render_only:
        saved = json.loads(args.raw.read_text())
        runs = [Run(**r) for r in saved["runs"]]
        checks = [Check(**c) for c in saved["checks"]]
        args.output.write_text(render_markdown(summarize(runs), runs, checks, saved["meta"]))
        print(f"wrote {args.output} from {args.raw}")
        return 0

    args.session = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
    meta = {
        "command": "python bench/load_duckdb.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(PACKAGES),
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
    for rows in args.row_counts:
        files = ensure_data(rows)
        expected = source_fingerprint(files["changed"])
        for path in files.values():
            warm(path)
        # Interleave the tools repetition by repetition: slow drift hits all alike.
        for repeat in range(1, args.repeat + 1):
            for tool in tools:
                done, check = run_tool(tool, rows, repeat, files, expected, args)
                runs += done
                checks.append(check)
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
