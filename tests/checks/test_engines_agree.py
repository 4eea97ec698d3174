"""Every check kind, rendered for Polars, DuckDB and PostgreSQL, fails the same rows.

The data is loaded for real into an in-memory Polars frame, a DuckDB database file and a
fresh PostgreSQL database; each engine reports the row ids its rendering of each check
flags, and the three sets must be identical (and equal to what the test expects).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataward.checks import Check, CheckKind, compile_checks
from dataward.checks.polars_render import polars_type, violation
from dataward.checks.sql_render import create_table_sql, failing_rows_query, violation_counts_query
from dataward.contract.loader import parse_contract
from dataward.contract.model import Table

CONTRACT = """
apiVersion: v3.2.0
kind: DataContract
id: urn:test:engines
version: 1.0.0
status: active
schema:
  - name: customers
    properties:
      - {name: customer_id, physicalType: BIGINT, primaryKey: true}
  - name: items
    properties:
      - name: item_id
        physicalType: BIGINT
        primaryKey: true
      - name: code
        physicalType: VARCHAR(3)
        logicalTypeOptions: {pattern: "^[A-Z]{2}$", minLength: 2}
      - name: amount
        physicalType: DECIMAL(10,2)
        logicalTypeOptions: {exclusiveMinimum: 0, maximum: "1000.50"}
      - name: qty
        physicalType: SMALLINT
        logicalTypeOptions: {minimum: 1, maximum: 100}
      - name: score
        physicalType: DOUBLE
      - name: status
        physicalType: TEXT
        enum: [{value: new}, {value: done}]
      - name: email
        physicalType: TEXT
        logicalTypeOptions: {format: email}
      - name: seen_at
        physicalType: TIMESTAMPTZ
        logicalTypeOptions: {minimum: "2020-01-01T00:00:00Z", exclusiveMaximum: "2030-01-01T00:00:00+00:00"}
      - name: day
        physicalType: DATE
        logicalTypeOptions: {minimum: "2021-01-01"}
      - name: local_at
        physicalType: TIMESTAMP
        logicalTypeOptions: {maximum: "2025-06-30T12:00:00"}
      - name: active
        physicalType: BOOLEAN
        required: true
      - name: note
        physicalType: TEXT
        quality:
          - {type: library, metric: missingValues, arguments: {missingValues: ["", "N/A"]}, mustBe: 0}
      - name: kind
        physicalType: TEXT
        quality:
          - {type: library, metric: invalidValues, arguments: {validValues: [a, b]}, mustBeLessThan: 50, unit: percent}
          - {type: library, metric: nullValues, mustBeLessOrEqualTo: 1, severity: warning}
      - name: ref
        physicalType: UUID
      - name: customer_id
        physicalType: BIGINT
        relationships: [{type: foreignKey, to: customers.customer_id}]
      - name: "id; DROP TABLE items"
        physicalType: TEXT
        unique: true
    quality:
      - {type: library, metric: duplicateValues, arguments: {properties: [code, day]}, mustBe: 0}
      - {type: library, metric: rowCount, mustBeBetween: [1, 100]}
