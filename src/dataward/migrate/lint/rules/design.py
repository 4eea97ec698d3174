"""Schema design, within what the migration set shows: keys, and indexes that are missing
or too many."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from dataward.migrate.files import Statement
from dataward.migrate.lint.context import LintOptions, ScriptContext
from dataward.migrate.lint.model import INFO, WARNING, Hit
from dataward.migrate.lint.nodes import (
    column_constraints,
    commands,
    relation_of,
    strings,
    table_name,
)
from dataward.migrate.lint.registry import Registrar

rule = Registrar("design")

# More indexes than this on one table and every write pays for all of them.
MAX_INDEXES_PER_TABLE = LintOptions().max_indexes_per_table


def foreign_keys(statement: Statement) -> Iterator[tuple[str, tuple[str, ...], str, int]]:
    """(table, columns, referenced table, location) of each foreign key a statement adds."""
    node = statement.node
    table = relation_of(node)
    found: list[tuple[tuple[str, ...], ast.Constraint]] = []
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                found += [
                    ((element.colname,), c)
                    for c in column_constraints(element, ConstrType.CONSTR_FOREIGN)
                ]
            elif (
                isinstance(element, ast.Constraint) and element.contype == ConstrType.CONSTR_FOREIGN
            ):
                found.append((strings(element.fk_attrs), element))
    for cmd in commands(node):
        definition = cmd.def_
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(definition, ast.ColumnDef):
            found += [
                ((definition.colname,), c)
                for c in column_constraints(definition, ConstrType.CONSTR_FOREIGN)
            ]
        elif (
            cmd.subtype == AlterTableType.AT_AddConstraint
            and isinstance(definition, ast.Constraint)
            and definition.contype == ConstrType.CONSTR_FOREIGN
        ):
            found.append((strings(definition.fk_attrs), definition))
    for columns, constraint in found:
        yield table, columns, table_name(constraint.pktable), constraint.location


@rule.script(
    id="missing-foreign-key-index",
    severity=WARNING,
    title="A foreign key without an index on its columns",
    what="A FOREIGN KEY whose referencing columns lead no index of the table once every "
    "migration in the set has run (an index created in the same or any other migration "
    "counts; its first columns must be the key's, in any order).",
    why="PostgreSQL indexes the referenced side only. Every DELETE of a parent row, or "
    "update of its key, scans the whole child table to look for references (under a lock), "
    "and joins from parent to children scan it too: deleting one customer reads every "
    "order.",
    fix="CREATE INDEX CONCURRENTLY ON child (fk columns), in a migration of its own "
    "(`dataward migrate plan add-foreign-key` includes it)",
    bad="SET lock_timeout = '5s';\nCREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  customer_id bigint NOT NULL REFERENCES customers (id)\n);",
    good="SET lock_timeout = '5s';\nCREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  customer_id bigint NOT NULL REFERENCES customers (id)\n);\n"
    "CREATE INDEX orders_customer_id_idx ON orders (customer_id);",
)
def missing_foreign_key_index(ctx: ScriptContext) -> Iterator[Hit]:
    for statement in ctx.statements:
        for table, columns, parent, location in foreign_keys(statement):
            wanted = set(columns)
            if not _still_there(ctx, table, wanted):
                continue  # dropped or renamed later: nothing left to index
            if any(
                set(index.columns[: len(columns)]) == wanted
                for index in ctx.final.indexes_on(table)
            ):
                continue
            yield Hit(
                f"foreign key {table}({', '.join(columns)}) -> {parent} has no index on "
                f"{table}({', '.join(columns)}): every DELETE or key UPDATE on {parent} "
                f"scans all of {table}",
                statement,
                offset=location,
            )


def _still_there(ctx: ScriptContext, table: str, columns: set[str]) -> bool:
    known = ctx.final.table(table)
    return known is not None and any(
        c.kind == "foreign" and set(c.columns) == columns for c in known.constraints.values()
    )


def _adds_index(statement: Statement) -> str | None:
    """The table a statement gives a new index (CREATE INDEX, PRIMARY KEY, UNIQUE)."""
    node = statement.node
    if isinstance(node, ast.IndexStmt):
        return table_name(node.relation)
    keys = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if (isinstance(element, ast.Constraint) and element.contype in keys) or (
                isinstance(element, ast.ColumnDef) and column_constraints(element, *keys)
            ):
                return table_name(node.relation)
    for cmd in commands(node):
        definition = cmd.def_
        if (isinstance(definition, ast.Constraint) and definition.contype in keys) or (
            isinstance(definition, ast.ColumnDef) and column_constraints(definition, *keys)
        ):
            return table_name(node.relation)
    return None


@rule.script(
    id="too-many-indexes",
    severity=INFO,
    title="More indexes on one table than the limit (5 by default)",
    what="A migration that leaves a table with more indexes than the limit (primary key "
    "and unique constraints included), reported at its last statement adding one. The "
    f"limit is {MAX_INDEXES_PER_TABLE} unless `[lint] max_indexes_per_table` in "
    "dataward.toml or `--max-indexes` says otherwise.",
    why="Every INSERT writes every index, and an UPDATE of an indexed column does too (no "
    "HOT update): each index makes every write slower and adds WAL, and indexes that no "
    "query uses still cost that.",
    fix="check pg_stat_user_indexes.idx_scan for indexes no query uses, and merge indexes "
    "whose leading columns repeat",
    bad="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  a int, b int, c int, d int, e int\n);\n"
    "CREATE INDEX orders_a_idx ON orders (a);\nCREATE INDEX orders_b_idx ON orders (b);\n"
    "CREATE INDEX orders_c_idx ON orders (c);\nCREATE INDEX orders_d_idx ON orders (d);\n"
    "CREATE INDEX orders_e_idx ON orders (e);",
    good="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  a int, b int, c int, d int, e int\n);\n"
    "CREATE INDEX orders_a_b_idx ON orders (a, b);\nCREATE INDEX orders_c_idx ON orders (c);",
)
def too_many_indexes(ctx: ScriptContext) -> Iterator[Hit]:
    last: dict[str, Statement] = {}
    for statement in ctx.statements:
        table = _adds_index(statement)
        if table is not None:
            last[table] = statement
    for table, statement in last.items():
        count = len(ctx.end.indexes_on(table))
        limit = ctx.options.max_indexes_per_table
        if count > limit:
            yield Hit(
                f"{table} has {count} indexes after this migration (more than "
                f"{limit}): every insert writes all {count}, and every "
                "update of an indexed column too",
                statement,
            )


@rule.script(
    id="missing-primary-key",
    severity=WARNING,
    title="CREATE TABLE without a primary key",
    what="A table created by the migration that has no primary key when the migration ends "
    "(one added by ALTER TABLE later in the same migration counts). Temporary tables, "
    "partitions and tables copied with LIKE are not checked.",
    why="Without a key, duplicate rows cannot be told apart or removed one at a time, "
    'logical replication refuses its UPDATEs and DELETEs ("cannot update table ... because '
    "it does not have a replica identity\"), and dataward's merge loads need one.",
    fix="declare one: id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, or the natural "
    "key's columns",
    bad="CREATE TABLE audit_log (happened_at timestamptz NOT NULL, message text NOT NULL);",
    good="CREATE TABLE audit_log (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  happened_at timestamptz NOT NULL,\n  message text NOT NULL\n);",
)
def missing_primary_key(ctx: ScriptContext) -> Iterator[Hit]:
    for statement in ctx.statements:
        node = statement.node
        if isinstance(node, ast.CreateStmt):
            if node.partbound is not None or node.relation.relpersistence == "t":
                continue
            if any(isinstance(e, ast.TableLikeClause) for e in node.tableElts or ()):
                continue
            table = table_name(node.relation)
        elif isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_TABLE:
            table = table_name(node.into.rel)
        else:
            continue
        known = ctx.end.table(table)
        if known is not None and known.primary_key is None:
            yield Hit(
                f"{table} has no primary key: duplicate rows cannot be told apart, and "
                "logical replication refuses its UPDATEs and DELETEs",
                statement,
            )
