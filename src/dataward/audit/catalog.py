"""The live database, read for what it shows about data that can be lost, duplicated or
corrupted: one READ ONLY transaction, a snapshot of the catalog and its statistics, then
the catalog rules (dataward.audit.rules.catalog) over the snapshot, in Python.

Reading is set-based: a handful of queries over pg_catalog and pg_stat_*, whatever the
number of tables. The few facts only the rows hold are bounded:

- a small table (estimated at COUNT_ROWS_LIMIT rows or fewer, or not estimated at all)
  is read once, at most COUNT_ROWS_LIMIT + 1 rows of it, for its row count, the nulls of
  its nullable columns, its newest timestamps and its integer key's maximum; all those
  scans together read at most SCAN_BUDGET_ROWS rows;
- a larger table gives its nulls from pg_stats (the last ANALYZE's sample), its integer
  key's maximum from one probe of the primary key's index, and its newest row from the
  timestamp columns that lead an index queries already use. An index nobody uses is not
  probed: the probe would count as its first scan and hide it from unused-index.

Each of those reads runs under a savepoint that is rolled back at once, so its lock goes
with it (thousands of tables never fill the lock table) and a table another session
holds locked is skipped after lock_timeout instead of waited for.

The transaction is READ ONLY (checked before anything is read, not assumed) and rolled
back at the end: the audit cannot write, and it runs on a hot standby as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from dataward.audit.model import AuditPart, finding
from dataward.audit.secrets import redact_dsn
from dataward.errors import InfrastructureError, Location, UsageError

CONNECT_TIMEOUT_SECONDS = 10
LOCK_TIMEOUT_SECONDS = 2.0  # an audit never queues behind a migration's lock
STATEMENT_TIMEOUT_SECONDS = 30.0  # one catalog query
DATA_TIMEOUT_SECONDS = 5.0  # one table's scan or probe
COUNT_ROWS_LIMIT = 100_000  # tables up to this size are counted exactly
SCAN_BUDGET_ROWS = 5_000_000  # rows all the exact counts may read together
SLOW_QUERIES_READ = 20  # the slowest statements (by mean time) read from pg_stat_statements
_SIZE_CHUNK = 500  # indexes whose size one statement reads (each holds a lock until it ends)

# Schemas that hold the system's objects (and dataward's own bookkeeping: system_schemas).
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
# Every statement the audit sends starts with this, so pg_stat_statements can leave the
# audit's own queries out of the slow ones.
TAG = "/* dataward audit */ "
_TIMESTAMPS = ("timestamp", "timestamptz")


# ---------------------------------------------------------------- the snapshot


@dataclass
class Column:
    name: str
    sql: str  # the name as SQL writes it (quoted where needed)
    type: str  # as PostgreSQL shows it: double precision, timestamp(3) without time zone
    element: str  # pg_type name of the base type (a domain's), or of an array's elements
    array: bool
    not_null: bool
    null_frac: float | None = None  # pg_stats, from the last ANALYZE
    nulls: int | None = None  # counted
    newest: datetime | None = None  # max() of a timestamp column, as an instant
    max_value: int | None = None  # max() of an integer primary key

    @property
    def is_timestamp(self) -> bool:
        return self.element in _TIMESTAMPS and not self.array


@dataclass
class Index:
    oid: int
    name: str
    sql: str  # schema-qualified, quoted where needed
    ident: str  # the bare name as SQL writes it (USING INDEX wants it unqualified)
    method: str  # btree, hash, gin, ...
    columns: tuple[str | None, ...]  # the key columns' names (None for an expression)
    include: tuple[str, ...]  # INCLUDE columns
    opclasses: tuple[int, ...]
    options: tuple[int, ...]  # DESC / NULLS FIRST per key
    collations: tuple[int, ...]
    partial: bool  # has a WHERE
    unique: bool
    primary: bool
    valid: bool
    ready: bool  # written on every insert even while invalid
    constraint: str | None  # the PRIMARY KEY / UNIQUE / EXCLUDE constraint it backs
    scans: int | None  # pg_stat_*_indexes.idx_scan; None when not counted
    size: int | None = None  # bytes
    size_estimated: bool = False  # from relpages, when the size could not be read
    # Deparsed text (pg_get_indexdef locks the table: read apart, and None where a lock
    # held by another session kept it from being read).
    keys: tuple[str | None, ...] = ()  # each key's text: a column name or an expression
    predicate: str | None = None  # a partial index's WHERE
    definition: str = ""

    @property
    def known(self) -> bool:
        """Its keys and predicate are all read (two indexes can be compared)."""
        return all(k is not None for k in self.keys) and (not self.partial or bool(self.predicate))

    @property
    def signature(self) -> tuple[object, ...]:
        """What makes two indexes answer the same lookups."""
        return (self.method, self.keys, self.opclasses, self.options, self.collations)


@dataclass
class Constraint:
    oid: int
    name: str
    sql: str
    kind: str  # p primary, u unique, f foreign, c check, x exclusion
    columns: tuple[str, ...]
    validated: bool
    references: str | None = None  # the table a foreign key points at
    definition: str = ""  # pg_get_constraintdef (read apart, like an index's)
    check: str | None = None  # a CHECK's expression


@dataclass
class Table:
    oid: int
    schema: str
    name: str
    sql: str  # schema-qualified, quoted where needed
    kind: str  # r table, p partitioned table
    partition_of: str | None  # the partitioned table's schema.name
    readable: bool  # SELECT granted, and USAGE on its schema
    estimated_rows: int | None
    live_tuples: int | None
    dead_tuples: int | None
    writes: int | None  # rows inserted, updated and deleted since the statistics began
    last_autovacuum: datetime | None
    last_vacuum: datetime | None
    autovacuum_enabled: bool
    parent: int | None = None  # the partitioned table's oid
    columns: list[Column] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    counted_rows: int | None = None  # exact, when the table was scanned
    locked: bool = False  # another session's lock kept its definitions and rows unread
    unread: str | None = None  # why its rows were not read, when they were not
    nulls_source: str | None = None  # "counted", "pg_stats", or None (not known)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == "p"), None)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def rows(self) -> str:
        """The row count as evidence says it: exact when counted, else the estimate."""
        if self.counted_rows is not None:
            return plural(self.counted_rows, "row")
        if self.estimated_rows is not None:
            return f"about {plural(self.estimated_rows, 'row')}"
        return "row count unknown"


@dataclass
class Sequence:
    schema: str
    name: str
    sql: str
    type: str  # smallint, integer, bigint
    last_value: int | None  # None: never used (or not readable)
    min_value: int
    max_value: int
    increment: int
    cycle: bool
    owner: tuple[int, str] | None  # (table oid, column) of a serial or identity column

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class SlowQuery:
    queryid: int
    query: str
    calls: int
    mean_ms: float
    total_ms: float
    rows: int


@dataclass
class Snapshot:
    """What the audit read from one database, the rules' only input."""

    database: str  # the URL without its password
    server_version: str
    now: datetime  # the server's clock, when the transaction began
    stats_reset: datetime | None  # the statistics (idx_scan, n_tup_*) count since then
    track_counts: bool  # off: pg_stat_* counts nothing, so idx_scan = 0 means nothing
    timezone: str  # the session's TimeZone: how a cast reads timestamp without time zone
    schemas: int
    tables: list[Table] = field(default_factory=list)
    sequences: list[Sequence] = field(default_factory=list)
    slow_queries: list[SlowQuery] | None = None  # None: pg_stat_statements not readable
    statements: str = "not installed"  # pg_stat_statements: installed, not loaded, ...
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    _by_oid: dict[int, Table] = field(default_factory=dict, repr=False, compare=False)

    def table(self, oid: int) -> Table | None:
        if len(self._by_oid) != len(self.tables):
            self._by_oid = {t.oid: t for t in self.tables}
        return self._by_oid.get(oid)


