"""`dataward migrate plan`: every plan applied step by step to a real PostgreSQL database
holding rows, each step's down run and the step applied again; the data survives every
step and every down, writes from the old application keep both columns in step, and
the plan's migrations pass `migrate test`."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytestmark = pytest.mark.postgres_only

ROWS = 25_000  # three batches of the backfill's 10,000
BASE_UP = f"""
CREATE TABLE customers (id BIGINT PRIMARY KEY);
INSERT INTO customers SELECT g FROM generate_series(1, 100) g;
CREATE TABLE orders (
  id BIGINT PRIMARY KEY,
  amount DOUBLE PRECISION NOT NULL,
  note TEXT,
  customer_id BIGINT
);
INSERT INTO orders SELECT g, g * 0.25, 'n' || g, 1 + g % 100 FROM generate_series(1, {ROWS}) g;
"""
BASE_DOWN = "DROP TABLE orders;\nDROP TABLE customers;\n"


def _planned(project, *change: str) -> list[str]:
    project.write("1", "base", BASE_UP, BASE_DOWN)
    assert project.cli("up").returncode == 0
    made = project.cli("plan", *change)
    assert made.returncode == 0, made.stderr
    versions = sorted({p.name.split("_", 1)[0] for p in project.migrations.glob("*.up.sql")})
    return [v for v in versions if v != "1"]


def _step_through(project, versions: list[str], check) -> None:
    """Each step up, checked; down, checked; up again, checked."""
    for version in versions:
        for command in (("up", "--to", version), ("down",), ("up", "--to", version)):
            result = project.cli(*command)
            assert result.returncode == 0, (version, command, result.stderr)
            check()


def _amounts(project, column: str = "amount") -> list[tuple[int, Decimal]]:
    return project.query(f'SELECT id, CAST("{column}" AS NUMERIC(19,4)) FROM orders ORDER BY id')


def _column(project, name: str) -> tuple[str, bool] | None:
    found = project.query(
        "SELECT format_type(atttypid, atttypmod), attnotnull FROM pg_attribute WHERE attrelid = "
        "'orders'::regclass AND attname = ? AND NOT attisdropped",
        [name],
    )
    return found[0] if found else None


def test_change_type_float_to_decimal(project):
    versions = _planned(project, "change-type", "orders.amount", "numeric(19,4)")
    assert len(versions) == 7  # expand, backfill, check, validate, set not null, swap, contract
    expected = _amounts(project)
    assert len(expected) == ROWS

    def check() -> None:
        assert _amounts(project) == expected
        if _column(project, "amount__new"):  # both run side by side: the trigger syncs
            # Before the backfill, old rows have no new value yet; none may differ.
            assert project.query(
                "SELECT count(*) FROM orders WHERE amount__new IS NOT NULL AND amount__new "
                "IS DISTINCT FROM CAST(amount AS NUMERIC(19,4))"
            ) == [(0,)]

    _step_through(project, versions[:1], check)
    # The old application writes the old column only: the trigger fills the new one.
    project.query("INSERT INTO orders (id, amount) VALUES (999999, 1.5)")
    project.query("UPDATE orders SET amount = 2.75 WHERE id = 1")
    assert project.query("SELECT amount__new FROM orders WHERE id IN (1, 999999) ORDER BY id") == [
        (Decimal("2.7500"),),
        (Decimal("1.5000"),),
    ]
    expected = _amounts(project)
    _step_through(project, versions[1:2], check)
    assert project.query("SELECT count(*) FROM orders WHERE amount__new IS NULL") == [(0,)]
    _step_through(project, versions[2:], check)
    assert _column(project, "amount") == ("numeric(19,4)", True)
    assert _column(project, "amount__new") is None and _column(project, "amount__old") is None
    tested = project.cli("test")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_rename_column(project):
    versions = _planned(project, "rename-column", "orders.note", "remark")
    expected = project.query("SELECT id, note FROM orders ORDER BY id")

    def check() -> None:
        name = "remark" if _column(project, "remark") else "note"
        assert project.query(f"SELECT id, {name} FROM orders ORDER BY id") == expected

    _step_through(project, versions, check)
    assert _column(project, "remark") == ("text", False) and _column(project, "note") is None
    assert project.cli("test").returncode == 0


def test_add_not_null_column(project):
    versions = _planned(project, "add-not-null-column", "orders.currency", "char(3)", "'EUR'")

    def check() -> None:
        assert project.query("SELECT count(*) FROM orders") == [(ROWS,)]
        if _column(project, "currency"):
            assert project.query("SELECT count(*) FROM orders WHERE currency IS NULL") == [(0,)]

    _step_through(project, versions, check)
    assert _column(project, "currency") == ("character(3)", True)
    assert project.cli("test").returncode == 0


@pytest.mark.parametrize(
    ("change", "arguments", "finally_"),
    [
        (
            "add-index",
            ["orders.customer_id"],
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer_id_idx'",
        ),
        (
            "add-unique",
            ["orders.note"],
            "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_note_key' AND contype = 'u'",
        ),
        (
            "add-foreign-key",
            ["orders.customer_id", "customers.id"],
            "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey' AND convalidated",
        ),
        (
            "set-not-null",
            ["orders.note"],
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass "
            "AND attname = 'note' AND attnotnull",
        ),
    ],
    ids=["add-index", "add-unique", "add-foreign-key", "set-not-null"],
)
def test_index_and_constraint_plans(project, change, arguments, finally_):
    versions = _planned(project, change, *arguments)

    def check() -> None:
        assert project.query("SELECT count(*) FROM orders") == [(ROWS,)]

    _step_through(project, versions, check)
    assert project.query(finally_) == [(1,)]
    assert project.cli("test").returncode == 0


def test_a_plan_on_duckdb_is_refused(tmp_path):
    (tmp_path / "dataward.toml").write_text('[project]\nname = "m"\n')
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [str(Path(sys.executable).parent / "dataward"), "migrate", "plan", "add-index", "t.a"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "plans are for PostgreSQL" in result.stderr
