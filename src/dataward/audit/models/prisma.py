"""Prisma schemas (schema.prisma, and the files of a multi-file `prisma/schema/` folder, read
together): the tables `prisma migrate` creates on PostgreSQL.

Read: `model` blocks (`view`, `type`, `enum`, `generator` and `datasource` are not tables;
a datasource whose provider is not PostgreSQL makes the file's models not read, said so in
the notes); fields with their scalar type, `?` (nullable), `[]` (a scalar list: an array,
which Prisma creates without NOT NULL), `@id`, `@unique`, `@default(autoincrement())`,
`@map`, native types (`@db.VarChar(255)`, `@db.Timestamptz(6)`, ...); relation fields with
`@relation(fields: [...], references: [...])` as a FOREIGN KEY on the relation field's
line; `@@id`, `@@unique`, `@@index` (with `type:`), `@@map`, `@@schema`, `@@ignore`.

Prisma's PostgreSQL types: Int integer, BigInt bigint, Float double precision, Decimal
numeric(65,30), DateTime timestamp(3) without time zone, Json jsonb, String text, Bytes
bytea; an Int id with autoincrement() is SERIAL. Prisma creates no index for a foreign key
on PostgreSQL (only `@@index` does), so missing-foreign-key-index speaks for those.
Implicit many-to-many relations (a list on both sides, no `fields:`) create a `_AToB`
join table that is not written here (the notes count them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, ident, qname
from dataward.audit.models.tables import (
    UNKNOWN_TYPE,
    ModelTable,
    columns_sql,
    schema_sql,
    unknown_note,
)
from dataward.audit.schema_sql import SchemaSql

ORIGIN = "Prisma schema"
Problem = tuple[str, int, str]

SCALARS = {
    "String": "text", "Boolean": "boolean", "Int": "integer", "BigInt": "bigint",
    "Float": "double precision", "Decimal": "numeric(65,30)",
    "DateTime": "timestamp(3) without time zone", "Json": "jsonb", "Bytes": "bytea",
}  # fmt: skip
# @db.X native types, as PostgreSQL names them; (base, takes arguments).
NATIVE = {
    "Text": "text", "VarChar": "varchar", "Char": "char", "Uuid": "uuid", "Xml": "xml",
    "Inet": "inet", "Citext": "citext", "Bit": "bit", "VarBit": "varbit",
    "Boolean": "boolean", "Integer": "integer", "SmallInt": "smallint", "Oid": "oid",
    "BigInt": "bigint", "DoublePrecision": "double precision", "Real": "real",
    "Decimal": "numeric", "Money": "money", "Timestamp": "timestamp",
    "Timestamptz": "timestamptz", "Date": "date", "Time": "time", "Timetz": "timetz",
    "Json": "json", "JsonB": "jsonb", "ByteA": "bytea",
}  # fmt: skip
_SERIALS = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
_POSTGRES = {"postgresql", "postgres", "cockroachdb"}
_BLOCK = re.compile(r"^\s*(model|enum|view|type|datasource|generator)\s+(\w+)\s*\{\s*(\}?)\s*$")
_FIELD = re.compile(
    r"^\s*(?P<name>\w+)\s+(?P<type>\w+(?:\.\w+)?(?:\([^)]*\))?)(?P<list>\[\])?(?P<optional>\?)?"
    r"(?P<rest>(?:\s.*)?)$"
)
_ATTRIBUTE = re.compile(r"@([\w.]+)")


@dataclass
class _Field:
    name: str
    type: str
    line: int
    optional: bool
    list: bool
    attributes: dict[str, str]  # name -> argument text ("" without parentheses)

    @property
    def column(self) -> str:
        mapped = _string(_args(self.attributes.get("map", ""))[0][:1])
        return mapped or self.name


@dataclass
class _Model:
    name: str
    line: int
    file: Path
    fields: list[_Field] = field(default_factory=list)
    block: list[tuple[int, str, str]] = field(default_factory=list)  # (line, @@name, args)

    def attribute(self, name: str) -> str | None:
        return next((args for _, n, args in self.block if n == name), None)

    @property
    def table(self) -> str:
        mapped = _string(_args(self.attribute("map") or "")[0][:1]) or self.name
        schema = _string(_args(self.attribute("schema") or "")[0][:1])
        return f"{schema}.{mapped}" if schema else mapped

    def column_of(self, name: str) -> str:
        found = next((f for f in self.fields if f.name == name), None)
        return found.column if found else name


@dataclass
class _File:
    path: Path
    relative: str
    text: str
    models: list[_Model] = field(default_factory=list)
    enums: set[str] = field(default_factory=set)
    provider: str | None = None


def strip_comment(line: str) -> str:
    """The line without its `//` comment (a `//` inside a string is text)."""
    quoted = False
    escaped = False
    for number, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and line.startswith("//", number):
            return line[:number]
    return line


def _split(text: str) -> list[str]:
    """`text` split at top-level commas (not inside (), [] or a string)."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _args(text: str) -> tuple[list[str], dict[str, str]]:
    """An attribute's arguments: positional ones and `name: value` ones, as text."""
    positional, named = [], {}
    for part in _split(text):
        found = re.match(r"^(\w+)\s*:\s*(.*)$", part, re.DOTALL)
        if found and not part.startswith('"'):
            named[found.group(1)] = found.group(2).strip()
        else:
            positional.append(part)
    return positional, named


