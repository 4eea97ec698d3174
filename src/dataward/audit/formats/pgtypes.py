"""The PostgreSQL column type each ORM's column declaration creates, as its PostgreSQL
backend writes it (so the type rules judge what the database really holds):

  SQLAlchemy  Float → double precision; DateTime() → timestamp without time zone (only
              DateTime(timezone=True) is timestamptz); JSON → json; String(n) → varchar(n)
  Django      FloatField → double precision; DecimalField → numeric(p,s); DateTimeField →
              timestamp with time zone (Django's PostgreSQL backend always uses
              timestamptz); JSONField → jsonb
  Rails       float → double precision; datetime / timestamp → timestamp(6) without time
              zone (Rails 7+; timestamp before); json → json; string → varchar
  Laravel     float → double precision; timestamp / dateTime → timestamp(0) without time
              zone, timestampTz → timestamp(0) with time zone; string → varchar(255);
              id() → bigserial

None means a type the mapping does not know: the reader says so in its notes.
"""

from __future__ import annotations

from typing import Any

# ---- SQLAlchemy (Alembic) ------------------------------------------------------------

_SQLALCHEMY = {
    "integer": "integer", "int": "integer", "biginteger": "bigint", "bigint": "bigint",
    "smallinteger": "smallint", "smallint": "smallint", "text": "text",
    "unicodetext": "text", "boolean": "boolean", "bool": "boolean", "date": "date",
    "interval": "interval", "json": "json", "jsonb": "jsonb", "uuid": "uuid",
    "largebinary": "bytea", "bytea": "bytea", "binary": "bytea", "blob": "bytea",
    "real": "real", "double": "double precision", "double_precision": "double precision",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "tsvector": "tsvector",
    "money": "money", "citext": "citext", "hstore": "hstore", "oid": "oid",
    "int4range": "int4range", "int8range": "int8range", "numrange": "numrange",
    "daterange": "daterange", "tsrange": "tsrange", "tstzrange": "tstzrange",
    "bit": "bit", "xml": "xml", "autostring": "varchar", "pickletype": "bytea",
}  # fmt: skip
_SQLALCHEMY_STRINGS = {"string", "unicode", "varchar", "nvarchar"}
_SQLALCHEMY_NUMERIC = {"numeric", "decimal"}


def sqlalchemy_type(name: str, args: list[Any], kwargs: dict[str, Any]) -> str | None:
    """`name`: the type's class name (String, postgresql.JSONB -> JSONB); `args` and
    `kwargs` its literal arguments."""
    key = name.lower()

    def arg(position: int, keyword: str) -> Any:
        if keyword in kwargs:
            return kwargs[keyword]
        return args[position] if len(args) > position else None

    if key in _SQLALCHEMY_STRINGS:
        length = arg(0, "length")
        return f"varchar({length})" if isinstance(length, int) else "varchar"
    if key in ("char", "nchar"):
        length = arg(0, "length")
        return f"char({length})" if isinstance(length, int) else "char(1)"
    if key in _SQLALCHEMY_NUMERIC:
        precision, scale = arg(0, "precision"), arg(1, "scale")
        if isinstance(precision, int):
            return f"numeric({precision},{scale if isinstance(scale, int) else 0})"
        return "numeric"
    if key == "float":
        precision = arg(0, "precision")
        # FLOAT(p) is real up to 24 binary digits, double precision above (PostgreSQL).
        return "real" if isinstance(precision, int) and precision <= 24 else "double precision"
    if key in ("datetime", "timestamp"):
        zoned = kwargs.get("timezone", args[0] if args and isinstance(args[0], bool) else False)
        precision = kwargs.get("precision")
        mods = f"({precision})" if isinstance(precision, int) else ""
        return f"timestamp{mods} with{'' if zoned else 'out'} time zone"
    if key == "time":
        zoned = kwargs.get("timezone", False)
        return "time with time zone" if zoned else "time"
    if key in ("enum",):
        enum_name = kwargs.get("name")
        return str(enum_name) if isinstance(enum_name, str) else "varchar"
    return _SQLALCHEMY.get(key)


# ---- Django ---------------------------------------------------------------------------

_DJANGO = {
    "IntegerField": "integer", "BigIntegerField": "bigint", "SmallIntegerField": "smallint",
    "PositiveIntegerField": "integer", "PositiveBigIntegerField": "bigint",
    "PositiveSmallIntegerField": "smallint", "TextField": "text", "BooleanField": "boolean",
    "NullBooleanField": "boolean", "DateTimeField": "timestamp with time zone",
    "DateField": "date", "TimeField": "time", "DurationField": "interval",
    "FloatField": "double precision", "JSONField": "jsonb", "UUIDField": "uuid",
    "BinaryField": "bytea", "GenericIPAddressField": "inet", "IPAddressField": "inet",
    "HStoreField": "hstore", "CICharField": "citext", "CIEmailField": "citext",
    "CITextField": "citext", "SearchVectorField": "tsvector",
    "IntegerRangeField": "int4range", "BigIntegerRangeField": "int8range",
    "DecimalRangeField": "numrange", "DateRangeField": "daterange",
    "DateTimeRangeField": "tstzrange",
}  # fmt: skip
_DJANGO_VARCHAR = {
    "CharField": None, "EmailField": 254, "URLField": 200, "SlugField": 50,
    "FileField": 100, "ImageField": 100, "FilePathField": 100,
}  # fmt: skip
DJANGO_AUTO = {"AutoField": "integer", "BigAutoField": "bigint", "SmallAutoField": "smallint"}


