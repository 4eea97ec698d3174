"""Numbered .sql migrations in layouts `discover` does not read (it refuses a
`<version>_<name>.sql` without dbmate's or goose's markers, as `migrate lint` should):

  sql-migrate      `-- +migrate Up [notransaction]` / `-- +migrate Down`
  node-pg-migrate  `-- Up Migration` / `-- Down Migration`
  up-only SQL      no markers at all, in a directory named like migrations: each file is
                   an up, and there is no down (missing-down says so)

Positions stay the file's own: each section is a Script starting at its line.
"""

from __future__ import annotations

import re
from pathlib import Path

from dataward.audit.formats.model import MigrationFolder, Reading
from dataward.migrate.files import Migration, Script

NUMBERED = re.compile(r"^(?P<version>\d+)[_-](?P<name>.+)\.sql$")
_MARKERS = {
    "sql-migrate": (
        re.compile(r"^--\s*\+migrate\s+Up\b(?P<options>.*)$", re.M | re.I),
        re.compile(r"^--\s*\+migrate\s+Down\b.*$", re.M | re.I),
    ),
    "node-pg-migrate": (
        re.compile(r"^--\s*Up\s+Migration\b(?P<options>.*)$", re.M | re.I),
        re.compile(r"^--\s*Down\s+Migration\b.*$", re.M | re.I),
    ),
}
_BLOCKS = re.compile(r"^--\s*\+migrate\s+Statement(Begin|End)\b.*$", re.M | re.I)
UP_ONLY = "sql (up only)"


def marker_format(text: str) -> str | None:
    for name, (up, _) in _MARKERS.items():
        if up.search(text):
            return name
    return None


def read_marked(folder: MigrationFolder, reading: Reading) -> list[Migration]:
    migrations = []
    for path in sorted(folder.files, key=_order):
        match = NUMBERED.match(path.name)
        text = reading.text(path)
        if match is None or text is None:
            continue
        kind = marker_format(text)
        if kind is None:
            up, down, transactional = Script(text, path), None, True
            kind = "sql"
        else:
            up, down, transactional = _sections(path, text, kind)
        migrations.append(
            Migration(
                version=match["version"],
                name=match["name"],
                format=kind,
                up=up,
                down=down,
                transactional=transactional,
                files=(path,),
                position=len(migrations) + 1,
            )
        )
    return migrations


def _order(path: Path) -> tuple[int, str]:
    match = NUMBERED.match(path.name)
    return (int(match["version"]) if match else 0, path.name)


def _sections(path: Path, text: str, kind: str) -> tuple[Script, Script | None, bool]:
    # Blanked to their length: every offset, line and column stays as in the file.
    cleaned = _BLOCKS.sub(lambda m: " " * len(m.group(0)), text)
    up_marker, down_marker = _MARKERS[kind]
    up = up_marker.search(cleaned)
    assert up is not None
    down = down_marker.search(cleaned)
    up_end = down.start() if down is not None and down.start() > up.end() else len(cleaned)
    up_script = Script(cleaned[up.end() : up_end], path, cleaned[: up.end()].count("\n") + 1)
    down_script = None
    if down is not None:
        down_end = len(cleaned) if down.start() > up.end() else up.start()
        down_script = Script(
            cleaned[down.end() : down_end], path, cleaned[: down.end()].count("\n") + 1
        )
    transactional = "notransaction" not in up["options"].lower()
    return up_script, down_script, transactional
