"""Laravel migrations (`database/migrations/*.php`) read without PHP: php.py's syntax tree,
and the schema builder's calls turned into the SQL Laravel's PostgreSQL grammar writes,
each on the line of the call.

`up()` and `down()` are read as written; a `down()` with nothing in it is an empty down.

Laravel defaults that decide findings: a column is NOT NULL unless `->nullable()`, so
`$table->string('c')` in `Schema::table` on an existing table is the NOT NULL column
without a default that fails on the first row; `id()` is `bigserial` primary key;
`timestamp` / `dateTime` are `timestamp(0) without time zone` (`timestampTz` has the zone);
`float` is double precision; `foreignId()->constrained()` adds a foreign key and, on
PostgreSQL, no index (so missing-foreign-key-index fires, rightly); `->change()` restates
the whole column, NOT NULL included unless `->nullable()` is repeated; a migration runs in
a transaction unless `$withinTransaction = false`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw
from dataward.audit.formats.layout import Statements, ignore_comments, script
from dataward.audit.formats.model import MigrationFolder, Reading
from dataward.audit.formats.pgtypes import LARAVEL_SERIALS, laravel_type
from dataward.audit.formats.php import (
    Block,
    CallExpr,
    ClassDecl,
    Closure,
    ExprStmt,
    Lit,
    Method,
    Name,
    Other,
    PhpSyntaxError,
    Property,
    Var,
    literal,
    parse,
)
from dataward.migrate.files import Migration

_FILE = re.compile(r"^(?P<version>\d{4}_\d{2}_\d{2}_\d{6})_(?P<name>\w+)\.php$")
# Schema:: calls that read, or switch checks off: nothing to lint.
_SCHEMA_SILENT = {
    "hasTable", "hasColumn", "hasColumns", "hasIndex", "getColumnListing", "getColumnType",
    "disableForeignKeyConstraints", "enableForeignKeyConstraints", "connection",
    "defaultStringLength", "getConnection", "getTables", "getColumns", "getIndexes",
}  # fmt: skip
_MODIFIERS_IGNORED = {
    "comment", "after", "first", "unsigned", "charset", "collation", "onDelete", "onUpdate",
    "cascadeOnDelete", "restrictOnDelete", "nullOnDelete", "noActionOnDelete",
    "cascadeOnUpdate", "restrictOnUpdate", "nullOnUpdate", "noActionOnUpdate", "invisible",
    "useCurrentOnUpdate", "autoIncrement", "from", "startingValue", "always", "lock",
    "isGeometry", "projection", "persisted", "instant", "deferrable", "initiallyImmediate",
}  # fmt: skip
_TABLE_SILENT = {"engine", "charset", "collation", "temporary", "comment", "innoDb"}


def read_laravel(folder: MigrationFolder, reading: Reading) -> list[Migration]:
    found = []
    for path in sorted(folder.files):
        if path.suffix != ".php":
            continue
        migration = _read(path, reading)
        if migration is not None:
            found.append(migration)
    ordered = sorted(found, key=lambda m: m.files[0].name)
    return [
        Migration(
            version=m.version,
            name=m.name,
            format="laravel",
            up=m.up,
            down=m.down,
            transactional=m.transactional,
            files=m.files,
            position=position,
        )
        for position, m in enumerate(ordered, start=1)
    ]


def _read(path: Path, reading: Reading) -> Migration | None:
    text = reading.text(path)
    if text is None:
        return None
    try:
        tree, _ = parse(text)
    except PhpSyntaxError as exc:
        reading.problem(path, exc.line, f"PHP the audit cannot follow: {exc.message}")
        return None
    cls = _migration_class(tree)
    if cls is None:
        reading.not_understood("a file without a Migration class", path, 1)
        return None
    match = _FILE.match(path.name)
    version, name = (match["version"], match["name"]) if match else (path.stem, path.stem)
    methods = {m.name: m for m in cls.members if isinstance(m, Method)}
    transactional = not any(
        isinstance(m, Property) and m.name == "withinTransaction" and literal(m.value) is False
        for m in cls.members
    )
    up_method = methods.get("up")
    if up_method is None:
        reading.not_understood("a migration without up()", path, cls.line)
        return None
    comments = ignore_comments(text.splitlines(), ["//", "#"])
    up = _Reader(path, reading).method(up_method)
    up_script, _ = script(up, path, up_method.line, _within(comments, up_method))
    down_script = None
    down_method = methods.get("down")
    if down_method is not None:
        down = _Reader(path, reading).method(down_method)
        down_script, _ = script(down, path, down_method.line, _within(comments, down_method))
    return Migration(
        version=version,
        name=name,
        format="laravel",
        up=up_script,
        down=down_script,
        transactional=transactional,
        files=(path,),
    )


def _migration_class(tree: list[Any]) -> ClassDecl | None:
    for node in tree:
        if isinstance(node, ExprStmt):
            node = node.expr
        if isinstance(node, ClassDecl) and node.extends.rsplit("\\", 1)[-1] == "Migration":
            return node
        if isinstance(node, Block):
            inner = _migration_class(node.body)
            if inner is not None:
                return inner
    return None


def _within(comments: list[tuple[int, str]], method: Method) -> list[tuple[int, str]]:
    return [c for c in comments if method.line <= c[0] <= method.end_line]


def _chain(node: Any) -> tuple[Any, list[CallExpr]]:
    """`$table->string('x')->nullable()` → (Var table, [string(...), nullable()])."""
    calls: list[CallExpr] = []
    while isinstance(node, CallExpr) and node.target is not None:
        calls.append(node)
        node = node.target
    return node, list(reversed(calls))


def _args(call: CallExpr, names: list[str]) -> dict[str, Any]:
    """Literal arguments by parameter name (positional in order, or PHP 8 named)."""
    found: dict[str, Any] = {}
    for position, (name, node) in enumerate(call.args):
        key = name if name is not None else (names[position] if position < len(names) else None)
        if key is not None:
            found[key] = literal(node)
    return found


def _plural(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _index_name(table: str, columns: list[str], kind: str) -> str:
    """Laravel's default: table_col1_col2_index / _unique / _primary / _foreign."""
    raw = f"{table.split('.')[-1]}_{'_'.join(columns)}_{kind}"
    return re.sub(r"[-.]", "_", raw).lower()


