"""Load YAML while remembering where each value sits, so errors can name the line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

PathPart = str | int


class LineIndex:
    """Maps a YAML path such as ('schema', 0, 'properties', 2) to its 1-based line."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._lines: dict[tuple[PathPart, ...], int] = {}
        # YAML keeps the last of two equal keys without a word; a contract must not.
        self.duplicate: tuple[tuple[PathPart, ...], int] | None = None
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: tuple[PathPart, ...]) -> None:
        self._lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = key_node.value
                if key in seen and self.duplicate is None:
                    self.duplicate = ((*path, key), key_node.start_mark.line + 1)
                seen.add(key)
                self._lines[(*path, key)] = key_node.start_mark.line + 1
                self._walk(value_node, (*path, key))
                # Keys are where a reader looks first, so they win over their value.
                self._lines[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def line(self, path: Sequence[PathPart]) -> int | None:
        """The line of the deepest part of `path` that exists in the document."""
        parts = tuple(path)
        while parts:
            if parts in self._lines:
                return self._lines[parts]
            parts = parts[:-1]
        return self._lines.get(())


def format_path(path: Sequence[PathPart]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_yaml(text: str) -> tuple[Any, LineIndex]:
    """Parse once for the values and once for the node marks (both cheap for a contract)."""
    data = yaml.safe_load(text)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    return data, LineIndex(root)
