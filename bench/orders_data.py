"""Seeded `orders` data set for the validation benchmark, with a known set of bad rows.

About 0.5% of the rows break exactly one check each (duplicates break it in pairs); every
value still casts to its column type, so the only disagreements between tools can come from
check semantics, never from parsing. A few "edge" rows sit right on a boundary or hold a null
in an optional column: they must pass, which catches tools whose inclusive/exclusive or null
handling differs from the contract.

The generator also writes the expected failing record numbers (1-based), derived from where
the bad values were injected, not from running any check; the benchmark compares every tool
against it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
from orders_spec import (
    CREATED_MAX,
    CREATED_MIN,
    NOT_NULL,
    QUANTITY_MAX,
    QUANTITY_MIN,
    STATUSES,
)

SEED = 20261101
# Bump when the generated content changes, so cached files are rebuilt.
DATA_VERSION = 1

DATA_DIR = Path(__file__).resolve().parent / "data"

CSV_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f%:z"

SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.Int64(),
    "customer_id": pl.Int64(),
    "amount": pl.Decimal(19, 4),
    "email": pl.String(),
    "created_at": pl.Datetime("us", "UTC"),
    "status": pl.String(),
    "country": pl.String(),
    "quantity": pl.Int32(),
}

# Each kind of bad value, with its share of all rows. Duplicates come in pairs, so
# "order_id_duplicate" rows each drag one more (otherwise clean) row into the failing set.
BAD_SHARES = {
    "order_id_null": 0.0005,
    "customer_id_null": 0.0005,
    "amount_null": 0.0005,
    "created_at_null": 0.0005,
    "amount_not_positive": 0.0005,
    "email_malformed": 0.0005,
    "status_not_in_set": 0.0005,
    "quantity_out_of_range": 0.0005,
    "order_id_duplicate": 0.00025,
    "created_at_out_of_range": 0.0005,
}
EDGE_SHARE = 0.0005  # rows that look suspicious but must pass

# No "NA" (Namibia): pandas would read it as a null.
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "CA", "AU", "JP", "BR", "IN")
DOMAINS = ("example.com", "mail.example.org", "shop.example.net", "example.co.uk")
BAD_EMAILS = ("no-at-sign.example.com", "user@@example.com", "user@example", "two words@x.com")
BAD_STATUSES = ("unknown", "PAID", "lost", "on_hold")
BAD_QUANTITIES = (0, -1, 101, 1000)

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def paths(rows: int) -> dict[str, Path]:
    stem = DATA_DIR / f"orders_{rows}_v{DATA_VERSION}"
    return {
        "csv": stem.with_suffix(".csv"),
        "parquet": stem.with_suffix(".parquet"),
        "expected": DATA_DIR / f"orders_{rows}_v{DATA_VERSION}.expected.parquet",
    }


def generate(rows: int, seed: int = SEED) -> tuple[pl.DataFrame, np.ndarray]:
    """The data set and the sorted 1-based record numbers that must fail."""
    rng = np.random.default_rng(seed)
    n = rows

    order_id = np.arange(n, dtype=np.int64) + 100_000_001
    customer_id = rng.integers(1, 250_001, n, dtype=np.int64)
    amount_units = rng.integers(100, 5_000_000, n, dtype=np.int64)  # 0.0100 .. 499.9999
    lo, hi = _micros(CREATED_MIN), _micros(CREATED_MAX)
    created_us = rng.integers(lo, hi, n, dtype=np.int64)
    status_idx = rng.choice(len(STATUSES), n, p=[0.1, 0.2, 0.25, 0.35, 0.05, 0.05])
    country_idx = rng.integers(0, len(COUNTRIES), n)
    domain_idx = rng.integers(0, len(DOMAINS), n)
    quantity = rng.integers(QUANTITY_MIN, QUANTITY_MAX + 1, n).astype(np.int32)

    counts = {kind: round(n * share) for kind, share in BAD_SHARES.items()}
    n_edge = round(n * EDGE_SHARE)
    n_partners = counts["order_id_duplicate"]
    picked = rng.permutation(n)[: sum(counts.values()) + n_partners + n_edge]
    groups: dict[str, np.ndarray] = {}
    start = 0
    for kind, count in [*counts.items(), ("partner", n_partners), ("edge", n_edge)]:
        groups[kind] = picked[start : start + count]
        start += count

    null = {name: np.zeros(n, dtype=bool) for name in SCHEMA}
    for column in NOT_NULL:
        null[column][groups[f"{column}_null"]] = True

    bad = groups["amount_not_positive"]
    amount_units[bad] = -rng.integers(0, 1_000_000, len(bad))  # includes exactly 0.0000
    amount_units[bad[: max(1, len(bad) // 4)]] = 0

    bad_email = np.full(n, -1, dtype=np.int64)
    bad_email[groups["email_malformed"]] = np.arange(len(groups["email_malformed"])) % len(
        BAD_EMAILS
    )
    bad_status = groups["status_not_in_set"]
    bad_quantity = groups["quantity_out_of_range"]
    quantity[bad_quantity] = np.resize(np.array(BAD_QUANTITIES, dtype=np.int32), len(bad_quantity))

    # Duplicates: the bad row takes the order_id of a clean partner row; both must fail.
    order_id[groups["order_id_duplicate"]] = order_id[groups["partner"]]

    bad = groups["created_at_out_of_range"]
    outside = np.array(
        [lo - 1, hi + 1, _micros(datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC)), hi + 86_400 * _US]
    )
    created_us[bad] = np.resize(outside, len(bad))

    # Edge rows: on the inclusive bounds, smallest positive amount, nulls where nulls are fine.
    edge = groups["edge"]
    edge_kinds = np.arange(len(edge)) % 7
    amount_units[edge[edge_kinds == 0]] = 1
    created_us[edge[edge_kinds == 1]] = lo
    created_us[edge[edge_kinds == 2]] = hi
    null["email"][edge[edge_kinds == 3]] = True
    null["status"][edge[edge_kinds == 4]] = True
    null["quantity"][edge[edge_kinds == 5]] = True
    null["country"][edge[edge_kinds == 6]] = True
    quantity[edge[edge_kinds == 5]] = QUANTITY_MIN

    frame = pl.DataFrame(
        {
            "order_id": order_id,
            "customer_id": customer_id,
            "amount_units": amount_units,
            "domain": np.asarray(DOMAINS)[domain_idx],
            "bad_email": bad_email,
            "created_at": created_us,
            "status": np.asarray(STATUSES, dtype=object)[status_idx],
            "country": np.asarray(COUNTRIES)[country_idx],
            "quantity": quantity,
        }
    )
    status = frame["status"].to_numpy().copy()
    status[bad_status] = np.resize(np.asarray(BAD_STATUSES, dtype=object), len(bad_status))
    units = pl.col("amount_units")
    magnitude = units.abs()
    amount_text = pl.concat_str(
        pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 10_000).cast(pl.String),
        pl.lit("."),
        (magnitude % 10_000).cast(pl.String).str.zfill(4),
    )
    email = pl.concat_str(
        pl.lit("user"), pl.col("customer_id").cast(pl.String), pl.lit("@"), pl.col("domain")
    )
    for code, text in enumerate(BAD_EMAILS):
        email = pl.when(pl.col("bad_email") == code).then(pl.lit(text)).otherwise(email)

    frame = frame.with_columns(pl.Series("status", status, dtype=pl.String)).select(
        pl.col("order_id"),
        pl.col("customer_id"),
        amount_text.cast(pl.Decimal(19, 4)).alias("amount"),
        email.alias("email"),
        pl.col("created_at").cast(pl.Datetime("us", "UTC")),
        pl.col("status"),
        pl.col("country"),
        pl.col("quantity"),
    )
    frame = frame.with_columns(
        pl.when(pl.Series(null[name])).then(None).otherwise(pl.col(name)).alias(name)
        for name in SCHEMA
    )
    assert frame.schema == pl.Schema(SCHEMA), frame.schema

    failing = np.concatenate([groups[kind] for kind in BAD_SHARES] + [groups["partner"]])
    return frame, np.unique(failing) + 1


def ensure(rows: int, *, log=print) -> dict[str, Path]:
    """Write the CSV, Parquet and expected-failures files for `rows` unless already there."""
    files = paths(rows)
    if all(path.exists() for path in files.values()):
        return files
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log(f"generating orders data set: {rows:,} rows (seed {SEED}) ...")
    frame, failing = generate(rows)
    tmp = {key: path.with_name(path.name + ".tmp") for key, path in files.items()}
    frame.write_csv(tmp["csv"], datetime_format=CSV_DATETIME_FORMAT)
    frame.write_parquet(tmp["parquet"], compression="zstd", statistics=True)
    pl.DataFrame({"row": failing}, schema={"row": pl.Int64}).write_parquet(tmp["expected"])
    for key, path in tmp.items():
        path.replace(files[key])  # rename last: a half-written file is never picked up
    share = len(failing) / rows
    log(f"  {len(failing):,} failing rows ({share:.2%}) -> {files['csv'].parent}")
    return files


def expected_rows(rows: int) -> np.ndarray:
    return pl.read_parquet(paths(rows)["expected"])["row"].to_numpy()


if __name__ == "__main__":
    import sys

    for count in sys.argv[1:] or ["100000"]:
        ensure(int(count))
