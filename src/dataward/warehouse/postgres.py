"""The production warehouse: a PostgreSQL database, through psycopg 3.

Batches are staged on this machine first (warehouse/staging.py), exactly as for DuckDB;
the load then ships to the server only what it needs, by binary COPY (warehouse/pg_copy.py),
and runs one set-based statement per mode inside the run's transaction
(pipeline/load_postgres.py). The ledger lives in the `dataward` schema of the same
database, so a load and its record commit together.

Every session says `application_name=dataward`, and sets `lock_timeout` and
`statement_timeout` before its first statement, so no statement dataward issues can wait
or run unbounded. A run holds a session-level advisory lock per target table: a second
run of the same table, from any machine, fails at once with exit 4, naming the holder.
Credentials come from the URL or libpq's own PG* variables and ~/.pgpass; the password is
never shown: not in `display_url`, not in a message (the driver's are scrubbed of it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.types.string import TextLoader

from dataward.contract.model import Column
from dataward.errors import (
    InfrastructureError,
    Location,
    LockHeldError,
    LockTimeoutError,
    StatementError,
)
from dataward.redact import redact_url
from dataward.redact import secrets_in as _secrets_in
from dataward.warehouse.base import LiveColumn, Warehouse

# DuckDB, pyarrow and pgpq are loaded when a run first stages rows: a `migrate` command,
# which never does, starts without them (0.3 s of every CLI call).
if TYPE_CHECKING:
    import pyarrow as pa

    from dataward.warehouse.staging import Staging

CONNECT_TIMEOUT_SECONDS = 10
_LOCK_PREFIX = "dataward:table:"


class PostgresWarehouse(Warehouse):
    dialect = "postgres"
    json_type = "JSONB"
    temp_schema = "pg_temp"

    def __init__(
        self,
        url: str,
        *,
        lock_timeout_seconds: float = 10.0,
        statement_timeout_seconds: float = 3600.0,
    ) -> None:
        self.url = url
        self.display_url = redact_url(url)
        self.lock_timeout_seconds = lock_timeout_seconds
        self.statement_timeout_seconds = statement_timeout_seconds
        self._staging: Staging | None = None
        self._in_transaction = False
        self._secrets = _secrets_in(url)
        self._conn: psycopg.Connection | None = None
        self._locked: list[str] = []

    @property
    def staging(self) -> Staging:  # type: ignore[override]
        if self._staging is None:
            from dataward.warehouse.staging import Staging

            self._staging = Staging(self.display_url)
            if self._in_transaction:
                self._staging.begin()
        return self._staging

    # ----------------------------------------------------------- connection

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            raise InfrastructureError(
                "the connection to PostgreSQL is not open", Location(file=self.display_url)
            )
        return self._conn

    def open(self) -> None:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return
        self._conn = None
        options: dict[str, Any] = {"application_name": "dataward", "autocommit": True}
        if "connect_timeout" not in self.url:
            options["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        try:
            conn = psycopg.connect(self.url, cursor_factory=psycopg.RawCursor, **options)
        except psycopg.Error as exc:
            raise InfrastructureError(
                f"cannot connect to PostgreSQL: {self._scrub(_message(exc))}",
                Location(file=self.display_url),
            ) from None
        except ValueError as exc:  # a URL libpq cannot parse
            raise InfrastructureError(
                f"not a valid PostgreSQL URL: {self._scrub(str(exc))}",
                Location(file=self.display_url),
            ) from None
        # JSON documents are read as their text, as the DuckDB warehouse returns them.
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        self._conn = conn
        for statement in (
            f"SET lock_timeout = '{int(self.lock_timeout_seconds * 1000)}ms'",
            f"SET statement_timeout = '{int(self.statement_timeout_seconds * 1000)}ms'",
            "SET TimeZone = 'UTC'",
        ):
            self.execute(statement)
        # A connection lost mid-run (a backend terminated) lost its advisory locks too.
        held, self._locked = self._locked, []
        for key in held:
            self.hold(key, key)

    def release(self) -> None:
        """Nothing to give back: outside a transaction the session blocks no writer."""

    def close(self) -> None:
        try:
            if self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()  # ends the session: its advisory locks go with it
        finally:
            self._conn = None
            self._locked = []
            if self._staging is not None:
                self._staging.close()

    def lock_table(self, table: str) -> None:
        self.hold(_LOCK_PREFIX + table, f"table {table!r}")

    def hold(self, key: str, what: str) -> None:
        """A session-level advisory lock on `key` until close, or LockHeldError at once
        naming the session that holds it (`what` says what the lock protects)."""
        if key in self._locked:
            return
        row = self.first_row("SELECT pg_try_advisory_lock(hashtextextended(?, 0))", [key])
        if not (row and row[0]):
            holder = self.first_row(
                "SELECT a.pid, a.application_name, a.client_addr::text FROM pg_locks l JOIN "
                "pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(?, 0)",
                [key],
            )
            who = (
                f"backend {holder[0]} ({holder[1] or 'no application name'}"
                f"{', from ' + holder[2] if holder[2] else ''})"
                if holder
                else "another session"
            )
            raise LockHeldError(
                f"another run holds {what}: {who}; wait for it to finish",
                Location(file=self.display_url),
            )
        self._locked.append(key)

    def serialize(self, name: str) -> None:
        self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [name])

    def begin(self) -> None:
        if self._staging is not None:
            self._staging.begin()
        self._in_transaction = True
        self.execute("BEGIN")

    def commit(self) -> None:
        self._in_transaction = False
        try:
            self.execute("COMMIT")
        except BaseException:
            if self._staging is not None:
                self._staging.rollback()
            raise
        if self._staging is not None:
            self._staging.commit()

    def rollback(self) -> None:
        try:
            if self._conn is not None and not self._conn.closed and not self._conn.broken:
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("ROLLBACK")
        finally:
            self._in_transaction = False
            if self._staging is not None:
                self._staging.rollback()

    # ----------------------------------------------------------- statements

    def execute(self, statement: str | sql.Composable, params: Sequence[Any] = ()) -> int:
        cursor = self._run(statement, params)
        return cursor.rowcount if cursor.rowcount is not None else -1

    def rows(self, statement: str | sql.Composable, params: Sequence[Any] = ()) -> list[tuple]:
        cursor = self._run(statement, params)
        try:
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def execute_verbatim(self, statement: str) -> None:
        try:
            # No parameters: psycopg sends the text as it is (a `?` stays an operator).
            self.conn.execute(statement.encode())
        except psycopg.Error as exc:
            error = self._error(exc)
            timed_out = isinstance(
                exc, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled
            )
            if timed_out or isinstance(exc, psycopg.OperationalError) or self.conn.broken:
                raise error from None
            raise StatementError(
                self._scrub(_message(exc)), Location(file=self.display_url)
            ) from exc

    def _run(self, statement: str | sql.Composable, params: Sequence[Any]) -> psycopg.Cursor:
        query = numbered(statement) if isinstance(statement, str) else statement
        try:
            return self.conn.execute(query, list(params) or None)
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def copy_in(
        self,
        table: str,
        reader: pa.RecordBatchReader,
        *,
        temporary_types: dict[str, str] | None = None,
    ) -> int:
        """Binary COPY of `reader`'s batches into `table`, by column name. With
        `temporary_types`, `table` is first made anew as a temporary table shaped like
        the batches (those columns taking the named types). The row count."""
        from dataward.warehouse.pg_copy import copy_batches, create_temp_table

        try:
            if temporary_types is not None:
                create_temp_table(self.conn, table, reader.schema, temporary_types)
            return copy_batches(
                self.conn, sql.Identifier(table), reader.schema.names, reader.schema, reader
            )
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            # A staging query left open would keep the staging connection from rolling back.
            reader.close()

    def copy_from_staging(
        self, select_sql: str, params: Sequence[Any], table: str, columns: Sequence[str]
    ) -> int:
        schema, _, name = table.rpartition(".")
        live = {c.name: c.type for c in self.live_columns(name, schema or None) or []}
        wire = "dw_copy_" + name
        reader = self.staging.reader(select_sql, params)
        try:
            from dataward.warehouse.pg_copy import copy_batches, create_temp_table

            create_temp_table(self.conn, wire, reader.schema)
            count = copy_batches(
                self.conn, sql.Identifier(wire), reader.schema.names, reader.schema, reader
            )
            # The wire types follow Arrow; the table's own are reached by exact casts.
            picked = sql.SQL(", ").join(
                sql.SQL("CAST({} AS {})").format(sql.Identifier(source), sql.SQL(live[target]))
                for source, target in zip(reader.schema.names, columns, strict=True)
            )
            self.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                    sql.Identifier(*([schema, name] if schema else [name])),
                    sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                    picked,
                    sql.Identifier(wire),
                )
            )
            self.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(wire)))
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            reader.close()
        return count

    # ----------------------------------------------------------- catalog

    def _relation(self, table: str, schema: str | None) -> str:
        return self.qualified(table, schema)

    def live_columns(self, table: str, schema: str | None = None) -> list[LiveColumn] | None:
        found = self.rows(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum",
            [self._relation(table, schema)],
        )
        if not found:
            return None
        return [LiveColumn(name, str(kind), bool(nullable)) for name, kind, nullable in found]

    def temp_columns(self, table: str) -> list[LiveColumn]:
        return self.live_columns(table, self.temp_schema) or []

    def primary_key(self, table: str, schema: str | None = None) -> list[str]:
        found = self.rows(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass(?) AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            [self._relation(table, schema)],
        )
        return [str(name) for (name,) in found]

    def tables_starting_with(self, prefix: str) -> list[str]:
        return [
            str(name)
            for (name,) in self.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND starts_with(tablename, ?)",
                [prefix],
            )
        ]

    # ----------------------------------------------------------- dialect pieces

    def quote(self, name: str) -> str:
        return sql.Identifier(name).as_string(None)

    def json_of_columns(self, columns: Sequence[str], alias: str) -> str:
        return self.json_object(
            [(name, f"{self.quote(alias)}.{self.quote(name)}::text") for name in columns]
        )

    def json_object(self, pairs: Sequence[tuple[str, str]]) -> str:
        inner = ", ".join(f"{sql.Literal(k).as_string(None)}, {v}" for k, v in pairs)
        return f"jsonb_build_object({inner})"

    def json_text(self, document: str, key: str) -> str:
        return f"({document} ->> {sql.Literal(key).as_string(None)})"

    def as_json(self, text_sql: str) -> str:
        return f"CAST({text_sql} AS JSONB)"

    def column_from_json(self, document: str, column: Column | str, sql_type: str) -> str:
        name = column.name if isinstance(column, Column) else column
        return f"CAST({self.json_text(document, name)} AS {sql_type})"

    def rename_table(self, table: str, new_name: str) -> str:
        return f"ALTER TABLE {self.quote(table)} RENAME TO {self.quote(new_name)}"

    # ----------------------------------------------------------- errors

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, exc: psycopg.Error) -> InfrastructureError:
        message = self._scrub(_message(exc))
        where = Location(file=self.display_url)
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return LockTimeoutError(
                f"lock_timeout ({self.lock_timeout_seconds:g} s) reached: another session "
                f"holds a lock this run needs; nothing was written ({message})",
                where,
            )
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return InfrastructureError(
                f"statement_timeout ({self.statement_timeout_seconds:g} s) reached or the "
                f"statement was cancelled; nothing was written ({message})",
                where,
            )
        if isinstance(exc, psycopg.OperationalError) or (
            self._conn is not None and (self._conn.closed or self._conn.broken)
        ):
            return InfrastructureError(
                f"the connection to PostgreSQL was lost: {message}; nothing of the "
                "transaction in progress was committed",
                where,
            )
        return InfrastructureError(f"warehouse error: {message}", where)


def numbered(statement: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...`, outside quotes and comments.

    Shared SQL is written with `?` (DuckDB's style); psycopg's raw cursor passes `$n`
    through to the server, which binds the values (nothing is formatted into the text).
    """
    out: list[str] = []
    number = 0
    index = 0
    length = len(statement)
    while index < length:
        char = statement[index]
        if char in ("'", '"'):
            end = index + 1
            while end < length:
                if statement[end] == char:
                    if end + 1 < length and statement[end + 1] == char:
                        end += 2  # a doubled quote inside the literal
                        continue
                    break
                end += 1
            out.append(statement[index : end + 1])
            index = end + 1
        elif statement.startswith("--", index):
            end = statement.find("\n", index)
            end = length if end == -1 else end
            out.append(statement[index:end])
            index = end
        elif char == "?":
            number += 1
            out.append(f"${number}")
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _message(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc)
    return " ".join(text.split())
