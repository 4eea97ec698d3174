"""Generated SQL laid out on the lines of the source it comes from.

The linter reports a statement at `Script.location(offset)`: the script's first line plus
the newlines before the offset. So each statement is written on the line of the operation
that runs it in the migration file (padded with newlines; two operations on one line share
it), a CREATE TABLE with each column on the column's own line, and a finding names the
file and line a person opens. Source order only moves forward, so this always fits; a
fragment that would go backwards (SQL with escaped newlines pushed the text on) is written
where the text already is.

`dataward:ignore` comments of the source file are carried over to their lines, so an ignore
written above a Rails `add_index` covers the CREATE INDEX it becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dataward.migrate.files import Script
from dataward.migrate.lint.ignores import MARKER

Parts = list[tuple[int, str]]


@dataclass
class Sql:
    """One statement to write: its fragments, each with its source line."""

    parts: Parts
    autocommit: bool = False  # Alembic: inside an autocommit_block


@dataclass
class Statements:
    """What one direction of a migration runs, in order, before it is laid out."""

    items: list[Sql] = field(default_factory=list)
    # Code the readers cannot turn into SQL (Python in RunPython, a Rails model call):
    # the script is not empty, whatever it does.
    opaque: list[int] = field(default_factory=list)

    def add(self, line: int, sql: str, *, autocommit: bool = False) -> None:
        self.items.append(Sql([(line, sql)], autocommit))

    def add_parts(self, parts: Parts, *, autocommit: bool = False) -> None:
        if parts:
            self.items.append(Sql(parts, autocommit))

    def literal(self, line: int, sql: str, *, autocommit: bool = False) -> None:
        """SQL written in the migration (op.execute, execute <<~SQL, DB::statement): its
        own newlines are kept, so a statement inside it lands on its own line."""
        text = sql.rstrip()
        if not text.strip():
            return
        self.items.append(Sql([(line, text)], autocommit))

    def extend(self, other: Statements) -> None:
        self.items += other.items
        self.opaque += other.opaque

    @property
    def any_autocommit(self) -> bool:
        return any(item.autocommit for item in self.items)

    def __bool__(self) -> bool:
        return bool(self.items or self.opaque)


def ignore_comments(lines: Sequence[str], markers: Sequence[str]) -> list[tuple[int, str]]:
    """(line, `-- dataward:ignore ...`) for each source comment holding an ignore;
    `markers` are the language's comment openers (`#`, `//`)."""
    found = []
    for number, text in enumerate(lines, start=1):
        at = text.find(MARKER)
        if at < 0:
            continue
        before = text[:at].rstrip()
        if not any(before.endswith(m) for m in markers) and not before.endswith("/*"):
            continue
        body = text[at:].split("*/")[0].strip()
        found.append((number, "-- " + body))
    return found


class _Writer:
    def __init__(self, first_line: int, comments: Iterable[tuple[int, str]]) -> None:
        self.first_line = first_line
        self.parts: list[str] = []
        self.line = first_line
        self.fresh = True  # nothing written on `line` yet
        self.closed = False  # `line` ends in a comment: what follows needs a new line
        self.comments = sorted(c for c in comments if c[0] >= first_line)

    def write(self, line: int, text: str) -> None:
        target = max(line, self.line + (1 if self.closed else 0))
        if target > self.line:
            self.parts.append("\n" * (target - self.line))
            self.line, self.fresh, self.closed = target, True, False
        if not self.fresh:
            self.parts.append(" ")
        self.parts.append(text)
        self.line += text.count("\n")
        self.fresh = False
        self.closed = "--" in text.rsplit("\n", 1)[-1]

    def flush_comments(self, before: int | None = None) -> None:
        while self.comments and (before is None or self.comments[0][0] < before):
            line, text = self.comments.pop(0)
            if line > self.line or (line == self.line and not self.closed):
                self.write(line, text)
                self.closed = True

    def statement(self, parts: Parts) -> None:
        self.flush_comments(parts[0][0])
        for number, (line, text) in enumerate(parts):
            if number == len(parts) - 1:
                text = _terminated(text)
            self.write(line, text)

    def text(self) -> str:
        self.flush_comments()
        return "".join(self.parts) + "\n"


def _terminated(text: str) -> str:
    stripped = text.rstrip()
    if stripped.endswith(";"):
        return stripped
    # A last line that is a comment would swallow the `;`.
    return stripped + ("\n;" if "--" in stripped.rsplit("\n", 1)[-1] else ";")


def script(
    statements: Statements,
    file: Path,
    first_line: int,
    comments: Iterable[tuple[int, str]] = (),
) -> tuple[Script, bool]:
    """The statements as one Script starting at `first_line` of `file`, and whether the
    migration runs in one transaction (False when some of it is in an Alembic
    autocommit_block: the rest then gets the BEGIN ... COMMIT it really runs in)."""
    writer = _Writer(first_line, comments)
    if not statements.any_autocommit:
        for item in statements.items:
            writer.statement(item.parts)
        transactional = True
    else:
        transactional = False
        items = statements.items
        for number, item in enumerate(items):
            parts = list(item.parts)
            if not item.autocommit:
                opens = number == 0 or items[number - 1].autocommit
                closes = number == len(items) - 1 or items[number + 1].autocommit
                if opens:
                    writer.statement([(parts[0][0], "BEGIN")])
                writer.statement(parts)
                if closes:
                    writer.statement([(writer.line, "COMMIT")])
            else:
                writer.statement(parts)
    if not statements.items and statements.opaque:
        # Code that does something the readers cannot see: not an empty script.
        writer.statement([(statements.opaque[0], "SELECT 1")])
    return Script(writer.text(), file, first_line), transactional


def pinned(statements: Statements, file: Path, line: int) -> Script:
    """SQL that no single line of the file holds (the down Django or Rails' `change`
    derives by reversing every operation): each statement on its own line, every
    finding about it at `line`."""
    texts = [_terminated("\n".join(t for _, t in item.parts)) for item in statements.items]
    if not texts and statements.opaque:
        texts = ["SELECT 1;"]
    return Script("\n".join(texts) + ("\n" if texts else ""), file, line, pinned=True)
