"""What the two load benchmarks share: bench/load_duckdb.py and bench/load_postgres.py.

Both run the same three scenarios per tool and repetition, each in a process of its own, run
`dataward run` the same way, compare the table a tool left with the changed Parquet file by a
fingerprint, and summarize, check targets and write markdown the same way. Only what differs
by warehouse (the Run and Summary fields, how a table is found and measured, the targets'
numbers and the words of the notes) stays in each driver. Kept free of heavy imports: every
benchmarked tool's child process imports this module before its clock starts.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from orders_spec import COLUMNS

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATA_DIR = BENCH / "data"
CONTRACT = BENCH / "orders.odcs.yaml"
VENV_BIN = Path(sys.executable).parent
DATAWARD_EXE = VENV_BIN / "dataward"  # --dataward-exe overrides

FLOOR = "floor"
SCENARIOS = ("first", "same", "changed")
SCENARIO_TITLES = {
    "first": "1 first load",
    "same": "2 identical re-run",
    "changed": "3 re-run, 1% changed",
}
# How often TreeSampler reads a tool's process tree (the notes say 20 ms).
SAMPLE_SECONDS = 0.02

# The contract columns every tool must load identically.
CANONICAL_COLUMNS = COLUMNS


class ToolRun(Protocol):
    """The fields of a driver's Run that the shared steps read and write."""

    tool: str
    rows: int
    scenario: str
    session: str
    wall_s: float | None
    work_s: float | None
    import_s: float | None
    peak_rss_mib: float | None
    rss_from: str
    tree_rss_mib: float | None
    rows_written: int | None
    written_how: str
    counts: dict
    error: str | None


@dataclass(kw_only=True)
class Summary:
    """One tool, row count and scenario over its repetitions; each driver adds its fields."""

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
    error: str | None
    x_floor: float | None = None
    x_first: float | None = None


RunT = TypeVar("RunT", bound=ToolRun)
SummaryT = TypeVar("SummaryT", bound=Summary)


# --------------------------------------------------------------------------- data
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


def child_main(args: argparse.Namespace, peers: str, target: Path | str) -> int:
    """Run one tool, one scenario, in this fresh process; report as JSON.

    `peers` is the module of in-process loaders, imported here so that its import is timed
    apart from the work; `target` is where the runner loads (a DuckDB file, a database URL).
    """
    start = time.perf_counter()
    runners = importlib.import_module(peers)
    runner = runners.prepare(args.child)
    loaded = time.perf_counter()
    outcome = runner(target, Path(args.source), args.scenario, Path(args.workdir))
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
    """Samples a process tree every SAMPLE_SECONDS from outside.

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
            self._done.wait(SAMPLE_SECONDS)

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


def read_child_report(
    run: ToolRun, code: int, log: Path, report: Path, sampler: TreeSampler
) -> dict | None:
    """What an in-process tool's child measured, into `run`; its report, or None if it failed.

    The child reads its own VmHWM at the end; the tree RSS is the one polled from outside.
    """
    run.tree_rss_mib = sampler.peak_tree_bytes / 2**20 if sampler.samples else None
    if code != 0 or not report.exists():
        run.error = f"exit {code}: {tail(log)}"
        return None
    measured = json.loads(report.read_text())
    run.work_s, run.import_s = measured["work_s"], measured["import_s"]
    run.peak_rss_mib = (measured["peak_rss_kib"] or 0) / 1024 or None
    run.rss_from = "VmHWM"
    run.rows_written = measured.get("rows_written")
    run.written_how = measured.get("statement", "")
    if measured.get("rows_staged") is not None:
        run.counts = {"staged": measured["rows_staged"]}
    return measured


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


def available_tools(args: argparse.Namespace, meta: dict) -> list[str]:
    """The tools asked for, less dataward when its executable cannot run (said in meta)."""
    tools = list(args.tool_list)
    if "dataward" in tools:
        ok, reason = dataward_available(args.dataward_exe)
        if not ok:
            print(f"dataward: not available ({reason})", flush=True)
            meta["unavailable"]["dataward"] = reason
            tools.remove("dataward")
    return tools


def dataward_project(workdir: Path, scenario: str, source: Path, url: str) -> Path:
    """The project `dataward run` runs in: written for the first scenario (its warehouse at
    `url`), pointed at this scenario's source for the others."""
    project = workdir / "project"
    if scenario == "first":
        write_dataward_project(project, source, url)
    else:
        point_dataward_at(project, source)
    return project


