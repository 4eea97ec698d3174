"""What the audit reports about the repository itself, rather than about a defect in it."""

from __future__ import annotations

from dataward.audit.registry import repository
from dataward.migrate.lint.model import WARNING

UNPARSEABLE_FILE = repository.audit_reported(
    id="unparseable-file",
    severity=WARNING,
    title="A Python, YAML or migration file the audit cannot parse",
    what=(
        "A file the audit needed to read (pipeline code, a dbt properties file, a Django, "
        "Alembic, Rails or Laravel migration) that does not parse; the finding names the "
        "line the parser stopped at. SQL that does not parse is `syntax-error`. The rest "
        "of the repository is still audited."
    ),
    why=(
        "Nothing in the file was checked: a defect in it is not reported, and a file "
        "that does not parse here may not run either."
    ),
    fix="Fix the syntax at the line named (or exclude the file if it is a template).",
    bad="def load(:\n    pass\n",
    good="def load():\n    pass\n",
    language="python",
).id