def _names(text: str | None) -> list[str]:
    """`[a, b(sort: Desc)]` -> ["a", "b"]."""
    if not text:
        return []
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    found = []
    for item in _split(inner):
        match = re.match(r'^"?([\w.]+)', item)
        if match:
            found.append(match.group(1))
    return found


def _string(values: list[str] | str | None) -> str | None:
    if isinstance(values, list):
        values = values[0] if values else None
    if values and values.startswith('"') and values.endswith('"') and len(values) >= 2:
        return values[1:-1]
    return None


def _attributes(rest: str) -> dict[str, str]:
    """`@id @default(autoincrement()) @db.VarChar(20)` -> {"id": "", "default":
    "autoincrement()", "db.VarChar": "20"}."""
    found: dict[str, str] = {}
    at = 0
    while True:
        match = _ATTRIBUTE.search(rest, at)
        if match is None:
            return found
        name = match.group(1)
        at = match.end()
        args = ""
        if at < len(rest) and rest[at] == "(":
            depth, quoted, start = 0, False, at + 1
            for position in range(at, len(rest)):
                char = rest[position]
                if char == '"':
                    quoted = not quoted
                elif not quoted and char == "(":
                    depth += 1
                elif not quoted and char == ")":
                    depth -= 1
                    if depth == 0:
                        args = rest[start:position]
                        at = position + 1
                        break
            else:
                args = rest[start:]
                at = len(rest)
        found.setdefault(name, args)


