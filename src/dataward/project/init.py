"""`dataward init [DIR]`: a project that `dataward run` loads right away."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from dataward.errors import Location, UsageError

# (file in the package's scaffold, where it goes in the project)
_FILES = (
    ("dataward.toml", "dataward.toml"),
    ("customers.odcs.yaml", "contracts/customers.odcs.yaml"),
    ("customers.toml", "pipelines/customers.toml"),
    ("customers.csv", "data/customers.csv"),
    ("gitignore", ".gitignore"),
)


def init_project(directory: Path, name: str | None = None) -> list[Path]:
    """Write the scaffold into `directory`; refuses to overwrite any existing file."""
    scaffold = files("dataward.project") / "scaffold"
    targets = [(source, directory / target) for source, target in _FILES]
    existing = [str(path) for _, path in targets if path.exists()]
    if existing:
        raise UsageError(
            f"{', '.join(existing)} already exist(s): init never overwrites a file",
            Location(file=str(directory)),
        )
    written = []
    for sub in ("contracts", "pipelines", "migrations", "data"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for source, path in targets:
        text = (scaffold / source).read_text()
        if source == "dataward.toml":
            text = text.replace("{name}", name or directory.resolve().name)
        path.write_text(text)
        written.append(path)
    (directory / "migrations" / ".gitkeep").touch()
    return written
