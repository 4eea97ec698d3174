"""Render the same checks as SQL with sqlglot, for data at rest (duckdb, postgres, spark).

Expressions are built as sqlglot trees, never by formatting text: every identifier is a
quoted `Identifier`, every value a literal, so hostile column names or values cannot
change the statement. The dialect only decides how the tree is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from dataward.checks.model import Check, CheckKind
from dataward.contract.model import Table
from dataward.contract.types import FLOAT_KINDS, INTEGER_KINDS, DataType, TypeKind

DIALECTS = ("duckdb", "postgres", "spark")


def identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def column(name: str, table_alias: str | None = None) -> exp.Column:
    return exp.Column(this=identifier(name), table=identifier(table_alias) if table_alias else None)


def table_ref(name: str, schema: str | None = None, alias: str | None = None) -> exp.Table:
    table = exp.Table(this=identifier(name), db=identifier(schema) if schema else None)
    if alias:
        table.set("alias", exp.TableAlias(this=identifier(alias)))
    return table


def sql_type(data_type: DataType) -> exp.DataType:
    text = str(data_type)
    if data_type.kind is TypeKind.JSONB:
        text = "JSON"  # JSONB compares like JSON; only PostgreSQL stores it differently
    return exp.DataType.build(text, dialect="postgres")


def literal(value: Any, data_type: DataType | None) -> exp.Expression:
    """A literal in the column's type: decimals stay exact, instants keep their offset."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    kind = data_type.kind if data_type else None
    if isinstance(value, Decimal):
        if kind in FLOAT_KINDS:
            return exp.Literal.number(str(value))
        exponent = value.as_tuple().exponent
        scale = max(0, -exponent) if isinstance(exponent, int) else 0
        digits = max(len(value.as_tuple().digits), scale + 1)
        if kind in INTEGER_KINDS and scale == 0:
            return exp.Literal.number(str(value))
        precision = min(38, max(digits, scale + 1))
        return exp.cast(
            exp.Literal.string(str(value)),
            exp.DataType.build(f"DECIMAL({precision},{scale})"),
        )
    if isinstance(value, datetime):
        target = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build(target))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if data_type is not None and (
        kind is TypeKind.DECIMAL or kind in INTEGER_KINDS or kind in FLOAT_KINDS
    ):
        return exp.cast(exp.Literal.string(str(value)), sql_type(data_type))
    return exp.Literal.string(str(value))


def _not_null_all(names: Sequence[str], alias: str | None = None) -> exp.Expression:
    return exp.and_(*[exp.not_(column(n, alias).is_(exp.null())) for n in names])


def violation(check: Check, alias: str | None = None, schema: str | None = None) -> exp.Expression:
    """A boolean expression, never NULL, true where the row violates the check.

    `schema` is where referenced tables (foreign keys) live, as the checked table does.
    """
    return exp.func("COALESCE", exp.paren(_predicate(check, alias, schema)), exp.false())


def _predicate(check: Check, alias: str | None, schema: str | None = None) -> exp.Expression:
    kind = check.kind
    cols = [column(name, alias) for name in check.columns]
    if kind is CheckKind.NOT_NULL:
        return cols[0].is_(exp.null())
    if kind is CheckKind.MISSING:
        missing = cols[0].is_(exp.null())
        if check.values:
            values = [literal(v, check.column_type) for v in check.values]
            return exp.or_(missing, cols[0].isin(*values))
        return missing
    if kind is CheckKind.FINITE:
        specials = [
            exp.cast(exp.Literal.string(s), exp.DataType.build("DOUBLE"))
            for s in ("NaN", "Infinity", "-Infinity")
        ]
        return exp.cast(cols[0], exp.DataType.build("DOUBLE")).isin(*specials)
    if kind is CheckKind.RANGE:
        parts: list[exp.Expression] = []
        if check.low is not None:
            low = literal(check.low, check.column_type)
            parts.append(
                exp.LT(this=cols[0], expression=low)
                if check.low_inclusive
                else exp.LTE(this=cols[0], expression=low)
            )
        if check.high is not None:
            high = literal(check.high, check.column_type)
            parts.append(
                exp.GT(this=cols[0], expression=high)
                if check.high_inclusive
                else exp.GTE(this=cols[0], expression=high)
            )
        return exp.or_(*parts)
    if kind is CheckKind.LENGTH:
        length = exp.Length(this=_as_text(cols[0], check.column_type))
        parts = []
        if check.min_length is not None:
            parts.append(exp.LT(this=length, expression=exp.Literal.number(check.min_length)))
        if check.max_length is not None:
            parts.append(
                exp.GT(this=length.copy(), expression=exp.Literal.number(check.max_length))
            )
        return exp.or_(*parts)
    if kind is CheckKind.PATTERN:
        matches = exp.RegexpLike(
            this=_as_text(cols[0], check.column_type),
            expression=exp.Literal.string(check.pattern or ""),
        )
        return exp.not_(matches)
    if kind is CheckKind.ACCEPTED_VALUES:
        values = [literal(v, check.column_type) for v in check.values or ()]
        return exp.not_(cols[0].isin(*values))
    if kind is CheckKind.UNIQUE:
        count = exp.Window(
            this=exp.Count(this=exp.Star()),
            partition_by=[c.copy() for c in cols],
        )
        return exp.and_(
            _not_null_all(check.columns, alias),
            exp.GT(this=count, expression=exp.Literal.number(1)),
        )
    if kind is CheckKind.FOREIGN_KEY:
        ref_alias = "dw_ref"
        matches = exp.and_(
            *[
                exp.EQ(this=column(ref_col, ref_alias), expression=column(own, alias))
                for own, ref_col in zip(check.columns, check.referenced_columns or (), strict=True)
            ]
        )
        lookup = (
            exp.select(exp.Literal.number(1))
            .from_(table_ref(check.referenced_table or "", schema, alias=ref_alias))
            .where(matches)
        )
        return exp.and_(_not_null_all(check.columns, alias), exp.not_(exp.Exists(this=lookup)))
    raise ValueError(f"{kind} has no row predicate")


