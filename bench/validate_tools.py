"""The tools the validation benchmark compares, each end to end on one file.

Every runner reads the file, casts it to the contract's types, applies the ten checks of
bench/orders_spec.py and writes the rejected rows, with their 1-based record number, to a
Parquet file. Each runs in its own fresh process (see bench/validate.py), so a runner imports
its libraries inside the function: the process then holds only what that tool needs.

Semantics every runner implements (and dataward's contract states):
- a row is rejected when any check fails;
- a null fails only the not-null checks; every other check lets a null through;
- unique: every row whose non-null order_id occurs more than once fails, all occurrences;
- between (quantity, created_at) is inclusive on both ends; amount > 0 is exclusive.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import orders_spec as spec

Runner = Callable[[Path, str, Path], None]

# ISO-8601 with a UTC offset, e.g. 2025-03-01T12:34:56.123456+00:00; converted to UTC.
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"


# --------------------------------------------------------------------------- Polars floor
def polars_schema():
    import polars as pl

    return {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "amount": pl.Decimal(19, 4),
        "email": pl.String,
        "created_at": pl.Datetime("us", "UTC"),
        "status": pl.String,
        "country": pl.String,
        "quantity": pl.Int32,
    }


def polars_frame(source: Path, fmt: str, *, row_index: bool):
    """Scan the file with the contract's types (the cast), optionally numbering records."""
    import polars as pl

    schema = polars_schema()
    index = {"row_index_name": spec.ROW_COLUMN, "row_index_offset": 1} if row_index else {}
    if fmt == "csv":
        # Timestamps and decimals are read as text and cast with an explicit format: measured
        # about twice as fast as letting the CSV reader parse a tz-aware datetime itself.
        text = {"created_at": pl.String, "amount": pl.String}
        frame = pl.scan_csv(source, schema={**schema, **text}, **index)
        return frame.with_columns(
            pl.col("created_at").str.to_datetime(CSV_TIMESTAMP_FORMAT, time_unit="us"),
            pl.col("amount").cast(schema["amount"], strict=True),
        )
    frame = pl.scan_parquet(source, **index)
    # A no-op when the file already has the contract's types; fails loudly when it does not.
    return frame.cast(schema, strict=True)


def polars_failing():
    """One boolean expression: true where any of the ten checks fails."""
    import polars as pl

    c = pl.col
    checks = [
        *(c(name).is_null() for name in spec.NOT_NULL),
        (c("amount") <= 0).fill_null(False),
        c("email").str.contains(spec.EMAIL_PATTERN).not_().fill_null(False),
        c("status").is_in(spec.STATUSES).not_().fill_null(False),
        c("quantity").is_between(spec.QUANTITY_MIN, spec.QUANTITY_MAX).not_().fill_null(False),
        c(spec.UNIQUE).is_not_null() & c(spec.UNIQUE).is_duplicated(),
        c("created_at").is_between(spec.CREATED_MIN, spec.CREATED_MAX).not_().fill_null(False),
    ]
    return pl.any_horizontal(checks)


def run_polars(source: Path, fmt: str, rejects: Path) -> None:
    # Collect first, then filter: measured a little faster than a lazy filter or a sink here.
    frame = polars_frame(source, fmt, row_index=True).collect()
    frame.filter(polars_failing()).write_parquet(rejects)


