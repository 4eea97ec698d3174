"""Relationships are checked at load time against the parent table in the warehouse."""

from __future__ import annotations

from pipeline_kit import assert_accounted, contract_yaml, pipeline_toml

CUSTOMERS = contract_yaml("customers", [("customer_id", "BIGINT", {"primaryKey": True})])


def orders_contract(severity: str) -> str:
    relationship = {"type": "foreignKey", "to": "customers.customer_id"}
    if severity != "error":
        relationship["customProperties"] = [{"property": "severity", "value": severity}]
    return contract_yaml(
        "orders",
        [
            ("order_id", "BIGINT", {"primaryKey": True}),
            ("customer_id", "BIGINT", {"relationships": [relationship]}),
        ],
    )


def _project(new_project, severity: str):
    project = new_project(
        contract=orders_contract(severity),
        csv="order_id,customer_id\n1,10\n2,11\n3,99\n4,99\n5,\n",
    )
    project.contract(CUSTOMERS, "contracts/customers.odcs.yaml")
    project.csv("customer_id\n10\n11\n", "data/customers.csv")
    project.pipeline(
        "customers",
        pipeline_toml(contract="contracts/customers.odcs.yaml", path="data/customers.csv"),
    )
    project.pipeline("orders", pipeline_toml(max_reject_rate=0.5))
    return project


def test_an_error_relationship_rejects_orphans_and_the_parent_loads_first(new_project):
    project = _project(new_project, "error")
    result = project.cli("run")  # both pipelines: customers must load before orders
    assert result.returncode == 0, result.stderr
    assert sorted(r["order_id"] for r in project.rows()) == [1, 2, 5]  # a null key is no orphan
    runs = {r["pipeline"]: r for r in project.runs()}
    orders = runs["orders"]
    assert (orders["rejected"], orders["inserted"]) == (2, 3)
    rejects = project.rejects(orders["run_id"])
    assert sorted(r["row"] for r in rejects) == [3, 4]
    assert all("customers" in r["reasons"][0]["message"] for r in rejects)
    assert_accounted(orders)


def test_a_warning_relationship_loads_orphans_and_says_how_many(new_project):
    project = _project(new_project, "warning")
    project.run("customers")
    outcome = project.run("orders")
    assert outcome.record.status == "succeeded"
    assert outcome.record.counts.inserted == 5
    (warning,) = [w for w in outcome.record.warnings if "foreign_key" in w]
    assert "2 row(s)" in warning and "99 (2)" in warning and "1 value(s)" in warning
