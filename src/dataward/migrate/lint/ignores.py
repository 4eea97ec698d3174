"""Inline ignores: `-- dataward:ignore RULE-ID reason` (or several ids, comma-separated).

An ignore belongs to a statement when it is a comment of its own line between the previous
statement and this one (the comments that lead into it), or a comment on one of the
statement's own lines (`...; -- dataward:ignore drop-column released in 2.3`). A finding
about a whole script (a missing down) takes the comments before the first statement.
Comments are found by PostgreSQL's own lexer (pglast), so `--` inside a string is text.

An ignore without a reason suppresses nothing: the reason is the point (the next reader
must see why the rule does not apply), so it is reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast.parser import scan

from dataward.migrate.files import Script, Statement

MARKER = "dataward:ignore"
_COMMENTS = ("SQL_COMMENT", "C_COMMENT")
# Punctuation people put between the ids and the reason; alone it is no reason.
_NOT_A_REASON = " \t-:;,.\u2013\u2014"


@dataclass(frozen=True)
class Ignore:
    rules: tuple[str, ...]
    reason: str
    line: int
    column: int
    own_line: bool  # nothing before it on its line

    @property
    def has_reason(self) -> bool:
        return bool(self.reason.strip(_NOT_A_REASON))


def find_ignores(script: Script) -> list[Ignore]:
    found = []
    for token in scan(script.sql):
        if token.name not in _COMMENTS:
            continue
        text = script.sql[token.start : token.end + 1]
        body = text[2:-2] if token.name == "C_COMMENT" else text[2:]
        parsed = _parse(body.strip())
        if parsed is None:
            continue
        where = script.location(token.start)
        line_start = script.sql.rfind("\n", 0, token.start) + 1
        found.append(
            Ignore(
                rules=parsed[0],
                reason=parsed[1],
                line=where.line or script.first_line,
                column=where.column or 1,
                own_line=not script.sql[line_start : token.start].strip(),
            )
        )
    return found


def _parse(body: str) -> tuple[tuple[str, ...], str] | None:
    if not body.startswith(MARKER):
        return None
    rest = body[len(MARKER) :]
    if rest and not rest[0].isspace():
        return None  # dataward:ignored, dataward:ignore-all: not ours
    words = rest.split(None, 1)
    if not words:
        return (), ""
    rules = tuple(r for r in words[0].rstrip(":").split(",") if r)
    return rules, words[1].strip() if len(words) > 1 else ""


def last_line(statement: Statement) -> int:
    return statement.line + statement.sql.count("\n")


def applies(ignore: Ignore, position: int | None, statements: tuple[Statement, ...]) -> bool:
    """Whether `ignore` is placed to cover statement number `position` (None: the whole
    script)."""
    if position is None:
        return ignore.own_line and (not statements or ignore.line < statements[0].line)
    statement = statements[position]
    if statement.line <= ignore.line <= last_line(statement):
        return True
    before = last_line(statements[position - 1]) if position else 0
    return ignore.own_line and before < ignore.line < statement.line
