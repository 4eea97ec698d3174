"""`dataward audit`: walk the repository, orient, run every rule over what was found,
and (with --db) the live database; one report, nothing executed, nothing written.

The parts feed each other: the schema that schema files, models and migrations describe
(and the live catalog) gives the code rules the tables' natural keys, so an INSERT is
judged against the key of the table it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dataward.audit import orientation as orient
from dataward.audit.dbt_project import read_dbt_project
from dataward.audit.formats import MigrationFolder, find_migration_folders, read_folder
from dataward.audit.model import AuditFinding, AuditHit, AuditPart, finding
from dataward.audit.python_source import PythonSource
from dataward.audit.registry import audit_rules
from dataward.audit.rules.code import CodeFile
from dataward.audit.rules.repository import UNPARSEABLE_FILE
from dataward.audit.schema_sql import SchemaSql, audit_schema_sql, natural_keys
from dataward.audit.walk import RepoFiles, walk
from dataward.migrate.files import Migration, MigrationError
from dataward.migrate.lint import lint
from dataward.migrate.lint.context import LintOptions
from dataward.migrate.lint.model import Finding
from dataward.migrate.lint.registry import Rule, get
from dataward.migrate.lint.schema import Schema

Progress = Callable[[str, int, int], None]


@dataclass
class AuditOptions:
    db_url: str | None = None
    alembic_offline: bool = False  # runs the project's env.py: off unless asked
    lint: LintOptions = field(default_factory=LintOptions)


@dataclass
class AuditReport:
    orientation: orient.Orientation
    findings: list[AuditFinding]
    skipped: list[tuple[str, str]]

    def counts(self) -> dict[str, int]:
        counts = {"high": 0, "medium": 0, "low": 0}
        for item in self.findings:
            counts[item.label] += 1
        return counts


def audit(
    root: Path, options: AuditOptions | None = None, progress: Progress | None = None
) -> AuditReport:
    options = options or AuditOptions()
    repo = walk(root)
    seen = orient.Orientation(root=str(root), files=len(repo.files))
    seen.stack = orient.detect_stack(repo)
    seen.databases = orient.detect_databases(repo)
    seen.skipped = [orient.Found(repo.relative(s.path), s.reason) for s in repo.skipped]
    part = AuditPart(skipped=[(f.path, f.what) for f in seen.skipped])

    folders = find_migration_folders(repo.root, repo.files)
    in_migrations = {f for folder in folders for f in folder.files}
    dbt_projects = repo.named("dbt_project.yml")
    dbt_dirs = [p.parent for p in dbt_projects]

    schema = Schema()
    # ---- migrations: every lint rule, whatever the format
    for folder in folders:
        migrations = _migrations(repo, folder, options, part, seen)
        _apply(schema, migrations)
        part.findings += [_from_lint(repo, f) for f in lint(migrations, options=options.lint)]

    # ---- schema files (SQL outside migration folders and dbt projects)
    schema_sql = [
        SchemaSql(path, repo.relative(path), repo.text(path) or "", "schema file")
        for path in repo.suffixed(".sql")
        if path not in in_migrations and not any(d in path.parents for d in dbt_dirs)
    ]
    seen.schemas += [orient.Found(s.relative, "SQL schema") for s in schema_sql if s.sql.strip()]
    # ---- models (SQLAlchemy, Django, Prisma, Rails schema.rb), as the SQL they create
    from dataward.audit.models import find_models

    outside = [f for f in repo.files if f not in in_migrations]
    models = find_models(repo.root, outside, repo.relative)
    schema_sql += models.schemas
    seen.schemas += [orient.Found(s.relative, s.origin) for s in models.schemas]
    if models.notes:
        seen.schemas.append(orient.Found("(models read)", "; ".join(models.notes)))
    for file, line, message in models.problems:
        if not file.endswith(".py"):  # a Python file that does not parse: reported below
            part.findings.append(_unparseable(file, line, message, repo))
    schema_findings, described = audit_schema_sql(schema_sql, options.lint)
    part.findings += schema_findings
    for name, table in described.tables.items():
        schema.tables.setdefault(name, table)
    schema.indexes.update(described.indexes)

    # ---- the live database
    if options.db_url:
        from dataward.audit.catalog import audit_database

        live = audit_database(options.db_url)
        part.extend(live)
        seen.live += live.notes

    # ---- pipeline code
    keys = natural_keys(schema)
    code_rules = [r for r in audit_rules() if r.group == "code" and r.check is not None]
    python = [p for p in repo.suffixed(".py") if p not in in_migrations]
    for number, path in enumerate(python, 1):
        if progress is not None:
            progress("code", number, len(python))
        part.findings += _audit_python(repo, path, keys, code_rules, seen)

    # ---- dbt
    dbt_rules = [r for r in audit_rules() if r.group == "dbt" and r.check is not None]
    for project_file in dbt_projects:
        project = read_dbt_project(project_file, repo.files, repo.relative)
        seen.dbt.append(
            orient.Found(
                project.root,
                f"dbt project {project.name}: {len(project.models)} models, "
                f"{len(project.sources)} source tables",
            )
        )
        for file, line, message in project.problems:
            part.findings.append(_unparseable(file, line, message, repo))
        for rule in dbt_rules:
            for file, hit in rule.check(project):  # type: ignore[misc]
                part.findings.append(finding(rule, _with_evidence(repo, file, hit), file))

    findings = _unique(part.findings)
    return AuditReport(seen, sorted(findings, key=lambda f: f.sort_key), part.skipped)


def _migrations(
    repo: RepoFiles,
    folder: MigrationFolder,
    options: AuditOptions,
    part: AuditPart,
    seen: orient.Orientation,
) -> list[Migration]:
    where = repo.relative(folder.path)
    try:
        read = read_folder(folder, alembic_offline=options.alembic_offline)
    except MigrationError as exc:
        file = repo.relative(Path(exc.location.file)) if exc.location.file else where
        part.findings.append(_unparseable(file, exc.location.line or 1, exc.message, repo))
        seen.migrations.append(orient.Found(where, f"{folder.format}: could not be read"))
        return []
    for file, line, message in read.problems:
        part.findings.append(_unparseable(repo.relative(Path(file)), line, message, repo))
    summary = f"{folder.format}: {len(read.migrations)} migrations"
    if read.notes:
        summary += f" ({'; '.join(read.notes)})"
    seen.migrations.append(orient.Found(where, summary))
    return read.migrations


def _apply(schema: Schema, migrations: Iterable[Migration]) -> None:
    for migration in migrations:
        try:
            statements = migration.up.statements()
        except MigrationError:
            continue
        for statement in statements:
            schema.apply(statement.node)


def _from_lint(repo: RepoFiles, result: Finding) -> AuditFinding:
    rule = get(result.rule)
    path = Path(result.file)
    file = repo.relative(path) if path.is_absolute() or path.exists() else result.file
    text = repo.text(path) if path.is_file() else None
    evidence = _line_of(text, result.line)
    hit = AuditHit(
        message=result.message,
        line=result.line,
        column=result.column,
        evidence=evidence,
        fix=result.fix,
        severity=result.severity,
        # the message names the object; the evidence alone repeats across files
        anchor=f"{evidence} | {result.message}",
    )
    return finding(rule, hit, file)


def _line_of(text: str | None, line: int | None) -> str:
    if not text or not line:
        return ""
    lines = text.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _with_evidence(repo: RepoFiles, file: str, hit: AuditHit) -> AuditHit:
    if hit.evidence or not hit.line:
        return hit
    text = repo.text(repo.root / file)
    return AuditHit(**{**hit.__dict__, "evidence": _line_of(text, hit.line)})


def _audit_python(
    repo: RepoFiles,
    path: Path,
    keys: dict[str, list[tuple[str, ...]]],
    rules: list[Rule],
    seen: orient.Orientation,
) -> list[AuditFinding]:
    relative = repo.relative(path)
    text = repo.text(path)
    if text is None:
        return []
    try:
        source = PythonSource.parse(relative, text)
    except SyntaxError as exc:
        message = f"Python does not parse: {exc.msg}"
        return [_unparseable(relative, exc.lineno or 1, message, repo, text)]
    except ValueError as exc:  # null bytes and the like
        return [_unparseable(relative, 1, f"Python does not parse: {exc}", repo, text)]
    libraries = orient.is_pipeline_code(text)
    if libraries:
        seen.pipelines.append(orient.Found(relative, ", ".join(libraries)))
    file = CodeFile(source, keys)
    found = []
    for rule in rules:
        for hit in rule.check(file):  # type: ignore[misc]
            found.append(finding(rule, hit, relative))
    return found


def _unparseable(
    file: str, line: int, message: str, repo: RepoFiles, text: str | None = None
) -> AuditFinding:
    if text is None:
        text = repo.text(repo.root / file)
    hit = AuditHit(message=message, line=line, evidence=_line_of(text, line), anchor=message)
    return finding(get(UNPARSEABLE_FILE), hit, file)


def _unique(findings: list[AuditFinding]) -> list[AuditFinding]:
    """Every finding with its own fingerprint: the same defect written twice in one file
    (two identical `except: pass`) is two entries, numbered in file order."""
    kept: dict[str, AuditFinding] = {}
    for item in sorted(findings, key=lambda f: f.sort_key):
        occurrence = 1
        candidate = item
        while candidate.fingerprint in kept:
            occurrence += 1
            anchor = f"{item.anchor or item.evidence} #{occurrence}"
            candidate = replace(item, anchor=anchor)
        kept[candidate.fingerprint] = candidate
    return list(kept.values())
