"""Rails' db/schema.rb (and db/<name>_schema.rb of a multi-database app), read as text
(never run): the tables `db:schema:load` creates on PostgreSQL.

Read: `create_table "t", id: ..., primary_key: ... do |t| ... end` with `t.<type> "name",
null:, limit:, precision:, scale:, array:, enum_type:` (pgtypes' Rails mapping, for the
ActiveRecord::Schema[x.y] version), `t.column "name", :type`, `t.references` /
`t.belongs_to` (bigint, indexed unless index: false, `foreign_key: true`, polymorphic),
`t.timestamps`, `t.index` (columns, an expression string, unique:, where:, using:),
`t.unique_constraint`; top-level `add_index` and `add_foreign_key` (the column Rails
derives from the target table, `column:`, `primary_key:`, `name:`). Heredocs (a scenic
`create_view`) are skipped.

As Rails does it on PostgreSQL: a table gets `id bigserial PRIMARY KEY` unless `id:
false` (`id: :uuid`, `:serial`, `:string`... give that type, `primary_key:` the name or a
composite key); columns are nullable unless `null: false`; `t.datetime` is timestamp(6)
without time zone from Rails 7.0 (timestamp before).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw, ident
from dataward.audit.formats.pgtypes import rails_type
from dataward.audit.models.tables import (
    UNKNOWN_TYPE,
    ModelTable,
    columns_sql,
    schema_sql,
    unknown_note,
)
from dataward.audit.schema_sql import SchemaSql

ORIGIN = "Rails schema.rb"
Problem = tuple[str, int, str]

_VERSION = re.compile(r"ActiveRecord::Schema(?:\[(\d+\.\d+)\])?\.define")
_CREATE = re.compile(r"^create_table\s*\(?\s*(.*?)\s*\)?\s+do\s*(?:\|(\w+)\|)?\s*$")
_COLUMN = re.compile(r"^(\w+)\.(\w+)\b\s*\(?(.*?)\)?\s*$")
_TOP = re.compile(r"^(add_index|add_foreign_key|create_enum|enable_extension|create_schema)\b")
_HEREDOC = re.compile(r"<<[~-]?(['\"]?)([A-Z_][A-Z0-9_]*)\1")
# The key `id:` makes: Rails' PostgreSQL adapter makes an integer or bigint key a serial
# unless it is given a default.
_IDS = {
    "serial": "serial", "integer": "serial", "bigserial": "bigserial",
    "bigint": "bigserial", "primary_key": "bigserial",
}  # fmt: skip
_PLAIN_IDS = {"integer": "integer", "bigint": "bigint"}
_UNCOUNTABLE = {
    "equipment", "information", "rice", "money", "species", "series", "fish", "sheep",
    "jeans", "police", "news", "metadata", "data",
}  # fmt: skip
_IRREGULAR = {
    "people": "person", "men": "man", "women": "woman", "children": "child",
    "sexes": "sex", "moves": "move", "zombies": "zombie", "mice": "mouse",
}  # fmt: skip
# ActiveSupport's singular rules, most specific first.
_SINGULAR = [
    (r"(database)s$", r"\1"), (r"(quiz)zes$", r"\1"), (r"(matr)ices$", r"\1ix"),
    (r"(vert|ind)ices$", r"\1ex"), (r"^(ox)en", r"\1"), (r"(alias|status)(es)?$", r"\1"),
    (r"(octop|vir)(us|i)$", r"\1us"), (r"^(a)x[ie]s$", r"\1xis"),
    (r"(cris|test)(is|es)$", r"\1is"), (r"(shoe)s$", r"\1"), (r"(o)es$", r"\1"),
    (r"(bus)(es)?$", r"\1"), (r"^(m|l)ice$", r"\1ouse"), (r"(x|ch|ss|sh)es$", r"\1"),
    (r"(m)ovies$", r"\1ovie"), (r"(s)eries$", r"\1eries"), (r"([^aeiouy]|qu)ies$", r"\1y"),
    (r"([lr])ves$", r"\1f"), (r"(tive)s$", r"\1"), (r"(hive)s$", r"\1"),
    (r"([^f])ves$", r"\1fe"), (r"(^analy)(sis|ses)$", r"\1sis"), (r"([ti])a$", r"\1um"),
    (r"(ss)$", r"\1"), (r"s$", ""),
]  # fmt: skip


def singular(word: str) -> str:
    """ActiveSupport's singularize, for the plain English table names Rails derives."""
    if word in _UNCOUNTABLE:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for pattern, replacement in _SINGULAR:
        if re.search(pattern, word):
            return re.sub(pattern, replacement, word)
    return word