def write_dataward_project(project: Path, source: Path, url: str) -> None:
    (project / "pipelines").mkdir(parents=True, exist_ok=True)
    (project / "dataward.toml").write_text(
        f'[project]\nname = "bench"\n\n[warehouse]\nurl = "{url}"\n'
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


def read_dataward_run(
    run: ToolRun, code: int, log: Path, sampler: TreeSampler, exe: Path, project: Path
) -> None:
    """What `dataward run` did, into `run`: its own counts, and its RSS polled from outside."""
    if code != 0:
        run.error = f"dataward run exited {code}: {tail(log)}"
    else:
        try:
            last = dataward_last_run(exe, project)
            run.counts = dict(last.get("counts") or {})
            changed = ("inserted", "updated", "deleted")
            run.rows_written = sum(int(run.counts.get(k) or 0) for k in changed)
            run.written_how = "dataward runs: inserted + updated + deleted"
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as error:
            run.error = f"cannot read the run's counts: {error}"
    # A subprocess of its own: only the VmHWM the sampler last read is known.
    run.peak_rss_mib = sampler.root_hwm_kib / 1024 if sampler.root_hwm_kib else None
    run.rss_from = "VmHWM polled"
    run.tree_rss_mib = sampler.peak_tree_bytes / 2**20 if sampler.samples else None


# --------------------------------------------------------------------------- one tool
def table_description(
    relation: str, types: dict[str, str], keys: list, tables: dict, fingerprint: str
) -> dict:
    """What inspect_table found, as Check fields: the contract columns' types, any others."""
    return {
        "relation": relation,
        "types": {k: v for k, v in types.items() if k in CANONICAL_COLUMNS},
        "extra_columns": [k for k in types if k not in CANONICAL_COLUMNS],
        "key": ", ".join(k for (k,) in keys) or "none",
        "tables": tables,
        "fingerprint": fingerprint,
    }


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


def progress(rows: int, tool: str, repeat: int, what: str, text: str, width: int) -> None:
    """One line of progress; `width` fits the driver's longest tool name."""
    print(f"{rows:>10,} {tool:<{width}} run {repeat} {what:<8} {text}", flush=True)


def check_content(
    tool: str,
    rows: int,
    repeat: int,
    expected: str,
    finished: bool,
    inspect: Callable[[], dict],
    width: int,
) -> Check:
    """After the scenarios: the table `inspect` describes, compared with the changed file."""
    check = Check(tool=tool, rows=rows, repeat=repeat, expected=expected)
    if not finished:
        check.error = "scenarios did not finish"
        return check
    try:
        for key, value in inspect().items():
            setattr(check, key, value)
        check.equal = check.fingerprint == expected
    except Exception as error:  # noqa: BLE001  (reported, and fails the benchmark)
        check.error = f"{type(error).__name__}: {error}"
    said = check.error or ("equal to the changed file" if check.equal else "DIFFERENT")
    progress(rows, tool, repeat, "content", said, width)
    return check


def describe(run: ToolRun, details: Callable[[], list[str]]) -> str:
    """A scenario's progress text: its error, or its times, peak RSS and the driver's
    `details` (asked for only when the run has no error: its numbers may be missing then)."""
    if run.error:
        return f"ERROR {run.error[:300]}"
    parts = [f"{run.wall_s:.2f} s"]
    if run.work_s is not None:
        parts.append(f"({run.work_s:.2f} s work)")
    parts.append(f"{fmt_mib(run.peak_rss_mib)} MiB")
    return ", ".join([*parts, *details()])


def run_all(
    args: argparse.Namespace,
    tools: list[str],
    ensure_data: Callable[[int], dict[str, Path]],
    source_fingerprint: Callable[[Path], str],
    run_tool: Callable[[str, int, int, dict, str], tuple[list[RunT], Check]],
) -> tuple[list[RunT], list[Check]]:
    """Every row count, repetition and tool; the runs and the content checks."""
    runs: list[RunT] = []
    checks: list[Check] = []
    for rows in args.row_counts:
        files = ensure_data(rows)
        expected = source_fingerprint(files["changed"])
        for path in files.values():
            warm(path)
        # Interleave the tools repetition by repetition: slow drift hits all alike.
        for repeat in range(1, args.repeat + 1):
            for tool in tools:
                done, check = run_tool(tool, rows, repeat, files, expected)
                runs += done
                checks.append(check)
    return runs, checks


# --------------------------------------------------------------------------- summary
def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(
    runs: list[RunT],
    build: Callable[[dict[str, Any], list[RunT]], SummaryT],
    tools: tuple[str, ...],
) -> list[SummaryT]:
    """One summary per tool, row count and scenario, in the table's order. `build` makes the
    driver's Summary from the fields computed here and the group's successful runs."""
    groups: dict[tuple[str, int, str], list[RunT]] = {}
    for run in runs:
        groups.setdefault((run.tool, run.rows, run.scenario), []).append(run)
    summaries = []
    for (tool, rows, scenario), members in groups.items():
        good = [r for r in members if r.error is None and r.wall_s is not None]
        shared = summary_fields(members, good)
        summaries.append(build({"tool": tool, "rows": rows, "scenario": scenario, **shared}, good))
    return ranked(summaries, tools)


def summary_fields(members: list[RunT], good: list[RunT]) -> dict[str, Any]:
    """The Summary fields both drivers compute alike, over a group and its successful runs."""
    wall = [r.wall_s for r in good]
    errors = [r.error for r in members if r.error]
    written = {r.rows_written for r in good}
    return {
        "runs": len(good),
        "median_s": median(wall),
        "min_s": min(wall) if wall else None,
        "max_s": max(wall) if wall else None,
        "work_s": median([r.work_s for r in good]),
        "peak_rss_mib": max((r.peak_rss_mib or 0 for r in good), default=None) or None,
        "rss_from": good[-1].rss_from if good else "",
        "tree_rss_mib": max((r.tree_rss_mib or 0 for r in good), default=None) or None,
        # The same in every run, or the largest (a tool that sometimes writes, writes).
        "rows_written": max((w for w in written if w is not None), default=None),
        "written_how": good[-1].written_how if good else "",
        "counts": good[-1].counts if good else {},
        "error": errors[0] if errors else None,
    }


def ranked(summaries: list[SummaryT], tools: tuple[str, ...]) -> list[SummaryT]:
    """Each summary's ratios to the floor's and its own first load, in the table's order."""
    by_key = {(s.tool, s.rows, s.scenario): s for s in summaries}
    for s in summaries:
        floor = by_key.get((FLOOR, s.rows, "first"))
        first = by_key.get((s.tool, s.rows, "first"))
        if s.median_s and floor and floor.median_s:
            s.x_floor = s.median_s / floor.median_s
        if s.median_s and first and first.median_s:
            s.x_first = s.median_s / first.median_s
    order = {tool: i for i, tool in enumerate(tools)}
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


# The columns both tables start with; summary_rows fills them.
LEADING_HEADERS = (
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
)


def summary_rows(
    summaries: list[SummaryT], width: int, own_cells: Callable[[SummaryT], tuple[str, ...]]
) -> list[tuple[str, ...]]:
    """One row of `width` cells per summary: LEADING_HEADERS', then the driver's own."""
    rows = []
    for s in summaries:
        if s.error and not s.runs:
            rows.append(
                (s.tool, f"{s.rows:,}", SCENARIO_TITLES[s.scenario], "0", "error")
                + ("-",) * (width - 5)
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
                *own_cells(s),
            )
        )
    return rows


