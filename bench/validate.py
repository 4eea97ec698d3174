"""Row-level validation benchmark: dataward against the tools a user would pick instead.

The same ten checks (bench/orders_spec.py, stated for dataward in bench/orders.odcs.yaml)
run end to end -- read the file, cast to the contract's types, check, write the rejected rows
-- over a seeded `orders` data set (bench/orders_data.py) in CSV and Parquet, with:

  polars              hand-written Polars, the floor every ratio is taken against
  duckdb              hand-written DuckDB SQL, one query, COPY of the failing rows
  dataward            `dataward validate FILE --contract ... --rejects ... --format json`
  pandera             pandera's Polars backend, lazy=True, failure cases -> failing rows
  great_expectations  Great Expectations 1.x on pandas, result_format COMPLETE

Every run is a fresh process: its wall time and peak RSS (its own VmHWM) are its own. Inside the
process the clock starts after the tool's imports and stops when the rejects file is written;
that is the "median s" column. The harness then reads every rejects file and asserts that all
tools rejected exactly the rows the generator made bad.

    .venv/bin/python bench/validate.py --quick
    .venv/bin/python bench/validate.py --rows 1000000,5000000 --repeat 3
    .venv/bin/python bench/validate.py --rows 5000000 --tools polars,dataward,pandera --merge
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from machine import machine_info

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
RUNS_DIR = BENCH / "data" / "runs"
TOOLS = ("polars", "duckdb", "dataward", "pandera", "great_expectations")
FLOOR = "polars"
FORMATS = ("csv", "parquet")
PACKAGES = (
    "dataward",
    "polars",
    "pyarrow",
    "duckdb",
    "pandera",
    "great_expectations",
    "pandas",
    "numpy",
)
# Targets for dataward at the largest size measured (5M rows in the published table).
TARGET_FLOOR_RATIO = 1.25
TARGET_GE_SPEEDUP = 20.0
TARGET_RSS_RATIO = 1.5


# --------------------------------------------------------------------------- child process
def peak_rss_kib() -> int:
    """This process's resident-set high-water mark.

    Not wait4's ru_maxrss: on Linux that starts from the parent's high-water mark at fork
    (measured: a 10 MB child of a 1 GB parent reports 1 GB), so it would charge every tool
    with the harness's own memory.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_main(args: argparse.Namespace) -> int:
    """Run one tool once; report import and work seconds and peak RSS as JSON."""
    start = time.perf_counter()
    import validate_tools

    source, rejects = Path(args.source), Path(args.rejects)
    if args.exe:
        # The real executable as a grandchild. This process imported nothing heavy, so the
        # grandchild's ru_maxrss inherits only a few MB from it (see peak_rss_kib).
        command = [str(Path(sys.executable).parent / "dataward")]
        command += validate_tools.dataward_argv(source, rejects)
        loaded = time.perf_counter()
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        done = time.perf_counter()
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1: rows were rejected, the expected outcome here
            raise SystemExit(f"dataward exited {code}")
        peak, how = usage.ru_maxrss, "wait4 of the dataward process"
    else:
        runner = validate_tools.prepare(args.child)
        loaded = time.perf_counter()
        runner(source, args.file_format, rejects)
        done = time.perf_counter()
        peak, how = peak_rss_kib(), "VmHWM"
    report = {"import_s": loaded - start, "work_s": done - loaded, "peak_rss_kib": peak}
    Path(args.report).write_text(json.dumps({**report, "rss_from": how}))
    return 0


# --------------------------------------------------------------------------- parent
@dataclass
class Run:
    tool: str
    format: str
    rows: int
    repeat: int
    session: str
    wall_s: float | None = None  # process start to exit, interpreter and imports included
    work_s: float | None = None  # inside the process: read -> rejects written
    import_s: float | None = None
    peak_rss_mb: float | None = None
    failing: int | None = None
    error: str | None = None
    agrees: bool | None = None
    missing: list[int] = field(default_factory=list)  # expected but not rejected (sample)
    extra: list[int] = field(default_factory=list)  # rejected but not expected (sample)


