"""Columns and tables: changes that rewrite the table, fail on existing rows, or break the
release that is running while the migration applies (expand/contract).

Expand/contract, in four steps: (1) expand: add the new shape beside the old, nullable or
with a default; (2) ship code that writes both; (3) backfill, in batches; (4) contract:
constrain (NOT NULL) and drop the old shape, after a release stopped using it. A migration
that does step 1 and step 4 together breaks the release still running.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from dataward.migrate.lint.context import StatementContext
from dataward.migrate.lint.model import ERROR, WARNING, Hit
from dataward.migrate.lint.nodes import (
    commands,
    default_expr,
    dotted,
    fills_every_row,
    function_names,
    is_not_null,
    strings,
    table_name,
)
from dataward.migrate.lint.registry import Registrar
from dataward.migrate.lint.sqltypes import change_verdict, sql_type

rule = Registrar("columns")

# Functions PostgreSQL evaluates anew for every row: a default calling one makes ADD COLUMN
# fill every existing row with its own value, which is a rewrite.
VOLATILE = {
    "random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v1",
    "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "nextval", "setval",
    "random_normal", "txid_current", "pg_current_xact_id",
}  # fmt: skip
# Built-ins a default commonly calls that are STABLE or IMMUTABLE: evaluated once for the
# whole ADD COLUMN, so the value is stored in the catalog and no row is touched.
NOT_VOLATILE = {
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "lower",
    "upper", "btrim", "trim", "concat", "concat_ws", "coalesce", "nullif", "greatest",
    "least", "date_trunc", "make_date", "make_time", "make_timestamp", "make_timestamptz",
    "make_interval", "to_timestamp", "to_date", "to_char", "to_jsonb", "to_json",
    "jsonb_build_object", "jsonb_build_array", "json_build_object", "json_build_array",
    "array_fill", "md5", "length", "abs", "round", "floor", "ceil", "timezone", "date_part",
    "extract", "format", "replace", "substring", "left", "right", "lpad", "rpad", "cast",
}  # fmt: skip


def _added_columns(ctx: StatementContext) -> Iterator[ast.ColumnDef]:
    for cmd in commands(ctx.node):
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            yield cmd.def_


def _cmds(ctx: StatementContext, subtype: AlterTableType) -> Iterator[ast.AlterTableCmd]:
    return (cmd for cmd in commands(ctx.node) if cmd.subtype == subtype)


@rule.statement(
    id="add-column-not-null-without-default",
    severity=ERROR,
    title="ADD COLUMN ... NOT NULL without a DEFAULT",
    what="ALTER TABLE ... ADD COLUMN ... NOT NULL (or PRIMARY KEY) with no DEFAULT, on a "
    "table this migration did not create.",
    why="The new column would be NULL in every existing row, so PostgreSQL refuses the "
    'statement on a table that has rows ("column ... contains null values"): it passes on '
    "an empty development database and fails in production.",
    fix="give it a constant DEFAULT (PostgreSQL 11+ adds it without touching a row), or add "
    "it nullable and follow expand/contract (`dataward migrate plan add-not-null-column`)",
    bad="ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL;",
    good="SET lock_timeout = '5s';\n"
    "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';",
)
def add_column_not_null_without_default(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for column in _added_columns(ctx):
        if is_not_null(column) and default_expr(column) is None and not fills_every_row(column):
            yield Hit(
                f"ADD COLUMN {table}.{column.colname} NOT NULL without a DEFAULT fails on any "
                f'{table} that has rows ("column {column.colname} contains null values"): it '
                "passes on an empty database and fails in production",
                ctx.statement,
                offset=column.location,
            )


@rule.statement(
    id="add-column-and-set-not-null",
    severity=ERROR,
    title="A column added and made NOT NULL in the same migration",
    what="ALTER COLUMN ... SET NOT NULL on a column that an ADD COLUMN earlier in the same "
    "migration added (nullable) to an existing table: expand/contract's first and last "
    "steps together.",
    why="The release running while the migration applies does not write the new column, so "
    "from the moment it commits, that release's inserts fail (\"null value in column ... "
    'violates not-null constraint"). And SET NOT NULL reads every row under an ACCESS '
    "EXCLUSIVE lock.",
    fix="add the column nullable (or with a constant DEFAULT) in one migration, ship the "
    "code that writes it, backfill, then make it NOT NULL in a later migration "
    "(`dataward migrate plan add-not-null-column`); with a constant default, ADD COLUMN ... "
    "NOT NULL DEFAULT x in one statement needs no scan at all",
    bad="ALTER TABLE orders ADD COLUMN currency text;\n"
    "UPDATE orders SET currency = 'EUR' WHERE currency IS NULL;\n"
    "ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;",
    good="SET lock_timeout = '5s';\n"
    "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';",
)
def add_column_and_set_not_null(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for cmd in _cmds(ctx, AlterTableType.AT_SetNotNull):
        added = ctx.added_column(table, cmd.name)
        if added is None:
            continue
        statement, column = added
        if default_expr(column) is not None:
            consequence = (
                "SET NOT NULL then reads every row under an ACCESS EXCLUSIVE lock; ADD COLUMN "
                "... NOT NULL DEFAULT in one statement does the same without the scan"
            )
        else:
            consequence = (
                'the running release does not write it, so its inserts fail ("null value in '
                f'column {cmd.name} violates not-null constraint") once this commits, and SET '
                "NOT NULL reads every row under an ACCESS EXCLUSIVE lock"
            )
        yield Hit(
            f"{table}.{cmd.name} is added (line {statement.line}) and made NOT NULL in the "
            f"same migration: {consequence}",
            ctx.statement,
        )


@rule.statement(
    id="add-column-volatile-default",
    severity=ERROR,
    title="ADD COLUMN with a volatile default (a table rewrite)",
    what="ADD COLUMN on an existing table whose DEFAULT calls a volatile function "
    "(random(), clock_timestamp(), gen_random_uuid(), nextval(), ...), or a serial, identity "
    "or stored generated column. A constant default, or a STABLE one such as now(), is "
    "stored once in the catalog (PostgreSQL 11+) and touches no row. A function dataward "
    "does not know is reported as a warning: PostgreSQL makes a function VOLATILE unless it "
    "is declared STABLE or IMMUTABLE.",
    why="Every existing row needs its own value, so PostgreSQL rewrites the whole table and "
    "rebuilds its indexes under an ACCESS EXCLUSIVE lock: no reads or writes until it is "
    "done, and twice the table's size on disk meanwhile.",
    fix="add the column without the default (or with a constant one), set the default with "
    "ALTER COLUMN ... SET DEFAULT (it applies to new rows only), and backfill old rows in "
    "batches",
    bad="ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
    good="SET lock_timeout = '5s';\n"
    "ALTER TABLE orders ADD COLUMN public_id uuid;\n"
    "ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();",
)
def add_column_volatile_default(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for column in _added_columns(ctx):
        rewrite = f"{table} is rewritten, every row, under an ACCESS EXCLUSIVE lock"
        reason = fills_every_row(column)
        if reason:
            yield Hit(
                f"ADD COLUMN {table}.{column.colname}: {reason}, so {rewrite}",
                ctx.statement,
                offset=column.location,
            )
            continue
        for name, location in function_names(default_expr(column)):
            if name in VOLATILE:
                yield Hit(
                    f"ADD COLUMN {table}.{column.colname} DEFAULT {name}(): {name} is volatile, "
                    f"so each existing row gets its own value and {rewrite}",
                    ctx.statement,
                    offset=location,
                )
            elif name not in NOT_VOLATILE:
                yield Hit(
                    f"ADD COLUMN {table}.{column.colname} DEFAULT {name}(): unless {name} is "
                    f"declared STABLE or IMMUTABLE it is volatile, and then {rewrite}",
                    ctx.statement,
                    offset=location,
                    severity=WARNING,
                )
            else:
                continue
            break


@rule.statement(
    id="alter-column-type",
    severity=ERROR,
    title="ALTER COLUMN TYPE that rewrites the table",
    what="ALTER COLUMN ... TYPE on an existing table, unless the change is one PostgreSQL "
    "makes without touching rows: varchar(n) to a longer varchar or to text, text to "
    "varchar, numeric(p,s) to a larger precision with the same scale (or to plain numeric), "
    "a longer varbit, more precision for timestamp/time/interval, cidr to inet. timestamp "
    "to timestamptz is a warning: it skips the rewrite only when the session's TimeZone is "
    "UTC. When the migrations do not show the column's current type, a change to a type "
    "that could be such a widening is a warning; any other is an error.",
    why="PostgreSQL copies every row into a new file and rebuilds every index of the table "
    "under an ACCESS EXCLUSIVE lock: no reads or writes until it is done (minutes to hours), "
    "and twice the disk meanwhile.",
    fix="expand/contract: add a column of the new type, keep both in step with a trigger, "
    "backfill in batches, switch the reads, drop the old column later (`dataward migrate "
    "plan change-type` writes the steps)",
    bad="ALTER TABLE orders ALTER COLUMN amount TYPE numeric(19,4);",
    good=(
        "CREATE TABLE orders (\n"
        "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
        "  amount numeric(12,4) NOT NULL\n);",
        "SET lock_timeout = '5s';\n"
        "-- more precision with the same scale: no row is touched\n"
        "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(19,4);",
    ),
)
def alter_column_type(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for cmd in _cmds(ctx, AlterTableType.AT_AlterColumnType):
        if not isinstance(cmd.def_, ast.ColumnDef):
            continue
        new = sql_type(cmd.def_.typeName)
        old = ctx.schema.column_type(table, cmd.name)
        where = f"{table}.{cmd.name}"
        rewrite = f"rewrites {table} and rebuilds its indexes under an ACCESS EXCLUSIVE lock"
        if new is None:
            continue
        if _using_rewrites(cmd.def_.raw_default, cmd.name):
            yield Hit(
                f"ALTER COLUMN {where} TYPE {new} USING an expression {rewrite}", ctx.statement
            )
            continue
        if old is None:
            if new.name in ("text", "varchar", "numeric", "varbit", "timestamptz", "inet"):
                yield Hit(
                    f"ALTER COLUMN {where} TYPE {new}: these migrations do not show its current "
                    f"type; unless the change only widens it (varchar(n) to a longer varchar or "
                    f"text, numeric to more precision with the same scale) it {rewrite}",
                    ctx.statement,
                    severity=WARNING,
                )
            else:
                yield Hit(f"ALTER COLUMN {where} TYPE {new} {rewrite}", ctx.statement)
            continue
        verdict = change_verdict(old, new)
        if verdict == "rewrite":
            yield Hit(f"ALTER COLUMN {where} TYPE {new} (from {old}) {rewrite}", ctx.statement)
        elif verdict == "utc-only":
            yield Hit(
                f"ALTER COLUMN {where} TYPE {new} (from {old}) skips the rewrite only when the "
                f"session's TimeZone is UTC: otherwise it {rewrite}, and every value is read "
                "as a time in the session's zone",
                ctx.statement,
                severity=WARNING,
                fix="SET TimeZone = 'UTC' in the migration first (the stored values are UTC "
                "already, so nothing moves), or convert by expand/contract",
            )


def _using_rewrites(using: ast.Node | None, column: str) -> bool:
    """A USING other than the column itself (or a plain cast of it) computes new values."""
    if using is None:
        return False
    if isinstance(using, ast.TypeCast):
        using = using.arg
    return not (isinstance(using, ast.ColumnRef) and strings(using.fields)[-1:] == (column,))


@rule.statement(
    id="rename-column",
    severity=ERROR,
    title="RENAME COLUMN",
    what="ALTER TABLE ... RENAME COLUMN on a table this migration did not create. A down "
    "renaming back what its up renamed is not reported again.",
    why="The release running while the migration applies still uses the old name: from the "
    'moment it commits, its queries fail ("column ... does not exist") until the new '
    "release is out everywhere. No deploy order avoids the window.",
    fix="expand/contract: add the new column, keep both in step with a trigger, backfill, "
    "move reads and writes to it, drop the old one later (`dataward migrate plan "
    "rename-column`)",
    bad="ALTER TABLE orders RENAME COLUMN amount TO total;",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN total numeric(19,4);",
)
def rename_column(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if not isinstance(node, ast.RenameStmt) or node.renameType != ObjectType.OBJECT_COLUMN:
        return
    table = table_name(node.relation)
    if ctx.is_new(table) or (table, node.subname) in ctx.script.undo.renamed_columns:
        return
    yield Hit(
        f"renaming {table}.{node.subname} to {node.newname} breaks the running release at "
        f'once: its queries naming {node.subname} fail ("column {node.subname} does not '
        'exist") until the new release is everywhere',
        ctx.statement,
    )


@rule.statement(
    id="rename-table",
    severity=ERROR,
    title="RENAME TABLE",
    what="ALTER TABLE ... RENAME TO on a table this migration did not create. A down "
    "renaming back what its up renamed is not reported again.",
    why="The running release still queries the old name: from the moment the migration "
    'commits, its queries fail ("relation ... does not exist") until the new release is '
    "out everywhere.",
    fix="rename it and, in the same migration, CREATE VIEW old_name AS SELECT * FROM "
    "new_name (a simple view is updatable) for the old release; drop the view after it is "
    "gone",
    bad="ALTER TABLE orders RENAME TO purchases;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore rename-table the view keeps the old name working until 2.5 ships\n"
    "ALTER TABLE orders RENAME TO purchases;\n"
    "CREATE VIEW orders AS SELECT * FROM purchases;",
)
def rename_table(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if not isinstance(node, ast.RenameStmt) or node.renameType != ObjectType.OBJECT_TABLE:
        return
    table = table_name(node.relation)
    if ctx.is_new(table) or table in ctx.script.undo.renamed_tables:
        return
    yield Hit(
        f"renaming {table} to {node.newname} breaks the running release at once: its "
        f'queries on {table} fail ("relation {table} does not exist") until the new '
        "release is everywhere",
        ctx.statement,
    )


@rule.statement(
    id="drop-column",
    severity=WARNING,
    title="DROP COLUMN",
    what="ALTER TABLE ... DROP COLUMN on a table this migration did not create. A down "
    "dropping a column its up added is not reported (that is what the down is for).",
    why='Any running release that still reads or writes the column fails ("column ... '
    'does not exist"), and its values are gone: a down can add the column back, empty. '
    "Expand/contract drops a column only in a migration that ships after the last release "
    "using it.",
    fix="first ship a release that no longer reads or writes the column; then drop it, and "
    "say so: `-- dataward:ignore drop-column unused since release X`",
    bad="ALTER TABLE orders DROP COLUMN legacy_code;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore drop-column no release reads it since 2.4 (ticket 812)\n"
    "ALTER TABLE orders DROP COLUMN legacy_code;",
)
def drop_column(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table) or table in ctx.script.undo.tables:
        return
    for cmd in _cmds(ctx, AlterTableType.AT_DropColumn):
        if (table, cmd.name) in ctx.script.undo.columns:
            continue
        yield Hit(
            f"dropping {table}.{cmd.name} breaks any running release that still uses it "
            f'("column {cmd.name} does not exist") and its values are gone: drop it only '
            "after a release stopped using it",
            ctx.statement,
        )


@rule.statement(
    id="drop-table",
    severity=WARNING,
    title="DROP TABLE",
    what="DROP TABLE of a table this migration did not create. A down dropping a table its "
    "up created is not reported.",
    why='Any running release that still uses the table fails ("relation ... does not '
    'exist"), and every row is gone: no down can bring them back.',
    fix="first ship a release that no longer uses the table (rename it aside if unsure, "
    "and drop it a release later); then drop it with "
    "`-- dataward:ignore drop-table unused since release X`",
    bad="DROP TABLE order_notes;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore drop-table unused since 2.4, archived to s3://backups/order_notes\n"
    "DROP TABLE order_notes;",
)
def drop_table(ctx: StatementContext) -> Iterator[Hit]:
    node = ctx.node
    if not isinstance(node, ast.DropStmt) or node.removeType != ObjectType.OBJECT_TABLE:
        return
    for names in node.objects or ():
        table = dotted(names)
        if ctx.is_new(table) or table in ctx.script.undo.tables:
            continue
        yield Hit(
            f'dropping {table} breaks any running release that still uses it ("relation '
            f'{table} does not exist") and its rows are gone for good',
            ctx.statement,
        )


@rule.statement(
    id="drop-not-null",
    severity=WARNING,
    title="DROP NOT NULL",
    what="ALTER COLUMN ... DROP NOT NULL on a table this migration did not create. A down "
    "undoing its up's SET NOT NULL is not reported.",
    why="From then on the column can hold NULL: code of the running release that reads it "
    "as always present breaks on the first NULL written, and the down (SET NOT NULL) fails "
    "once one is there.",
    fix="ship readers that handle NULL first; if the column is being retired, stop writing "
    "it, then drop it (expand/contract); say so with an ignore and its reason",
    bad="ALTER TABLE orders ALTER COLUMN currency DROP NOT NULL;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore drop-not-null readers handle NULL since 2.3; the column retires in 2.5\n"
    "ALTER TABLE orders ALTER COLUMN currency DROP NOT NULL;",
)
def drop_not_null(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for cmd in _cmds(ctx, AlterTableType.AT_DropNotNull):
        if (table, cmd.name) in ctx.script.undo.not_null or (
            table,
            cmd.name,
        ) in ctx.script.undo.columns:
            continue
        yield Hit(
            f"after DROP NOT NULL, {table}.{cmd.name} can hold NULL: running code that reads "
            "it as always present breaks on the first one, and the down's SET NOT NULL fails "
            "once one is written",
            ctx.statement,
        )
