"""The pipeline-code rules on real Python source: each rule's documented bad example is
flagged and its good one is not, and the cases people write differently (aliases,
tuples of exceptions, SQL held in a name) are judged the same."""

from __future__ import annotations

import textwrap

import pytest

from dataward.audit.python_source import PythonSource
from dataward.audit.registry import audit_rules
from dataward.audit.rules.code import CodeFile

CODE_RULES = [r for r in audit_rules() if r.group == "code"]
KEYS = {"orders": [("id",)], "events": [("id",)], "payments": [("id",)]}


def hits(rule_id: str, source: str, keys: dict | None = None) -> list:
    rule = next(r for r in CODE_RULES if r.id == rule_id)
    parsed = PythonSource.parse("pipeline.py", textwrap.dedent(source))
    return list(rule.check(CodeFile(parsed, KEYS if keys is None else keys)))  # type: ignore[misc]


@pytest.mark.parametrize("rule", CODE_RULES, ids=lambda r: r.id)
def test_the_documented_bad_example_is_flagged(rule) -> None:
    assert hits(rule.id, "\n".join(rule.bad)), rule.bad


@pytest.mark.parametrize("rule", CODE_RULES, ids=lambda r: r.id)
def test_the_documented_good_example_is_not(rule) -> None:
    assert not hits(rule.id, "\n".join(rule.good)), rule.good


@pytest.mark.parametrize(
    "source",
    [
        "try:\n    x()\nexcept:\n    pass\n",
        "try:\n    x()\nexcept (ValueError, Exception):\n    result = None\n",
        "try:\n    x()\nexcept BaseException as exc:\n    return_value = str(exc)\n",
    ],
)
def test_broad_excepts_that_hide_the_error(source: str) -> None:
    assert len(hits("swallowed-exception", source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "try:\n    x()\nexcept KeyError:\n    pass\n",  # narrow: a decision
        "try:\n    x()\nexcept Exception:\n    logger.warning('skipped', exc_info=True)\n",
        "try:\n    x()\nexcept Exception as exc:\n    raise LoadError('x') from exc\n",
        "import sys\ntry:\n    x()\nexcept Exception as e:\n    print(e, file=sys.stderr)\n",
        "import structlog\ntry:\n    x()\nexcept Exception:\n    structlog.get_logger().exception('x')\n",
    ],
)
def test_excepts_that_report_or_are_narrow(source: str) -> None:
    assert hits("swallowed-exception", source) == []


@pytest.mark.parametrize(
    ("source", "count"),
    [
        ("import datetime as dt\nstamp = dt.datetime.now()\n", 1),
        ("from datetime import datetime as DT\nstamp = DT.utcnow()\n", 1),
        ("import datetime\nstamp = datetime.datetime.today()\n", 1),
        ("from datetime import datetime\nt = datetime.fromtimestamp(1)\n", 1),
        ("from datetime import datetime, timezone\nt = datetime.now(tz=timezone.utc)\n", 0),
        ("from datetime import datetime, UTC\nt = datetime.now(UTC)\n", 0),
        ("from datetime import datetime, UTC\nt = datetime.fromtimestamp(1, UTC)\n", 0),
        # not the datetime module: a pandas Timestamp, a local class
        ("import pandas as pd\nt = pd.Timestamp.now()\n", 0),
        ("class Clock:\n    def now(self): ...\nt = Clock().now()\n", 0),
    ],
)
def test_naive_datetimes_however_imported(source: str, count: int) -> None:
    assert len(hits("naive-datetime", source)) == count


def test_to_sql_replace_and_polars_replace() -> None:
    source = """
        frame.to_sql("a", engine, if_exists="replace")
        frame.to_sql("b", engine, if_exists="append")
        frame.write_database("c", uri, if_table_exists="replace")
        frame.write_database("d", uri, if_table_exists="append")
    """
    assert [h.line for h in hits("to-sql-replace", source)] == [2, 4]


def test_insert_without_upsert_only_where_a_key_is_known() -> None:
    source = """
        cur.execute("INSERT INTO orders (id, amount) VALUES (%s, %s)", row)
        cur.execute("INSERT INTO audit_log (message) VALUES (%s)", row)
        cur.execute("INSERT INTO public.events (id) VALUES (%(id)s) ON CONFLICT DO NOTHING", row)
        cur.execute(f"INSERT INTO {table} (id) VALUES (%s)", row)
    """
    found = hits("insert-without-upsert", source)
    assert [h.line for h in found] == [2]
    assert "ON CONFLICT (id)" in (found[0].fix or "")


def test_truncate_and_reload_needs_the_same_table_in_the_same_function() -> None:
    source = """
        def reload(cur):
            cur.execute("DELETE FROM orders")
            cur.execute("INSERT INTO orders SELECT * FROM orders_staging")

        def other(cur):
            cur.execute("TRUNCATE events")

        def refill(cur):
            cur.execute("INSERT INTO events VALUES (1)")

        def prune(cur):
            cur.execute("DELETE FROM payments WHERE paid_at < now() - interval '1 year'")
            cur.execute("INSERT INTO payments VALUES (1)")

        def append_frame(cur, frame, engine):
            cur.execute("TRUNCATE TABLE payments")
            frame.to_sql("payments", engine, if_exists="append")
    """
    assert [h.line for h in hits("truncate-and-reload", source)] == [3, 17]


def test_row_by_row_inserts_in_loops_and_comprehensions() -> None:
    source = """
        SQL = "INSERT INTO events (id) VALUES (%s)"
        for row in rows:
            cur.execute(SQL, row)
        [cur.execute("INSERT INTO events (id) VALUES (%s)", r) for r in rows]
        while rows:
            cur.execute("SELECT 1")
        cur.execute(SQL, rows[0])
        for batch in batches:
            cur.executemany(SQL, batch)
    """
    assert [h.line for h in hits("row-by-row-insert", source)] == [4, 5]


def test_write_without_validation_is_judged_per_function() -> None:
    source = """
        import requests

        def sync():
            payload = requests.get(URL).json()
            cur.executemany("INSERT INTO events (id) VALUES (%s)", payload)

        def checked():
            payload = requests.get(URL).json()
            assert payload, "empty response"
            cur.executemany("INSERT INTO events (id) VALUES (%s)", payload)

        def reads_only():
            return requests.get(URL).json()
    """
    found = hits("write-without-validation", source)
    assert [h.line for h in found] == [6]


def test_float_money_fields() -> None:
    source = """
        from dataclasses import dataclass

        @dataclass
        class Line:
            unit_price: float
            weight: float
            total_amount: "float"
            quantity: int

        refund = float(row["refund"])
        ratio = float(row["ratio"])
    """
    assert sorted(h.line for h in hits("float-money-field", source)) == [6, 8, 11]
