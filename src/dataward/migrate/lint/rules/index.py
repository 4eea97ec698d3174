"""Indexes: built, dropped and rebuilt without locking the table's writers out."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType, ReindexObjectType

from dataward.migrate.lint.context import StatementContext
from dataward.migrate.lint.model import ERROR, WARNING, Hit
from dataward.migrate.lint.nodes import (
    column_constraints,
    commands,
    dotted,
    table_name,
    uses_concurrently,
)
from dataward.migrate.lint.registry import Registrar

rule = Registrar("index")

NO_TRANSACTION_HELP = "mark the migration `-- dataward:no-transaction` on a line of its own"


@rule.statement(
    id="create-index-not-concurrently",
    severity=ERROR,
    title="CREATE INDEX without CONCURRENTLY on an existing table",
    what="CREATE INDEX (UNIQUE or not) on a table this migration did not create, without "
    "CONCURRENTLY. A table created in the same migration is empty and seen by no one: "
    "indexing it plainly is right.",
    why="A plain CREATE INDEX holds a SHARE lock on the table until the index is built: "
    "every INSERT, UPDATE and DELETE waits, for minutes on a table of millions of rows, "
    "and the requests queue up in the application.",
    fix="CREATE INDEX CONCURRENTLY (it lets writes go on while it builds), alone in a "
    f"migration; {NO_TRANSACTION_HELP} (`dataward migrate plan add-index` writes it)",
    bad="CREATE INDEX orders_customer_id_idx ON orders (customer_id);",
    good="-- dataward:no-transaction\nSET lock_timeout = '5s';\n"
    "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
)
def create_index_not_concurrently(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if isinstance(node, ast.IndexStmt) and not node.concurrent:
        table = table_name(node.relation)
        if not ctx.is_new(table):
            yield Hit(
                f"CREATE INDEX on {table} without CONCURRENTLY holds a SHARE lock on {table} "
                "until the index is built: every INSERT, UPDATE and DELETE on it waits that "
                "long",
                ctx.statement,
            )


@rule.statement(
    id="drop-index-not-concurrently",
    severity=WARNING,
    title="DROP INDEX without CONCURRENTLY",
    what="DROP INDEX of an index on a table this migration did not create, without CONCURRENTLY.",
    why="DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is "
    "quick, but while it waits for the queries already running on the table to finish, "
    "every new read and write of the table queues behind it.",
    fix=f"DROP INDEX CONCURRENTLY, alone in a migration; {NO_TRANSACTION_HELP}",
    bad="DROP INDEX orders_status_idx;",
    good="-- dataward:no-transaction\nSET lock_timeout = '5s';\n"
    "DROP INDEX CONCURRENTLY orders_status_idx;",
)
def drop_index_not_concurrently(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if not (isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX):
        return
    if node.concurrent:
        return
    for names in node.objects or ():
        index = ctx.schema.indexes.get(dotted(names))
        if index is not None and ctx.is_new(index.table):
            continue
        table = index.table if index is not None else "its table"
        yield Hit(
            f"DROP INDEX {dotted(names)} takes an ACCESS EXCLUSIVE lock on {table}: "
            "while it waits for running queries, every read and write of the table queues "
            "behind it",
            ctx.statement,
        )


@rule.statement(
    id="reindex-not-concurrently",
    severity=ERROR,
    title="REINDEX without CONCURRENTLY",
    what="REINDEX INDEX, TABLE, SCHEMA or DATABASE without CONCURRENTLY (PostgreSQL 12+).",
    why="A plain REINDEX blocks writes to the table (and reads that would use the index) "
    "for as long as the rebuild takes: the table is as good as offline.",
    fix=f"REINDEX ... CONCURRENTLY, alone in a migration; {NO_TRANSACTION_HELP}",
    bad="REINDEX INDEX orders_customer_id_idx;",
    good="-- dataward:no-transaction\nSET lock_timeout = '5s';\n"
    "REINDEX INDEX CONCURRENTLY orders_customer_id_idx;",
)
def reindex_not_concurrently(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if not isinstance(node, ast.ReindexStmt) or uses_concurrently(node):
        return
    target = table_name(node.relation) if node.relation is not None else (node.name or "")
    if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        index = ctx.schema.indexes.get(target)
        if index is not None and ctx.is_new(index.table):
            return
    elif node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE and ctx.is_new(target):
        return
    yield Hit(
        f"REINDEX of {target} without CONCURRENTLY blocks writes to the table, and reads "
        "that would use the index, until the rebuild ends",
        ctx.statement,
    )


@rule.statement(
    id="concurrently-in-transaction",
    severity=ERROR,
    title="CONCURRENTLY inside a transaction",
    what="CREATE INDEX, DROP INDEX or REINDEX ... CONCURRENTLY in a migration that runs in "
    "a transaction (every migration does unless it is marked `-- dataward:no-transaction`), "
    "or inside an explicit BEGIN ... COMMIT.",
    why='PostgreSQL refuses it: the migration fails with "CREATE INDEX CONCURRENTLY cannot '
    'run inside a transaction block", usually in production, where the marker was '
    "forgotten.",
    fix=f"{NO_TRANSACTION_HELP}, and keep the statement alone in it (a failure half-way "
    "leaves an INVALID index to drop, nothing else to untangle)",
    bad="CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
    good="-- dataward:no-transaction\nSET lock_timeout = '5s';\n"
    "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
)
def concurrently_in_transaction(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if uses_concurrently(node) and ctx.in_transaction:
        verb = {ast.IndexStmt: "CREATE INDEX", ast.DropStmt: "DROP INDEX"}.get(
            type(node), "REINDEX"
        )
        where = (
            "this migration runs in a transaction (it is not marked `-- dataward:no-transaction`)"
            if ctx.script.transactional
            else "it is inside BEGIN ... COMMIT"
        )
        yield Hit(
            f"{verb} CONCURRENTLY cannot run inside a transaction block and {where}: "
            "PostgreSQL refuses it and the migration fails",
            ctx.statement,
        )


@rule.statement(
    id="add-unique-constraint",
    severity=ERROR,
    title="UNIQUE or PRIMARY KEY added to an existing table directly",
    what="ALTER TABLE ... ADD CONSTRAINT ... UNIQUE / PRIMARY KEY (or ADD COLUMN ... UNIQUE "
    "/ PRIMARY KEY) on a table this migration did not create, without USING INDEX.",
    why="The constraint builds its unique index while holding an ACCESS EXCLUSIVE lock on "
    "the table: no reads and no writes until every row is indexed. A PRIMARY KEY also sets "
    "NOT NULL on its columns, a full scan under the same lock.",
    fix="CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own (`-- dataward:no-"
    "transaction`), then ALTER TABLE ... ADD CONSTRAINT name UNIQUE USING INDEX name, which "
    "is instant (`dataward migrate plan add-unique` writes both)",
    bad="ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);",
    good=(
        "-- dataward:no-transaction\nSET lock_timeout = '5s';\n"
        "CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (email);",
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX "
        "customers_email_key;",
    ),
)
def add_unique_constraint(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for cmd in commands(ctx.node):
        constraints: list[ast.Constraint] = []
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            constraints = [cmd.def_]
        elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            constraints = column_constraints(
                cmd.def_, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY
            )
        for constraint in constraints:
            if constraint.contype not in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY):
                continue
            if constraint.indexname:
                continue  # USING INDEX: the index exists, attaching it is instant
            kind = "PRIMARY KEY" if constraint.contype == ConstrType.CONSTR_PRIMARY else "UNIQUE"
            also = (
                " (and sets NOT NULL on its columns, a full scan under the same lock)"
                if kind == "PRIMARY KEY"
                else ""
            )
            yield Hit(
                f"ADD {kind} on {table} builds its index under an ACCESS EXCLUSIVE lock{also}: "
                f"no reads or writes of {table} until every row is indexed",
                ctx.statement,
                offset=constraint.location,
            )
