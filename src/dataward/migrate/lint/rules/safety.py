"""Running a migration safely: bounded lock waits, and a way back."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType, VariableSetKind

from dataward.migrate.files import MigrationError, Statement
from dataward.migrate.lint.context import ScriptContext
from dataward.migrate.lint.model import ERROR, WARNING, Hit
from dataward.migrate.lint.nodes import TABLE_OBJECTS, dotted, table_name
from dataward.migrate.lint.registry import Registrar
from dataward.migrate.lint.rules.design import foreign_keys

rule = Registrar("safety")

_LOCKING = (
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.DropStmt,
    ast.RenameStmt,
    ast.TruncateStmt,
    ast.ReindexStmt,
    ast.CreateTrigStmt,
    ast.LockStmt,
)


def locked_tables(node: ast.Node, index_tables: dict[str, str]) -> list[str]:
    """The tables a DDL statement must lock; an index (DROP INDEX, REINDEX INDEX) stands for
    its table where `index_tables` knows it."""
    if not isinstance(node, _LOCKING):
        return []
    if isinstance(node, ast.AlterTableStmt) and node.objtype not in TABLE_OBJECTS:
        return []
    if isinstance(node, ast.DropStmt):
        if node.removeType not in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_INDEX):
            return []
        names = [dotted(names) for names in node.objects or ()]
        return [index_tables.get(n, n) for n in names]
    if isinstance(node, ast.TruncateStmt | ast.LockStmt):
        return [table_name(r) for r in node.relations or ()]
    relation = getattr(node, "relation", None)
    if relation is None:
        return []
    if isinstance(node, ast.ReindexStmt):
        return [index_tables.get(table_name(relation), table_name(relation))]
    return [table_name(relation)]


def _index_tables(ctx: ScriptContext) -> dict[str, str]:
    """Index name -> table, for the indexes this script creates (which may be gone by its
    end) and those the migrations show."""
    found = {i.name: i.table for i in ctx.final.indexes.values()}
    for statement in ctx.statements:
        node = statement.node
        if isinstance(node, ast.IndexStmt) and node.idxname:
            found[node.idxname] = table_name(node.relation)
    return found


def _referenced_by(ctx: ScriptContext) -> dict[str, set[str]]:
    """Table -> the tables its foreign keys point at, for the tables this script creates and,
    in a down, those its up created (the ones a DROP TABLE here may remove)."""
    statements = list(ctx.statements)
    up = ctx.migration.up if ctx.migration is not None else None
    # Parsing the up again costs more than the rule: skip it when no key can be there.
    if ctx.direction == "down" and ctx.undo.tables and up and "references" in up.sql.lower():
        with contextlib.suppress(MigrationError):  # an up that does not parse is reported
            statements = up.statements() + statements
    found: dict[str, set[str]] = {}
    for statement in statements:
        for table, _, parent, _ in foreign_keys(statement):
            found.setdefault(table, set()).add(parent)
    return found


def foreign_key_locks(statement: Statement, referenced_by: dict[str, set[str]]) -> list[str]:
    """The other tables a statement locks through foreign keys: a new key (CREATE TABLE,
    ADD COLUMN ... REFERENCES, ADD FOREIGN KEY) takes SHARE ROW EXCLUSIVE on the table it
    references, and dropping a table takes ACCESS EXCLUSIVE on every table its keys
    reference (PostgreSQL removes the key's triggers there)."""
    found = [parent for _, _, parent, _ in foreign_keys(statement)]
    node = statement.node
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        for names in node.objects or ():
            found += sorted(referenced_by.get(dotted(names), ()))
    return found


def _sets_lock_timeout(node: ast.Node) -> ast.VariableSetStmt | None:
    if (
        isinstance(node, ast.VariableSetStmt)
        and node.name == "lock_timeout"
        and node.kind == VariableSetKind.VAR_SET_VALUE
        and not _is_zero(node.args)
    ):
        return node
    return None


def _is_zero(args: tuple | None) -> bool:
    """lock_timeout = 0 means wait for ever: it satisfies nothing."""
    for arg in args or ():
        value = getattr(arg, "val", None)
        if isinstance(value, ast.Integer):
            return value.ival == 0
        if isinstance(value, ast.Float):
            return float(value.fval) == 0
        if isinstance(value, ast.String):
            number = re.match(r"\s*(\d+(?:\.\d*)?)", value.sval)  # '5s', '500ms', '0'
            return number is not None and float(number.group(1)) == 0
    return False


@rule.script(
    id="missing-lock-timeout",
    severity=WARNING,
    title="DDL on an existing table with no lock_timeout",
    what="A migration whose first statement locking an existing table (ALTER TABLE, CREATE "
    "or DROP INDEX, a rename, DROP TABLE, TRUNCATE, REINDEX, CREATE TRIGGER, LOCK, or a "
    "foreign key: CREATE TABLE or ADD ... REFERENCES locks the referenced table, and DROP "
    "TABLE of the referencing one locks it again, even when the referencing table is new) "
    "is not preceded by SET lock_timeout (or SET LOCAL lock_timeout within the same transaction; "
    "SET LOCAL outside a transaction has no effect). lock_timeout = 0 does not count.",
    why="A DDL statement waits for the queries running on its table, and while it waits, "
    "every new query on the table queues behind it: one slow report turns into an outage "
    "for as long as that report runs. `dataward migrate up` sets lock_timeout itself (and "
    "retries), so this matters when anything else applies the file: psql, Flyway, a deploy "
    "script.",
    fix="start the migration with SET lock_timeout = '5s'; (and a statement_timeout that "
    "bounds the whole migration), and retry on timeout; in a migration marked "
    "`-- dataward:no-transaction` use SET, not SET LOCAL",
    bad="ALTER TABLE orders ADD COLUMN note text;",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;",
)
def missing_lock_timeout(ctx: ScriptContext) -> Iterator[Hit]:
    settings: list[tuple[int, ast.VariableSetStmt]] = []
    index_tables = _index_tables(ctx)
    referenced_by: dict[str, set[str]] | None = None
    for index, statement in enumerate(ctx.statements):
        setting = _sets_lock_timeout(statement.node)
        if setting is not None:
            settings.append((index, setting))
            continue
        # A down's work on the tables its up created is undoing: no release uses them. The
        # tables their foreign keys reference are another matter: every release uses those.
        direct = locked_tables(statement.node, index_tables)
        if referenced_by is None and _may_lock_through_keys(statement.node):
            referenced_by = _referenced_by(ctx)
        through_keys = foreign_key_locks(statement, referenced_by or {})
        tables = [
            t for t in (*direct, *through_keys) if not ctx.is_new(t) and t not in ctx.undo.tables
        ]
        if not tables:
            continue
        if any(not s.is_local or ctx.same_transaction(i, index) for i, s in settings):
            return
        yield Hit(_message(statement, tables[0], via_key=tables[0] not in direct), statement)
        return


def _may_lock_through_keys(node: ast.Node) -> bool:
    return isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE


_VERBS = {
    ast.CreateStmt: "CREATE TABLE",
    ast.AlterTableStmt: "ALTER TABLE",
    ast.IndexStmt: "CREATE INDEX",
    ast.RenameStmt: "a rename",
    ast.TruncateStmt: "TRUNCATE",
    ast.ReindexStmt: "REINDEX",
    ast.CreateTrigStmt: "CREATE TRIGGER",
    ast.LockStmt: "LOCK TABLE",
}


def _message(statement: Statement, table: str, *, via_key: bool = False) -> str:
    node = statement.node
    if isinstance(node, ast.DropStmt):
        verb = "DROP INDEX" if node.removeType == ObjectType.OBJECT_INDEX else "DROP TABLE"
    else:
        verb = _VERBS.get(type(node), "DDL")
    where = (
        f"{verb} {relation_name(node)} also locks {table}, the table a foreign key of it "
        "references, and waits for that lock"
        if via_key
        else f"{verb} on {table} waits for its lock"
    )
    return (
        f"{where} with no lock_timeout set: behind one long "
        f"query it waits without limit, and every query on {table} queues behind it. "
        "`dataward migrate up` sets lock_timeout itself; psql, Flyway or a deploy script "
        "does not"
    )


def relation_name(node: ast.Node) -> str:
    """The table a statement names (the first one, for DROP TABLE a, b)."""
    if isinstance(node, ast.DropStmt):
        return next((dotted(names) for names in node.objects or ()), "")
    return table_name(getattr(node, "relation", None))


@rule.script(
    id="missing-down",
    severity=ERROR,
    title="A migration without a down, or with an empty one",
    what="A migration with no down script (no .down.sql, no `-- migrate:down` section), or "
    "one whose down holds nothing but comments. A migration that truly cannot be undone "
    "says so with an ignore and its reason, in the down (or at the top of the up).",
    why="Without a down the migration cannot be rolled back when its release is, so a bad "
    "deploy can only be fixed forward, under pressure; and `dataward migrate test` (up, "
    "down, up again) cannot check it. `dataward migrate down` refuses it.",
    fix="write the down that undoes exactly what the up did (`dataward migrate new` writes "
    "the pair)",
    bad="-- 0002_add_note.up.sql, with no 0002_add_note.down.sql beside it\n"
    "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;",
    good="-- 0002_add_note.up.sql\nSET lock_timeout = '5s';\n"
    "ALTER TABLE orders ADD COLUMN note text;\n\n"
    "-- 0002_add_note.down.sql\nSET lock_timeout = '5s';\n"
    "ALTER TABLE orders DROP COLUMN note;",
)
def missing_down(ctx: ScriptContext) -> Iterator[Hit]:
    migration = ctx.migration
    if migration is None:
        return
    if ctx.direction == "up" and migration.down is None:
        yield Hit(f"{migration} has no down: it cannot be rolled back, or tested by `migrate test`")
    elif ctx.direction == "down" and ctx.empty:
        yield Hit(
            f"{migration}'s down is empty: rolling back would do nothing and leave the up's changes"
        )
