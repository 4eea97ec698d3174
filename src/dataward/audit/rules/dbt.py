"""dbt projects: tested keys, source freshness, incremental models that can duplicate."""

from __future__ import annotations

from collections.abc import Iterator

from dataward.audit.dbt_project import DbtModel, DbtProject
from dataward.audit.model import AuditHit
from dataward.audit.registry import dbt
from dataward.migrate.lint.model import ERROR, WARNING

# Model-level tests that prove a (composite) key unique.
_UNIQUE_COMBINATIONS = {"unique_combination_of_columns", "unique_together", "primary_key"}


def _tested_key(model: DbtModel) -> bool:
    for column in model.columns.values():
        if column.primary_key or {"unique", "not_null"} <= column.tests:
            return True
    names = set()
    for test in model.model_tests:
        if isinstance(test, str):
            names.add(test.split(".")[-1])
        elif isinstance(test, dict):
            names.update(str(k).split(".")[-1] for k in test)
    return bool(names & _UNIQUE_COMBINATIONS)


def _key_guess(model: DbtModel) -> str | None:
    if model.primary_key:
        return ", ".join(model.primary_key)
    stem = model.name
    for prefix in ("stg_", "int_", "fct_", "dim_", "fact_", "mart_"):
        stem = stem.removeprefix(prefix)
    candidates = ["id", f"{stem}_id", f"{stem.rstrip('s')}_id", f"{model.name}_id"]
    return next((c for c in candidates if c in model.columns), None)


@dbt.audit(
    id="dbt-key-untested",
    severity=WARNING,
    title="A dbt model whose primary key has no unique + not_null test",
    what=(
        "A model none of whose columns is tested both `unique` and `not_null` (or has a "
        "primary_key constraint), and that has no model-level key test "
        "(`dbt_utils.unique_combination_of_columns`); a model with no properties entry at "
        "all counts as untested. Ephemeral models are left alone."
    ),
    why=(
        "A join that fans out or a source that sends a row twice duplicates the model's "
        "rows without a failure anywhere: every sum downstream is silently too large."
    ),
    fix=(
        "Declare the grain: `columns: [{name: order_id, data_tests: [unique, not_null]}]`, "
        "or `dbt_utils.unique_combination_of_columns` for a composite key."
    ),
    bad="models:\n  - name: orders\n    columns:\n      - name: order_id\n",
    good=(
        "models:\n  - name: orders\n    columns:\n      - name: order_id\n"
        "        data_tests: [unique, not_null]\n"
    ),
    language="yaml",
)
def dbt_key_untested(project: DbtProject) -> Iterator[tuple[str, AuditHit]]:
    for model in project.models.values():
        if model.materialized == "ephemeral" or model.sql_file is None or _tested_key(model):
            continue
        key = _key_guess(model)
        if model.yml_file is None:
            yield (
                model.sql_file,
                AuditHit(
                    message=f"model {model.name} has no properties entry, so no test on its key",
                    line=1,
                    anchor=f"model {model.name}",
                    evidence=f"{model.sql_file}: no .yml entry",
                ),
            )
            continue
        said = f"its key {key} is" if key else "no column is"
        yield (
            model.yml_file,
            AuditHit(
                message=f"model {model.name}: {said} not tested unique + not_null",
                line=model.yml_line,
                anchor=f"model {model.name}",
                evidence=f"- name: {model.name}",
                fix=(
                    f"add `data_tests: [unique, not_null]` to {key}"
                    if key and "," not in key
                    else None
                ),
            ),
        )


@dbt.audit(
    id="dbt-source-without-freshness",
    severity=WARNING,
    title="A dbt source table without freshness",
    what=(
        "A source table with no `freshness` of its own and none inherited from its source "
        "(or one switched off with `freshness: null`)."
    ),
    why=(
        "When the loader upstream stops, the models rebuild on stale data and every "
        "dashboard shows yesterday as today; `dbt source freshness` cannot warn."
    ),
    fix=(
        "`freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 24, "
        "period: hour}}` with `loaded_at_field` on the source or the table."
    ),
    bad="sources:\n  - name: shop\n    tables:\n      - name: orders\n",
    good=(
        "sources:\n  - name: shop\n    loaded_at_field: _loaded_at\n"
        "    freshness: {error_after: {count: 24, period: hour}}\n"
        "    tables:\n      - name: orders\n"
    ),
    language="yaml",
)
def dbt_source_without_freshness(project: DbtProject) -> Iterator[tuple[str, AuditHit]]:
    for source in project.sources:
        if not source.freshness:
            yield (
                source.file,
                AuditHit(
                    message=f"source {source.source}.{source.table} has no freshness check",
                    line=source.line,
                    evidence=f"- name: {source.table}",
                    anchor=f"source {source.source}.{source.table}",
                ),
            )


@dbt.audit(
    id="dbt-incremental-without-unique-key",
    severity=ERROR,
    title="An incremental dbt model without unique_key",
    what=(
        "A model materialized `incremental` (in its config() call, its properties or "
        "dbt_project.yml) with no `unique_key`."
    ),
    why=(
        "Without a key dbt appends: every rerun over an overlapping window, and every "
        "late-arriving update, inserts the rows again and the model double counts."
    ),
    fix="`{{ config(materialized='incremental', unique_key='order_id') }}`",
    bad="{{ config(materialized='incremental') }}\nselect * from {{ ref('stg_orders') }}\n",
    good=(
        "{{ config(materialized='incremental', unique_key='order_id') }}\n"
        "select * from {{ ref('stg_orders') }}\n"
    ),
    language="sql",
)
def dbt_incremental_without_unique_key(project: DbtProject) -> Iterator[tuple[str, AuditHit]]:
    for model in project.models.values():
        if model.materialized == "incremental" and not model.config.get("unique_key"):
            yield (
                model.sql_file or model.yml_file or project.root,
                AuditHit(
                    message=f"incremental model {model.name} has no unique_key: reruns append",
                    line=model.config_line,
                    anchor=f"model {model.name}",
                ),
            )