def print_rows(
    rows: list[tuple[str, ...]],
    unavailable: dict[str, str],
    headers: tuple[str, ...],
    title: str,
    console_width: int,
) -> None:
    rows = rows + [
        (tool, "-", "not available") + ("-",) * (len(headers) - 3) for tool in unavailable
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(" | ".join(headers))
        for row in rows:
            print(" | ".join(row))
        return
    table = Table(title=title)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i in (0, 2) else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=console_width).print(table)


# --------------------------------------------------------------------------- targets
Target = tuple[str, str, str]  # (where, target, PASS/FAIL (detail))


@dataclass
class TargetScope(Generic[SummaryT]):
    """The row count the targets are judged at, and dataward's summaries there."""

    rows: int
    where: str
    get: Callable[[tuple[str, str]], SummaryT | None]  # (tool, scenario) -> its summary
    first: SummaryT | None
    same: SummaryT | None
    changed: SummaryT | None


def target_scope(summaries: list[SummaryT], rows: int, stated_rows: int) -> TargetScope[SummaryT]:
    """`rows` is where dataward has results; `where` says so when it is not `stated_rows`."""
    where = f"{rows:,} rows" + ("" if rows == stated_rows else f" (stated at {stated_rows:,})")
    get = {(s.tool, s.scenario): s for s in summaries if s.rows == rows}.get
    first, same, changed = (get(("dataward", sc)) for sc in SCENARIOS)
    if first and first.runs < 3:
        where += f", {first.runs} run{'s' if first.runs > 1 else ''}: smoke, not a result"
    return TargetScope(rows, where, get, first, same, changed)


