"""`dataward migrate new NAME --from-contract`: a loaded table, its contract changed, the
migration written from the difference; after `migrate up` the next run loads under the
new contract, and `migrate down` gives the old table back."""

from __future__ import annotations

import pytest
from pipeline_kit import ORDERS, ORDERS_COLUMNS, contract_yaml

V1 = "order_id,amount,status\n1,1.50,paid\n2,2.00,new\n"
CONTRACT = "contracts/orders.odcs.yaml"


def _new(project, *extra: str):
    return project.cli("migrate", "new", "orders_to_contract", "--from-contract", CONTRACT, *extra)


def _written(project) -> list[str]:
    return sorted(p.name for p in (project.root / "migrations").glob("*.sql"))


def _shape(project) -> list[tuple]:
    return [tuple(s) for s in project.look.shape("orders")]


def test_a_new_optional_column_is_added_and_loaded(new_project):
    project = new_project(csv=V1)
    project.run()
    before = (_shape(project), project.content_hash())
    project.contract(contract_yaml("orders", [*ORDERS_COLUMNS, ("note", "TEXT", {})]))
    made = _new(project)
    assert made.returncode == 0, made.stderr
    names = _written(project)
    assert len(names) == 2 and names[0].endswith("_orders_to_contract.down.sql"), names
    up = (project.root / "migrations" / names[1]).read_text(encoding="utf-8")
    assert 'ADD COLUMN "note"' in up, up
    assert project.cli("migrate", "up").returncode == 0
    project.csv("order_id,amount,status,note\n1,1.50,paid,hello\n2,2.00,new,\n")
    ran = project.cli("run")
    assert ran.returncode == 0, ran.stderr
    assert [r["note"] for r in project.rows()] == ["hello", None]
    # Written from the same contract again: the table matches it, nothing more to write.
    again = _new(project)
    assert again.returncode == 0 and "already matches" in again.stdout, again.stdout
    assert _written(project) == names
    downed = project.cli("migrate", "down")
    assert downed.returncode == 0, downed.stderr
    assert _shape(project) == before[0]


def test_a_required_column_is_added_nullable_then_made_not_null(new_project):
    project = new_project(csv=V1)
    project.run()
    required = ("customer_id", "BIGINT", {"required": True})
    project.contract(contract_yaml("orders", [*ORDERS_COLUMNS, required]))
    made = _new(project)
    assert made.returncode == 0, made.stderr
    assert "customer_id is required" in made.stderr and "again" in made.stderr, made.stderr
    assert project.cli("migrate", "up").returncode == 0
    assert dict((c[0], c[1:]) for c in _shape(project))["customer_id"][-1] is True  # nullable
    project.execute("UPDATE orders SET customer_id = order_id * 10")
    finish = _new(project)
    assert finish.returncode == 0, finish.stderr
    applied = project.cli("migrate", "up")
    assert applied.returncode == 0, applied.stderr
    assert dict((c[0], c[1:]) for c in _shape(project))["customer_id"][-1] is False
    project.csv("order_id,amount,status,customer_id\n1,1.50,paid,10\n3,3.00,new,30\n")
    ran = project.cli("run")
    assert ran.returncode == 0, ran.stderr
    assert [r["customer_id"] for r in project.rows()] == [10, 20, 30]
    # Every migration goes down again, to the table the first contract made.
    while project.query("SELECT count(*) FROM dataward.migrations")[0][0]:
        downed = project.cli("migrate", "down")
        assert downed.returncode == 0, downed.stderr
    assert "customer_id" not in [c[0] for c in _shape(project)]


@pytest.mark.postgres_only
def test_a_widened_varchar_is_altered_without_a_rewrite(new_project):
    narrow = [*ORDERS_COLUMNS[:2], ("status", "VARCHAR(10)", {})]
    project = new_project(csv=V1, contract=contract_yaml("orders", narrow))
    project.run()
    file_node = "SELECT relfilenode FROM pg_class WHERE relname = 'orders'"
    before = project.query(file_node)
    project.contract(contract_yaml("orders", [*ORDERS_COLUMNS[:2], ("status", "VARCHAR(40)", {})]))
    assert _new(project).returncode == 0
    assert len(_written(project)) == 2
    assert project.cli("migrate", "up").returncode == 0
    assert project.query(file_node) == before  # binary coercible: the table was not rewritten
    kinds = dict((c[0], c[1]) for c in _shape(project))
    assert kinds["status"] == "character varying(40)"
    assert project.cli("run").returncode == 0


