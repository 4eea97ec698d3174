"""Just enough of Ruby to read a Rails migration without running it: tokens (strings,
heredocs, symbols, %w[] lists, comments), statements, `do ... end` and keyword blocks
(def, class, if, ...) matched by their `end`, and the literal arguments of a call.

A block that never ends, or an `end` that closes nothing, is a `RubySyntaxError` naming
the line; what the migration DSL does is left to rails.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dataward.audit.formats.ddl import Raw


class RubySyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Tok:
    kind: str  # name, label, sym, str, num, words, op, nl
    value: Any
    line: int
    interpolated: bool = False
    spaced: bool = False  # whitespace before it


class Sym(str):
    """A Ruby symbol (:email): a name, like a string."""


class Interpolated(str):
    """A string with #{...} in it: its value is only known when the code runs."""


class Unknown:
    """A value that is not a literal (a variable, a method call)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Unknown({self.text!r})"


_OPERATORS = sorted(
    [
        "**=", "<=>", "===", "...", "||=", "&&=", "<<=", ">>=", "**", "==", "!=", ">=",
        "<=", "&&", "||", "<<", ">>", "=>", "->", "::", "&.", "..", "+=", "-=", "*=",
        "/=", "=~", "!~",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_HEREDOC = re.compile(r"<<([~-]?)(['\"`]?)([A-Za-z_]\w*)\2")
_PERCENT = re.compile(r"%([qQwWiI]?)([(\[{<|!/^])")
_CLOSERS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_NUMBER = re.compile(r"\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_]\w*")
_VALUE_KINDS = {"name", "str", "num", "sym", "words"}
_VALUE_CLOSERS = {")", "]", "}"}


@dataclass
class Source:
    tokens: list[Tok]
    comments: list[tuple[int, str]]  # (line, text after #)


def tokenize(text: str) -> Source:
    tokens: list[Tok] = []
    comments: list[tuple[int, str]] = []
    pending: list[tuple[Tok, str, str, bool]] = []  # heredocs to read at the next newline
    i, line, n = 0, 1, len(text)
    spaced = False

    def add(kind: str, value: Any, at: int, interpolated: bool = False) -> Tok:
        nonlocal spaced
        tok = Tok(kind, value, at, interpolated, spaced)
        tokens.append(tok)
        spaced = False
        return tok

    def previous_is_value() -> bool:
        if not tokens:
            return False
        last = tokens[-1]
        if last.kind in _VALUE_KINDS:
            return last.kind != "name" or last.value not in _KEYWORD_STARTS
        return last.kind == "op" and last.value in _VALUE_CLOSERS

    while i < n:
        char = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if at_line_start and text.startswith("=begin", i):
            end = text.find("\n=end", i)
            stop = n if end < 0 else text.find("\n", end + 1)
            stop = n if stop < 0 else stop
            line += text.count("\n", i, stop)
            i = stop
            continue
        if at_line_start and text.startswith("__END__", i):
            break
        if char in " \t\r":
            spaced = True
            i += 1
        elif char == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            line += 1
            spaced = True
        elif char == "\n":
            add("nl", "\n", line)
            i += 1
            line += 1
            for tok, terminator, style, raw in pending:
                body, consumed, lines = _heredoc_body(text, i, terminator, style)
                if consumed < 0:
                    raise RubySyntaxError(tok.line, f"heredoc <<{terminator} is never closed")
                tok.value = body if raw else _maybe_interpolated(body)
                tok.interpolated = isinstance(tok.value, Interpolated)
                tok.line = line  # the text starts on the line after the marker
                i = consumed
                line += lines
            pending = []
        elif char == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append((line, text[i + 1 : end]))
            i = end
        elif char == ";":
            add("nl", ";", line)
            i += 1
        elif char in "\"`'":
            value, end, lines = _quoted(text, i + 1, char, char, interpolate=char != "'")
            if end < 0:
                raise RubySyntaxError(line, "a string that is never closed")
            add("str", value, line, isinstance(value, Interpolated))
            i = end
            line += lines
        elif (
            char == "%"
            and (m := _PERCENT.match(text, i))
            and (not previous_is_value() or (spaced and text[i + 1 : i + 2] != " "))
        ):
            kind, opener = m.group(1), m.group(2)
            closer = _CLOSERS.get(opener, opener)
            value, end, lines = _quoted(
                text, m.end(), opener, closer, interpolate=kind in ("", "Q", "W", "I")
            )
            if end < 0:
                raise RubySyntaxError(line, f"a %{kind}{opener} literal that is never closed")
            if kind in ("w", "W", "i", "I"):
                words = str(value).split()
                add("words", [Sym(w) if kind in "iI" else w for w in words], line)
            else:
                add("str", value, line, isinstance(value, Interpolated))
            i = end
            line += lines
        elif (
            char == "<"
            and (m := _HEREDOC.match(text, i))
            and not (previous_is_value() and text[i + 2 : i + 3] == " ")
        ):
            tok = add("str", "", line)
            pending.append((tok, m.group(3), m.group(1), m.group(2) == "'"))
            i = m.end()
        elif char == ":" and text.startswith("::", i):
            add("op", "::", line)
            i += 2
        elif char == ":" and i + 1 < n and text[i + 1] in "\"'":
            value, end, lines = _quoted(text, i + 2, text[i + 1], text[i + 1], interpolate=False)
            if end < 0:
                raise RubySyntaxError(line, "a symbol that is never closed")
            add("sym", Sym(value), line)
            i = end
            line += lines
        elif char == ":" and (m := _NAME.match(text, i + 1)):
            end = m.end()
            if end < n and text[end] in "?!=" and text[end : end + 2] not in ("==", "=>"):
                end += 1
            add("sym", Sym(text[i + 1 : end]), line)
            i = end
        elif char.isdigit():
            m = _NUMBER.match(text, i)
            assert m is not None
            raw = m.group(0).replace("_", "")
            add("num", float(raw) if any(c in raw for c in ".eE") else int(raw), line)
            i = m.end()
        elif char.isalpha() or char == "_" or char in "@$":
            start = i
            while i < n and text[i] in "@$":
                i += 1
            m = _NAME.match(text, i)
            end = m.end() if m else i + 1
            if end < n and text[end] in "?!" and text[end + 1 : end + 2] != "=":
                end += 1
            word = text[start:end]
            if (
                end < n
                and text[end] == ":"
                and text[end + 1 : end + 2] != ":"
                and (not tokens or tokens[-1].value != "?")
            ):
                add("label", word, line)
                end += 1
            else:
                add("name", word, line)
            i = end
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), char)
            add("op", op, line)
            i += len(op)
    if pending:
        raise RubySyntaxError(pending[0][0].line, f"heredoc <<{pending[0][1]} is never closed")
    tokens.append(Tok("nl", "", line))
    return Source(tokens, comments)


def _quoted(
    text: str, start: int, opener: str, closer: str, *, interpolate: bool
) -> tuple[str, int, int]:
    """The literal's text, the offset after its closer (-1: never closed), newlines in it."""
    depth = 0
    i = start
    out: list[str] = []
    interpolated = False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(
                {"n": "\n", "t": "\t"}.get(nxt, nxt)
                if interpolate
                else (nxt if nxt in (closer, "\\") else char + nxt)
            )
            i += 2
            continue
        if interpolate and char == "#" and text.startswith("#{", i):
            end = _matching_brace(text, i + 1)
            if end < 0:
                return "", -1, 0
            out.append(text[i : end + 1])
            interpolated = True
            i = end + 1
            continue
        if char == opener and opener != closer:
            depth += 1
        elif char == closer:
            if depth == 0:
                body = "".join(out)
                value = Interpolated(body) if interpolated else body
                return value, i + 1, text.count("\n", start, i)
            depth -= 1
        out.append(char)
        i += 1
    return "", -1, 0


