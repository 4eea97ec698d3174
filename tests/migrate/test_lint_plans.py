"""What `dataward migrate plan` writes passes the linter: each step is meant to be safe on
its own, and a step that knowingly breaks a rule says so with an ignore and its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lint_kit import lint_directory

from dataward.migrate import plan

AMOUNT = plan.Column("orders", "amount", "numeric(12,2)", True, ("id",))
PLANS = {
    "add-not-null-column": lambda: plan.add_not_null_column(
        "orders", "currency", "text", "'EUR'", ("id",)
    ),
    "set-not-null": lambda: plan.set_not_null(
        plan.Column("orders", "region", "text", False, ("id",))
    ),
    "add-foreign-key": lambda: plan.add_foreign_key("orders", ["customer_id"], "customers", ["id"]),
    "add-index": lambda: plan.add_index("orders", ["placed_at"]),
    "change-type": lambda: plan.change_type(AMOUNT, "numeric(19,4)"),
    "rename-column": lambda: plan.change_type(AMOUNT, AMOUNT.type, rename_to="total"),
    "add-unique": lambda: plan.add_unique("customers", ["email"]),
}


@pytest.mark.parametrize("name", list(PLANS))
def test_a_plan_lints_clean(name, tmp_path):
    plan.write(PLANS[name](), tmp_path, start=datetime(2025, 1, 1, tzinfo=UTC))
    assert [(f.file.rsplit("/", 1)[-1], f.line, f.rule) for f in lint_directory(tmp_path)] == []
