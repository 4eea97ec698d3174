"""Run `dataward migrate lint` and squawk over the lint corpus and compare them rule by rule.

The corpus is tests/migrations/corpus/<rule>/{bad,good}/, each directory a set of native
migrations (NNNN_name.up.sql / .down.sql). dataward lints each directory as one set (a
migration is judged with the ones before it as history); squawk lints each file on its own,
which is how it is meant to run. A migration runs in a transaction unless its up is marked
`-- dataward:no-transaction`, so squawk is run with --assume-in-transaction over the files
of transactional migrations (ups and downs) and without it over the others.

Imported by bench/lint_vs_squawk.py (which times the tools too) and by
tests/migrate/test_lint_vs_squawk.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lint_squawk_map import EXPLANATIONS, MAPPINGS, PG_VERSION, SQUAWK_ONLY, VERDICTS, Mapping

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "migrations" / "corpus"
BIN = Path(sys.executable).parent
MARKER = "-- expect:"


@dataclass(frozen=True)
class Hit:
    """One finding, tool-neutral: the file relative to the corpus root, the rule, the line."""

    file: str
    rule: str
    line: int


@dataclass(frozen=True)
class CorpusFile:
    path: str  # relative to the corpus root, with /
    transactional: bool
    utf8: bool  # squawk stops its whole run at a file that is not: it is not given these
    readable: bool  # dataward could read its directory (unreadable-migration: it cannot)

    @property
    def compared(self) -> bool:
        """Both tools linted it: only such files are cases."""
        return self.utf8 and self.readable


@dataclass(frozen=True)
class Case:
    mapping: str
    file: str
    dataward: bool
    squawk: bool

    @property
    def kind(self) -> str:
        if self.dataward and self.squawk:
            return "agree-flag"
        if not self.dataward and not self.squawk:
            return "agree-clean"
        return "dataward-only" if self.dataward else "squawk-only"

    @property
    def agrees(self) -> bool:
        return self.dataward == self.squawk


@dataclass
class Comparison:
    files: list[CorpusFile]
    skipped: dict[str, str]  # file -> why it is not a case (a tool did not lint it)
    cases: list[Case]
    dataward_hits: list[Hit]
    squawk_hits: list[Hit]
    per_mapping: dict[str, Counter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for mapping in MAPPINGS:
            self.per_mapping[mapping.name] = Counter()
        for case in self.cases:
            self.per_mapping[case.mapping][case.kind] += 1

    @property
    def disagreements(self) -> list[Case]:
        return [c for c in self.cases if not c.agrees]

    @property
    def agreement(self) -> float:
        """Share of all cases (file x mapping) on which the tools agree."""
        return sum(c.agrees for c in self.cases) / len(self.cases)

    @property
    def flagged_agreement(self) -> float:
        """Share of the cases at least one tool flags on which both do: the stricter figure,
        not inflated by the many files a mapping has nothing to say about."""
        flagged = [c for c in self.cases if c.dataward or c.squawk]
        return sum(c.agrees for c in flagged) / len(flagged)

    def unexplained(self) -> list[Case]:
        return [c for c in self.disagreements if (c.mapping, c.file) not in EXPLANATIONS]

    def stale_explanations(self) -> list[tuple[str, str]]:
        """Explanations whose (mapping, file) is no longer a disagreement."""
        disagreeing = {(c.mapping, c.file) for c in self.disagreements}
        return sorted(key for key in EXPLANATIONS if key not in disagreeing)

    def verdicts(self) -> Counter:
        """Disagreements by the verdict their explanation starts with."""
        return Counter(
            verdict_of(EXPLANATIONS.get((c.mapping, c.file), "")) for c in self.disagreements
        )

    def misfiled_ignores(self, without_ignores: Sequence[Hit]) -> list[str]:
        """Problems with the "ignored in dataward" verdicts, against dataward's findings with
        every ignore turned off: such a case must be found then, and a squawk-only case that
        dataward finds then must say it is ignored."""
        found = {(h.file, h.rule) for h in without_ignores}
        rules = {m.name: m.dataward for m in MAPPINGS}
        problems = []
        for case in self.disagreements:
            if case.dataward:
                continue
            explained = EXPLANATIONS.get((case.mapping, case.file), "")
            ignored = any((case.file, r) in found for r in rules[case.mapping])
            if verdict_of(explained) == "ignored in dataward" and not ignored:
                problems.append(f"{case.mapping} {case.file}: said ignored, not found without")
            elif ignored and verdict_of(explained) != "ignored in dataward":
                problems.append(f"{case.mapping} {case.file}: found once ignores are off")
        return problems

    def unmapped_squawk_rules(self) -> Counter:
        mapped = {r for m in MAPPINGS for r in m.squawk}
        return Counter(h.rule for h in self.squawk_hits if h.rule not in mapped)

    def unmapped_dataward_rules(self) -> Counter:
        mapped = {r for m in MAPPINGS for r in m.dataward}
        return Counter(h.rule for h in self.dataward_hits if h.rule not in mapped)


def verdict_of(explanation: str) -> str:
    """The verdict an explanation starts with ('' when none of VERDICTS)."""
    head = explanation.split(":", 1)[0]
    return max((v for v in VERDICTS if head.startswith(v)), key=len, default="")


# --------------------------------------------------------------------------- the corpus
def case_directories(corpus: Path = CORPUS) -> list[Path]:
    return sorted(p for p in corpus.glob("*/*") if p.is_dir())


def corpus_files(corpus: Path = CORPUS) -> list[CorpusFile]:
    """Every .sql file, with whether dataward runs its migration in a transaction (read the
    way dataward reads it) and whether it is UTF-8 (squawk stops the whole run at the first
    file that is not)."""
    from dataward.migrate.files import MigrationError, discover

    transactional: dict[Path, bool] = {}
    unreadable: set[Path] = set()
    for directory in case_directories(corpus):
        try:
            migrations = discover(directory)
        except MigrationError:
            # The unreadable-migration case: dataward lints nothing in the directory, and
            # native migrations default to transactional.
            unreadable.add(directory.resolve())
            continue
        for migration in migrations:
            for path in migration.files:
                transactional[path.resolve()] = migration.transactional
    files = []
    for path in sorted(corpus.glob("*/*/*.sql")):
        try:
            path.read_bytes().decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            utf8 = False
        files.append(
            CorpusFile(
                path.relative_to(corpus).as_posix(),
                transactional.get(path.resolve(), True),
                utf8,
                path.parent.resolve() not in unreadable,
            )
        )
    return files


def expected_marks(corpus: Path = CORPUS) -> set[Hit]:
    """The corpus's own truth: `-- expect: RULE[, RULE]` on the line of each finding."""
    marks = set()
    for path in sorted(corpus.glob("*/*/*.sql")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if MARKER in line:
                for rule in line.split(MARKER, 1)[1].split(","):
                    marks.add(Hit(path.relative_to(corpus).as_posix(), rule.strip(), number))
    return marks


# --------------------------------------------------------------------------- the tools
def squawk_binary() -> Path | None:
    """squawk from this venv (the bench and dev extras install squawk-cli), else PATH."""
    local = BIN / "squawk"
    if local.exists():
        return local
    found = shutil.which("squawk")
    return Path(found) if found else None


def squawk_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().removeprefix("squawk ").strip()


def squawk_rule_names() -> set[str]:
    """Every squawk rule the mappings and SQUAWK_ONLY name, less `syntax-error`: squawk
    reports a file it cannot parse under that name, but it is no rule one can exclude."""
    return ({r for m in MAPPINGS for r in m.squawk} | set(SQUAWK_ONLY)) - {"syntax-error"}


def squawk_unknown_rules(binary: Path, rules: Iterable[str]) -> list[str]:
    """The names squawk refuses (`--exclude` checks each name against its rule list)."""
    unknown = []
    for rule in sorted(set(rules)):
        done = subprocess.run(
            [str(binary), "--exclude", rule, "--stdin-filepath", "x.sql"],
            input="SELECT 1;\n",
            capture_output=True,
            text=True,
        )
        if done.returncode == 2 and "invalid rule name" in done.stderr:
            unknown.append(rule)
    return unknown


def squawk_commands(binary: Path, files: Sequence[CorpusFile]) -> list[list[str]]:
    """One squawk process for the files of transactional migrations
    (--assume-in-transaction), one for the rest; paths relative to the corpus root."""
    base = [str(binary), "--reporter", "json", f"--pg-version={PG_VERSION}"]
    readable = [f for f in files if f.utf8]
    commands = []
    in_tx = [f.path for f in readable if f.transactional]
    no_tx = [f.path for f in readable if not f.transactional]
    if in_tx:
        commands.append([*base, "--assume-in-transaction", *in_tx])
    if no_tx:
        commands.append([*base, *no_tx])
    return commands


def run_squawk(binary: Path, files: Sequence[CorpusFile], root: Path = CORPUS) -> list[Hit]:
    hits: list[Hit] = []
    for command in squawk_commands(binary, files):
        done = subprocess.run(command, cwd=root, capture_output=True, text=True)
        # 0: nothing found, 1: violations; anything else is squawk failing.
        if done.returncode not in (0, 1):
            raise RuntimeError(f"squawk exited {done.returncode}: {done.stderr[:2000]}")
        # squawk's JSON counts lines from 0.
        hits += [Hit(v["file"], v["rule_name"], v["line"] + 1) for v in json.loads(done.stdout)]
    return hits


def dataward_command(directories: Sequence[str]) -> list[str]:
    return [str(BIN / "dataward"), "migrate", "lint", *directories, "--format", "json"]


def run_dataward_cli(root: Path = CORPUS) -> list[Hit]:
    """`dataward migrate lint DIR... --format json`, every case directory in one process."""
    directories = [p.relative_to(root).as_posix() for p in case_directories(root)]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        dataward_command(directories), cwd=root, capture_output=True, text=True, env=env
    )
    # 1: findings; 2: the corpus has a file that does not parse and one that is not UTF-8.
    if done.returncode not in (0, 1, 2) or not done.stdout.startswith("["):
        raise RuntimeError(f"dataward exited {done.returncode}: {done.stderr[:2000]}")
    return [_relative(Hit(f["file"], f["rule"], f["line"]), root) for f in json.loads(done.stdout)]


