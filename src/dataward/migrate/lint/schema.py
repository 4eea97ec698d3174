"""What the migrations so far show of the schema: tables, their columns and types,
constraints (valid or NOT VALID) and indexes.

Rules ask it what a statement cannot say alone: the current type of a column being
altered, whether a validated CHECK already proves a column NOT NULL, which indexes a table
has. It is built by applying statements in order; a table it has never seen is simply
unknown (it may exist, created outside these migrations), never an error. An `audit` can
fill the same model from a live catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from dataward.migrate.lint.nodes import (
    commands,
    dotted,
    index_columns,
    is_not_null,
    not_null_columns,
    strings,
    table_name,
)
from dataward.migrate.lint.sqltypes import SqlType, sql_type

_KINDS = {
    ConstrType.CONSTR_PRIMARY: "primary",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_FOREIGN: "foreign",
    ConstrType.CONSTR_EXCLUSION: "exclusion",
}
_SUFFIX = {"primary": "pkey", "unique": "key", "check": "check", "foreign": "fkey"}


@dataclass
class Column:
    name: str
    type: SqlType | None
    not_null: bool = False


@dataclass
class Constraint:
    name: str
    kind: str  # primary | unique | check | foreign | exclusion
    columns: tuple[str, ...] = ()
    valid: bool = True
    proves_not_null: frozenset[str] = frozenset()  # a CHECK's `col IS NOT NULL`
    references: str | None = None


@dataclass
class Index:
    name: str
    table: str
    columns: tuple[str | None, ...]  # None: an expression
    unique: bool = False


@dataclass
class Table:
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)

    def copy(self) -> Table:
        return Table(
            self.name,
            {name: replace(column) for name, column in self.columns.items()},
            {name: replace(c) for name, c in self.constraints.items()},
        )

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints.values() if c.kind == "primary"), None)

    def proven_not_null(self, column: str) -> bool:
        """NOT NULL already, or a validated CHECK says so (SET NOT NULL then skips its scan)."""
        known = self.columns.get(column)
        if known is not None and known.not_null:
            return True
        return any(
            c.kind == "check" and c.valid and column in c.proves_not_null
            for c in self.constraints.values()
        )


@dataclass
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    # Index objects are never changed in place (replaced instead), so they can be shared.
    indexes: dict[str, Index] = field(default_factory=dict)
    # Tables whose objects another Schema holds too (see copy).
    _borrowed: set[str] = field(default_factory=set, repr=False, compare=False)

    def copy(self) -> Schema:
        """An independent schema, at once: tables are shared until either side changes
        one (copy on write). A down is judged on a copy of what its up left, one per
        migration, so a full copy each time made long histories quadratic."""
        shared = set(self.tables)
        self._borrowed |= shared
        return Schema(dict(self.tables), dict(self.indexes), set(shared))

    def _writable(self, name: str) -> Table | None:
        """The table `name`, owned by this schema before it is changed."""
        if name in self._borrowed:
            self._borrowed.discard(name)
            if name in self.tables:
                self.tables[name] = self.tables[name].copy()
        return self.tables.get(name)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def indexes_on(self, table: str) -> list[Index]:
        return [i for i in self.indexes.values() if i.table == table]

    def column_type(self, table: str, column: str) -> SqlType | None:
        found = self.tables.get(table)
        known = found.columns.get(column) if found else None
        return known.type if known else None

    def apply(self, node: ast.Node) -> None:
        """Change the model as PostgreSQL would run `node`; anything else is left alone."""
        if isinstance(node, ast.CreateStmt):
            self._create(node)
        elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
            name = table_name(node.into.rel)
            self.tables[name] = Table(name)
            self._borrowed.discard(name)
        elif isinstance(node, ast.AlterTableStmt):
            name = table_name(node.relation)
            table = self._writable(name) or self.tables.setdefault(name, Table(name))
            for cmd in commands(node):
                self._alter(table, cmd)
        elif isinstance(node, ast.IndexStmt):
            self._index(node)
        elif isinstance(node, ast.DropStmt):
            self._drop(node)
        elif isinstance(node, ast.RenameStmt):
            self._rename(node)

    def _create(self, node: ast.CreateStmt) -> None:
        name = table_name(node.relation)
        table = Table(name)
        self.tables[name] = table
        self._borrowed.discard(name)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                self._add_column(table, element)
            elif isinstance(element, ast.Constraint):
                self._add_constraint(table, element, strings(element.keys))

    def _add_column(self, table: Table, column: ast.ColumnDef) -> None:
        table.columns[column.colname] = Column(
            column.colname, sql_type(column.typeName), is_not_null(column)
        )
        for constraint in column.constraints or ():
            if constraint.contype in _KINDS:
                self._add_constraint(table, constraint, (column.colname,))

    def _add_constraint(self, table: Table, node: ast.Constraint, columns: tuple[str, ...]) -> None:
        """`columns`: the constraint's own (a table constraint) or its column's."""
        kind = _KINDS.get(node.contype)
        if kind is None:
            return
        cols = (strings(node.fk_attrs) if kind == "foreign" else ()) or columns
        name = (
            node.conname or f"{table.name}_{'_'.join(cols) or 'expr'}_{_SUFFIX.get(kind, 'excl')}"
        )
        if kind == "primary" and not node.conname:
            name = f"{table.name}_pkey"
        table.constraints[name] = Constraint(
            name=name,
            kind=kind,
            columns=cols,
            valid=not node.skip_validation,
            proves_not_null=not_null_columns(node.raw_expr) if kind == "check" else frozenset(),
            references=table_name(node.pktable) if kind == "foreign" else None,
        )
        if kind == "primary":
            for col in cols:
                if col in table.columns:
                    table.columns[col].not_null = True
        if kind in ("primary", "unique"):
            if node.indexname:  # USING INDEX: the index becomes the constraint's
                self.indexes.pop(node.indexname, None)
            self.indexes[name] = Index(name, table.name, cols, unique=True)

    def _alter(self, table: Table, cmd: ast.AlterTableCmd) -> None:
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            self._add_column(table, cmd.def_)
        elif subtype == AlterTableType.AT_DropColumn:
            # A dropped column takes its indexes and constraints with it.
            table.columns.pop(cmd.name, None)
            for gone in [i for i in self.indexes_on(table.name) if cmd.name in i.columns]:
                del self.indexes[gone.name]
            for name in [n for n, c in table.constraints.items() if cmd.name in c.columns]:
                del table.constraints[name]
        elif subtype == AlterTableType.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
            column = table.columns.setdefault(cmd.name, Column(cmd.name, None))
            column.type = sql_type(cmd.def_.typeName)
        elif subtype == AlterTableType.AT_SetNotNull:
            table.columns.setdefault(cmd.name, Column(cmd.name, None)).not_null = True
        elif subtype == AlterTableType.AT_DropNotNull:
            table.columns.setdefault(cmd.name, Column(cmd.name, None)).not_null = False
        elif subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            self._add_constraint(table, cmd.def_, strings(cmd.def_.keys))
        elif subtype == AlterTableType.AT_ValidateConstraint and cmd.name in table.constraints:
            table.constraints[cmd.name].valid = True
        elif subtype == AlterTableType.AT_DropConstraint:
            table.constraints.pop(cmd.name, None)
            self.indexes.pop(cmd.name, None)

    def _index(self, node: ast.IndexStmt) -> None:
        table = table_name(node.relation)
        columns = index_columns(node)
        name = node.idxname or f"{table}_{'_'.join(c or 'expr' for c in columns)}_idx"
        self.indexes[name] = Index(name, table, columns, unique=bool(node.unique))

    def _drop(self, node: ast.DropStmt) -> None:
        for names in node.objects or ():
            name = dotted(names)
            if node.removeType == ObjectType.OBJECT_TABLE:
                self.tables.pop(name, None)
                for index in self.indexes_on(name):
                    del self.indexes[index.name]
            elif node.removeType == ObjectType.OBJECT_INDEX:
                self.indexes.pop(name, None)

    def _rename(self, node: ast.RenameStmt) -> None:
        old = table_name(node.relation)
        if node.renameType == ObjectType.OBJECT_TABLE and old in self.tables:
            table = self._writable(old)
            assert table is not None
            del self.tables[old]
            table.name = node.newname
            self.tables[node.newname] = table
            self._borrowed.discard(node.newname)
            for index in self.indexes_on(old):
                self.indexes[index.name] = replace(index, table=node.newname)
        elif node.renameType == ObjectType.OBJECT_COLUMN and old in self.tables:
            table = self._writable(old)
            assert table is not None
            if node.subname in table.columns:
                column = table.columns.pop(node.subname)
                column.name = node.newname
                table.columns[node.newname] = column
            for index in self.indexes_on(old):
                self.indexes[index.name] = replace(
                    index,
                    columns=tuple(node.newname if c == node.subname else c for c in index.columns),
                )
            for constraint in table.constraints.values():
                constraint.columns = tuple(
                    node.newname if c == node.subname else c for c in constraint.columns
                )
        elif node.renameType == ObjectType.OBJECT_INDEX:
            index = self.indexes.pop(table_name(node.relation), None)
            if index is not None:
                self.indexes[node.newname] = replace(index, name=node.newname)
