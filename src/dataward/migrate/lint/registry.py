"""The rule registry: every rule is one small function plus the metadata that documents it.

The metadata is the single source for `docs/rules.md`, the SARIF rule list and the help
line of each finding (the ruff / squawk model). Each rules module makes a `Registrar` for
its group and decorates its functions with it; importing `dataward.migrate.lint.rules`
registers them all.

Three kinds of rule:
  statement  called once per statement, with the schema as the earlier statements left it
  script     called once per script (an up or a down), after its last statement
  input      reported by the engine itself (a file that does not parse, a bad ignore)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dataward.migrate.lint.model import Hit, Severity

if TYPE_CHECKING:
    from dataward.migrate.lint.context import ScriptContext, StatementContext

Kind = Literal["statement", "script", "input"]
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
}


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
    check: Callable[[Any], Iterable[Hit]] | None = field(default=None, compare=False)


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


def _add(rule: Rule) -> Rule:
    if rule.id in _RULES:
        raise ValueError(f"rule {rule.id!r} is registered twice")
    _RULES[rule.id] = rule
    return rule


def all_rules() -> list[Rule]:
    """Every rule, in documentation order (group, then as registered)."""
    import dataward.migrate.lint.rules  # noqa: F401  (importing registers them)

    order = list(GROUPS)
    return sorted(_RULES.values(), key=lambda r: order.index(r.group))


def get(rule_id: str) -> Rule:
    all_rules()
    return _RULES[rule_id]


def known(rule_id: str) -> bool:
    all_rules()
    return rule_id in _RULES
