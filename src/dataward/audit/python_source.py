"""A Python file as the code rules read it: its syntax tree (never executed), what its
imports call things, and the SQL in its strings, parsed by pglast.

SQL in a string is found when the string starts like a statement; driver placeholders
(%s, %(name)s, :name, ?) become $1 so PostgreSQL's parser accepts it; an f-string's
holes become $1 too, so a table named by a variable is not guessed at.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pglast
from pglast import ast as sql_ast
from pglast.parser import ParseError

_SQL_START = re.compile(
    r"^\s*(insert|update|delete|truncate|merge|copy|create|alter|drop|with|select|upsert)\b",
    re.IGNORECASE,
)
_PLACEHOLDERS = re.compile(r"%\((\w+)\)s|%s|(?<![:\w]):\w+\b|\?")
HOLE = "$1"
# What runs its body once per item (a comprehension's element is a child of the
# comprehension expression, not of its `for` clause).
_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


@dataclass(frozen=True)
class SqlIn:
    """One SQL statement in a Python string."""

    node: sql_ast.Node
    line: int  # of the string in the file
    column: int
    text: str
    scope: ast.AST  # the function (or module) it is in
    in_loop: bool


@dataclass
class PythonSource:
    path: str  # relative to the audited root
    text: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    # Every node once, in ast.walk order: the rules filter this list instead of each
    # walking the tree again (walking is most of an audit's time).
    nodes: list[ast.AST] = field(default_factory=list)

    @classmethod
    def parse(cls, path: str, text: str) -> PythonSource:
        tree = ast.parse(text, filename=path)
        source = cls(path, text, tree)
        for node in ast.walk(tree):
            source.nodes.append(node)
            for child in ast.iter_child_nodes(node):
                source.parents[child] = node
        return source

    def of_type(self, *types: type[ast.AST]) -> list[Any]:
        return [node for node in self.nodes if isinstance(node, types)]

    def inside(self, scope: ast.AST) -> list[ast.AST]:
        """The nodes within `scope` (a function): by line span, without walking it."""
        start, end = scope.lineno, scope.end_lineno or scope.lineno  # type: ignore[attr-defined]
        return [n for n in self.nodes if start <= getattr(n, "lineno", 0) <= end and n is not scope]

    def line(self, number: int | None) -> str:
        lines = self.text.splitlines()
        return lines[number - 1].strip() if number and 0 < number <= len(lines) else ""

    # ------------------------------------------------------------ structure

    def scope_of(self, node: ast.AST) -> ast.AST:
        """The function (or the module) a node runs in."""
        current = self.parents.get(node)
        while current is not None and not isinstance(
            current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            current = self.parents.get(current)
        return current or self.tree

    def in_loop(self, node: ast.AST) -> bool:
        current = self.parents.get(node)
        while current is not None and not isinstance(
            current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
        ):
            if isinstance(current, _LOOPS):
                return True
            current = self.parents.get(current)
        return False

    @cached_property
    def call_nodes(self) -> list[ast.Call]:
        return self.of_type(ast.Call)

    def calls(self) -> Iterator[ast.Call]:
        yield from self.call_nodes

    # ------------------------------------------------------------ names

    @cached_property
    def imported(self) -> dict[str, str]:
        """Local name -> what it is (`dt` -> `datetime`, `DT` -> `datetime.datetime`)."""
        names: dict[str, str] = {}
        for node in self.of_type(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return names

    def dotted(self, node: ast.AST) -> str:
        """`datetime.datetime.now` for `dt.datetime.now` after `import datetime as dt`;
        the attribute chain as written when its root was not imported."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(self.imported.get(node.id, node.id))
        elif isinstance(node, ast.Call):
            parts.append(self.dotted(node.func) + "()")
        else:
            return ""
        return ".".join(reversed(parts))

    # ------------------------------------------------------------ SQL

    @cached_property
    def sql(self) -> list[SqlIn]:
        found: list[SqlIn] = []
        for node in self.of_type(ast.Constant, ast.JoinedStr):
            text = _string_of(node)
            if text is None or not _SQL_START.match(text):
                continue
            if isinstance(self.parents.get(node), ast.JoinedStr):
                continue  # a piece of an f-string: the f-string is read whole
            try:
                parsed = pglast.parse_sql(_PLACEHOLDERS.sub(HOLE, text))
            except ParseError:
                continue  # not SQL after all, or SQL built from pieces
            for raw in parsed:
                found.append(
                    SqlIn(
                        raw.stmt,
                        node.lineno,  # type: ignore[attr-defined]
                        node.col_offset + 1,  # type: ignore[attr-defined]
                        text,
                        self.scope_of(node),
                        self.in_loop(node),
                    )
                )
        return sorted(found, key=lambda s: (s.line, s.column))


def _string_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else HOLE
            for part in node.values
        )
    return None


def sql_table(node: sql_ast.Node) -> str | None:
    """The table an INSERT, UPDATE, DELETE, TRUNCATE (first) or COPY ... FROM writes, as
    written (schema-qualified or not), lower-cased; None for a table named by a hole."""
    relation = None
    if isinstance(node, sql_ast.InsertStmt | sql_ast.UpdateStmt | sql_ast.DeleteStmt):
        relation = node.relation
    elif isinstance(node, sql_ast.TruncateStmt) and node.relations:
        relation = node.relations[0]
    elif isinstance(node, sql_ast.CopyStmt) and node.is_from:
        relation = node.relation
    if not isinstance(relation, sql_ast.RangeVar) or not relation.relname:
        return None
    return relation.relname.lower()
