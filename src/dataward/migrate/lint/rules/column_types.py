"""Column types that lose or distort data, or run out: for every column an up types
(CREATE TABLE, ADD COLUMN, ALTER COLUMN ... TYPE).

A down is not judged on types: it puts back the shape the table had, whatever that was,
and the rules are about choosing a type, which the migration that first chose it answers
for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from dataward.migrate.lint.context import StatementContext
from dataward.migrate.lint.model import ERROR, INFO, WARNING, Hit
from dataward.migrate.lint.nodes import (
    column_constraints,
    commands,
    defined_columns,
    relation_of,
    strings,
    table_name,
)
from dataward.migrate.lint.registry import Registrar
from dataward.migrate.lint.sqltypes import FLOATS, SERIALS, SqlType, sql_type

rule = Registrar("types")

# Words that make a column name money, whole or as a part (unit_price, total_amount).
MONEY_WORDS = {
    "amount", "amounts", "price", "prices", "cost", "costs", "total", "subtotal", "balance",
    "fee", "fees", "tax", "taxes", "salary", "wage", "wages", "revenue", "payment", "paid",
    "charge", "refund", "discount", "income", "expense", "budget", "credit", "debit",
    "payout", "commission", "fare", "spend", "profit", "earnings",
}  # fmt: skip
# ... unless another part says it measures something else (total_weight, price_ratio).
NOT_MONEY_WORDS = {
    "count", "qty", "quantity", "weight", "distance", "duration", "seconds", "secs", "ms",
    "minutes", "hours", "days", "percent", "pct", "percentage", "ratio", "score", "lat",
    "lon", "lng", "latitude", "longitude", "size", "length", "width", "height",
}  # fmt: skip


def is_money_name(name: str) -> bool:
    # snake_case and camelCase parts: unit_price, unitPrice
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)}
    return bool(words & MONEY_WORDS) and not words & NOT_MONEY_WORDS


def _typed(ctx: StatementContext) -> Iterator[tuple[str, str, SqlType, int]]:
    if ctx.script.direction == "down":
        return
    for table, column, type_name, location in defined_columns(ctx.node):
        kind = sql_type(type_name)
        if kind is not None:
            yield table, column, kind, location


@rule.statement(
    id="float-for-money",
    severity=ERROR,
    title="Money in a floating-point column",
    what="A column named like money (amount, price, cost, total, balance, fee, tax, salary, "
    "revenue, ... as the name or a part of it, such as unit_price) typed real, double "
    "precision or float.",
    why="Binary floating point cannot hold most decimal fractions: 0.1 + 0.2 is stored as "
    "0.30000000000000004, sums of many prices drift by cents, and real keeps only about 6 "
    "significant digits (123456.78 becomes 123456.8). The values are rounded silently.",
    fix="numeric(19,4) (exact decimal), or bigint holding the amount in the smallest unit (cents)",
    bad="CREATE TABLE invoices (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  amount double precision NOT NULL\n);",
    good="CREATE TABLE invoices (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  amount numeric(19,4) NOT NULL\n);",
)
def float_for_money(ctx: StatementContext) -> Iterator[Hit]:
    for table, column, kind, location in _typed(ctx):
        if kind.name in FLOATS and is_money_name(column):
            yield Hit(
                f"{table}.{column} holds money as {kind}: 0.1 + 0.2 is stored as "
                "0.30000000000000004 and sums drift by cents; every value is rounded to a "
                "binary fraction silently",
                ctx.statement,
                offset=location,
            )


@rule.statement(
    id="timestamp-without-time-zone",
    severity=WARNING,
    title="timestamp without time zone",
    what="A column typed timestamp (without time zone), in any precision or as an array.",
    why="timestamp drops the offset it is given: 21:11:24+02 and 21:11:24-06 are both "
    "stored as 21:11:24, eight hours apart, and every reader has to guess which zone was "
    "meant. timestamptz stores the instant itself.",
    fix="timestamptz (timestamp with time zone): it stores the instant and shows it in the "
    "session's time zone",
    bad="CREATE TABLE events (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  happened_at timestamp NOT NULL\n);",
    good="CREATE TABLE events (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  happened_at timestamptz NOT NULL\n);",
)
def timestamp_without_time_zone(ctx: StatementContext) -> Iterator[Hit]:
    for table, column, kind, location in _typed(ctx):
        if kind.name == "timestamp":
            yield Hit(
                f"{table}.{column} is timestamp without time zone: 21:11:24+02 and "
                "21:11:24-06 are both stored as 21:11:24, eight hours apart, and readers must "
                "guess the zone",
                ctx.statement,
                offset=location,
            )


@rule.statement(
    id="json-instead-of-jsonb",
    severity=WARNING,
    title="json instead of jsonb",
    what="A column typed json.",
    why="json keeps the text as written, duplicate keys included, and has no equality "
    'operator: DISTINCT, GROUP BY, UNION and unique indexes on it fail ("could not '
    'identify an equality operator for type json"), it cannot be indexed with GIN, and '
    "every ->> parses the whole document again.",
    fix="jsonb (json only where the exact original text and key order must be kept)",
    bad="CREATE TABLE webhooks (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  payload json NOT NULL\n);",
    good="CREATE TABLE webhooks (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  payload jsonb NOT NULL\n);",
)
def json_instead_of_jsonb(ctx: StatementContext) -> Iterator[Hit]:
    for table, column, kind, location in _typed(ctx):
        if kind.name == "json":
            yield Hit(
                f"{table}.{column} is json: DISTINCT, GROUP BY and unique indexes on it fail "
                "(no equality operator), duplicate keys are kept, and every ->> re-parses the "
                "text",
                ctx.statement,
                offset=location,
            )


@rule.statement(
    id="char-type",
    severity=WARNING,
    title="char(n)",
    what="A column typed char(n) / character(n) (bpchar). The one-byte internal type "
    '"char" is not flagged.',
    why="char(n) pads with spaces: 'ab' is stored as 'ab ' in char(3), the padding is "
    'ignored in comparisons but dropped when cast to text, a longer value fails ("value '
    'too long for type character(3)"), and it is no faster than text in PostgreSQL.',
    fix="text, with a CHECK (length(col) = 3) if the length matters, or varchar(n)",
    bad="ALTER TABLE orders ADD COLUMN currency char(3);",
    good="SET lock_timeout = '5s';\n"
    "ALTER TABLE orders ADD COLUMN currency text CHECK (length(currency) = 3);",
)
def char_type(ctx: StatementContext) -> Iterator[Hit]:
    for table, column, kind, location in _typed(ctx):
        if kind.name == "bpchar":
            yield Hit(
                f"{table}.{column} is {kind}: values are padded with spaces, the padding "
                "vanishes in some comparisons and casts but not others, and a longer value "
                "fails",
                ctx.statement,
                offset=location,
            )


@rule.statement(
    id="int-primary-key",
    severity=WARNING,
    title="integer or smallint primary key",
    what="A single-column primary key typed integer, int4, smallint (or serial, "
    "smallserial): in CREATE TABLE, ADD COLUMN ... PRIMARY KEY, or ADD PRIMARY KEY on a "
    "column whose type the migrations show.",
    why="integer stops at 2,147,483,647 (smallint at 32,767): the next insert fails "
    '("integer out of range", or "nextval: reached maximum value of sequence"), and '
    "changing the key to bigint then rewrites the table and every table that references it, "
    "under exclusive locks.",
    fix="bigint GENERATED ALWAYS AS IDENTITY (8 bytes instead of 4: nothing next to a "
    "rewrite later)",
    bad="CREATE TABLE customers (\n  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY\n);",
    good="CREATE TABLE customers (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY\n);",
)
def int_primary_key(ctx: StatementContext) -> Iterator[Hit]:
    for table, column, kind, location in _primary_key_columns(ctx):
        if kind.base in ("int2", "int4") and not kind.array:
            limit = "2,147,483,647" if kind.base == "int4" else "32,767"
            yield Hit(
                f"{table}.{column}, the primary key, is {kind}: inserts fail once it passes "
                f"{limit}, and moving it to bigint then rewrites {table} and every table "
                "referencing it",
                ctx.statement,
                offset=location,
            )


def _primary_key_columns(ctx: StatementContext) -> Iterator[tuple[str, str, SqlType, int]]:
    """The column of a single-column primary key a statement declares, with its type."""
    node = ctx.node
    if ctx.script.direction == "down":
        return
    if isinstance(node, ast.CreateStmt):
        table = table_name(node.relation)
        columns = {e.colname: e for e in node.tableElts or () if isinstance(e, ast.ColumnDef)}
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                if column_constraints(element, ConstrType.CONSTR_PRIMARY):
                    yield from _typed_column(table, element)
            elif (
                isinstance(element, ast.Constraint) and element.contype == ConstrType.CONSTR_PRIMARY
            ):
                keys = strings(element.keys)
                if len(keys) == 1 and keys[0] in columns:
                    yield from _typed_column(table, columns[keys[0]])
        return
    table = relation_of(node)
    for cmd in commands(node):
        definition = cmd.def_
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(definition, ast.ColumnDef):
            if column_constraints(definition, ConstrType.CONSTR_PRIMARY):
                yield from _typed_column(table, definition)
        elif (
            cmd.subtype == AlterTableType.AT_AddConstraint
            and isinstance(definition, ast.Constraint)
            and definition.contype == ConstrType.CONSTR_PRIMARY
        ):
            keys = strings(definition.keys)
            kind = ctx.schema.column_type(table, keys[0]) if len(keys) == 1 else None
            if kind is not None:
                yield table, keys[0], kind, definition.location


def _typed_column(table: str, column: ast.ColumnDef) -> Iterator[tuple[str, str, SqlType, int]]:
    kind = sql_type(column.typeName)
    if kind is not None:
        yield table, column.colname, kind, column.location


@rule.statement(
    id="serial-column",
    severity=INFO,
    title="serial instead of an identity column",
    what="A column typed serial, bigserial or smallserial.",
    why="serial is a DEFAULT nextval() on a sequence that is a separate object: a role "
    "granted INSERT on the table also needs USAGE on the sequence or its inserts fail "
    '("permission denied for sequence"), CREATE TABLE ... (LIKE ... INCLUDING DEFAULTS) '
    "copies a default that still draws from the old table's sequence, and nothing stops "
    "an insert from bypassing it and colliding later.",
    fix="bigint GENERATED ALWAYS AS IDENTITY (the SQL-standard form: the sequence belongs to "
    "the column, and an explicit value needs OVERRIDING SYSTEM VALUE)",
    bad="CREATE TABLE customers (id bigserial PRIMARY KEY);",
    good="CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
)
def serial_column(ctx: StatementContext) -> Iterator[Hit]:
    for table, column, kind, location in _typed(ctx):
        if kind.name in SERIALS:
            yield Hit(
                f"{table}.{column} is {kind}: its sequence is a separate object (INSERT "
                "alone is not enough to use it, and copies of the table share it)",
                ctx.statement,
                offset=location,
            )
