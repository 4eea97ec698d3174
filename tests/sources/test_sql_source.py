"""SqlSource on a real DuckDB file and a real PostgreSQL database (one per test)."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import polars as pl
import psycopg
import pytest

from dataward.errors import DatawardError, ExitCode, InfrastructureError, SourceError, UsageError
from dataward.sources.files import LINE_COLUMN, ROW_COLUMN, SOURCE_COLUMN
from dataward.sources.sql import SqlSource, redact_url

PASSWORD = "s3cret-Pa55"


def read(source: SqlSource) -> list[pl.DataFrame]:
    return list(source.batches())


def with_password(url: str) -> tuple[str, str]:
    """The URL with a password in it (the test server trusts every login, so any will do;
    a server that needs the real one already has it in its URL)."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD}@{host}")), PASSWORD


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_secret(error: DatawardError, secret: str) -> None:
    assert secret not in str(error)
    assert secret not in error.message
    assert secret not in str(error.location)


# ---------------------------------------------------------------- DuckDB


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            """
            CREATE TABLE orders AS
            SELECT i::BIGINT AS id,
                   (i * 1.25)::DECIMAL(10, 2) AS amount,
                   TIMESTAMPTZ '2024-03-01 12:00:00+02' + to_hours(i) AS placed_at,
                   DATE '2024-03-01' + i::INTEGER AS due,
                   i % 2 = 0 AS paid,
                   'note ' || i AS note,
                   ('00000000-0000-0000-0000-00000000000' || (i % 10))::UUID AS ref,
                   ('{"k": ' || i || '}')::JSON AS extra
            FROM range(1, 11) AS r(i)
            """
        )
    return f"duckdb:///{path}"


def test_duckdb_batches_are_bounded_and_numbered(duckdb_url: str) -> None:
    query = "SELECT * FROM orders ORDER BY id"
    source = SqlSource(duckdb_url, query, batch_rows=3)

    batches = read(source)

    assert [b.height for b in batches] == [3, 3, 3, 1]
    whole = pl.concat(batches)
    assert whole["id"].to_list() == list(range(1, 11))
    assert whole[ROW_COLUMN].to_list() == list(range(1, 11))
    assert whole[LINE_COLUMN].null_count() == 10
    assert whole[SOURCE_COLUMN].unique().to_list() == [f"{duckdb_url}#{query}"]
    assert whole.schema[ROW_COLUMN] == pl.Int64
    assert whole.schema[LINE_COLUMN] == pl.Int64


def test_duckdb_types_are_kept(duckdb_url: str) -> None:
    [batch] = read(SqlSource(duckdb_url, "SELECT * FROM orders WHERE id = 2"))

    assert batch.schema["id"] == pl.Int64
    assert batch.schema["amount"] == pl.Decimal(10, 2)
    assert batch.schema["placed_at"] == pl.Datetime("us", "UTC")
    assert batch.schema["due"] == pl.Date
    assert batch.schema["paid"] == pl.Boolean
    assert batch.schema["ref"] == pl.String
    assert batch.schema["extra"] == pl.String
    row = batch.row(0, named=True)
    assert row["amount"] == Decimal("2.50")
    assert row["placed_at"] == dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    assert row["ref"] == "00000000-0000-0000-0000-000000000002"
    assert row["extra"] == '{"k": 2}'


def test_fingerprint_follows_the_rows_not_the_batches(duckdb_url: str) -> None:
    query = "SELECT * FROM orders ORDER BY id"
    small, large = SqlSource(duckdb_url, query, batch_rows=3), SqlSource(duckdb_url, query)
    fewer = SqlSource(duckdb_url, "SELECT * FROM orders WHERE id < 10 ORDER BY id")
    with pytest.raises(UsageError, match="only after every batch"):
        _ = small.fingerprint

    for source in (small, large, fewer):
        read(source)

    assert len(small.fingerprint) == 64
    assert small.fingerprint == large.fingerprint
    assert fewer.fingerprint != small.fingerprint


def test_fingerprint_tells_null_from_empty_text(duckdb_url: str) -> None:
    empty, null = (
        SqlSource(duckdb_url, "SELECT ''::VARCHAR AS v"),
        SqlSource(duckdb_url, "SELECT NULL::VARCHAR AS v"),
    )
    read(empty)
    read(null)
    assert empty.fingerprint != null.fingerprint


def test_empty_result_gives_its_columns(duckdb_url: str) -> None:
    source = SqlSource(duckdb_url, "SELECT id, amount FROM orders WHERE id > 100")

    [batch] = read(source)

    assert batch.height == 0
    assert batch.columns == ["id", "amount", SOURCE_COLUMN, ROW_COLUMN, LINE_COLUMN]
    assert len(source.fingerprint) == 64


