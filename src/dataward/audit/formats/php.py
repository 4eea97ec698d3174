"""Just enough of PHP to read a Laravel migration without running it: tokens (strings,
heredocs and nowdocs, comments, variables, namespaced names), classes and their methods,
statements, and the expressions migrations are made of: method chains
(`$table->string('email')->nullable()`), static calls (`Schema::create(...)`), closures,
arrays and literals.

Unbalanced brackets or an unterminated string are a `PhpSyntaxError` naming the line; an
expression the parser does not know is kept as `Other` and reading goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class PhpSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Tok:
    kind: str  # name, var, str, num, op
    value: Any
    line: int
    interpolated: bool = False


_OPERATORS = sorted(
    [
        "===", "!==", "<=>", "**=", "...", "??=", "?->", "<<=", ">>=", "->", "=>", "::",
        "==", "!=", "<>", "<=", ">=", "&&", "||", "??", "++", "--", ".=", "+=", "-=", "*=",
        "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_HEREDOC = re.compile(r"<<<[ \t]*(['\"]?)([A-Za-z_]\w*)\1\r?\n")
_NAME = re.compile(
    r"\\?[A-Za-z_\x80-\uffff][\w\x80-\uffff]*(?:\\[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)*"
)
_NUMBER = re.compile(r"0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?")
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def tokenize(text: str) -> tuple[list[Tok], list[tuple[int, str]]]:
    """The tokens after `<?php`, and the comments (line, text)."""
    tokens: list[Tok] = []
    comments: list[tuple[int, str]] = []
    start = text.find("<?php")
    i = start + 5 if start >= 0 else 0
    line = text.count("\n", 0, i) + 1
    n = len(text)
    stack: list[Tok] = []
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            i += 1
        elif char in " \t\r":
            i += 1
        elif text.startswith("?>", i):
            end = text.find("<?php", i)
            if end < 0:
                break
            line += text.count("\n", i, end + 5)
            i = end + 5
        elif text.startswith("#[", i):  # an attribute: #[Override]
            depth, j = 0, i + 1
            while j < n:
                if text[j] == "[":
                    depth += 1
                elif text[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            line += text.count("\n", i, j)
            i = j + 1
        elif char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append((line, text[i:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise PhpSyntaxError(line, "a /* comment that is never closed")
            comments.append((line, text[i : end + 2]))
            line += text.count("\n", i, end)
            i = end + 2
        elif char in "'\"":
            value, end, interpolated = _quoted(text, i + 1, char)
            if end < 0:
                raise PhpSyntaxError(line, "a string that is never closed")
            tokens.append(Tok("str", value, line, interpolated))
            line += text.count("\n", i, end)
            i = end
        elif char == "<" and (m := _HEREDOC.match(text, i)):
            quote, label = m.group(1), m.group(2)
            closing = re.compile(rf"^([ \t]*){re.escape(label)}\b", re.M)
            found = closing.search(text, m.end())
            if found is None:
                raise PhpSyntaxError(line, f"heredoc <<<{label} is never closed")
            body = text[m.end() : found.start()].rstrip("\r\n")
            indent = len(found.group(1))
            if indent:
                body = "\n".join(
                    x[indent:] if x[:indent].isspace() else x for x in body.split("\n")
                )
            interpolated = quote != "'" and bool(re.search(r"\$\w|\{\$", body))
            tokens.append(Tok("str", body, line + 1, interpolated))
            line += text.count("\n", i, found.end())
            i = found.end()
        elif char == "$" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] == "_"):
            m = _NAME.match(text, i + 1)
            assert m is not None
            tokens.append(Tok("var", m.group(0), line))
            i = m.end()
        elif char.isdigit():
            m = _NUMBER.match(text, i)
            assert m is not None
            raw = m.group(0).replace("_", "")
            number: Any = (
                int(raw, 16)
                if raw.lower().startswith("0x")
                else float(raw)
                if any(c in raw for c in ".eE")
                else int(raw)
            )
            tokens.append(Tok("num", number, line))
            i = m.end()
        elif char.isalpha() or char in "_\\" or ord(char) > 127:
            m = _NAME.match(text, i)
            if m is None:
                tokens.append(Tok("op", char, line))
                i += 1
                continue
            tokens.append(Tok("name", m.group(0), line))
            i = m.end()
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), char)
            tok = Tok("op", op, line)
            if op in _OPENERS:
                stack.append(tok)
            elif op in _OPENERS.values():
                if not stack:
                    raise PhpSyntaxError(line, f"`{op}` closes nothing")
                if _OPENERS[stack[-1].value] != op:
                    opened = stack[-1]
                    raise PhpSyntaxError(
                        line,
                        f"`{op}` where the `{opened.value}` opened on line {opened.line} "
                        f"should be closed first",
                    )
                stack.pop()
            tokens.append(tok)
            i += len(op)
    if stack:
        raise PhpSyntaxError(stack[-1].line, f"`{stack[-1].value}` opened here is never closed")
    return tokens, comments


def _quoted(text: str, start: int, quote: str) -> tuple[str, int, bool]:
    out: list[str] = []
    i = start
    interpolated = False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if quote == "'":
                out.append(nxt if nxt in "'\\" else char + nxt)
            else:
                out.append({"n": "\n", "t": "\t", "r": "\r", "$": "$"}.get(nxt, nxt))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1, interpolated
        if (
            quote == '"'
            and char == "$"
            and i + 1 < len(text)
            and (text[i + 1].isalpha() or text[i + 1] in "_{")
        ):
            interpolated = True
        if quote == '"' and text.startswith("{$", i):
            interpolated = True
        out.append(char)
        i += 1
    return "", -1, False


# ---- the syntax tree ---------------------------------------------------------------------


@dataclass
class Lit:
    value: Any
    line: int
    interpolated: bool = False


@dataclass
class Arr:
    items: list[tuple[Any, Any]]  # (key expression or None, value expression)
    line: int


@dataclass
class Var:
    name: str
    line: int


@dataclass
class Name:
    name: str
    line: int


@dataclass
class Closure:
    params: list[str]
    body: list[Any]
    line: int


@dataclass
class CallExpr:
    target: Any  # None for a plain function call
    name: str
    args: list[tuple[str | None, Any]]  # (named argument, value)
    static: bool
    line: int


@dataclass
class Other:
    line: int
    parts: list[Any] = field(default_factory=list)  # expressions inside it, to look into


@dataclass
class ExprStmt:
    expr: Any
    line: int


@dataclass
class Block:
    body: list[Any]
    line: int


@dataclass
class Method:
    name: str
    body: list[Any]
    line: int
    end_line: int


@dataclass
class Property:
    name: str
    value: Any
    line: int


@dataclass
class ClassDecl:
    name: str
    extends: str
    members: list[Any]
    line: int


_BINARY = {
    ".", "+", "-", "*", "/", "%", "==", "===", "!=", "!==", "<>", "<", ">", "<=", ">=",
    "&&", "||", "??", "=", ".=", "+=", "-=", "*=", "/=", "??=", "&", "|", "^", "<<", ">>",
    "**", "<=>", "instanceof", "and", "or", "xor",
}  # fmt: skip
_MODIFIERS = {"public", "protected", "private", "static", "abstract", "final", "readonly", "var"}


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, ahead: int = 0) -> Tok | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def at(self, value: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.value == value and tok.kind in ("op", "name")

    def take(self) -> Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, value: str) -> Tok:
        tok = self.peek()
        if tok is None or tok.value != value:
            line = tok.line if tok else (self.tokens[-1].line if self.tokens else 1)
            raise PhpSyntaxError(line, f"expected `{value}`")
        return self.take()

    def skip_to_end_of_statement(self) -> None:
        depth = 0
        while (tok := self.peek()) is not None:
            if tok.kind == "op" and tok.value in _OPENERS:
                depth += 1
            elif tok.kind == "op" and tok.value in _OPENERS.values():
                if depth == 0:
                    return
                depth -= 1
            self.pos += 1
            if depth == 0 and tok.value == ";":
                return

    # ---- statements

    def statements(self, until: str | None = None) -> list[Any]:
        found: list[Any] = []
        while (tok := self.peek()) is not None:
            if until is not None and tok.value == until and tok.kind == "op":
                self.take()
                return found
            before = self.pos
            statement = self.statement()
            if statement is not None:
                found.append(statement)
            if self.pos == before:
                self.pos += 1  # never stall on a token nothing understood
        if until is not None:
            raise PhpSyntaxError(self.tokens[-1].line if self.tokens else 1, f"`{until}` missing")
        return found

    def statement(self) -> Any:
        tok = self.peek()
        assert tok is not None
        word = tok.value if tok.kind == "name" else None
        if tok.value == ";":
            self.take()
            return None
        if tok.value == "{" and tok.kind == "op":
            self.take()
            return Block(self.statements("}"), tok.line)
        if word in (
            "namespace",
            "use",
            "declare",
            "require",
            "require_once",
            "include",
            "include_once",
            "echo",
            "global",
            "const",
        ):
            self.skip_to_end_of_statement()
            return None
        if word in ("if", "elseif", "while", "foreach", "for", "switch", "catch"):
            self.take()
            if self.at("("):
                self._skip_group()
            return Block([self._branch()], tok.line)
        if word in ("else", "try", "finally", "do"):
            self.take()
            return Block([self._branch()], tok.line)
        if word == "return":
            self.take()
            if self.at(";"):
                self.take()
                return None
            value = self.expression()
            if self.at(";"):
                self.take()
            return ExprStmt(value, tok.line)
        if word in ("class", "abstract", "final", "readonly") and self._class_ahead():
            return self.class_decl()
        following = self.peek(1)
        if word == "function" and following is not None and following.kind == "name":
            self.take()
            self._method_rest(tok.line)
            return None
        value = self.expression()
        if self.at(";"):
            self.take()
        return ExprStmt(value, tok.line)

    def _branch(self) -> Any:
        if self.at(":"):  # if (...): ... endif;
            self.take()
            return None
        if self.peek() is None:
            return None
        return self.statement()

    def _class_ahead(self) -> bool:
        i = 0
        while (tok := self.peek(i)) is not None and tok.value in ("abstract", "final", "readonly"):
            i += 1
        return self.at("class", i)

    def _skip_group(self) -> None:
        opener = self.take()
        closer = _OPENERS[opener.value]
        depth = 1
        while (tok := self.peek()) is not None:
            self.pos += 1
            if tok.kind == "op" and tok.value == opener.value:
                depth += 1
            elif tok.kind == "op" and tok.value == closer:
                depth -= 1
                if depth == 0:
                    return
        raise PhpSyntaxError(opener.line, f"`{opener.value}` opened here is never closed")

    def class_decl(self) -> ClassDecl:
        line = self.peek().line  # type: ignore[union-attr]
        while not self.at("class"):
            self.take()
        self.take()
        name = ""
        if self.peek() is not None and self.peek().kind == "name" and not self.at("extends"):  # type: ignore[union-attr]
            name = self.take().value
        return self._class_body(name, line)

    def _class_body(self, name: str, line: int) -> ClassDecl:
        extends = ""
        if self.at("("):  # new class(...) extends
            self._skip_group()
        if self.at("extends"):
            self.take()
            extends = self.take().value
        while self.peek() is not None and not self.at("{"):
            self.take()  # implements ...
        self.expect("{")
        members: list[Any] = []
        while self.peek() is not None and not self.at("}"):
            before = self.pos
            member = self._member()
            if member is not None:
                members.append(member)
            if self.pos == before:
                self.pos += 1
        self.expect("}")
        return ClassDecl(name, extends, members, line)

    def _member(self) -> Any:
        while self.peek() is not None and self.peek().value in _MODIFIERS:  # type: ignore[union-attr]
            self.take()
        tok = self.peek()
        if tok is None:
            return None
        if tok.value == "function":
            self.take()
            return self._method_rest(tok.line)
        if tok.value in ("use", "const", "case"):
            self.skip_to_end_of_statement()
            return None
        # A property: [type] $name [= value];
        while self.peek() is not None and self.peek().kind != "var" and not self.at(";"):  # type: ignore[union-attr]
            if self.at("}"):
                return None
            self.take()
        if self.peek() is None or self.at(";"):
            if self.at(";"):
                self.take()
            return None
        var = self.take()
        value = None
        if self.at("="):
            self.take()
            value = self.expression()
        self.skip_to_end_of_statement()
        return Property(var.value, value, var.line)

    def _method_rest(self, line: int) -> Method | None:
        if self.at("&"):
            self.take()
        name = self.take().value
        if self.at("("):
            self._skip_group()
        while self.peek() is not None and not self.at("{") and not self.at(";"):
            self.take()  # : void
        if self.at(";"):  # abstract
            self.take()
            return None
        self.expect("{")
        body = self.statements("}")
        end = self.tokens[self.pos - 1].line
        return Method(name, body, line, end)

    # ---- expressions

    def expression(self) -> Any:
        left = self.unary()
        while (tok := self.peek()) is not None:
            if tok.value == "?" and tok.kind == "op":
                self.take()
                middle = self.expression() if not self.at(":") else None
                if self.at(":"):
                    self.take()
                right = self.expression()
                left = Other(tok.line, [left, middle, right])
            elif tok.value in _BINARY and tok.kind in ("op", "name"):
                self.take()
                right = self.unary()
                left = Other(tok.line, [left, right])
            else:
                break
        return left

    def unary(self) -> Any:
        tok = self.peek()
        if tok is None:
            return Other(self.tokens[-1].line if self.tokens else 1)
        if tok.kind == "op" and tok.value in ("!", "-", "+", "@", "~", "&", "++", "--"):
            self.take()
            inner = self.unary()
            if tok.value == "-" and isinstance(inner, Lit) and isinstance(inner.value, int | float):
                return Lit(-inner.value, tok.line)
            return Other(tok.line, [inner])
        if tok.kind == "op" and tok.value == "(" and self._is_cast():
            self.pos += 3
            return Other(tok.line, [self.unary()])
        return self.postfix(self.primary())

    def _is_cast(self) -> bool:
        middle, close = self.peek(1), self.peek(2)
        return (
            middle is not None
            and close is not None
            and middle.kind == "name"
            and middle.value.lower()
            in ("int", "integer", "bool", "boolean", "float", "double", "string", "array", "object")
            and close.value == ")"
        )

    def primary(self) -> Any:
        tok = self.take()
        if tok.kind == "str":
            return Lit(tok.value, tok.line, tok.interpolated)
        if tok.kind == "num":
            return Lit(tok.value, tok.line)
        if tok.kind == "var":
            return Var(tok.value, tok.line)
        if tok.kind == "op":
            if tok.value == "[":
                return Arr(self._items("]"), tok.line)
            if tok.value == "(":
                inner = self.expression()
                self.expect(")")
                return inner
            return Other(tok.line)
        word = tok.value
        lower = word.lower()
        if lower in ("true", "false", "null"):
            return Lit({"true": True, "false": False, "null": None}[lower], tok.line)
        if lower == "array" and self.at("("):
            self.take()
            return Arr(self._items(")"), tok.line)
        if (
            lower in ("function", "fn")
            or (lower == "static" and self.at("function"))
            or (lower == "static" and self.at("fn"))
        ):
            if lower == "static":
                lower = self.take().value.lower()
            return self._closure(tok.line, arrow=lower == "fn")
        if lower == "new":
            if self.at("class"):
                self.take()
                return self._class_body("", tok.line)
            target = self.take() if self.peek() is not None else tok
            args = self._args() if self.at("(") else []
            return Other(tok.line, [Name(str(target.value), tok.line), *[a for _, a in args]])
        if lower == "match" and self.at("("):
            self._skip_group()
            if self.at("{"):
                self._skip_group()
            return Other(tok.line)
        if lower in ("isset", "empty", "list", "print", "clone", "throw", "yield", "include"):
            return Other(tok.line, [self.expression()] if not self.at(";") else [])
        return Name(word, tok.line)

    def postfix(self, left: Any) -> Any:
        while (tok := self.peek()) is not None:
            if tok.kind == "op" and tok.value in ("->", "?->"):
                self.take()
                name_tok = self.take()
                name = str(name_tok.value)
                if self.at("("):
                    left = CallExpr(left, name, self._args(), False, name_tok.line)
                else:
                    left = Other(name_tok.line, [left])
            elif tok.kind == "op" and tok.value == "::":
                self.take()
                name_tok = self.take()
                name = str(name_tok.value)
                if name == "class":
                    base = left.name if isinstance(left, Name) else ""
                    left = Lit(base.rsplit("\\", 1)[-1], name_tok.line)
                elif self.at("("):
                    left = CallExpr(left, name, self._args(), True, name_tok.line)
                else:
                    left = Other(name_tok.line, [left])
            elif tok.kind == "op" and tok.value == "(" and isinstance(left, Name | Var | Closure):
                name = left.name if isinstance(left, Name) else ""
                left = CallExpr(None, name, self._args(), False, tok.line)
            elif tok.kind == "op" and tok.value == "[":
                self._skip_group()
                left = Other(tok.line, [left])
            else:
                break
        return left

    def _args(self) -> list[tuple[str | None, Any]]:
        self.expect("(")
        found: list[tuple[str | None, Any]] = []
        while not self.at(")"):
            if self.peek() is None:
                raise PhpSyntaxError(self.tokens[-1].line, "`)` missing")
            name = None
            nxt = self.peek()
            if nxt is not None and nxt.kind == "name" and self.at(":", 1) and not self.at("::", 1):
                name = self.take().value
                self.take()
            if self.at("..."):
                self.take()
            found.append((name, self.expression()))
            if self.at(","):
                self.take()
            elif not self.at(")"):
                self.skip_to_end_of_statement()
                break
        if self.at(")"):
            self.take()
        return found

    def _items(self, closer: str) -> list[tuple[Any, Any]]:
        found: list[tuple[Any, Any]] = []
        while not self.at(closer):
            if self.peek() is None:
                raise PhpSyntaxError(self.tokens[-1].line, f"`{closer}` missing")
            if self.at("..."):
                self.take()
            first = self.expression()
            if self.at("=>"):
                self.take()
                found.append((first, self.expression()))
            else:
                found.append((None, first))
            if self.at(","):
                self.take()
            elif not self.at(closer):
                raise PhpSyntaxError(self.peek().line, f"expected `,` or `{closer}`")  # type: ignore[union-attr]
        self.take()
        return found

    def _closure(self, line: int, *, arrow: bool) -> Closure:
        if self.at("&"):
            self.take()
        params: list[str] = []
        if self.at("("):
            start = self.pos
            self._skip_group()
            params = [t.value for t in self.tokens[start : self.pos] if t.kind == "var"]
        if self.at("use"):
            self.take()
            self._skip_group()
        while self.peek() is not None and not self.at("{") and not self.at("=>"):
            self.take()  # : void
        if arrow:
            self.expect("=>")
            expression = self.expression()
            return Closure(params, [ExprStmt(expression, line)], line)
        self.expect("{")
        return Closure(params, self.statements("}"), line)


def parse(text: str) -> tuple[list[Any], list[tuple[int, str]]]:
    tokens, comments = tokenize(text)
    return _Parser(tokens).statements(), comments


def literal(node: Any) -> Any:
    """A node's literal value: str, number, bool, None, list or dict; else `node`."""
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Arr):
        if all(k is None for k, _ in node.items):
            return [literal(v) for _, v in node.items]
        return {literal(k): literal(v) for k, v in node.items}
    return node
