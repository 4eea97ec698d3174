"""`dataward migrate lint`: PostgreSQL migration safety, rule by rule.

    from dataward.migrate.lint import lint, all_rules
    findings = lint(discover(Path("migrations")))

Each rule is one function plus its metadata (registry.py); the engine replays the
migrations to know the schema each statement meets (schema.py) and applies inline
ignores (ignores.py); reporters render findings as text, JSON or SARIF.
"""

from dataward.migrate.lint.engine import lint
from dataward.migrate.lint.model import ERROR, INFO, WARNING, Finding, Hit, Severity
from dataward.migrate.lint.registry import Rule, all_rules

__all__ = ["ERROR", "INFO", "WARNING", "Finding", "Hit", "Rule", "Severity", "all_rules", "lint"]
