"""`_dw_row_hash`: the DuckDB SQL and the Python reference agree, and the hash is pinned."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import duckdb
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dataward.checks.sql_render import sql_type
from dataward.contract.model import Column
from dataward.contract.types import parse_physical_type
from dataward.pipeline.row_hash import (
    HASH_COLUMN,
    duckdb_hashing_select,
    duckdb_row_hash,
    python_row_hash,
)

TYPES = {
    "big": "BIGINT",
    "int": "INTEGER",
    "small": "SMALLINT",
    "money": "DECIMAL(19,4)",
    "wide": "DECIMAL(38,10)",
    "whole": "DECIMAL(5,0)",
    "dbl": "DOUBLE",
    "real": "REAL",
    "txt": "TEXT",
    "code": "VARCHAR(40)",
    "flag": "BOOLEAN",
    "day": "DATE",
    "at": "TIMESTAMP",
    "instant": "TIMESTAMPTZ",
    "id": "UUID",
    "doc": "JSON",
}
COLUMNS = [Column(name, parse_physical_type(kind), path=name) for name, kind in TYPES.items()]

KNOWN_ROW = {
    "big": -9_007_199_254_740_993,
    "int": 2_147_483_647,
    "small": -32_768,
    "money": Decimal("1234.5000"),
    "wide": Decimal("-0.0000000001"),
    "whole": Decimal("99999"),
    "dbl": 0.1,
    "real": 1.5,
    "txt": 'naïve "quote" : 3:x',
    "code": None,
    "flag": True,
    "day": date(2025, 3, 1),
    "at": datetime(2025, 3, 1, 9, 15, 0, 123456),
    "instant": datetime(2025, 3, 1, 10, 2, 11, tzinfo=timezone(timedelta(hours=1))),
    "id": UUID("5F3A1C2E-0B4D-4E6F-8A9B-0C1D2E3F4A5B"),
    "doc": '{"a": [1, 2.5, null], "b": "x"}',
}
# The documented encoding of KNOWN_ROW, written out by hand (see row_hash.py).
KNOWN_ENCODING = (
    "dw1"
    "17:-9007199254740993"
    "10:2147483647"
    "6:-32768"
    "9:1234.5000"
    "13:-0.0000000001"
    "5:99999"
    "3:0.1"
    "3:1.5"
    '20:naïve "quote" : 3:x'
    "-"
    "4:true"
    "10:2025-03-01"
    "16:1740820500123456"
    "16:1740819731000000"
    "36:5f3a1c2e-0b4d-4e6f-8a9b-0c1d2e3f4a5b"
    '31:{"a": [1, 2.5, null], "b": "x"}'
)
KNOWN_HASH = "56a287daafaecd40058a74357402a2e2"


class HashTable:
    """A DuckDB table typed as the contract says; rows go in, their SQL hashes come out."""

    def __init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("LOAD icu")
        self.types = {c.name: sql_type(c.type).sql("duckdb") for c in COLUMNS}
        self.con.execute(
            "CREATE TABLE t (n INTEGER, " + ", ".join(f'"{n}" {self.types[n]}' for n in TYPES) + ")"
        )
        # Exact values go in as text and are cast by DuckDB (never through a float).
        self.as_text = {n for n in TYPES if TYPES[n].startswith(("DECIMAL", "JSON"))}
        marks = ", ".join(
            f"CAST(? AS {self.types[n]})" if n in self.as_text else "?" for n in TYPES
        )
        self.insert = f"INSERT INTO t VALUES (?, {marks})"
        self.select = f"SELECT {duckdb_row_hash(COLUMNS, 't')} FROM t ORDER BY n"
        # The form staging uses: the same hash, computed in two steps.
        self.select_staged = (
            f"SELECT {HASH_COLUMN} FROM ({duckdb_hashing_select(COLUMNS, 'SELECT * FROM t')}) "
            "ORDER BY n"
        )

    def hashes(self, rows: list[dict[str, Any]], time_zone: str = "UTC") -> list[str]:
        self.con.execute(f"SET TimeZone = '{time_zone}'")
        self.con.execute("DELETE FROM t")
        for number, row in enumerate(rows):
            values = [
                _text(row[n]) if row[n] is not None and n in self.as_text else row[n] for n in TYPES
            ]
            self.con.execute(self.insert, [number, *values])
        hashes = [str(h) for (h,) in self.con.execute(self.select).fetchall()]
        staged = [str(h) for (h,) in self.con.execute(self.select_staged).fetchall()]
        assert staged == hashes, "the staging form of the hash must equal the expression form"
        return hashes


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


_TABLE: HashTable | None = None


def _duckdb_hashes(rows: list[dict[str, Any]], time_zone: str = "UTC") -> list[str]:
    global _TABLE
    if _TABLE is None:
        _TABLE = HashTable()
    return _TABLE.hashes(rows, time_zone)


def test_the_hash_of_a_known_row_is_pinned():
    """The encoding is versioned (`dw1`); a change to it must be deliberate, since every
    stored `_dw_row_hash` would then read as changed and the next run rewrite every row."""
    assert hashlib.md5(KNOWN_ENCODING.encode()).hexdigest() == KNOWN_HASH
    # Stored as a UUID: the same 128 bits, written 8-4-4-4-12.
    as_uuid = "56a287da-afae-cd40-058a-74357402a2e2"
    assert as_uuid.replace("-", "") == KNOWN_HASH
    assert python_row_hash(COLUMNS, KNOWN_ROW) == as_uuid
    assert _duckdb_hashes([KNOWN_ROW]) == [as_uuid]


def test_a_null_differs_from_an_empty_text_and_columns_do_not_run_together():
    cols = [Column(n, parse_physical_type("TEXT"), path=n) for n in ("a", "b")]
    hashes = {
        python_row_hash(cols, {"a": None, "b": ""}),
        python_row_hash(cols, {"a": "", "b": None}),
        python_row_hash(cols, {"a": "", "b": ""}),
        python_row_hash(cols, {"a": "1:x", "b": ""}),
        python_row_hash(cols, {"a": "", "b": "1:x"}),
    }
    assert len(hashes) == 5


def _decimal(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    bound = 10**precision - 1
    # Built from text: exact, where arithmetic would round to the context's 28 digits.
    return st.integers(-bound, bound).map(lambda n: Decimal(f"{n}E-{scale}"))


def _real() -> st.SearchStrategy[float]:
    return st.floats(width=32, allow_nan=True, allow_infinity=True) | st.sampled_from(
        [-math.nan, math.nan, -0.0, 0.1, 3.4028234663852886e38]
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
).map(lambda v: json.dumps(v, ensure_ascii=False))

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20
) | st.sampled_from(["", "-", "3:abc", "'", '"', "é😀", "a,b", "\\", "null"])

_INSTANT = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=5, minutes=45))]
    ),
)

STRATEGIES = {
    "big": st.integers(-(2**63), 2**63 - 1),
    "int": st.integers(-(2**31), 2**31 - 1),
    "small": st.integers(-(2**15), 2**15 - 1),
    "money": _decimal(19, 4),
    "wide": _decimal(38, 10),
    "whole": _decimal(5, 0),
    "dbl": st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([-0.0, 0.0, 1e16, 1e-7, 5e-324, math.nan, -math.nan, math.inf, -math.inf]),
    "real": _real(),
    "txt": _TEXT,
    "code": st.text(max_size=40, alphabet=st.characters(codec="utf-8", exclude_characters="\x00")),
    "flag": st.booleans(),
    "day": st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    "at": st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    "instant": _INSTANT,
    "id": st.uuids(),
    "doc": _JSON,
}

ROWS = st.fixed_dictionaries({name: st.none() | s for name, s in STRATEGIES.items()})


NULL_ROW = dict.fromkeys(TYPES)
# Cases found by this test once; kept so they are tried on every run.
EDGES = [
    {**NULL_ROW, "dbl": -math.nan, "real": -math.nan},
    {
        **NULL_ROW,
        "wide": Decimal("9999999999999999999999999999.9999999999"),
        "money": Decimal("-0.0000"),
    },
    {**NULL_ROW, "dbl": -0.0, "real": -0.0, "whole": Decimal("-0"), "txt": "", "code": "-"},
]


@example(rows=EDGES, time_zone="UTC")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROWS, min_size=1, max_size=8),
    time_zone=st.sampled_from(["UTC", "America/St_Johns"]),
)
def test_duckdb_and_python_give_the_same_hash(rows, time_zone):
    """For random rows over every type (nulls, nan, inf, -0.0, unicode, quotes, colons),
    in any session time zone."""
    assert _duckdb_hashes(rows, time_zone) == [python_row_hash(COLUMNS, row) for row in rows]


def test_real_is_hashed_as_the_float32_it_is_stored_as():
    value = struct.unpack("f", struct.pack("f", 0.1))[0]
    assert not math.isclose(value, 0.1, rel_tol=1e-12)
    cols = [Column("r", parse_physical_type("REAL"), path="r")]
    assert python_row_hash(cols, {"r": 0.1}) == python_row_hash(cols, {"r": value})