def django_type(field: str, kwargs: dict[str, Any]) -> str | None:
    if field in DJANGO_AUTO:
        return DJANGO_AUTO[field]
    if field in _DJANGO_VARCHAR:
        length = kwargs.get("max_length", _DJANGO_VARCHAR[field])
        return f"varchar({length})" if isinstance(length, int) else "varchar"
    if field == "DecimalField":
        digits, places = kwargs.get("max_digits"), kwargs.get("decimal_places")
        if isinstance(digits, int):
            return f"numeric({digits},{places if isinstance(places, int) else 0})"
        return "numeric"
    return _DJANGO.get(field)


# ---- Rails ----------------------------------------------------------------------------

_RAILS = {
    "text": "text", "integer": "integer", "bigint": "bigint", "float": "double precision",
    "date": "date", "time": "time", "binary": "bytea", "boolean": "boolean",
    "json": "json", "jsonb": "jsonb", "uuid": "uuid", "inet": "inet", "cidr": "cidr",
    "macaddr": "macaddr", "hstore": "hstore", "citext": "citext", "ltree": "ltree",
    "tsvector": "tsvector", "money": "money", "interval": "interval", "xml": "xml",
    "point": "point", "line": "line", "serial": "serial", "bigserial": "bigserial",
    "oid": "oid", "int4range": "int4range", "int8range": "int8range",
    "numrange": "numrange", "daterange": "daterange", "tsrange": "tsrange",
    "tstzrange": "tstzrange", "bit": "bit", "bit_varying": "varbit",
    "timestamptz": "timestamp with time zone",
}  # fmt: skip


def rails_type(kind: str, options: dict[str, Any], version: float) -> str | None:
    """`version`: the migration's ActiveRecord::Migration[x.y] (datetime precision 6 from
    7.0 on)."""
    mods = ""
    if kind in ("string", "char", "character"):
        limit = options.get("limit")
        base = "char" if kind != "string" else "varchar"
        result = f"{base}({limit})" if isinstance(limit, int) else base
    elif kind in ("decimal", "numeric"):
        precision, scale = options.get("precision"), options.get("scale")
        if isinstance(precision, int):
            result = f"numeric({precision},{scale if isinstance(scale, int) else 0})"
        else:
            result = "numeric"
    elif kind in ("datetime", "timestamp"):
        precision = options.get("precision", 6 if version >= 7.0 else None)
        mods = f"({precision})" if isinstance(precision, int) else ""
        result = f"timestamp{mods} without time zone"
    elif kind == "timestamptz":
        precision = options.get("precision", 6 if version >= 7.0 else None)
        mods = f"({precision})" if isinstance(precision, int) else ""
        result = f"timestamp{mods} with time zone"
    elif kind == "integer":
        limit = options.get("limit")
        result = {2: "smallint", 8: "bigint"}.get(limit, "integer") if limit else "integer"
    elif kind == "enum":
        enum = options.get("enum_type")
        result = str(enum) if enum else "varchar"
    else:
        found = _RAILS.get(kind)
        if found is None:
            return None
        result = found
    return result + ("[]" if options.get("array") is True else "")


# ---- Laravel --------------------------------------------------------------------------

_LARAVEL = {
    "bigInteger": "bigint", "unsignedBigInteger": "bigint", "integer": "integer",
    "unsignedInteger": "integer", "mediumInteger": "integer",
    "unsignedMediumInteger": "integer", "smallInteger": "smallint",
    "unsignedSmallInteger": "smallint", "tinyInteger": "smallint",
    "unsignedTinyInteger": "smallint", "foreignId": "bigint", "foreignUuid": "uuid",
    "foreignUlid": "char(26)", "text": "text", "mediumText": "text", "longText": "text",
    "tinyText": "varchar(255)", "boolean": "boolean", "date": "date", "json": "json",
    "jsonb": "jsonb", "uuid": "uuid", "ulid": "char(26)", "binary": "bytea",
    "ipAddress": "inet", "macAddress": "macaddr", "year": "integer",
    "double": "double precision", "geometry": "geometry", "geography": "geography",
}  # fmt: skip
LARAVEL_SERIALS = {
    "id": "bigserial", "bigIncrements": "bigserial", "increments": "serial",
    "integerIncrements": "serial", "mediumIncrements": "serial",
    "smallIncrements": "smallserial", "tinyIncrements": "smallserial",
}  # fmt: skip


def laravel_type(method: str, args: list[Any]) -> str | None:
    """`args`: the literal arguments after the column name."""

    def arg(position: int, default: Any) -> Any:
        return args[position] if len(args) > position and args[position] is not None else default

    if method in LARAVEL_SERIALS:
        return LARAVEL_SERIALS[method]
    if method == "string":
        return f"varchar({arg(0, 255)})"
    if method == "char":
        return f"char({arg(0, 255)})"
    if method in ("decimal", "unsignedDecimal"):
        return f"numeric({arg(0, 8)},{arg(1, 2)})"
    if method == "float":
        # Laravel 11: float(precision: 53) is float(53), double precision; older
        # versions wrote double precision directly.
        precision = arg(0, 53)
        return "real" if isinstance(precision, int) and precision <= 24 else "double precision"
    if method in ("dateTime", "timestamp", "softDeletes", "nullableTimestamps"):
        return f"timestamp({arg(0, 0)}) without time zone"
    if method in ("dateTimeTz", "timestampTz", "softDeletesTz"):
        return f"timestamp({arg(0, 0)}) with time zone"
    if method == "time":
        return f"time({arg(0, 0)}) without time zone"
    if method == "timeTz":
        return f"time({arg(0, 0)}) with time zone"
    if method in ("enum", "set"):
        return "varchar(255)"
    return _LARAVEL.get(method)