# --------------------------------------------------------------------------- DuckDB SQL
def duckdb_sql(source: Path, fmt: str, rejects: Path) -> str:
    def quote(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    if fmt == "csv":
        columns = ", ".join(
            f"{quote(name)}: {quote(kind)}" for name, kind in spec.SQL_TYPES.items()
        )
        # DuckDB keeps the file's order for `row_number() OVER ()` (preserve_insertion_order);
        # the harness checks the numbers against the generator's ground truth.
        scan = (
            f"SELECT row_number() OVER () AS {spec.ROW_COLUMN}, * FROM read_csv("
            f"{quote(str(source))}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', columns = {{{columns}}})"
        )
    else:
        casts = ", ".join(
            f"CAST({name} AS {kind}) AS {name}" for name, kind in spec.SQL_TYPES.items()
        )
        scan = (
            f"SELECT file_row_number + 1 AS {spec.ROW_COLUMN}, {casts} "
            f"FROM read_parquet({quote(str(source))}, file_row_number = true)"
        )
    statuses = ", ".join(quote(s) for s in spec.STATUSES)
    not_null = " OR ".join(f"{name} IS NULL" for name in spec.NOT_NULL)
    key = spec.UNIQUE
    return f"""
COPY (
  WITH src AS MATERIALIZED ({scan}),
  dup AS (SELECT {key} FROM src WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1)
  SELECT * FROM src
  WHERE {not_null}
     OR coalesce(amount <= 0, false)
     OR coalesce(NOT regexp_full_match(email, {quote(spec.EMAIL_PATTERN)}), false)
     OR coalesce(status NOT IN ({statuses}), false)
     OR coalesce(quantity NOT BETWEEN {spec.QUANTITY_MIN} AND {spec.QUANTITY_MAX}, false)
     OR {key} IN (SELECT {key} FROM dup)
     OR coalesce(created_at NOT BETWEEN TIMESTAMPTZ {quote(spec.CREATED_MIN_SQL)}
                                    AND TIMESTAMPTZ {quote(spec.CREATED_MAX_SQL)}, false)
) TO {quote(str(rejects))} (FORMAT parquet)
"""


def run_duckdb(source: Path, fmt: str, rejects: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(duckdb_sql(source, fmt, rejects))
    con.close()


# --------------------------------------------------------------------------- pandera
def pandera_schema():
    import pandera.polars as pa

    types = polars_schema()

    def column(name: str, *checks, **options):
        # The polars backend adds a not-null check to every column unless nullable=True.
        nullable = name not in spec.NOT_NULL
        return pa.Column(types[name], list(checks), nullable=nullable, **options)

    return pa.DataFrameSchema(
        {
            "order_id": column("order_id", unique=True),
            "customer_id": column("customer_id"),
            "amount": column("amount", pa.Check.gt(0)),
            "email": column("email", pa.Check.str_matches(spec.EMAIL_PATTERN)),
            "created_at": column(
                "created_at", pa.Check.in_range(spec.CREATED_MIN, spec.CREATED_MAX)
            ),
            "status": column("status", pa.Check.isin(list(spec.STATUSES))),
            "country": column("country"),
            "quantity": column("quantity", pa.Check.in_range(spec.QUANTITY_MIN, spec.QUANTITY_MAX)),
        },
        strict=True,
        name="orders",
    )


def run_pandera(source: Path, fmt: str, rejects: Path) -> None:
    import pandera.errors
    import polars as pl

    schema = pandera_schema()
    frame = polars_frame(source, fmt, row_index=False).collect()
    try:
        # A LazyFrame would only get schema-level checks; the data checks need a DataFrame.
        schema.validate(frame, lazy=True)
        failures = pl.DataFrame(schema={"index": pl.Int64, "reasons": pl.List(pl.String)})
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        if cases.filter(pl.col("index").is_null()).height:
            # A schema-level failure (wrong dtype, missing column) names no row.
            raise
        failures = cases.group_by("index").agg(
            pl.concat_str("column", pl.lit(": "), "check").alias("reasons")
        )
    rows = failures.select((pl.col("index").cast(pl.Int64) + 1).alias(spec.ROW_COLUMN), "reasons")
    numbered = frame.with_row_index(spec.ROW_COLUMN, offset=1).with_columns(
        pl.col(spec.ROW_COLUMN).cast(pl.Int64)
    )
    numbered.join(rows, on=spec.ROW_COLUMN, how="inner").write_parquet(rejects)


# --------------------------------------------------------------------------- Great Expectations
def pandas_frame(source: Path, fmt: str):
    """Read with Arrow, cast to the contract's types, hand pandas an exact-decimal frame.

    pandas has no native DECIMAL; an Arrow-backed decimal128(19,4) column keeps amounts exact.
    Integers become nullable Int64/Int32, timestamps datetime64[us, UTC].
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    arrow_types = {
        "order_id": pa.int64(),
        "customer_id": pa.int64(),
        "amount": pa.decimal128(19, 4),
        "email": pa.string(),
        "created_at": pa.timestamp("us", tz="UTC"),
        "status": pa.string(),
        "country": pa.string(),
        "quantity": pa.int32(),
    }
    if fmt == "csv":
        table = pcsv.read_csv(
            source,
            convert_options=pcsv.ConvertOptions(
                column_types=arrow_types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    else:
        table = pq.read_table(source)
    table = table.select(list(spec.COLUMNS)).cast(pa.schema(arrow_types.items()))
    mapping = {
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.decimal128(19, 4): pd.ArrowDtype(pa.decimal128(19, 4)),
    }
    return table.to_pandas(types_mapper=mapping.get)


def great_expectations_suite(gx):
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="orders")
    for name in spec.NOT_NULL:
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name))
    expectations = [
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex=spec.EMAIL_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(spec.STATUSES)),
        gxe.ExpectColumnValuesToBeBetween(
            column="quantity", min_value=spec.QUANTITY_MIN, max_value=spec.QUANTITY_MAX
        ),
        gxe.ExpectColumnValuesToBeUnique(column=spec.UNIQUE),
        gxe.ExpectColumnValuesToBeBetween(
            column="created_at", min_value=spec.CREATED_MIN, max_value=spec.CREATED_MAX
        ),
    ]
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite


def run_great_expectations(source: Path, fmt: str, rejects: Path) -> None:
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    frame = pandas_frame(source, fmt)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("pandas")
        .add_dataframe_asset("orders")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(great_expectations_suite(gx))
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})

    reasons: dict[int, list[str]] = {}
    for outcome in result.results:
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(f"expectation raised: {outcome.exception_info}")
        config = outcome.expectation_config
        label = f"{config.kwargs.get('column')}: {config.type}"
        for position in outcome.result.get("unexpected_index_list") or []:
            reasons.setdefault(int(position), []).append(label)
    positions = sorted(reasons)
    failed = frame.iloc[positions].copy()
    failed.insert(0, spec.ROW_COLUMN, pd.array([p + 1 for p in positions], dtype="int64"))
    failed["reasons"] = [reasons[p] for p in positions]
    failed.to_parquet(rejects, index=False)


# --------------------------------------------------------------------------- dataward
DATAWARD_CONTRACT = Path(__file__).resolve().parent / "orders.odcs.yaml"


def dataward_argv(source: Path, rejects: Path) -> list[str]:
    return [
        "validate",
        str(source),
        "--contract",
        str(DATAWARD_CONTRACT),
        "--rejects",
        str(rejects),
        "--format",
        "json",
    ]


def run_dataward(source: Path, fmt: str, rejects: Path) -> None:
    """Call the `dataward` console script's entry point in this process.

    It is the same code `.venv/bin/dataward` runs; calling it here lets the child time the
    work apart from interpreter start-up and imports, as for the other tools.
    """
    main = dataward_entry_point().load()
    saved = sys.argv
    sys.argv = ["dataward", *dataward_argv(source, rejects)]
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    finally:
        sys.argv = saved
    if code not in (0, 1):  # 1 = rows were rejected, the expected outcome here
        raise RuntimeError(f"dataward validate exited {code}")


RUNNERS: dict[str, Runner] = {
    "polars": run_polars,
    "duckdb": run_duckdb,
    "dataward": run_dataward,
    "pandera": run_pandera,
    "great_expectations": run_great_expectations,
}

# Libraries each runner imports; the child imports them before its clock starts, so the
# measured time is the work, and import time is reported on its own.
IMPORTS: dict[str, tuple[str, ...]] = {
    "polars": ("polars",),
    "duckdb": ("duckdb",),
    # The console script's module (found through its entry point, see prepare) imports
    # these only when `validate` runs, so `dataward --help` starts without polars; they
    # are imports like the other tools', not work.
    "dataward": ("dataward.contract.loader", "dataward.sources", "dataward.validate"),
    "pandera": ("polars", "pandera.polars", "pandera.errors"),
    "great_expectations": (
        "great_expectations",
        "great_expectations.expectations",
        "great_expectations.data_context.types.base",
        "pandas",
        "pyarrow.csv",
        "pyarrow.parquet",
    ),
}


def dataward_entry_point():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="dataward")
    return script


def prepare(tool: str) -> Runner:
    """Import what `tool` needs and return its runner."""
    import importlib

    if tool == "dataward":
        # First, as `dataward` itself starts: the entry point's module sets up the
        # allocator before Polars is loaded (dataward/cli/main.py).
        dataward_entry_point().load()
    for module in IMPORTS[tool]:
        importlib.import_module(module)
    return RUNNERS[tool]