"""

TS = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ROWS = [
    # rid, item_id, code, amount, qty, score, status, email, seen_at, day, local_at, active, note, kind, ref, customer_id, hostile
    (
        1,
        1,
        "AB",
        Decimal("10.00"),
        5,
        1.5,
        "new",
        "a@b.co",
        TS,
        date(2022, 1, 1),
        datetime(2024, 1, 1),
        True,
        "x",
        "a",
        None,
        1,
        "h1",
    ),
    (
        2,
        2,
        "ab",
        Decimal("0.00"),
        0,
        float("nan"),
        "old",
        "nope",
        datetime(2019, 12, 31, 23, 59, tzinfo=UTC),
        date(2020, 12, 31),
        datetime(2025, 6, 30, 12, 0, 1),
        False,
        "",
        "c",
        "8d3a0f4e-9b1c-4c1e-8a6f-0b2f6c1d9e11",
        2,
        "h2",
    ),
    (
        3,
        3,
        "ABC",
        Decimal("1000.50"),
        100,
        float("inf"),
        None,
        None,
        datetime(2030, 1, 1, tzinfo=UTC),
        None,
        datetime(2025, 6, 30, 12, 0),
        True,
        "N/A",
        None,
        "8D3A0F4E-9B1C-4C1E-8A6F-0B2F6C1D9E12",
        99,
        "h2",
    ),
    (
        4,
        4,
        "A",
        Decimal("1000.51"),
        101,
        -float("inf"),
        "done",
        "x@y.org",
        None,
        date(2022, 1, 1),
        None,
        True,
        None,
        None,
        None,
        None,
        None,
    ),
    (
        5,
        4,
        "AB",
        Decimal("0.01"),
        1,
        0.0,
        "done",
        "@y.org",
        datetime(2029, 12, 31, 23, 59, 59, tzinfo=UTC),
        date(2022, 1, 1),
        None,
        False,
        "ok",
        "b",
        None,
        1,
        None,
    ),
    (
        6,
        6,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        False,
        "ok",
        "z",
        None,
        None,
        "h6",
    ),
]
COLUMNS = [
    "rid",
    "item_id",
    "code",
    "amount",
    "qty",
    "score",
    "status",
    "email",
    "seen_at",
    "day",
    "local_at",
    "active",
    "note",
    "kind",
    "ref",
    "customer_id",
    "id; DROP TABLE items",
]
CUSTOMERS = [(1,), (2,)]

EXPECTED = {
    "items.code.length": {4},
    "items.code.pattern": {2, 3, 4},
    "items.amount.range": {2, 4},
    "items.qty.range": {2, 4},
    "items.score.finite": {2, 3, 4},
    "items.status.enum": {2},
    "items.email.format": {2, 5},
    "items.seen_at.range": {2, 3},
    "items.day.range": {2},
    "items.local_at.range": {2},
    "items.active.not_null": set(),
    "items.note.missingValues": {2, 3, 4},
    "items.kind.invalidValues": {2, 6},
    "items.kind.nullValues": {3, 4},
    "items.customer_id.foreign_key": {3},
    "items.id; DROP TABLE items.unique": {2, 3},
    "items.item_id.not_null": set(),
    "items.primary_key": {4, 5},
    "items.duplicateValues": {1, 5},
}


@pytest.fixture(scope="module")
def contract():
    return parse_contract(CONTRACT, "engines.yaml")


def _frame(table: Table, rows: list[tuple], columns: list[str]) -> pl.DataFrame:
    schema = {"rid": pl.Int64(), **{c.name: polars_type(c.type) for c in table.columns}}
    return pl.DataFrame(rows, schema={c: schema[c] for c in columns}, orient="row")


def _row_checks(contract) -> list[Check]:
    return [c for c in compile_checks(contract, contract.table("items")) if c.is_row_level]


def polars_failures(contract, rows=ROWS) -> dict[str, set[int]]:
    items = _frame(contract.table("items"), rows, COLUMNS)
    customers = _frame(contract.table("customers"), CUSTOMERS, ["customer_id"])
    checks = _row_checks(contract)
    flags = items.select("rid", *[violation(c, {"customers": customers}) for c in checks])
    return {c.id: set(flags.filter(pl.col(c.id))["rid"].to_list()) for c in checks}


def _sql_failures(run, contract, dialect: str) -> dict[str, set[int]]:
    checks = _row_checks(contract)
    found: dict[str, set[int]] = {c.id: set() for c in checks}
    query = failing_rows_query("items", "rid", checks, dialect)
    rows, names = run(query)
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for check in checks:
            if record[check.id]:
                found[check.id].add(record["rid"])
    return found


def _load_duckdb(path: Path, contract, rows=ROWS) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path))
    items = contract.table("items")
    connection.execute(create_table_sql(contract.table("customers"), "duckdb"))
    # The row-level test data holds duplicate keys on purpose: no PRIMARY KEY here.
    connection.execute(create_table_sql(_without_keys(items), "duckdb", extra=[("rid", "BIGINT")]))
    frame = _frame(items, rows, COLUMNS)
    connection.register("src", frame.to_arrow())
    connection.execute('INSERT INTO "items" BY NAME SELECT * FROM src')
    connection.executemany('INSERT INTO "customers" VALUES (?)', CUSTOMERS)
    return connection


def _without_keys(table: Table) -> Table:
    from dataclasses import replace

    columns = tuple(replace(c, primary_key_position=None, required=False) for c in table.columns)
    return replace(table, columns=columns)


def duckdb_failures(tmp_path: Path, contract, rows=ROWS) -> dict[str, set[int]]:
    connection = _load_duckdb(tmp_path / "engines.duckdb", contract, rows)

    def run(query: str):
        cursor = connection.execute(query)
        return cursor.fetchall(), [d[0] for d in cursor.description]

    try:
        return _sql_failures(run, contract, "duckdb")
    finally:
        connection.close()


def _load_postgres(conn: psycopg.Connection, contract, rows: list[tuple] = ROWS) -> None:
    items = contract.table("items")
    with conn.cursor() as cursor:
        cursor.execute(create_table_sql(contract.table("customers"), "postgres"))
        cursor.execute(
            create_table_sql(_without_keys(items), "postgres", extra=[("rid", "BIGINT")])
        )
        names = ", ".join(psycopg.sql.Identifier(c).as_string(conn) for c in COLUMNS)
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(f'INSERT INTO "items" ({names}) VALUES ({placeholders})', rows)
        cursor.executemany('INSERT INTO "customers" VALUES (%s)', CUSTOMERS)
    conn.commit()


def postgres_failures(conn: psycopg.Connection, contract) -> dict[str, set[int]]:
    def run(query: str):
        with conn.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall(), [d.name for d in cursor.description]

    return _sql_failures(run, contract, "postgres")


def test_every_check_kind_is_covered(contract):
    kinds = {c.kind for c in _row_checks(contract)}
    row_kinds = {k for k in CheckKind if k.value not in ("row_count", "sql", "freshness")}
    assert kinds == row_kinds
    assert set(EXPECTED) == {c.id for c in _row_checks(contract)}


def test_polars_flags_the_expected_rows(contract):
    assert polars_failures(contract) == EXPECTED


def test_duckdb_flags_the_same_rows(contract, tmp_path):
    assert duckdb_failures(tmp_path, contract) == EXPECTED


def test_postgres_flags_the_same_rows(contract, pg_conn):
    _load_postgres(pg_conn, contract)
    assert postgres_failures(pg_conn, contract) == EXPECTED


def test_dataset_counts_agree_between_duckdb_and_postgres(contract, tmp_path, pg_conn):
    checks = _row_checks(contract)
    connection = _load_duckdb(tmp_path / "counts.duckdb", contract)
    duck = connection.execute(violation_counts_query("items", checks, "duckdb")).fetchone()
    _load_postgres(pg_conn, contract)
    with pg_conn.cursor() as cursor:
        cursor.execute(violation_counts_query("items", checks, "postgres"))
        postgres = cursor.fetchone()
    expected = (len(ROWS), *[len(EXPECTED[c.id]) for c in checks])
    assert tuple(duck) == expected
    assert tuple(postgres) == expected


# ---------------------------------------------------------------- property-based

_row = st.tuples(
    st.sampled_from(["AB", "ab", "A", "ABC", None, "ZZ"]),
    st.one_of(st.none(), st.decimals(min_value=-5, max_value=1005, places=2, allow_nan=False)),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=105)),
    st.sampled_from(["new", "done", "other", None]),
    st.sampled_from(["a@b.co", "bad", "@x.io", None, "x y@z.de"]),
    st.one_of(st.none(), st.dates(min_value=date(2019, 1, 1), max_value=date(2023, 1, 1))),
    st.sampled_from(["", "N/A", "ok", None]),
    st.integers(min_value=1, max_value=8),
)


def _random_rows(values: list[tuple]) -> list[tuple]:
    rows = []
    for rid, (code, amount, qty, status, email, day, note, item) in enumerate(values, start=1):
        rows.append(
            (
                rid,
                item,
                code,
                amount,
                qty,
                1.0,
                status,
                email,
                TS,
                day,
                None,
                True,
                note,
                "a",
                None,
                None,
                None,
            )
        )
    return rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(_row, min_size=1, max_size=25))
def test_engines_agree_on_random_data(contract, tmp_path_factory, pg_conn, values):
    rows = _random_rows(values)
    expected = polars_failures(contract, rows)
    path = tmp_path_factory.mktemp("hyp")
    assert duckdb_failures(path, contract, rows) == expected
    with pg_conn.cursor() as cursor:
        cursor.execute('DROP TABLE IF EXISTS "items", "customers"')
    _load_postgres(pg_conn, contract, rows)
    assert postgres_failures(pg_conn, contract) == expected
