"""PostgreSQL DDL as the ORMs write it, one statement as text: what a migration in Python,
Ruby or PHP runs, rendered so the linter's rules read it exactly as they read a .sql file.

Each function returns one statement without its `;` (the layout adds it). Nothing here is
executed anywhere: the text only goes to PostgreSQL's parser (pglast).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")
_NEEDS_QUOTES = set(RESERVED_KEYWORDS) | set(TYPE_FUNC_NAME_KEYWORDS)


class Raw(str):
    """An SQL expression, written as it is (a server default such as now())."""


def ident(name: str) -> str:
    if _PLAIN.fullmatch(name) and name not in _NEEDS_QUOTES:
        return name
    return '"' + name.replace('"', '""') + '"'


def qname(name: str) -> str:
    """A possibly schema-qualified name: `billing.invoices`."""
    return ".".join(ident(part) for part in name.split("."))


def literal(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # A string, or an array or JSON default: its exact text matters to no rule, only
    # that it is a constant.
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Column:
    name: str
    type: str  # SQL type text: bigint, varchar(255), timestamp(6) without time zone
    not_null: bool = False
    default: str | None = None  # an SQL expression
    primary_key: bool = False
    unique: bool = False
    references: tuple[str, str] | None = None  # (table, column)
    deferrable: bool = False
    identity: str | None = None  # "ALWAYS" | "BY DEFAULT"
    generated: str | None = None  # a stored generated column's expression
    line: int = 0  # where the source declares it

    def sql(self) -> str:
        parts = [ident(self.name), self.type]
        if self.identity:
            parts.append(f"GENERATED {self.identity} AS IDENTITY")
        if self.generated:
            parts.append(f"GENERATED ALWAYS AS ({self.generated}) STORED")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.primary_key:
            parts.append("PRIMARY KEY")
        elif self.not_null:
            parts.append("NOT NULL")
        if self.unique and not self.primary_key:
            parts.append("UNIQUE")
        if self.references is not None:
            table, column = self.references
            parts.append(f"REFERENCES {qname(table)} ({ident(column)})")
            if self.deferrable:
                parts.append("DEFERRABLE INITIALLY DEFERRED")
        return " ".join(parts)


def columns_list(columns: Iterable[str]) -> str:
    return ", ".join(ident(c) for c in columns)


def create_table_parts(
    table: str,
    line: int,
    columns: Sequence[Column],
    constraints: Sequence[tuple[int, str]] = (),
    *,
    if_not_exists: bool = False,
    end_line: int | None = None,
) -> list[tuple[int, str]]:
    """CREATE TABLE as fragments, each column on the line that declares it (a rule about
    one column then names that line)."""
    head = "CREATE TABLE " + ("IF NOT EXISTS " if if_not_exists else "") + qname(table) + " ("
    elements = [(c.line or line, c.sql()) for c in columns] + list(constraints)
    parts = [(line, head)]
    for number, (where, text) in enumerate(elements):
        last = number == len(elements) - 1
        parts.append((where, text + ("" if last else ",")))
    parts.append((end_line or (parts[-1][0] if elements else line), ")"))
    return parts


def add_column(table: str, column: Column, *, if_not_exists: bool = False) -> str:
    guard = "IF NOT EXISTS " if if_not_exists else ""
    return f"ALTER TABLE {qname(table)} ADD COLUMN {guard}{column.sql()}"


def drop_column(table: str, column: str, *, if_exists: bool = False) -> str:
    guard = "IF EXISTS " if if_exists else ""
    return f"ALTER TABLE {qname(table)} DROP COLUMN {guard}{ident(column)}"


def alter_type(table: str, column: str, type_: str, using: str | None = None) -> str:
    tail = f" USING {using}" if using else ""
    return f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(column)} TYPE {type_}{tail}"


def set_not_null(table: str, column: str, not_null: bool = True) -> str:
    verb = "SET" if not_null else "DROP"
    return f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(column)} {verb} NOT NULL"


def set_default(table: str, column: str, default: str | None) -> str:
    change = f"SET DEFAULT {default}" if default is not None else "DROP DEFAULT"
    return f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(column)} {change}"


def rename_column(table: str, old: str, new: str) -> str:
    return f"ALTER TABLE {qname(table)} RENAME COLUMN {ident(old)} TO {ident(new)}"


def rename_table(old: str, new: str) -> str:
    return f"ALTER TABLE {qname(old)} RENAME TO {ident(new.split('.')[-1])}"


def rename_index(old: str, new: str) -> str:
    return f"ALTER INDEX {qname(old)} RENAME TO {ident(new.split('.')[-1])}"


def drop_table(table: str, *, if_exists: bool = False, cascade: bool = False) -> str:
    guard = "IF EXISTS " if if_exists else ""
    return f"DROP TABLE {guard}{qname(table)}" + (" CASCADE" if cascade else "")


def create_index(
    name: str,
    table: str,
    keys: Sequence[str | Raw],
    *,
    unique: bool = False,
    concurrently: bool = False,
    if_not_exists: bool = False,
    using: str | None = None,
    where: str | None = None,
) -> str:
    """`keys`: column names, or Raw expressions (lower(email), created_at DESC)."""
    rendered = ", ".join(k if isinstance(k, Raw) else ident(k) for k in keys)
    text = "CREATE " + ("UNIQUE " if unique else "") + "INDEX "
    text += ("CONCURRENTLY " if concurrently else "") + ("IF NOT EXISTS " if if_not_exists else "")
    text += f"{ident(name)} ON {qname(table)}"
    if using:
        text += f" USING {using}"
    text += f" ({rendered})"
    if where:
        text += f" WHERE {where}"
    return text


def drop_index(name: str, *, concurrently: bool = False, if_exists: bool = False) -> str:
    return (
        "DROP INDEX "
        + ("CONCURRENTLY " if concurrently else "")
        + ("IF EXISTS " if if_exists else "")
        + qname(name)
    )


def add_foreign_key(
    table: str,
    name: str,
    columns: Sequence[str],
    target: str,
    target_columns: Sequence[str],
    *,
    not_valid: bool = False,
    deferrable: bool = False,
) -> str:
    text = (
        f"ALTER TABLE {qname(table)} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
        f"({columns_list(columns)}) REFERENCES {qname(target)} ({columns_list(target_columns)})"
    )
    if deferrable:
        text += " DEFERRABLE INITIALLY DEFERRED"
    return text + (" NOT VALID" if not_valid else "")


def add_unique(table: str, name: str, columns: Sequence[str]) -> str:
    return (
        f"ALTER TABLE {qname(table)} ADD CONSTRAINT {ident(name)} UNIQUE ({columns_list(columns)})"
    )


def add_primary_key(table: str, name: str | None, columns: Sequence[str]) -> str:
    named = f"CONSTRAINT {ident(name)} " if name else ""
    return f"ALTER TABLE {qname(table)} ADD {named}PRIMARY KEY ({columns_list(columns)})"


def add_check(table: str, name: str, condition: str, *, not_valid: bool = False) -> str:
    text = f"ALTER TABLE {qname(table)} ADD CONSTRAINT {ident(name)} CHECK ({condition})"
    return text + (" NOT VALID" if not_valid else "")


def validate_constraint(table: str, name: str) -> str:
    return f"ALTER TABLE {qname(table)} VALIDATE CONSTRAINT {ident(name)}"


def drop_constraint(table: str, name: str, *, if_exists: bool = False) -> str:
    guard = "IF EXISTS " if if_exists else ""
    return f"ALTER TABLE {qname(table)} DROP CONSTRAINT {guard}{ident(name)}"


def backfill_nulls(table: str, column: str, value: str) -> str:
    """What Rails' change_column_null and Django's AlterField run before SET NOT NULL when
    given a default: every NULL set to it."""
    return f"UPDATE {qname(table)} SET {ident(column)} = {value} WHERE {ident(column)} IS NULL"


def create_extension(name: str) -> str:
    return f"CREATE EXTENSION IF NOT EXISTS {ident(name)}"


def drop_extension(name: str) -> str:
    return f"DROP EXTENSION IF EXISTS {ident(name)}"
