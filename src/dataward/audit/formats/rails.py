"""Rails migrations (`db/migrate/NNNNNNNNNNNNNN_*.rb`) read without Ruby: ruby.py's tokens
and blocks, and the schema statements of ActiveRecord's DSL turned into the SQL its
PostgreSQL adapter runs, each on its own line.

`def change` is reversible: its down is what Rails runs to revert it, every command's
inverse in reverse order (pinned to the `def change` line), and a command Rails cannot
invert there (change_column, execute, remove_column without a type, drop_table without a
block, ...) leaves the migration without a down, which is what Rails raises on rollback.
`def up` / `def down` are read as written; a `down` that only raises
ActiveRecord::IrreversibleMigration is no down.

Rails defaults that decide findings: the primary key is `bigserial` (Rails 5.1+; serial
before); `datetime` / `t.timestamps` are `timestamp(6) without time zone` (Rails 7; the
timestamp-without-time-zone finding is right, since that is the column Rails makes);
`t.references` adds an index (and `foreign_key: true` a constraint); `add_index` without
`algorithm: :concurrently` is a plain CREATE INDEX; `disable_ddl_transaction!` is a
migration outside a transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw
from dataward.audit.formats.layout import Statements, ignore_comments, pinned, script
from dataward.audit.formats.model import MigrationFolder, Reading
from dataward.audit.formats.pgtypes import rails_type
from dataward.audit.formats.ruby import (
    Call,
    Interpolated,
    RubySyntaxError,
    Stmt,
    Unknown,
    as_call,
    parse,
    parse_tokens,
)
from dataward.migrate.files import Migration

_FILE = re.compile(r"^(?P<version>\d+)_(?P<name>\w+)\.rb$")
# Blocks that only wrap the schema statements inside them.
_TRANSPARENT = {
    "say_with_time", "safety_assured", "transaction", "with_lock_retries",
    "suppress_messages", "with_advisory_lock",
}  # fmt: skip
# Calls that change nothing in the database.
_SILENT = {"say", "puts", "print", "p", "reset_column_information", "require", "require_relative"}
_COLUMN_METHODS = {
    "string", "text", "integer", "bigint", "float", "decimal", "numeric", "datetime",
    "timestamp", "timestamptz", "time", "date", "binary", "boolean", "json", "jsonb",
    "uuid", "inet", "cidr", "macaddr", "hstore", "citext", "ltree", "tsvector", "money",
    "interval", "xml", "point", "line", "serial", "bigserial", "oid", "int4range",
    "int8range", "numrange", "daterange", "tsrange", "tstzrange", "bit", "bit_varying",
    "enum", "virtual", "char",
}  # fmt: skip


@dataclass
class _Table:
    """A create_table block being read."""

    name: str
    columns: list[Column] = field(default_factory=list)
    constraints: list[tuple[int, str]] = field(default_factory=list)
    after: list[tuple[int, str]] = field(default_factory=list)  # its indexes


def read_rails(folder: MigrationFolder, reading: Reading) -> list[Migration]:
    found = []
    for path in folder.files:
        match = _FILE.match(path.name)
        if match is None:
            continue
        migration = _read(path, match["version"], match["name"], reading)
        if migration is not None:
            found.append(migration)
    found.sort(key=lambda m: (int(m.version), m.name))
    return [_positioned(m, n) for n, m in enumerate(found, start=1)]


def _positioned(migration: Migration, position: int) -> Migration:
    return Migration(
        version=migration.version,
        name=migration.name,
        format=migration.format,
        up=migration.up,
        down=migration.down,
        transactional=migration.transactional,
        files=migration.files,
        position=position,
    )


def _read(path: Path, version: str, name: str, reading: Reading) -> Migration | None:
    text = reading.text(path)
    if text is None:
        return None
    try:
        statements, _ = parse(text)
    except RubySyntaxError as exc:
        reading.problem(path, exc.line, f"Ruby the audit cannot follow: {exc.message}")
        return None
    cls = _migration_class(statements)
    if cls is None:
        reading.not_understood("a file without an ActiveRecord::Migration class", path, 1)
        return None
    rails = _rails_version(cls)
    methods: dict[str, Stmt] = {}
    transactional = True
    for stmt in cls.block or []:
        if stmt.keyword == "def":
            methods[_def_name(stmt)] = stmt
        else:
            call = as_call(stmt)
            if call is not None and call.name == "disable_ddl_transaction!":
                transactional = False
    comments = ignore_comments(text.splitlines(), ["#"])
    reader = _Reader(path, reading, rails)
    if "change" in methods:
        method = methods["change"]
        up = Statements()
        reverse: list[Statements] = []
        reader.body(method.block or [], up, reverse)
        up_script, _ = script(up, path, method.line, _within(comments, method))
        down_script = None
        if not reader.irreversible:
            undo = Statements()
            for item in reversed(reverse):
                undo.extend(item)
            if not undo:
                undo.opaque.append(method.line)
            down_script = pinned(undo, path, method.line)
    elif "up" in methods:
        method = methods["up"]
        up = Statements()
        reader.body(method.block or [], up, None)
        up_script, _ = script(up, path, method.line, _within(comments, method))
        down_script = None
        down_method = methods.get("down")
        if down_method is not None and not _raises_irreversible(down_method):
            down = Statements()
            _Reader(path, reading, rails).body(down_method.block or [], down, None)
            down_script, _ = script(down, path, down_method.line, _within(comments, down_method))
    else:
        reading.not_understood("a migration without change or up", path, cls.line)
        return None
    return Migration(
        version=version,
        name=name,
        format="rails",
        up=up_script,
        down=down_script,
        transactional=transactional,
        files=(path,),
    )


def _migration_class(statements: list[Stmt]) -> Stmt | None:
    for stmt in statements:
        if stmt.keyword == "class" and any(t.value == "Migration" for t in stmt.tokens):
            return stmt
        if stmt.keyword == "module":
            inner = _migration_class(stmt.block or [])
            if inner is not None:
                return inner
    return None


def _rails_version(cls: Stmt) -> float:
    """ActiveRecord::Migration[7.1] → 7.1; the bare class (Rails 4) → 4.2."""
    tokens = cls.tokens
    for i, tok in enumerate(tokens):
        if tok.value == "[" and i + 1 < len(tokens) and tokens[i + 1].kind == "num":
            return float(tokens[i + 1].value)
    return 4.2


def _def_name(stmt: Stmt) -> str:
    names = [t.value for t in stmt.tokens[1:] if t.kind == "name"]
    if len(names) > 1 and names[0] == "self":
        return names[1]
    return names[0] if names else ""


def _raises_irreversible(method: Stmt) -> bool:
    return any(
        (call := as_call(s)) is not None
        and call.name == "raise"
        and any(t.value == "IrreversibleMigration" for t in s.tokens)
        for s in method.block or []
    )


def _within(comments: list[tuple[int, str]], method: Stmt) -> list[tuple[int, str]]:
    return [c for c in comments if method.line <= c[0] <= method.end_line]


def _pluralize(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def _singularize(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _index_name(table: str, columns: list[Any]) -> str:
    return f"index_{table.split('.')[-1]}_on_{'_and_'.join(str(c) for c in columns)}"


def _hashed(prefix: str, identifier: str) -> str:
    """Rails names foreign keys and checks fk_rails_<10 hex> / chk_rails_<10 hex>."""
    return f"{prefix}_{hashlib.sha256(identifier.encode()).hexdigest()[:10]}"


def _default(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Unknown):
        return "'?'"  # computed in Ruby: a constant once the migration runs
    return ddl.literal(value)


class _Reader:
    """The statements of one method, as SQL (and, for `change`, their inverses)."""

    def __init__(self, path: Path, reading: Reading, rails: float) -> None:
        self.path = path
        self.reading = reading
        self.rails = rails
        self.irreversible = False

    def body(self, stmts: list[Stmt], out: Statements, reverse: list[Statements] | None) -> None:
        for stmt in stmts:
            if stmt.keyword in ("if", "unless", "begin", "case", "while", "until", "for"):
                self.body(stmt.block or [], out, reverse)
                continue
            if stmt.keyword is not None:
                continue  # a helper method or class
            call = as_call(stmt)
            if call is None:
                self._unknown(_describe(stmt), stmt.line, out)
                continue
            self.command(call, stmt, out, reverse)

    def _unknown(self, what: str, line: int, out: Statements) -> None:
        self.reading.not_understood(what, self.path, line)
        out.opaque.append(line)

    def command(
        self, call: Call, stmt: Stmt, out: Statements, reverse: list[Statements] | None
    ) -> None:
        name = call.name
        receiver = call.receiver
        if name in _SILENT:
            return
        if name in _TRANSPARENT and not receiver:
            self.body(_block(stmt, call), out, reverse)
            return
        if name == "reversible" and not receiver:
            self._reversible(call, stmt, out, reverse)
            return
        if name == "up_only" and not receiver:
            self.body(_block(stmt, call), out, None)
            return
        if name == "execute" and receiver in ("", "connection", "ActiveRecord.Base.connection"):
            receiver = ""
        handler = getattr(self, f"_{name}", None) if not receiver else None
        if handler is None:
            self._unknown(".".join(call.path), call.line, out)
            if reverse is not None:
                reverse.append(Statements(opaque=[call.line]))
            return
        undo = handler(call, stmt, out)
        if reverse is None:
            return
        if undo is None:
            self.irreversible = True
            self.reading.cannot_reverse(f"{name} in change", self.path, call.line)
        else:
            reverse.append(undo)

    def _reversible(
        self, call: Call, stmt: Stmt, out: Statements, reverse: list[Statements] | None
    ) -> None:
        down = Statements()
        for inner in _block(stmt, call):
            direction = as_call(inner)
            if direction is None or direction.name not in ("up", "down"):
                self.body([inner], out, None)
                continue
            target = out if direction.name == "up" else down
            self.body(_block(inner, direction), target, None)
        if reverse is not None:
            reverse.append(down)

    # ---- columns

    def _column(self, name: Any, kind: Any, options: dict[str, Any], line: int) -> Column:
        kind = str(kind)
        found = rails_type(kind, options, self.rails)
        if found is None:
            self.reading.not_understood(f"column type :{kind}", self.path, line)
            found = ddl.ident(kind)
        column = Column(
            name=str(name),
            type=found,
            not_null=options.get("null") is False,
            primary_key=options.get("primary_key") is True,
            line=line,
        )
        if "default" in options and options["default"] is not None:
            column.default = _default(options["default"])
        if kind == "virtual" and isinstance(options.get("as"), str):
            virtual = rails_type(str(options.get("type", "string")), options, self.rails)
            column.type = virtual or "text"
            column.generated = str(options["as"])
        return column

    def _timestamps(
        self, options: dict[str, Any], line: int, *, default_null: bool
    ) -> list[Column]:
        settings = {"null": default_null, **options}
        return [self._column(n, "datetime", settings, line) for n in ("created_at", "updated_at")]

    def _reference(
        self, table: str, name: str, options: dict[str, Any], line: int
    ) -> tuple[list[Column], dict[str, Any] | None, tuple[str, str] | None, bool]:
        """A reference's columns, its index options (None: no index), the foreign key's
        (target, name) if it has one, and whether that key is NOT VALID."""
        kind = options.get("type", "bigint" if self.rails >= 5.1 else "integer")
        column = self._column(f"{name}_id", kind, {"null": options.get("null")}, line)
        columns = [column]
        keys = [f"{name}_id"]
        if options.get("polymorphic"):
            columns.insert(
                0, self._column(f"{name}_type", "string", {"null": options.get("null")}, line)
            )
            keys = [f"{name}_type", f"{name}_id"]
        index = options.get("index", self.rails >= 5.0)
        index_options: dict[str, Any] | None = None
        if index:
            index_options = dict(index) if isinstance(index, dict) else {}
            index_options.setdefault("columns", keys)
        foreign = options.get("foreign_key")
        key = None
        not_valid = False
        if foreign:
            details = foreign if isinstance(foreign, dict) else {}
            target = str(details.get("to_table") or _pluralize(name))
            key = (target, str(details.get("name") or _hashed("fk_rails", f"{table}_{name}_id_fk")))
            not_valid = details.get("validate") is False
        return columns, index_options, key, not_valid

    # ---- tables

    def _create_table(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = _table_block(self, call, stmt)
        if table is None:
            return None
        parts = ddl.create_table_parts(
            table.name,
            call.line,
            table.columns,
            table.constraints,
            if_not_exists=call.kwargs.get("if_not_exists") is True,
        )
        out.add_parts(parts)
        for line, sql in table.after:
            out.add(max(line, stmt.end_line), sql)
        undo = Statements()
        undo.add(call.line, ddl.drop_table(table.name))
        return undo

    def _create_join_table(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        first, second = str(call.args[0]), str(call.args[1])
        name = call.kwargs.get("table_name") or "_".join(sorted([first, second]))
        columns = [
            Column(f"{_singularize(t)}_id", "bigint", not_null=True, line=call.line)
            for t in (first, second)
        ]
        out.add_parts(ddl.create_table_parts(str(name), call.line, columns))
        undo = Statements()
        undo.add(call.line, ddl.drop_table(str(name)))
        return undo

    def _drop_join_table(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        first, second = str(call.args[0]), str(call.args[1])
        name = str(call.kwargs.get("table_name") or "_".join(sorted([first, second])))
        out.add(call.line, ddl.drop_table(name))
        return None

    def _drop_table(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        for name in call.args:
            out.add(
                call.line,
                ddl.drop_table(
                    str(name),
                    if_exists=call.kwargs.get("if_exists") is True,
                    cascade=call.kwargs.get("force") == "cascade",
                ),
            )
        if stmt.block is None:
            return None  # Rails cannot recreate a table whose columns it was not given
        table = _table_block(self, call, stmt)
        if table is None:
            return None
        undo = Statements()
        undo.add_parts(
            ddl.create_table_parts(table.name, call.line, table.columns, table.constraints)
        )
        for line, sql in table.after:
            undo.add(line, sql)
        return undo

    def _rename_table(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        old, new = str(call.args[0]), str(call.args[1])
        out.add(call.line, ddl.rename_table(old, new))
        undo = Statements()
        undo.add(call.line, ddl.rename_table(new, old))
        return undo

    def _change_table(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        variable = stmt.params[0] if stmt.params else "t"
        undo_all: list[Statements] = []
        reversible = True
        for inner in stmt.block or []:
            column = as_call(inner)
            if column is None or len(column.path) != 2 or column.path[0] != variable:
                self._unknown(_describe(inner), inner.line, out)
                continue
            undo = self._table_command(table, column, inner, out)
            if undo is None:
                reversible = False
            else:
                undo_all.append(undo)
        if not reversible:
            return None
        undo = Statements()
        for item in reversed(undo_all):
            undo.extend(item)
        return undo

    def _table_command(
        self, table: str, call: Call, stmt: Stmt, out: Statements
    ) -> Statements | None:
        """One `t.x` inside change_table: the same as the top-level command on `table`."""
        method = call.name
        with_table = Call(
            [method], [table, *call.args], call.kwargs, call.line, call.brace_block, call.arg_lines
        )
        simple = {
            "remove": "remove_columns",
            "rename": "rename_column",
            "index": "add_index",
            "remove_index": "remove_index",
            "references": "add_reference",
            "belongs_to": "add_reference",
            "remove_references": "remove_reference",
            "remove_belongs_to": "remove_reference",
            "timestamps": "add_timestamps",
            "remove_timestamps": "remove_timestamps",
            "change": "change_column",
            "change_default": "change_column_default",
            "change_null": "change_column_null",
            "check_constraint": "add_check_constraint",
            "remove_check_constraint": "remove_check_constraint",
            "foreign_key": "add_foreign_key",
            "remove_foreign_key": "remove_foreign_key",
            "column": "add_column",
        }
        if method in simple:
            with_table.path = [simple[method]]
            return getattr(self, f"_{simple[method]}")(with_table, stmt, out)
        if method in _COLUMN_METHODS:
            undo = Statements()
            for name in call.args:
                column = self._column(name, method, call.kwargs, call.line)
                out.add(call.line, ddl.add_column(table, column))
                undo.add(call.line, ddl.drop_column(table, column.name))
            return undo
        self._unknown(f"t.{method} in change_table", call.line, out)
        return Statements()

    # ---- columns of existing tables

    def _add_column(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 3:
            return None
        table, name, kind = str(call.args[0]), call.args[1], call.args[2]
        column = self._column(name, kind, call.kwargs, call.line)
        out.add(
            call.line,
            ddl.add_column(table, column, if_not_exists=call.kwargs.get("if_not_exists") is True),
        )
        undo = Statements()
        undo.add(call.line, ddl.drop_column(table, column.name))
        return undo

    def _remove_column(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table, name = str(call.args[0]), str(call.args[1])
        out.add(
            call.line, ddl.drop_column(table, name, if_exists=call.kwargs.get("if_exists") is True)
        )
        if len(call.args) < 3:
            return None  # without its type Rails cannot add it back
        undo = Statements()
        undo.add(
            call.line,
            ddl.add_column(table, self._column(name, call.args[2], call.kwargs, call.line)),
        )
        return undo

    def _remove_columns(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table = str(call.args[0])
        kind = call.kwargs.get("type")
        undo = Statements()
        for name in call.args[1:]:
            out.add(call.line, ddl.drop_column(table, str(name)))
            if kind is not None:
                undo.add(
                    call.line,
                    ddl.add_column(table, self._column(name, kind, call.kwargs, call.line)),
                )
        return undo if kind is not None else None

    def _change_column(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 3:
            return None
        table, name = str(call.args[0]), str(call.args[1])
        column = self._column(name, call.args[2], call.kwargs, call.line)
        using = call.kwargs.get("using")
        out.add(
            call.line,
            ddl.alter_type(table, name, column.type, using if isinstance(using, str) else None),
        )
        if "null" in call.kwargs:
            out.add(call.line, ddl.set_not_null(table, name, call.kwargs["null"] is False))
        if "default" in call.kwargs:
            out.add(call.line, ddl.set_default(table, name, column.default))
        return None  # Rails does not know the type to change it back to

    def _change_column_null(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 3:
            return None
        table, name, null = str(call.args[0]), str(call.args[1]), call.args[2]
        if null is False and len(call.args) > 3 and call.args[3] is not None:
            out.add(call.line, ddl.backfill_nulls(table, name, _default(call.args[3])))
        out.add(call.line, ddl.set_not_null(table, name, null is False))
        undo = Statements()
        undo.add(call.line, ddl.set_not_null(table, name, null is not False))
        return undo

    def _change_column_default(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table, name = str(call.args[0]), str(call.args[1])
        options = call.kwargs
        if "to" in options or "from" in options:
            new, old = options.get("to"), options.get("from")
            out.add(call.line, ddl.set_default(table, name, None if new is None else _default(new)))
            undo = Statements()
            undo.add(
                call.line, ddl.set_default(table, name, None if old is None else _default(old))
            )
            return undo
        new = call.args[2] if len(call.args) > 2 else None
        out.add(call.line, ddl.set_default(table, name, None if new is None else _default(new)))
        return None

    def _rename_column(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 3:
            return None
        table, old, new = str(call.args[0]), str(call.args[1]), str(call.args[2])
        out.add(call.line, ddl.rename_column(table, old, new))
        undo = Statements()
        undo.add(call.line, ddl.rename_column(table, new, old))
        return undo

    def _add_timestamps(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        undo = Statements()
        for column in self._timestamps(call.kwargs, call.line, default_null=False):
            out.add(call.line, ddl.add_column(table, column))
            undo.add(call.line, ddl.drop_column(table, column.name))
        return undo

    def _remove_timestamps(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        undo = Statements()
        for column in self._timestamps(call.kwargs, call.line, default_null=False):
            out.add(call.line, ddl.drop_column(table, column.name))
            undo.add(call.line, ddl.add_column(table, column))
        return undo

    # ---- references and keys

    def _add_reference(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table, name = str(call.args[0]), str(call.args[1])
        columns, index, key, not_valid = self._reference(table, name, call.kwargs, call.line)
        undo = Statements()
        for column in columns:
            out.add(call.line, ddl.add_column(table, column))
        if index is not None:
            keys = index.get("columns") or [c.name for c in columns]
            out.add(call.line, self._index_sql(table, keys, index))
        if key is not None:
            target, constraint = key
            out.add(
                call.line,
                ddl.add_foreign_key(
                    table, constraint, [f"{name}_id"], target, ["id"], not_valid=not_valid
                ),
            )
        for column in reversed(columns):
            undo.add(call.line, ddl.drop_column(table, column.name))
        return undo

    _add_belongs_to = _add_reference

    def _remove_reference(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table, name = str(call.args[0]), str(call.args[1])
        columns, index, key, _ = self._reference(table, name, call.kwargs, call.line)
        undo = Statements()
        for column in columns:
            out.add(call.line, ddl.drop_column(table, column.name))
            undo.add(call.line, ddl.add_column(table, column))
        if index is not None:
            undo.add(call.line, self._index_sql(table, index.get("columns") or [], index))
        if key is not None:
            undo.add(call.line, ddl.add_foreign_key(table, key[1], [f"{name}_id"], key[0], ["id"]))
        return undo

    _remove_belongs_to = _remove_reference

    def _add_foreign_key(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table, target = str(call.args[0]), str(call.args[1])
        options = call.kwargs
        column = str(options.get("column") or f"{_singularize(target.split('.')[-1])}_id")
        name = str(options.get("name") or _hashed("fk_rails", f"{table}_{column}_fk"))
        out.add(
            call.line,
            ddl.add_foreign_key(
                table,
                name,
                [column],
                target,
                [str(options.get("primary_key") or "id")],
                not_valid=options.get("validate") is False,
                deferrable=options.get("deferrable") in ("deferred", True),
            ),
        )
        undo = Statements()
        undo.add(call.line, ddl.drop_constraint(table, name))
        return undo

    def _remove_foreign_key(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        options = call.kwargs
        target = str(call.args[1]) if len(call.args) > 1 else options.get("to_table")
        column = options.get("column") or (
            f"{_singularize(str(target).split('.')[-1])}_id" if target else None
        )
        name = options.get("name") or (
            _hashed("fk_rails", f"{table}_{column}_fk") if column else None
        )
        if name is None:
            return None
        out.add(call.line, ddl.drop_constraint(table, str(name)))
        if target is None or column is None:
            return None
        undo = Statements()
        undo.add(
            call.line, ddl.add_foreign_key(table, str(name), [str(column)], str(target), ["id"])
        )
        return undo

    def _validate_foreign_key(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        options = call.kwargs
        target = call.args[1] if len(call.args) > 1 else None
        column = options.get("column") or (
            f"{_singularize(str(target).split('.')[-1])}_id" if target else None
        )
        name = options.get("name") or (
            _hashed("fk_rails", f"{table}_{column}_fk") if column else None
        )
        if name is None:
            return None
        out.add(call.line, ddl.validate_constraint(table, str(name)))
        return Statements()

    def _add_check_constraint(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2 or not isinstance(call.args[1], str):
            return None
        table, expression = str(call.args[0]), call.args[1]
        name = str(call.kwargs.get("name") or _hashed("chk_rails", f"{table}_{expression}"))
        out.add(
            call.line,
            ddl.add_check(table, name, expression, not_valid=call.kwargs.get("validate") is False),
        )
        undo = Statements()
        undo.add(call.line, ddl.drop_constraint(table, name))
        return undo

    def _remove_check_constraint(
        self, call: Call, stmt: Stmt, out: Statements
    ) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        expression = call.args[1] if len(call.args) > 1 else None
        name = call.kwargs.get("name") or (
            _hashed("chk_rails", f"{table}_{expression}") if isinstance(expression, str) else None
        )
        if name is None:
            return None
        out.add(call.line, ddl.drop_constraint(table, str(name)))
        if not isinstance(expression, str):
            return None
        undo = Statements()
        undo.add(call.line, ddl.add_check(table, str(name), expression))
        return undo

    def _validate_check_constraint(
        self, call: Call, stmt: Stmt, out: Statements
    ) -> Statements | None:
        if not call.args or not call.kwargs.get("name"):
            return None
        out.add(call.line, ddl.validate_constraint(str(call.args[0]), str(call.kwargs["name"])))
        return Statements()

    # ---- indexes

    def _index_sql(self, table: str, columns: Any, options: dict[str, Any]) -> str:
        keys: list[str | Raw] = []
        for column in columns if isinstance(columns, list) else [columns]:
            text = str(column)
            keys.append(Raw(text) if re.search(r"[(\s]", text) else text)
        name = str(
            options.get("name") or _index_name(table, [re.sub(r"\W+", "_", str(k)) for k in keys])
        )
        using = options.get("using")
        where = options.get("where")
        return ddl.create_index(
            name,
            table,
            keys,
            unique=options.get("unique") is True,
            concurrently=options.get("algorithm") == "concurrently",
            if_not_exists=options.get("if_not_exists") is True,
            using=str(using) if using else None,
            where=str(where) if isinstance(where, str) else None,
        )

    def _add_index(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2:
            return None
        table, columns = str(call.args[0]), call.args[1]
        out.add(call.line, self._index_sql(table, columns, call.kwargs))
        undo = Statements()
        undo.add(call.line, self._drop_index_sql(table, columns, call.kwargs))
        return undo

    def _drop_index_sql(self, table: str, columns: Any, options: dict[str, Any]) -> str:
        name = options.get("name")
        if not name:
            keys = columns if isinstance(columns, list) else [columns]
            name = _index_name(table, [re.sub(r"\W+", "_", str(k)) for k in keys])
        return ddl.drop_index(
            str(name),
            concurrently=options.get("algorithm") == "concurrently",
            if_exists=options.get("if_exists") is True,
        )

    def _remove_index(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        table = str(call.args[0])
        columns = call.args[1] if len(call.args) > 1 else call.kwargs.get("column")
        if columns is None and not call.kwargs.get("name"):
            return None
        out.add(call.line, self._drop_index_sql(table, columns, call.kwargs))
        if columns is None:
            return None  # by name only: Rails does not know what to index again
        undo = Statements()
        undo.add(call.line, self._index_sql(table, columns, call.kwargs))
        return undo

    def _rename_index(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 3:
            return None
        old, new = str(call.args[1]), str(call.args[2])
        out.add(call.line, ddl.rename_index(old, new))
        undo = Statements()
        undo.add(call.line, ddl.rename_index(new, old))
        return undo

    # ---- SQL and extensions

    def _execute(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        sql = call.args[0] if call.args else None
        if isinstance(sql, Interpolated) or not isinstance(sql, str):
            self._unknown("execute with SQL built at run time", call.line, out)
            return None
        line = call.arg_lines[0] if call.arg_lines else call.line
        out.literal(line, sql)
        return None  # Rails cannot invert arbitrary SQL

    def _enable_extension(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        out.add(call.line, ddl.create_extension(str(call.args[0])))
        undo = Statements()
        undo.add(call.line, ddl.drop_extension(str(call.args[0])))
        return undo

    def _disable_extension(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        out.add(call.line, ddl.drop_extension(str(call.args[0])))
        undo = Statements()
        undo.add(call.line, ddl.create_extension(str(call.args[0])))
        return undo

    def _create_enum(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if len(call.args) < 2 or not isinstance(call.args[1], list):
            return None
        name = str(call.args[0])
        labels = ", ".join(ddl.literal(str(v)) for v in call.args[1])
        out.add(call.line, f"CREATE TYPE {ddl.qname(name)} AS ENUM ({labels})")
        undo = Statements()
        undo.add(call.line, f"DROP TYPE {ddl.qname(name)}")
        return undo

    def _drop_enum(self, call: Call, stmt: Stmt, out: Statements) -> Statements | None:
        if not call.args:
            return None
        out.add(call.line, f"DROP TYPE IF EXISTS {ddl.qname(str(call.args[0]))}")
        return None


def _table_block(reader: _Reader, call: Call, stmt: Stmt) -> _Table | None:
    """create_table's columns, constraints and indexes, from its options and block."""
    name = str(call.args[0])
    options = call.kwargs
    table = _Table(name)
    key = options.get("id", True)
    primary = options.get("primary_key")
    if isinstance(primary, list):
        table.constraints.append(
            (call.line, f"PRIMARY KEY ({ddl.columns_list(map(str, primary))})")
        )
    elif key is not False:
        key_name = str(primary or "id")
        if key in ("uuid",):
            column = Column(
                key_name, "uuid", default="gen_random_uuid()", primary_key=True, line=call.line
            )
        elif key in ("integer", "serial"):
            column = Column(key_name, "serial", primary_key=True, line=call.line)
        elif key in ("bigint", "bigserial") or (key is True and reader.rails >= 5.1):
            column = Column(key_name, "bigserial", primary_key=True, line=call.line)
        elif key is True:
            column = Column(key_name, "serial", primary_key=True, line=call.line)
        else:
            found = rails_type(str(key), {}, reader.rails) or "bigserial"
            column = Column(key_name, found, primary_key=True, line=call.line)
        table.columns.append(column)
    variable = stmt.params[0] if stmt.params else "t"
    for inner in stmt.block or []:
        column_call = as_call(inner)
        if column_call is None or len(column_call.path) != 2 or column_call.path[0] != variable:
            reader._unknown(_describe(inner), inner.line, Statements())
            continue
        _table_element(reader, table, column_call)
    return table