def _matching_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _heredoc_body(text: str, start: int, terminator: str, style: str) -> tuple[str, int, int]:
    """The heredoc's text from `start`, the offset after its terminator line, lines read."""
    lines: list[str] = []
    i = start
    count = 0
    while i <= len(text):
        end = text.find("\n", i)
        raw = text[i:] if end < 0 else text[i:end]
        count += 1
        if (raw.strip() if style else raw) == terminator:
            body = "\n".join(lines)
            if style == "~":
                indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
                cut = min(indents, default=0)
                body = "\n".join(x[cut:] for x in lines)
            return body, (len(text) if end < 0 else end), count - 1
        lines.append(raw)
        if end < 0:
            break
        i = end + 1
    return "", -1, 0


def _maybe_interpolated(body: str) -> str:
    return Interpolated(body) if "#{" in body else body


# ---- statements and blocks --------------------------------------------------------------

_KEYWORD_STARTS = {
    "def",
    "class",
    "module",
    "if",
    "unless",
    "while",
    "until",
    "case",
    "begin",
    "for",
}
_MIDDLE = {"elsif", "else", "when", "in", "rescue", "ensure", "then"}
_CONTINUES = {
    ",", "(", "[", "{", ".", "&.", "=>", "=", "+", "-", "*", "/", "||", "&&", "\\", "?",
    ":", "->", "::", "<<", "+=", "||=", "-=", "|",
}  # fmt: skip


