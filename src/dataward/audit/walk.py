"""The files of a repository an audit reads, and the ones it does not (with why).

Never followed: dependency and tool directories (node_modules, vendor, .git, virtual
environments, caches), symlinks that lead out of the repository, and directories already
seen (a symlink loop). Files over the size limit, binary files and unreadable ones are
skipped and said so: an audit that silently reads less than it claims is worse than none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dataward.errors import Location, UsageError

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "vendor", "bower_components", "__pycache__",
        ".venv", "venv", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        "site-packages", ".eggs", "dist", "build", "target", ".terraform", ".dataward",
        "dbt_packages", "dbt_modules", ".idea", ".vscode",
    }
)  # fmt: skip
MAX_FILE_BYTES = 2 * 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class RepoFiles:
    """What a walk found: the files to read, in path order, and what it left out."""

    root: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    _texts: dict[Path, str | None] = field(default_factory=dict, repr=False)

    def named(self, *names: str) -> list[Path]:
        return [f for f in self.files if f.name in names]

    def suffixed(self, *suffixes: str) -> list[Path]:
        return [f for f in self.files if f.suffix.lower() in suffixes]

    def text(self, path: Path) -> str | None:
        """`read_text(path)`, once per audit: a migration file with many findings is
        read for its evidence lines once, not once per finding."""
        if path not in self._texts:
            self._texts[path] = read_text(path)
        return self._texts[path]

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def walk(root: Path, max_bytes: int = MAX_FILE_BYTES) -> RepoFiles:
    if not root.exists():
        raise UsageError(f"{root} does not exist", Location(file=str(root)))
    if root.is_file():
        found = RepoFiles(root.parent)
        _consider(found, root, root.parent.resolve(), max_bytes)
        return found
    top = root.resolve()
    found = RepoFiles(root)
    seen: set[Path] = set()
    for path in _entries(root, top, seen, found):
        _consider(found, path, top, max_bytes)
    found.files.sort()
    return found


def _entries(directory: Path, top: Path, seen: set[Path], found: RepoFiles) -> Iterator[Path]:
    real = directory.resolve()
    if real in seen:
        found.skipped.append(Skipped(directory, "a symlink loop: this directory was read already"))
        return
    seen.add(real)
    try:
        children = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        found.skipped.append(Skipped(directory, f"cannot be read: {exc.strerror}"))
        return
    for entry in children:
        path = Path(entry.path)
        if entry.is_symlink():
            target = path.resolve()
            if not _inside(target, top):
                found.skipped.append(Skipped(path, "a symlink out of the repository"))
                continue
        if entry.is_dir():
            if entry.name in SKIPPED_DIRECTORIES or (path / "pyvenv.cfg").is_file():
                continue  # dependencies and tools: not the team's code
            yield from _entries(path, top, seen, found)
        elif entry.is_file():
            yield path


def _consider(found: RepoFiles, path: Path, top: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            found.skipped.append(Skipped(path, f"{size:,} bytes, over the {max_bytes:,} limit"))
            return
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        found.skipped.append(Skipped(path, f"cannot be read: {exc.strerror}"))
        return
    if b"\0" in head:
        found.skipped.append(Skipped(path, "binary, not text"))
        return
    found.files.append(path)


def _inside(path: Path, top: Path) -> bool:
    return path == top or top in path.parents


def read_text(path: Path) -> str | None:
    """The file as text (UTF-8, undecodable bytes replaced), or None if it went away."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
