"""TODO.md: the audit's findings as a checklist that people work through, updated in place.

One entry per finding, found again by the fingerprint comment at its end (the rule, the
file or object and the offending text, not the line number), so people may move, reorder
and group entries and write anything around them:

    - [ ] etl/load.py:6: ... _(ref: docs/rules.md#to-sql-replace)_ <!-- dataward:3f2a9c1b7d04 -->
      - fix: append into a staging table and merge on the key

What the tool owns, and rewrites on every run: an entry line from its start up to and
including the marker (status box, task, link: line numbers move), and the indented
`- fix: ` lines right after it (at any indent, since people indent an entry and forget its
fix line; written back two spaces deeper than the entry). Everything else is the user's
and is written back byte for byte: text before, between and after entries, notes after an
entry's marker, indented sub-notes, headings, code blocks.

An entry is a list item with a status box (`- [ ] `, `* [x] `, indented or not) whose line
carries the marker, outside a fenced code block. Statuses:

- `[ ]` not started, `[-]` in progress, `[x]` (or `[X]`) done. A status box holding
  anything else (`[~]`, `[?]`) is a team's own convention: kept as written, read as not done.
- A finding that is no longer reported: its entry is marked `[x]` and stays where it is
  (never deleted; people delete done entries when they like). Only what the run looked
  at can be gone: an entry from the live database (its marker ends in ` db`) stays open on
  a run without --db, and an entry in a file this run could not read stays open too.
- Reopen: an entry marked done whose finding is still reported is set back to `[ ]` and
  counted as reopened. The checklist says what the audit sees; ticking a box does not fix
  the code, and a fix that did not work should not stay ticked. A finding the team accepts
  belongs in the `--baseline`, not in a ticked box; a team that wants an entry left alone
  can give it a status of its own (`[~]`), which the tool keeps.
- `[-]` and `[ ]` are kept while the finding is still reported.

A new finding goes under its severity's heading (`## High`, `## Medium`, `## Low`, the first
such heading in the file), after the last entry in that section (and that entry's
indented notes), or right after the heading when the section has none. Without such a
heading (people may delete one), a new one is added at the end of the file.

A fingerprint that occurs on two entries (a person copied one): the first, in file order,
is the entry; the later copies are left exactly as written, not counted, and reported in
the summary so someone can delete them.

The file keeps its line endings (each line its own; new lines take the file's most common
one), its trailing newline or lack of one, and a UTF-8 byte order mark. It is written to a
temporary file in the same directory and moved over the old one, so a crash leaves the old
file or the new one, never half of either; when nothing changed it is not written at all,
so running twice with the same findings leaves it byte-identical.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dataward.audit.model import LABELS, AuditFinding
from dataward.audit.registry import RULES_PAGE, rule_link
from dataward.errors import InfrastructureError, Location, UsageError

HEADER = (
    "# Data defects found by `dataward audit`",
    "",
    "`[ ]` not started, `[-]` in progress, `[x]` done. `dataward audit --todo` updates this",
    "file in place: statuses you set are kept, new findings are added, an entry whose finding",
    "is gone is marked `[x]`, and one marked done that is still reported is set back to `[ ]`.",
    "",
    "Write notes anywhere and move entries freely: the tool rewrites only each entry line up",
    "to its `<!-- dataward:... -->` marker and the `  - fix:` line under it.",
)

DONE = frozenset("xX")
# ` db` marks a finding in the live database: a run without --db did not look there.
_MARKER = re.compile(r"<!-- dataward:(?P<fingerprint>[0-9a-f]{12})(?P<live> db)? -->")
_ITEM = re.compile(r"(?P<indent>[ \t]*)(?P<bullet>[-*+])[ \t]+\[(?P<box>[^\]]?)\][ \t]*")
_FIX = re.compile(r"[ \t]+- fix: ")
_HEADING = re.compile(r"(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)[ \t]*#*[ \t]*$")
_SEVERITY_HEADING = re.compile(r"(?P<label>high|medium|low)(?:\s.*)?$", re.IGNORECASE)
_FENCE = re.compile(r"[ ]{0,3}(```|~~~)")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")
_BOM = "\ufeff"


@dataclass
class TodoChange:
    """What one update did to the checklist (printed after `dataward audit --todo`)."""

    created: bool = False
    added: int = 0
    kept: int = 0  # still reported, status as people left it
    closed: int = 0  # marked [x]: the finding is gone
    reopened: int = 0  # was [x], still reported: back to [ ]
    written: bool = False  # False: the file was already up to date and left untouched
    reopened_lines: list[int] = field(default_factory=list)  # 1-based, in the new file
    duplicate_lines: list[int] = field(default_factory=list)  # copies left as written

    def __str__(self) -> str:
        if self.created:
            return f"created with {_entries(self.added)}"
        parts = [f"{self.added} added", f"{self.kept} kept", f"{self.closed} closed (finding gone)"]
        if self.reopened:
            where = ", ".join(map(str, self.reopened_lines))
            parts.append(f"{self.reopened} reopened (marked done but still reported: line {where})")
        if self.duplicate_lines:
            where = ", ".join(map(str, self.duplicate_lines))
            copies = _entries(len(self.duplicate_lines), "copy", "copies")
            parts.append(f"{copies} of an entry left as written (line {where})")
        summary = ", ".join(parts)
        return summary if self.written else f"{summary}; already up to date"


def update_todo(
    path: Path,
    findings: Sequence[AuditFinding],
    *,
    link_base: str = RULES_PAGE,
    database_audited: bool = True,
    unread_files: Collection[str] = (),
) -> TodoChange:
    """Create `path`, or bring it up to date with `findings`; see the module docstring.

    What this run did not look at is not "gone": entries from the live database stay open
    when `database_audited` is false (no --db this time), and so do entries in
    `unread_files` (skipped this time: unreadable, too large)."""
    original = _read(path)
    created = original is None or not original.strip()
    text = "\n".join(HEADER) + "\n" if created else original
    bom = text.startswith(_BOM)
    lines = _Lines.parse(text.removeprefix(_BOM))
    looked = _Looked(database_audited, tuple(f"{name}:" for name in unread_files))
    change = _apply(lines, _unique(findings), link_base, looked)
    change.created = created
    updated = (_BOM if bom else "") + lines.render()
    if updated != original:
        _write(path, updated)
        change.written = True
    return change


# ---------------------------------------------------------------- lines


@dataclass
class _Lines:
    """The file as lines, each with its own ending, so what people wrote goes back as is."""

    texts: list[str]
    endings: list[str]
    eol: str  # for lines the tool adds
    final_newline: bool

    @classmethod
    def parse(cls, text: str) -> _Lines:
        pieces = _LINE.findall(text)
        texts = [p.rstrip("\r\n") for p in pieces]
        endings = [p[len(t) :] for p, t in zip(pieces, texts, strict=True)]
        common = Counter(e for e in endings if e).most_common(1)
        return cls(
            texts, endings, common[0][0] if common else "\n", not pieces or bool(endings[-1])
        )

    def render(self) -> str:
        out: list[str] = []
        last = len(self.texts) - 1
        for i, (line, ending) in enumerate(zip(self.texts, self.endings, strict=True)):
            if i == last and not self.final_newline:
                out.append(line)  # a file without a trailing newline stays without one
            else:
                out.append(line + (ending or self.eol))
        return "".join(out)


@dataclass(frozen=True)
class _Looked:
    """What this audit looked at, so an entry it did not look for is not closed."""

    database: bool
    unread: tuple[str, ...]  # "path:" prefixes of files it could not read

    def at(self, entry: _Entry, line: str) -> bool:
        if entry.live:
            return self.database
        item = _ITEM.match(line)
        task = line[item.end() :] if item else line
        return not task.startswith(self.unread) if self.unread else True


@dataclass
class _Entry:
    index: int
    fingerprint: str
    live: bool
    indent: str
    bullet: str
    box: str
    tail: str  # what people wrote after the marker
    fix_lines: int  # the tool's `  - fix:` lines right after it


def _scan(texts: list[str]) -> tuple[list[_Entry], list[tuple[int, int, str | None]]]:
    """The entries and the headings (index, level, severity label or None) outside code
    fences."""
    entries: list[_Entry] = []
    headings: list[tuple[int, int, str | None]] = []
    fence: str | None = None
    for i, line in enumerate(texts):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1) == fence:
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        heading = _HEADING.match(line)
        if heading:
            label = _SEVERITY_HEADING.match(heading.group("title"))
            severity = label.group("label").lower() if label else None
            headings.append((i, len(heading.group("hashes")), severity))
            continue
        entry = _entry(texts, i)
        if entry is not None:
            entries.append(entry)
    return entries, headings


def _entry(texts: list[str], i: int) -> _Entry | None:
    line = texts[i]
    item = _ITEM.match(line)
    markers = list(_MARKER.finditer(line))
    if item is None or not markers:
        return None
    marker = markers[-1]
    fix_lines = 0
    while i + 1 + fix_lines < len(texts) and _FIX.match(texts[i + 1 + fix_lines]):
        fix_lines += 1
    return _Entry(
        index=i,
        fingerprint=marker.group("fingerprint"),
        live=marker.group("live") is not None,
        indent=item.group("indent"),
        bullet=item.group("bullet"),
        box=item.group("box"),
        tail=line[marker.end() :],
        fix_lines=fix_lines,
    )


# ---------------------------------------------------------------- update


def _apply(
    lines: _Lines, findings: list[AuditFinding], link_base: str, looked: _Looked
) -> TodoChange:
    change = TodoChange()
    entries, headings = _scan(lines.texts)
    reported = {f.fingerprint: f for f in findings}
    owned: dict[str, _Entry] = {}
    duplicates: list[int] = []
    for entry in entries:
        if entry.fingerprint in owned:
            duplicates.append(entry.index)
        else:
            owned[entry.fingerprint] = entry

    # The tool's lines, rewritten: first line's index -> (how many old lines, the new ones).
    replaced: dict[int, tuple[int, list[str]]] = {}
    reopened: list[int] = []
    for fingerprint, entry in owned.items():
        item = reported.get(fingerprint)
        if item is None:
            if entry.box not in DONE and looked.at(entry, lines.texts[entry.index]):
                change.closed += 1
                replaced[entry.index] = (1, [_with_box(lines.texts[entry.index], "x")])
            continue
        box = entry.box
        if box in DONE:
            box = " "
            change.reopened += 1
            reopened.append(entry.index)
        else:
            change.kept += 1
        new = _render(item, link_base, entry.indent, entry.bullet, box, entry.tail)
        replaced[entry.index] = (1 + entry.fix_lines, new)

    fresh = [f for f in sorted(findings, key=lambda f: f.sort_key) if f.fingerprint not in owned]
    change.added = len(fresh)
    insertions = _place(lines.texts, entries, headings, fresh, link_base)

    texts: list[str] = []
    endings: list[str] = []
    moved: dict[int, int] = {}  # old index -> new index
    i = 0
    while True:
        for text in insertions.get(i, []):
            texts.append(text)
            endings.append("")  # rendered with the file's line ending
        if i >= len(lines.texts):
            break
        moved[i] = len(texts)
        count, new = replaced.get(i, (1, [lines.texts[i]]))
        texts += new
        endings += [lines.endings[i + k] if k < count else "" for k in range(len(new))]
        i += count
    lines.texts, lines.endings = texts, endings
    change.reopened_lines = [moved[i] + 1 for i in reopened]
    change.duplicate_lines = [moved[i] + 1 for i in duplicates]
    return change


def _place(
    texts: list[str],
    entries: list[_Entry],
    headings: list[tuple[int, int, str | None]],
    fresh: list[AuditFinding],
    link_base: str,
) -> dict[int, list[str]]:
    """Where new entries go: old line index to insert before -> the lines."""
    insertions: dict[int, list[str]] = {}
    end = len(texts)
    for label in LABELS.values():
        group = [f for f in fresh if f.label == label]
        if not group:
            continue
        heading = next((h for h in headings if h[2] == label), None)
        if heading is None:
            at_end = insertions.setdefault(end, [])
            if at_end or (texts and texts[-1].strip()):
                at_end.append("")
            at_end += [f"## {label.capitalize()}", ""]
            at_end += [line for f in group for line in _render(f, link_base)]
            continue
        start, level, _ = heading
        stop = next((h[0] for h in headings if h[0] > start and h[1] <= level), end)
        last = next((e for e in reversed(entries) if start < e.index < stop), None)
        if last is not None:
            # After the last entry, its fix line and the notes indented under it.
            at = last.index + 1 + last.fix_lines
            while at < stop and texts[at].strip() and _depth(texts[at]) > len(last.indent):
                at += 1
            new = [ln for f in group for ln in _render(f, link_base, last.indent, last.bullet)]
        else:
            at = start + 1
            new = [""]
            if at < end and not texts[at].strip():
                at += 1
                new = []
            new += [line for f in group for line in _render(f, link_base)]
            if at < end and texts[at].strip():
                new.append("")
        insertions.setdefault(at, []).extend(new)
    return insertions


def _render(
    item: AuditFinding,
    link_base: str,
    indent: str = "",
    bullet: str = "-",
    box: str = " ",
    tail: str = "",
) -> list[str]:
    task = _one_line(f"{item.location}: {item.message}" if item.location else item.message)
    link = rule_link(item.rule, link_base)
    marker = f"<!-- dataward:{item.fingerprint}{'' if item.file else ' db'} -->"
    lines = [f"{indent}{bullet} [{box}] {task} _(ref: {link})_ {marker}{tail}"]
    if item.fix.strip():
        lines.append(f"{indent}  - fix: {_one_line(item.fix)}")
    return lines


def _with_box(line: str, box: str) -> str:
    item = _ITEM.match(line)
    assert item is not None  # only called on entry lines
    return line[: item.start("box")] + box + line[item.end("box") :]


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unique(findings: Sequence[AuditFinding]) -> list[AuditFinding]:
    seen: dict[str, AuditFinding] = {}
    for item in findings:
        seen.setdefault(item.fingerprint, item)
    return list(seen.values())


def _entries(count: int, one: str = "entry", many: str = "entries") -> str:
    return f"{count} {one if count == 1 else many}"


# ---------------------------------------------------------------- the file


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise UsageError("is a directory, not a checklist file", Location(file=str(path))) from None
    except OSError as exc:
        raise InfrastructureError(
            f"cannot read the checklist: {exc.strerror}", Location(file=str(path))
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        where = Location(
            file=str(path),
            line=data.count(b"\n", 0, exc.start) + 1,
            column=exc.start - line_start + 1,
        )
        raise UsageError(
            f"the checklist is not UTF-8 text (byte {data[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8 and run again (it was left as it is)",
            where,
        ) from None


def _write(path: Path, text: str) -> None:
    """Atomically: a temporary file beside the target, moved over it."""
    target = Path(os.path.realpath(path))  # through a symlink, not over it
    try:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        fd, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except FileNotFoundError:
        raise UsageError(
            f"the directory {target.parent} does not exist", Location(file=str(path))
        ) from None
    except OSError as exc:
        raise InfrastructureError(
            f"cannot write the checklist: {exc.strerror}", Location(file=str(path))
        ) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InfrastructureError(
                f"cannot write the checklist: {exc.strerror}", Location(file=str(path))
            ) from exc
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
