"""The rule registry: every rule is one small function plus the metadata that documents it.

The metadata is the single source for `docs/rules.md`, the SARIF rule list and the help
line of each finding (the ruff / squawk model). Each rules module makes a `Registrar` for
its group and decorates its functions with it; importing `dataward.migrate.lint.rules`
registers them all.

Four kinds of rule:
  statement  called once per statement, with the schema as the earlier statements left it
  script     called once per script (an up or a down), after its last statement
  input      reported by the engine itself (a file that does not parse, a bad ignore)
  audit      `dataward audit`'s own (pipeline code, dbt projects, the live catalog, the
             repository); registered here too (dataward.audit.registry), so one registry
             documents both commands and a concern both see (money in a float, say) is one
             rule with one page whether a migration or the live catalog shows it
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dataward.migrate.lint.model import Hit, Severity

if TYPE_CHECKING:
    from dataward.migrate.lint.context import ScriptContext, StatementContext

Kind = Literal["statement", "script", "input", "audit"]
StatementCheck = Callable[["StatementContext"], Iterable[Hit]]
ScriptCheck = Callable[["ScriptContext"], Iterable[Hit]]

# The order the documentation lists the groups in, with their headings.
GROUPS: dict[str, str] = {
    "index": "Indexes",
    "constraints": "Constraints",
    "columns": "Columns and tables",
    "types": "Types",
    "data": "Data changes",
    "safety": "Running safely",
    "design": "Schema design",
    "input": "Input and ignores",
    # dataward audit's own groups
    "schema": "Schema (files, models and the live catalog)",
    "code": "Pipeline code",
    "dbt": "dbt projects",
    "catalog": "The live database",
    "repository": "The repository",
}
MIGRATION_KINDS = ("statement", "script", "input")


@dataclass(frozen=True)
class Rule:
    id: str
    group: str
    severity: Severity
    title: str  # a short line: what is flagged
    what: str  # exactly what it catches, and what it does not
    why: str  # the concrete consequence
    fix: str  # the safe alternative: the help line of every finding
    bad: tuple[str, ...]  # each string one migration's up, in order
    good: tuple[str, ...]
    kind: Kind
    check: Callable[[Any], Iterable[Any]] | None = field(default=None, compare=False)
    language: str = "sql"  # of the examples, for the docs' code fences

    @property
    def audit_only(self) -> bool:
        return self.kind == "audit"


_RULES: dict[str, Rule] = {}


class Registrar:
    """`rule = Registrar("index")`, then `@rule.statement(id=..., ...)` over a function."""

    def __init__(self, group: str) -> None:
        if group not in GROUPS:
            raise ValueError(f"unknown rule group {group!r}")
        self.group = group

    def statement(self, **meta: Any) -> Callable[[StatementCheck], StatementCheck]:
        return self._register("statement", meta)

    def script(self, **meta: Any) -> Callable[[ScriptCheck], ScriptCheck]:
        return self._register("script", meta)

    def input(self, **meta: Any) -> Rule:
        """An engine-reported rule: metadata only."""
        return _add(self._rule("input", meta, None))

    def audit(self, **meta: Any) -> Callable[[Callable[[Any], Iterable[Any]]], Any]:
        """A `dataward audit` rule: the check's argument depends on the group (a Python
        file for code, a dbt project, the catalog snapshot)."""
        return self._register("audit", meta)

    def audit_reported(self, **meta: Any) -> Rule:
        """A `dataward audit` rule the audit reports itself (a file that does not parse)."""
        return _add(self._rule("audit", meta, None))

    def _register(self, kind: Kind, meta: dict[str, Any]) -> Callable[[Any], Any]:
        def decorate(function: Callable[[Any], Iterable[Hit]]) -> Callable[[Any], Any]:
            _add(self._rule(kind, meta, function))
            return function

        return decorate

    def _rule(self, kind: Kind, meta: dict[str, Any], check: Any) -> Rule:
        # One example is a string; an example that needs earlier migrations is a tuple.
        examples = {
            key: (meta[key],) if isinstance(meta[key], str) else tuple(meta[key])
            for key in ("bad", "good")
        }
        return Rule(**{**meta, **examples}, group=self.group, kind=kind, check=check)


_ORDERED: list[Rule] = []  # every_rule()'s answer, until a rule is added


def _add(rule: Rule) -> Rule:
    if rule.id in _RULES:
        raise ValueError(f"rule {rule.id!r} is registered twice")
    _RULES[rule.id] = rule
    _ORDERED.clear()
    return rule


def all_rules() -> list[Rule]:
    """Every `migrate lint` rule, in documentation order (group, then as registered).
    Only the linter's rules are imported: `migrate lint` does not load the audit."""
    import dataward.migrate.lint.rules  # noqa: F401  (importing registers them)

    order = list(GROUPS)
    lint = [r for r in _RULES.values() if not r.audit_only]
    return sorted(lint, key=lambda r: order.index(r.group))


def every_rule() -> list[Rule]:
    """The lint rules and the audit's, in documentation order."""
    # Importing the packages registers their rules.
    import dataward.audit.rules
    import dataward.migrate.lint.rules  # noqa: F401

    if not _ORDERED:
        order = list(GROUPS)
        _ORDERED.extend(sorted(_RULES.values(), key=lambda r: order.index(r.group)))
    return list(_ORDERED)


def get(rule_id: str) -> Rule:
    if rule_id not in _RULES:
        all_rules()
    if rule_id not in _RULES:
        every_rule()
    return _RULES[rule_id]


def known(rule_id: str) -> bool:
    """A rule an inline `-- dataward:ignore` in a migration may name."""
    all_rules()
    return rule_id in _RULES and not _RULES[rule_id].audit_only
