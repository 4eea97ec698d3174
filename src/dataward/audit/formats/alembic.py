"""Alembic revisions read statically: each versions/*.py file's syntax tree, never run.

(`migrate lint` asks Alembic for the offline SQL, which runs the project's env.py; an
audit of a repository must not run its code, so that stays an opt-in of the audit.)

Order comes from `revision` / `down_revision`; `upgrade()` and `downgrade()` become the
up and the down, each `op.*` call the SQL Alembic's PostgreSQL dialect emits for it, on
the call's own line. Understood: create_table (sa.Column with its type, nullable,
primary_key, server_default, unique, index, sa.ForeignKey, sa.Identity, sa.Computed;
PrimaryKeyConstraint, ForeignKeyConstraint, UniqueConstraint, CheckConstraint),
drop_table, add_column, drop_column, alter_column (type_, nullable, server_default,
new_column_name, postgresql_using), create_index / drop_index (unique,
postgresql_concurrently, postgresql_where, postgresql_using, if_not_exists),
create_foreign_key, create_unique_constraint, create_check_constraint,
create_primary_key, drop_constraint, rename_table, execute("literal SQL"); the same
inside `with op.batch_alter_table(...) as batch_op:`; and `with
op.get_context().autocommit_block():`, whose statements run outside the transaction.
Anything else is counted as not understood.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw
from dataward.audit.formats.layout import Statements, ignore_comments, script
from dataward.audit.formats.model import MigrationFolder, Reading, chain_order
from dataward.audit.formats.pgtypes import sqlalchemy_type
from dataward.audit.formats.pyast import (
    UNKNOWN,
    call_args,
    does_nothing,
    dotted,
    last_name,
    literal_kwargs,
    module_function,
    module_value,
    value,
)
from dataward.migrate.files import Migration

_PARAMS = {
    "create_table": ["table_name"],
    "drop_table": ["table_name"],
    "add_column": ["table_name", "column"],
    "drop_column": ["table_name", "column_name"],
    "alter_column": ["table_name", "column_name"],
    "create_index": ["index_name", "table_name", "columns"],
    "drop_index": ["index_name", "table_name"],
    "create_foreign_key": [
        "constraint_name", "source_table", "referent_table", "local_cols", "remote_cols",
    ],
    "create_unique_constraint": ["constraint_name", "table_name", "columns"],
    "create_check_constraint": ["constraint_name", "table_name", "condition"],
    "create_primary_key": ["constraint_name", "table_name", "columns"],
    "drop_constraint": ["constraint_name", "table_name", "type_"],
    "rename_table": ["old_table_name", "new_table_name"],
    "execute": ["sqltext"],
}  # fmt: skip
# Inside batch_alter_table the table is the block's: the same operations, without it.
_TABLE_PARAM = {
    "create_foreign_key": "source_table",
    "drop_index": "table_name",
}
_HELPERS = {"f", "inline_literal", "get_context", "batch_alter_table"}
_INTEGERS = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}


@dataclass
class _Revision:
    path: Path
    revision: str
    parents: list[str]
    name: str
    tree: ast.Module
    lines: list[str]


def read_alembic_static(folder: MigrationFolder, reading: Reading) -> list[Migration]:
    revisions: list[_Revision] = []
    for path in sorted(folder.files):
        if path.suffix != ".py" or path.name == "env.py" or path.parent.name != "versions":
            continue
        found = _parse(path, reading)
        if found is not None:
            revisions.append(found)
    ordered = chain_order(revisions, lambda r: r.revision, lambda r: r.parents)
    migrations = []
    for position, revision in enumerate(ordered, start=1):
        migration = _migration(revision, position, reading)
        if migration is not None:
            migrations.append(migration)
    return migrations


def _parse(path: Path, reading: Reading) -> _Revision | None:
    text = reading.text(path)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        reading.problem(path, exc.lineno or 1, f"Python does not parse: {exc.msg}")
        return None
    except ValueError as exc:  # null bytes
        reading.problem(path, 1, f"Python does not parse: {exc}")
        return None
    revision = value(module_value(tree, "revision"))
    if not isinstance(revision, str):
        return None  # a helper module beside the revisions
    down = value(module_value(tree, "down_revision"))
    parents = [down] if isinstance(down, str) else [p for p in down or () if isinstance(p, str)]
    docstring = ast.get_docstring(tree) or ""
    message = docstring.strip().splitlines()[0] if docstring.strip() else ""
    stem = path.stem.removeprefix(revision).lstrip("_")
    name = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_") or stem or revision
    return _Revision(path, revision, parents, name, tree, text.splitlines())


def _migration(revision: _Revision, position: int, reading: Reading) -> Migration | None:
    upgrade = module_function(revision.tree, "upgrade")
    downgrade = module_function(revision.tree, "downgrade")
    if upgrade is None:
        reading.not_understood("a revision without upgrade()", revision.path, 1)
        return None
    if (
        len(revision.parents) > 1
        and does_nothing(upgrade.body)
        and (downgrade is None or does_nothing(downgrade.body))
    ):
        return None  # a merge point only moves alembic_version
    comments = ignore_comments(revision.lines, ["#"])
    up_sql = _Function(revision.path, reading).read(upgrade)
    up, transactional = script(up_sql, revision.path, upgrade.lineno, _within(comments, upgrade))
    down = None
    if downgrade is not None:
        down_sql = _Function(revision.path, reading).read(downgrade)
        down, _ = script(down_sql, revision.path, downgrade.lineno, _within(comments, downgrade))
    return Migration(
        version=revision.revision,
        name=revision.name,
        format="alembic",
        up=up,
        down=down,
        transactional=transactional,
        files=(revision.path,),
        position=position,
    )


def _within(comments: list[tuple[int, str]], function: ast.FunctionDef) -> list[tuple[int, str]]:
    end = function.end_lineno or function.lineno
    return [c for c in comments if function.lineno <= c[0] <= end]


@dataclass
class _SaColumn:
    column: Column
    index: bool  # index=True
    manual: bool  # autoincrement=False


def _serial(column: Column, *, manual: bool) -> None:
    """SQLAlchemy makes a single integer primary key SERIAL (autoincrement="auto") unless
    it has an Identity, a server default or autoincrement=False."""
    column.primary_key = True
    if column.identity or column.default is not None or manual:
        return
    column.type = _INTEGERS.get(column.type, column.type)


class _Function:
    """One of upgrade() / downgrade(), turned into the statements it runs."""

    def __init__(self, path: Path, reading: Reading) -> None:
        self.path = path
        self.reading = reading
        self.out = Statements()

    def read(self, function: ast.FunctionDef) -> Statements:
        self._body(function.body, {}, autocommit=False)
        return self.out

    def _body(self, body: list[ast.stmt], batch: dict[str, str], autocommit: bool) -> None:
        for statement in body:
            if isinstance(statement, ast.With):
                self._with(statement, batch, autocommit)
            elif isinstance(statement, ast.If | ast.For | ast.While):
                self._body(statement.body, batch, autocommit)
                self._body(statement.orelse, batch, autocommit)
            elif isinstance(statement, ast.Try):
                self._body(statement.body, batch, autocommit)
                for handler in statement.handlers:
                    self._body(handler.body, batch, autocommit)
                self._body(statement.orelse, batch, autocommit)
                self._body(statement.finalbody, batch, autocommit)
            elif isinstance(statement, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                continue
            else:
                for call in self._calls(statement, batch):
                    self._call(call, batch, autocommit)

    def _with(self, statement: ast.With, batch: dict[str, str], autocommit: bool) -> None:
        inner = dict(batch)
        for item in statement.items:
            expression = item.context_expr
            if not isinstance(expression, ast.Call):
                continue
            if last_name(expression.func) == "autocommit_block":
                autocommit = True
            elif last_name(expression.func) == "batch_alter_table":
                arguments = call_args(expression, ["table_name"])
                table = value(arguments.get("table_name"))
                schema = value(arguments.get("schema"))
                if isinstance(table, str) and isinstance(item.optional_vars, ast.Name):
                    inner[item.optional_vars.id] = _qualified(table, schema)
        self._body(statement.body, inner, autocommit)

    def _calls(self, statement: ast.stmt, batch: dict[str, str]) -> list[ast.Call]:
        calls = []
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            ours = isinstance(owner, ast.Name) and (owner.id == "op" or owner.id in batch)
            if ours and node.func.attr not in _HELPERS:
                calls.append(node)
        return sorted(calls, key=lambda c: (c.lineno, c.col_offset))

    def _call(self, call: ast.Call, batch: dict[str, str], autocommit: bool) -> None:
        assert isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
        owner, operation = call.func.value.id, call.func.attr
        params = _PARAMS.get(operation)
        if params is None:
            self.reading.not_understood(f"{owner}.{operation}", self.path, call.lineno)
            self.out.opaque.append(call.lineno)
            return
        table_param = _TABLE_PARAM.get(operation, "table_name")
        if owner in batch:
            params = [p for p in params if p != table_param]
        arguments = call_args(call, params)
        if owner in batch:
            arguments[table_param] = ast.Constant(batch[owner])
        handler = getattr(self, f"_{operation}")
        done = handler(call, arguments, autocommit)
        if done is False:
            self.reading.not_understood(
                f"{owner}.{operation} (arguments that are not literals)", self.path, call.lineno
            )
            self.out.opaque.append(call.lineno)

    # ---- the operations; each returns False when its arguments cannot be read

    def _table(self, arguments: dict[str, ast.expr], key: str = "table_name") -> str | None:
        table = value(arguments.get(key))
        if not isinstance(table, str):
            return None
        schema = value(arguments.get("schema"))
        return _qualified(table, schema)

    def _create_table(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table = self._table(arguments)
        if table is None:
            return False
        columns: list[Column] = []
        indexed: list[tuple[str, bool]] = []
        constraints: list[tuple[int, str]] = []
        primary: list[str] = []
        manual: set[str] = set()
        for element in call.args[1:]:
            if not isinstance(element, ast.Call):
                self.reading.not_understood("a create_table element", self.path, element.lineno)
                continue
            kind = last_name(element.func)
            if kind == "Column":
                read = self._column(element)
                if read is None:
                    continue
                column = read.column
                columns.append(column)
                if read.index:
                    indexed.append((column.name, column.unique))
                    column.unique = False
                if column.primary_key:
                    primary.append(column.name)
                if read.manual:
                    manual.add(column.name)
            elif kind == "PrimaryKeyConstraint":
                names = [v for v in (value(a) for a in element.args) if isinstance(v, str)]
                primary += [n for n in names if n not in primary]
                for column in columns:
                    column.primary_key = column.primary_key or column.name in names
            else:
                constraint = self._table_constraint(element, kind)
                if constraint is None:
                    self.reading.not_understood(
                        f"sa.{kind} in create_table", self.path, element.lineno
                    )
                    continue
                constraints.append((element.lineno, constraint))
        if len(primary) > 1:
            for column in columns:
                if column.name in primary:
                    column.primary_key, column.not_null = False, True
            constraints.insert(0, (call.lineno, f"PRIMARY KEY ({ddl.columns_list(primary)})"))
        elif len(primary) == 1:
            key = next((c for c in columns if c.name == primary[0]), None)
            if key is not None:
                _serial(key, manual=key.name in manual)
        parts = ddl.create_table_parts(table, call.lineno, columns, constraints)
        self.out.add_parts(parts, autocommit=autocommit)
        end = call.end_lineno or call.lineno
        for name, unique in indexed:
            index = f"ix_{table.split('.')[-1]}_{name}"
            self.out.add(
                end, ddl.create_index(index, table, [name], unique=unique), autocommit=autocommit
            )
        return True

    def _table_constraint(self, element: ast.Call, kind: str) -> str | None:
        kwargs = literal_kwargs(element)
        name = kwargs.get("name")
        named = f"CONSTRAINT {ddl.ident(name)} " if isinstance(name, str) else ""
        if kind == "UniqueConstraint":
            names = [v for v in (value(a) for a in element.args) if isinstance(v, str)]
            return f"{named}UNIQUE ({ddl.columns_list(names)})"
        if kind == "CheckConstraint":
            condition = value(element.args[0]) if element.args else None
            text = str(condition) if isinstance(condition, str) else "true"
            return f"{named}CHECK ({text})"
        if kind == "ForeignKeyConstraint":
            local = value(element.args[0]) if element.args else None
            remote = value(element.args[1]) if len(element.args) > 1 else None
            if not isinstance(local, list) or not isinstance(remote, list) or not remote:
                return None
            target, columns = _reference_target([str(r) for r in remote])
            text = (
                f"{named}FOREIGN KEY ({ddl.columns_list(str(c) for c in local)}) "
                f"REFERENCES {ddl.qname(target)} ({ddl.columns_list(columns)})"
            )
            return text + (" NOT VALID" if kwargs.get("postgresql_not_valid") is True else "")
        return None

    def _column(self, node: ast.Call) -> _SaColumn | None:
        if last_name(node.func) != "Column":
            self.reading.not_understood("a column that is not sa.Column", self.path, node.lineno)
            return None
        args = list(node.args)
        kwargs = {k.arg: k.value for k in node.keywords if k.arg is not None}
        name = value(args.pop(0)) if args and isinstance(value(args[0]), str) else None
        if name is None:
            name = value(kwargs.get("name"))
        if not isinstance(name, str):
            self.reading.not_understood("sa.Column without a literal name", self.path, node.lineno)
            return None
        type_node = kwargs.get("type_")
        if type_node is None and args and last_name(args[0]) not in _COLUMN_ARGS:
            type_node = args.pop(0)
        type_text = self._type(type_node, node.lineno) if type_node is not None else "text"
        flags = {k: value(v) for k, v in kwargs.items()}
        primary = flags.get("primary_key") is True
        nullable = flags.get("nullable", not primary)
        column = Column(
            name=name,
            type=type_text,
            not_null=nullable is False,
            primary_key=primary,
            unique=flags.get("unique") is True,
            line=node.lineno,
        )
        if "server_default" in kwargs:
            column.default = _server_default(flags["server_default"])
        for extra in args:
            kind = last_name(extra)
            if kind == "ForeignKey" and isinstance(extra, ast.Call) and extra.args:
                target = value(extra.args[0])
                if isinstance(target, str) and "." in target:
                    column.references = _reference_target([target])[0], target.rsplit(".", 1)[1]
            elif kind == "Identity":
                always = isinstance(extra, ast.Call) and literal_kwargs(extra).get("always") is True
                column.identity = "ALWAYS" if always else "BY DEFAULT"
            elif kind == "Computed" and isinstance(extra, ast.Call) and extra.args:
                expression = value(extra.args[0])
                column.generated = str(expression) if isinstance(expression, str) else "NULL"
        return _SaColumn(column, flags.get("index") is True, flags.get("autoincrement") is False)

    def _type(self, node: ast.expr, line: int) -> str:
        if isinstance(node, ast.Call) and last_name(node.func) == "with_variant":
            dialect = value(node.args[1]) if len(node.args) > 1 else None
            if dialect == "postgresql" and node.args:
                return self._type(node.args[0], line)
            assert isinstance(node.func, ast.Attribute)
            return self._type(node.func.value, line)
        name = last_name(node)
        if name.upper() == "ARRAY" and isinstance(node, ast.Call) and node.args:
            return self._type(node.args[0], line) + "[]"
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if isinstance(node, ast.Call):
            args = [value(a) for a in node.args]
            kwargs = literal_kwargs(node)
        found = sqlalchemy_type(name, args, kwargs)
        if found is not None:
            return found
        if name:
            self.reading.not_understood(f"column type {dotted(node) or name}", self.path, line)
            return ddl.ident(name.lower())
        return "text"

    def _add_column(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table = self._table(arguments)
        node = arguments.get("column")
        if table is None or not isinstance(node, ast.Call):
            return False
        read = self._column(node)
        if read is None:
            return True
        column, index = read.column, read.index
        references = column.references
        column.references = None  # Alembic adds the foreign key as its own statement
        line = call.lineno
        self.out.add(line, ddl.add_column(table, column), autocommit=autocommit)
        if references is not None:
            name = f"{table.split('.')[-1]}_{column.name}_fkey"
            self.out.add(
                line,
                ddl.add_foreign_key(table, name, [column.name], references[0], [references[1]]),
                autocommit=autocommit,
            )
        if index:
            self.out.add(
                line,
                ddl.create_index(f"ix_{table.split('.')[-1]}_{column.name}", table, [column.name]),
                autocommit=autocommit,
            )
        return True

    def _drop_column(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table, column = self._table(arguments), value(arguments.get("column_name"))
        if table is None or not isinstance(column, str):
            return False
        if_exists = value(arguments.get("if_exists")) is True
        self.out.add(
            call.lineno, ddl.drop_column(table, column, if_exists=if_exists), autocommit=autocommit
        )
        return True

    def _alter_column(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table, column = self._table(arguments), value(arguments.get("column_name"))
        if table is None or not isinstance(column, str):
            return False
        line = call.lineno
        if "type_" in arguments:
            using = value(arguments.get("postgresql_using"))
            new_type = self._type(arguments["type_"], line)
            self.out.add(
                line,
                ddl.alter_type(
                    table, column, new_type, str(using) if isinstance(using, str) else None
                ),
                autocommit=autocommit,
            )
        nullable = value(arguments.get("nullable"))
        if isinstance(nullable, bool):
            self.out.add(line, ddl.set_not_null(table, column, not nullable), autocommit=autocommit)
        if "server_default" in arguments:
            default = value(arguments["server_default"])
            if default is not False:
                rendered = None if default is None else _server_default(default)
                self.out.add(line, ddl.set_default(table, column, rendered), autocommit=autocommit)
        new_name = value(arguments.get("new_column_name"))
        if isinstance(new_name, str):
            self.out.add(line, ddl.rename_column(table, column, new_name), autocommit=autocommit)
        return True

    def _create_index(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table = self._table(arguments)
        columns = value(arguments.get("columns"))
        if table is None or columns is UNKNOWN:
            return False
        keys: list[str | Raw] = []
        for key in columns if isinstance(columns, list) else [columns]:
            if isinstance(key, Raw | str):
                keys.append(key)
            else:
                keys.append(Raw("(NULL)"))  # an expression built in Python
        name = value(arguments.get("index_name"))
        if not isinstance(name, str):
            name = f"ix_{table.split('.')[-1]}_{'_'.join(str(k) for k in keys)}"
        where = value(arguments.get("postgresql_where"))
        using = value(arguments.get("postgresql_using"))
        sql = ddl.create_index(
            name,
            table,
            keys,
            unique=value(arguments.get("unique")) is True,
            concurrently=value(arguments.get("postgresql_concurrently")) is True,
            if_not_exists=value(arguments.get("if_not_exists")) is True,
            using=using if isinstance(using, str) else None,
            where=str(where) if isinstance(where, str) else None,
        )
        self.out.add(call.lineno, sql, autocommit=autocommit)
        return True

    def _drop_index(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        name = value(arguments.get("index_name"))
        if not isinstance(name, str):
            return False
        schema = value(arguments.get("schema"))
        sql = ddl.drop_index(
            _qualified(name, schema),
            concurrently=value(arguments.get("postgresql_concurrently")) is True,
            if_exists=value(arguments.get("if_exists")) is True,
        )
        self.out.add(call.lineno, sql, autocommit=autocommit)
        return True

    def _create_foreign_key(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        source = value(arguments.get("source_table"))
        target = value(arguments.get("referent_table"))
        local, remote = value(arguments.get("local_cols")), value(arguments.get("remote_cols"))
        if not (isinstance(source, str) and isinstance(target, str)):
            return False
        if not (isinstance(local, list) and isinstance(remote, list)):
            return False
        name = value(arguments.get("constraint_name"))
        if not isinstance(name, str):
            name = f"{source}_{'_'.join(map(str, local))}_fkey"
        sql = ddl.add_foreign_key(
            _qualified(source, value(arguments.get("source_schema"))),
            name,
            [str(c) for c in local],
            _qualified(target, value(arguments.get("referent_schema"))),
            [str(c) for c in remote],
            not_valid=value(arguments.get("postgresql_not_valid")) is True,
            deferrable=value(arguments.get("deferrable")) is True,
        )
        self.out.add(call.lineno, sql, autocommit=autocommit)
        return True

    def _create_unique_constraint(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table, columns = self._table(arguments), value(arguments.get("columns"))
        if table is None or not isinstance(columns, list):
            return False
        name = value(arguments.get("constraint_name"))
        if not isinstance(name, str):
            name = f"{table.split('.')[-1]}_{'_'.join(map(str, columns))}_key"
        self.out.add(
            call.lineno,
            ddl.add_unique(table, name, [str(c) for c in columns]),
            autocommit=autocommit,
        )
        return True

    def _create_primary_key(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table, columns = self._table(arguments), value(arguments.get("columns"))
        if table is None or not isinstance(columns, list):
            return False
        name = value(arguments.get("constraint_name"))
        sql = ddl.add_primary_key(
            table, name if isinstance(name, str) else None, [str(c) for c in columns]
        )
        self.out.add(call.lineno, sql, autocommit=autocommit)
        return True

    def _create_check_constraint(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table = self._table(arguments)
        if table is None:
            return False
        condition = value(arguments.get("condition"))
        name = value(arguments.get("constraint_name"))
        if not isinstance(name, str):
            name = f"{table.split('.')[-1]}_check"
        if not isinstance(condition, str):
            self.reading.not_understood(
                "a check condition built in Python (linted as CHECK (true))", self.path, call.lineno
            )
            condition = "true"
        not_valid = value(arguments.get("postgresql_not_valid")) is True
        self.out.add(
            call.lineno,
            ddl.add_check(table, name, condition, not_valid=not_valid),
            autocommit=autocommit,
        )
        return True

    def _drop_constraint(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table, name = self._table(arguments), value(arguments.get("constraint_name"))
        if table is None or not isinstance(name, str):
            return False
        if_exists = value(arguments.get("if_exists")) is True
        self.out.add(
            call.lineno,
            ddl.drop_constraint(table, name, if_exists=if_exists),
            autocommit=autocommit,
        )
        return True

    def _rename_table(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        old = self._table(arguments, "old_table_name")
        new = value(arguments.get("new_table_name"))
        if old is None or not isinstance(new, str):
            return False
        self.out.add(call.lineno, ddl.rename_table(old, new), autocommit=autocommit)
        return True

    def _drop_table(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        table = self._table(arguments)
        if table is None:
            return False
        if_exists = value(arguments.get("if_exists")) is True
        self.out.add(call.lineno, ddl.drop_table(table, if_exists=if_exists), autocommit=autocommit)
        return True

    def _execute(self, call: ast.Call, arguments: dict, autocommit: bool) -> bool:
        node = arguments.get("sqltext")
        sql = value(node)
        if not isinstance(sql, str):
            return False
        # The SQL starts on the string's own line (op.execute(\n    """...""")).
        string = node.args[0] if isinstance(node, ast.Call) and node.args else node
        line = string.lineno if string is not None else call.lineno
        self.out.literal(line, str(sql), autocommit=autocommit)
        return True


_COLUMN_ARGS = {"ForeignKey", "Identity", "Computed", "Sequence", "FetchedValue", "DefaultClause"}


def _qualified(name: str, schema: Any) -> str:
    return f"{schema}.{name}" if isinstance(schema, str) and schema else name


def _reference_target(references: list[str]) -> tuple[str, list[str]]:
    """`["customers.id"]` (or `schema.table.column`) → ("customers", ["id"])."""
    table = references[0].rsplit(".", 1)[0] if "." in references[0] else references[0]
    return table, [r.rsplit(".", 1)[-1] for r in references]


def _server_default(default: Any) -> str:
    if default is UNKNOWN:
        return "'?'"  # a value computed in Python: a constant either way
    return ddl.literal(default)
