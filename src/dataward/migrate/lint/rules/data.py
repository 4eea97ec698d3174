"""Data changes in migrations: whole-table deletes and updates, and backfills that run
under the locks of the DDL beside them."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from dataward.migrate.lint.context import StatementContext
from dataward.migrate.lint.model import ERROR, Hit
from dataward.migrate.lint.nodes import has_where, relation_of, table_name
from dataward.migrate.lint.registry import Registrar

rule = Registrar("data")

# DDL on a table, the lock it holds until the transaction ends, and what that lock stops.
_DDL_LOCKS: dict[type, tuple[str, str, str]] = {
    ast.AlterTableStmt: ("ALTER TABLE", "ACCESS EXCLUSIVE", "read or write"),
    ast.RenameStmt: ("a rename", "ACCESS EXCLUSIVE", "read or write"),
    ast.IndexStmt: ("CREATE INDEX", "SHARE", "write"),
    ast.CreateTrigStmt: ("CREATE TRIGGER", "SHARE ROW EXCLUSIVE", "write"),
}


@rule.statement(
    id="truncate-table",
    severity=ERROR,
    title="TRUNCATE",
    what="TRUNCATE of a table this migration did not create.",
    why="Every row goes at once, under an ACCESS EXCLUSIVE lock, and nothing records them: "
    "no down can bring them back. A migration changes the shape of data, not which data "
    "there is (never truncate-and-reload).",
    fix="to replace a table's contents, load it through a pipeline (`replace` mode builds "
    "the new version beside the old and swaps atomically, keeping the previous one); to "
    "retire a table, drop it after the release that stopped using it",
    bad="TRUNCATE order_imports;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore drop-table unused since 2.4; rows are in the 2024-06 archive\n"
    "DROP TABLE order_imports;",
)
def truncate_table(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if isinstance(node, ast.TruncateStmt):
        for relation in node.relations or ():
            table = table_name(relation)
            if not ctx.is_new(table):
                yield Hit(
                    f"TRUNCATE {table} deletes every row under an ACCESS EXCLUSIVE lock, with "
                    "no record of them: no down can bring them back",
                    ctx.statement,
                )


@rule.statement(
    id="delete-without-where",
    severity=ERROR,
    title="DELETE without WHERE",
    what="DELETE FROM an existing table with no WHERE clause.",
    why="Every row is deleted, each one locked until the migration commits (concurrent "
    "updates of any row wait), the table keeps its size until vacuum, and the down cannot "
    "restore the rows.",
    fix="say which rows: DELETE ... WHERE ...; if it really is all of them, the table's "
    "purpose has changed: drop it after a release (expand/contract)",
    bad="DELETE FROM sessions;",
    good="DELETE FROM sessions WHERE expires_at < now() - interval '30 days';",
)
def delete_without_where(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if isinstance(node, ast.DeleteStmt) and not has_where(node):
        table = table_name(node.relation)
        if not ctx.is_new(table):
            yield Hit(
                f"DELETE FROM {table} without WHERE deletes every row, each locked until "
                "commit, and no down can restore them",
                ctx.statement,
            )


@rule.statement(
    id="update-without-where",
    severity=ERROR,
    title="UPDATE without WHERE",
    what="UPDATE of an existing table with no WHERE clause: a backfill of every row in one "
    "statement.",
    why="Every row is rewritten in one transaction: each stays locked until commit "
    "(concurrent writes to any of them wait), the table doubles in size until vacuum, and "
    "on a large table it runs for minutes, past statement_timeout.",
    fix="backfill in batches outside a transaction (by key range, committing each batch: "
    "`dataward migrate plan` writes such a backfill), or say which rows with WHERE",
    bad="UPDATE orders SET currency = 'EUR';",
    good="UPDATE orders SET currency = 'EUR' WHERE currency IS NULL AND id < 10000;",
)
def update_without_where(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if isinstance(node, ast.UpdateStmt) and not has_where(node):
        table = table_name(node.relation)
        if not ctx.is_new(table):
            yield Hit(
                f"UPDATE {table} without WHERE rewrites every row in one transaction: each "
                "stays locked until commit and the table doubles in size until vacuum",
                ctx.statement,
            )


@rule.statement(
    id="backfill-with-ddl",
    severity=ERROR,
    title="A backfill UPDATE in the same transaction as DDL on its table",
    what="UPDATE of a table that the same transaction also alters (ALTER TABLE, CREATE "
    "INDEX, a rename, CREATE TRIGGER), before or after the update. Outside a transaction "
    "(`-- dataward:no-transaction`) each statement commits on its own and is not reported.",
    why="The DDL's lock (ACCESS EXCLUSIVE for ALTER TABLE) is held until commit: when the "
    "DDL comes first, no one can read or write the table for as long as the update runs; "
    "when it comes after, the updated rows stay locked while the DDL waits for its lock, and "
    "every query behind it queues.",
    fix="backfill in a migration of its own, after the release that writes the new column, "
    "in batches outside a transaction (`dataward migrate plan add-not-null-column` writes "
    "the sequence)",
    bad="ALTER TABLE orders ADD COLUMN currency text;\n"
    "UPDATE orders SET currency = 'EUR' WHERE currency IS NULL;",
    good=(
        "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN currency text;",
        "-- dataward:no-transaction\n"
        "UPDATE orders SET currency = 'EUR' WHERE currency IS NULL AND id < 10000;",
    ),
)
def backfill_with_ddl(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if not isinstance(node, ast.UpdateStmt) or not ctx.in_transaction:
        return
    table = table_name(node.relation)
    if ctx.is_new(table):
        return
    ddl = [
        (index, other)
        for index, other in enumerate(ctx.script.statements)
        if type(other.node) in _DDL_LOCKS
        and relation_of(other.node) == table
        and index != ctx.index
        and ctx.script.same_transaction(index, ctx.index)
    ]
    if not ddl:
        return
    # The worst case first: DDL before the update (its lock then covers the whole update),
    # the strongest lock among those.
    index, other = min(
        ddl, key=lambda d: (d[0] > ctx.index, _DDL_LOCKS[type(d[1].node)][2] != "read or write")
    )
    verb, lock, stops = _DDL_LOCKS[type(other.node)]
    if index < ctx.index:
        consequence = (
            f"its {lock} lock on {table} is held until commit, so no one can {stops} "
            f"{table} while this UPDATE runs"
        )
    else:
        consequence = (
            f"the rows this UPDATE changes stay locked while {verb} waits for its {lock} "
            "lock, and every query behind it queues"
        )
    yield Hit(
        f"this UPDATE of {table} shares a transaction with {verb} at line {other.line}: "
        f"{consequence}",
        ctx.statement,
    )
