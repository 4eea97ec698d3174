"""`dataward migrate lint` against squawk over the lint corpus: where the two agree, where they
disagree and why, and how many files per second each lints.

The corpus is tests/migrations/corpus/<rule>/{bad,good}/ (every dataward rule, bad and good
cases, each expected finding marked `-- expect: RULE`). bench/lint_squawk_map.py pairs the
rules both tools have and explains every disagreement; bench/lint_compare.py runs the tools
and compares them (tests/migrate/test_lint_vs_squawk.py runs the same comparison).

Speed, each a median over --repeat runs, the tools interleaved run by run:

  corpus            the whole corpus once, one process per tool (startup included)
  corpus xN         the corpus copied N times into a temporary directory, one process per
                    tool, so startup is spread over N times the files
  in-process        dataward's engine called in this process (imports done, warm): what the
                    CLI costs beyond starting Python and importing
  startup           `python -c "import dataward.cli.main"` and `squawk --version`

    .venv/bin/python bench/lint_vs_squawk.py
    .venv/bin/python bench/lint_vs_squawk.py --repeat 9 --copies 50
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lint_compare as lc
from lint_squawk_map import (
    DATAWARD_ONLY,
    EXPLANATIONS,
    FOUND_IN_DATAWARD,
    MAPPINGS,
    PG_VERSION,
    SQUAWK_ONLY,
)
from machine import machine_info

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("dataward", "squawk-cli", "pglast")
TARGET_AGREEMENT = 0.95


@dataclass
class Timing:
    mode: str
    tool: str
    files: int
    runs: list[float]  # wall seconds
    cpu: list[float]  # user + system seconds of the process (and its threads)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def files_per_second(self) -> float:
        return self.files / self.median


# --------------------------------------------------------------------------- timing
def run_timed(command: Sequence[str], cwd: Path, ok: tuple[int, ...]) -> tuple[float, float]:
    """Wall and CPU seconds of one process; its output is discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {done.stderr.decode()[:2000]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def squawk_timing_command(binary: Path, files: Sequence[lc.CorpusFile]) -> list[str]:
    """One process over every file squawk can read, as a user would run it over a directory
    (the comparison splits the no-transaction migrations into a second process; that changes
    findings, not speed)."""
    return [
        str(binary),
        "--reporter",
        "json",
        f"--pg-version={PG_VERSION}",
        "--assume-in-transaction",
        *(f.path for f in files if f.utf8),
    ]


def replicate(corpus: Path, copies: int, into: Path) -> Path:
    """`copies` copies of the corpus's case directories under into/copy_NN/."""
    for number in range(copies):
        shutil.copytree(corpus, into / f"copy_{number:02d}")
    return into


def time_processes(
    commands: dict[str, tuple[list[str], Path, tuple[int, ...], int]], mode: str, repeat: int
) -> list[Timing]:
    """Each tool's command `repeat` times, interleaved; one untimed run each first."""
    timings = {
        tool: Timing(mode, tool, files, [], []) for tool, (_, _, _, files) in commands.items()
    }
    for command, cwd, ok, _ in commands.values():
        run_timed(command, cwd, ok)
    for _ in range(repeat):
        for tool, (command, cwd, ok, _) in commands.items():
            wall, cpu = run_timed(command, cwd, ok)
            timings[tool].runs.append(wall)
            timings[tool].cpu.append(cpu)
    return list(timings.values())


def time_in_process(corpus: Path, files: int, repeat: int) -> tuple[Timing, float]:
    """dataward's engine over the corpus in this process: (warm timing, first run's seconds)."""
    start = time.perf_counter()
    lc.lint_inprocess(corpus)
    first = time.perf_counter() - start
    timing = Timing("in-process", "dataward", files, [], [])
    for _ in range(repeat):
        cpu0, start = time.process_time(), time.perf_counter()
        lc.lint_inprocess(corpus)
        timing.runs.append(time.perf_counter() - start)
        timing.cpu.append(time.process_time() - cpu0)
    return timing, first


def measure(
    comparison: lc.Comparison, squawk: Path, repeat: int, copies: int
) -> tuple[list[Timing], float]:
    corpus = lc.CORPUS
    files = comparison.files
    dataward_files = len(files)
    squawk_files = sum(f.utf8 for f in files)
    directories = [p.relative_to(corpus).as_posix() for p in lc.case_directories(corpus)]
    timings = time_processes(
        {
            "dataward": (lc.dataward_command(directories), corpus, (0, 1, 2), dataward_files),
            "squawk": (squawk_timing_command(squawk, files), corpus, (0, 1), squawk_files),
        },
        "corpus",
        repeat,
    )
    with tempfile.TemporaryDirectory(prefix="dw-lint-bench-") as tmp:
        root = replicate(corpus, copies, Path(tmp))
        many_dirs = [f"copy_{n:02d}/{d}" for n in range(copies) for d in directories]
        many_files = [
            lc.CorpusFile(f"copy_{n:02d}/{f.path}", f.transactional, f.utf8, f.readable)
            for n in range(copies)
            for f in files
        ]
        timings += time_processes(
            {
                "dataward": (
                    lc.dataward_command(many_dirs),
                    root,
                    (0, 1, 2),
                    dataward_files * copies,
                ),
                "squawk": (
                    squawk_timing_command(squawk, many_files),
                    root,
                    (0, 1),
                    squawk_files * copies,
                ),
            },
            f"corpus x{copies}",
            repeat,
        )
    in_process, first = time_in_process(corpus, dataward_files, repeat)
    timings.append(in_process)
    python = [str(lc.BIN / "python"), "-c", "import dataward.cli.main"]
    timings += time_processes(
        {
            "dataward": (python, corpus, (0,), 0),
            "squawk": ([str(squawk), "--version"], corpus, (0,), 0),
        },
        "startup",
        repeat,
    )
    # What `migrate lint` imports beyond the CLI before it lints (discover() reads Alembic
    # projects too, and that module brings the warehouse code with it).
    lint_imports = (
        "import dataward.cli.main, dataward.migrate.lint.engine, dataward.migrate.lint.inputs, "
        "dataward.migrate.lint.reporters, dataward.migrate.alembic_project"
    )
    timings += time_processes(
        {"dataward": ([str(lc.BIN / "python"), "-c", lint_imports], corpus, (0,), 0)},
        "lint imports",
        repeat,
    )
    return timings, first


# --------------------------------------------------------------------------- the report
def corpus_truth(comparison: lc.Comparison) -> dict:
    """dataward against the corpus's own `-- expect` marks, line by line; squawk against
    them file by file, on the mapped rules."""
    marks = lc.expected_marks()
    found = {lc.Hit(h.file, h.rule, h.line) for h in comparison.dataward_hits}
    mapped = {r: m.name for m in MAPPINGS for r in m.dataward}
    marked_cases = {(mapped[h.rule], h.file) for h in marks if h.rule in mapped}
    squawk_missed = sorted(
        (c.mapping, c.file)
        for c in comparison.cases
        if (c.mapping, c.file) in marked_cases and not c.squawk
    )
    return {
        "marks": len(marks),
        "dataward_missed": sorted(f"{h.file}:{h.line} {h.rule}" for h in marks - found),
        "dataward_unexpected": sorted(f"{h.file}:{h.line} {h.rule}" for h in found - marks),
        "mapped_marked_cases": len(marked_cases),
        "squawk_missed": [f"{m} {f}" for m, f in squawk_missed],
    }


def speed_rows(timings: list[Timing]) -> list[dict]:
    squawk = {t.mode: t for t in timings if t.tool == "squawk"}
    # squawk has no in-process mode: its fastest per file, startup spread over the copies.
    amortised = next((t for m, t in squawk.items() if m.startswith("corpus x")), None)
    rows = []
    for t in timings:
        peer = squawk.get(t.mode) or amortised
        row = {
            "mode": t.mode,
            "tool": t.tool,
            "files": t.files,
            "median_s": t.median,
            "min_s": min(t.runs),
            "max_s": max(t.runs),
            "cpu_s": statistics.median(t.cpu),
            "files_per_s": t.files_per_second if t.files else None,
            "runs": t.runs,
        }
        if t.files and peer is not None and peer.files:
            # > 1: dataward lints fewer files per second than squawk.
            row["x_squawk_per_file"] = (t.median / t.files) / (peer.median / peer.files)
        elif t.mode == "startup" and peer is not None:
            row["x_squawk_per_file"] = t.median / peer.median
        rows.append(row)
    return rows


def targets(comparison: lc.Comparison, truth: dict, rows: list[dict], copies: int) -> list:
    unexplained = comparison.unexplained()
    per_file = {r["mode"]: r for r in rows if r["tool"] == "dataward"}
    result = [
        (
            "no false negatives against our own corpus",
            f"{len(truth['dataward_missed'])} of {truth['marks']} `-- expect` marks missed, "
            f"{len(truth['dataward_unexpected'])} findings unmarked",
            not truth["dataward_missed"] and not truth["dataward_unexpected"],
        ),
        (
            f"agreement with squawk on the mapped rules >= {TARGET_AGREEMENT:.0%}",
            f"{comparison.agreement:.2%} of {len(comparison.cases):,} cases "
            f"(on the {sum(c.dataward or c.squawk for c in comparison.cases)} cases either tool "
            f"flags: {comparison.flagged_agreement:.1%})",
            comparison.agreement >= TARGET_AGREEMENT,
        ),
        (
            "every remaining difference argued",
            f"{len(comparison.disagreements) - len(unexplained)} of "
            f"{len(comparison.disagreements)} explained",
            not unexplained,
        ),
    ]
    for mode in ("corpus", f"corpus x{copies}"):
        ratio = per_file[mode]["x_squawk_per_file"]
        result.append(
            (
                f"at least as fast as squawk per file ({mode})",
                f"dataward takes {ratio:.1f}x squawk's time per file",
                ratio <= 1.0,
            )
        )
    return result


def render_markdown(report: dict) -> str:
    comparison = report["comparison"]
    meta = report["meta"]
    out = [
        "# Migration lint: dataward and squawk",
        "",
        f"Generated by `bench/lint_vs_squawk.py`; do not edit by hand. Command: "
        f"`{meta['command']}`.",
        "",
        f"Both tools over tests/migrations/corpus/ ({comparison['files']} files: every "
        "dataward rule with bad and good cases, ups and downs). dataward lints each case "
        "directory as one set of migrations (each judged with the ones before it); squawk "
        f"{meta['squawk_version']} lints each file alone, `--pg-version={PG_VERSION}` (the "
        "server here), with `--assume-in-transaction` for the files of transactional "
        "migrations and without it for the migrations marked `-- dataward:no-transaction`.",
        "",
        "A **case** is one file and one mapped rule pair (bench/lint_squawk_map.py): both "
        "tools flag the file under that pair, or neither does, or one alone.",
        "",
        "## Targets",
        "",
        "| target | result | verdict |",
        "|---|---|---|",
        *(
            f"| {name} | {result} | {'met' if ok else 'NOT met'} |"
            for name, result, ok in report["targets"]
        ),
        "",
        "## Agreement",
        "",
        f"- {comparison['cases']:,} cases, {comparison['agree']:,} agreements: "
        f"**{comparison['agreement']:.2%}**.",
        f"- The {comparison['flagged']} cases at least one tool flags: both do on "
        f"{comparison['agree_flag']} (**{comparison['flagged_agreement']:.1%}**). Most of the "
        "corpus is files a given rule has nothing to say about, which is what lifts the first "
        "figure; this one is the stricter.",
        f"- {comparison['disagreements']} disagreements, by verdict: "
        + ", ".join(f"{v or 'unexplained'} {n}" for v, n in comparison["verdicts"].items())
        + ".",
        "",
        "| mapping | dataward | squawk | both flag | neither | dataward only | squawk only "
        "| agreement |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in comparison["per_mapping"]:
        out.append(
            f"| {row['mapping']} | {', '.join(row['dataward'])} | {', '.join(row['squawk'])} | "
            f"{row['agree-flag']} | {row['agree-clean']} | {row['dataward-only']} | "
            f"{row['squawk-only']} | {row['agreement']:.1%} |"
        )
    truth = report["truth"]
    out += [
        "",
        "## Against the corpus's own marks",
        "",
        f"- dataward: {truth['marks']} `-- expect` marks, {len(truth['dataward_missed'])} "
        f"missed, {len(truth['dataward_unexpected'])} findings no mark expects.",
        f"- squawk, on the mapped rules: {truth['mapped_marked_cases']} marked cases, "
        f"{len(truth['squawk_missed'])} not flagged"
        + (f" ({'; '.join(truth['squawk_missed'])})" if truth["squawk_missed"] else "")
        + ".",
        "",
        "## Speed",
        "",
        "Median of the runs (the tools interleaved run by run, one untimed run each first). "
        "**x squawk**: dataward's time per file over squawk's in the same mode (in-process: "
        "against squawk's replicated-corpus run, its fastest per file; startup: the ratio of "
        "the times). "
        "squawk lints files on all CPUs; **cpu s** is user + system time.",
        "",
        "| mode | tool | files | median s | min s | max s | cpu s | files/s | x squawk |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["speed"]:
        rate = f"{r['files_per_s']:,.0f}" if r["files_per_s"] else ""
        ratio = f"{r['x_squawk_per_file']:.1f}x" if "x_squawk_per_file" in r else ""
        out.append(
            f"| {r['mode']} | {r['tool']} | {r['files'] or ''} | {r['median_s']:.3f} | "
            f"{r['min_s']:.3f} | {r['max_s']:.3f} | {r['cpu_s']:.3f} | {rate} | {ratio} |"
        )
    speed = {(r["mode"], r["tool"]): r for r in report["speed"]}
    startup = speed[("startup", "dataward")]["median_s"]
    imports = speed[("lint imports", "dataward")]["median_s"]
    whole = speed[("corpus", "dataward")]["median_s"]
    engine = speed[("in-process", "dataward")]["median_s"]
    out += [
        "",
        f"Of dataward's {whole:.2f} s over the corpus in one process, {startup:.2f} s is "
        "starting Python and importing `dataward.cli.main` (startup), "
        f"{imports - startup:.2f} s more is what `migrate lint` imports before it starts "
        "(lint imports: the engine, and `dataward.migrate.alembic_project`, which discover() "
        "imports to look for alembic.ini and which brings in the warehouse code, pyarrow "
        f"and duckdb), and {engine:.2f} s is the linting itself (in-process, warm). The "
        "first in-process run (rules imported, pglast cold) took "
        f"{report['in_process_first_s']:.3f} s. The machine is shared: see the load "
        "averages under Machine.",
        "",
        "## What this found in dataward",
        "",
        *(f"- {found}." for found in FOUND_IN_DATAWARD),
        "",
        "## Every disagreement",
        "",
        "| file | mapping | flagged by | explanation |",
        "|---|---|---|---|",
    ]
    for d in comparison["disagreement_list"]:
        text = d["explanation"].replace("|", "\\|") or "**UNEXPLAINED**"
        out.append(f"| {d['file']} | {d['mapping']} | {d['flagged_by']} | {text} |")
    out += [
        "",
        "## Not mapped",
        "",
        "squawk rules that fired on the corpus with no dataward counterpart (findings):",
        "",
        *(
            f"- `{rule}` ({count}): {SQUAWK_ONLY.get(rule, '**no reason given**')}"
            for rule, count in comparison["unmapped_squawk"].items()
        ),
        "",
        "dataward rules with no squawk counterpart:",
        "",
        *(f"- `{rule}`: {why}" for rule, why in DATAWARD_ONLY.items()),
        "",
        "Files that are not cases (a tool did not lint them):",
        "",
        *(f"- {path}: {why}" for path, why in comparison["skipped"].items()),
        "",
        "## Machine",
        "",
        *machine_lines(meta),
    ]
    return "\n".join(out) + "\n"


def machine_lines(meta: dict) -> list[str]:
    info = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return [
        f"- {info.get('nproc')} CPUs ({info.get('cpu', 'unknown CPU')}), "
        f"{info.get('ram_gib', '?')} GiB RAM, {info.get('platform')}",
        f"- Python {info.get('python')}; {versions}; squawk binary {meta['squawk_version']}",
        f"- {meta['date']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in meta['loadavg_end'])}",
    ]


def comparison_summary(comparison: lc.Comparison) -> dict:
    per_mapping = []
    for mapping in MAPPINGS:
        counts = comparison.per_mapping[mapping.name]
        total = sum(counts.values())
        per_mapping.append(
            {
                "mapping": mapping.name,
                "dataward": list(mapping.dataward),
                "squawk": list(mapping.squawk),
                **{
                    k: counts[k]
                    for k in ("agree-flag", "agree-clean", "dataward-only", "squawk-only")
                },
                "agreement": (counts["agree-flag"] + counts["agree-clean"]) / total,
            }
        )
    flagged = [c for c in comparison.cases if c.dataward or c.squawk]
    return {
        "files": len(comparison.files),
        "cases": len(comparison.cases),
        "agree": sum(c.agrees for c in comparison.cases),
        "agreement": comparison.agreement,
        "flagged": len(flagged),
        "agree_flag": sum(c.dataward and c.squawk for c in flagged),
        "flagged_agreement": comparison.flagged_agreement,
        "disagreements": len(comparison.disagreements),
        "verdicts": dict(comparison.verdicts().most_common()),
        "per_mapping": per_mapping,
        "disagreement_list": [
            {
                "file": c.file,
                "mapping": c.mapping,
                "flagged_by": "dataward" if c.dataward else "squawk",
                "explanation": EXPLANATIONS.get((c.mapping, c.file), ""),
            }
            for c in comparison.disagreements
        ],
        "unmapped_squawk": dict(comparison.unmapped_squawk_rules().most_common()),
        "unmapped_dataward": dict(comparison.unmapped_dataward_rules().most_common()),
        "skipped": comparison.skipped,
    }


def print_summary(report: dict) -> None:
    c = report["comparison"]
    print(
        f"{c['cases']:,} cases: agreement {c['agreement']:.2%}; on the {c['flagged']} flagged "
        f"by either tool {c['flagged_agreement']:.1%}; {c['disagreements']} disagreements "
        f"({', '.join(f'{v} {n}' for v, n in c['verdicts'].items())})"
    )
    print(f"{'mode':<14} {'tool':<9} {'files':>6} {'median s':>9} {'files/s':>9} {'x squawk':>9}")
    for r in report["speed"]:
        rate = f"{r['files_per_s']:,.0f}" if r["files_per_s"] else ""
        ratio = f"{r['x_squawk_per_file']:.1f}x" if "x_squawk_per_file" in r else ""
        print(
            f"{r['mode']:<14} {r['tool']:<9} {r['files'] or '':>6} {r['median_s']:>9.3f} "
            f"{rate:>9} {ratio:>9}"
        )
    for name, result, ok in report["targets"]:
        print(f"target: {name}: {result}: {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per tool and mode (>= 5)")
    parser.add_argument(
        "--copies", type=int, default=20, help="copies of the corpus for 'corpus xN'"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "lint_vs_squawk.md")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    squawk = lc.squawk_binary()
    if squawk is None:
        print(
            "squawk is not installed: pip install 'squawk-cli>=2.70' (the bench extra)",
            file=sys.stderr,
        )
        return 2
    if unknown := lc.squawk_unknown_rules(squawk, lc.squawk_rule_names()):
        print(
            f"squawk {lc.squawk_version(squawk)} has no rule {', '.join(unknown)}", file=sys.stderr
        )
        return 2

    meta = {
        "command": " ".join(
            ["python bench/lint_vs_squawk.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine_info(PACKAGES),
        "squawk_version": lc.squawk_version(squawk),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    files = lc.corpus_files()
    dataward_hits = lc.run_dataward_cli()
    in_process_hits = lc.run_dataward_inprocess()
    if sorted(map(astuple_hit, dataward_hits)) != sorted(map(astuple_hit, in_process_hits)):
        print("dataward's CLI and its engine disagree on the corpus", file=sys.stderr)
        return 1
    comparison = lc.compare(files, dataward_hits, lc.run_squawk(squawk, files))
    misfiled = comparison.misfiled_ignores(lc.dataward_without_ignores())
    timings, first = measure(comparison, squawk, args.repeat, args.copies)
    meta["loadavg_end"] = os.getloadavg()
    truth = corpus_truth(comparison)
    rows = speed_rows(timings)
    report = {
        "meta": meta,
        "comparison": comparison_summary(comparison),
        "truth": truth,
        "speed": rows,
        "in_process_first_s": first,
        "targets": targets(comparison, truth, rows, args.copies),
        "problems": {
            "unexplained": [f"{c.mapping} {c.file}" for c in comparison.unexplained()],
            "stale_explanations": [f"{m} {f}" for m, f in comparison.stale_explanations()],
            "misfiled_ignores": misfiled,
        },
    }
    print_summary(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_markdown(report))
    raw = args.output.with_suffix(".json")
    raw.write_text(json.dumps(report, indent=1, default=list) + "\n")
    print(f"wrote {args.output} and {raw.name}")
    problems = [p for found in report["problems"].values() for p in found]
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def astuple_hit(hit: lc.Hit) -> tuple:
    return tuple(asdict(hit).values())


if __name__ == "__main__":
    sys.exit(main())
