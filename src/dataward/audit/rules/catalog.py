"""The live database: each rule one function over the catalog snapshot
(dataward.audit.catalog.Snapshot) yielding hits at schema.table.column, schema.table or
schema.index, with the catalog fact as evidence and the fix for that object.

Two kinds of check live here, and `checks()` runs both:

- the audit's own rules, registered below: in the `schema` group when a schema file can
  show the same defect (nullable-column, json-or-array-column; dataward.audit.schema_sql
  reports those from files), in `catalog` when only a live database can (statistics,
  invalid indexes, sequences, freshness, slow queries);
- LINT_RULE_CHECKS: the catalog's view of concerns the linter already has a rule for
  (money in a float, a table without a primary key, ...). Those ids are registered once,
  by the linter, so each concern has one page in docs/rules.md; the audit reports what
  the catalog shows under the same id.

Thresholds (module constants, named in each rule's documentation):
  stale-table           newest timestamp older than STALE_AFTER (7 days)
  slow-query            mean execution time above SLOW_QUERY_MS (100 ms)
  dead-tuples           more than DEAD_TUPLES_MIN (10,000) dead rows and more than
                        DEAD_TUPLES_RATIO (20%) of the live ones
  sequence-exhaustion   past SEQUENCE_WARNING (50%) of the range; high past
                        SEQUENCE_ERROR (80%)
  too-many-indexes      more than the linter's MAX_INDEXES_PER_TABLE (5), on a table
                        that takes writes (or whose statistics do not say)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from dataward.audit.model import AuditHit
from dataward.audit.registry import catalog, schema
from dataward.audit.schema_sql import null_has_a_reason
from dataward.migrate.lint.model import ERROR, INFO, WARNING
from dataward.migrate.lint.registry import Registrar, Rule, get
from dataward.migrate.lint.rules.column_types import is_money_name
from dataward.migrate.lint.rules.design import MAX_INDEXES_PER_TABLE
from dataward.migrate.lint.sqltypes import FLOATS

if TYPE_CHECKING:  # the reader (and psycopg) load when a database is audited, not with the registry
    from dataward.audit.catalog import Column, Index, Snapshot, Table

STALE_AFTER = timedelta(days=7)
SLOW_QUERY_MS = 100.0
DEAD_TUPLES_MIN = 10_000
DEAD_TUPLES_RATIO = 0.2
SEQUENCE_WARNING = 0.5
SEQUENCE_ERROR = 0.8
_INT_MAX = {"int2": 32_767, "int4": 2_147_483_647, "int8": 9_223_372_036_854_775_807}
_TYPE_MAX = {"smallint": "int2", "integer": "int4", "bigint": "int8"}

Check = Callable[["Snapshot"], Iterable[AuditHit]]
# The audit's own rules, in the order they run (filled by _rule below).
AUDIT_CHECKS: dict[str, Check] = {}


def checks() -> Iterator[tuple[Rule, Check]]:
    """Every check of the live database with the rule its hits are reported under."""
    for rule_id, check in {**LINT_RULE_CHECKS, **AUDIT_CHECKS}.items():
        yield get(rule_id), check


def _rule(registrar: Registrar, **meta: Any) -> Callable[[Check], Check]:
    def decorate(function: Check) -> Check:
        registrar.audit(**meta)(function)
        AUDIT_CHECKS[meta["id"]] = function
        return function

    return decorate


# ---------------------------------------------------------------- helpers


def _hit(
    message: str,
    location: str,
    evidence: str,
    fix: str | None = None,
    severity: Any = None,
    anchor: str | None = None,
) -> AuditHit:
    # The anchor is the object, not the evidence: counts in the evidence change from one
    # audit to the next, and the finding must keep its fingerprint.
    return AuditHit(
        message=message,
        evidence=evidence,
        location=location,
        fix=fix,
        severity=severity,
        anchor=anchor or location,
    )


def _tables(snapshot: Snapshot) -> Iterator[Table]:
    """The tables whose shape is judged: a partition has its partitioned table's."""
    return (t for t in snapshot.tables if t.partition_of is None)


def _at(table: Table, column: Column) -> str:
    return f"{table.qualified}.{column.name}"


_NOT_PLAIN = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS


def _ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in _NOT_PLAIN:
        return name
    return '"' + name.replace('"', '""') + '"'


def _plan(table: Table, change: str, columns: Iterable[str], *arguments: str) -> str | None:
    """The `dataward migrate plan` command for the change, where one can name the table:
    the plans take an unqualified TABLE.COLUMN, so a table in public with plain names."""
    names = [table.name, *columns]
    if table.schema != "public" or not all(re.fullmatch(r"[a-z_][a-z0-9_]*", n) for n in names):
        return None
    target = f"{table.name}.{','.join(names[1:])}"
    return " ".join(["dataward migrate plan", change, target, *map(shlex.quote, arguments)])


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _size(size: int | None, estimated: bool = False) -> str:
    if size is None:
        return "size unknown"
    value, unit = float(size), "bytes"
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 10 * 1024 or unit == "TB":
            break
        value /= 1024
    shown = f"{int(value):,} {unit}" if unit == "bytes" else f"{value:,.0f} {unit}"
    return f"about {shown}" if estimated else shown