@dataclass
class Stmt:
    tokens: list[Tok]  # the statement, without its do-block
    line: int
    end_line: int
    keyword: str | None = None  # def, class, if, ... for a keyword block
    block: list[Stmt] | None = None  # the do ... end (or keyword block) body
    params: list[str] = field(default_factory=list)  # |t|


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def body(self, opener: Tok | None, closer: str | None) -> list[Stmt]:
        """Statements up to `closer` (`end` or `}`), which is consumed."""
        found: list[Stmt] = []
        while True:
            tok = self.peek()
            while tok is not None and tok.kind == "nl":
                self.pos += 1
                tok = self.peek()
            if tok is None:
                if closer is not None:
                    what = f"`{opener.value}`" if opener is not None else "a block"
                    raise RubySyntaxError(
                        opener.line if opener else 1,
                        f"{what} block opened here is never closed (`{closer}` missing)",
                    )
                return found
            if closer is not None and tok.value == closer and tok.kind in ("name", "op"):
                self.pos += 1
                return found
            if tok.kind == "name" and tok.value == "end":
                raise RubySyntaxError(tok.line, "`end` closes nothing")
            if tok.kind == "op" and tok.value == "}" and closer is None:
                raise RubySyntaxError(tok.line, "`}` closes nothing")
            if tok.kind == "name" and tok.value in _MIDDLE and closer == "end":
                self._rest_of_line()
                continue
            found.append(self.statement())

    def _rest_of_line(self) -> list[Tok]:
        taken = []
        while (tok := self.peek()) is not None and tok.kind != "nl":
            taken.append(tok)
            self.pos += 1
        return taken

    def statement(self) -> Stmt:
        first = self.tokens[self.pos]
        if first.kind == "name" and first.value in _KEYWORD_STARTS:
            header = self._rest_of_line()
            # A one-line `def up; end`: the `;` ended the header, `end` closes it.
            body = self.body(first, "end")
            end_tok = self.tokens[self.pos - 1]
            self._rest_of_line()  # `end.tap ...`, `end if x`: nothing of ours
            return Stmt(header, first.line, end_tok.line, keyword=first.value, block=body)
        taken: list[Tok] = []
        depth = 0
        block: list[Stmt] | None = None
        params: list[str] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "nl" and depth == 0:
                last = taken[-1] if taken else None
                following = self._next_significant()
                continues = last is not None and last.kind == "op" and last.value in _CONTINUES
                chained = following is not None and following.value in (".", "&.")
                if not (continues or chained):
                    break
                self.pos += 1
                continue
            if tok.kind == "nl":
                self.pos += 1
                continue
            if tok.kind == "name" and tok.value == "do" and depth == 0:
                self.pos += 1
                params = self._params()
                block = self.body(tok, "end")
                continue
            if tok.kind == "op" and tok.value in ("(", "[", "{"):
                depth += 1
            elif tok.kind == "op" and tok.value in (")", "]", "}"):
                if depth == 0:
                    raise RubySyntaxError(tok.line, f"`{tok.value}` closes nothing")
                depth -= 1
            taken.append(tok)
            self.pos += 1
        end_line = self.tokens[self.pos - 1].line if self.pos else first.line
        return Stmt(taken, first.line, end_line, block=block, params=params)

    def _params(self) -> list[str]:
        tok = self.peek()
        if tok is None or tok.value != "|":
            return []
        self.pos += 1
        names = []
        while (tok := self.peek()) is not None and tok.value != "|" and tok.kind != "nl":
            if tok.kind == "name":
                names.append(tok.value)
            self.pos += 1
        if tok is not None and tok.value == "|":
            self.pos += 1
        return names

    def _next_significant(self) -> Tok | None:
        i = self.pos
        while i < len(self.tokens) and self.tokens[i].kind == "nl":
            i += 1
        return self.tokens[i] if i < len(self.tokens) else None


