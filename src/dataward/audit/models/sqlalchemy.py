"""SQLAlchemy models read from their syntax tree (never imported): the tables
`metadata.create_all()` would create on PostgreSQL.

Read: declarative classes with a literal `__tablename__` (and Flask-SQLAlchemy's
`db.Model` classes without one, named as Flask-SQLAlchemy 3 names them), `Column(...)`,
`mapped_column(...)` and bare `Mapped[...]` annotations; `Table("t", metadata, ...)`
assigned at module level or to `__table__`; mixins and `__abstract__` bases (in any file
read), single-table inheritance (a subclass without a table adds its columns to its
parent's); `__table_args__` with Index, UniqueConstraint, PrimaryKeyConstraint,
ForeignKeyConstraint and `{"schema": ...}`; module-level `Index(...)`; a
`type_annotation_map` on the declarative base; TypeDecorator classes with a literal `impl`.

As SQLAlchemy 2.0 does it: a Column is nullable unless it is a primary key or says
`nullable=False`; with `Mapped[...]` nullability follows Optional (`Mapped[str | None]`)
unless `nullable=` says otherwise; a single integer primary key without a foreign key is
SERIAL / BIGSERIAL (`Identity()` makes it an identity column); `Mapped[float]` is FLOAT
(double precision), `Mapped[datetime]` is DateTime() (timestamp without time zone);
`index=True` is CREATE INDEX ix_<table>_<column>; a column with a ForeignKey and no type
takes the referenced column's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw, ident, qname
from dataward.audit.formats.pgtypes import sqlalchemy_type
from dataward.audit.formats.pyast import UNKNOWN, dotted, last_name, value
from dataward.audit.models.tables import (
    UNDERLYING,
    UNKNOWN_TYPE,
    ModelTable,
    columns_sql,
    name_with_hash,
    schema_sql,
    unknown_note,
)
from dataward.audit.schema_sql import SchemaSql

ORIGIN = "SQLAlchemy models"
Problem = tuple[str, int, str]

_COLUMN_CALLS = {"Column", "mapped_column"}
_NOT_TYPES = {
    "ForeignKey", "Identity", "Sequence", "Computed", "CheckConstraint", "FetchedValue",
    "DefaultClause", "text",
}  # fmt: skip
_INTEGERS = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
# SQLAlchemy 2.0's default type_annotation_map, as PostgreSQL types.
_PYTHON_TYPES = {
    "int": "integer", "str": "varchar", "float": "double precision", "bool": "boolean",
    "datetime": "timestamp without time zone", "date": "date", "time": "time",
    "timedelta": "interval", "Decimal": "numeric", "UUID": "uuid", "bytes": "bytea",
}  # fmt: skip
_ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag"}
# Flask-SQLAlchemy 3's camel_to_snake_case.
_SNAKE = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


def looks_like_sqlalchemy(text: str) -> bool:
    return "sqlalchemy" in text


def imports_sqlalchemy(tree: ast.Module) -> tuple[bool, bool]:
    """(imports sqlalchemy or flask_sqlalchemy, imports flask_sqlalchemy)."""
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.append(node.module)
    roots = {m.split(".")[0] for m in modules}
    flask = "flask_sqlalchemy" in roots
    return "sqlalchemy" in roots or flask, flask


@dataclass
class _File:
    path: Path
    relative: str
    text: str
    tree: ast.Module
    flask: bool
    tables: list[ModelTable] = field(default_factory=list)
    extra: list[ModelTable] = field(default_factory=list)  # index-only pseudo tables


@dataclass
class _Class:
    name: str
    node: ast.ClassDef
    file: _File
    tablename: str | None = None
    table_call: ast.Call | None = None  # __table__ = Table(...)
    abstract: bool = False
    args: ast.expr | None = None  # __table_args__
    table: ModelTable | None = None
    attrs: dict[str, str] = field(default_factory=dict)  # attribute -> column name

    @property
    def bases(self) -> list[str]:
        return [last_name(b) for b in self.node.bases]


@dataclass
class _Pending:
    """A foreign key whose target (and maybe the column's type) is known only once every
    file is read."""

    file: _File
    table: ModelTable
    column: Column
    ref: tuple[str, str, str]  # (kind: table | class | var, name, column or attribute)
    needs_type: bool


class _Reader:
    def __init__(self, relative: Callable[[Path], str]) -> None:
        self.relative = relative
        self.files: list[_File] = []
        self.classes: dict[str, _Class] = {}
        self.table_vars: dict[str, ModelTable] = {}
        self.enums: set[str] = set()
        self.decorators: dict[str, ast.expr] = {}  # TypeDecorator class -> impl
        self.annotation_map: dict[str, ast.expr] = {}
        self.pending: list[_Pending] = []
        self.no_autoincrement: set[int] = set()  # id() of columns with autoincrement=False
        self.problems: list[Problem] = []
        self.not_understood: list[str] = []

    # ---- pass 1: what every file declares -------------------------------------------

    def add_file(self, path: Path, text: str) -> None:
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as exc:
            self.problems.append(
                (self.relative(path), exc.lineno or 1, f"Python does not parse: {exc.msg}")
            )
            return
        except ValueError as exc:  # null bytes
            self.problems.append((self.relative(path), 1, f"Python does not parse: {exc}"))
            return
        imports, flask = imports_sqlalchemy(tree)
        if not imports or _is_alembic_revision(tree):
            return
        file = _File(path, self.relative(path), text, tree, flask)
        self.files.append(file)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                self._declare_class(node, file)

    def _declare_class(self, node: ast.ClassDef, file: _File) -> None:
        bases = {last_name(b) for b in node.bases}
        if bases & _ENUM_BASES:
            self.enums.add(node.name)
            return
        found = _Class(node.name, node, file)
        for statement in node.body:
            target, _, assigned = _assignment(statement)
            if target == "__tablename__":
                name = value(assigned)
                found.tablename = name if isinstance(name, str) else None
                if not isinstance(name, str):
                    self.not_understood.append(
                        f"__tablename__ of {node.name} at {file.relative}:{statement.lineno}"
                    )
            elif target == "__table__" and _is_table_call(assigned):
                found.table_call = assigned  # type: ignore[assignment]
            elif target == "__abstract__":
                found.abstract = value(assigned) is True
            elif target == "__table_args__":
                found.args = assigned
            elif target == "impl" and "TypeDecorator" in bases and assigned is not None:
                self.decorators[node.name] = assigned
            elif target == "type_annotation_map" and isinstance(assigned, ast.Dict):
                for key, mapped in zip(assigned.keys, assigned.values, strict=True):
                    if key is not None:
                        self.annotation_map[last_name(key)] = mapped
        self.classes.setdefault(node.name, found)

    # ---- pass 2: the tables -----------------------------------------------------------

    def read(self) -> None:
        for file in self.files:
            for node in file.tree.body:
                target, _, assigned = _assignment(node)
                if target and _is_table_call(assigned):
                    table = self._table_call(assigned, file)  # type: ignore[arg-type]
                    if table is not None:
                        self.table_vars[target] = table
                        file.tables.append(table)
        for cls in self.classes.values():
            self._class_table(cls, set())
        for file in self.files:
            for node in file.tree.body:
                call = node.value if isinstance(node, ast.Expr | ast.Assign) else None
                if isinstance(call, ast.Call) and last_name(call.func) == "Index":
                    self._module_index(call, file)
        self._resolve()
        for file in self.files:
            for table in file.tables:
                _finish_keys(table, self.no_autoincrement)

    def _class_table(self, cls: _Class, seen: set[str]) -> ModelTable | None:
        """The table of a mapped class (created once), or None for a mixin."""
        if cls.table is not None or cls.name in seen:
            return cls.table
        seen.add(cls.name)
        parent = self._mapped_parent(cls, seen)
        file = cls.file
        if cls.table_call is not None:
            cls.table = self._table_call(cls.table_call, file)
            if cls.table is not None:
                file.tables.append(cls.table)
                cls.attrs = {c.name: c.name for c in cls.table.columns}
            return cls.table
        name = cls.tablename
        # Flask-SQLAlchemy 3 names a model's table after the class unless it inherits a
        # table and declares no primary key of its own (single-table inheritance).
        if (
            name is None
            and file.flask
            and not cls.abstract
            and self._flask_model(cls, set())
            and (parent is None or _declares_primary_key(cls.node))
        ):
            name = _SNAKE.sub(r"_\1", cls.name).lower().lstrip("_")
        if name is None or cls.abstract:
            if parent is not None and not cls.abstract:
                self._single_table_columns(cls, parent)
            return None
        schema = _schema_of(cls.args)
        table = ModelTable(f"{schema}.{name}" if schema else name, cls.node.lineno)
        cls.table = table
        file.tables.append(table)
        # Mixins and abstract bases first (on the class line), then the class's own.
        for base in self._mixins(cls, set()):
            self._body_columns(base, table, cls, at_line=cls.node.lineno)
        self._body_columns(cls, table, cls, at_line=None)
        self._table_args(cls, table)
        return table

    def _flask_model(self, cls: _Class, seen: set[str]) -> bool:
        """A subclass of Flask-SQLAlchemy's db.Model (through any known classes)."""
        seen.add(cls.name)
        for base in cls.node.bases:
            if isinstance(base, ast.Attribute) and base.attr == "Model":
                return True
            known = self.classes.get(last_name(base))
            if known is not None and known.name not in seen and self._flask_model(known, seen):
                return True
        return False

    def _mapped_parent(self, cls: _Class, seen: set[str]) -> ModelTable | None:
        for base in cls.bases:
            known = self.classes.get(base)
            if known is not None and known is not cls:
                table = self._class_table(known, seen)
                if table is not None:
                    return table
                parent = self._mapped_parent(known, seen)
                if parent is not None:
                    return parent
        return None

    def _mixins(self, cls: _Class, seen: set[str]) -> list[_Class]:
        """Bases that are no table of their own, in MRO-ish order (furthest first)."""
        found: list[_Class] = []
        for base in reversed(cls.bases):
            known = self.classes.get(base)
            if known is None or known.name in seen or known is cls:
                continue
            seen.add(known.name)
            if known.tablename is None and known.table_call is None:
                found += self._mixins(known, seen)
                found.append(known)
        return found

    def _single_table_columns(self, cls: _Class, parent: ModelTable) -> None:
        """A subclass without a table of its own: its columns are ALTER TABLE ADD COLUMNs
        on the parent's table (nullable: other classes' rows have none)."""
        holder = ModelTable(parent.name, cls.node.lineno, create=False)
        self._body_columns(cls, holder, cls, at_line=None)
        holder.after[:0] = [
            [(column.line, ddl.add_column(parent.name, column))] for column in holder.columns
        ]
        if parent not in cls.file.tables:  # the parent's table is in another file
            cls.file.extra.append(holder)
            return
        parent.after += holder.after
        parent.unknown += holder.unknown
        for pending in self.pending:
            if pending.table is holder:
                pending.table = parent

    def _body_columns(
        self, source: _Class, table: ModelTable, owner: _Class, at_line: int | None
    ) -> None:
        for statement in source.node.body:
            target, annotation, assigned = _assignment(statement)
            if not target or target.startswith("__"):
                continue
            line = at_line or statement.lineno
            self._attribute(target, annotation, assigned, line, table, owner, source.file)

    def _attribute(
        self,
        attr: str,
        annotation: ast.expr | None,
        assigned: ast.expr | None,
        line: int,
        table: ModelTable,
        owner: _Class,
        file: _File,
    ) -> None:
        mapped = _mapped_inner(annotation)
        call = assigned if isinstance(assigned, ast.Call) else None
        if call is not None and last_name(call.func) in ("deferred", "column_property"):
            inner = call.args[0] if call.args else None
            call = inner if isinstance(inner, ast.Call) else None
        if call is not None and last_name(call.func) not in _COLUMN_CALLS:
            return  # relationship(), synonym(), a plain class attribute
        if call is None and (mapped is None or assigned is not None):
            return
        if mapped is not None and call is None and _is_collection(mapped):
            return  # Mapped[list["Item"]] without relationship(): not a column either
        column = self._column(call, attr, mapped, line, table, owner, file)
        if column is not None:
            owner.attrs[attr] = column.name

    def _column(
        self,
        call: ast.Call | None,
        attr: str | None,
        mapped: ast.expr | None,
        line: int,
        table: ModelTable,
        owner: _Class | None,
        file: _File,
    ) -> Column | None:
        args = list(call.args) if call is not None else []
        keywords = {k.arg: k.value for k in call.keywords if k.arg} if call is not None else {}
        name = attr
        if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            name = args[0].value
            args = args[1:]
        if isinstance(value(keywords.get("name")), str):
            name = value(keywords["name"])
        if name is None:
            return None
        type_node = keywords.get("type_")
        foreign: list[ast.Call] = []
        identity = None
        for arg in args:
            short = last_name(arg)
            if isinstance(arg, ast.Call) and short == "ForeignKey":
                foreign.append(arg)
            elif short == "Identity":
                always = isinstance(arg, ast.Call) and _kw(arg, "always") is True
                identity = "ALWAYS" if always else "BY DEFAULT"
            elif short in _NOT_TYPES:
                continue
            elif type_node is None:
                type_node = arg
        optional = False
        declared = None
        sql_type: str | None = None
        if mapped is not None:
            inner, optional = _unwrap_optional(mapped)
            if type_node is None:
                sql_type, declared = self._annotation_type(inner)
        if type_node is not None:
            sql_type, declared = self._type(type_node)
        primary = _kw_value(keywords, "primary_key") is True
        nullable = _kw_value(keywords, "nullable")
        if isinstance(nullable, bool):
            not_null = not nullable
        elif mapped is not None:
            not_null = not optional
        else:
            not_null = False  # SQLAlchemy's default: nullable
        if nullable is UNKNOWN:
            not_null = True  # not a literal: no finding on a guess
        column = Column(
            name=name,
            type=sql_type or "",
            not_null=not_null or primary,
            primary_key=primary,
            unique=_kw_value(keywords, "unique") is True,
            identity=identity,
            line=line,
        )
        if _kw_value(keywords, "autoincrement") is False:
            self.no_autoincrement.add(id(column))
        needs_type = sql_type is None and declared is None
        if sql_type is None and not foreign:
            table.add_column(column, declared or "no type given")
        else:
            table.add_column(column)
        for key in foreign:
            ref = _foreign_ref(key)
            if ref is not None:
                self.pending.append(_Pending(file, table, column, ref, needs_type))
            elif needs_type:
                column.type = UNKNOWN_TYPE
                table.unknown.append((column.name, line, "ForeignKey to a target not understood"))
        if sql_type is None and declared is not None and foreign:
            column.type = UNKNOWN_TYPE
            table.unknown.append((column.name, line, declared))
        if _kw_value(keywords, "index") is True:
            unique = column.unique
            column.unique = False
            short = table.name.split(".")[-1]
            index = ddl.create_index(
                name_with_hash("ix", short, name, suffix="").rstrip("_"),
                table.name,
                [name],
                unique=unique,
            )
            table.index(line, index)
        return column

    def _type(self, node: ast.expr) -> tuple[str | None, str | None]:
        """(PostgreSQL type, None), or (None, the source's text) when not understood."""
        shown = ast.unparse(node)
        call = node if isinstance(node, ast.Call) else None
        func = call.func if call is not None else node
        name = last_name(func)
        if call is not None and name == "with_variant" and isinstance(func, ast.Attribute):
            return self._type(func.value)
        if name in self.decorators:
            return self._type(self.decorators[name])
        if name == "ARRAY" and call is not None and call.args:
            inner, _ = self._type(call.args[0])
            return (inner + "[]", None) if inner else (None, shown)
        args = [value(a) for a in call.args] if call is not None else []
        kwargs = {k.arg: value(k.value) for k in call.keywords if k.arg} if call else {}
        if name == "Enum" and call is not None:
            named = kwargs.get("name")
            if isinstance(named, str):
                return named, None
            first = call.args[0] if call.args else None
            if isinstance(first, ast.Name | ast.Attribute):
                return last_name(first).lower(), None
        if not name:
            return None, shown
        found = sqlalchemy_type(name, [a for a in args if a is not UNKNOWN], kwargs)
        return (found, None) if found else (None, shown)

    def _annotation_type(self, node: ast.expr) -> tuple[str | None, str | None]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None, node.value
        name = last_name(node) if isinstance(node, ast.Name | ast.Attribute) else ""
        shown = ast.unparse(node)
        if name in self.annotation_map:
            return self._type(self.annotation_map[name])
        if name in _PYTHON_TYPES:
            return _PYTHON_TYPES[name], None
        if name in self.enums:
            return name.lower(), None
        return None, shown

    def _table_call(self, call: ast.Call, file: _File) -> ModelTable | None:
        name = value(call.args[0]) if call.args else None
        if not isinstance(name, str):
            self.not_understood.append(f"Table() at {file.relative}:{call.lineno}")
            return None
        schema = _kw(call, "schema")
        table = ModelTable(f"{schema}.{name}" if isinstance(schema, str) else name, call.lineno)
        for element in call.args[1:]:
            if not isinstance(element, ast.Call):
                continue
            short = last_name(element.func)
            if short == "Column":
                self._column(element, None, None, element.lineno, table, None, file)
            else:
                self._constraint(element, table, {}, file)
        return table

    def _table_args(self, cls: _Class, table: ModelTable) -> None:
        args = cls.args
        if isinstance(args, ast.Tuple | ast.List):
            for element in args.elts:
                if isinstance(element, ast.Call):
                    self._constraint(element, table, cls.attrs, cls.file)

    def _constraint(
        self, call: ast.Call, table: ModelTable, attrs: dict[str, str], file: _File
    ) -> None:
        short = last_name(call.func)
        line = call.lineno
        if short == "Index":
            self._index(call, table, attrs, line)
        elif short in ("UniqueConstraint", "PrimaryKeyConstraint"):
            columns = [_column_name(a, attrs) for a in call.args]
            if not columns or None in columns:
                self.not_understood.append(f"{short} at {file.relative}:{line}")
                return
            named = _kw(call, "name")
            head = f"CONSTRAINT {ident(named)} " if isinstance(named, str) else ""
            kind = "UNIQUE" if short == "UniqueConstraint" else "PRIMARY KEY"
            table.constraints.append((line, f"{head}{kind} ({columns_sql(columns)})"))  # type: ignore[arg-type]
            if kind == "PRIMARY KEY":
                for column in table.columns:
                    if column.name in columns:
                        column.not_null = True
                        column.primary_key = False
        elif short == "ForeignKeyConstraint" and len(call.args) >= 2:
            local, remote = value(call.args[0]), value(call.args[1])
            if not (isinstance(local, list) and isinstance(remote, list)) or not all(
                isinstance(r, str) and "." in r for r in remote
            ):
                self.not_understood.append(f"ForeignKeyConstraint at {file.relative}:{line}")
                return
            target = remote[0].rsplit(".", 1)[0]
            cols = [r.rsplit(".", 1)[1] for r in remote]
            table.constraints.append(
                (
                    line,
                    f"FOREIGN KEY ({columns_sql(local)}) REFERENCES {qname(target)} "
                    f"({columns_sql(cols)})",
                )
            )

    def _index(self, call: ast.Call, table: ModelTable, attrs: dict[str, str], line: int) -> None:
        name = value(call.args[0]) if call.args else None
        keys: list[str | Raw] = []
        for arg in call.args[1:]:
            column = _column_name(arg, attrs)
            keys.append(column if column is not None else Raw("(NULL)"))
        if not keys:
            return
        short = table.name.split(".")[-1]
        if not isinstance(name, str):
            plain = [k for k in keys if not isinstance(k, Raw)]
            name = name_with_hash("ix", short, *plain[:1], suffix="").rstrip("_")
        using = _kw(call, "postgresql_using")
        table.index(
            line,
            ddl.create_index(
                name,
                table.name,
                keys,
                unique=_kw(call, "unique") is True,
                using=using if isinstance(using, str) else None,
            ),
        )

    def _module_index(self, call: ast.Call, file: _File) -> None:
        """Index("ix", Order.amount) / Index("ix", orders.c.amount) at module level."""
        owner: ModelTable | None = None
        attrs: dict[str, str] = {}
        for arg in call.args[1:]:
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                cls = self.classes.get(arg.value.id)
                if cls is not None and cls.table is not None:
                    owner, attrs = cls.table, cls.attrs
            elif (
                isinstance(arg, ast.Attribute)
                and isinstance(arg.value, ast.Attribute)
                and arg.value.attr == "c"
                and isinstance(arg.value.value, ast.Name)
            ):
                owner = self.table_vars.get(arg.value.value.id)
            if owner is not None:
                break
        if owner is None:
            self.not_understood.append(f"Index() at {file.relative}:{call.lineno}")
            return
        if owner in file.tables:
            self._index(call, owner, attrs, call.lineno)
            return
        holder = ModelTable(owner.name, call.lineno, create=False)  # another file's table
        self._index(call, holder, attrs, call.lineno)
        file.extra.append(holder)

    def _resolve(self) -> None:
        for pending in self.pending:
            kind, name, attr = pending.ref
            target: ModelTable | None = None
            column_name = attr
            if kind == "table":
                target = next((t for f in self.files for t in f.tables if t.name == name), None)
                table_name = name
            elif kind == "class":
                cls = self.classes.get(name)
                target = cls.table if cls is not None else None
                table_name = target.name if target is not None else name
                if cls is not None:
                    column_name = cls.attrs.get(attr, attr)
            else:
                target = self.table_vars.get(name)
                table_name = target.name if target is not None else name
            column = pending.column
            column.references = (table_name, column_name)
            if not pending.needs_type:
                continue
            referenced = target.column(column_name) if target is not None else None
            if referenced is not None and referenced.type and referenced.type != UNKNOWN_TYPE:
                column.type = UNDERLYING.get(referenced.type, referenced.type)
            else:
                column.type = UNKNOWN_TYPE
                pending.table.unknown.append(
                    (column.name, column.line, f"ForeignKey to {table_name}.{column_name}")
                )

    def result(self) -> tuple[list[SchemaSql], list[str]]:
        schemas = []
        for file in self.files:
            if not file.tables and not file.extra:
                continue
            schemas.append(
                schema_sql(
                    file.tables + file.extra, file.path, file.relative, ORIGIN, file.text, ("#",)
                )
            )
        notes = []
        tables = [(f.relative, t) for f in self.files for t in f.tables]
        if tables:
            notes.append(
                f"{ORIGIN}: {len(tables)} table{'s' if len(tables) != 1 else ''} in "
                f"{len(schemas)} file{'s' if len(schemas) != 1 else ''}"
            )
        unknown = unknown_note(
            ORIGIN, [(f.relative, t) for f in self.files for t in f.tables + f.extra]
        )
        if unknown:
            notes.append(unknown)
        if self.not_understood:
            shown = ", ".join(self.not_understood[:5])
            more = len(self.not_understood) - 5
            notes.append(
                f"{ORIGIN}: {len(self.not_understood)} declaration"
                f"{'s' if len(self.not_understood) != 1 else ''} not understood: {shown}"
                + (f", and {more} more" if more > 0 else "")
            )
        return schemas, notes


def _finish_keys(table: ModelTable, no_autoincrement: set[int]) -> None:
    """SQLAlchemy's primary key: one integer column without a foreign key becomes SERIAL
    (autoincrement="auto"); several become PRIMARY KEY (a, b) on the last one's line."""
    keyed = [c for c in table.columns if c.primary_key]
    if len(keyed) == 1:
        column = keyed[0]
        if (
            column.type in _INTEGERS
            and column.identity is None
            and column.references is None
            and id(column) not in no_autoincrement
        ):
            column.type = _INTEGERS[column.type]
    elif len(keyed) > 1:
        for column in keyed:
            column.primary_key = False
            column.not_null = True
        line = max(c.line for c in keyed)
        table.constraints.append((line, f"PRIMARY KEY ({columns_sql(c.name for c in keyed)})"))


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None, ast.expr | None]:
    """(target name, annotation, value) of `name = ...` / `name: T = ...`."""
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, None, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.annotation, statement.value
    return None, None, None


