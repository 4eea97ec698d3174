"""What a rule sees: the statement, the schema before it, and the script around it.

Nothing here is tied to migration files: an `audit` of schema files or a live catalog can
build the same contexts (a script with `migration=None`, its schema from the catalog).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pglast import ast
from pglast.enums import AlterTableType, ObjectType, TransactionStmtKind

from dataward.migrate.files import Migration, Script, Statement
from dataward.migrate.lint.nodes import commands, relation_of, table_name
from dataward.migrate.lint.schema import Schema

Direction = Literal["up", "down", "schema"]
_BEGIN = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)
_END = (TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_ROLLBACK)


@dataclass(frozen=True)
class Undo:
    """What a down's up made. A down exists to drop and rename back exactly these, and runs
    when the release that used them is rolled back, so the rules about the running release
    (drops, renames, DROP NOT NULL) leave them alone; the lock rules still apply."""

    tables: frozenset[str] = frozenset()
    columns: frozenset[tuple[str, str]] = frozenset()  # (table, column) added
    renamed_tables: frozenset[str] = frozenset()  # the names the up gave
    renamed_columns: frozenset[tuple[str, str]] = frozenset()  # (table, new name)
    not_null: frozenset[tuple[str, str]] = frozenset()  # made NOT NULL


@dataclass(frozen=True)
class LintOptions:
    """What a team may tune (`dataward.toml` [lint], or the command's options)."""

    max_indexes_per_table: int = 5


@dataclass(frozen=True)
class ScriptContext:
    statements: tuple[Statement, ...]
    script: Script | None = None
    migration: Migration | None = None
    direction: Direction = "up"
    transactional: bool = True
    # Per statement: which transaction it runs in (None: autocommit, outside any).
    transactions: tuple[int | None, ...] = ()
    created_tables: frozenset[str] = frozenset()
    undo: Undo = field(default_factory=Undo)
    end: Schema = field(default_factory=Schema)  # after this script's last statement
    final: Schema = field(default_factory=Schema)  # after every up in the set
    options: LintOptions = field(default_factory=LintOptions)

    @property
    def empty(self) -> bool:
        return self.script.empty if self.script is not None else not self.statements

    def is_new(self, table: str) -> bool:
        """Created by this script: empty and seen by no one else, so nothing done to it
        here can block or break anybody."""
        return table in self.created_tables

    def same_transaction(self, first: int, second: int) -> bool:
        a, b = self.transactions[first], self.transactions[second]
        return a is not None and a == b


@dataclass(frozen=True)
class StatementContext:
    statement: Statement
    index: int  # in script.statements
    schema: Schema  # as the statements before this one left it
    script: ScriptContext

    @property
    def node(self) -> ast.Node:
        return self.statement.node

    @property
    def table(self) -> str:
        return relation_of(self.statement.node)

    @property
    def earlier(self) -> tuple[Statement, ...]:
        return self.script.statements[: self.index]

    @property
    def in_transaction(self) -> bool:
        return self.script.transactions[self.index] is not None

    def is_new(self, table: str) -> bool:
        return self.script.is_new(table)

    def added_column(self, table: str, column: str) -> tuple[Statement, ast.ColumnDef] | None:
        """The ADD COLUMN of `table.column` in this script, up to this statement."""
        for statement in (*self.earlier, self.statement):
            if relation_of(statement.node) != table:
                continue
            for cmd in commands(statement.node):
                definition = cmd.def_
                if (
                    cmd.subtype == AlterTableType.AT_AddColumn
                    and isinstance(definition, ast.ColumnDef)
                    and definition.colname == column
                ):
                    return statement, definition
        return None


def script_context(
    statements: list[Statement],
    *,
    script: Script | None,
    migration: Migration | None,
    direction: Direction,
    final: Schema,
    undo: Undo | None = None,
    options: LintOptions | None = None,
) -> ScriptContext:
    transactional = migration.transactional if migration is not None else False
    return ScriptContext(
        statements=tuple(statements),
        script=script,
        migration=migration,
        direction=direction,
        transactional=transactional,
        transactions=transaction_ids(statements, transactional),
        created_tables=created_tables(statements),
        undo=undo or Undo(),
        final=final,
        options=options or LintOptions(),
    )


def transaction_ids(statements: list[Statement], transactional: bool) -> tuple[int | None, ...]:
    """A transactional migration is one transaction (the runner's); in one that is not,
    only explicit BEGIN ... COMMIT blocks are, each its own."""
    if transactional:
        return tuple(0 for _ in statements)
    ids: list[int | None] = []
    current: int | None = None
    for number, statement in enumerate(statements, start=1):
        node = statement.node
        if isinstance(node, ast.TransactionStmt) and node.kind in _BEGIN:
            current = number
        ids.append(current)
        if isinstance(node, ast.TransactionStmt) and node.kind in _END:
            current = None
    return tuple(ids)


def created_tables(statements: list[Statement]) -> frozenset[str]:
    made: set[str] = set()
    for statement in statements:
        node = statement.node
        if isinstance(node, ast.CreateStmt):
            made.add(table_name(node.relation))
        elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
            made.add(table_name(node.into.rel))
        elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
            made.add(table_name(node.intoClause.rel))
    return frozenset(made)


def undo_of(up: list[Statement]) -> Undo:
    columns: set[tuple[str, str]] = set()
    renamed_tables: set[str] = set()
    renamed_columns: set[tuple[str, str]] = set()
    not_null: set[tuple[str, str]] = set()
    for statement in up:
        node = statement.node
        table = relation_of(node)
        for cmd in commands(node):
            if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                columns.add((table, cmd.def_.colname))
            elif cmd.subtype == AlterTableType.AT_SetNotNull:
                not_null.add((table, cmd.name))
        if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE:
            renamed_tables.add(node.newname)
        elif isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_COLUMN:
            renamed_columns.add((table, node.newname))
    return Undo(
        tables=created_tables(up),
        columns=frozenset(columns),
        renamed_tables=frozenset(renamed_tables),
        renamed_columns=frozenset(renamed_columns),
        not_null=frozenset(not_null),
    )