def lint_inprocess(root: Path = CORPUS) -> list:
    """The engine called directly, as tests/migrate/test_lint_corpus.py does: dataward's
    findings, as it returns them."""
    from dataward.migrate.lint.engine import lint
    from dataward.migrate.lint.inputs import collect

    sets, findings = collect(case_directories(root))
    for found in sets:
        findings += lint(found.migrations, report=found.report)
    return findings


def run_dataward_inprocess(root: Path = CORPUS) -> list[Hit]:
    return [_relative(Hit(f.file, f.rule, f.line), root) for f in lint_inprocess(root)]


def dataward_without_ignores(corpus: Path = CORPUS) -> list[Hit]:
    """dataward over a copy of the corpus with every `dataward:ignore` turned off: what it
    finds before its ignores apply (files read as bytes: one is not UTF-8)."""
    with tempfile.TemporaryDirectory(prefix="dw-lint-noignore-") as tmp:
        copy = Path(tmp) / "corpus"
        shutil.copytree(corpus, copy)
        for path in copy.glob("*/*/*.sql"):
            path.write_bytes(path.read_bytes().replace(b"dataward:ignore", b"dataward-ignore-off"))
        return run_dataward_inprocess(copy)


def _relative(hit: Hit, root: Path) -> Hit:
    path = Path(hit.file)
    if path.is_absolute():
        path = path.resolve().relative_to(root.resolve())
    return Hit(path.as_posix(), hit.rule, hit.line)


