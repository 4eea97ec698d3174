"""Lint a set of migrations: parse each script once, replay the ups in order to know the
schema each statement meets, run every rule, apply the inline ignores.

The whole set is history even when only some migrations are reported (a CI job linting
the newest file still knows the tables, types and validated CHECKs the older ones made).
A script that does not parse becomes a `syntax-error` finding and linting goes on.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from dataward.migrate.files import Migration, MigrationError, Script, Statement
from dataward.migrate.lint import registry
from dataward.migrate.lint.context import (
    LintOptions,
    ScriptContext,
    StatementContext,
    script_context,
    undo_of,
)
from dataward.migrate.lint.ignores import Ignore, applies, find_ignores
from dataward.migrate.lint.model import Finding, Hit
from dataward.migrate.lint.rules.meta import (
    IGNORE_UNKNOWN_RULE,
    IGNORE_WITHOUT_REASON,
    SYNTAX_ERROR,
)
from dataward.migrate.lint.schema import Schema


@dataclass(frozen=True)
class _Parsed:
    statements: list[Statement]
    error: Finding | None


def lint(
    migrations: Sequence[Migration],
    *,
    report: Collection[str] | None = None,
    options: LintOptions | None = None,
) -> list[Finding]:
    """Findings for the migrations whose versions are in `report` (default: all of them),
    sorted by file, line and column. A script that does not parse is reported whichever
    migration it belongs to: the rest of the set is judged against it."""
    parsed: dict[int, _Parsed] = {}

    def statements(script: Script) -> list[Statement]:
        if id(script) not in parsed:
            parsed[id(script)] = _parse(script)
        return parsed[id(script)].statements

    final = Schema()
    for migration in migrations:
        for statement in statements(migration.up):
            final.apply(statement.node)
    findings = [e for m in migrations if (e := parsed[id(m.up)].error) is not None]
    state = Schema()
    for migration in migrations:
        reported = report is None or migration.version in report
        up = statements(migration.up)
        context = script_context(
            up,
            script=migration.up,
            migration=migration,
            direction="up",
            final=final,
            options=options,
        )
        findings += _run(context, state, reported)
        if migration.down is None:
            continue
        down = statements(migration.down)
        if (error := parsed[id(migration.down)].error) is not None:
            findings.append(error)
        context = script_context(
            down,
            script=migration.down,
            migration=migration,
            direction="down",
            final=Schema(),
            undo=undo_of(up),
            options=options,
        )
        # A down meets the schema its up left, and changes nothing for the next migration.
        findings += _run(context, state.copy(), reported)
    return sorted(findings, key=lambda f: f.sort_key)


def _parse(script: Script) -> _Parsed:
    try:
        return _Parsed(script.statements(), None)
    except MigrationError as exc:
        where = exc.location
        return _Parsed(
            [],
            _meta(
                SYNTAX_ERROR,
                exc.message,
                (
                    where.file or str(script.file),
                    where.line or script.first_line,
                    where.column or 1,
                ),
            ),
        )


def _run(context: ScriptContext, state: Schema, reported: bool) -> list[Finding]:
    """Every rule over one script, `state` advanced statement by statement."""
    hits: list[tuple[registry.Rule, Hit]] = []
    rules = registry.all_rules() if reported else []
    per_statement = [r for r in rules if r.kind == "statement" and r.check is not None]
    for index, statement in enumerate(context.statements):
        current = StatementContext(statement, index, state, context)
        for rule in per_statement:
            hits += [(rule, hit) for hit in rule.check(current)]  # type: ignore[misc]
        state.apply(statement.node)
    if not reported:
        return []
    # A down's "final" schema is its own end: the ups after it are not what it leads to.
    final = state if context.direction == "down" else context.final
    done = replace(context, end=state, final=final)
    for rule in (r for r in rules if r.kind == "script" and r.check is not None):
        hits += [(rule, hit) for hit in rule.check(done)]  # type: ignore[misc]
    return _resolve(hits, done)


def _resolve(hits: list[tuple[registry.Rule, Hit]], context: ScriptContext) -> list[Finding]:
    """Hits become findings, less those an ignore with a reason covers; bad ignores are
    findings of their own."""
    script = context.script
    ignores = find_ignores(script) if script is not None else []
    findings = [problem for ignore in ignores for problem in _ignore_problems(ignore, script)]
    positions = {id(s): n for n, s in enumerate(context.statements)}
    for rule, hit in hits:
        position = positions.get(id(hit.statement)) if hit.statement is not None else None
        if not any(
            rule.id in ignore.rules
            and ignore.has_reason
            and applies(ignore, position, context.statements)
            for ignore in ignores
        ):
            findings.append(_finding(rule, hit, context))
    return findings


def _ignore_problems(ignore: Ignore, script: Script | None) -> list[Finding]:
    where = (str(script.file) if script else "", ignore.line, ignore.column)
    problems = []
    unknown = [r for r in ignore.rules if not registry.known(r)]
    if unknown or not ignore.rules:
        named = ", ".join(unknown) if unknown else "no rule"
        problems.append(
            _meta(IGNORE_UNKNOWN_RULE, f"this ignore names {named}: it ignores nothing", where)
        )
    if not ignore.has_reason:
        problems.append(
            _meta(
                IGNORE_WITHOUT_REASON,
                f"`dataward:ignore {','.join(ignore.rules)}` gives no reason, so it ignores "
                "nothing: the next reader cannot tell why the rule does not apply here",
                where,
            )
        )
    return problems


def _finding(rule: registry.Rule, hit: Hit, context: ScriptContext) -> Finding:
    script = context.script
    file = str(script.file) if script is not None else ""
    if hit.offset is not None and hit.offset >= 0 and script is not None:
        where = script.location(hit.offset)
        line, column = where.line or 1, where.column or 1
    elif hit.statement is not None:
        line, column = hit.statement.line, hit.statement.column
    else:
        line, column = (script.first_line if script is not None else 1), 1
    return Finding(
        rule=rule.id,
        severity=hit.severity or rule.severity,
        message=hit.message,
        fix=hit.fix or rule.fix,
        file=file,
        line=line,
        column=column,
    )


def _meta(rule_id: str, message: str, where: tuple[str, int, int]) -> Finding:
    rule = registry.get(rule_id)
    file, line, column = where
    return Finding(rule.id, rule.severity, message, rule.fix, file, line, column)
