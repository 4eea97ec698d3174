"""SQL at rest reaches the verdicts `validate` reaches in flight, on DuckDB and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from dataward.checks import compile_checks
from dataward.checks.at_rest import evaluate
from dataward.checks.polars_render import polars_type
from dataward.checks.sql_render import create_table_sql, identifier
from dataward.contract.loader import parse_contract
from dataward.sources import expand_paths
from dataward.validate import validate_files

CONTRACT = """apiVersion: v3.1.0
kind: DataContract
id: urn:test:rest
version: 1.0.0
status: active
slaProperties:
  - {property: latency, value: 3650, unit: d, element: "odd table.seen at"}
schema:
  - name: odd table
    properties:
      - {name: id, physicalType: BIGINT, primaryKey: true}
      - name: "seen at"
        physicalType: TIMESTAMPTZ
        required: true
      - name: score
        physicalType: DECIMAL(6,2)
        logicalTypeOptions: {minimum: 0, maximum: 100}
        quality:
          - {type: library, metric: nullValues, mustBeLessThan: 30, unit: percent, severity: warning}
      - name: tag
        physicalType: TEXT
        quality:
          - {type: library, metric: invalidValues, arguments: {validValues: [a, b]}, mustBeLessOrEqualTo: 1}
    quality:
      - {type: library, metric: rowCount, mustBeGreaterThan: 3}
      - {type: sql, query: "SELECT COUNT(*) FROM ${object} WHERE score > 50", mustBeLessThan: 3}
"""
CSV = """id,seen at,score,tag
1,2025-01-01T00:00:00Z,10,a
2,2025-01-02T00:00:00Z,,b
3,2025-01-03T00:00:00Z,101,a
4,2025-01-04T00:00:00Z,60,c
5,2025-01-05T00:00:00Z,70,a
5,2025-01-06T00:00:00Z,80,b
6,2025-01-07T00:00:00Z,,z
7,2025-01-08T00:00:00Z,55,a
"""


@pytest.fixture
def setup(tmp_path: Path):
    contract = parse_contract(CONTRACT, "rest.yaml")
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    rejects = tmp_path / "r.parquet"
    result = validate_files(contract, expand_paths([str(data)]), rejects_path=rejects)
    rejected = set(pl.read_parquet(rejects)["_dw_source_row"].to_list())
    table = contract.table()
    schema = {c.name: polars_type(c.type) for c in table.columns}
    frame = pl.read_csv(
        data, schema_overrides={"seen at": pl.String, "score": pl.String}, infer_schema=False
    )
    typed = frame.with_row_index("row", offset=1).select(
        "row",
        pl.col("id").cast(pl.Int64),
        pl.col("seen at").str.to_datetime("%+", time_unit="us", time_zone="UTC"),
        pl.col("score").cast(schema["score"]),
        pl.col("tag"),
    )
    accepted = typed.filter(~pl.col("row").is_in(pl.Series(sorted(rejected)).implode())).drop("row")
    assert accepted.height == 5  # rows 3 (range) and 5, 6 (repeated key) are rejected
    return contract, result, accepted


def _verdicts_as_dict(verdicts):
    return {
        v.check.id: (
            v.violations,
            None
            if v.measured is None or v.check.kind.value == "freshness"
            else round(v.measured, 6),
            v.passed,
        )
        for v in verdicts
    }


def _validate_as_dict(result):
    return {
        c.id: (
            c.violations if c.kind not in ("row_count", "sql", "freshness") else None,
            None if c.measured is None or c.kind == "freshness" else round(c.measured, 6),
            c.passed,
        )
        for c in result.checks
        if c.kind != "type"
    }


def _duckdb_verdicts(tmp_path, contract, accepted):
    """The checks evaluated at rest in a DuckDB file holding the accepted rows."""
    table = contract.table()
    connection = duckdb.connect(str(tmp_path / "rest.duckdb"))
    connection.execute(create_table_sql(table, "duckdb"))
    connection.register("src", accepted.to_arrow())
    connection.execute(f"INSERT INTO {_q(table.name)} SELECT * FROM src")
    checks = compile_checks(contract)
    return evaluate(lambda q: connection.execute(q).fetchone(), table.name, checks, "duckdb")


def test_duckdb_at_rest_matches_validate(setup, tmp_path):
    contract, result, accepted = setup
    verdicts = _duckdb_verdicts(tmp_path, contract, accepted)
    expected = _validate_as_dict(result)
    got = _verdicts_as_dict(verdicts)
    # Row checks ran over every row in flight but only over loaded rows at rest: compare
    # the dataset checks (which judge the loaded rows in both) and the pass/fail of all.
    for check_id, (violations, measured, passed) in expected.items():
        if violations is None or check_id in (
            "odd table.score.nullValues",
            "odd table.tag.invalidValues",
        ):
            assert got[check_id] == (violations, measured, passed), check_id
    assert got["odd table.rowCount"][1] == 5
    assert got["odd table.sql"][1] == 2


def test_postgres_at_rest_matches_duckdb(setup, tmp_path, pg_conn):
    contract, _, accepted = setup
    table = contract.table()
    checks = compile_checks(contract)
    duck = _duckdb_verdicts(tmp_path, contract, accepted)
    with pg_conn.cursor() as cursor:
        cursor.execute(create_table_sql(table, "postgres"))
        with cursor.copy(f"COPY {_q(table.name)} FROM STDIN") as copy:
            for row in accepted.iter_rows():
                copy.write_row(row)

        def first_row(query):
            cursor.execute(query)
            return cursor.fetchone()

        postgres = evaluate(first_row, table.name, checks, "postgres")
    assert _verdicts_as_dict(postgres) == _verdicts_as_dict(duck)


def _q(name: str) -> str:
    return identifier(name).sql(dialect="postgres")
