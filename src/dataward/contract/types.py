"""Physical types a contract may name, parsed once into a small value object.

The contract's `physicalType` text is the source of truth for a column's shape in every
warehouse, so it is parsed strictly: an unknown type is an error, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TypeKind(StrEnum):
    SMALLINT = "SMALLINT"
    INTEGER = "INTEGER"
    BIGINT = "BIGINT"
    DECIMAL = "DECIMAL"
    REAL = "REAL"
    DOUBLE = "DOUBLE"
    TEXT = "TEXT"
    VARCHAR = "VARCHAR"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    TIMESTAMPTZ = "TIMESTAMPTZ"
    UUID = "UUID"
    JSON = "JSON"
    JSONB = "JSONB"


# Spellings accepted for each kind (PostgreSQL, DuckDB and ANSI names).
_ALIASES: dict[str, TypeKind] = {
    "SMALLINT": TypeKind.SMALLINT,
    "INT2": TypeKind.SMALLINT,
    "INTEGER": TypeKind.INTEGER,
    "INT": TypeKind.INTEGER,
    "INT4": TypeKind.INTEGER,
    "BIGINT": TypeKind.BIGINT,
    "INT8": TypeKind.BIGINT,
    "DECIMAL": TypeKind.DECIMAL,
    "NUMERIC": TypeKind.DECIMAL,
    "REAL": TypeKind.REAL,
    "FLOAT4": TypeKind.REAL,
    "DOUBLE": TypeKind.DOUBLE,
    "DOUBLE PRECISION": TypeKind.DOUBLE,
    "FLOAT8": TypeKind.DOUBLE,
    "FLOAT": TypeKind.DOUBLE,
    "TEXT": TypeKind.TEXT,
    "STRING": TypeKind.TEXT,
    "VARCHAR": TypeKind.VARCHAR,
    "CHARACTER VARYING": TypeKind.VARCHAR,
    "BOOLEAN": TypeKind.BOOLEAN,
    "BOOL": TypeKind.BOOLEAN,
    "DATE": TypeKind.DATE,
    "TIMESTAMP": TypeKind.TIMESTAMP,
    "TIMESTAMP WITHOUT TIME ZONE": TypeKind.TIMESTAMP,
    "TIMESTAMPTZ": TypeKind.TIMESTAMPTZ,
    "TIMESTAMP WITH TIME ZONE": TypeKind.TIMESTAMPTZ,
    "UUID": TypeKind.UUID,
    "JSON": TypeKind.JSON,
    "JSONB": TypeKind.JSONB,
}

_TYPE_TEXT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")

INTEGER_KINDS = frozenset({TypeKind.SMALLINT, TypeKind.INTEGER, TypeKind.BIGINT})
FLOAT_KINDS = frozenset({TypeKind.REAL, TypeKind.DOUBLE})
NUMERIC_KINDS = INTEGER_KINDS | FLOAT_KINDS | {TypeKind.DECIMAL}
TEXT_KINDS = frozenset({TypeKind.TEXT, TypeKind.VARCHAR})
TEMPORAL_KINDS = frozenset({TypeKind.DATE, TypeKind.TIMESTAMP, TypeKind.TIMESTAMPTZ})

# The patterns behind ODCS `format: email|uuid`, shared by checks and inference.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
FORMAT_PATTERNS = {"email": EMAIL_PATTERN, "uuid": UUID_PATTERN}

# Widest exact decimal every engine we render to can hold.
MAX_DECIMAL_PRECISION = 38

INTEGER_RANGES: dict[TypeKind, tuple[int, int]] = {
    TypeKind.SMALLINT: (-(2**15), 2**15 - 1),
    TypeKind.INTEGER: (-(2**31), 2**31 - 1),
    TypeKind.BIGINT: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class DataType:
    kind: TypeKind
    precision: int | None = None  # DECIMAL only
    scale: int | None = None  # DECIMAL only
    length: int | None = None  # VARCHAR only

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS

    @property
    def is_temporal(self) -> bool:
        return self.kind in TEMPORAL_KINDS

    def __str__(self) -> str:
        if self.kind is TypeKind.DECIMAL:
            return f"DECIMAL({self.precision},{self.scale})"
        if self.kind is TypeKind.VARCHAR and self.length is not None:
            return f"VARCHAR({self.length})"
        return self.kind.value


def parse_physical_type(text: str) -> DataType:
    """Parse `DECIMAL(19,4)`, `varchar(80)`, `timestamp with time zone` and friends.

    Raises ValueError with a message naming what is wrong; the loader adds the location.
    """
    match = _TYPE_TEXT.match(text)
    if not match:
        raise ValueError(f"cannot read physical type {text!r}")
    name = " ".join(match.group(1).upper().split())
    first, second = match.group(2), match.group(3)
    kind = _ALIASES.get(name)
    if kind is None:
        supported = ", ".join(sorted({k.value for k in TypeKind}))
        raise ValueError(f"unsupported physical type {text!r}; supported: {supported}")
    if kind is TypeKind.DECIMAL:
        if first is None:
            # An unbounded NUMERIC would let any scale through: the contract must say it.
            raise ValueError(f"{text!r} needs a precision and scale, e.g. DECIMAL(19,4)")
        precision, scale = int(first), int(second or 0)
        if not 1 <= precision <= MAX_DECIMAL_PRECISION:
            raise ValueError(
                f"DECIMAL precision must be 1..{MAX_DECIMAL_PRECISION}, got {precision}"
            )
        if scale > precision:
            raise ValueError(f"DECIMAL scale {scale} exceeds its precision {precision}")
        return DataType(kind, precision=precision, scale=scale)
    if kind is TypeKind.VARCHAR:
        if second is not None:
            raise ValueError(f"VARCHAR takes one length, got {text!r}")
        length = int(first) if first is not None else None
        if length is not None and length < 1:
            raise ValueError(f"VARCHAR length must be positive, got {length}")
        return DataType(kind, length=length)
    if first is not None:
        raise ValueError(f"{kind.value} takes no parameters, got {text!r}")
    return DataType(kind)
