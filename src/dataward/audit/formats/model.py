"""What the format readers share: the folder found, what reading it gave, and the notes
on what could not be read."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dataward.migrate.files import Migration, MigrationError, read_text

Problem = tuple[str, int, str]  # (file, line, message)
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass
class MigrationFolder:
    path: Path
    format: str  # alembic, django, rails, laravel, prisma, flyway, dbmate, goose, ...
    files: list[Path]
    config: Path | None = None  # alembic.ini, when there is one


@dataclass
class FolderRead:
    migrations: list[Migration]
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class Reading:
    """Notes and problems gathered while one folder is read."""

    def __init__(self, folder: MigrationFolder) -> None:
        self.folder = folder
        self.unknown: list[str] = []  # "op.bulk_insert at versions/x.py:12"
        self.irreversible: list[str] = []
        self.other: list[str] = []
        self.problems: list[Problem] = []

    def where(self, file: Path, line: int) -> str:
        try:
            shown = file.relative_to(self.folder.path).as_posix()
        except ValueError:
            shown = file.as_posix()
        return f"{shown}:{line}"

    def not_understood(self, what: str, file: Path, line: int) -> None:
        self.unknown.append(f"{what} at {self.where(file, line)}")

    def cannot_reverse(self, what: str, file: Path, line: int) -> None:
        self.irreversible.append(f"{what} at {self.where(file, line)}")

    def note(self, text: str) -> None:
        self.other.append(text)

    def problem(self, file: Path, line: int, message: str) -> None:
        self.problems.append((str(file), line, message))

    def text(self, path: Path) -> str | None:
        """The file's text, or None (and a problem) if it is not UTF-8."""
        try:
            return read_text(path)
        except MigrationError as exc:
            self.problem(path, exc.location.line or 1, exc.message)
            return None

    def result(self, migrations: list[Migration]) -> FolderRead:
        notes = []
        if self.unknown:
            notes.append(_counted(len(self.unknown), "operation", "not understood", self.unknown))
        if self.irreversible:
            notes.append(
                _counted(len(self.irreversible), "operation", "not reversible", self.irreversible)
            )
        notes += self.other
        return FolderRead(migrations, notes, self.problems)


def _counted(count: int, noun: str, state: str, items: list[str]) -> str:
    shown = ", ".join(items[:5]) + (f", and {count - 5} more" if count > 5 else "")
    return f"{count} {noun}{'' if count == 1 else 's'} {state}: {shown}"


def chain_order(
    items: list[T], key: Callable[[T], K], parents: Callable[[T], Iterable[K]]
) -> list[T]:
    """`items` with every item after its parents (Alembic's down_revision, Django's
    dependencies), ties in the given order; parents outside `items` are ignored, and a
    cycle is broken at its first item rather than dropping anything."""
    known = {key(item): item for item in items}
    done: set[K] = set()
    ordered: list[T] = []
    visiting: set[K] = set()

    def visit(item: T) -> None:
        name = key(item)
        if name in done or name in visiting:
            return
        visiting.add(name)
        for parent in parents(item):
            if parent in known:
                visit(known[parent])
        visiting.discard(name)
        done.add(name)
        ordered.append(item)

    for item in items:
        visit(item)
    return ordered