def test_duckdb_bad_query_names_query_and_problem(duckdb_url: str) -> None:
    with pytest.raises(SourceError) as err:
        read(SqlSource(duckdb_url, "SELECT * FROM missing_table"))

    assert "missing_table" in err.value.message
    assert "query: SELECT * FROM missing_table" in err.value.message
    assert err.value.location.file == duckdb_url


def test_duckdb_is_opened_read_only(duckdb_url: str) -> None:
    with pytest.raises(SourceError, match="read-only"):
        read(SqlSource(duckdb_url, "CREATE TABLE x AS SELECT 1"))


def test_duckdb_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="database file not found"):
        read(SqlSource(f"duckdb:///{tmp_path}/nope.duckdb", "SELECT 1"))


def test_duckdb_unreadable_type_is_named(duckdb_url: str) -> None:
    with pytest.raises(SourceError, match=r"column 'span' has type .*interval.*cast it"):
        read(SqlSource(duckdb_url, "SELECT INTERVAL 1 MONTH AS span"))


def test_location_column_names_are_refused(duckdb_url: str) -> None:
    with pytest.raises(SourceError, match="'_dw_source_row' is the name dataward gives"):
        read(SqlSource(duckdb_url, "SELECT 1 AS _dw_source_row"))


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_orders(pg_conn: psycopg.Connection) -> None:
    pg_conn.execute(
        """
        CREATE TABLE orders (
            id bigint PRIMARY KEY,
            qty int2 NOT NULL,
            amount numeric(10, 2) NOT NULL,
            placed_at timestamptz NOT NULL,
            due date NOT NULL,
            paid boolean NOT NULL,
            note text,
            ref uuid NOT NULL,
            extra jsonb NOT NULL,
            ratio float8 NOT NULL
        );
        INSERT INTO orders
        SELECT i, i, i * 1.25, timestamptz '2024-03-01 12:00:00+02' + i * interval '1 hour',
               date '2024-03-01' + i, i % 2 = 0, CASE WHEN i <> 5 THEN 'note ' || i END,
               ('00000000-0000-0000-0000-00000000000' || (i % 10))::uuid,
               jsonb_build_object('k', i), i / 4.0
        FROM generate_series(1, 10) AS i;
        """
    )
    pg_conn.commit()


@pytest.mark.usefixtures("pg_orders")
def test_postgres_batches_are_bounded_and_numbered(pg_url: str) -> None:
    query = "SELECT id, note FROM orders ORDER BY id"
    source = SqlSource(pg_url, query, batch_rows=3)

    batches = read(source)

    assert [b.height for b in batches] == [3, 3, 3, 1]
    whole = pl.concat(batches)
    assert whole["id"].to_list() == list(range(1, 11))
    assert whole[ROW_COLUMN].to_list() == list(range(1, 11))
    assert whole[LINE_COLUMN].null_count() == 10
    assert whole[SOURCE_COLUMN].unique().to_list() == [f"{pg_url}#{query}"]
    assert len(source.fingerprint) == 64


@pytest.mark.usefixtures("pg_orders")
def test_postgres_batch_size_dividing_the_rows_exactly(pg_url: str) -> None:
    source = SqlSource(pg_url, "SELECT id FROM orders ORDER BY id", batch_rows=5)
    other = SqlSource(pg_url, "SELECT id FROM orders ORDER BY id", batch_rows=3)

    assert [b.height for b in read(source)] == [5, 5]
    read(other)
    assert source.fingerprint == other.fingerprint


@pytest.mark.usefixtures("pg_orders")
def test_postgres_types_are_kept(pg_url: str) -> None:
    query = "SELECT *, amount * 2 AS doubled, interval '1 month' AS span FROM orders WHERE id = 2"

    [batch] = read(SqlSource(pg_url, query))

    assert batch.schema["id"] == pl.Int64
    assert batch.schema["qty"] == pl.Int16
    assert batch.schema["amount"] == pl.Decimal(10, 2)
    assert batch.schema["placed_at"] == pl.Datetime("us", "UTC")
    assert batch.schema["due"] == pl.Date
    assert batch.schema["paid"] == pl.Boolean
    assert batch.schema["ratio"] == pl.Float64
    for text in ("note", "ref", "extra", "doubled", "span"):
        assert batch.schema[text] == pl.String, text
    row = batch.row(0, named=True)
    assert row["amount"] == Decimal("2.50")
    assert row["placed_at"] == dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    assert row["due"] == dt.date(2024, 3, 3)
    assert row["ref"] == str(uuid.UUID(int=2))
    assert row["extra"] == '{"k": 2}'
    assert row["doubled"] == "5.00"  # no declared scale: the digits PostgreSQL wrote
    assert row["span"] == "1 mon"