def parse(text: str) -> tuple[list[Stmt], list[tuple[int, str]]]:
    """The file's top-level statements, and its comments."""
    source = tokenize(text)
    return _Parser(source.tokens).body(None, None), source.comments


def parse_tokens(tokens: list[Tok]) -> list[Stmt]:
    return _Parser([*tokens, Tok("nl", "", tokens[-1].line if tokens else 1)]).body(None, None)


# ---- a statement as a call ---------------------------------------------------------------


@dataclass
class Call:
    path: list[str]  # ["t", "string"], ["add_index"], ["Order", "where", "update_all"]
    args: list[Any]
    kwargs: dict[str, Any]
    line: int
    brace_block: list[Tok] | None = None  # dir.up { ... }: its tokens
    arg_lines: list[int] = field(default_factory=list)  # line of each positional argument

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def receiver(self) -> str:
        return ".".join(self.path[:-1])


def as_call(stmt: Stmt) -> Call | None:
    tokens = stmt.tokens
    if not tokens or tokens[0].kind != "name":
        return None
    path = [tokens[0].value]
    i = 1
    while (
        i + 1 < len(tokens)
        and tokens[i].value in (".", "&.", "::")
        and tokens[i + 1].kind
        in (
            "name",
            "label",
        )
    ):
        path.append(tokens[i + 1].value)
        i += 2
    rest = tokens[i:]
    brace: list[Tok] | None = None
    if rest and rest[0].value == "(" and not rest[0].spaced:
        close = _matching(rest, 0)
        inner = rest[1:close]
        after = rest[close + 1 :]
        # Order.where(x: nil).update_all(...): a chain, named by all its methods.
        while len(after) > 1 and after[0].value in (".", "&.") and after[1].kind == "name":
            path.append(after[1].value)
            after = after[2:]
            if after and after[0].value == "(":
                after = after[_matching(after, 0) + 1 :]
        if after and after[0].value == "{":
            brace = after[1 : _matching(after, 0)]
        rest = inner
    else:
        cut = _modifier(rest)
        rest = rest[:cut]
        if rest and rest[-1].value == "}":
            opener = _opening(rest, len(rest) - 1)
            if opener == 0 or (opener > 0 and rest[opener - 1].value == ")"):
                brace = rest[opener + 1 : -1]
                rest = rest[:opener]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    lines: list[int] = []
    for piece in _split(rest):
        if not piece:
            continue
        if piece[0].kind == "label":
            kwargs[piece[0].value] = literal(piece[1:])
        elif len(piece) > 1 and piece[0].kind == "str" and piece[1].value == ":":
            kwargs[str(piece[0].value)] = literal(piece[2:])
        elif (arrow := _find(piece, "=>")) > 0:
            key = literal(piece[:arrow])
            kwargs[str(key)] = literal(piece[arrow + 1 :])
        elif piece[0].value in ("**", "&"):
            continue
        else:
            args.append(literal(piece))
            lines.append(piece[0].line)
    return Call(path, args, kwargs, stmt.line, brace, lines)