# --------------------------------------------------------------------------- comparing
def compare(
    files: Sequence[CorpusFile],
    dataward_hits: Sequence[Hit],
    squawk_hits: Sequence[Hit],
    mappings: Sequence[Mapping] = MAPPINGS,
) -> Comparison:
    dataward = {(h.file, h.rule) for h in dataward_hits}
    squawk = {(h.file, h.rule) for h in squawk_hits}
    cases = []
    for f in files:
        if not f.compared:
            continue
        for mapping in mappings:
            cases.append(
                Case(
                    mapping.name,
                    f.path,
                    any((f.path, r) in dataward for r in mapping.dataward),
                    any((f.path, r) in squawk for r in mapping.squawk),
                )
            )
    return Comparison(
        files=list(files),
        skipped={
            f.path: "not UTF-8: squawk stops its whole run at such a file, so it is not given it"
            if not f.utf8
            else "dataward refuses its directory (unreadable-migration) and lints none of it"
            for f in files
            if not f.compared
        },
        cases=cases,
        dataward_hits=list(dataward_hits),
        squawk_hits=list(squawk_hits),
    )


def compare_corpus(corpus: Path = CORPUS, *, in_process: bool = True) -> Comparison:
    """Both tools over the corpus, compared (the test's entry point)."""
    binary = squawk_binary()
    if binary is None:
        raise RuntimeError("squawk is not installed (pip install 'squawk-cli>=2.70')")
    files = corpus_files(corpus)
    dataward = run_dataward_inprocess(corpus) if in_process else run_dataward_cli(corpus)
    return compare(files, dataward, run_squawk(binary, files, corpus))


if __name__ == "__main__":
    result = compare_corpus()
    print(f"{len(result.cases)} cases, agreement {result.agreement:.2%}")
    for case in result.disagreements:
        print(f"{case.kind:14} {case.mapping:38} {case.file}")
