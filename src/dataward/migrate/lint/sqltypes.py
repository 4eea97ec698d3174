"""Column types as the parser spells them, shown as people write them, and which type
changes PostgreSQL makes without rewriting the table.

The parser turns `int`, `integer` and `int4` into one name (pg_catalog.int4), `float` into
float8, `char(3)` into bpchar(3); comparing those names is comparing types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pglast import ast

from dataward.migrate.lint.nodes import type_names

_SHOWN = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bpchar": "char",
    "bool": "boolean",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
}
SERIALS = {"serial": "int4", "serial4": "int4", "bigserial": "int8", "serial8": "int8"}
SERIALS |= {"smallserial": "int2", "serial2": "int2"}
INTEGERS = {"int2", "int4", "int8"}
FLOATS = {"float4", "float8"}
# Types whose length or precision can grow without touching a row (each has a length
# coercion PostgreSQL knows to skip when the new limit is at least the old one).
_WIDENS = {"varchar", "numeric", "varbit", "timestamp", "timestamptz", "time", "timetz", "interval"}

Verdict = Literal["same", "no-rewrite", "rewrite", "utc-only"]


@dataclass(frozen=True)
class SqlType:
    name: str  # the parser's name: int4, float8, bpchar, varchar, text, ...
    mods: tuple[int, ...] = ()
    array: bool = False

    @property
    def base(self) -> str:
        """What a serial is underneath (int4 for serial)."""
        return SERIALS.get(self.name, self.name)

    def __str__(self) -> str:
        shown = _SHOWN.get(self.name, self.name)
        if self.mods:
            shown += f"({','.join(str(m) for m in self.mods)})"
        return shown + ("[]" if self.array else "")


def sql_type(node: ast.TypeName | None) -> SqlType | None:
    names = type_names(node)
    if node is None or not names:
        return None
    mods = tuple(
        m.val.ival
        for m in node.typmods or ()
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    )
    return SqlType(names[-1].lower(), mods, bool(node.arrayBounds))


def change_verdict(old: SqlType, new: SqlType) -> Verdict:
    """What ALTER COLUMN ... TYPE from `old` to `new` costs (PostgreSQL 12 and later)."""
    if old == new:
        return "same"
    if old.array != new.array:
        return "rewrite"
    if old.name == "varchar" and new.name == "text":
        return "no-rewrite"
    if old.name == "text" and new.name == "varchar" and not new.mods:
        return "no-rewrite"
    if old.name == "cidr" and new.name == "inet":
        return "no-rewrite"
    if old.name == "timestamp" and new.name == "timestamptz" and _not_narrower(old, new):
        # Binary-coercible only when the session's TimeZone is UTC: the stored value is
        # then the same instant; otherwise every row is shifted and rewritten.
        return "utc-only"
    if old.name == new.name and old.name in _WIDENS and _not_narrower(old, new):
        return "no-rewrite"
    return "rewrite"


def _not_narrower(old: SqlType, new: SqlType) -> bool:
    """`new`'s limits are at least `old`'s: no limit, a bigger length or precision, and
    for numeric the same scale."""
    if not new.mods:
        return True
    if not old.mods:
        return False
    if old.name == "numeric":
        old_scale = old.mods[1] if len(old.mods) > 1 else 0
        new_scale = new.mods[1] if len(new.mods) > 1 else 0
        return new.mods[0] >= old.mods[0] and new_scale == old_scale
    return new.mods[0] >= old.mods[0]
