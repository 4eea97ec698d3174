"""The audit's rules live in the linter's registry (dataward.migrate.lint.registry): one
function plus its documentation each, under the audit's groups. A concern that both a
migration and the audit see (money in a float, a table without a primary key) is the
linter's rule, reported by the audit wherever it finds it: a schema file, a model, the
live catalog.

    from dataward.audit.registry import code

    @code.audit(id="to-sql-replace", severity=ERROR, title=..., what=..., why=...,
                fix=..., bad=..., good=..., language="python")
    def to_sql_replace(source: PythonSource) -> Iterator[AuditHit]: ...
"""

from __future__ import annotations

from dataward.migrate.lint.registry import Registrar, Rule, every_rule, get

schema = Registrar("schema")
code = Registrar("code")
dbt = Registrar("dbt")
catalog = Registrar("catalog")
repository = Registrar("repository")

RULES_PAGE = "docs/rules.md"


def audit_rules() -> list[Rule]:
    return [r for r in every_rule() if r.audit_only]


def rule_link(rule_id: str, base: str = RULES_PAGE) -> str:
    """Where a rule is documented (TODO.md and SARIF point people there)."""
    get(rule_id)  # an unknown id is a bug, not a dead link
    return f"{base}#{rule_id}"