def plural(word: str) -> str:
    if word in _UNCOUNTABLE:
        return word
    reverse = {v: k for k, v in _IRREGULAR.items()}
    if word in reverse:
        return reverse[word]
    if re.search(r"(x|ch|ss|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiouy]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def is_schema_rb(path: Path, text: str) -> bool:
    return (path.name == "schema.rb" or path.name.endswith("_schema.rb")) and (
        "ActiveRecord::Schema" in text
    )


# ---- Ruby literals -----------------------------------------------------------------------


def _split(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", []
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quote and char == "\\":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def ruby(text: str) -> Any:
    """A Ruby literal: strings, symbols (as strings), numbers, true / false / nil, arrays
    and hashes; anything else (a lambda, a constant) is returned as Raw text."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].replace('\\"', '"')
    if re.fullmatch(r":\w+[?!]?", text):
        return text[1:]
    if re.fullmatch(r":\"[^\"]*\"", text):
        return text[2:-1]
    if re.fullmatch(r"-?\d+(_\d+)*", text):
        return int(text.replace("_", ""))
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    if text == "nil":
        return None
    if text.startswith("[") and text.endswith("]"):
        return [ruby(p) for p in _split(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        return _options(_split(text[1:-1]))[1]
    return Raw(text)


def _sql_list(text: str) -> list[str]:
    """SQL expressions separated by top-level commas (not inside () or a string)."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _options(parts: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments and `key: value` / `"key" => value` options."""
    positional, options = [], {}
    for part in parts:
        keyed = re.match(r"^(\w+[?!]?):\s+(.*)$", part, re.DOTALL) or re.match(
            r"^(\w+[?!]?):(\S.*)$", part, re.DOTALL
        )
        arrow = re.match(r"^[:\"']?(\w+)[\"']?\s*=>\s*(.*)$", part, re.DOTALL)
        if keyed and not part.startswith((":", '"', "'")):
            options[keyed.group(1)] = ruby(keyed.group(2))
        elif arrow:
            options[arrow.group(1)] = ruby(arrow.group(2))
        else:
            positional.append(ruby(part))
    return positional, options


def _arguments(text: str) -> tuple[list[Any], dict[str, Any]]:
    return _options(_split(text))


# ---- reading -----------------------------------------------------------------------------


@dataclass
class _Statement:
    line: int
    text: str


def _statements(text: str) -> list[_Statement]:
    """The file's statements, a continued one (open brackets, a trailing comma) joined,
    comments and heredoc bodies left out."""
    found: list[_Statement] = []
    pending: _Statement | None = None
    heredoc: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        line = _strip_comment(raw).strip()
        marker = _HEREDOC.search(line)
        if marker:
            heredoc = marker.group(2)
        if not line:
            continue
        if pending is not None:
            pending.text += " " + line
        else:
            pending = _Statement(number, line)
        if _balanced(pending.text) and not pending.text.endswith(","):
            found.append(pending)
            pending = None
    if pending is not None:
        found.append(pending)
    return found


def _strip_comment(line: str) -> str:
    quote = ""
    escaped = False
    for number, char in enumerate(line):
        if escaped:
            escaped = False
        elif quote and char == "\\":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:number]
    return line


def _balanced(text: str) -> bool:
    depth, quote = 0, ""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quote and char == "\\":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
    return depth <= 0


@dataclass
class _Reader:
    relative: Callable[[Path], str]
    problems: list[Problem] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)
    tables: list[tuple[str, ModelTable]] = field(default_factory=list)
    schemas: list[SchemaSql] = field(default_factory=list)
    composite: dict[int, list[str]] = field(default_factory=dict)  # id(table) -> key

    def add_file(self, path: Path, text: str) -> None:
        relative = self.relative(path)
        version_match = _VERSION.search(text)
        version = float(version_match.group(1)) if version_match and version_match.group(1) else 6.1
        tables: dict[str, ModelTable] = {}
        extra = ModelTable("", 1, create=False)  # top-level add_index / add_foreign_key
        current: ModelTable | None = None
        block_var = "t"
        opened_at = 0
        depth = 0  # `do` blocks inside create_table (none expected)
        for statement in _statements(text):
            line, body = statement.line, statement.text
            if current is not None:
                if body == "end":
                    if depth:
                        depth -= 1
                        continue
                    self._close(current)
                    current = None
                    continue
                if re.search(r"\bdo\b(\s*\|[^|]*\|)?$", body):
                    depth += 1
                self._table_line(current, block_var, line, body, version, relative)
                continue
            created = _CREATE.match(body)
            if created:
                positional, options = _arguments(created.group(1))
                name = positional[0] if positional and isinstance(positional[0], str) else None
                if name is None:
                    self.not_understood.append(f"create_table at {relative}:{line}")
                    current = ModelTable("", line)  # read to its end, not kept
                else:
                    current = self._create(name, options, line)
                    tables[name] = current
                block_var = created.group(2) or "t"
                opened_at = line
                continue
            top = _TOP.match(body)
            if top and top.group(1) in ("add_index", "add_foreign_key"):
                self._top(top.group(1), body[len(top.group(1)) :], line, tables, extra, relative)
        if current is not None:
            self.problems.append(
                (relative, opened_at, f"schema.rb: create_table {current.name!r} has no end")
            )
            tables.pop(current.name, None)
        kept = [t for t in tables.values() if t.name]
        if kept or extra.after:
            self.schemas.append(schema_sql([*kept, extra], path, relative, ORIGIN, text, ("#",)))
            self.tables += [(relative, t) for t in kept]

    def _create(self, name: str, options: dict[str, Any], line: int) -> ModelTable:
        table = ModelTable(name, line)
        key = options.get("primary_key")
        kind = options.get("id", "bigserial")
        if isinstance(key, list):
            self.composite[id(table)] = [str(k) for k in key]
            return table
        if kind is False:
            return table
        column = key if isinstance(key, str) else "id"
        if isinstance(kind, str) and kind in _PLAIN_IDS and "default" in options:
            sql_type = _PLAIN_IDS[kind]
        elif isinstance(kind, str) and kind in _IDS:
            sql_type = _IDS[kind]
        elif isinstance(kind, str):
            sql_type = rails_type(kind, options, 7.0) or UNKNOWN_TYPE
        else:
            sql_type = "bigserial"
        table.add_column(Column(column, sql_type, primary_key=True, line=line))
        return table

    def _close(self, table: ModelTable) -> None:
        """A composite primary key: after its columns, on the last one's line."""
        key = self.composite.get(id(table))
        if key:
            line = max((c.line for c in table.columns if c.name in key), default=table.line)
            table.constraints.append((line, f"PRIMARY KEY ({columns_sql(key)})"))

    def _table_line(
        self,
        table: ModelTable,
        var: str,
        line: int,
        body: str,
        version: float,
        relative: str,
    ) -> None:
        found = _COLUMN.match(body)
        if found is None or found.group(1) != var:
            self.not_understood.append(f"{body[:40]} at {relative}:{line}")
            return
        method, rest = found.group(2), found.group(3)
        positional, options = _arguments(rest)
        if method == "index":
            self._index(table.name, positional, options, line, table)
            return
        if method == "timestamps":
            for name in ("created_at", "updated_at"):
                merged = {"null": False, **options}
                self._column(table, name, "datetime", merged, line, version)
            return
        if method in ("references", "belongs_to"):
            self._reference(table, positional, options, line, version)
            return
        if method == "unique_constraint":
            columns = positional[0] if positional else None
            columns = [columns] if isinstance(columns, str) else columns
            if isinstance(columns, list):
                named = options.get("name")
                head = f"CONSTRAINT {ident(named)} " if isinstance(named, str) else ""
                table.constraints.append((line, f"{head}UNIQUE ({columns_sql(map(str, columns))})"))
            return
        if method in ("check_constraint", "exclusion_constraint"):
            return
        if method == "column" and len(positional) >= 2:
            name, kind = positional[0], positional[1]
        elif positional and method not in ("remove", "rename", "change"):
            name, kind = positional[0], method
        else:
            self.not_understood.append(f"{var}.{method} at {relative}:{line}")
            return
        if not isinstance(name, str) or not isinstance(kind, str):
            self.not_understood.append(f"{var}.{method} at {relative}:{line}")
            return
        for extra_name in positional[1:] if method != "column" else []:
            if isinstance(extra_name, str):  # t.string "a", "b"
                self._column(table, extra_name, kind, options, line, version)
        self._column(table, name, kind, options, line, version)

    def _column(
        self,
        table: ModelTable,
        name: str,
        kind: str,
        options: dict[str, Any],
        line: int,
        version: float,
    ) -> None:
        if kind == "virtual":
            kind = str(options.get("type", "virtual"))
        sql_type = rails_type(kind, options, version)
        column = Column(
            name,
            sql_type or UNKNOWN_TYPE,
            not_null=options.get("null") is False,
            line=line,
        )
        if name in self.composite.get(id(table), ()):
            column.not_null = True
        table.add_column(column, None if sql_type else f"t.{kind}")
        if options.get("index"):
            unique = isinstance(options["index"], dict) and options["index"].get("unique") is True
            table.index(
                line,
                ddl.create_index(
                    f"index_{table.name.split('.')[-1]}_on_{name}",
                    table.name,
                    [name],
                    unique=unique,
                ),
            )

    def _reference(
        self,
        table: ModelTable,
        positional: list[Any],
        options: dict[str, Any],
        line: int,
        version: float,
    ) -> None:
        for ref in positional:
            if not isinstance(ref, str):
                continue
            kind = str(options.get("type", "bigint"))
            column = f"{ref}_id"
            self._column(table, column, kind, {**options, "index": False}, line, version)
            columns = [column]
            if options.get("polymorphic"):
                self._column(
                    table, f"{ref}_type", "string", {**options, "index": False}, line, version
                )
                columns = [f"{ref}_type", column]
            index = options.get("index", True)
            if index:
                unique = isinstance(index, dict) and index.get("unique") is True
                table.index(
                    line,
                    ddl.create_index(
                        f"index_{table.name.split('.')[-1]}_on_{'_and_'.join(columns)}",
                        table.name,
                        columns,
                        unique=unique,
                    ),
                )
            target = options.get("foreign_key")
            if target:
                to = target.get("to_table") if isinstance(target, dict) else None
                to = str(to) if to else plural(ref)
                name = f"fk_rails_{table.name.split('.')[-1]}_{column}"
                table.after.append(
                    [(line, ddl.add_foreign_key(table.name, name, [column], to, ["id"]))]
                )

    def _index(
        self,
        table_name: str,
        positional: list[Any],
        options: dict[str, Any],
        line: int,
        holder: ModelTable,
    ) -> None:
        columns = positional[0] if positional else None
        keys: list[str | Raw]
        if isinstance(columns, list):
            keys = [str(c) for c in columns]
        elif isinstance(columns, str):
            # schema.rb writes an expression index's keys as one string: each is an
            # expression of its own, in parentheses
            keys = [
                key if re.fullmatch(r"\w+", key) else Raw(f"({key})") for key in _sql_list(columns)
            ]
        else:
            return
        name = options.get("name")
        if not isinstance(name, str):
            plain = [str(k) for k in keys if not isinstance(k, Raw)] or ["expression"]
            name = f"index_{table_name.split('.')[-1]}_on_{'_and_'.join(plain)}"
        where = options.get("where")
        using = options.get("using")
        holder.index(
            line,
            ddl.create_index(
                name,
                table_name,
                keys,
                unique=options.get("unique") is True,
                where=str(where) if isinstance(where, str) else None,
                using=str(using) if isinstance(using, str) else None,
            ),
        )

    def _top(
        self,
        method: str,
        rest: str,
        line: int,
        tables: dict[str, ModelTable],
        extra: ModelTable,
        relative: str,
    ) -> None:
        rest = rest.strip()
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1]
        positional, options = _arguments(rest)
        if not positional or not isinstance(positional[0], str):
            self.not_understood.append(f"{method} at {relative}:{line}")
            return
        table = positional[0]
        if method == "add_index":
            self._index(table, positional[1:], options, line, extra)
            return
        if len(positional) < 2 or not isinstance(positional[1], str):
            self.not_understood.append(f"{method} at {relative}:{line}")
            return
        target = positional[1]
        column = options.get("column") or f"{singular(target.split('.')[-1])}_id"
        key = options.get("primary_key") or "id"
        columns = [str(c) for c in column] if isinstance(column, list) else [str(column)]
        keys = [str(k) for k in key] if isinstance(key, list) else [str(key)]
        known = tables.get(table)
        if known is not None and any(known.column(c) is None for c in columns):
            self.not_understood.append(
                f"add_foreign_key {table} -> {target} at {relative}:{line} (no column "
                f"{', '.join(columns)} in {table})"
            )
            return
        name = options.get("name")
        if not isinstance(name, str):
            name = f"fk_rails_{table.split('.')[-1]}_{'_'.join(columns)}"
        extra.after.append([(line, ddl.add_foreign_key(table, name, columns, target, keys))])

    def result(self) -> tuple[list[SchemaSql], list[str]]:
        notes = []
        if self.tables:
            count = len(self.tables)
            notes.append(
                f"{ORIGIN}: {count} table{'s' if count != 1 else ''} in "
                f"{len(self.schemas)} file{'s' if len(self.schemas) != 1 else ''}"
            )
        unknown = unknown_note(ORIGIN, self.tables)
        if unknown:
            notes.append(unknown)
        if self.not_understood:
            shown = ", ".join(self.not_understood[:5])
            more = len(self.not_understood) - 5
            notes.append(
                f"{ORIGIN}: {len(self.not_understood)} line"
                f"{'s' if len(self.not_understood) != 1 else ''} not understood: {shown}"
                + (f", and {more} more" if more > 0 else "")
            )
        return self.schemas, notes


def read_rails(
    files: list[tuple[Path, str]], relative: Callable[[Path], str]
) -> tuple[list[SchemaSql], list[str], list[Problem]]:
    reader = _Reader(relative)
    for path, text in files:
        reader.add_file(path, text)
    schemas, notes = reader.result()
    return schemas, notes, reader.problems