@pytest.mark.postgres_only
def test_a_type_change_on_postgres_is_the_expand_contract_plan(new_project):
    project = new_project(csv=V1)
    project.run()
    amounts = project.query("SELECT order_id, amount FROM orders ORDER BY order_id")
    project.contract(
        contract_yaml(
            "orders",
            [ORDERS_COLUMNS[0], ("amount", "DECIMAL(14,4)", {"required": True}), ORDERS_COLUMNS[2]],
        )
    )
    made = _new(project)
    assert made.returncode == 0, made.stderr
    assert len(_written(project)) == 14, _written(project)  # 7 steps, up and down each
    applied = project.cli("migrate", "up")
    assert applied.returncode == 0, applied.stderr
    kinds = dict((c[0], c[1]) for c in _shape(project))
    assert kinds["amount"] == "numeric(14,4)"
    assert project.query("SELECT order_id, amount FROM orders ORDER BY order_id") == amounts
    ran = project.cli("run")
    assert ran.returncode == 0, ran.stderr


@pytest.mark.duckdb_only
def test_a_type_change_on_duckdb_is_one_alter(new_project):
    project = new_project(csv=V1)
    project.run()
    project.contract(
        contract_yaml(
            "orders",
            [ORDERS_COLUMNS[0], ("amount", "DECIMAL(14,4)", {"required": True}), ORDERS_COLUMNS[2]],
        )
    )
    assert _new(project).returncode == 0
    up = [n for n in _written(project) if n.endswith(".up.sql")]
    assert len(up) == 1
    text = (project.root / "migrations" / up[0]).read_text(encoding="utf-8")
    assert 'ALTER COLUMN "amount" TYPE DECIMAL(14,4)' in text, text
    assert project.cli("migrate", "up").returncode == 0
    assert project.cli("run").returncode == 0
    assert project.cli("migrate", "down").returncode == 0
    assert dict((c[0], c[1]) for c in _shape(project))["amount"] == "DECIMAL(10,2)"


def test_a_dropped_column_waits_for_the_release_that_stopped_using_it(new_project):
    project = new_project(csv=V1)
    project.run()
    project.contract(contract_yaml("orders", ORDERS_COLUMNS[:2]))
    made = _new(project)
    assert made.returncode == 0, made.stderr
    up = [n for n in _written(project) if n.endswith(".up.sql")]
    assert len(up) == 1 and "status_drop" in up[0], up
    text = (project.root / "migrations" / up[0]).read_text(encoding="utf-8")
    assert 'DROP COLUMN "status"' in text and "no running release" in made.stdout + text
    assert project.cli("migrate", "up").returncode == 0
    project.csv("order_id,amount\n1,1.50\n")
    ran = project.cli("run")
    assert ran.returncode == 0, ran.stderr
    assert project.cli("migrate", "down").returncode == 0
    assert "status" in [c[0] for c in _shape(project)]


# ---------------------------------------------------------------- refused


def test_a_table_not_yet_loaded_has_nothing_to_migrate(new_project):
    project = new_project(csv=V1)
    made = _new(project)
    assert made.returncode == 2, made.stderr
    assert "'orders' is not in the warehouse" in made.stderr and "dataward run" in made.stderr
    assert "Traceback" not in made.stderr
    assert _written(project) == []


def test_a_changed_primary_key_needs_a_person(new_project):
    project = new_project(csv=V1)
    project.run()
    project.contract(
        contract_yaml(
            "orders",
            [
                ("order_id", "BIGINT", {"primaryKey": True}),
                ("amount", "DECIMAL(10,2)", {"required": True}),
                ("status", "TEXT", {"primaryKey": True}),
            ],
        )
    )
    made = _new(project)
    assert made.returncode == 2, made.stderr
    assert "primary key" in made.stderr and CONTRACT in made.stderr, made.stderr
    assert _written(project) == []


@pytest.mark.duckdb_only
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--from-contract", "contracts/missing.odcs.yaml"), "missing.odcs.yaml"),
        (("--from-contract", CONTRACT, "--table", "nope"), "--table (one of: orders)"),
    ],
    ids=["no-such-contract", "no-such-table"],
)
def test_bad_arguments_exit_2(new_project, arguments, message):
    project = new_project(csv=V1, contract=ORDERS)
    project.run()
    made = project.cli("migrate", "new", "x", *arguments)
    assert made.returncode == 2, made.stderr
    assert message in made.stderr, made.stderr
    assert "Traceback" not in made.stderr
    assert _written(project) == []