def dataward_rows(summaries: list[SummaryT]) -> list[int]:
    """The row counts with dataward results (the targets need one)."""
    return [s.rows for s in summaries if s.tool == "dataward" and s.median_s]


NOT_MEASURED: Target = ("-", "all targets", "not measured: no dataward results")


def verdict(ok: bool | None, detail: str) -> str:
    if ok is None:
        return f"not measured ({detail})" if detail else "not measured"
    return ("PASS" if ok else "FAIL") + f" ({detail})"


def floor_target(scope: TargetScope[SummaryT], target: str, limit: float) -> Target:
    """dataward's first load against the floor's."""
    first, floor = scope.first, scope.get((FLOOR, "first"))
    ratio = first.median_s / floor.median_s if floor and floor.median_s else None
    return (scope.where, target, verdict(None if ratio is None else ratio <= limit, fmt_x(ratio)))


def rerun_target(
    scope: TargetScope[SummaryT], name: str, rerun: SummaryT | None, limit: float
) -> Target:
    """A re-run's time as a share of dataward's first load, at most `limit`."""
    if rerun and rerun.median_s:
        x = rerun.median_s / scope.first.median_s
        return (
            scope.where,
            f"{name} at most {limit}x of the first load",
            verdict(x <= limit, fmt_x(x)),
        )
    return (scope.where, name, verdict(None, "no successful run"))


def rss_target(scope: TargetScope[SummaryT], limit_text: str, limit_mib: float) -> Target:
    # The process's own high-water mark, or the polled tree if that was larger (children).
    peaks = [
        max(s.peak_rss_mib or 0, s.tree_rss_mib or 0)
        for s in (scope.first, scope.same, scope.changed)
        if s
    ]
    peaks = [p for p in peaks if p]
    peak = max(peaks) if peaks else None
    return (
        scope.where,
        f"peak RSS under {limit_text} ({limit_mib:,.0f} MiB), every scenario",
        verdict(None if peak is None else peak < limit_mib, f"{fmt_mib(peak)} MiB"),
    )


def last_targets(
    scope: TargetScope[SummaryT],
    checks: list[Check],
    changed_limit: float,
    rss_text: str,
    rss_mib: float,
) -> list[Target]:
    """The targets both drivers end with: the 1%-changed re-run, peak RSS, same content."""
    return [
        rerun_target(scope, "1%-changed re-run", scope.changed, changed_limit),
        rss_target(scope, rss_text, rss_mib),
        *equality_targets(scope, checks),
    ]


