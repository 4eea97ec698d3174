"""Run inside the Alembic project's own Python (it may not have dataward): print, as
JSON, every revision in order with the SQL Alembic's offline mode (`--sql`) writes for
its upgrade and its downgrade.

    python alembic_worker.py path/to/alembic.ini

Standalone on purpose: only the standard library and alembic are imported.
"""

from __future__ import annotations

import inspect
import io
import json
import sys


def main(ini: str) -> int:
    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory
    except ImportError:
        print(json.dumps({"error": "no-alembic", "python": sys.executable}))
        return 0
    script = ScriptDirectory.from_config(Config(ini))
    revisions = list(script.walk_revisions())
    revisions.reverse()  # walk_revisions goes from the heads down
    found = []
    for revision in revisions:
        down = revision.down_revision
        upgrade = f"{down}:{revision.revision}" if down else revision.revision
        if isinstance(down, tuple | list):
            found.append({"revision": revision.revision, "merge": list(down)})
            continue
        found.append(
            {
                "revision": revision.revision,
                "down_revision": down,
                "message": revision.doc or "",
                "path": revision.path,
                "up_line": _line_of(revision.module, "upgrade"),
                "down_line": _line_of(revision.module, "downgrade"),
                "up": _offline(ini, "upgrade", upgrade),
                "down": _offline(ini, "downgrade", f"{revision.revision}:{down or 'base'}"),
            }
        )
    print(json.dumps({"revisions": found}))
    return 0


def _offline(ini: str, direction: str, span: str) -> str:
    from alembic import command
    from alembic.config import Config

    buffer = io.StringIO()
    config = Config(ini, output_buffer=buffer, stdout=io.StringIO())
    getattr(command, direction)(config, span, sql=True)
    return buffer.getvalue()


def _line_of(module: object, name: str) -> int:
    function = getattr(module, name, None)
    try:
        return inspect.getsourcelines(function)[1] if function else 1  # type: ignore[arg-type]
    except (OSError, TypeError):
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
