"""Small readers over pglast's AST: names, column definitions, constraints, expressions.

Every rule asks the same questions of a node (which table, which column, is this a NOT
NULL); answering them here keeps each rule a few lines over PostgreSQL's own parse tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

TABLE_OBJECTS = (ObjectType.OBJECT_TABLE,)
SERIAL_NAMES = ("serial", "serial4", "bigserial", "serial8", "smallserial", "serial2")


def table_name(relation: ast.RangeVar | None) -> str:
    """`schema.table`, or just `table` in the default schema (how the schema model keys it)."""
    if relation is None:
        return ""
    schema = relation.schemaname
    return f"{schema}.{relation.relname}" if schema and schema != "public" else relation.relname


def relation_of(node: ast.Node) -> str:
    """The table a statement is about ('' when it has none)."""
    return table_name(getattr(node, "relation", None))


def dotted(names: tuple[Any, ...] | None) -> str:
    """A qualified name from a tuple of String nodes (DROP objects, function names)."""
    parts = [n.sval for n in names or () if isinstance(n, ast.String)]
    if len(parts) > 1 and parts[0] == "public":
        parts = parts[1:]
    return ".".join(parts)


def strings(nodes: tuple[Any, ...] | None) -> tuple[str, ...]:
    return tuple(n.sval for n in nodes or () if isinstance(n, ast.String))


def commands(node: ast.Node) -> tuple[ast.AlterTableCmd, ...]:
    """An ALTER TABLE's subcommands (ALTER INDEX, VIEW and the like have none here)."""
    if isinstance(node, ast.AlterTableStmt) and node.objtype in TABLE_OBJECTS:
        return tuple(node.cmds or ())
    return ()


def column_constraints(column: ast.ColumnDef, *kinds: ConstrType) -> list[ast.Constraint]:
    return [c for c in column.constraints or () if c.contype in kinds]


def is_not_null(column: ast.ColumnDef) -> bool:
    return bool(column.is_not_null) or bool(
        column_constraints(column, ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
    )


def default_expr(column: ast.ColumnDef) -> ast.Node | None:
    found = column_constraints(column, ConstrType.CONSTR_DEFAULT)
    if found:
        return found[0].raw_expr
    return column.raw_default


def fills_every_row(column: ast.ColumnDef) -> str | None:
    """Why adding this column computes a value per existing row (identity, stored
    generated, serial), or None."""
    if column_constraints(column, ConstrType.CONSTR_IDENTITY) or column.identity not in (
        "",
        "\x00",
    ):
        return "an identity column draws a value from its sequence for every existing row"
    if column_constraints(column, ConstrType.CONSTR_GENERATED):
        return "a stored generated column computes its value for every existing row"
    names = type_names(column.typeName)
    if names and names[-1] in SERIAL_NAMES:
        return f"{names[-1]} is a DEFAULT nextval(...), which draws a value for every existing row"
    return None


def type_names(type_name: ast.TypeName | None) -> tuple[str, ...]:
    return strings(type_name.names) if type_name is not None else ()


def walk(node: Any) -> Iterator[ast.Node]:
    """`node` and every node below it."""
    if isinstance(node, ast.Node):
        yield node
        for slot in node.__slots__:
            yield from walk(getattr(node, slot, None))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from walk(item)


def function_names(expression: ast.Node | None) -> list[tuple[str, int]]:
    """Every function an expression calls, as (name, location)."""
    return [
        (dotted(n.funcname).rsplit(".", 1)[-1].lower(), n.location)
        for n in walk(expression)
        if isinstance(n, ast.FuncCall)
    ]


def not_null_columns(check: ast.Node | None) -> frozenset[str]:
    """The columns a CHECK expression proves NOT NULL: `col IS NOT NULL`, alone or ANDed
    with other conditions (what PostgreSQL recognises to skip SET NOT NULL's scan)."""
    if isinstance(check, ast.NullTest) and check.nulltesttype.name == "IS_NOT_NULL":
        fields = strings(check.arg.fields) if isinstance(check.arg, ast.ColumnRef) else ()
        return frozenset(fields[-1:])
    if isinstance(check, ast.BoolExpr) and check.boolop.name == "AND_EXPR":
        found: frozenset[str] = frozenset()
        for arg in check.args or ():
            found |= not_null_columns(arg)
        return found
    return frozenset()


def index_columns(node: ast.IndexStmt) -> tuple[str | None, ...]:
    """An index's key columns in order; an expression is None."""
    return tuple(p.name if p.name else None for p in node.indexParams or ())


def has_where(node: ast.UpdateStmt | ast.DeleteStmt) -> bool:
    return node.whereClause is not None


def uses_concurrently(node: ast.Node) -> bool:
    if isinstance(node, ast.IndexStmt | ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(p.defname == "concurrently" for p in node.params or ())
    return False


def defined_columns(node: ast.Node) -> Iterator[tuple[str, str, ast.TypeName, int]]:
    """Every column a statement gives a type: (table, column, type, location) for CREATE
    TABLE's columns, ADD COLUMN and ALTER COLUMN ... TYPE."""
    if isinstance(node, ast.CreateStmt):
        table = table_name(node.relation)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                yield table, element.colname, element.typeName, element.location
        return
    table = relation_of(node)
    for cmd in commands(node):
        definition = cmd.def_
        if not isinstance(definition, ast.ColumnDef) or definition.typeName is None:
            continue
        if cmd.subtype == AlterTableType.AT_AddColumn:
            yield table, definition.colname, definition.typeName, definition.location
        elif cmd.subtype == AlterTableType.AT_AlterColumnType:
            yield table, cmd.name, definition.typeName, definition.typeName.location