def equality_targets(scope: TargetScope[SummaryT], checks: list[Check]) -> list[Target]:
    mine = [c for c in checks if c.tool == "dataward" and c.rows == scope.rows]
    if not mine:
        return []
    ok = all(c.equal for c in mine)
    return [
        (
            scope.where,
            "table after scenario 3 equals the changed file",
            verdict(ok, f"{len(mine)} runs"),
        )
    ]


# --------------------------------------------------------------------------- markdown
def table_lines(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """A markdown table: tool and scenario left-aligned, the rest right."""
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" if i in (0, 2) else "---:" for i in range(len(headers))) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def unavailable_rows(unavailable: dict[str, str], headers: tuple[str, ...]) -> list[str]:
    return [f"| {tool} | - | not available |" + " - |" * (len(headers) - 3) for tool in unavailable]


def few_runs_lines(summaries: list[SummaryT]) -> list[str]:
    few = sorted({(s.tool, s.rows) for s in summaries if 0 < s.runs < 3})
    if not few:
        return []
    which = ", ".join(f"{tool} at {rows:,}" for tool, rows in few)
    return ["", f"**Fewer than 3 repetitions** ({which}): a smoke run, not a result."]


def unavailable_notes(unavailable: dict[str, str]) -> list[str]:
    if not unavailable:
        return []
    return ["", *(f"- **{tool}** not available: {reason}" for tool, reason in unavailable.items())]


def targets_lines(targets: list[Target]) -> list[str]:
    return [
        "",
        "## Targets (dataward)",
        "",
        "| where | target | verdict |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in targets),
    ]


def tool_sections(
    summaries: list[SummaryT],
    checks: list[Check],
    place: str,
    tables: Callable[[Check], str],
    notes: Iterable[str],
    more: Callable[[SummaryT], str] | None = None,
) -> list[str]:
    """What each tool left in the `place` and how it wrote, the content check explained by
    `notes`, and any problems: the sections between the targets and the machine."""
    return [
        "",
        f"## What each tool left in the {place}",
        "",
        *left_lines(checks, place, tables),
        "",
        "How each tool wrote (the last repetition's statement and counts):",
        "",
        *written_lines(summaries, more),
        *same_content_lines(checks, notes),
        *problem_lines(summaries),
    ]


def left_lines(checks: list[Check], place: str, tables: Callable[[Check], str]) -> list[str]:
    """What each tool left in the `place`, at the largest row count it has a good table for."""
    largest: dict[str, Check] = {}
    for check in checks:
        if not check.error and check.rows >= largest.get(check.tool, check).rows:
            largest[check.tool] = check
    out = []
    for check in largest.values():
        types = ", ".join(f"{k} {v}" for k, v in check.types.items())
        extra = f"; extra columns {', '.join(check.extra_columns)}" if check.extra_columns else ""
        out.append(
            f"- **{check.tool}**, {check.rows:,} rows: `{check.relation}`, "
            f"key constraint: {check.key}{extra}. "
            f"Types: {types}. Tables in the {place}: {tables(check)}."
        )
    return out


def written_lines(
    summaries: list[SummaryT], more: Callable[[SummaryT], str] | None = None
) -> list[str]:
    """How each tool wrote, scenario by scenario; `more` adds the driver's own words."""
    out = []
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
                + (more(one) if more else "")
            )
        out.append(f"- **{s.tool}**, {s.rows:,} rows: " + "; ".join(entries))
    return out


def same_content_lines(checks: list[Check], notes: Iterable[str]) -> list[str]:
    out = ["", "## Same content", ""]
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
    return [*out, "", *notes]


def problem_lines(summaries: list[SummaryT]) -> list[str]:
    problems = [s for s in summaries if s.error]
    if not problems:
        return []
    return [
        "",
        "## Problems",
        "",
        *(f"- {s.tool} {s.rows:,} {s.scenario}: `{s.error[:400]}`" for s in problems),
    ]