def _columns(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def _default(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, CallExpr) and value.name == "raw" and value.args:
        inner = literal(value.args[0][1])
        return str(inner) if isinstance(inner, str) else "'?'"  # DB::raw('now()')
    if isinstance(value, Lit | str | int | float | bool) or value is None:
        return ddl.literal(literal(value))
    return "'?'"  # computed in PHP: a constant once the migration runs


class _Reader:
    def __init__(self, path: Path, reading: Reading) -> None:
        self.path = path
        self.reading = reading
        self.out = Statements()

    def method(self, method: Method) -> Statements:
        self.statements(method.body)
        return self.out

    def statements(self, body: list[Any]) -> None:
        for node in body:
            if isinstance(node, Block):
                self.statements(node.body)
            elif isinstance(node, ExprStmt):
                self.expression(node.expr, node.line)

    def _unknown(self, what: str, line: int) -> None:
        self.reading.not_understood(what, self.path, line)
        self.out.opaque.append(line)

    def expression(self, node: Any, line: int) -> None:
        if isinstance(node, CallExpr):
            root, calls = _chain(node)
            if isinstance(root, Name) and root.name.rsplit("\\", 1)[-1] == "Schema":
                # Schema::connection('x')->create(...): the last call is the operation
                self.schema(calls[-1] if calls[-1].name not in _SCHEMA_SILENT else None, calls)
                return
            if isinstance(root, Name) and root.name.rsplit("\\", 1)[-1] == "DB":
                self.database(calls)
                return
            if root is None and node.name in ("dump", "info", "logger"):
                return
        closures = list(_closures(node))
        if closures:
            for closure in closures:  # DB::transaction(function () { Schema::... })
                self.statements(closure.body)
            return
        if isinstance(node, Var | Lit | Name) or node is None:
            return
        self._unknown(_describe(node), getattr(node, "line", line))

    def database(self, calls: list[CallExpr]) -> None:
        last = calls[-1]
        if last.name in ("statement", "unprepared") and last.args:
            sql = last.args[0][1]
            if isinstance(sql, Lit) and isinstance(sql.value, str) and not sql.interpolated:
                self.out.literal(sql.line, sql.value)
                return
            self._unknown(f"DB::{last.name} with SQL built at run time", last.line)
            return
        if last.name == "transaction":
            for _, argument in last.args:
                if isinstance(argument, Closure):
                    self.statements(argument.body)
            return
        self._unknown("DB::" + "->".join(c.name for c in calls), calls[0].line)

    def schema(self, call: CallExpr | None, calls: list[CallExpr]) -> None:
        if call is None:
            return
        name = call.name
        args = _args(call, ["table", "callback"])
        table = args.get("table")
        line = call.line
        if name in ("create", "table") and isinstance(table, str):
            closure = next((a for _, a in call.args if isinstance(a, Closure)), None)
            if closure is None:
                self._unknown(f"Schema::{name} without a closure", line)
                return
            variable = closure.params[0] if closure.params else "table"
            _Blueprint(self, table, variable, creating=name == "create").read(closure, line)
        elif name in ("drop", "dropIfExists") and isinstance(table, str):
            self.out.add(line, ddl.drop_table(table, if_exists=name == "dropIfExists"))
        elif name == "rename":
            renamed = _args(call, ["from", "to"])
            if isinstance(renamed.get("from"), str) and isinstance(renamed.get("to"), str):
                self.out.add(line, ddl.rename_table(renamed["from"], renamed["to"]))
            else:
                self._unknown("Schema::rename", line)
        elif name == "dropColumns" and isinstance(table, str):
            for column in _columns(_args(call, ["table", "columns"]).get("columns")):
                self.out.add(line, ddl.drop_column(table, column))
        elif name == "withoutForeignKeyConstraints":
            for _, argument in call.args:
                if isinstance(argument, Closure):
                    self.statements(argument.body)
        elif name in _SCHEMA_SILENT:
            return
        else:
            self._unknown(f"Schema::{name}", line)


class _Blueprint:
    """One Schema::create / Schema::table closure."""

    def __init__(self, reader: _Reader, table: str, variable: str, *, creating: bool) -> None:
        self.reader = reader
        self.table = table
        self.variable = variable
        self.creating = creating
        self.columns: list[Column] = []
        self.constraints: list[tuple[int, str]] = []
        self.after: list[tuple[int, str]] = []  # indexes and keys, after the CREATE

    @property
    def out(self) -> Statements:
        return self.reader.out

    def read(self, closure: Closure, line: int) -> None:
        for node in _flat(closure.body):
            if not isinstance(node, ExprStmt):
                continue
            root, calls = _chain(node.expr)
            if not (isinstance(root, Var) and root.name == self.variable and calls):
                if not isinstance(node.expr, Var | Lit):
                    self.reader._unknown(_describe(node.expr), node.line)
                continue
            self.element(calls)
        if self.creating:
            end = max([line] + [c.line for c in self.columns] + [ln for ln, _ in self.constraints])
            self.out.add_parts(
                ddl.create_table_parts(
                    self.table, line, self.columns, self.constraints, end_line=end
                )
            )
        for where, sql in self.after:
            self.out.add(where, sql)

    # ---- one `$table->...` statement

    def element(self, calls: list[CallExpr]) -> None:
        first = calls[0]
        method = first.name
        line = first.line
        modifiers = calls[1:]
        if method in _TABLE_SILENT:
            return
        command = getattr(self, f"_cmd_{_snake(method)}", None)
        if command is not None:
            command(first, modifiers)
            return
        kind_args = [literal(node) for _, node in first.args[1:]]
        named = {n: literal(v) for n, v in first.args if n is not None}
        if method == "decimal":
            total = named.get("total", kind_args[0] if kind_args else None)
            places = named.get("places", kind_args[1] if len(kind_args) > 1 else None)
            kind_args = [total, places]
        elif method == "string" and "length" in named:
            kind_args = [named["length"]]
        type_ = laravel_type(method, kind_args)
        column_name = literal(first.args[0][1]) if first.args else None
        if method in LARAVEL_SERIALS and column_name is None:
            column_name = "id"
        if type_ is None or not isinstance(column_name, str):
            self.reader._unknown(f"$table->{method}", line)
            return
        column = Column(column_name, type_, not_null=True, line=line)
        if method in LARAVEL_SERIALS:
            column.primary_key = True
        self.column(column, modifiers)

    def column(self, column: Column, modifiers: list[CallExpr]) -> None:
        line = column.line
        change = any(m.name == "change" for m in modifiers)
        index_kind: list[tuple[str, Any]] = []
        reference: dict[str, Any] = {}
        for modifier in modifiers:
            name = modifier.name
            args = [literal(a) for _, a in modifier.args]
            if name == "nullable":
                column.not_null = args[0] is False if args else False
            elif name == "default":
                column.default = _default(modifier.args[0][1]) if modifier.args else None
            elif name in ("useCurrent",):
                column.default = "CURRENT_TIMESTAMP"
            elif name in ("unique", "index", "primary", "fulltext", "fullText", "spatialIndex"):
                index_kind.append((name, args[0] if args else None))
            elif name == "constrained":
                found = _args(modifier, ["table", "column", "indexName"])
                reference["table"] = found.get("table")
                reference["column"] = found.get("column", "id")
                reference["constrained"] = True
            elif name == "references":
                reference["column"] = args[0] if args else "id"
            elif name == "on":
                reference["table"] = args[0] if args else None
            elif name == "storedAs" and args and isinstance(args[0], str):
                column.generated = args[0]
            elif name == "generatedAs":
                column.identity = "BY DEFAULT"
            elif name in ("change", "virtualAs") or name in _MODIFIERS_IGNORED:
                continue
            else:
                self.reader.reading.not_understood(f"->{name}()", self.reader.path, modifier.line)
        target = None
        if reference and (reference.get("table") or reference.get("constrained")):
            target = reference.get("table")
            if not isinstance(target, str):
                target = _plural(column.name.removesuffix("_id").removesuffix("_uuid"))
        key = str(reference.get("column") or "id")
        if change:
            self._change(column)
        elif self.creating:
            if target is not None:
                # In the CREATE TABLE, on the column's line (Laravel adds it right after).
                column.references = (target, key)
                target = None
            if any(kind == "unique" and name is None for kind, name in index_kind):
                column.unique = True
                index_kind = [(k, n) for k, n in index_kind if not (k == "unique" and n is None)]
            self.columns.append(column)
        else:
            self.out.add(line, ddl.add_column(self.table, column))
        for kind, name in index_kind:
            self._index_command(kind, [column.name], name, line)
        if target is not None:
            self._add_foreign_key(column.name, target, key, line)

    def _change(self, column: Column) -> None:
        """->change(): Laravel restates the column: its type, NULL or NOT NULL, default."""
        line, table, name = column.line, self.table, column.name
        self.out.add(line, ddl.alter_type(table, name, column.type))
        self.out.add(line, ddl.set_not_null(table, name, column.not_null))
        if column.default is not None:
            self.out.add(line, ddl.set_default(table, name, column.default))

    def _add_foreign_key(self, column: str, target: str, key: str, line: int) -> None:
        name = _index_name(self.table, [column], "foreign")
        self.after.append((line, ddl.add_foreign_key(self.table, name, [column], target, [key])))

    def _index_command(self, kind: str, columns: list[str], name: Any, line: int) -> None:
        label = {"unique": "unique", "primary": "primary"}.get(kind, "index")
        index = name if isinstance(name, str) else _index_name(self.table, columns, label)
        if kind == "primary":
            if self.creating:
                self.constraints.append((line, f"PRIMARY KEY ({ddl.columns_list(columns)})"))
            else:
                self.after.append((line, ddl.add_primary_key(self.table, index, columns)))
        elif kind == "unique":
            self.after.append((line, ddl.add_unique(self.table, index, columns)))
        else:
            using = {"fulltext": "gin", "fullText": "gin", "spatialIndex": "gist"}.get(kind)
            keys: list[str | Raw] = list(columns)
            if using == "gin":
                keys = [Raw(f"to_tsvector('english', {ddl.ident(c)})") for c in columns]
            self.after.append((line, ddl.create_index(index, self.table, keys, using=using)))

    def _add_columns(self, columns: list[Column]) -> None:
        for column in columns:
            if self.creating:
                self.columns.append(column)
            else:
                self.out.add(column.line, ddl.add_column(self.table, column))

    # ---- commands (the first call of a statement)

    def _cmd_index(self, call: CallExpr, modifiers: list[CallExpr], kind: str = "index") -> None:
        found = _args(call, ["columns", "name", "algorithm"])
        self._index_command(kind, _columns(found.get("columns")), found.get("name"), call.line)

    def _cmd_unique(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_index(call, modifiers, "unique")

    def _cmd_primary(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_index(call, modifiers, "primary")

    def _cmd_full_text(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_index(call, modifiers, "fullText")

    def _cmd_spatial_index(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_index(call, modifiers, "spatialIndex")

    def _cmd_raw_index(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["expression", "name"])
        if isinstance(found.get("expression"), str) and isinstance(found.get("name"), str):
            sql = ddl.create_index(found["name"], self.table, [Raw(found["expression"])])
            self.after.append((call.line, sql))
        else:
            self.reader._unknown("$table->rawIndex", call.line)

    def _cmd_foreign(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["columns", "name"])
        columns = _columns(found.get("columns"))
        target, key = None, "id"
        for modifier in modifiers:
            args = [literal(a) for _, a in modifier.args]
            if modifier.name == "references" and args:
                key = str(args[0]) if not isinstance(args[0], list) else str(args[0][0])
            elif modifier.name == "on" and args:
                target = args[0]
        if not columns or not isinstance(target, str):
            self.reader._unknown("$table->foreign", call.line)
            return
        name = found.get("name")
        name = name if isinstance(name, str) else _index_name(self.table, columns, "foreign")
        if self.creating:
            self.constraints.append(
                (
                    call.line,
                    f"CONSTRAINT {ddl.ident(name)} FOREIGN KEY ({ddl.columns_list(columns)}) "
                    f"REFERENCES {ddl.qname(target)} ({ddl.ident(key)})",
                )
            )
            return
        self.after.append(
            (call.line, ddl.add_foreign_key(self.table, name, columns, target, [key]))
        )

    def _cmd_foreign_id_for(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["model", "column"])
        model = found.get("model")
        if not isinstance(model, str):
            self.reader._unknown("$table->foreignIdFor", call.line)
            return
        column = found.get("column")
        column = column if isinstance(column, str) else f"{_snake(model)}_id"
        made = Column(column, "bigint", not_null=True, line=call.line)
        constrained = [m for m in modifiers if m.name == "constrained"]
        if constrained and not _args(constrained[0], ["table"]).get("table"):
            # the model's table: the class name, snake_case and plural
            target = _plural(_snake(model))
            rest = [m for m in modifiers if m.name != "constrained"]
            self.column(made, rest)
            self._add_foreign_key(column, target, "id", call.line)
            return
        self.column(made, modifiers)

    def _cmd_timestamps(self, call: CallExpr, modifiers: list[CallExpr], tz: bool = False) -> None:
        precision = _args(call, ["precision"]).get("precision", 0)
        kind = "timestampTz" if tz else "timestamp"
        self._add_columns(
            [Column(n, laravel_type(kind, [precision]) or "timestamp", line=call.line)
             for n in ("created_at", "updated_at")]
        )  # fmt: skip

    def _cmd_nullable_timestamps(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_timestamps(call, modifiers)

    def _cmd_timestamps_tz(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_timestamps(call, modifiers, tz=True)

    def _cmd_soft_deletes(
        self, call: CallExpr, modifiers: list[CallExpr], tz: bool = False
    ) -> None:
        found = _args(call, ["column", "precision"])
        name = found.get("column", "deleted_at")
        kind = "timestampTz" if tz else "timestamp"
        self._add_columns(
            [
                Column(
                    str(name),
                    laravel_type(kind, [found.get("precision", 0)]) or "timestamp",
                    line=call.line,
                )
            ]
        )

    def _cmd_soft_deletes_tz(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._cmd_soft_deletes(call, modifiers, tz=True)

    def _cmd_remember_token(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._add_columns([Column("remember_token", "varchar(100)", line=call.line)])

    def _morphs(
        self,
        call: CallExpr,
        modifiers: list[CallExpr],
        *,
        nullable: bool = False,
        key: str = "bigint",
    ) -> None:
        found = _args(call, ["name", "indexName"])
        name = found.get("name")
        if not isinstance(name, str):
            self.reader._unknown("$table->morphs", call.line)
            return
        columns = [
            Column(f"{name}_type", "varchar(255)", not_null=not nullable, line=call.line),
            Column(f"{name}_id", key, not_null=not nullable, line=call.line),
        ]
        self._add_columns(columns)
        index = found.get("indexName")
        self._index_command("index", [c.name for c in columns], index, call.line)

    def _cmd_morphs(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._morphs(call, modifiers)

    def _cmd_nullable_morphs(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._morphs(call, modifiers, nullable=True)

    def _cmd_uuid_morphs(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._morphs(call, modifiers, key="uuid")

    def _cmd_nullable_uuid_morphs(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._morphs(call, modifiers, nullable=True, key="uuid")

    def _cmd_drop_column(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        names: list[str] = []
        for _, node in call.args:
            names += _columns(literal(node))
        for name in names:
            self.out.add(call.line, ddl.drop_column(self.table, name))

    _cmd_drop_columns = _cmd_drop_column

    def _cmd_rename_column(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["from", "to"])
        if isinstance(found.get("from"), str) and isinstance(found.get("to"), str):
            self.out.add(call.line, ddl.rename_column(self.table, found["from"], found["to"]))
        else:
            self.reader._unknown("$table->renameColumn", call.line)

    def _cmd_rename(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["to"])
        if isinstance(found.get("to"), str):
            self.out.add(call.line, ddl.rename_table(self.table, found["to"]))
        else:
            self.reader._unknown("$table->rename", call.line)

    def _cmd_rename_index(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["from", "to"])
        if isinstance(found.get("from"), str) and isinstance(found.get("to"), str):
            self.out.add(call.line, ddl.rename_index(found["from"], found["to"]))
        else:
            self.reader._unknown("$table->renameIndex", call.line)

    def _drop_named(self, call: CallExpr, kind: str) -> str | None:
        found = _args(call, ["index"])
        index = found.get("index")
        if isinstance(index, list):
            return _index_name(self.table, _columns(index), kind)
        return index if isinstance(index, str) else None

    def _cmd_drop_index(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        name = self._drop_named(call, "index")
        if name is None:
            self.reader._unknown("$table->dropIndex", call.line)
            return
        self.out.add(call.line, ddl.drop_index(name))

    _cmd_drop_full_text = _cmd_drop_index
    _cmd_drop_spatial_index = _cmd_drop_index

    def _cmd_drop_unique(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._drop_constraint(call, "unique")

    def _cmd_drop_foreign(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self._drop_constraint(call, "foreign")

    def _cmd_drop_primary(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        found = _args(call, ["index"])
        name = found.get("index")
        self.out.add(
            call.line,
            ddl.drop_constraint(
                self.table, name if isinstance(name, str) else f"{self.table}_pkey"
            ),
        )

    def _drop_constraint(self, call: CallExpr, kind: str) -> None:
        name = self._drop_named(call, kind)
        if name is None:
            self.reader._unknown(f"$table->drop{kind.title()}", call.line)
            return
        self.out.add(call.line, ddl.drop_constraint(self.table, name))

    def _cmd_drop_constrained_foreign_id(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        column = _args(call, ["column"]).get("column")
        if not isinstance(column, str):
            self.reader._unknown("$table->dropConstrainedForeignId", call.line)
            return
        self.out.add(
            call.line, ddl.drop_constraint(self.table, _index_name(self.table, [column], "foreign"))
        )
        self.out.add(call.line, ddl.drop_column(self.table, column))

    def _cmd_drop_timestamps(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        for name in ("created_at", "updated_at"):
            self.out.add(call.line, ddl.drop_column(self.table, name))

    _cmd_drop_timestamps_tz = _cmd_drop_timestamps

    def _cmd_drop_soft_deletes(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        column = _args(call, ["column"]).get("column", "deleted_at")
        self.out.add(call.line, ddl.drop_column(self.table, str(column)))

    _cmd_drop_soft_deletes_tz = _cmd_drop_soft_deletes

    def _cmd_drop_remember_token(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self.out.add(call.line, ddl.drop_column(self.table, "remember_token"))

    def _cmd_drop_morphs(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        name = _args(call, ["name"]).get("name")
        if isinstance(name, str):
            for column in (f"{name}_type", f"{name}_id"):
                self.out.add(call.line, ddl.drop_column(self.table, column))

    def _cmd_drop_if_exists(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self.out.add(call.line, ddl.drop_table(self.table, if_exists=True))

    def _cmd_drop(self, call: CallExpr, modifiers: list[CallExpr]) -> None:
        self.out.add(call.line, ddl.drop_table(self.table))


def _flat(body: list[Any]) -> list[Any]:
    found = []
    for node in body:
        if isinstance(node, Block):
            found += _flat(node.body)
        else:
            found.append(node)
    return found


def _closures(node: Any) -> list[Closure]:
    """Closures passed anywhere inside an expression."""
    found: list[Closure] = []
    if isinstance(node, Closure):
        return [node]
    if isinstance(node, CallExpr):
        if node.target is not None:
            found += _closures(node.target)
        for _, argument in node.args:
            found += _closures(argument)
    elif isinstance(node, Other):
        for part in node.parts:
            found += _closures(part)
    return found


def _describe(node: Any) -> str:
    if isinstance(node, CallExpr):
        root, calls = _chain(node)
        base = (
            root.name
            if isinstance(root, Name)
            else (f"${root.name}" if isinstance(root, Var) else "")
        )
        joiner = "::" if calls and calls[0].static else "->"
        return base + joiner + "->".join(c.name for c in calls) if base else node.name
    return "a statement"