def _table_element(reader: _Reader, table: _Table, call: Call) -> None:
    method, options, line = call.name, call.kwargs, call.line
    if method == "timestamps":
        table.columns += reader._timestamps(options, line, default_null=reader.rails < 5.0)
    elif method in ("references", "belongs_to"):
        for name in call.args:
            columns, index, key, _ = reader._reference(table.name, str(name), options, line)
            if key is not None:
                columns[-1].references = (key[0], "id")
            table.columns += columns
            if index is not None:
                keys = index.get("columns") or [c.name for c in columns]
                table.after.append((line, reader._index_sql(table.name, keys, index)))
    elif method == "index":
        if call.args:
            table.after.append((line, reader._index_sql(table.name, call.args[0], options)))
    elif method == "check_constraint":
        if call.args and isinstance(call.args[0], str):
            name = options.get("name") or _hashed("chk_rails", f"{table.name}_{call.args[0]}")
            table.constraints.append(
                (line, f"CONSTRAINT {ddl.ident(str(name))} CHECK ({call.args[0]})")
            )
    elif method == "column":
        if len(call.args) >= 2:
            table.columns.append(reader._column(call.args[0], call.args[1], options, line))
    elif method == "primary_key":
        if call.args:
            kind = call.args[1] if len(call.args) > 1 else "bigserial"
            column = reader._column(call.args[0], kind, options, line)
            column.primary_key = True
            table.columns.append(column)
    elif method in _COLUMN_METHODS:
        for name in call.args:
            table.columns.append(reader._column(name, method, options, line))
    else:
        reader.reading.not_understood(f"t.{method} in create_table", reader.path, line)


def _block(stmt: Stmt, call: Call) -> list[Stmt]:
    """The body of `name do ... end` or `name { ... }`."""
    if stmt.block is not None:
        return stmt.block
    if call.brace_block:
        try:
            return parse_tokens(call.brace_block)
        except RubySyntaxError:
            return []
    return []


def _describe(stmt: Stmt) -> str:
    names = [str(t.value) for t in stmt.tokens[:4] if t.kind in ("name", "op")]
    return "".join(names) or "a statement"