def machine_lines(meta: dict, more: Iterable[str] = ()) -> list[str]:
    """The machine's list under ## Machine; `more` goes after the Python line."""
    info = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return [
        f"- {info.get('nproc')} CPUs ({info.get('cpu', 'unknown CPU')}), "
        f"{info.get('ram_gib', '?')} GiB RAM, {info.get('platform')}",
        f"- Python {info.get('python')}; {versions}",
        *more,
        f"- sessions: {', '.join(meta['sessions'])}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in meta['loadavg_end'])}",
        "",
    ]


# --------------------------------------------------------------------------- main
def add_arguments(
    parser: argparse.ArgumentParser,
    *,
    name: str,
    rows: str,
    tools: tuple[str, ...],
    default_tools: tuple[str, ...],
    keep_help: str,
) -> None:
    """The options both drivers take, up to --dataward-exe; `name` names the output files."""
    parser.add_argument("--rows", default=rows, help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool (>= 3)")
    parser.add_argument(
        "--tools", default=",".join(default_tools), help=f"any of {','.join(tools)}"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / f"{name}.md")
    parser.add_argument(
        "--raw",
        type=Path,
        default=DATA_DIR / f"{name}.json",
        help="every run as JSON (kept under the gitignored bench/data/)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep earlier results (from --raw) for the tool/rows pairs not run now",
    )
    parser.add_argument("--keep", action="store_true", help=keep_help)
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


def add_child_arguments(parser: argparse.ArgumentParser, target: str) -> None:
    """Internal: one tool / one scenario in a fresh process; `target` is where it loads."""
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument(target, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)


def checked_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, tools: tuple[str, ...]
) -> argparse.Namespace:
    """--rows and --tools as lists, refused when they name what cannot run."""
    args.row_counts = [int(x.replace("_", "")) for x in args.rows.split(",") if x]
    args.tool_list = [x for x in args.tools.split(",") if x]
    unknown = sorted(set(args.tool_list) - set(tools))
    if unknown:
        parser.error(f"--tools: unknown {', '.join(unknown)}; choose from {', '.join(tools)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


@dataclass(frozen=True)
class Report(Generic[RunT, SummaryT]):
    """A driver's own Run type and views of its results, for the steps of main() shared."""

    run_type: Callable[..., RunT]
    summarize: Callable[[list[RunT]], list[SummaryT]]
    print_table: Callable[[list[SummaryT], dict[str, str]], None]
    targets: Callable[[list[SummaryT], list[Check]], list[Target]]
    render_markdown: Callable[[list[SummaryT], list[RunT], list[Check], dict], str]


def render_only(args: argparse.Namespace, report: Report) -> int:
    """The markdown again from --raw, running nothing."""
    saved = json.loads(args.raw.read_text())
    runs = [report.run_type(**r) for r in saved["runs"]]
    checks = [Check(**c) for c in saved["checks"]]
    args.output.write_text(
        report.render_markdown(report.summarize(runs), runs, checks, saved["meta"])
    )
    print(f"wrote {args.output} from {args.raw}")
    return 0


def finish(
    args: argparse.Namespace,
    runs: list[RunT],
    checks: list[Check],
    meta: dict,
    report: Report[RunT, SummaryT],
) -> int:
    """Merge earlier results if asked; show, write and judge them (1 if anything failed)."""
    if args.merge and args.raw.exists():
        earlier = json.loads(args.raw.read_text())
        fresh = {(r.tool, r.rows) for r in runs}
        runs = [
            report.run_type(**r) for r in earlier["runs"] if (r["tool"], r["rows"]) not in fresh
        ] + runs
        checks = [
            Check(**c) for c in earlier["checks"] if (c["tool"], c["rows"]) not in fresh
        ] + checks
        meta["sessions"] = sorted({r.session for r in runs})
        for tool, reason in earlier["meta"].get("unavailable", {}).items():
            if tool not in args.tool_list:
                meta["unavailable"].setdefault(tool, reason)
    summaries = report.summarize(runs)
    report.print_table(summaries, meta["unavailable"])
    for tool, reason in meta["unavailable"].items():
        print(f"{tool}: not available: {reason}")
    for where, target, said in report.targets(summaries, checks):
        print(f"target [{where}] {target}: {said}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.render_markdown(summaries, runs, checks, meta))
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
