"""`--baseline FILE`: report only the findings that are new since an earlier audit.

A baseline is matched by fingerprint (the rule, the file or object and the offending text,
not the line number), so code moving around does not make old findings look new. Two
shapes are read:

- a saved `dataward audit --format json` report:
  `{"version": 1, "root": ..., "orientation": {...}, "counts": {...},
  "findings": [{"rule": ..., "location": ..., "fingerprint": ..., ...}], "skipped": [...]}`;
- what `write_baseline` writes, the same `findings` list cut down to what a person reviewing
  the file needs: `{"version": 1, "findings": [{"fingerprint", "rule", "location"}, ...]}`,
  ordered by file and rule (not line) so the diff stays small when code moves;

and, for a hand-made file, `{"fingerprints": ["3f2a9c1b7d04", ...]}`. Both keys together
are read as one set. A baseline that cannot be read is an error naming the file (and, for
bad JSON, the line and column; for a wrong shape, the JSON path): a silently empty
baseline would report every old finding as new, or worse, a misread one would hide new ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from dataward.audit.model import AuditFinding
from dataward.errors import InfrastructureError, Location, UsageError

BASELINE_VERSION = 1
_FINGERPRINT = re.compile(r"[0-9a-f]{12}")


def write_baseline(path: Path, findings: Iterable[AuditFinding]) -> None:
    entries = {
        f.fingerprint: {"fingerprint": f.fingerprint, "rule": f.rule, "location": f.location}
        for f in findings
    }
    ordered = sorted(
        entries.values(),
        key=lambda e: (_place(e["location"]), e["rule"], e["fingerprint"]),
    )
    document = {"version": BASELINE_VERSION, "findings": ordered}
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InfrastructureError(
            f"cannot write the baseline: {exc.strerror}", Location(file=str(path))
        ) from exc


def load_baseline(path: Path) -> set[str]:
    """The fingerprints in a baseline file (see the module docstring for its shapes)."""
    where = Location(file=str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            "baseline not found; save one with `dataward audit --format json --output FILE`",
            where,
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read the baseline: {exc.strerror}", where) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            "the baseline is not UTF-8 text", Location(file=str(path), line=line)
        ) from None
    if not text.strip():
        raise UsageError("the baseline is empty", where)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"the baseline is not JSON: {exc.msg}",
            Location(file=str(path), line=exc.lineno, column=exc.colno),
        ) from None
    return _fingerprints(document, path)


def new_since(findings: Sequence[AuditFinding], baseline: set[str]) -> list[AuditFinding]:
    """The findings whose fingerprint the baseline does not hold, in their order."""
    return [f for f in findings if f.fingerprint not in baseline]


def _fingerprints(document: Any, path: Path) -> set[str]:
    def wrong(what: str, at: str | None = None) -> UsageError:
        return UsageError(f"the baseline {what}", Location(file=str(path), path=at))

    if not isinstance(document, dict):
        raise wrong(
            "must be a JSON object with a `findings` list (a saved "
            "`dataward audit --format json` report)"
        )
    if "runs" in document and "findings" not in document:
        raise wrong("is a SARIF report; save the baseline with `--format json`")
    version = document.get("version", BASELINE_VERSION)
    if version != BASELINE_VERSION:
        raise wrong(
            f"has version {version!r}; this dataward reads version {BASELINE_VERSION}", "version"
        )
    if "findings" not in document and "fingerprints" not in document:
        raise wrong("has neither `findings` nor `fingerprints`")
    found: set[str] = set()
    if "findings" in document:
        items = document["findings"]
        if not isinstance(items, list):
            raise wrong("`findings` must be a list", "findings")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "fingerprint" not in item:
                raise wrong("finding has no `fingerprint`", f"findings[{i}]")
            found.add(_checked(item["fingerprint"], f"findings[{i}].fingerprint", wrong))
    if "fingerprints" in document:
        items = document["fingerprints"]
        if not isinstance(items, list):
            raise wrong("`fingerprints` must be a list", "fingerprints")
        for i, item in enumerate(items):
            found.add(_checked(item, f"fingerprints[{i}]", wrong))
    return found


def _checked(value: Any, at: str, wrong: Callable[[str, str], UsageError]) -> str:
    # A mistyped fingerprint would match nothing and quietly report an old finding as new.
    if not isinstance(value, str) or not _FINGERPRINT.fullmatch(value):
        raise wrong(f"fingerprint {value!r} is not 12 lowercase hex digits", at)
    return value


def _place(location: str) -> str:
    """The file or object of a location, without its line number."""
    file, _, line = location.rpartition(":")
    return file if file and line.isdigit() else location