# ---------------------------------------------------------------- the entry point


def audit_database(url: str) -> AuditPart:
    """Findings for the database at `url` (a libpq URL or key=value DSN), read-only."""
    from dataward.audit.rules.catalog import checks

    with audit_session(url) as conn:
        snapshot = take_snapshot(conn, display_url(url))
    part = AuditPart(skipped=list(snapshot.skipped), notes=_orientation(snapshot))
    for rule, check in checks():
        part.findings += [finding(rule, hit) for hit in check(snapshot)]
    return part


def _orientation(snapshot: Snapshot) -> list[str]:
    audited = [t for t in snapshot.tables if t.partition_of is None]
    partitions = len(snapshot.tables) - len(audited)
    line = (
        f"database {snapshot.database}: {plural(len(audited), 'table')}"
        + (f" (and {plural(partitions, 'partition')})" if partitions else "")
        + f", {plural(snapshot.schemas, 'schema')}, PostgreSQL {snapshot.server_version}, "
        f"pg_stat_statements: {snapshot.statements}"
    )
    since = (
        f"since {snapshot.stats_reset:%Y-%m-%d %H:%M %Z}".rstrip()
        if snapshot.stats_reset
        else "since the server's statistics began"
    )
    counted = "counted" if snapshot.track_counts else "NOT counted (track_counts is off)"
    return [line, f"index scans and row changes {counted} {since}", *snapshot.notes]


