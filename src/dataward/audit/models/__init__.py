"""ORM model files as the schema they create: SQLAlchemy models, Django models, Prisma
schemas and Rails' db/schema.rb, each turned into CREATE TABLE / CREATE INDEX / ALTER
TABLE statements laid out on the lines of the declarations they come from, for
`audit_schema_sql` to judge with the same rules as a schema file.

Nothing is imported or run: Python is read as a syntax tree, Prisma and Ruby as text. A
model file that does not parse is a problem (file, line, message) and the others are
still read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dataward.audit.models.django import Settings, is_models_file, read_django
from dataward.audit.models.prisma import read_prisma
from dataward.audit.models.rails import is_schema_rb, read_rails
from dataward.audit.models.sqlalchemy import looks_like_sqlalchemy, read_sqlalchemy
from dataward.audit.schema_sql import SchemaSql
from dataward.migrate.files import MigrationError, read_text

Problem = tuple[str, int, str]  # (file relative to the root, line, message)


@dataclass
class ModelsRead:
    schemas: list[SchemaSql] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _is_settings(path: Path) -> bool:
    return path.name == "apps.py" or "settings" in path.name or path.parent.name == "settings"


def find_models(root: Path, files: list[Path], relative: Callable[[Path], str]) -> ModelsRead:
    """The schemas the model files among `files` (already walked and filtered) declare.
    `root` is the audited directory; `relative` names a file for reports."""
    del root  # the files are already the root's; kept for the readers' common shape
    read = ModelsRead()
    django: list[tuple[Path, str]] = []
    sqlalchemy: list[tuple[Path, str]] = []
    prisma: list[tuple[Path, str]] = []
    rails: list[tuple[Path, str]] = []
    settings = Settings()
    for path in files:
        suffix = path.suffix.lower()
        candidate = (
            is_models_file(path)
            or suffix == ".prisma"
            or path.name == "schema.rb"
            or path.name.endswith("_schema.rb")
        )
        if suffix not in (".py", ".prisma", ".rb"):
            continue
        if suffix == ".rb" and not candidate:
            continue
        try:
            text = read_text(path)
        except MigrationError as exc:
            if candidate:
                read.problems.append((relative(path), exc.location.line or 1, exc.message))
            continue
        if suffix == ".prisma":
            prisma.append((path, text))
        elif suffix == ".rb":
            if is_schema_rb(path, text):
                rails.append((path, text))
        else:
            if is_models_file(path):
                django.append((path, text))
            if _is_settings(path):
                settings.read(path, text, relative(path))
            if looks_like_sqlalchemy(text):
                sqlalchemy.append((path, text))
    results = [
        read_sqlalchemy(sqlalchemy, relative),
        read_django(django, settings, relative),
        read_prisma(prisma, relative),
        read_rails(rails, relative),
    ]
    seen: set[Problem] = set()
    for schemas, notes, problems in results:
        read.schemas += schemas
        read.notes += notes
        for problem in problems:
            # a models.py that mentions sqlalchemy is tried by two readers: one problem
            if problem not in seen:
                seen.add(problem)
                read.problems.append(problem)
    read.schemas.sort(key=lambda s: s.relative)
    return read


__all__ = ["ModelsRead", "find_models"]