def _since(snapshot: Snapshot) -> str:
    if snapshot.stats_reset is None:
        return "since the statistics began"
    return f"since the statistics were reset ({snapshot.stats_reset:%Y-%m-%d})"


def _age(delta: timedelta) -> str:
    if delta.days >= 2:
        return f"{delta.days} days"
    return f"{int(delta.total_seconds() // 3600)} hours"


def _not_null_sql(table: Table, column: Column) -> str:
    check = _ident(f"{table.name}_{column.name}_not_null"[:63])
    t, c = table.sql, column.sql
    return (
        f"ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID; "
        f"ALTER TABLE {t} VALIDATE CONSTRAINT {check}; "
        f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL; "
        f"ALTER TABLE {t} DROP CONSTRAINT {check};"
    )


# ---------------------------------------------------------------- lint rules, live


def float_for_money(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        for column in table.columns:
            if column.element not in FLOATS or not is_money_name(column.name):
                continue
            plan = _plan(table, "change-type", [column.name], "numeric(19,4)")
            fix = (
                f"`{plan}` (a numeric(19,4) column kept in sync, a batched backfill, then "
                "the swap), or bigint holding cents"
                if plan
                else f"ALTER TABLE {table.sql} ALTER COLUMN {column.sql} TYPE numeric(19,4); "
                "(rewrites the table under an ACCESS EXCLUSIVE lock: on a busy table add a "
                "numeric column, backfill it in batches and swap)"
            )
            yield _hit(
                f"{_at(table, column)} holds money as {column.type}: 0.1 + 0.2 is stored "
                "as 0.30000000000000004, sums drift by cents, and every value is rounded to "
                "a binary fraction silently",
                _at(table, column),
                f"{column.name} {column.type}, {table.rows}",
                fix,
            )


def timestamp_without_time_zone(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        for column in table.columns:
            if column.element != "timestamp":
                continue
            kind = "timestamptz[]" if column.array else "timestamptz"
            plan = _plan(table, "change-type", [column.name], kind)
            zone = snapshot.timezone
            fix = (
                f"`{plan}`: the cast reads the stored values in the session's TimeZone "
                f"({zone}), so run it where that is the zone they were written in"
                if plan and not column.array
                else f"ALTER TABLE {table.sql} ALTER COLUMN {column.sql} TYPE {kind} "
                f"USING {column.sql} AT TIME ZONE 'UTC'; (name the zone the values were "
                "written in; rewrites the table under an ACCESS EXCLUSIVE lock)"
            )
            yield _hit(
                f"{_at(table, column)} is {column.type}: 21:11:24+02 and 21:11:24-06 are "
                "both stored as 21:11:24, eight hours apart, and readers must guess the zone",
                _at(table, column),
                f"{column.name} {column.type}, {table.rows}",
                fix,
            )


def missing_primary_key(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        if table.primary_key is not None:
            continue
        candidate = next(
            (
                index
                for index in table.indexes
                if index.unique
                and index.valid
                and index.method == "btree"
                and not index.partial
                and not index.include
                and all(index.columns)
                and not any(index.options)
                and all(
                    (c := table.column(name)) is not None and c.not_null
                    for name in index.columns
                    if name
                )
            ),
            None,
        )
        evidence = f"{table.qualified}: no primary key, {table.rows}"
        if candidate is not None:
            listed = ", ".join(c for c in candidate.columns if c)
            evidence += f"; unique index {candidate.name} on NOT NULL ({listed})"
            fix = f"ALTER TABLE {table.sql} ADD PRIMARY KEY USING INDEX {candidate.ident};"
        else:
            fix = (
                f"ALTER TABLE {table.sql} ADD PRIMARY KEY (the natural key's columns), once "
                "they are shown unique and not null; or ADD COLUMN id bigint GENERATED "
                "ALWAYS AS IDENTITY PRIMARY KEY (rewrites the table)"
            )
        yield _hit(
            f"{table.qualified} has no primary key: duplicate rows cannot be told apart, "
            "and logical replication refuses its UPDATEs and DELETEs",
            table.qualified,
            evidence,
            fix,
        )


def missing_foreign_key_index(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        for key in table.constraints:
            if key.kind != "f":
                continue
            wanted = set(key.columns)
            width = len(key.columns)
            if any(
                index.valid and not index.partial and set(index.columns[:width]) == wanted
                for index in table.indexes
            ):
                continue
            listed = ", ".join(key.columns)
            plan = _plan(table, "add-index", key.columns)
            columns = ", ".join(
                (c.sql if (c := table.column(name)) else _ident(name)) for name in key.columns
            )
            fix = f"`{plan}`" if plan else f"CREATE INDEX CONCURRENTLY ON {table.sql} ({columns});"
            yield _hit(
                f"foreign key {table.qualified}({listed}) -> {key.references} has no index "
                f"on {table.qualified}({listed}): every DELETE or key UPDATE on "
                f"{key.references} scans all of {table.qualified} ({table.rows})",
                table.qualified,
                f"{key.name}: {key.definition}",
                fix,
                anchor=f"{table.qualified}: {key.name}",
            )


def too_many_indexes(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        count = len(table.indexes)
        if count <= MAX_INDEXES_PER_TABLE or table.writes == 0:
            continue
        writes = (
            f"{table.writes:,} rows inserted, updated or deleted {_since(snapshot)}"
            if table.writes is not None
            else "its statistics do not say how many writes"
        )
        unused = [i.name for i in table.indexes if _unused(snapshot, i)]
        fix = (
            f"drop the indexes no query uses ({', '.join(unused)}: 0 scans) with DROP INDEX "
            "CONCURRENTLY, and merge those whose leading columns repeat"
            if unused
            else None
        )
        yield _hit(
            f"{table.qualified} has {count} indexes (more than {MAX_INDEXES_PER_TABLE}) and "
            f"takes writes ({writes}): every insert writes all {count}, and every update of "
            "an indexed column too",
            table.qualified,
            ", ".join(
                f"{i.name} ({'?' if i.scans is None else f'{i.scans:,}'} scans)"
                for i in table.indexes
            ),
            fix,
        )


# The catalog checks of concerns the linter has a rule for: reported under its id.
LINT_RULE_CHECKS: dict[str, Check] = {
    "float-for-money": float_for_money,
    "timestamp-without-time-zone": timestamp_without_time_zone,
    "missing-primary-key": missing_primary_key,
    "missing-foreign-key-index": missing_foreign_key_index,
    "too-many-indexes": too_many_indexes,
}


# ---------------------------------------------------------------- schema (files too)


@_rule(
    schema,
    id="nullable-column",
    severity=INFO,
    title="A nullable column with no reason to be",
    what="A column without NOT NULL whose name gives no reason for a missing value "
    "(deleted_at, shipped_at, notes, parent_id and the like are left alone; created_at, "
    "updated_at and loaded_at are not), outside the primary key. In a schema file, one "
    "finding per table lists them. In the live database, one per column, with its nulls: "
    "counted exactly in tables of up to 100,000 rows, else pg_stats' estimate from the "
    "last ANALYZE (the evidence says which); a column that holds no null can take NOT "
    "NULL safely.",
    why="A column that allows null gets one the day a producer sends an empty field or a "
    "join finds no match, and nothing fails: the row loads, and sums, counts and joins "
    "quietly leave it out (amount + NULL is NULL, WHERE status <> 'x' skips null rows). "
    "Readers cannot tell a missing value from a broken load.",
    fix="NOT NULL, with the table's contract saying what the column holds; on a live "
    "table with no nulls `dataward migrate plan set-not-null TABLE.COLUMN` (a CHECK ... "
    "NOT VALID, then VALIDATE, then SET NOT NULL without a long lock); where null has a "
    "meaning, say which in the contract",
    bad="CREATE TABLE payments (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  amount numeric(19,4),\n  currency text\n);",
    good="CREATE TABLE payments (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  amount numeric(19,4) NOT NULL,\n  currency text NOT NULL,\n"
    "  refunded_at timestamptz  -- null until refunded\n);",
    language="sql",
)
def nullable_column(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        key = table.primary_key
        keyed = set(key.columns) if key else set()
        for column in table.columns:
            if column.not_null or column.name in keyed or null_has_a_reason(column.name):
                continue
            yield _nullable(table, column)


def _nullable(table: Table, column: Column) -> AuditHit:
    where = _at(table, column)
    declared = f"{column.name} {column.type} NULL"
    plan = _plan(table, "set-not-null", [column.name])
    safe = f"`{plan}`" if plan else _not_null_sql(table, column)
    if table.nulls_source == "counted" and column.nulls is not None:
        rows = table.counted_rows or 0
        if column.nulls == 0:
            return _hit(
                f"{where} is nullable but holds no null in {plural(rows, 'row')}: NOT "
                "NULL is safe to add, and would make the database refuse the null a broken "
                "load writes",
                where,
                f"{declared}: 0 nulls in {plural(rows, 'row')} (counted)",
                f"{safe} (the CHECK is added NOT VALID and validated apart, so no long lock)",
            )
        share = column.nulls / rows if rows else 0
        return _hit(
            f"{where} is nullable and {column.nulls:,} of {plural(rows, 'row')} are null "
            f"({share:.0%}): nothing says whether a null means unknown, not applicable or a "
            "failed load",
            where,
            f"{declared}: {plural(column.nulls, 'null')} in {plural(rows, 'row')} (counted)",
            "say in the table's contract that it is optional and what a null means; or "
            f"backfill the {column.nulls:,} nulls, then {safe}",
        )
    if table.nulls_source == "pg_stats" and column.null_frac is not None:
        if column.null_frac == 0:
            return _hit(
                f"{where} is nullable but the last ANALYZE's sample found no null in it: "
                "NOT NULL is likely safe (the CHECK's VALIDATE proves it)",
                where,
                f"{declared}: no null in ANALYZE's sample (pg_stats), {table.rows}",
                f"{safe} (VALIDATE reads every row and fails if a null is left)",
            )
        return _hit(
            f"{where} is nullable and about {column.null_frac:.1%} of its rows are null: "
            "nothing says whether a null means unknown, not applicable or a failed load",
            where,
            f"{declared}: about {column.null_frac:.1%} null (pg_stats estimate), {table.rows}",
            "say in the table's contract that it is optional and what a null means; or "
            f"backfill the nulls, then {safe}",
        )
    from dataward.audit.catalog import COUNT_ROWS_LIMIT

    reason = table.unread or f"more than {COUNT_ROWS_LIMIT:,} rows and not analyzed"
    return _hit(
        f"{where} is nullable: nothing in the schema says a value is required",
        where,
        f"{declared}: null count not read ({reason})",
        f"if it holds no null, {safe}; else say in the contract what a null means",
    )


@_rule(
    schema,
    id="json-or-array-column",
    severity=INFO,
    title="A json, jsonb or array column",
    what="A column typed json, jsonb or an array of anything: in a schema file, one "
    "finding per table lists them; in the live database one per column, with the rows "
    "it holds. It is a note, not a defect: the shape inside is what needs writing down.",
    why="The database checks nothing inside a document or an array: a producer that "
    "renames a key, sends a number as a string or nests one level deeper writes rows "
    "that load fine, and every reader of the key breaks (or reads null) without an error.",
    fix="describe the shape in the table's contract (the keys, their types, which are "
    "required; an array's element type and length) so every load is checked against it; "
    "or move the keys every row has into columns of their own",
    bad="CREATE TABLE webhooks (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  payload jsonb NOT NULL\n);",
    good="CREATE TABLE webhooks (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  event_type text NOT NULL,\n  customer_id bigint NOT NULL,\n"
    "  received_at timestamptz NOT NULL\n);",
    language="sql",
)
def json_or_array_column(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        for column in table.columns:
            if not (column.array or column.element in ("json", "jsonb")):
                continue
            kind = "an array" if column.array else "a JSON document"
            yield _hit(
                f"{_at(table, column)} is {column.type}: the database checks nothing "
                f"inside {kind}, so a producer that changes its shape breaks readers "
                "silently",
                _at(table, column),
                f"{column.name} {column.type}, {table.rows}",
                f"describe the shape of {column.name} in the contract of {table.qualified} "
                "(keys or element type, which are required) so every load is checked",
            )


# ---------------------------------------------------------------- indexes


def _unused(snapshot: Snapshot, index: Index) -> bool:
    return (
        snapshot.track_counts
        and index.scans == 0
        and index.valid
        and not index.unique
        and not index.primary
        and index.constraint is None
    )


@_rule(
    catalog,
    id="unused-index",
    severity=INFO,
    title="An index no query has used",
    what="An index with pg_stat_user_indexes.idx_scan = 0 since the statistics were last "
    "reset, that is valid and backs no primary key, unique or exclusion constraint "
    "(those enforce something even unscanned). Not reported when track_counts is off. "
    "The count is this server's: a replica's queries are not in it.",
    why="Every INSERT, every DELETE's later vacuum and every UPDATE of an indexed column "
    "writes the index too (and an update of an indexed column loses HOT): an index no "
    "query reads costs write time, WAL, disk and cache, and buys nothing.",
    fix="DROP INDEX CONCURRENTLY (after checking the replicas' pg_stat_user_indexes, and "
    "that the statistics cover a full business cycle: month-end reports included)",
    bad="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  note text NOT NULL\n);\n"
    "CREATE INDEX orders_note_idx ON orders (note);  -- no query filters on note",
    good="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  note text NOT NULL\n);",
    language="sql",
)
def unused_index(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in snapshot.tables:
        for index in table.indexes:
            if not _unused(snapshot, index):
                continue
            size = _size(index.size, index.size_estimated)
            yield _hit(
                f"{index.name} on {table.qualified} has not been used by any query "
                f"{_since(snapshot)}, yet every write to {table.qualified} updates it "
                f"({size})",
                f"{table.schema}.{index.name}",
                f"{index.definition}; 0 scans, {size}",
                f"DROP INDEX CONCURRENTLY {index.sql}; (first check the replicas' "
                "idx_scan: this count is the primary's)",
            )


def _drop_order(index: Index) -> tuple[bool, bool, int, int, str]:
    # Of two twins, the one to keep sorts first: a constraint's, a unique one, the one
    # with INCLUDE columns (index-only scans), the most scanned.
    return (
        index.constraint is None,
        not index.unique,
        -len(index.include),
        -(index.scans or 0),
        index.name,
    )


@_rule(
    catalog,
    id="duplicate-index",
    severity=WARNING,
    title="An index another index already covers",
    what="Two valid indexes of one table with the same method, key columns or "
    "expressions (with the same operator classes, collations and sort order) and the "
    "same predicate: the one to drop is reported (never one that backs a constraint; of "
    "a unique and a plain one, the plain one). Also a btree index that is not unique "
    "whose keys lead another btree index with the same predicate (an index on (a) next "
    "to one on (a, b)): the longer one answers every lookup the shorter one does.",
    why="Both indexes are written on every insert and every update of their columns, "
    "and both take disk and cache, while queries use one of them: the other only slows "
    "every write and every vacuum.",
    fix="DROP INDEX CONCURRENTLY the redundant one (a unique index enforces a key: keep "
    "it and drop the plain one it covers)",
    bad="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  customer_id bigint NOT NULL,\n  placed_at timestamptz NOT NULL\n);\n"
    "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
    "CREATE INDEX orders_customer_placed_idx ON orders (customer_id, placed_at);",
    good="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  customer_id bigint NOT NULL,\n  placed_at timestamptz NOT NULL\n);\n"
    "CREATE INDEX orders_customer_placed_idx ON orders (customer_id, placed_at);",
    language="sql",
)
def duplicate_index(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in snapshot.tables:
        valid = [i for i in table.indexes if i.valid]
        for index in valid:
            if index.constraint is not None:
                continue  # it enforces a key: the other one goes
            # A longer index it leads is named first: its exact twin may be redundant too.
            twin = None if index.unique else next((k for k in valid if _covers(k, index)), None)
            relation = "its keys lead"
            if twin is None:
                relation = "it repeats"
                twin = next(
                    (
                        k
                        for k in valid
                        if k is not index
                        and _same(k, index)
                        and _drop_order(k) < _drop_order(index)
                    ),
                    None,
                )
            if twin is None:
                continue
            size = _size(index.size, index.size_estimated)
            yield _hit(
                f"{index.name} on {table.qualified} is redundant: {relation} {twin.name}, "
                "which answers the same lookups, yet both are written on every insert "
                f"({size} for {index.name})",
                f"{table.schema}.{index.name}",
                f"{index.definition}; {twin.definition}",
                f"DROP INDEX CONCURRENTLY {index.sql};",
            )


def _same(one: Index, other: Index) -> bool:
    return (
        one.known
        and other.known
        and one.signature == other.signature
        and one.predicate == other.predicate
    )


def _covers(longer: Index, shorter: Index) -> bool:
    width = len(shorter.keys)
    return (
        longer.valid
        and longer.known
        and shorter.known
        and longer.method == shorter.method == "btree"
        and len(longer.keys) > width
        and longer.predicate == shorter.predicate
        and longer.keys[:width] == shorter.keys
        and longer.opclasses[:width] == shorter.opclasses
        and longer.options[:width] == shorter.options
        and longer.collations[:width] == shorter.collations
    )


@_rule(
    catalog,
    id="invalid-index",
    severity=WARNING,
    title="An invalid index (left by a failed CREATE INDEX CONCURRENTLY)",
    what="An index with pg_index.indisvalid false: what a CREATE INDEX CONCURRENTLY or "
    "REINDEX CONCURRENTLY that failed or was cancelled leaves behind.",
    why="The planner never uses an invalid index, yet while it is ready every insert "
    "and update still writes it. An invalid unique index is worse: it rejects new "
    "duplicates while the rows already there were never checked, so the key it stands "
    "for is neither enforced nor absent.",
    fix="REINDEX INDEX CONCURRENTLY (for a unique index, remove the duplicate rows that "
    "made it fail first), or DROP INDEX CONCURRENTLY if it is not wanted",
    bad="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  reference text NOT NULL\n);\n"
    "-- fails on a duplicate reference and leaves orders_reference_key invalid\n"
    "CREATE UNIQUE INDEX CONCURRENTLY orders_reference_key ON orders (reference);",
    good="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  reference text NOT NULL\n);\n"
    "-- after the duplicates are resolved\n"
    "REINDEX INDEX CONCURRENTLY orders_reference_key;",
    language="sql",
)
def invalid_index(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in snapshot.tables:
        for index in table.indexes:
            if index.valid:
                continue
            written = (
                f"every write to {table.qualified} still updates it"
                if index.ready
                else "it is not even kept up to date"
            )
            message = (
                f"{index.name} on {table.qualified} is invalid (a CREATE or REINDEX "
                f"CONCURRENTLY that failed): queries never use it, and {written}"
            )
            fix = f"REINDEX INDEX CONCURRENTLY {index.sql}; or DROP INDEX CONCURRENTLY {index.sql};"
            if index.unique:
                message += (
                    "; as a unique index it rejects new duplicates while the rows already "
                    "there were never checked"
                )
                keys = ", ".join(
                    k or c or "?" for k, c in zip(index.keys, index.columns, strict=False)
                )
                fix = (
                    f"find the duplicates first (SELECT {keys}, count(*) FROM {table.sql} "
                    f"GROUP BY {keys} HAVING count(*) > 1), resolve them, then {fix}"
                )
            yield _hit(
                message,
                f"{table.schema}.{index.name}",
                f"{index.definition}; indisvalid = false",
                fix,
            )


# ---------------------------------------------------------------- constraints


@_rule(
    catalog,
    id="not-valid-constraint",
    severity=WARNING,
    title="A constraint added NOT VALID and never validated",
    what="A CHECK or FOREIGN KEY with pg_constraint.convalidated false: added NOT VALID "
    "(the safe first step) and never followed by VALIDATE CONSTRAINT.",
    why="A NOT VALID constraint checks new and updated rows only: the rows that were "
    "there when it was added may break it (negative amounts, orders of customers that do "
    "not exist), every reader trusting the constraint is wrong about them, and the "
    "planner cannot use it to skip partitions or prove joins.",
    fix="ALTER TABLE ... VALIDATE CONSTRAINT (it takes SHARE UPDATE EXCLUSIVE: reads and "
    "writes go on), after fixing the rows that break it",
    bad="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  quantity int NOT NULL\n);\n"
    "ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) "
    "NOT VALID;",
    good="CREATE TABLE orders (\n"
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  quantity int NOT NULL\n);\n"
    "ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) "
    "NOT VALID;\n"
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;",
    language="sql",
)
def not_valid_constraint(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        for constraint in table.constraints:
            if constraint.validated or constraint.kind not in ("c", "f"):
                continue
            validate = f"ALTER TABLE {table.sql} VALIDATE CONSTRAINT {constraint.sql};"
            if constraint.kind == "c" and constraint.check:
                risk = f"rows added before it may break {constraint.check}"
                fix = (
                    f"find the rows that break it (SELECT * FROM {table.sql} WHERE NOT "
                    f"({constraint.check})), fix them, then {validate}"
                )
            else:
                risk = (
                    f"rows added before it may reference rows of {constraint.references} "
                    "that do not exist"
                )
                fix = f"fix the rows without a parent, then {validate}"
            yield _hit(
                f"constraint {constraint.name} on {table.qualified} was added NOT VALID and "
                f"never validated: {risk}",
                table.qualified,
                f"{constraint.name}: {constraint.definition}",
                fix,
                anchor=f"{table.qualified}: {constraint.name}",
            )


# ---------------------------------------------------------------- the server


@_rule(
    catalog,
    id="slow-query",
    severity=WARNING,
    title="A query slower than 100 ms on average",
    what="A statement of this database in pg_stat_statements whose mean execution time "
    f"is above {SLOW_QUERY_MS:g} ms (the 20 slowest are read; the audit's own are left "
    "out). Needs the extension installed in the database and loaded through "
    "shared_preload_libraries: when it is not, the audit says so in its orientation "
    "notes and checks no queries.",
    why="A query that takes a tenth of a second on average holds its locks, its "
    "connection and its snapshot that long: it piles up under load, delays vacuum, and "
    "a load that waits behind it runs late. It usually reads a whole table for a few rows.",
    fix="EXPLAIN (ANALYZE, BUFFERS) the query with real parameters; a Seq Scan over a "
    "large table for a few rows wants an index (`dataward migrate plan add-index "
    "TABLE.COLUMN`)",
    bad="-- orders has no index on customer_id\nSELECT * FROM orders WHERE customer_id = 42;",
    good="CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n"
    "SELECT * FROM orders WHERE customer_id = 42;",
    language="sql",
)
def slow_query(snapshot: Snapshot) -> Iterator[AuditHit]:
    for query in snapshot.slow_queries or ():
        if query.mean_ms <= SLOW_QUERY_MS:
            continue
        text = " ".join(query.query.split())
        shown = text if len(text) <= 300 else text[:297] + "..."
        yield _hit(
            f"a query takes {query.mean_ms:,.0f} ms on average over "
            f"{plural(query.calls, 'call')} ({query.total_ms / 1000:,.1f} s in all)",
            f"pg_stat_statements:{query.queryid}",
            shown,
            f"EXPLAIN (ANALYZE, BUFFERS) {shown}; a Seq Scan over a large table for a few "
            "rows wants an index",
            anchor=text,
        )


@_rule(
    catalog,
    id="dead-tuples",
    severity=WARNING,
    title="A table full of dead rows",
    what=f"A table with more than {DEAD_TUPLES_MIN:,} dead rows "
    f"(pg_stat_user_tables.n_dead_tup) and more than {DEAD_TUPLES_RATIO:.0%} of its live "
    "ones.",
    why="A dead row is an old version an UPDATE or DELETE left behind: scans still read "
    "it, the table and its indexes stay as large as all the versions together, and "
    "queries slow down until a vacuum reclaims them. Many dead rows mean autovacuum "
    "cannot keep up (or is disabled, or a long transaction holds it back), or that a "
    "load rewrites rows that did not change.",
    fix="VACUUM (ANALYZE) the table; then find why autovacuum falls behind: "
    "autovacuum_enabled off on the table, a long-running transaction (pg_stat_activity."
    "xact_start), or loads that update unchanged rows (skip them with WHERE ... IS "
    "DISTINCT FROM)",
    bad="-- every night: the whole table rewritten, changed or not\n"
    "UPDATE customers SET name = s.name FROM staging s WHERE s.id = customers.id;",
    good="UPDATE customers SET name = s.name FROM staging s\n"
    "WHERE s.id = customers.id AND customers.name IS DISTINCT FROM s.name;",
    language="sql",
)
def dead_tuples(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in snapshot.tables:
        dead, live = table.dead_tuples, table.live_tuples
        if dead is None or live is None:
            continue
        if dead <= DEAD_TUPLES_MIN or dead <= DEAD_TUPLES_RATIO * live:
            continue
        last = table.last_autovacuum or table.last_vacuum
        vacuumed = f"last vacuum {last:%Y-%m-%d %H:%M}" if last else "never vacuumed"
        evidence = f"n_dead_tup {dead:,}, n_live_tup {live:,}, {vacuumed}"
        fix = f"VACUUM (ANALYZE) {table.sql};"
        if not table.autovacuum_enabled:
            evidence += ", autovacuum_enabled = false"
            fix += f" then ALTER TABLE {table.sql} RESET (autovacuum_enabled);"
        else:
            fix += (
                " then find why autovacuum falls behind (a long transaction in "
                "pg_stat_activity, or loads that update unchanged rows: WHERE ... IS "
                "DISTINCT FROM)"
            )
        share = dead / live if live else float("inf")
        ratio = f"{share:.0%} of the live ones" if live else "and no live ones"
        yield _hit(
            f"{table.qualified} holds {dead:,} dead rows next to {live:,} live ones "
            f"({ratio}): scans read them too, and the table stays as large as all of them",
            table.qualified,
            evidence,
            fix,
        )


@_rule(
    catalog,
    id="sequence-exhaustion",
    severity=WARNING,
    title="A sequence or integer key past half its range",
    what=f"A sequence whose last value is past {SEQUENCE_WARNING:.0%} of its range (its "
    "MAXVALUE, or its column's type if that is smaller), or a single-column integer or "
    "smallint primary key whose largest value is (one max() through the key's index). "
    f"High past {SEQUENCE_ERROR:.0%}.",
    why='At the end of the range every insert fails ("nextval: reached maximum value of '
    'sequence", "integer out of range") and the table takes no more rows; moving the '
    "key to bigint then rewrites the table and every table that references it, which "
    "takes long on a table that large: it has to start well before the end.",
    fix="move the column to bigint (`dataward migrate plan change-type TABLE.COLUMN "
    "bigint`) and the sequence with it (ALTER SEQUENCE ... AS bigint)",
    bad="CREATE TABLE tickets (\n  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY\n);",
    good="CREATE TABLE tickets (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY\n);",
    language="sql",
)
def sequence_exhaustion(snapshot: Snapshot) -> Iterator[AuditHit]:
    owned: dict[tuple[int, str], Any] = {}
    for sequence in snapshot.sequences:
        if sequence.owner is not None:
            owned[sequence.owner] = sequence
    for sequence in snapshot.sequences:
        owner = snapshot.table(sequence.owner[0]) if sequence.owner else None
        column = owner.column(sequence.owner[1]) if owner and sequence.owner else None
        if owner is not None and column is not None and _is_integer_key(owner, column):
            continue  # reported with its column below
        limit = _limit(sequence.max_value, column)
        used = _used(sequence.last_value, sequence.min_value, limit, sequence.increment)
        if used is None or used <= SEQUENCE_WARNING:
            continue
        of = f" (owned by {_at(owner, column)})" if owner and column else ""
        kind = sequence.type if column is None else column.type
        fix = f"ALTER SEQUENCE {sequence.sql} AS bigint;"
        if owner is not None and column is not None and column.element in ("int2", "int4"):
            plan = _plan(owner, "change-type", [column.name], "bigint")
            widen = f"ALTER TABLE {owner.sql} ALTER COLUMN {column.sql} TYPE bigint; (rewrites it)"
            fix = f"{f'`{plan}`' if plan else widen}, and {fix}"
        yield _hit(
            f"sequence {sequence.qualified}{of} is at {sequence.last_value:,} of "
            f"{limit:,} ({used:.0%} used): at {limit:,} nextval fails and every insert "
            "that needs it stops",
            sequence.qualified,
            f"{sequence.qualified} {kind}: last_value {sequence.last_value:,}, "
            f"max {limit:,}"
            + (", CYCLE (it will wrap around into used keys)" if sequence.cycle else ""),
            fix,
            severity=ERROR if used > SEQUENCE_ERROR else None,
        )
    for table in _tables(snapshot):
        key = table.primary_key
        column = table.column(key.columns[0]) if key and len(key.columns) == 1 else None
        if column is None or not _is_integer_key(table, column):
            continue
        sequence = owned.get((table.oid, column.name))
        limit = _limit(sequence.max_value if sequence else None, column)
        values = [v for v in (column.max_value, sequence and sequence.last_value) if v]
        if not values:
            continue
        top = max(values)
        used = top / limit
        if used <= SEQUENCE_WARNING:
            continue
        if column.max_value is not None:
            largest = f"max({column.name}) = {column.max_value:,}"
        else:
            largest = "no rows" if table.counted_rows == 0 else f"max({column.name}) not read"
        evidence = f"{column.name} {column.type}: {largest}"
        if sequence is not None:
            evidence += f", sequence {sequence.qualified} at {sequence.last_value or 0:,}"
        plan = _plan(table, "change-type", [column.name], "bigint")
        fix = (
            f"`{plan}`"
            if plan
            else f"ALTER TABLE {table.sql} ALTER COLUMN {column.sql} "
            "TYPE bigint; (rewrites the table and its referencing keys)"
        )
        if sequence is not None:
            fix += f", and ALTER SEQUENCE {sequence.sql} AS bigint;"
        yield _hit(
            f"{_at(table, column)}, the primary key ({column.type}), is at {top:,} of "
            f"{limit:,} ({used:.0%} used): past {limit:,} every insert fails",
            _at(table, column),
            evidence,
            fix,
            severity=ERROR if used > SEQUENCE_ERROR else None,
        )


def _is_integer_key(table: Table, column: Column) -> bool:
    key = table.primary_key
    return (
        key is not None
        and key.columns == (column.name,)
        and not column.array
        and column.element in ("int2", "int4")
    )


def _limit(maximum: int | None, column: Column | None) -> int:
    limits = [maximum] if maximum else []
    if column is not None and not column.array and column.element in _INT_MAX:
        limits.append(_INT_MAX[column.element])
    return min(limits) if limits else _INT_MAX["int8"]


def _used(last: int | None, low: int, high: int, step: int) -> float | None:
    if last is None or high <= low:
        return None
    if step < 0:
        return (high - last) / (high - low)
    return (last - min(low, 0)) / (high - min(low, 0))


@_rule(
    catalog,
    id="stale-table",
    severity=INFO,
    title="A table whose newest row is more than 7 days old",
    what="A table with a timestamp or timestamptz column whose newest value (across "
    f"those columns) is older than {STALE_AFTER.days} days. The newest value is read "
    "exactly in tables of up to 100,000 rows, and in larger ones from the timestamp "
    "columns that lead an index queries already use (one probe each); other large tables "
    "are not judged. timestamp without time zone is read in the session's TimeZone.",
    why="A table that is loaded on a schedule and stops receiving rows fails no query: "
    "dashboards and downstream jobs keep reading last week's data as if it were today's, "
    "and nobody is told the load stopped.",
    fix="check the job that loads it; if the table is no longer loaded, say so in its "
    "contract (or drop it), and give the ones that are a freshness expectation that "
    "alerts",
    bad="-- loaded nightly; the job has failed since 2026-10-01\n"
    "SELECT max(loaded_at) FROM sales;  -- 2026-09-30 23:00",
    good="SELECT max(loaded_at) FROM sales;  -- last night",
    language="sql",
)
def stale_table(snapshot: Snapshot) -> Iterator[AuditHit]:
    for table in _tables(snapshot):
        newest = [(c.newest, c) for c in table.columns if c.is_timestamp and c.newest]
        if not newest:
            continue
        when, column = max(newest, key=lambda pair: pair[0])
        age = snapshot.now - when
        if age <= STALE_AFTER:
            continue
        yield _hit(
            f"the newest row of {table.qualified} is {_age(age)} old ({column.name} = "
            f"{when:%Y-%m-%d %H:%M %Z}): if it is loaded on a schedule, the loads have "
            "stopped",
            table.qualified,
            f"max({column.name}) = {when.isoformat(sep=' ', timespec='minutes')}, {table.rows}",
        )
