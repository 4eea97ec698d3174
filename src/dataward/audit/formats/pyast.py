"""Reading Python migration files (Alembic revisions, Django migrations) from their syntax
tree only: the literal value of an argument, the name a call is made through. Nothing is
imported or run, so a module-level side effect of the file never happens."""

from __future__ import annotations

import ast
from typing import Any

from dataward.audit.formats.ddl import Raw


class _Unknown:
    """An argument that is not a literal (a variable, an f-string, a call)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
_TEXT = {"text", "literal_column"}
_BOOLEANS = {"true": "true", "false": "false", "null": "NULL"}


def dotted(node: ast.AST | None) -> str:
    """`sa.Column`, `op.create_table`, `models.CharField`; '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def last_name(node: ast.AST | None) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def value(node: ast.AST | None) -> Any:
    """The literal a node stands for, `Raw` SQL for sa.text("...") and sa.func.now(), or
    UNKNOWN."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [value(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {value(k): value(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = value(node.operand)
        return -inner if isinstance(inner, int | float) else UNKNOWN
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = value(node.left), value(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN
    if isinstance(node, ast.Call):
        return _call_value(node)
    return UNKNOWN


def _call_value(node: ast.Call) -> Any:
    name = dotted(node.func)
    short = name.rsplit(".", 1)[-1]
    args = [value(a) for a in node.args]
    if short in _TEXT and len(args) == 1 and isinstance(args[0], str):
        return Raw(args[0])
    if short in ("f", "inline_literal") and len(args) == 1:  # op.f("ix_name")
        return args[0]
    if ".func." in f".{name}." or name.startswith("func."):
        rendered = [a if isinstance(a, Raw) else None for a in args]
        if all(r is not None for r in rendered):
            return Raw(f"{short}({', '.join(str(r) for r in rendered)})")
        return UNKNOWN
    if short in _BOOLEANS and not args:  # sa.true(), sa.false(), sa.null()
        return Raw(_BOOLEANS[short])
    return UNKNOWN


def call_args(call: ast.Call, names: list[str]) -> dict[str, ast.expr]:
    """The call's arguments by parameter name: positional ones take `names` in order,
    and keywords their own (**kwargs are not followed)."""
    found: dict[str, ast.expr] = {}
    for name, node in zip(names, call.args, strict=False):
        found[name] = node
    for keyword in call.keywords:
        if keyword.arg is not None:
            found[keyword.arg] = keyword.value
    return found


def literal_kwargs(call: ast.Call) -> dict[str, Any]:
    return {k.arg: value(k.value) for k in call.keywords if k.arg is not None}


def module_value(tree: ast.Module, name: str) -> ast.expr | None:
    """The expression assigned to `name` at module level (`revision = "ab12"`, or
    `revision: str = "ab12"`)."""
    found = None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            found = node.value
    return found


def module_function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def does_nothing(body: list[ast.stmt]) -> bool:
    """A body of only a docstring, `pass` and `...`."""
    for statement in body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring, or `...`
        return False
    return True