def literal(tokens: list[Tok]) -> Any:
    if not tokens:
        return None
    first = tokens[0]
    if first.kind == "str":
        strings = [t for t in tokens if t.kind == "str"]
        if all(t.kind == "str" for t in tokens):  # "a" "b", adjacent literals
            return "".join(str(t.value) for t in strings)
        # "...".squish, "...".strip.freeze: the text is the string's
        if all(t.kind == "name" or t.value in (".", "&.") for t in tokens[1:]):
            return first.value
        return Unknown(_text(tokens))
    if len(tokens) == 1:
        if first.kind in ("sym", "num", "words"):
            return first.value
        if first.kind == "name":
            return {"true": True, "false": False, "nil": None}.get(
                first.value, Unknown(first.value)
            )
    if first.value == "-" and len(tokens) == 2 and tokens[1].kind == "num":
        return -tokens[1].value
    if first.value == "[" and tokens[-1].value == "]" and _matching(tokens, 0) == len(tokens) - 1:
        return [literal(p) for p in _split(tokens[1:-1]) if p]
    if first.value == "{" and tokens[-1].value == "}" and _matching(tokens, 0) == len(tokens) - 1:
        found: dict[str, Any] = {}
        for piece in _split(tokens[1:-1]):
            if piece and piece[0].kind == "label":
                found[piece[0].value] = literal(piece[1:])
            elif piece and (arrow := _find(piece, "=>")) > 0:
                found[str(literal(piece[:arrow]))] = literal(piece[arrow + 1 :])
        return found
    if first.value in ("->", "lambda", "proc") and tokens[-1].value == "}":
        opener = _opening(tokens, len(tokens) - 1)
        inner = tokens[opener + 1 : -1]
        if len(inner) == 1 and inner[0].kind == "str":
            return Raw(inner[0].value)  # default: -> { "now()" }: SQL
        return Unknown(_text(tokens))
    return Unknown(_text(tokens))


def _text(tokens: list[Tok]) -> str:
    return " ".join(str(t.value) for t in tokens)


def _matching(tokens: list[Tok], start: int) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].kind == "op" and tokens[i].value in ("(", "[", "{"):
            depth += 1
        elif tokens[i].kind == "op" and tokens[i].value in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return i
    return len(tokens) - 1


def _opening(tokens: list[Tok], end: int) -> int:
    depth = 0
    for i in range(end, -1, -1):
        if tokens[i].kind == "op" and tokens[i].value in (")", "]", "}"):
            depth += 1
        elif tokens[i].kind == "op" and tokens[i].value in ("(", "[", "{"):
            depth -= 1
            if depth == 0:
                return i
    return 0


def _split(tokens: list[Tok]) -> list[list[Tok]]:
    pieces: list[list[Tok]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "op" and tok.value in ("(", "[", "{"):
            depth += 1
        elif tok.kind == "op" and tok.value in (")", "]", "}"):
            depth -= 1
        if tok.kind == "op" and tok.value == "," and depth == 0:
            pieces.append([])
        else:
            pieces[-1].append(tok)
    return pieces


def _find(tokens: list[Tok], op: str) -> int:
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.value in ("(", "[", "{"):
            depth += 1
        elif tok.kind == "op" and tok.value in (")", "]", "}"):
            depth -= 1
        elif tok.kind == "op" and tok.value == op and depth == 0:
            return i
    return -1


def _modifier(tokens: list[Tok]) -> int:
    """Where a trailing `if` / `unless` modifier starts (the statement runs only then)."""
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.value in ("(", "[", "{"):
            depth += 1
        elif tok.kind == "op" and tok.value in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and i > 0 and tok.kind == "name" and tok.value in ("if", "unless"):
            return i
    return len(tokens)