def parse(path: Path, relative: str, text: str, problems: list[Problem]) -> _File:
    file = _File(path, relative, text)
    block: tuple[str, str, int] | None = None  # kind, name, line
    current: _Model | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = strip_comment(raw).strip()
        if not line:
            continue
        opened = _BLOCK.match(line)
        if opened:
            if block is not None:
                problems.append(
                    (relative, block[2], f"Prisma schema: {block[0]} {block[1]} is not closed")
                )
            kind, name, closed = opened.groups()
            block = None if closed else (kind, name, number)
            current = _Model(name, number, path) if kind == "model" else None
            if current is not None:
                file.models.append(current)
            if kind == "enum":
                file.enums.add(name)
            continue
        if block is None:
            problems.append((relative, number, f"Prisma schema: not understood: {line[:60]}"))
            continue
        if line == "}":
            block = None
            current = None
            continue
        if block[0] == "datasource":
            provider = re.match(r'^provider\s*=\s*"([^"]*)"', line)
            if provider:
                file.provider = provider.group(1)
            continue
        if current is None:
            continue
        if line.startswith("@@"):
            name = re.match(r"^@@([\w.]+)", line)
            if name:
                attributes = _attributes(line[1:])
                current.block.append((number, name.group(1), attributes.get(name.group(1), "")))
            continue
        found = _FIELD.match(line)
        if found is None:
            problems.append((relative, number, f"Prisma schema: not a field: {line[:60]}"))
            continue
        current.fields.append(
            _Field(
                name=found.group("name"),
                type=found.group("type"),
                line=number,
                optional=bool(found.group("optional")),
                list=bool(found.group("list")),
                attributes=_attributes(found.group("rest") or ""),
            )
        )
    if block is not None:
        problems.append((relative, block[2], f"Prisma schema: {block[0]} {block[1]} is not closed"))
        if current is not None and current in file.models:
            file.models.remove(current)  # a block cut off: its fields are not all there
    return file


class _Reader:
    def __init__(self, relative: Callable[[Path], str]) -> None:
        self.relative = relative
        self.files: list[_File] = []
        self.problems: list[Problem] = []
        self.other_providers: list[str] = []
        self.implicit_joins: list[str] = []
        self.tables: dict[int, list[ModelTable]] = {}

    def add_file(self, path: Path, text: str) -> None:
        self.files.append(parse(path, self.relative(path), text, self.problems))

    def read(self) -> None:
        provider = next((f.provider for f in self.files if f.provider), None)
        if provider is not None and provider not in _POSTGRES:
            self.other_providers = [f.relative for f in self.files]
            self.provider = provider
            return
        models = {m.name: m for f in self.files for m in f.models}
        enums = {e for f in self.files for e in f.enums}
        for number, file in enumerate(self.files):
            self.tables[number] = [
                self._table(m, models, enums) for m in file.models if m.attribute("ignore") is None
            ]

    def _table(self, model: _Model, models: dict[str, _Model], enums: set[str]) -> ModelTable:
        table = ModelTable(model.table, model.line)
        short = model.table.split(".")[-1]
        for item in model.fields:
            if item.type in models:
                self._relation(item, model, models, table, short)
                continue
            sql_type, declared = _type(item, enums)
            default = item.attributes.get("default", "")
            if sql_type in _SERIALS and default.replace(" ", "") == "autoincrement()":
                sql_type = _SERIALS[sql_type]
            primary = "id" in item.attributes
            column = Column(
                item.column,
                sql_type or UNKNOWN_TYPE,
                not_null=not item.optional and not item.list,
                primary_key=primary,
                unique="unique" in item.attributes,
                line=item.line,
            )
            table.add_column(column, declared)
        for line, name, args in model.block:
            positional, named = _args(args)
            fields = _names(named.get("fields") or (positional[0] if positional else None))
            columns = [model.column_of(f) for f in fields]
            if not columns:
                continue
            if name == "id":
                for column in table.columns:
                    if column.name in columns:
                        column.not_null = True
                table.constraints.append((line, f"PRIMARY KEY ({columns_sql(columns)})"))
            elif name == "unique":
                key = _string(named.get("map")) or f"{short}_{'_'.join(columns)}_key"
                unique = f"CONSTRAINT {ident(key)} UNIQUE ({columns_sql(columns)})"
                table.constraints.append((line, unique))
            elif name == "index":
                key = _string(named.get("map")) or f"{short}_{'_'.join(columns)}_idx"
                using = named.get("type")
                table.index(
                    line,
                    ddl.create_index(
                        key, model.table, columns, using=using.lower() if using else None
                    ),
                )
        return table

    def _relation(
        self,
        item: _Field,
        model: _Model,
        models: dict[str, _Model],
        table: ModelTable,
        short: str,
    ) -> None:
        target = models[item.type]
        named = _args(item.attributes.get("relation", ""))[1]
        fields = _names(named.get("fields"))
        references = _names(named.get("references"))
        if not fields:
            # A list on both sides and no `fields:` anywhere: Prisma's implicit join table.
            back = [f for f in target.fields if f.type == model.name and f.list]
            if item.list and back and model.name <= target.name:
                self.implicit_joins.append(f"_{model.name}To{target.name}")
            return
        local = [model.column_of(f) for f in fields]
        remote = [target.column_of(r) for r in references]
        name = _string(named.get("map")) or f"{short}_{'_'.join(local)}_fkey"
        table.constraints.append(
            (
                item.line,
                f"CONSTRAINT {ident(name)} FOREIGN KEY ({columns_sql(local)}) REFERENCES "
                f"{qname(target.table)} ({columns_sql(remote)})",
            )
        )

    def result(self) -> tuple[list[SchemaSql], list[str]]:
        schemas = []
        notes = []
        if self.other_providers:
            notes.append(
                f"{ORIGIN}: the datasource is {self.provider}, not PostgreSQL: "
                f"{', '.join(self.other_providers)} not read"
            )
            return [], notes
        pairs = []
        for number, file in enumerate(self.files):
            tables = self.tables.get(number, [])
            if tables:
                schemas.append(
                    schema_sql(tables, file.path, file.relative, ORIGIN, file.text, ("//",))
                )
                pairs += [(file.relative, t) for t in tables]
        if pairs:
            notes.append(
                f"{ORIGIN}: {len(pairs)} table{'s' if len(pairs) != 1 else ''} in "
                f"{len(schemas)} file{'s' if len(schemas) != 1 else ''}"
            )
        unknown = unknown_note(ORIGIN, pairs)
        if unknown:
            notes.append(unknown)
        if self.implicit_joins:
            notes.append(
                f"{ORIGIN}: {len(self.implicit_joins)} implicit many-to-many join table"
                f"{'s' if len(self.implicit_joins) != 1 else ''} not read: "
                + ", ".join(self.implicit_joins[:5])
            )
        return schemas, notes


