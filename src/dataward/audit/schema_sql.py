"""Schema as SQL (schema files, pg_dump output, and the CREATE TABLEs that model readers
write for SQLAlchemy, Django, Prisma and Rails models) judged by the linter's type and
design rules, plus the audit's nullable-column and json-or-array-column.

A schema file is linted as one migration that creates everything it names, so the
rules about locking existing tables stay silent (nothing in it exists before it) and
the ones about choosing types, keys and indexes speak. The same pass builds the schema
model the code rules ask for natural keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dataward.audit.model import AuditFinding, AuditHit, finding
from dataward.migrate.files import Migration, MigrationError, Script
from dataward.migrate.lint import lint
from dataward.migrate.lint.context import LintOptions
from dataward.migrate.lint.model import Finding
from dataward.migrate.lint.registry import get
from dataward.migrate.lint.schema import Schema, Table

# The linter's groups that are about a schema's design, not about how a change runs.
SCHEMA_GROUPS = frozenset({"types", "design"})
SYNTAX_ERROR = "syntax-error"
NULLABLE_COLUMN = "nullable-column"
JSON_OR_ARRAY_COLUMN = "json-or-array-column"

# psql meta-commands (\connect, \restrict in pg_dump output) are not SQL: blanked, so
# line numbers stay those of the file.
_PSQL_META = re.compile(r"^\\.*$", re.MULTILINE)

# A nullable column has a reason when its name says the value comes later or is
# optional by nature: an event that may not have happened, free text, a parent.
_REASONED = re.compile(
    r"(_at|_on|_date|_time|_until|_by)$|^(deleted|archived|cancell?ed|ended|closed|"
    r"expires?|finished|completed|shipped|paid|last)_|^(notes?|comments?|description|"
    r"memo|remarks?|middle_name|nickname|parent_id|manager_id|referrer_id)$"
)
_LIFECYCLE = re.compile(r"^(created|inserted|updated|modified|loaded|ingested)_(at|on)$")


@dataclass(frozen=True)
class SchemaSql:
    """SQL standing for a schema: the file it came from (for locations) and its text."""

    file: Path
    relative: str
    sql: str
    origin: str  # "schema file", "SQLAlchemy models", ...


def as_migration(schema: SchemaSql, number: int) -> Migration:
    script = Script(_PSQL_META.sub("", schema.sql), schema.file)
    return Migration(
        version=str(number),
        name=schema.relative,
        format="schema",
        up=script,
        down=None,
        files=(schema.file,),
    )


def audit_schema_sql(
    schemas: Iterable[SchemaSql], options: LintOptions | None = None
) -> tuple[list[AuditFinding], Schema]:
    """Findings for each schema, and the schema model all of them describe together."""
    findings: list[AuditFinding] = []
    combined = Schema()
    for number, schema in enumerate(schemas, 1):
        migration = as_migration(schema, number)
        for result in lint([migration], options=options):
            if result.rule == SYNTAX_ERROR or get(result.rule).group in SCHEMA_GROUPS:
                if result.rule == "missing-down":
                    continue
                findings.append(_from_lint(result, schema))
        try:
            statements = migration.up.statements()
        except MigrationError:
            continue  # reported above as syntax-error
        model = Schema()
        lines: dict[str, int] = {}
        for statement in statements:
            model.apply(statement.node)
            for name in model.tables:
                lines.setdefault(name, statement.line)
        findings += _column_findings(model, lines, schema)
        for name, table in model.tables.items():
            combined.tables.setdefault(name, table)
        combined.indexes.update(model.indexes)
    return findings, combined


def _from_lint(result: Finding, schema: SchemaSql) -> AuditFinding:
    rule = get(result.rule)
    line_text = _line(schema.sql, result.line)
    hit = AuditHit(
        message=result.message,
        line=result.line,
        column=result.column,
        evidence=line_text,
        fix=result.fix,
        severity=result.severity,
        anchor=result.message if result.rule in {"missing-primary-key"} else "",
    )
    return finding(rule, hit, schema.relative)


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def _column_findings(
    model: Schema, lines: dict[str, int], schema: SchemaSql
) -> Iterator[AuditFinding]:
    for name, table in model.tables.items():
        line = lines.get(name)
        evidence = _line(schema.sql, line) if line else ""
        unexplained = [c for c in nullable_without_reason(table)]
        if unexplained:
            listed = ", ".join(unexplained)
            yield finding(
                get(NULLABLE_COLUMN),
                AuditHit(
                    message=(
                        f"{name}: {len(unexplained)} nullable column"
                        f"{'s' if len(unexplained) > 1 else ''} with no reason given: {listed}"
                    ),
                    line=line,
                    evidence=evidence,
                    anchor=f"{name}: {listed}",
                    fix=(
                        f"declare them NOT NULL; on a live table: `dataward migrate plan "
                        f"set-not-null {name} COLUMN` for each"
                    ),
                ),
                schema.relative,
            )
        documents = [
            c.name
            for c in table.columns.values()
            if c.type is not None and (c.type.array or c.type.name in {"json", "jsonb"})
        ]
        if documents:
            yield finding(
                get(JSON_OR_ARRAY_COLUMN),
                AuditHit(
                    message=(
                        f"{name}: {', '.join(documents)} "
                        + ("holds a document or array" if len(documents) == 1 else "hold documents")
                        + ": their shape is nowhere but in the code that writes them"
                    ),
                    line=line,
                    evidence=evidence,
                    anchor=f"{name}: {', '.join(documents)}",
                ),
                schema.relative,
            )


def null_has_a_reason(name: str) -> bool:
    """A column whose name says NULL means something (an event not yet happened, free
    text, a parent): shipped_at, notes, parent_id. created_at and the like do not."""
    return bool(_REASONED.search(name)) and not _LIFECYCLE.match(name)


def nullable_without_reason(table: Table) -> list[str]:
    key = table.primary_key
    keyed = set(key.columns) if key else set()
    return [
        column.name
        for column in table.columns.values()
        if not table.proven_not_null(column.name)
        and column.name not in keyed
        and not null_has_a_reason(column.name)
    ]


def natural_keys(model: Schema) -> dict[str, list[tuple[str, ...]]]:
    """Each table's primary key and unique constraints (and unique indexes)."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    for name, table in model.tables.items():
        for constraint in table.constraints.values():
            if constraint.kind in {"primary", "unique"} and constraint.columns:
                keys.setdefault(name, []).append(constraint.columns)
    for index in model.indexes.values():
        if index.unique and all(index.columns):
            keys.setdefault(index.table, []).append(tuple(c for c in index.columns if c))
    return keys