def warm(path: Path) -> None:
    """Read the file once so every tool starts from the page cache, not the disk."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def run_once(
    tool: str, source: Path, fmt: str, rows: int, repeat: int, session: str, options
) -> tuple[Run, Path | None]:
    run = Run(tool=tool, format=fmt, rows=rows, repeat=repeat, session=session)
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    stem = RUNS_DIR / f"{tool}-{fmt}-{rows}"
    rejects, report, log = (stem.with_suffix(s) for s in (".parquet", ".json", ".log"))
    for path in (rejects, report):
        path.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", tool]
    command += ["--source", str(source), "--file-format", fmt]
    command += ["--rejects", str(rejects), "--report", str(report)]
    if tool == "dataward" and options.dataward_exe:
        command.append("--exe")
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        try:
            code = process.wait(timeout=options.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        run.wall_s = time.perf_counter() - started
    if code != 0 or not report.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-12:]
        run.error = f"exit {code}: " + " | ".join(tail)
        return run, None
    measured = json.loads(report.read_text())
    run.work_s, run.import_s = measured["work_s"], measured["import_s"]
    run.peak_rss_mb = measured["peak_rss_kib"] / 1024
    if not rejects.exists():
        run.error = "no rejects file written"
        return run, None
    return run, rejects


def failing_rows(rejects: Path):
    import orders_spec as spec
    import polars as pl

    names = pl.read_parquet_schema(rejects)
    column = next(
        (c for c in (spec.DATAWARD_ROW_COLUMN, spec.ROW_COLUMN) if c in names),
        None,
    )
    if column is None:
        raise ValueError(f"{rejects.name} has no record-number column; columns: {list(names)}")
    return pl.read_parquet(rejects, columns=[column])[column].cast(pl.Int64).unique().to_numpy()


def compare(run: Run, rejects: Path, expected):
    """Check the rejected record numbers against the ground truth; return them."""
    import numpy as np

    try:
        got = failing_rows(rejects)
    except (OSError, ValueError) as error:
        run.error = f"cannot read rejects: {error}"
        return None
    run.failing = len(got)
    missing = np.setdiff1d(expected, got)
    extra = np.setdiff1d(got, expected)
    run.agrees = not len(missing) and not len(extra)
    run.missing = [int(x) for x in missing[:20]]
    run.extra = [int(x) for x in extra[:20]]
    return got


def cross_check(found: dict[str, list]) -> str:
    """Whether every run of every tool rejected the same rows (independent of the truth)."""
    import numpy as np

    runs = [(tool, np.sort(got)) for tool, gots in sorted(found.items()) for got in gots]
    if len(runs) < 2:
        return "only one run"
    first_tool, first = runs[0]
    differ = sorted({tool for tool, got in runs[1:] if not np.array_equal(first, got)})
    if not differ:
        return f"all {len(runs)} runs of {len(found)} tools rejected the same rows"
    return f"DIFFERENT rows: {', '.join(differ)} vs {first_tool}"


# --------------------------------------------------------------------------- summary
@dataclass
class Summary:
    tool: str
    format: str
    rows: int
    runs: int
    median_s: float | None
    min_s: float | None
    max_s: float | None
    wall_s: float | None
    import_s: float | None
    peak_rss_mb: float | None
    failing: int | None
    agrees: bool | None
    error: str | None
    ratio: float | None = None
    rss_ratio: float | None = None


def summarize(runs: list[Run]) -> list[Summary]:
    groups: dict[tuple[str, str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.tool, run.format, run.rows), []).append(run)
    summaries = []
    for (tool, fmt, rows), members in groups.items():
        good = [r for r in members if r.error is None and r.work_s is not None]
        work = [r.work_s for r in good]
        errors = [r.error for r in members if r.error]

        def median(values):
            values = [v for v in values if v is not None]
            return statistics.median(values) if values else None

        summaries.append(
            Summary(
                tool=tool,
                format=fmt,
                rows=rows,
                runs=len(good),
                median_s=median(work),
                min_s=min(work) if work else None,
                max_s=max(work) if work else None,
                wall_s=median([r.wall_s for r in good]),
                import_s=median([r.import_s for r in good]),
                peak_rss_mb=max((r.peak_rss_mb for r in good), default=None),
                failing=good[-1].failing if good else None,
                agrees=all(r.agrees for r in good) if good else None,
                error=errors[0] if errors else None,
            )
        )
    floors = {(s.format, s.rows): s for s in summaries if s.tool == FLOOR and s.median_s}
    for summary in summaries:
        floor = floors.get((summary.format, summary.rows))
        if floor and summary.median_s:
            summary.ratio = summary.median_s / floor.median_s
        if floor and summary.peak_rss_mb and floor.peak_rss_mb:
            summary.rss_ratio = summary.peak_rss_mb / floor.peak_rss_mb
    order = {tool: i for i, tool in enumerate(TOOLS)}
    summaries.sort(key=lambda s: (s.rows, FORMATS.index(s.format), order.get(s.tool, 99)))
    return summaries


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


HEADERS = (
    "tool",
    "format",
    "rows",
    "median s",
    "min s",
    "max s",
    "x floor",
    "process s",
    "peak RSS MB",
    "RSS x floor",
    "failing rows",
    "same rows",
)


def table_rows(summaries: list[Summary]) -> list[tuple[str, ...]]:
    rows = []
    for s in summaries:
        same = {True: "yes", False: "NO", None: "error" if s.error else "-"}[s.agrees]
        rows.append(
            (
                s.tool,
                s.format,
                f"{s.rows:,}",
                fmt_s(s.median_s),
                fmt_s(s.min_s),
                fmt_s(s.max_s),
                fmt_x(s.ratio),
                fmt_s(s.wall_s),
                "-" if s.peak_rss_mb is None else f"{s.peak_rss_mb:,.0f}",
                fmt_x(s.rss_ratio),
                "-" if s.failing is None else f"{s.failing:,}",
                same,
            )
        )
    return rows


def print_table(summaries: list[Summary]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(" | ".join(HEADERS))
        for row in table_rows(summaries):
            print(" | ".join(row))
        return
    table = Table(title="validation, end to end (median of runs; ratios to the Polars floor)")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i < 2 else "right")
    for row in table_rows(summaries):
        table.add_row(*row)
    Console(width=160).print(table)


def targets(summaries: list[Summary]) -> list[tuple[str, str, str]]:
    """(format, target, verdict) at the largest row count that has dataward results."""
    lines = []
    by_key = {(s.tool, s.format, s.rows): s for s in summaries}
    dataward_rows = [s.rows for s in summaries if s.tool == "dataward" and s.median_s]
    if not dataward_rows:
        return [("-", "all targets", "not measured: no dataward results")]
    rows = max(dataward_rows)
    for fmt in FORMATS:
        dw = by_key.get(("dataward", fmt, rows))
        if dw is None or dw.median_s is None:
            continue
        floor = by_key.get((FLOOR, fmt, rows))
        pandera = by_key.get(("pandera", fmt, rows))
        ge = by_key.get(("great_expectations", fmt, rows))

        def verdict(ok: bool | None, detail: str) -> str:
            if ok is None:
                return "not measured"
            return ("met" if ok else "NOT met") + f" ({detail})"

        where = f"{fmt}, {rows:,} rows"
        ratio = dw.ratio
        lines.append(
            (
                where,
                f"time within {TARGET_FLOOR_RATIO}x of the Polars floor",
                verdict(None if ratio is None else ratio <= TARGET_FLOOR_RATIO, fmt_x(ratio)),
            )
        )
        if pandera and pandera.median_s:
            vs = dw.median_s / pandera.median_s
            lines.append((where, "no slower than pandera", verdict(vs <= 1.0, f"{vs:.2f}x")))
        else:
            lines.append((where, "no slower than pandera", "not measured"))
        if ge and ge.median_s:
            speedup = ge.median_s / dw.median_s
            lines.append(
                (
                    where,
                    f"at least {TARGET_GE_SPEEDUP:g}x faster than Great Expectations",
                    verdict(speedup >= TARGET_GE_SPEEDUP, f"{speedup:.1f}x"),
                )
            )
        else:
            lines.append((where, "faster than Great Expectations", "not measured"))
        rss = dw.rss_ratio
        lines.append(
            (
                where,
                f"peak RSS at most {TARGET_RSS_RATIO}x the Polars floor",
                verdict(None if rss is None else rss <= TARGET_RSS_RATIO, fmt_x(rss)),
            )
        )
        if floor is None:
            lines.append((where, "floor", "no Polars floor measured"))
    return lines


SEMANTICS_NOTES = (
    "Every tool is held to the generator's ground truth (the rows it made bad), not just to",
    "the others. The rules: a row fails when any check fails; a null fails only the not-null",
    "checks; every row whose non-null order_id occurs more than once fails; between is",
    "inclusive; amount > 0 is exclusive. Getting there needed:",
    "",
    "- **Nulls.** pandera's Polars backend adds a hidden not-null check to every column",
    "  unless `nullable=True`, so the optional columns say so. Great Expectations' column-map",
    "  expectations skip nulls by themselves. In DuckDB and Polars each check is wrapped in",
    "  `coalesce(..., false)` / `fill_null(False)` so a null neither fails a value check nor",
    "  (in SQL's three-valued logic) silently drops a row from the OR.",
    "- **Unique and nulls.** Polars' `is_duplicated()` treats nulls as equal, so the floor",
    "  adds `is_not_null()`. pandera's `unique=True` (Polars backend) also reports null keys as",
    "  duplicates of each other (its `field_uniqueness` failure cases include every null",
    "  order_id); the row sets still agree only because order_id is also required. On a",
    "  nullable key pandera would reject rows the other tools accept.",
    "- **Record numbers.** DuckDB's `read_csv` has no `file_row_number`; `row_number() OVER ()`",
    "  keeps file order (insertion order is preserved) and is checked against the ground truth",
    "  on every run. Parquet uses `file_row_number`.",
    "- **Types in pandas.** Great Expectations gets amount as an Arrow-backed",
    "  `decimal128(19,4)` (pandas has no native decimal; float64 would round), integers as",
    "  nullable Int64/Int32, and created_at as `datetime64[us, UTC]` compared with tz-aware",
    "  bounds. The CSV is read with Arrow (`null_values=['']`), and the generator never writes",
    "  `NA` as a country, which pandas' default reader would turn into a null (Namibia).",
    "- **Regex.** The email pattern is ASCII-only and anchored (`^...$`) so Rust's regex",
    "  (Polars, pandera), RE2 (DuckDB) and Python's `re` (Great Expectations) agree; Python's",
    "  `$` would also match before a trailing newline, which no generated value has.",
    "- **Timestamps in CSV.** Written as ISO-8601 with an offset",
    "  (`2025-03-01T12:34:56.123456+00:00`); the Polars floor and pandera read them as text and",
    "  cast with an explicit format, which measured about twice as fast as the CSV reader's",
    "  own tz-aware datetime parsing.",
)


def render_markdown(summaries: list[Summary], runs: list[Run], meta: dict) -> str:
    info = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    out = [
        "# Row-level validation: dataward and its peers",
        "",
        "Generated by `bench/validate.py`; do not edit by hand. Command: `"
        + meta["command"]
        + "`.",
        "",
        "Ten checks (not null x4, amount > 0, email pattern, status in set, quantity between 1 and",
        "100, order_id unique, created_at in [2020-01-01, 2026-01-01] inclusive) over a seeded",
        "`orders` data set with 0.5% bad rows, end to end: read the file, cast to the contract's",
        "types (DECIMAL(19,4), TIMESTAMPTZ, ...), check, write the rejected rows to Parquet.",
        "",
        "- **median s / min s / max s**: time inside a fresh process from the first read to the",
        "  rejects file written, imports excluded (imports are in **process s**, the whole",
        "  process from start to exit). Median over the runs.",
        "- **x floor**: median s divided by the hand-written Polars floor's, same file.",
        "- **peak RSS**: the process's resident-set high-water mark (VmHWM), worst run.",
        "- **same rows**: the tool rejected exactly the rows the generator made bad (the",
        "  generator's ground truth, which every tool is compared with).",
        "- dataward and pandera write a reason per rejected row (dataward also the source file",
        "  and record number); Great Expectations' reasons are rebuilt from its",
        "  unexpected_index_list; the Polars and DuckDB floors write the rows only.",
        "",
        "## Results",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(HEADERS))) + "|",
    ]
    for row in table_rows(summaries):
        out.append("| " + " | ".join(row) + " |")
    checks = meta.get("cross_check", {})
    if checks:
        out += ["", "Tools against each other (every run, this session):", ""]
        out += [f"- {where}: {verdict}" for where, verdict in checks.items()]
    out += ["", "## Targets", "", "| where | target | verdict |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in targets(summaries)]
    failures = [s for s in summaries if s.error]
    disagreements = [r for r in runs if r.agrees is False]
    if failures or disagreements:
        out += ["", "## Problems", ""]
        for s in failures:
            out.append(f"- {s.tool} {s.format} {s.rows:,}: `{s.error[:400]}`")
        for r in disagreements:
            out.append(
                f"- {r.tool} {r.format} {r.rows:,} run {r.repeat}: rejected {r.failing} rows; "
                f"missing {r.missing[:10]}, extra {r.extra[:10]}"
            )
    out += ["", "## How the tools were made to agree", "", *SEMANTICS_NOTES]
    out += [
        "",
        "## Machine",
        "",
        "**Shared and noisy**: a small VM whose two CPUs are shared with other work running",
        "at the same time. Single runs of the same tool differ by up to ~1.5x (see min s and",
        "max s); read the medians and the ratios (same session, runs interleaved tool by tool)",
        "rather than absolute seconds, and rerun before drawing a close call.",
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000,5000000", help="comma-separated row counts")
    parser.add_argument("--formats", default="csv,parquet", help="csv,parquet")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (>= 3 for results)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"any of {','.join(TOOLS)}")
    parser.add_argument(
        "--skip-ge-above",
        type=int,
        default=None,
        metavar="N",
        help="skip Great Expectations above N rows (about 45 s and 2.5 GB per run at 5M here)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 100k rows, 1 repeat")
    parser.add_argument("--output", type=Path, default=None, help="markdown results file")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep earlier results (from the .json next to --output) for other tool/format/rows",
    )
    parser.add_argument(
        "--dataward-exe",
        action="store_true",
        help="run the .venv/bin/dataward executable itself (its time includes start-up)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the markdown from the .json next to --output, running nothing",
    )
    # Internal: one tool, one run, in this (fresh) process.
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--file-format", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--rejects", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    parser.add_argument("--exe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return args
    if args.quick:
        args.rows, args.repeat = "100000", 1
    args.row_counts = [int(x.replace("_", "")) for x in args.rows.split(",") if x]
    args.format_list = [x for x in args.formats.split(",") if x]
    args.tool_list = [x for x in args.tools.split(",") if x]
    for name, values, allowed in (
        ("--formats", args.format_list, FORMATS),
        ("--tools", args.tool_list, TOOLS),
    ):
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            parser.error(f"{name}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.output is None:
        args.output = RESULTS / ("validate-quick.md" if args.quick else "validate.md")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return child_main(args)

    if args.render_only:
        raw = args.output.with_suffix(".json")
        saved = json.loads(raw.read_text())
        runs = [Run(**r) for r in saved["runs"]]
        args.output.write_text(render_markdown(summarize(runs), runs, saved["meta"]))
        print(f"wrote {args.output} from {raw.name}")
        return 0

    import orders_data

    session = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
    meta = {
        "command": "python bench/validate.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(PACKAGES),
        "sessions": [session],
    }
    runs: list[Run] = []
    found: dict[tuple[int, str], dict[str, list]] = {}
    for rows in args.row_counts:
        files = orders_data.ensure(rows)
        expected = orders_data.expected_rows(rows)
        for fmt in args.format_list:
            warm(files[fmt])
            tools = [
                t
                for t in args.tool_list
                if not (
                    t == "great_expectations"
                    and args.skip_ge_above is not None
                    and rows > args.skip_ge_above
                )
            ]
            # Interleave the tools run by run, so slow drift on a shared machine hits all alike.
            for repeat in range(1, args.repeat + 1):
                for tool in tools:
                    run, rejects = run_once(tool, files[fmt], fmt, rows, repeat, session, args)
                    if rejects is not None:
                        got = compare(run, rejects, expected)
                        if got is not None:
                            found.setdefault((rows, fmt), {}).setdefault(tool, []).append(got)
                    runs.append(run)
                    status = run.error or (
                        f"{run.work_s:.2f} s work, {run.wall_s:.2f} s process, "
                        f"{run.peak_rss_mb:,.0f} MB, {run.failing:,} rejected, "
                        + ("same rows" if run.agrees else "DIFFERENT ROWS")
                    )
                    print(f"{rows:>9,} {fmt:<7} {tool:<18} run {repeat}: {status}", flush=True)
    meta["loadavg_end"] = os.getloadavg()
    # Every run of every tool against every other, not only against the ground truth.
    meta["cross_check"] = {
        f"{fmt}, {rows:,} rows": cross_check(by_tool) for (rows, fmt), by_tool in found.items()
    }
    for where, verdict in meta["cross_check"].items():
        print(f"cross-check [{where}]: {verdict}")

    raw = args.output.with_suffix(".json")
    if args.merge and raw.exists():
        earlier = json.loads(raw.read_text())
        fresh = {(r.tool, r.format, r.rows) for r in runs}
        kept = [
            Run(**r) for r in earlier["runs"] if (r["tool"], r["format"], r["rows"]) not in fresh
        ]
        runs = kept + runs
        meta["sessions"] = sorted({r.session for r in runs})
    summaries = summarize(runs)
    print_table(summaries)
    for where, target, verdict in targets(summaries):
        print(f"target [{where}] {target}: {verdict}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_markdown(summaries, runs, meta))
    raw.write_text(json.dumps({"meta": meta, "runs": [asdict(r) for r in runs]}, indent=1))
    print(f"wrote {args.output} and {raw.name}")

    # Loud failure: a tool that crashed or rejected other rows fails the benchmark.
    failed = [s for s in summaries if s.error or s.agrees is False]
    for s in failed:
        problem = s.error or "rejected rows differ from the expected set"
        print(f"FAILED {s.tool} {s.format} {s.rows:,}: {problem}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