def _type(item: _Field, enums: set[str]) -> tuple[str | None, str | None]:
    """(PostgreSQL type, None), or (None, the declared type) when not known."""
    native = next(((k[3:], v) for k, v in item.attributes.items() if k.startswith("db.")), None)
    base: str | None
    if native is not None and native[0] in NATIVE:
        base = NATIVE[native[0]]
        args = native[1].replace(" ", "")
        if args and base in ("varchar", "char", "bit", "varbit", "numeric", "timestamp",
                             "timestamptz", "time", "timetz"):  # fmt: skip
            base = f"{base}({args})"
        if base.startswith(("timestamp(", "time(")) and not base.startswith(
            ("timestamptz", "timetz")
        ):
            base = base.replace(")", ") without time zone", 1)
    elif native is not None:
        return None, f"{item.type} @db.{native[0]}"
    elif item.type in SCALARS:
        base = SCALARS[item.type]
    elif item.type in enums:
        base = ident(item.type)
    else:
        return None, item.type
    return (base + "[]" if item.list else base), None


def read_prisma(
    files: list[tuple[Path, str]], relative: Callable[[Path], str]
) -> tuple[list[SchemaSql], list[str], list[Problem]]:
    """The .prisma files of one directory are one schema (Prisma's multi-file
    `prisma/schema/` folder); each directory is read on its own."""
    groups: dict[Path, list[tuple[Path, str]]] = {}
    for path, text in files:
        groups.setdefault(path.parent, []).append((path, text))
    schemas: list[SchemaSql] = []
    notes: list[str] = []
    problems: list[Problem] = []
    for group in groups.values():
        reader = _Reader(relative)
        for path, text in group:
            reader.add_file(path, text)
        reader.read()
        found, said = reader.result()
        schemas += found
        notes += said
        problems += reader.problems
    return schemas, notes, problems