def _is_table_call(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Call)
        and last_name(node.func) == "Table"
        and bool(node.args)
        and any(isinstance(a, ast.Call) and last_name(a.func) == "Column" for a in node.args)
    )


def _is_alembic_revision(tree: ast.Module) -> bool:
    names = set()
    for node in tree.body:
        target, _, _ = _assignment(node)
        if target:
            names.add(target)
    return {"revision", "down_revision"} <= names


def _mapped_inner(annotation: ast.expr | None) -> ast.expr | None:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Mapped":
        return annotation.slice
    return None


def _unwrap_optional(node: ast.expr) -> tuple[ast.expr, bool]:
    """The type inside Optional[T] / T | None / Union[T, None], and whether it was."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return node, False
    if isinstance(node, ast.Subscript) and last_name(node.value) == "Optional":
        return node.slice, True
    if isinstance(node, ast.Subscript) and last_name(node.value) == "Union":
        members = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        rest = [m for m in members if not _is_none(m)]
        if len(rest) == 1:
            return rest[0], len(rest) < len(members)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        if _is_none(node.right):
            return _unwrap_optional(node.left)[0], True
        if _is_none(node.left):
            return _unwrap_optional(node.right)[0], True
    return node, False


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_collection(node: ast.expr) -> bool:
    inner, _ = _unwrap_optional(node)
    if isinstance(inner, ast.Subscript):
        return last_name(inner.value) in ("list", "List", "set", "Set", "WriteOnlyCollection")
    return False


def _declares_primary_key(node: ast.ClassDef) -> bool:
    for statement in node.body:
        _, _, assigned = _assignment(statement)
        if isinstance(assigned, ast.Call) and any(
            k.arg == "primary_key" and value(k.value) is True for k in assigned.keywords
        ):
            return True
    return False


def _schema_of(args: ast.expr | None) -> str | None:
    options = None
    if isinstance(args, ast.Dict):
        options = args
    elif (
        isinstance(args, ast.Tuple | ast.List) and args.elts and isinstance(args.elts[-1], ast.Dict)
    ):
        options = args.elts[-1]
    if options is None:
        return None
    found = value(options)
    schema = found.get("schema") if isinstance(found, dict) else None
    return schema if isinstance(schema, str) else None


def _kw(call: ast.Call, name: str) -> Any:
    for keyword in call.keywords:
        if keyword.arg == name:
            return value(keyword.value)
    return None


def _kw_value(keywords: dict[str, ast.expr], name: str) -> Any:
    return value(keywords[name]) if name in keywords else None


def _foreign_ref(call: ast.Call) -> tuple[str, str, str] | None:
    target = (
        call.args[0]
        if call.args
        else next((k.value for k in call.keywords if k.arg == "column"), None)
    )
    literal = value(target)
    if isinstance(literal, str) and "." in literal:
        table, column = literal.rsplit(".", 1)
        return ("table", table, column)
    if isinstance(target, ast.Attribute):
        base = target.value
        if isinstance(base, ast.Name):
            return ("class", base.id, target.attr)
        if (
            isinstance(base, ast.Attribute)
            and base.attr == "c"
            and isinstance(base.value, ast.Name)
        ):
            return ("var", base.value.id, target.attr)
    return None


def _column_name(node: ast.expr, attrs: dict[str, str]) -> str | None:
    literal = value(node)
    if isinstance(literal, str) and not isinstance(literal, Raw):
        return literal
    if isinstance(node, ast.Name):
        return attrs.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        return attrs.get(node.attr, node.attr) if dotted(node) else None
    return None


def read_sqlalchemy(
    files: list[tuple[Path, str]], relative: Callable[[Path], str]
) -> tuple[list[SchemaSql], list[str], list[Problem]]:
    """`files`: (path, text) of the Python files that mention sqlalchemy."""
    reader = _Reader(relative)
    for path, text in files:
        reader.add_file(path, text)
    reader.read()
    schemas, notes = reader.result()
    return schemas, notes, reader.problems
