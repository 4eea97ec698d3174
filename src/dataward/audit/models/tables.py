"""What the model readers share: a table as an ORM declares it, and its SQL laid out on
the lines of the declarations it comes from.

A table becomes one CREATE TABLE whose opening is on the class (or `model`, or
`create_table`) line and whose every column and table constraint is on the line that
declares it; the statement closes after its last element. Indexes, and anything else that
must follow the table, are separate statements at their own lines (pushed past the close
when their line is inside it: `formats.layout` only moves forward). So a rule reporting at
a column's offset names the field's line, and one reporting at a statement names the class.

`dataward:ignore` comments of the model file are carried over to their lines, inside a
CREATE TABLE too (an ignore above a field lands in the statement it is about).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dataward.audit.formats.ddl import Column, ident, qname
from dataward.audit.formats.layout import Parts, Statements, ignore_comments, script
from dataward.audit.schema_sql import SchemaSql

# The type a column of a type no reader knows is written with: no type rule looks at text,
# so nothing is reported on a guess; the reader says how many there were.
UNKNOWN_TYPE = "text"
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
# What a serial column is underneath, for the columns that reference it.
UNDERLYING = {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}


@dataclass
class ModelTable:
    name: str
    line: int  # the class / model / create_table line
    columns: list[Column] = field(default_factory=list)
    # Table constraints (PRIMARY KEY (a, b), UNIQUE, FOREIGN KEY), each on its line.
    constraints: list[tuple[int, str]] = field(default_factory=list)
    # Statements after the CREATE TABLE (CREATE INDEX, ALTER TABLE, a join table), each as
    # fragments with their lines.
    after: list[Parts] = field(default_factory=list)
    # Columns whose type no mapping knows: (column, line, what the source says).
    unknown: list[tuple[str, int, str]] = field(default_factory=list)
    # False: only the `after` statements (an index or column added to a table that
    # another file creates).
    create: bool = True

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def add_column(self, column: Column, declared: str | None = None) -> Column:
        """`declared`: the source's type when no mapping knows it (the column is then
        written as UNKNOWN_TYPE and counted)."""
        if declared is not None:
            column.type = UNKNOWN_TYPE
            self.unknown.append((column.name, column.line, declared))
        existing = self.column(column.name)
        if existing is not None:  # a subclass redeclaring an inherited field
            self.columns[self.columns.index(existing)] = column
        else:
            self.columns.append(column)
        return column

    def index(self, line: int, sql: str) -> None:
        self.after.append([(line, sql)])


def name_with_hash(*parts: str, suffix: str) -> str:
    """An index or constraint name that fits in 63 characters, as the ORMs shorten theirs
    (a hash of the whole keeps two long names apart)."""
    name = "_".join(p for p in parts if p) + f"_{suffix}"
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return name[: MAX_IDENTIFIER - len(suffix) - 10] + f"_{digest}_{suffix}"


def columns_sql(columns: Iterable[str]) -> str:
    return ", ".join(ident(c) for c in columns)


def create_table_parts(table: ModelTable, comments: Sequence[tuple[int, str]] = ()) -> Parts:
    """The CREATE TABLE: the head on the table's line, each element on its own line (an
    element declared before the table line, an inherited field, goes on the table line),
    `comments` between them, the close after the last element."""
    start = table.line
    entries: list[tuple[int, int, int, str]] = []  # line, kind (0 element, 1 comment), order
    for order, column in enumerate(table.columns):
        entries.append((max(column.line, start), 0, order, column.sql()))
    for order, (line, text) in enumerate(table.constraints, start=len(table.columns)):
        entries.append((max(line, start), 0, order, text))
    for order, (line, text) in enumerate(comments):
        entries.append((line, 1, order, text))
    entries.sort()
    last_element = max((i for i, e in enumerate(entries) if e[1] == 0), default=-1)
    parts: Parts = [(start, f"CREATE TABLE {qname(table.name)} (")]
    for number, (line, kind, _, text) in enumerate(entries):
        if kind == 0 and number != last_element:
            text += ","
        parts.append((line, text))
    close = entries[last_element][0] if last_element >= 0 else start
    parts.append((max(close, parts[-1][0]), ")"))
    return parts


def _span(parts: Parts) -> tuple[int, int]:
    return parts[0][0], parts[-1][0]


def schema_sql(
    tables: Sequence[ModelTable],
    file: Path,
    relative: str,
    origin: str,
    text: str,
    markers: Sequence[str],
) -> SchemaSql:
    """The tables of one model file as SQL whose line N is the file's line N."""
    comments = ignore_comments(text.splitlines(), markers)
    # A comment inside a table's declaration goes into its CREATE TABLE.
    ordered = sorted(tables, key=lambda t: t.line)
    spans = [_span(create_table_parts(t)) if t.create else (0, -1) for t in ordered]
    inside: dict[int, list[tuple[int, str]]] = {}
    outside = []
    for line, comment in comments:
        owner = next(
            (n for n, (first, last) in enumerate(spans) if first <= line <= last),
            None,
        )
        if owner is None:
            outside.append((line, comment))
        else:
            inside.setdefault(owner, []).append((line, comment))
    items: list[tuple[int, int, Parts]] = []  # line, order, fragments
    for number, table in enumerate(ordered):
        close = table.line
        if table.create:
            parts = create_table_parts(table, inside.get(number, ()))
            items.append((parts[0][0], len(items), parts))
            close = parts[-1][0]
        for after in table.after:
            first = max(after[0][0], close)
            items.append((first, len(items), [(max(line, first), t) for line, t in after]))
    items.sort(key=lambda item: (item[0], item[1]))
    statements = Statements()
    for _, _, parts in items:
        statements.add_parts(parts)
    laid_out, _ = script(statements, file, 1, outside)
    return SchemaSql(file=file, relative=relative, sql=laid_out.sql, origin=origin)


def unknown_note(origin: str, tables: Iterable[tuple[str, ModelTable]]) -> str | None:
    """`tables`: (relative file, table). One note for every column of unknown type."""
    found = [
        f"{table.name}.{column} ({declared}) at {relative}:{line}"
        for relative, table in tables
        for column, line, declared in table.unknown
    ]
    if not found:
        return None
    shown = ", ".join(found[:5]) + (f", and {len(found) - 5} more" if len(found) > 5 else "")
    plural = "s" if len(found) > 1 else ""
    return (
        f"{origin}: {len(found)} column{plural} of a type not understood, read as "
        f"{UNKNOWN_TYPE} (no type rule judges them): {shown}"
    )