def _as_text(expr: exp.Expression, data_type: DataType | None) -> exp.Expression:
    if data_type is not None and (data_type.is_text or data_type.kind is TypeKind.UUID):
        return expr if data_type.is_text else exp.cast(expr, exp.DataType.build("TEXT"))
    return exp.cast(expr, exp.DataType.build("TEXT"))


def failing_rows_query(
    table: str,
    row_id: str,
    checks: Sequence[Check],
    dialect: str,
    schema: str | None = None,
) -> str:
    """Rows violating any of `checks`, with one boolean column per check (named by id).

    Window predicates (uniqueness) cannot sit in WHERE, so the flags are computed in a
    derived table and filtered outside it.
    """
    row_checks = [c for c in checks if c.is_row_level]
    alias = "dw_row"
    flags = [violation(c, alias, schema).as_(identifier(c.id)) for c in row_checks]
    inner = exp.select(column(row_id, alias), *flags).from_(table_ref(table, schema, alias))
    outer = (
        exp.select(exp.Star())
        .from_(inner.subquery("dw_flags"))
        .where(exp.or_(*[column(c.id) for c in row_checks]) if row_checks else exp.false())
        .order_by(column(row_id))
    )
    return outer.sql(dialect=dialect)


def violation_counts_query(
    table: str, checks: Sequence[Check], dialect: str, schema: str | None = None
) -> str:
    """One row: the number of rows violating each row-level check, plus the row count."""
    row_checks = [c for c in checks if c.is_row_level]
    alias = "dw_row"
    flags = [violation(c, alias, schema).as_(identifier(c.id)) for c in row_checks]
    inner = exp.select(*flags).from_(table_ref(table, schema, alias)) if flags else None
    sums = [
        exp.func(
            "SUM",
            exp.Case().when(column(c.id), exp.Literal.number(1)).else_(exp.Literal.number(0)),
        ).as_(identifier(c.id))
        for c in row_checks
    ]
    source = inner.subquery("dw_flags") if inner is not None else table_ref(table, schema)
    query = exp.select(exp.Count(this=exp.Star()).as_(identifier("dw_row_count")), *sums).from_(
        source
    )
    return query.sql(dialect=dialect)


def freshness_query(check: Check, table: str, dialect: str, schema: str | None = None) -> str:
    newest = exp.Max(this=column(check.columns[0]))
    return exp.select(newest).from_(table_ref(table, schema)).sql(dialect=dialect)


def sql_check_query(check: Check, table: str, dialect: str, schema: str | None = None) -> str:
    """The user's SQL with ODCS placeholders replaced by quoted names.

    The query text itself comes from the contract author (trusted like code); only the
    names dataward substitutes are quoted for the dialect.
    """
    query = check.query or ""
    table_sql = table_ref(table, schema).sql(dialect=dialect)
    replacements = {"object": table_sql}
    if check.column:
        replacements["property"] = identifier(check.column).sql(dialect=dialect)
    for key, value in replacements.items():
        query = query.replace("${" + key + "}", value).replace("{" + key + "}", value)
    return query


def create_table_sql(
    table: Table,
    dialect: str,
    schema: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
    *,
    name: str | None = None,
    trailing: Sequence[tuple[str, str, bool]] = (),
    checks: Sequence[Check] = (),
) -> str:
    """CREATE TABLE for a contract table: its types, NOT NULL, primary key and checks.

    `extra` adds columns dataward itself keeps (name, SQL type), e.g. a row id, before the
    contract's; `trailing` (name, SQL type, not null) after them. `checks` become CHECK
    constraints (row-level predicates over one row only). `name` overrides the table name.
    """
    definitions: list[exp.Expression] = [
        exp.ColumnDef(this=identifier(name), kind=exp.DataType.build(type_text, dialect="postgres"))
        for name, type_text in extra
    ]
    for col in table.columns:
        constraints = []
        if col.required:
            constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
        definitions.append(
            exp.ColumnDef(
                this=identifier(col.name), kind=storage_type(col.type), constraints=constraints
            )
        )
    for col_name, type_text, not_null in trailing:
        definitions.append(
            exp.ColumnDef(
                this=identifier(col_name),
                kind=exp.DataType.build(type_text, dialect="postgres"),
                constraints=[exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
                if not_null
                else [],
            )
        )
    if table.primary_key:
        definitions.append(
            exp.PrimaryKey(expressions=[identifier(key) for key in table.primary_key])
        )
    for check in checks:
        definitions.append(
            exp.Constraint(
                this=identifier(f"{check.id}"[:63]),
                expressions=[exp.CheckColumnConstraint(this=exp.not_(violation(check)))],
            )
        )
    create = exp.Create(
        this=exp.Schema(
            this=table_ref(name or table.storage_name, schema), expressions=definitions
        ),
        kind="TABLE",
    )
    return create.sql(dialect=dialect)


def storage_type(data_type: DataType) -> exp.DataType:
    """The type a warehouse column of `data_type` is created with."""
    if data_type.kind is TypeKind.JSONB:
        return exp.DataType.build("JSONB", dialect="postgres")
    return sql_type(data_type)