@pytest.mark.usefixtures("pg_orders")
def test_postgres_null_stays_null(pg_url: str) -> None:
    [batch] = read(SqlSource(pg_url, "SELECT note FROM orders WHERE id = 5"))
    assert batch["note"].to_list() == [None]


@pytest.mark.usefixtures("pg_orders")
def test_password_never_shown(pg_url: str) -> None:
    url, secret = with_password(pg_url)
    source = SqlSource(url, "SELECT id FROM orders ORDER BY id")

    batches = read(source)

    assert secret not in source.name
    assert source.name == redact_url(url)
    assert batches[0][SOURCE_COLUMN][0].startswith(f"{source.name}#")
    assert secret not in batches[0][SOURCE_COLUMN][0]
    with pytest.raises(SourceError) as err:
        read(SqlSource(url, "SELECT nope FROM orders"))
    assert_no_secret(err.value, secret)


def test_password_never_shown_when_unreachable(pg_url: str) -> None:
    url, secret = with_password(pg_url)
    parts = urlsplit(url)
    down = urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{closed_port()}"))

    with pytest.raises(InfrastructureError) as err:
        read(SqlSource(down, "SELECT 1"))

    assert err.value.exit_code == ExitCode.INFRASTRUCTURE
    assert "cannot connect" in err.value.message
    assert err.value.location.file == redact_url(down)
    assert_no_secret(err.value, secret)


@pytest.mark.usefixtures("pg_orders")
def test_postgres_missing_table_names_query_and_position(pg_url: str) -> None:
    query = "SELECT id\nFROM no_such_table"

    with pytest.raises(SourceError) as err:
        read(SqlSource(pg_url, query))

    message = err.value.message
    assert 'relation "no_such_table" does not exist' in message
    assert "at line 2, column 6 of the query" in message
    assert "query: SELECT id FROM no_such_table" in message


def test_postgres_syntax_error(pg_url: str) -> None:
    with pytest.raises(
        SourceError, match=r'line 1, column 1 of the query: syntax error at or near "SELEC"'
    ):
        read(SqlSource(pg_url, "SELEC 1"))


def test_postgres_source_only_reads(pg_conn: psycopg.Connection, pg_url: str) -> None:
    pg_conn.execute("CREATE SEQUENCE counter")
    pg_conn.commit()

    with pytest.raises(SourceError, match="read-only transaction"):
        read(SqlSource(pg_url, "SELECT nextval('counter')"))


def test_postgres_value_arrow_cannot_hold_is_named(pg_url: str) -> None:
    with pytest.raises(SourceError, match=r"column 'amount' \(numeric\) .* 'NaN'"):
        read(SqlSource(pg_url, "SELECT 'NaN'::numeric(10, 2) AS amount"))


# ---------------------------------------------------------------- URLs


def test_unsupported_scheme_is_a_usage_error_without_the_password() -> None:
    with pytest.raises(UsageError, match="'mysql'") as err:
        SqlSource(f"mysql://root:{PASSWORD}@db/shop", "SELECT 1")
    assert_no_secret(err.value, PASSWORD)
    with pytest.raises(UsageError) as err:
        SqlSource(f"host=db password={PASSWORD}", "SELECT 1")
    assert_no_secret(err.value, PASSWORD)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ann:pw@db:5432/shop", "postgresql://ann@db:5432/shop"),
        ("postgres://:pw@db/shop", "postgres://db/shop"),
        ("postgresql://ann@db/shop?sslmode=require", "postgresql://ann@db/shop?sslmode=require"),
        (
            "postgresql://db/shop?password=pw&sslmode=require",
            "postgresql://db/shop?sslmode=require",
        ),
        ("duckdb:////srv/data/shop.duckdb", "duckdb:////srv/data/shop.duckdb"),
        ("duckdb:///shop.duckdb", "duckdb:///shop.duckdb"),
        ("host=db password=pw", "<not a URL>"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_connection_lost_midway_is_infrastructure(pg_conn: psycopg.Connection, pg_url: str) -> None:
    batches = SqlSource(pg_url, "SELECT i FROM generate_series(1, 10) AS i", batch_rows=2).batches()
    next(batches)
    pg_conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    pg_conn.commit()

    with pytest.raises(InfrastructureError) as err:
        list(batches)

    assert err.value.exit_code == ExitCode.INFRASTRUCTURE