# ---------------------------------------------------------------- the session


def display_url(url: str) -> str:
    """The database as a person reads it, without a password."""
    if "://" in url:
        # imported here: the rule registry imports this module, and sources.sql brings
        # polars and duckdb with it
        from dataward.sources.sql import redact_url

        return redact_url(url)
    return redact_dsn(url)


def _secrets(url: str) -> list[str]:
    """Every spelling of the password the connection string holds."""
    try:
        password = str(conninfo_to_dict(url).get("password") or "")
    except psycopg.Error:
        return []
    spelled = {password, quote(password, safe=""), quote(password)}
    return sorted((s for s in spelled if s), key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return redact_dsn(text)


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


@contextmanager
def audit_session(
    url: str,
    *,
    lock_timeout_seconds: float | None = None,
    statement_timeout_seconds: float | None = None,
) -> Iterator[psycopg.Connection]:
    """A connection inside a READ ONLY, REPEATABLE READ transaction (one consistent view
    of the catalog and the rows), rolled back and closed on the way out."""
    lock_timeout_seconds = lock_timeout_seconds or LOCK_TIMEOUT_SECONDS
    statement_timeout_seconds = statement_timeout_seconds or STATEMENT_TIMEOUT_SECONDS
    shown = display_url(url)
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise UsageError(f"not a PostgreSQL URL or DSN: {_scrub(_message(exc), url)}") from None
    host = str(params.get("host") or "the default socket")
    port = str(params.get("port") or 5432)
    options: dict[str, Any] = {"application_name": "dataward-audit", "autocommit": False}
    if "connect_timeout" not in params:
        options["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        conn = psycopg.connect(url, **options)
    except psycopg.Error as exc:
        raise InfrastructureError(
            f"cannot connect to PostgreSQL at {host} port {port}: {_scrub(_message(exc), url)}",
            Location(file=shown),
        ) from None
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True  # BEGIN ... READ ONLY
        try:
            conn.execute(TAG + f"SET LOCAL lock_timeout = '{int(lock_timeout_seconds * 1000)}ms'")
            conn.execute(
                TAG + f"SET LOCAL statement_timeout = '{int(statement_timeout_seconds * 1000)}ms'"
            )
            read_only = conn.execute(TAG + "SELECT current_setting('transaction_read_only')")
            state = read_only.fetchone()
        except psycopg.Error as exc:
            raise _failure(exc, url, shown) from None
        if state is None or state[0] != "on":
            raise InfrastructureError(
                "the audit's transaction is not read-only; nothing was read",
                Location(file=shown),
            )
        try:
            yield conn
        except psycopg.Error as exc:
            raise _failure(exc, url, shown) from None
    finally:
        try:
            if not conn.closed and not conn.broken:
                conn.rollback()
        finally:
            conn.close()


def _failure(exc: psycopg.Error, url: str, shown: str) -> InfrastructureError:
    message = _scrub(_message(exc), url)
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        message = f"lock_timeout reached: another session holds a lock the audit needs ({message})"
    elif isinstance(exc, psycopg.errors.QueryCanceled):
        message = f"statement_timeout reached reading the catalog ({message})"
    return InfrastructureError(f"auditing the database failed: {message}", Location(file=shown))


# ---------------------------------------------------------------- reading


def take_snapshot(conn: psycopg.Connection, database: str = "") -> Snapshot:
    """The catalog, the statistics and the bounded data facts, in the caller's
    (read-only) transaction."""
    snapshot = _server(conn, database)
    _tables(conn, snapshot)
    by_oid = {t.oid: t for t in snapshot.tables}
    oids = list(by_oid)
    if oids:
        _columns(conn, by_oid, oids)
        _indexes(conn, by_oid, oids)
        _constraints(conn, by_oid, oids)
        _definitions(conn, snapshot)
        _index_sizes(conn, snapshot)
    _sequences(conn, snapshot, by_oid)
    _statements(conn, snapshot)
    _data(conn, snapshot)
    return snapshot


def system_schemas() -> list[str]:
    """The schemas the audit leaves alone: the system's, and dataward's ledger."""
    # imported here: dataward.warehouse brings the warehouses' dependencies, and the rule
    # registry imports this module
    from dataward.warehouse.base import LEDGER_SCHEMA

    return [*SYSTEM_SCHEMAS, LEDGER_SCHEMA]


def _rows(conn: psycopg.Connection, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return conn.execute(TAG + query, params).fetchall()


_EXCLUDED = (
    "n.nspname <> ALL (%(system)s) AND n.nspname !~ '^pg_(toast|temp)' "
    # objects an extension owns (PostGIS's spatial_ref_sys, say) are the extension's
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
    "AND d.objid = c.oid AND d.deptype = 'e')"
)


def _server(conn: psycopg.Connection, database: str) -> Snapshot:
    (row,) = _rows(
        conn,
        "SELECT current_setting('server_version'), now(), current_setting('track_counts'), "
        "current_setting('TimeZone'), "
        "(SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), "
        "(SELECT count(*) FROM pg_namespace n WHERE n.nspname <> ALL (%(system)s) "
        "AND n.nspname !~ '^pg_(toast|temp)' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e'))",
        {"system": system_schemas()},
    )
    version, now, track_counts, timezone, stats_reset, schemas = row
    return Snapshot(
        database=database or "the database",
        server_version=str(version).split(" ")[0],
        now=now,
        stats_reset=stats_reset,
        track_counts=track_counts == "on",
        timezone=timezone,
        schemas=int(schemas),
    )


def _tables(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    found = _rows(
        conn,
        "SELECT c.oid, n.nspname, c.relname, quote_ident(n.nspname) || '.' || "
        "quote_ident(c.relname), c.relkind, c.reltuples, "
        "CASE WHEN c.relispartition THEN (SELECT i.inhparent::int8 FROM "
        "pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1) END, "
        "has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'), "
        "s.n_live_tup, s.n_dead_tup, s.n_tup_ins + s.n_tup_upd + s.n_tup_del, "
        "s.last_autovacuum, s.last_vacuum, "
        "NOT EXISTS (SELECT 1 FROM unnest(c.reloptions) o "
        "WHERE o ~* '^autovacuum_enabled=(false|off|no|n|f|0)$') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid "
        f"WHERE c.relkind IN ('r', 'p') AND {_EXCLUDED} ORDER BY n.nspname, c.relname",
        {"system": system_schemas()},
    )
    counted = snapshot.track_counts
    for (
        oid, schema, name, sql, kind, reltuples, parent, readable,
        live, dead, writes, autovacuumed, vacuumed, autovacuum,
    ) in found:  # fmt: skip
        estimate = int(reltuples) if reltuples is not None and reltuples >= 0 else None
        if estimate is None and counted and live is not None and kind == "r":
            estimate = int(live)  # never analyzed: the statistics' count of live rows
        snapshot.tables.append(
            Table(
                oid=int(oid),
                schema=schema,
                name=name,
                sql=sql,
                kind=kind,
                partition_of=None,
                parent=int(parent) if parent is not None else None,
                readable=bool(readable),
                estimated_rows=estimate,
                live_tuples=live if counted else None,
                dead_tuples=dead if counted else None,
                writes=writes if counted else None,
                last_autovacuum=autovacuumed,
                last_vacuum=vacuumed,
                autovacuum_enabled=bool(autovacuum),
            )
        )
    by_oid = {t.oid: t for t in snapshot.tables}
    children: dict[int, list[Table]] = {}
    for table in snapshot.tables:
        if table.parent is not None and table.parent in by_oid:
            table.partition_of = by_oid[table.parent].qualified
            children.setdefault(table.parent, []).append(table)

    def rows_of(table: Table) -> int | None:
        # a partitioned table holds no rows of its own: its partitions' sum
        if table.estimated_rows is None and table.kind == "p":
            parts = [rows_of(p) for p in children.get(table.oid, [])]
            if parts and all(p is not None for p in parts):
                table.estimated_rows = sum(p for p in parts if p is not None)
        return table.estimated_rows

    for table in snapshot.tables:
        rows_of(table)
        if not table.readable:
            table.unread = "permission denied"
            snapshot.skipped.append(
                (
                    table.qualified,
                    "permission denied: SELECT is not granted to this user, so its rows "
                    "were not read (null counts, key maxima, freshness); its columns, "
                    "keys and indexes were checked from the catalog",
                )
            )


def _columns(conn: psycopg.Connection, by_oid: dict[int, Table], oids: list[int]) -> None:
    found = _rows(
        conn,
        "SELECT a.attrelid, a.attname, quote_ident(a.attname), "
        "format_type(a.atttypid, a.atttypmod), e.typname, b.typcategory = 'A', "
        "a.attnotnull, s.null_frac "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
        "JOIN pg_type e ON e.oid = CASE WHEN b.typcategory = 'A' THEN b.typelem ELSE b.oid END "
        "LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname "
        "AND s.attname = a.attname AND s.inherited = (c.relkind = 'p') "
        "WHERE a.attrelid = ANY (%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attrelid, a.attnum",
        {"oids": oids},
    )
    for oid, name, sql, kind, element, array, not_null, null_frac in found:
        by_oid[int(oid)].columns.append(
            Column(
                name=name,
                sql=sql,
                type=kind,
                element=element,
                array=bool(array),
                not_null=bool(not_null),
                null_frac=float(null_frac) if null_frac is not None else None,
            )
        )


def _indexes(conn: psycopg.Connection, by_oid: dict[int, Table], oids: list[int]) -> None:
    keys = "generate_series(0, i.indnkeyatts - 1) k ORDER BY k"
    found = _rows(
        conn,
        "SELECT i.indrelid, i.indexrelid, ic.relname, "
        "quote_ident(n.nspname) || '.' || quote_ident(ic.relname), quote_ident(ic.relname), "
        "am.amname, "
        "ARRAY(SELECT a.attname FROM generate_series(0, i.indnkeyatts - 1) k "
        "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k] "
        "AND i.indkey[k] <> 0 ORDER BY k), "
        "ARRAY(SELECT a.attname FROM generate_series(i.indnkeyatts, i.indnatts - 1) k "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k] ORDER BY k), "
        f"ARRAY(SELECT i.indclass[k]::int8 FROM {keys}), "
        f"ARRAY(SELECT i.indoption[k]::int FROM {keys}), "
        f"ARRAY(SELECT i.indcollation[k]::int8 FROM {keys}), "
        "i.indpred IS NOT NULL, i.indisunique, i.indisprimary, i.indisvalid, i.indisready, "
        "(SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid "
        "AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1), "
        "s.idx_scan, ic.relpages::int8 * current_setting('block_size')::int8 "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = ic.relnamespace JOIN pg_am am ON am.oid = ic.relam "
        "LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid "
        "WHERE i.indrelid = ANY (%(oids)s::oid[]) ORDER BY i.indrelid, ic.relname",
        {"oids": oids},
    )
    for (
        table, oid, name, sql, ident, method, columns, include, opclasses, options,
        collations, partial, unique, primary, valid, ready, constraint, scans, pages,
    ) in found:  # fmt: skip
        owner = by_oid[int(table)]
        columns = tuple(columns)
        index = Index(
            oid=int(oid),
            name=name,
            sql=sql,
            ident=ident,
            method=method,
            columns=columns,
            include=tuple(include),
            opclasses=tuple(opclasses),
            options=tuple(options),
            collations=tuple(collations),
            partial=bool(partial),
            unique=bool(unique),
            primary=bool(primary),
            valid=bool(valid),
            ready=bool(ready),
            constraint=constraint,
            scans=scans,
            size=pages,
            size_estimated=True,
            keys=columns,
        )
        # Until the definitions are read: what the catalog says without deparsing.
        listed = ", ".join(c or "(expression)" for c in columns)
        index.definition = f"INDEX {name} ON {owner.sql} USING {method} ({listed})"
        owner.indexes.append(index)


def _constraints(conn: psycopg.Connection, by_oid: dict[int, Table], oids: list[int]) -> None:
    found = _rows(
        conn,
        "SELECT con.conrelid, con.oid, con.conname, quote_ident(con.conname), con.contype, "
        "con.convalidated, ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY "
        "k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid "
        "AND a.attnum = k.attnum ORDER BY k.ord), "
        "CASE WHEN con.contype = 'f' THEN con.confrelid::regclass::text END "
        "FROM pg_constraint con WHERE con.conrelid = ANY (%(oids)s::oid[]) "
        "ORDER BY con.conrelid, con.conname",
        {"oids": oids},
    )
    kinds = {"p": "PRIMARY KEY", "u": "UNIQUE", "f": "FOREIGN KEY", "c": "CHECK", "x": "EXCLUDE"}
    for table, oid, name, sql, kind, validated, columns, references in found:
        listed = f" ({', '.join(columns)})" if columns else ""
        target = f" REFERENCES {references}" if references else ""
        by_oid[int(table)].constraints.append(
            Constraint(
                oid=int(oid),
                name=name,
                sql=sql,
                kind=kind,
                columns=tuple(columns),
                validated=bool(validated),
                references=references,
                definition=f"{kinds.get(kind, kind)}{listed}{target}",
            )
        )


_DEFINITIONS_CHUNK = 100  # tables whose definitions one statement deparses


def _definitions(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    """Index and constraint definitions as text. Deparsing takes a lock on each table,
    so it runs in chunks of tables, each under a savepoint rolled back at once; a chunk
    that meets a lock held by another session is read again table by table, and the
    tables that stay locked keep what the catalog said without deparsing."""
    tables = [t for t in snapshot.tables if t.indexes or t.constraints]
    for start in range(0, len(tables), _DEFINITIONS_CHUNK):
        chunk = tables[start : start + _DEFINITIONS_CHUNK]
        if _read_definitions(conn, chunk) is None:
            continue
        for table in chunk:
            problem = _read_definitions(conn, [table])
            if problem is not None:
                table.locked = True
                table.unread = "another session holds a lock on it"
                snapshot.skipped.append(
                    (
                        table.qualified,
                        f"{problem}: its index and constraint definitions and its rows "
                        "were not read; what pg_catalog holds of it was checked",
                    )
                )


def _read_definitions(conn: psycopg.Connection, tables: list[Table]) -> str | None:
    """Fills the definitions of `tables`; why it could not, or None."""
    oids = [t.oid for t in tables]
    read = _guarded(
        conn,
        "SELECT 'index', i.indexrelid, pg_get_indexdef(i.indexrelid), "
        "ARRAY(SELECT pg_get_indexdef(i.indexrelid, k + 1, true) "
        "FROM generate_series(0, i.indnkeyatts - 1) k ORDER BY k), "
        "pg_get_expr(i.indpred, i.indrelid, true) "
        "FROM pg_index i WHERE i.indrelid = ANY (%(oids)s::oid[]) "
        "UNION ALL SELECT 'constraint', con.oid, pg_get_constraintdef(con.oid, true), NULL, "
        "CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid, true) END "
        "FROM pg_constraint con WHERE con.conrelid = ANY (%(oids)s::oid[])",
        {"oids": oids},
    )
    if isinstance(read, str):
        return read
    indexes = {i.oid: i for t in tables for i in t.indexes}
    constraints = {c.oid: c for t in tables for c in t.constraints}
    for kind, oid, definition, keys, expression in read:
        if kind == "index" and oid in indexes:
            index = indexes[oid]
            index.definition, index.keys, index.predicate = definition, tuple(keys), expression
        elif oid in constraints:
            constraint = constraints[oid]
            constraint.definition, constraint.check = definition, expression
    return None


def _index_sizes(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    """Exact sizes (pg_relation_size takes a lock on each index: in chunks, each under a
    savepoint rolled back at once); relpages' estimate is kept where a lock is held."""
    indexes = {i.sql: i for t in snapshot.tables for i in t.indexes}
    names = list(indexes)
    for start in range(0, len(names), _SIZE_CHUNK):
        chunk = names[start : start + _SIZE_CHUNK]
        read = _guarded(
            conn,
            "SELECT name, pg_relation_size(name::regclass) FROM unnest(%(names)s::text[]) name",
            {"names": chunk},
        )
        if isinstance(read, str):
            snapshot.notes.append(f"index sizes are estimates (relpages): {read}")
            continue
        for name, size in read:
            indexes[name].size = int(size)
            indexes[name].size_estimated = False


def _sequences(conn: psycopg.Connection, snapshot: Snapshot, by_oid: dict[int, Table]) -> None:
    read = _guarded(
        conn,
        "SELECT s.schemaname, s.sequencename, quote_ident(s.schemaname) || '.' || "
        "quote_ident(s.sequencename), s.data_type::text, s.last_value, s.min_value, "
        "s.max_value, s.increment_by, s.cycle, d.refobjid, a.attname "
        "FROM pg_sequences s JOIN pg_namespace n ON n.nspname = s.schemaname "
        "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename "
        "LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid "
        "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "AND d.refobjsubid > 0 "
        "LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        f"WHERE {_EXCLUDED} ORDER BY s.schemaname, s.sequencename",
        {"system": system_schemas()},
    )
    if isinstance(read, str):
        snapshot.skipped.append(("sequences", read))
        return
    for schema, name, sql, kind, last, low, high, step, cycle, owner, column in read:
        snapshot.sequences.append(
            Sequence(
                schema=schema,
                name=name,
                sql=sql,
                type=kind,
                last_value=last,
                min_value=int(low),
                max_value=int(high),
                increment=int(step),
                cycle=bool(cycle),
                owner=(int(owner), column) if owner is not None and column else None,
            )
        )


def _statements(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    """The slowest statements on this database, when pg_stat_statements can say."""
    found = _rows(
        conn,
        "SELECT extnamespace::regnamespace::text, extversion FROM pg_extension "
        "WHERE extname = 'pg_stat_statements'",
    )
    if not found:
        snapshot.statements = "not installed"
        snapshot.notes.append(
            "pg_stat_statements is not installed: slow queries not checked "
            "(CREATE EXTENSION pg_stat_statements; needs shared_preload_libraries)"
        )
        return
    schema, version = found[0]
    numbers = tuple(int(p) for p in str(version).split(".") if p.isdigit())
    mean, total = (
        ("mean_exec_time", "total_exec_time") if numbers >= (1, 8) else ("mean_time", "total_time")
    )
    read = _guarded(
        conn,
        f"SELECT queryid, query, calls, {mean}, {total}, rows "
        f"FROM {schema}.pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT LIKE %(ours)s "
        f"ORDER BY {mean} DESC LIMIT {SLOW_QUERIES_READ}",
        {"ours": TAG.strip() + "%"},
    )
    if isinstance(read, str):
        if "shared_preload_libraries" in read:
            snapshot.statements = "installed, not loaded"
            snapshot.notes.append(
                "pg_stat_statements is installed but not loaded: slow queries not checked "
                "(add it to shared_preload_libraries and restart the server)"
            )
        else:
            snapshot.statements = "not readable"
            snapshot.notes.append(f"pg_stat_statements could not be read: {read}")
        return
    snapshot.statements = f"installed ({version})"
    snapshot.slow_queries = [
        SlowQuery(int(qid or 0), str(text), int(calls), float(m), float(t), int(rows))
        for qid, text, calls, m, t, rows in read
    ]


def _guarded(
    conn: psycopg.Connection,
    query: str,
    params: Any = None,
    settings: tuple[str, ...] = (),
) -> list[tuple[Any, ...]] | str:
    """The rows, or why they could not be read (a lock held, a timeout, a permission):
    under a savepoint rolled back at once, so neither a failure nor the locks taken
    outlive the statement."""
    conn.execute(TAG + "SAVEPOINT dataward_read")
    try:
        for setting in settings:
            conn.execute(TAG + setting)
        return _rows(conn, query, params)
    except psycopg.errors.LockNotAvailable:
        return f"another session holds a lock on it (lock_timeout, {LOCK_TIMEOUT_SECONDS:g} s)"
    except psycopg.errors.QueryCanceled:
        return f"reading it took longer than {DATA_TIMEOUT_SECONDS:g} s (statement_timeout)"
    except psycopg.errors.InsufficientPrivilege as exc:
        return f"permission denied ({_message(exc)})"
    except (psycopg.errors.ObjectNotInPrerequisiteState, psycopg.errors.FeatureNotSupported) as exc:
        return _message(exc)
    finally:
        conn.execute(TAG + "ROLLBACK TO SAVEPOINT dataward_read")
        conn.execute(TAG + "RELEASE SAVEPOINT dataward_read")


# ---------------------------------------------------------------- the rows


_NO_INDEX_SCANS = (
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_indexonlyscan = off",
    "SET LOCAL enable_bitmapscan = off",
)


def _data(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    timeout = f"SET LOCAL statement_timeout = '{int(DATA_TIMEOUT_SECONDS * 1000)}ms'"
    budget = SCAN_BUDGET_ROWS
    spent_out: list[str] = []
    for table in snapshot.tables:
        if table.partition_of is not None or not table.readable or table.locked:
            continue  # a partition is read through its partitioned table
        nullable = [c for c in table.columns if not c.not_null]
        timestamps = [c for c in table.columns if c.is_timestamp]
        key = _integer_key(table)
        if not (nullable or timestamps or key):
            continue
        small = table.estimated_rows is None or table.estimated_rows <= COUNT_ROWS_LIMIT
        if small and budget > COUNT_ROWS_LIMIT:
            scanned = _scan(conn, snapshot, table, nullable, timestamps, key, timeout)
            if scanned is None:
                continue  # could not be read: in skipped
            budget -= scanned
        elif small:
            spent_out.append(table.qualified)
        if table.counted_rows is None:
            _probe(conn, snapshot, table, key, timeout)
            if nullable and all(c.null_frac is not None for c in nullable):
                table.nulls_source = "pg_stats"
    if spent_out:
        snapshot.notes.append(
            f"{plural(len(spent_out), 'small table')} not counted exactly (the scan budget "
            f"of {SCAN_BUDGET_ROWS:,} rows was spent): their nulls are pg_stats' estimates"
        )


def _integer_key(table: Table) -> Column | None:
    key = table.primary_key
    if key is None or len(key.columns) != 1:
        return None
    column = table.column(key.columns[0])
    if column is None or column.array or column.element not in ("int2", "int4"):
        return None
    return column


def _scan(
    conn: psycopg.Connection,
    snapshot: Snapshot,
    table: Table,
    nullable: list[Column],
    timestamps: list[Column],
    key: Column | None,
    timeout: str,
) -> int | None:
    """One bounded sequential read of a small table; the rows read, or None."""
    wanted = {c.name: c for c in [*nullable, *timestamps, *([key] if key else [])]}
    values = [
        *(f"count(*) - count({c.sql})" for c in nullable),
        *(f"max({c.sql})::timestamptz" for c in timestamps),
        *([f"max({key.sql})"] if key else []),
    ]
    read = _guarded(
        conn,
        f"SELECT count(*), {', '.join(values)} FROM (SELECT "
        f"{', '.join(c.sql for c in wanted.values())} FROM {table.sql} "
        f"LIMIT {COUNT_ROWS_LIMIT + 1}) s",
        settings=(timeout, *_NO_INDEX_SCANS),
    )
    if isinstance(read, str):
        table.unread = read
        snapshot.skipped.append((table.qualified, f"rows not read: {read}"))
        return None
    (row,) = read
    rows = int(row[0])
    if rows > COUNT_ROWS_LIMIT:
        return rows  # larger than its statistics said: probed instead, below
    table.counted_rows = rows
    table.nulls_source = "counted" if nullable else None
    position = 1
    for column in nullable:
        column.nulls = int(row[position])
        position += 1
    for column in timestamps:
        column.newest = row[position]
        position += 1
    if key is not None:
        key.max_value = row[position]
    return rows


def _probe(
    conn: psycopg.Connection,
    snapshot: Snapshot,
    table: Table,
    key: Column | None,
    timeout: str,
) -> None:
    """A large table's integer key maximum and newest timestamps, each from one end of
    an index (a probe, not a scan)."""
    used = {
        index.columns[0]
        for index in table.indexes
        if index.valid
        and index.method == "btree"
        and not index.partial
        and index.columns
        and (index.scans or 0) > 0
    }
    timestamps = [c for c in table.columns if c.is_timestamp and c.name in used]
    values = [f"max({c.sql})::timestamptz" for c in timestamps]
    if key is not None:  # its primary key's index answers max() from one end
        values.append(f"max({key.sql})")
    if not values:
        return
    read = _guarded(conn, f"SELECT {', '.join(values)} FROM {table.sql}", settings=(timeout,))
    if isinstance(read, str):
        table.unread = read
        snapshot.skipped.append((table.qualified, f"rows not read: {read}"))
        return
    (row,) = read
    for column, value in zip(timestamps, row, strict=False):
        column.newest = value
    if key is not None:
        key.max_value = row[-1]


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"
