"""The rows of a SQL query (DuckDB file or PostgreSQL) as Polars batches.

Types are kept as the database states them: integers, floats, booleans, dates, times,
timestamps (with a time zone: converted to UTC, the same instant), bytes, and NUMERIC
with a declared precision as Decimal. Everything else (unconstrained NUMERIC, UUID,
JSON, intervals, arrays, ranges, user types) arrives as the database's own text, so the
contract's strict casts judge it and nothing is rounded on the way in.

Each row carries `_dw_source` (`<url without password>#<query>`), `_dw_source_row` (its
1-based number in the result) and a null `_dw_source_line`. A password never appears in a
name, a location or a message.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import psycopg
import psycopg.postgres
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader

from dataward.errors import InfrastructureError, Location, SourceError, UsageError
from dataward.redact import redact_url
from dataward.redact import secrets_in as _secrets_in
from dataward.sources.files import LINE_COLUMN, ROW_COLUMN, SOURCE_COLUMN

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEMES = ("duckdb", *_POSTGRES_SCHEMES)
# libpq reads these from a URL's query string too; they are secrets like the password.
_LOCATION_COLUMNS = (SOURCE_COLUMN, ROW_COLUMN, LINE_COLUMN)
CONNECT_TIMEOUT_SECONDS = 10


class SqlSource:
    """A query's result, read in bounded batches; the input fingerprint after the last."""

    def __init__(self, url: str, query: str, batch_rows: int = 250_000) -> None:
        if batch_rows < 1:
            raise UsageError(f"batch_rows must be at least 1, got {batch_rows}")
        self._url = url
        self._query = query
        self._batch_rows = batch_rows
        self._secrets = _secrets_in(url)
        self._fingerprint: str | None = None
        scheme = url.partition("://")[0].lower() if "://" in url else ""
        if scheme not in _SCHEMES:
            # Only the scheme is shown: the rest may hold a password.
            shown = f" (got {scheme!r})" if scheme and scheme.isalnum() else ""
            raise UsageError(
                "a SQL source URL starts with duckdb:///<path>, postgresql:// or postgres://"
                + shown
            )
        self._scheme = scheme
        self.name = redact_url(url)
        self._connect_options: dict[str, object] = {}
        if scheme in _POSTGRES_SCHEMES:
            self._connect_options = self._postgres_options()
        else:
            _duckdb_path(url)  # a malformed DuckDB URL is refused before any reading
        # One line, so a row's source reads well in a report; the query is still readable.
        self.source = f"{self.name}#{' '.join(query.split())}"

    @property
    def fingerprint(self) -> str:
        """sha256 (hex) of the rows in the order received, known once every batch is read."""
        if self._fingerprint is None:
            raise UsageError(
                "the input fingerprint is known only after every batch has been read",
                Location(file=self.name),
            )
        return self._fingerprint

    def batches(self) -> Iterator[pl.DataFrame]:
        self._fingerprint = None
        frames = self._duckdb_frames() if self._scheme == "duckdb" else self._postgres_frames()
        digest = _RowDigest()
        rows = 0
        empty: pl.DataFrame | None = None
        for frame in frames:
            frame = _normalized(frame)
            if frame.height == 0:
                empty = frame  # only the schema: kept for a result without any row
                continue
            digest.update(frame)
            yield self._located(frame, rows)
            rows += frame.height
        if rows == 0 and empty is not None:
            digest.update(empty)
            yield self._located(empty, 0)
        self._fingerprint = digest.hexdigest()

    def _located(self, frame: pl.DataFrame, rows_before: int) -> pl.DataFrame:
        return frame.with_columns(
            pl.lit(self.source, dtype=pl.String).alias(SOURCE_COLUMN),
            pl.int_range(
                rows_before + 1, rows_before + frame.height + 1, dtype=pl.Int64, eager=True
            ).alias(ROW_COLUMN),
            pl.lit(None, dtype=pl.Int64).alias(LINE_COLUMN),
        )

    def _postgres_options(self) -> dict[str, object]:
        try:
            given = conninfo_to_dict(self._url)
        except psycopg.Error as exc:
            raise UsageError(
                f"not a valid PostgreSQL URL: {self._scrub(str(exc))}", Location(file=self.name)
            ) from None
        # Without a timeout, an address that drops packets hangs the run for minutes.
        return {} if "connect_timeout" in given else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}

    # ------------------------------------------------------------ errors

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return " ".join(text.split())  # driver messages span lines; a report line does not

    def _query_error(self, problem: str, position: int | None = None) -> SourceError:
        where = ""
        if position is not None:
            line, column = _line_and_column(self._query, position)
            where = f" at line {line}, column {column} of the query"
        return SourceError(
            f"the query failed{where}: {self._scrub(problem)} (query: {_shortened(self._query)})",
            Location(file=self.name),
        )

    def _check_names(self, names: list[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise self._query_error(
                    f"column {name!r} appears twice in the result; give one of them an alias"
                )
            if name in _LOCATION_COLUMNS:
                raise self._query_error(
                    f"column {name!r} is the name dataward gives a row's location; rename it"
                )
            seen.add(name)

    def _infrastructure_error(self, what: str, problem: str) -> InfrastructureError:
        return InfrastructureError(f"{what}: {self._scrub(problem)}", Location(file=self.name))

    def _lost_error(self, exc: psycopg.OperationalError) -> InfrastructureError:
        # With an SQLSTATE the server ended the query (a timeout, a shutdown); without
        # one the connection itself broke.
        what = "the database stopped the query" if exc.sqlstate else "the connection was lost"
        return self._infrastructure_error(what, str(exc))

    # ------------------------------------------------------------ DuckDB

    def _duckdb_frames(self) -> Iterator[pl.DataFrame]:
        path = _duckdb_path(self._url)
        if not path.is_file():
            raise SourceError("database file not found", Location(file=self.name))
        try:
            # read_only: a source is never written, and other readers may share the file.
            conn = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise self._infrastructure_error("cannot connect", str(exc)) from None
        with conn:
            try:
                relation = conn.sql(self._query)
                if relation is None:
                    raise self._query_error("the statement returns no rows (not a query)")
                reader = relation.to_arrow_reader(self._batch_rows)
                for batch in reader:
                    yield self._frame_of(batch)
                # No batch at all for an empty result; its columns still tell the schema.
                yield self._frame_of(reader.schema.empty_table())
            except (duckdb.Error, pa.ArrowException) as exc:
                raise self._query_error(str(exc)) from None

    def _frame_of(self, batch: pa.RecordBatch | pa.Table) -> pl.DataFrame:
        self._check_names(batch.schema.names)
        try:
            frame = pl.from_arrow(batch)
        except (pl.exceptions.PolarsError, pa.ArrowException):
            raise self._unreadable_column(batch) from None
        assert isinstance(frame, pl.DataFrame)
        return frame

    def _unreadable_column(self, batch: pa.RecordBatch | pa.Table) -> SourceError:
        for field in batch.schema:
            try:
                pl.from_arrow(pa.table({field.name: batch.column(field.name)}))
            except (pl.exceptions.PolarsError, pa.ArrowException):
                return self._query_error(
                    f"column {field.name!r} has type {field.type}, which cannot be read; "
                    "cast it in the query (to VARCHAR, say)"
                )
        return self._query_error("the result cannot be read")

    # ------------------------------------------------------------ PostgreSQL

    def _postgres_frames(self) -> Iterator[pl.DataFrame]:
        try:
            conn = psycopg.connect(self._url, **self._connect_options)
        except psycopg.Error as exc:
            raise self._infrastructure_error("cannot connect", str(exc)) from None
        try:
            with conn:
                # A source only reads; a query that tries to write fails instead.
                conn.read_only = True
                _load_as_text_unless_typed(conn)
                yield from self._postgres_results(conn)
        except psycopg.OperationalError as exc:  # lost while ending the transaction
            raise self._lost_error(exc) from None

    def _postgres_results(self, conn: psycopg.Connection) -> Iterator[pl.DataFrame]:
        # A server-side cursor: the server holds the result, memory holds one batch.
        name = f"dataward_source_{secrets.token_hex(4)}"
        try:
            with conn.cursor(name=name) as cursor:
                cursor.execute(self._query)
                if cursor.description is None:
                    raise self._query_error("the statement returns no rows (not a query)")
                columns = [_PgColumn.of(column) for column in cursor.description]
                self._check_names([column.name for column in columns])
                while True:
                    rows = cursor.fetchmany(self._batch_rows)
                    yield self._pg_frame(columns, rows)
                    if len(rows) < self._batch_rows:
                        return
        except psycopg.OperationalError as exc:
            raise self._lost_error(exc) from None
        except psycopg.Error as exc:
            position = _position(exc, len(_declare_prefix(conn, name)))
            problem = _server_message(exc)
            if position == 1:  # the first word: a statement that is no query, most likely
                problem += " (a source is one query returning rows: SELECT, WITH, VALUES, TABLE)"
            raise self._query_error(problem, position) from None

    def _pg_frame(self, columns: list[_PgColumn], rows: Sequence[tuple]) -> pl.DataFrame:
        arrays: list[pa.Array] = []
        for index, column in enumerate(columns):
            values = [row[index] for row in rows]
            try:
                arrays.append(column.to_arrow(values))
            except (pa.ArrowException, OverflowError, ValueError, TypeError) as exc:
                raise self._query_error(
                    f"column {column.name!r} ({column.type_name}) holds a value that cannot be "
                    f"read as {column.arrow_type}: {exc}; cast it in the query"
                ) from None
        table = pa.table(arrays, names=[column.name for column in columns])
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame


# ---------------------------------------------------------------- PostgreSQL types

_PG_TYPES: dict[str, pa.DataType] = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "bytea": pa.binary(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    '"char"': pa.string(),
}
_NUMERIC_OID = psycopg.postgres.types["numeric"].oid
_DECIMAL_MAX_PRECISION = 38  # decimal128, Polars' Decimal


def _load_as_text_unless_typed(conn: psycopg.Connection) -> None:
    """psycopg turns many types into Python objects that Arrow cannot hold or that lose
    detail (a month-long interval becomes 30 days); their text form keeps everything."""
    for info in psycopg.postgres.types:
        if info.name not in _PG_TYPES:
            conn.adapters.register_loader(info.oid, TextLoader)
        if info.array_oid:
            conn.adapters.register_loader(info.array_oid, TextLoader)


@dataclass(frozen=True)
class _PgColumn:
    name: str
    type_name: str
    arrow_type: pa.DataType
    from_text: bool  # NUMERIC arrives as text and is cast by Arrow, digit for digit

    @classmethod
    def of(cls, column: psycopg.Column) -> _PgColumn:
        info = psycopg.postgres.types.get(column.type_code)
        if info is None:
            type_name = f"oid {column.type_code}"
        elif info.oid != column.type_code:  # the registry answers an array's oid too
            type_name = f"{info.name}[]"
        else:
            type_name = info.name
        if column.type_code == _NUMERIC_OID:
            precision, scale = column.precision, column.scale
            if precision is not None and scale is not None and precision <= _DECIMAL_MAX_PRECISION:
                return cls(column.name, type_name, pa.decimal128(precision, scale), True)
            # No declared scale (sum(), a literal, bare NUMERIC): text keeps every digit.
            return cls(column.name, type_name, pa.string(), False)
        return cls(column.name, type_name, _PG_TYPES.get(type_name, pa.string()), False)

    def to_arrow(self, values: list[object]) -> pa.Array:
        if self.from_text:
            return pc.cast(pa.array(values, pa.string()), self.arrow_type)
        return pa.array(values, self.arrow_type)


def _server_message(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary if exc.diag else None
    return primary or str(exc) or type(exc).__name__


def _declare_prefix(conn: psycopg.Connection, name: str) -> str:
    """What psycopg puts before the query to open a server-side cursor (as its
    ServerCursor does with the default options), which the server counts positions in."""
    parts = [sql.SQL("DECLARE"), sql.Identifier(name), sql.SQL("CURSOR"), sql.SQL("FOR ")]
    return sql.SQL(" ").join(parts).as_string(conn)


def _position(exc: psycopg.Error, prefix_length: int) -> int | None:
    """Where in the query (1-based) the server puts the problem, if it says."""
    position = exc.diag.statement_position if exc.diag else None
    if not position or not position.isdigit() or int(position) <= prefix_length:
        return None
    return int(position) - prefix_length


# ---------------------------------------------------------------- shared


def _duckdb_path(url: str) -> Path:
    """`duckdb:///data/x.duckdb` is relative, `duckdb:////srv/x.duckdb` absolute: what
    follows `duckdb:///` is the path as written (SQLAlchemy's convention)."""
    prefix = "duckdb:///"
    if not url.lower().startswith(prefix) or len(url) == len(prefix):
        raise UsageError(
            "a DuckDB source URL is duckdb:///<path to the .duckdb file> "
            "(duckdb:////<absolute path>)"
        )
    return Path(url[len(prefix) :])


def _normalized(frame: pl.DataFrame) -> pl.DataFrame:
    """One spelling per kind of value: an instant in UTC, text as String."""
    changes: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone not in (None, "UTC"):
            changes.append(pl.col(name).dt.convert_time_zone("UTC"))
        elif isinstance(dtype, pl.Categorical | pl.Enum):  # a DuckDB ENUM
            changes.append(pl.col(name).cast(pl.String))
    return frame.with_columns(changes) if changes else frame


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    """PostgreSQL's 1-based character position in the query as a line and column."""
    before = text[: max(position - 1, 0)]
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _shortened(query: str, limit: int = 200) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _RowDigest:
    """sha256 over a canonical text of the rows: the column names and types, then every
    row as CSV in which each non-numeric value is quoted and a null is bare, so null,
    "" and "NaN" differ. Batch boundaries do not change it; row order does."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._started = False

    def update(self, frame: pl.DataFrame) -> None:
        if not self._started:
            self._started = True
            header = [[name, str(dtype)] for name, dtype in frame.schema.items()]
            self._hash.update(json.dumps(header).encode() + b"\n")
        if frame.height:
            text = _writable(frame).write_csv(include_header=False, quote_style="non_numeric")
            self._hash.update(text.encode())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _writable(frame: pl.DataFrame) -> pl.DataFrame:
    """The CSV writer takes neither bytes, nor nested values, nor durations."""
    changes: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Binary:
            changes.append(pl.col(name).bin.encode("hex"))
        elif dtype.is_nested():
            changes.append(pl.struct(name).struct.json_encode().alias(name))
        elif isinstance(dtype, pl.Duration):
            changes.append(pl.col(name).to_physical())
    return frame.with_columns(changes) if changes else frame
