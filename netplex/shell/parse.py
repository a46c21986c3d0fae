"""bash's grammar, for the subset `netplex.shell.interp` runs: the lexer, the syntax tree
and a recursive-descent parser (bash(1) SHELL GRAMMAR, QUOTING, REDIRECTION, and
parse.y for the error texts).

`Parser(text).parse_line()` reads a whole script before anything runs, so a syntax
error or a refused construct (`Unsupported`) changes nothing. `complete(text)` says
whether a text is a whole command or needs more lines (a here-document, a loop, an
open quote), which is how a scenario's setup script is cut into commands.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError

__all__ = [
    "AndOr", "Arith", "ArithCmd", "ArithFor", "BashSyntaxError", "Case", "Command", "CommandList", "Cond", "For",
    "FuncDef", "Group", "If", "Lit", "NAME", "Param", "Parser", "Part", "Pipeline", "Redirect", "Simple",
    "Subst", "Unsupported", "While", "Word", "complete",
]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
# Reserved words that close a list (bash SHELL GRAMMAR); recognised in command position only.
CLOSERS = ("then", "elif", "else", "fi", "do", "done", "esac", "}")
OPERATORS = (  # longest first
    "&>>", "<<<", "<<-", ";;&", "&&", "||", ";;", ";&", "|&", ">>", ">|", "<<", "<>", ">&", "<&", "&>",
    ";", "&", "|", "<", ">", "(", ")",
)
REDIRECT_OPS = frozenset({">", ">>", ">|", "<", "<<", "<<-", "<<<", "<>", ">&", "<&", "&>", "&>>"})
META = " \t\n;&|<>()"
_OPERATOR_STARTS = frozenset(op[0] for op in OPERATORS)


# ---------------------------------------------------------------- errors


class BashSyntaxError(NetplexError):
    """A script bash would refuse to parse; the message is bash's (status 2). `at_eof`: the
    text ended inside a construct (more lines would complete it, see `complete`)."""

    def __init__(self, message: str, at_eof: bool = False, status: int = 2) -> None:
        super().__init__(message, 0, status)
        self.at_eof = at_eof


class Unsupported(NetplexError):
    """A construct netplex does not run; the message says which (printed after `netplex: `, status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 0, 2)


# ---------------------------------------------------------------- syntax tree

# A word is a list of parts; `quoted` parts never split and keep "" alive.
@dataclass(slots=True)
class Lit:
    text: str
    quoted: bool


@dataclass(slots=True)
class Param:
    name: str
    quoted: bool
    # "", ":-", "-", ":=", "=", ":+", "+", ":?", "?", "#" (length), "del#", "del##", "del%", "del%%",
    # "sub/", "sub//", "sub/#", "sub/%" (arg: pattern, arg2: string), "slice" (arg: offset, arg2: length)
    op: str = ""
    arg: list[Part] | None = None
    arg2: list[Part] | None = None


@dataclass(slots=True)
class Subst:
    body: CommandList
    quoted: bool


@dataclass(slots=True)
class Arith:
    """`$(( expr ))`: the expression's text after its own expansions, evaluated by `arith`."""

    expr: list[Part]
    raw: str
    quoted: bool


Part = Lit | Param | Subst | Arith


@dataclass(slots=True)
class Word:
    parts: list[Part]
    raw: str

    def literal(self) -> str | None:
        """The word's text when it contains no expansion, else None."""
        if all(isinstance(p, Lit) for p in self.parts):
            return "".join(p.text for p in self.parts)  # type: ignore[union-attr]
        return None


@dataclass(slots=True)
class Redirect:
    fd: int | None
    op: str
    target: Word  # for a here-document: its body (quoted parts when the delimiter was quoted)


@dataclass(slots=True)
class Simple:
    assigns: list[tuple[str, bool, Word]] = field(default_factory=list)  # name, append, value
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class Group:
    """`( list )` (a subshell: nothing it changes leaks out) or `{ list; }`."""

    body: CommandList
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class If:
    clauses: list[tuple[CommandList, CommandList]]  # if/elif condition, then-body
    orelse: CommandList | None
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class For:
    var: str
    words: list[Word] | None  # None: "$@"
    body: CommandList
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class ArithFor:
    """`for (( init; cond; step ))`."""

    init: Word
    cond: Word
    step: Word
    body: CommandList
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class While:
    cond: CommandList
    body: CommandList
    until: bool
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class Case:
    word: Word
    items: list[tuple[list[Word], CommandList, str]]  # patterns, body, `;;` / `;&` / `;;&`
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class ArithCmd:
    """`(( expr ))`: status 0 when the value is not zero."""

    expr: Word
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class FuncDef:
    name: str
    body: Command
    lineno: int = 1


@dataclass(slots=True)
class Cond:
    """`[[ expression ]]`: expr is ("or"|"and", a, b), ("not", a), ("unary", op, Word),
    ("binary", op, Word, Word) or ("word", Word)."""

    expr: tuple[Any, ...]
    redirects: list[Redirect] = field(default_factory=list)
    lineno: int = 1


COND_UNARY = frozenset("-e -f -d -s -r -w -x -z -n -a -L -h -v".split())
COND_BINARY = frozenset("== = != =~ < > -eq -ne -lt -le -gt -ge -nt -ot -ef".split())


class _CondParser:
    """Recursive descent over the tokens between `[[` and `]]`."""

    def __init__(self, tokens: list[Token], parser: Parser, lineno: int) -> None:
        self.tokens = tokens
        self.parser = parser
        self.lineno = lineno
        self.i = 0

    def shown(self, i: int) -> str:
        if i >= len(self.tokens):
            return "]]"
        tok = self.tokens[i]
        return tok.word.raw if tok.word is not None else tok.value

    def _peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _is(self, kind: str, value: str) -> bool:
        tok = self._peek()
        return tok is not None and tok.kind == kind and tok.value == value

    def _word(self) -> Word:
        tok = self._peek()
        if tok is None or tok.kind != "word" or tok.word is None:
            raise self.parser._cond_error(self.lineno, self.shown(self.i))
        self.i += 1
        return tok.word

    def or_expr(self) -> tuple[Any, ...]:
        left = self.and_expr()
        while self._is("op", "||"):
            self.i += 1
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self) -> tuple[Any, ...]:
        left = self.not_expr()
        while self._is("op", "&&"):
            self.i += 1
            left = ("and", left, self.not_expr())
        return left

    def not_expr(self) -> tuple[Any, ...]:
        if self._is("word", "!"):
            self.i += 1
            return ("not", self.not_expr())
        return self.primary()

    def primary(self) -> tuple[Any, ...]:
        if self._is("op", "("):
            self.i += 1
            inner = self.or_expr()
            if not self._is("op", ")"):
                raise self.parser._cond_error(self.lineno, self.shown(self.i))
            self.i += 1
            return inner
        tok = self._peek()
        nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        if tok is not None and tok.kind == "word" and tok.value in COND_UNARY and nxt is not None \
                and nxt.kind == "word" and not (self.i + 2 < len(self.tokens)
                                                and self.tokens[self.i + 2].value in COND_BINARY):
            self.i += 1
            if tok.value in ("-L", "-h", "-v", "-a"):
                raise Unsupported(f"[[ {tok.value} ... ]] is not supported")
            return ("unary", tok.value, self._word())
        left = self._word()
        op = self._peek()
        if op is not None and (op.value in COND_BINARY or (op.kind == "op" and op.value in "<>")):
            if op.value in ("-nt", "-ot", "-ef"):
                raise Unsupported(f"[[ ... {op.value} ... ]] is not supported")
            self.i += 1
            return ("binary", op.value, left, self._word())
        return ("word", left)


Command = Simple | Group | If | For | ArithFor | While | Case | ArithCmd | FuncDef | Cond


@dataclass(slots=True)
class Pipeline:
    negate: bool
    commands: list[Command]
    stderr_too: list[bool]  # per command: joined to the next by `|&`


@dataclass(slots=True)
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]]
    background: bool = False  # ended by `&`


@dataclass(slots=True)
class CommandList:
    items: list[AndOr]


@dataclass(slots=True)
class Token:
    kind: str  # "word", "op", "newline", "eof"
    value: str = ""
    word: Word | None = None
    fd: int | None = None  # an IO number before a redirection operator
    lineno: int = 1


# ---------------------------------------------------------------- parser



_RUNS: dict[str, re.Pattern[str]] = {}
_DQUOTE_RUN = re.compile(r'[^"\\`$]+')


def _plain_run(stop: str) -> re.Pattern[str]:
    """Characters a word takes as they are, up to a quote, `\\`, `$`, a backquote or one of `stop`."""
    pattern = _RUNS.get(stop)
    if pattern is None:
        pattern = _RUNS[stop] = re.compile("[^" + re.escape(stop + "\\'\"`$") + "]+")
    return pattern


def _joined(parts: list[Part]) -> list[Part]:
    """Adjacent literal pieces with the same quoting as one (the lexer appends piece by piece)."""
    out: list[Part] = []
    run: list[str] = []
    for p in parts:
        if isinstance(p, Lit) and out and isinstance(out[-1], Lit) and out[-1].quoted == p.quoted:
            run.append(p.text)
            continue
        if run:
            last = out[-1]
            assert isinstance(last, Lit)
            last.text = "".join(run)
        run = [p.text] if isinstance(p, Lit) else []
        out.append(p)
    if run:
        last = out[-1]
        assert isinstance(last, Lit)
        last.text = "".join(run)
    return out

class Parser:
    """Lexer and recursive-descent parser over one line (bash's grammar subset)."""

    def __init__(self, text: str, pos: int = 0, nested: bool = False) -> None:
        self.text = text
        self._line_at = (0, 0)   # (position, newlines before it): where _lineno last counted to
        self.pos = pos
        self.nested = nested  # inside $( ... ): `)` ends the list
        self._peeked: Token | None = None
        # here-documents whose body starts after the next newline: (redirect, delimiter, strip tabs, quoted, line)
        self._heredocs: list[tuple[Redirect, str, bool, bool, int]] = []
        self.warnings: list[str] = []
        self.open_heredoc = False  # a here-document ran to the end of the text

    # -- errors

    def _lineno(self, pos: int | None = None) -> int:
        """The line `pos` is on, counted on from the last answer (the lexer only moves forward:
        counting from the start each time made a long line quadratic)."""
        pos = self.pos if pos is None else pos
        if pos < self._line_at[0]:
            return self.text.count("\n", 0, pos) + 1
        at, line = self._line_at
        line += self.text.count("\n", at, pos)
        self._line_at = (pos, line)
        return line + 1

    def _unexpected(self, tok: Token) -> BashSyntaxError:
        name = {"newline": "newline", "eof": "newline"}.get(tok.kind, tok.value)
        if tok.kind == "word":
            name = tok.word.raw  # type: ignore[union-attr]
        line = tok.lineno if tok.kind == "newline" else self._lineno()
        rows = self.text.splitlines()
        src = rows[min(line, len(rows)) - 1] if self.text.strip() else self.text
        return BashSyntaxError(
            f"bash: -c: line {line}: syntax error near unexpected token `{name}'\n"
            f"bash: -c: line {line}: `{src}'\n"
        )

    def _eof(self) -> BashSyntaxError:
        return BashSyntaxError(
            f"bash: -c: line {self._lineno(len(self.text)) + 1}: syntax error: unexpected end of file\n", True
        )

    def _eof_matching(self, ch: str, extra_line: bool = False) -> BashSyntaxError:
        line = self._lineno(len(self.text)) + (1 if extra_line else 0)
        return BashSyntaxError(f"bash: -c: line {line}: unexpected EOF while looking for matching `{ch}'\n", True)

    # -- lexer

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> Token:
        tok = self.peek()
        self._peeked = None
        return tok

    def _lex(self) -> Token:
        text = self.text
        n = len(text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t":
                self.pos += 1
            elif c == "\\" and text.startswith("\\\n", self.pos):
                self.pos += 2
            elif c == "#":
                while self.pos < n and text[self.pos] != "\n":
                    self.pos += 1
            else:
                break
        lineno = self._lineno()
        if self.pos >= n:
            return Token("eof", lineno=lineno)
        c = text[self.pos]
        if c == "\n":
            self.pos += 1
            if self._heredocs:
                self._read_heredocs()
            return Token("newline", "\n", lineno=lineno)
        if c in _OPERATOR_STARTS:
            for op in OPERATORS:
                if text.startswith(op, self.pos):
                    self.pos += len(op)
                    return Token("op", op, lineno=lineno)
        return self._lex_word(lineno)

    def _lex_word(self, lineno: int, stop: str = META) -> Token:
        text = self.text
        n = len(text)
        start = self.pos
        parts: list[Part] = []

        def lit(s: str, quoted: bool) -> None:
            parts.append(Lit(s, quoted))   # adjacent pieces are joined once, at the end (_joined)

        while self.pos < n:
            c = text[self.pos]
            if c in stop:
                if c in "<>" and parts and all(isinstance(p, Lit) and not p.quoted for p in parts) \
                        and "".join(p.text for p in parts).isdigit():  # type: ignore[union-attr]
                    # `2>`: an IO number, not a word
                    for op in OPERATORS:
                        if text.startswith(op, self.pos):
                            self.pos += len(op)
                            fd = int("".join(p.text for p in parts))  # type: ignore[union-attr]
                            return Token("op", op, fd=fd, lineno=lineno)
                break
            if c == "\\":
                if self.pos + 1 >= n:
                    lit("\\", False)
                    self.pos += 1
                elif text[self.pos + 1] == "\n":
                    self.pos += 2
                else:
                    lit(text[self.pos + 1], True)
                    self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise self._eof_matching("'")
                lit(text[self.pos + 1:end], True)
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                self._lex_dquote(parts, lit)
            elif c == "`":
                raise Unsupported("backquote command substitution is not supported; use $(...)")
            elif c == "$":
                self._lex_dollar(parts, lit, quoted=False)
            else:
                m = _plain_run(stop).match(text, self.pos)
                end = m.end() if m else self.pos + 1
                lit(text[self.pos:end], False)
                self.pos = end
        raw = text[start:self.pos]
        return Token("word", raw, word=Word(_joined(parts), raw), lineno=lineno)

    def _lex_dquote(self, parts: list[Part], lit: Callable[[str, bool], None]) -> None:
        text = self.text
        n = len(text)
        lit("", True)  # "" is still a word
        while True:
            if self.pos >= n:
                raise self._eof_matching('"')
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return
            if c == "\\" and self.pos + 1 < n and text[self.pos + 1] in '$`"\\\n':
                if text[self.pos + 1] != "\n":
                    lit(text[self.pos + 1], True)
                self.pos += 2
            elif c == "`":
                raise Unsupported("backquote command substitution is not supported; use $(...)")
            elif c == "$":
                self._lex_dollar(parts, lit, quoted=True)
            else:
                m = _DQUOTE_RUN.match(text, self.pos)
                end = m.end() if m else self.pos + 1
                lit(text[self.pos:end], True)
                self.pos = end

    def _lex_dollar(self, parts: list[Part], lit: Callable[[str, bool], None], quoted: bool) -> None:
        text = self.text
        n = len(text)
        p = self.pos + 1  # just after `$`
        nxt = text[p] if p < n else ""
        if text.startswith("((", p):
            end = self._arith_end(p + 2)
            raw = text[p + 2:end]
            self.pos = end + 2
            parts.append(Arith(Parser(raw)._brace_word(), raw, quoted))
            return
        if nxt == "(":
            sub = Parser(text, p + 1, nested=True)
            body = sub.parse_list()
            tok = sub.next()
            if tok.kind != "op" or tok.value != ")":
                if tok.kind == "eof":
                    raise self._eof_matching(")", extra_line=True)
                raise sub._unexpected(tok)
            self.pos = sub.pos
            parts.append(Subst(body, quoted))
        elif nxt == "{":
            end = self._match_brace(p + 1)
            self.pos = end + 1
            parts.append(self._param_expr(text[p + 1:end], quoted))
        elif nxt and (nxt.isalpha() or nxt == "_"):
            m = NAME.match(text, p)
            assert m is not None
            self.pos = m.end()
            parts.append(Param(m.group(), quoted))
        elif nxt and (nxt.isdigit() or nxt in "?#@*!"):
            self.pos = p + 1
            parts.append(Param(nxt, quoted))
        elif nxt in ("$", "-"):
            raise Unsupported(f"the special parameter ${nxt} is not supported")
        elif nxt == "'" and not quoted:
            self.pos = p + 1
            lit(self._ansi_c(), True)
        elif nxt == '"' and not quoted:
            self.pos = p  # $"..." is "..." without a locale
        else:
            lit("$", quoted)
            self.pos = p

    def _arith_end(self, p: int) -> int:
        """Index of the `))` closing an arithmetic expression whose text starts at p."""
        depth = 0
        text = self.text
        while p < len(text):
            c = text[p]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0 and text.startswith("))", p):
                    return p
                depth -= 1
            p += 1
        raise self._eof_matching(")", extra_line=True)

    def _read_heredocs(self) -> None:
        """Take the bodies of the here-documents of the line just ended (bash REDIRECTION)."""
        text = self.text
        for redir, delim, strip, quoted, line in self._heredocs:
            body: list[str] = []
            while True:
                if self.pos >= len(text):
                    self.open_heredoc = True
                    self.warnings.append(
                        f"bash: line {text.rstrip(chr(10)).count(chr(10)) + 1}: warning: here-document at line {line} "
                        f"delimited by end-of-file (wanted `{delim}')\n")
                    break
                end = text.find("\n", self.pos)
                end = len(text) if end < 0 else end
                row = text[self.pos:end]
                self.pos = min(end + 1, len(text))
                if strip:
                    row = row.lstrip("\t")
                if row == delim:
                    break
                body.append(row + "\n")
            data = "".join(body)
            if quoted:
                redir.target = Word([Lit(data, True)], data)
            else:
                redir.target = Word(Parser(data)._heredoc_parts(), data)
        self._heredocs.clear()

    def _heredoc_parts(self) -> list[Part]:
        """An unquoted here-document's body: `$` expansions and `\\$ \\` \\\\ \\newline` escapes only."""
        parts: list[Part] = []

        def lit(s: str, q: bool) -> None:
            parts.append(Lit(s, True))   # joined once, at the end (_joined)

        text = self.text
        lit("", True)
        while self.pos < len(text):
            c = text[self.pos]
            if c == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in "$`\\\n":
                if text[self.pos + 1] != "\n":
                    lit(text[self.pos + 1], True)
                self.pos += 2
            elif c == "`":
                raise Unsupported("backquote command substitution is not supported; use $(...)")
            elif c == "$":
                self._lex_dollar(parts, lit, quoted=True)
            else:
                lit(c, True)
                self.pos += 1
        return _joined(parts)

    def _match_brace(self, p: int) -> int:
        """Index of the `}` closing a `${` whose body starts at p."""
        text = self.text
        depth = 1
        while p < len(text):
            c = text[p]
            if c == "\\":
                p += 2
                continue
            if c == "'":
                end = text.find("'", p + 1)
                if end < 0:
                    break
                p = end + 1
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return p
            p += 1
        raise self._eof_matching("}")

    def _param_expr(self, body: str, quoted: bool) -> Param:
        if body.startswith("#") and len(body) > 1:
            name = body[1:]
            if NAME.fullmatch(name) or name in ("?", "#") or name.isdigit():
                return Param(name, quoted, "#")
        m = NAME.match(body)
        if m:
            name = m.group()
        elif body[:1] and (body[0] in "?#@*" or body[0].isdigit()):
            name = body[0]
        else:
            raise Unsupported(f"the parameter expansion ${{{body}}} is not supported")
        rest = body[len(name):]
        if not rest:
            return Param(name, quoted)
        for op in (":-", ":=", ":+", ":?", "-", "=", "+", "?"):
            if rest.startswith(op):
                arg = Parser(rest[len(op):])._brace_word()
                return Param(name, quoted, op, arg)
        for op in ("##", "#", "%%", "%"):   # remove a matching prefix / suffix
            if rest.startswith(op):
                return Param(name, quoted, "del" + op, Parser(rest[len(op):])._brace_word(pattern=True))
        if rest.startswith("/"):            # ${NAME/pattern/string}, //, /#, /%
            op = "sub/"
            p = 1
            if rest[1:2] in ("/", "#", "%"):
                op += rest[1]
                p = 2
            sub = Parser(rest, p)
            pat = sub._brace_word(pattern=True, stop="/")
            repl = Parser(rest, sub.pos + 1)._brace_word() if sub.pos < len(rest) else []
            return Param(name, quoted, op, pat, repl)
        if rest.startswith(":"):            # ${NAME:offset} and ${NAME:offset:length}
            off, colon, length = rest[1:].partition(":")
            return Param(name, quoted, "slice", Parser(off)._brace_word(),
                         Parser(length)._brace_word() if colon else None)
        raise Unsupported(f"the parameter expansion ${{{body}}} is not supported")

    def _brace_word(self, pattern: bool = False, stop: str = "") -> list[Part]:
        """The word inside ${NAME:-word}: quotes and expansions, its result never split.

        With `pattern`, unquoted text stays unquoted (a pattern: `${x#*.}`); `stop` ends
        the word at an unquoted character (the `/` between a pattern and its replacement).
        """
        parts: list[Part] = []

        def lit(s: str, q: bool) -> None:
            parts.append(Lit(s, q or not pattern))   # joined once, at the end (_joined)

        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in stop:
                break
            if c == "\\" and self.pos + 1 < len(text):
                lit(text[self.pos + 1], True)
                self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise self._eof_matching("'")
                lit(text[self.pos + 1:end], True)
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                self._lex_dquote(parts, lit)
            elif c == "$":
                self._lex_dollar(parts, lit, quoted=not pattern)
            else:
                lit(c, False)
                self.pos += 1
        return _joined(parts)

    def _ansi_c(self) -> str:
        """The body of $'...' with its backslash escapes decoded (bash QUOTING)."""
        text = self.text
        out: list[str] = []
        simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b",
                  "E": "\x1b", "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
        while True:
            if self.pos >= len(text):
                raise self._eof_matching("'")
            c = text[self.pos]
            if c == "'":
                self.pos += 1
                return "".join(out)
            if c == "\\" and self.pos + 1 < len(text):
                e = text[self.pos + 1]
                self.pos += 2
                if e in simple:
                    out.append(simple[e])
                elif e in "01234567":
                    m = re.match(r"[0-7]{0,2}", text[self.pos:])
                    digits = e + (m.group() if m else "")
                    self.pos += len(digits) - 1
                    out.append(chr(int(digits, 8) & 0xFF))
                elif e == "x" and re.match(r"[0-9A-Fa-f]", text[self.pos:self.pos + 1]):
                    m = re.match(r"[0-9A-Fa-f]{1,2}", text[self.pos:])
                    assert m is not None
                    self.pos += len(m.group())
                    out.append(chr(int(m.group(), 16)))
                else:
                    out.append("\\" + e)
                continue
            out.append(c)
            self.pos += 1

    # -- grammar

    def _skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.next()

    def _is_reserved(self, tok: Token, *words: str) -> bool:
        """A reserved word: recognised only unquoted, in command position (bash SHELL GRAMMAR)."""
        return tok.kind == "word" and tok.value in words

    def _expect(self, word: str) -> None:
        tok = self.peek()
        if not self._is_reserved(tok, word):
            if tok.kind == "eof":
                raise self._eof()
            raise self._unexpected(tok)
        self.next()

    def parse_line(self) -> CommandList:
        body = self.parse_list()
        tok = self.peek()
        if tok.kind != "eof":
            raise self._unexpected(tok)
        if self._heredocs:  # `cat <<EOF` with no newline after it: an empty body, as bash warns
            self.text += "\n"
            self._read_heredocs()
        return body

    def parse_next(self) -> CommandList | None:
        """The next line of a script (and-or lists up to a newline), None at its end.

        bash reads a script this way: each line is parsed, then run, so a syntax
        error on line 5 stops the script after lines 1 to 4 ran.
        """
        self._skip_newlines()
        if self.peek().kind == "eof":
            if self._heredocs:
                self.text += "\n"
                self._read_heredocs()
            return None
        items: list[AndOr] = []
        while True:
            item = self._and_or()
            items.append(item)
            tok = self.peek()
            if tok.kind == "op" and tok.value in (";", "&"):
                item.background = tok.value == "&"
                self.next()
                tok = self.peek()
                if tok.kind in ("newline", "eof"):
                    if tok.kind == "newline":
                        self.next()
                    return CommandList(items)
                continue
            if tok.kind == "newline":
                self.next()
                return CommandList(items)
            if tok.kind == "eof":
                if self._heredocs:
                    self.text += "\n"
                    self._read_heredocs()
                return CommandList(items)
            raise self._unexpected(tok)

    def take_warnings(self) -> list[str]:
        """The warnings (here-documents ended by the end of the text) seen so far, once."""
        out, self.warnings = self.warnings, []
        return out

    def parse_list(self) -> CommandList:
        """and-or lists separated by `;`, `&` or newlines, up to a token that closes the enclosing construct."""
        items: list[AndOr] = []
        self._skip_newlines()
        while True:
            tok = self.peek()
            if tok.kind == "eof" or (tok.kind == "op" and tok.value in (")", ";;", ";&", ";;&")) \
                    or self._is_reserved(tok, *CLOSERS):
                return CommandList(items)
            item = self._and_or()
            items.append(item)
            tok = self.peek()
            if tok.kind == "op" and tok.value == "&":
                item.background = True
            if (tok.kind == "op" and tok.value in (";", "&")) or tok.kind == "newline":
                self.next()
                self._skip_newlines()
                continue
            return CommandList(items)

    def _body(self, closer: str) -> CommandList:
        """A compound command's list, which bash requires to hold a command."""
        body = self.parse_list()
        if not body.items:
            tok = self.peek()
            raise self._eof() if tok.kind == "eof" else self._unexpected(tok)
        self._expect(closer)
        return body

    def _and_or(self) -> AndOr:
        first = self._pipeline()
        rest: list[tuple[str, Pipeline]] = []
        while self.peek().kind == "op" and self.peek().value in ("&&", "||"):
            op = self.next().value
            self._skip_newlines()
            if self.peek().kind == "eof":
                raise self._eof()
            rest.append((op, self._pipeline()))
        return AndOr(first, rest)

    def _pipeline(self) -> Pipeline:
        negate = False
        while True:
            tok = self.peek()
            if tok.kind == "word" and tok.value == "!":
                self.next()
                negate = not negate
            else:
                break
        commands = [self._command()]
        stderr_too: list[bool] = []
        while self.peek().kind == "op" and self.peek().value in ("|", "|&"):
            stderr_too.append(self.next().value == "|&")
            self._skip_newlines()
            if self.peek().kind == "eof":
                raise self._eof()
            commands.append(self._command())
        stderr_too.append(False)
        return Pipeline(negate, commands, stderr_too)

    def _command(self) -> Command:
        tok = self.peek()
        lineno = tok.lineno
        if tok.kind == "op" and tok.value == "(":
            self.next()
            if self.text.startswith("(", self.pos) and self._peeked is None:
                return self._arith_command(lineno)
            body = self.parse_list()
            close = self.peek()
            if not body.items or close.kind != "op" or close.value != ")":
                raise self._eof() if close.kind == "eof" else self._unexpected(close)
            self.next()
            return self._redirects_after(Group(body, True, lineno=lineno))
        if tok.kind != "word":
            return self._simple()
        if self._is_reserved(tok, *CLOSERS):
            raise self._unexpected(tok)
        if tok.value == "{":
            self.next()
            return self._redirects_after(Group(self._body("}"), False, lineno=lineno))
        if tok.value == "if":
            self.next()
            return self._redirects_after(self._if(lineno))
        if tok.value in ("while", "until"):
            self.next()
            cond = self._body("do")
            body = self._body("done")
            return self._redirects_after(While(cond, body, tok.value == "until", lineno=lineno))
        if tok.value == "for":
            self.next()
            return self._redirects_after(self._for(lineno))
        if tok.value == "case":
            self.next()
            return self._redirects_after(self._case(lineno))
        if tok.value == "function":
            self.next()
            name = self.next()
            if name.kind != "word" or not NAME.fullmatch(name.value):
                raise self._eof() if name.kind == "eof" else self._unexpected(name)
            if self.peek().kind == "op" and self.peek().value == "(":
                self.next()
                close = self.next()
                if close.kind != "op" or close.value != ")":
                    raise self._unexpected(close)
            return self._function_body(name.value, lineno)
        if tok.value == "[[":
            self.next()
            return self._redirects_after(self._cond_command(lineno))
        if tok.value in ("]]", "select", "time", "coproc"):
            raise Unsupported(f"the shell keyword '{tok.value}' is not supported")
        return self._simple()

    # -- [[ expression ]] (bash CONDITIONAL EXPRESSIONS)

    def _cond_command(self, lineno: int) -> Cond:
        tokens: list[Token] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                raise self._eof()
            if tok.kind == "newline":
                continue
            if tok.kind == "word" and tok.value == "]]":
                break
            tokens.append(tok)
            if tok.kind == "word" and tok.value == "=~":   # the regex is one word, ( | ) and all
                while self.pos < len(self.text) and self.text[self.pos] in " \t":
                    self.pos += 1
                tokens.append(self._lex_word(self.lineno_at(), stop=" \t\n"))
        if not tokens:
            raise self._cond_error(lineno, "]]")
        cond = _CondParser(tokens, self, lineno)
        expr = cond.or_expr()
        if cond.i != len(tokens):
            raise self._cond_error(lineno, cond.shown(cond.i))
        return Cond(expr, lineno=lineno)

    def lineno_at(self) -> int:
        return self._lineno()

    def _cond_error(self, lineno: int, near: str) -> BashSyntaxError:
        line = self.text.splitlines()[lineno - 1] if self.text.strip() else self.text
        return BashSyntaxError(
            f"bash: -c: line {lineno}: syntax error in conditional expression: unexpected token `{near}'\n"
            f"bash: -c: line {lineno}: syntax error near `{near}'\n"
            f"bash: -c: line {lineno}: `{line}'\n")

    def _arith_command(self, lineno: int) -> ArithCmd:
        """`(( expr ))`; the lexer stands just after the first `(`."""
        end = self._arith_end(self.pos + 1)
        raw = self.text[self.pos + 1:end]
        self.pos = end + 2
        return self._redirects_after(ArithCmd(Word(Parser(raw)._brace_word(), raw), lineno=lineno))

    def _function_body(self, name: str, lineno: int) -> FuncDef:
        self._skip_newlines()
        tok = self.peek()
        if tok.kind == "eof":
            raise self._eof()
        if not (self._is_reserved(tok, "{", "if", "while", "until", "for", "case")
                or (tok.kind == "op" and tok.value == "(")):
            raise self._unexpected(tok)
        return FuncDef(name, self._command(), lineno)

    def _if(self, lineno: int) -> If:
        clauses: list[tuple[CommandList, CommandList]] = []
        orelse: CommandList | None = None
        while True:
            cond = self._body("then")
            body = self.parse_list()
            if not body.items:
                tok = self.peek()
                raise self._eof() if tok.kind == "eof" else self._unexpected(tok)
            clauses.append((cond, body))
            tok = self.peek()
            if self._is_reserved(tok, "elif"):
                self.next()
                continue
            if self._is_reserved(tok, "else"):
                self.next()
                orelse = self._body("fi")
                break
            self._expect("fi")
            break
        return If(clauses, orelse, lineno=lineno)

    def _for(self, lineno: int) -> For | ArithFor:
        if self.peek().kind == "op" and self.peek().value == "(" and self.text.startswith("(", self.pos):
            self.next()
            end = self._arith_end(self.pos + 1)
            raw = self.text[self.pos + 1:end]
            self.pos = end + 2
            exprs = raw.split(";")
            if len(exprs) != 3:
                raise BashSyntaxError(f"bash: -c: line {lineno}: syntax error: `(({raw}))'\n")
            parts = [Word(Parser(e)._brace_word(), e) for e in exprs]
            tok = self.peek()
            if tok.kind == "op" and tok.value == ";" or tok.kind == "newline":
                self.next()
            self._skip_newlines()
            self._expect("do")
            return ArithFor(parts[0], parts[1], parts[2], self._body("done"), lineno=lineno)
        name = self.next()
        if name.kind != "word" or not NAME.fullmatch(name.value):
            if name.kind == "eof":
                raise self._eof()
            raise BashSyntaxError(f"bash: -c: line {name.lineno}: `{name.value}': not a valid identifier\n", status=1)
        words: list[Word] | None = None
        self._skip_newlines()
        tok = self.peek()
        if self._is_reserved(tok, "in"):
            self.next()
            words = []
            while self.peek().kind == "word":
                w = self.next().word
                assert w is not None
                self._check_word(w)
                words.extend(brace_expand(w))
            tok = self.peek()
            if not ((tok.kind == "op" and tok.value == ";") or tok.kind == "newline"):
                raise self._eof() if tok.kind == "eof" else self._unexpected(tok)
            self.next()
        elif tok.kind == "op" and tok.value == ";":
            self.next()
        self._skip_newlines()
        self._expect("do")
        return For(name.value, words, self._body("done"), lineno=lineno)

    def _case(self, lineno: int) -> Case:
        tok = self.next()
        if tok.kind != "word":
            raise self._eof() if tok.kind == "eof" else self._unexpected(tok)
        assert tok.word is not None
        subject = tok.word
        self._skip_newlines()
        self._expect("in")
        items: list[tuple[list[Word], CommandList, str]] = []
        while True:
            self._skip_newlines()
            tok = self.peek()
            if self._is_reserved(tok, "esac"):
                self.next()
                break
            if tok.kind == "op" and tok.value == "(":
                self.next()
            patterns: list[Word] = []
            while True:
                pat = self.next()
                if pat.kind != "word":
                    raise self._eof() if pat.kind == "eof" else self._unexpected(pat)
                assert pat.word is not None
                patterns.append(pat.word)
                sep = self.next()
                if sep.kind == "op" and sep.value == "|":
                    continue
                if sep.kind == "op" and sep.value == ")":
                    break
                raise self._eof() if sep.kind == "eof" else self._unexpected(sep)
            body = self.parse_list()
            tok = self.peek()
            if tok.kind == "op" and tok.value in (";;", ";&", ";;&"):
                self.next()
                items.append((patterns, body, tok.value))
                continue
            items.append((patterns, body, ";;"))
            self._expect("esac")
            break
        return Case(subject, items, lineno=lineno)

    def _redirects_after(self, cmd: Any) -> Any:
        """Redirections after a compound command (`done > file`); any other word is an error."""
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.value in REDIRECT_OPS:
                self.next()
                cmd.redirects.append(self._redirect_from(tok))
            elif tok.kind == "word":
                raise self._unexpected(tok)
            else:
                return cmd

    def _redirect_from(self, op: Token) -> Redirect:
        target = self.peek()
        if target.kind != "word":
            raise self._unexpected(target)
        self.next()
        assert target.word is not None
        redir = Redirect(op.fd, op.value, target.word)
        if op.value in ("<<", "<<-"):
            word = target.word
            quoted = any(isinstance(p, Lit) and p.quoted for p in word.parts) or any(
                c in word.raw for c in "'\"\\")
            delim = "".join(p.text if isinstance(p, Lit) else word.raw for p in word.parts)
            self._heredocs.append((redir, delim, op.value == "<<-", quoted, target.lineno))
        else:
            self._check_redirect(redir)
        return redir

    def _simple(self) -> Simple:
        cmd = Simple(lineno=self.peek().lineno)
        while True:
            tok = self.peek()
            if tok.kind == "word":
                self.next()
                word = tok.word
                assert word is not None
                if not cmd.words:
                    assign = self._as_assignment(word)
                    if assign is not None:
                        cmd.assigns.append(assign)
                        continue
                    nxt = self.peek()
                    if (nxt.kind == "op" and nxt.value == "(" and not cmd.assigns and not cmd.redirects
                            and NAME.fullmatch(tok.value)):
                        self.next()
                        close = self.next()
                        if close.kind != "op" or close.value != ")":
                            raise self._unexpected(close)
                        return self._function_body(tok.value, cmd.lineno)  # type: ignore[return-value]
                self._check_word(word)
                cmd.words.extend(brace_expand(word))
            elif tok.kind == "op" and tok.value in REDIRECT_OPS:
                self.next()
                cmd.redirects.append(self._redirect_from(tok))
            elif tok.kind == "op" and tok.value == "(":
                if cmd.assigns and not cmd.words and not cmd.assigns[-1][2].raw:
                    raise Unsupported(f"arrays are not supported: {cmd.assigns[-1][0]}=(...)")
                raise self._unexpected(tok)
            else:
                break
        if not (cmd.words or cmd.assigns or cmd.redirects):
            tok = self.peek()
            raise self._eof() if tok.kind == "eof" else self._unexpected(tok)
        return cmd

    @staticmethod
    def _as_assignment(word: Word) -> tuple[str, bool, Word] | None:
        first = word.parts[0] if word.parts else None
        if not isinstance(first, Lit) or first.quoted:
            return None
        m = ASSIGN.match(first.text)
        if not m:
            return None
        rest = first.text[m.end():]
        if rest.startswith("(") and len(word.parts) == 1:
            raise Unsupported(f"arrays are not supported: {word.raw}")
        value_parts: list[Part] = ([Lit(rest, False)] if rest else []) + word.parts[1:]
        value = Word(value_parts, word.raw[m.end():])
        Parser._check_word(value, assignment=True)
        return m.group(1), m.group(2) == "+", value

    @staticmethod
    def _check_word(word: Word, assignment: bool = False) -> None:
        """Turn a leading `~` (and, in an assignment, one after `:`) into the home folder
        (bash Tilde Expansion)."""
        first = word.parts[0] if word.parts else None
        if not isinstance(first, Lit) or first.quoted or "~" not in first.text:
            return
        text = first.text
        out: list[Part] = []
        m = ASSIGN.match(text) if not assignment else None
        if m:   # `echo x=~/a`: bash expands after the `=` of a word that looks like an assignment
            out.append(Lit(text[:m.end()], False))
            text, assignment = text[m.end():], True
        pieces = text.split(":") if assignment else [text]
        for k, piece in enumerate(pieces):
            if k:
                out.append(Lit(":", False))
            user, slash, rest = piece[1:].partition("/")
            quoted_tail = k == len(pieces) - 1 and len(word.parts) > 1 and not slash   # ~"x": no expansion
            if piece.startswith("~") and not quoted_tail:
                if user not in ("", "root"):
                    raise Unsupported(f"tilde expansion of ~{user} is not supported: {word.raw}")
                out.append(Param("~", True))
                piece = slash + rest
            if piece:
                out.append(Lit(piece, False))
        word.parts[0:1] = out

    @staticmethod
    def _check_redirect(redir: Redirect) -> None:
        fd, op = redir.fd, redir.op
        shown = f"{'' if fd is None else fd}{op}{redir.target.raw}"
        if op in ("<>",) or (op == "<&"):
            raise Unsupported(f"the redirection {shown} is not supported")
        if fd is not None and fd not in (0, 1, 2) and not (
                op in (">", ">>", ">|") and redir.target.literal() == "/dev/null"):
            raise Unsupported(f"file descriptors other than 0, 1 and 2 are not supported: {shown}")
        target = redir.target.literal()
        if op == ">&" and target is not None and target.isdigit() and target not in ("0", "1", "2"):
            raise Unsupported(f"file descriptors other than 0, 1 and 2 are not supported: {shown}")
        if op in (">&", "<&") and target == "-":
            raise Unsupported(f"closing a file descriptor is not supported: {shown}")


_PLAIN = re.compile(r"[^'\"\\`$<>(){}\[\]|&;#\n]*")
_OPENERS = frozenset({"if", "then", "elif", "else", "for", "while", "until", "do", "case", "function", "select"})


_SEQ_NUM = re.compile(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?")
_SEQ_CHR = re.compile(r"([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?")


def _brace_group(text: str) -> tuple[int, int, list[str]] | None:
    """The first brace expression in unquoted text: (start, end, its alternatives), or None."""
    i = text.find("{")
    while i >= 0:
        depth, j, commas = 0, i, []
        while j < len(text):
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            elif c == "," and depth == 1:
                commas.append(j)
            j += 1
        if j < len(text):
            body = text[i + 1:j]
            if commas:
                cuts = [i, *commas, j]
                return i, j, [text[a + 1:b] for a, b in zip(cuts, cuts[1:])]
            seq = _sequence(body)
            if seq is not None:
                return i, j, seq
        i = text.find("{", i + 1)
    return None


def _sequence(body: str) -> list[str] | None:
    """`1..10`, `01..10` (zero-padded), `10..1`, `a..e`, with an optional `..STEP`."""
    m = _SEQ_NUM.fullmatch(body)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        pad = any(len(g.lstrip("-")) > 1 and g.lstrip("-").startswith("0") for g in m.groups()[:2])
        width = max(len(m.group(1)), len(m.group(2))) if pad else 0
        values = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [str(v).zfill(width) if width else str(v) for v in values]
    m = _SEQ_CHR.fullmatch(body)
    if m:
        a, b = ord(m.group(1)), ord(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        values = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [chr(v) for v in values]
    return None


def brace_expand(word: Word) -> list[Word]:
    """bash Brace Expansion, before any other: `v{1..3}` is three words, `{a,b}c` two.

    A brace expression must lie within one unquoted stretch of the word; one that
    spans a quote or an expansion (`{a,$x}`) is refused rather than left as typed.
    """
    for idx, part in enumerate(word.parts):
        if not isinstance(part, Lit) or part.quoted or "{" not in part.text:
            continue
        found = _brace_group(part.text)
        if found is None:
            continue
        start, end, alts = found
        out: list[Word] = []
        for alt in alts:
            text = part.text[:start] + alt + part.text[end + 1:]
            out.extend(brace_expand(Word([*word.parts[:idx], Lit(text, False), *word.parts[idx + 1:]], word.raw)))
        return out
    if len(word.parts) > 1 and any(isinstance(p, Lit) and not p.quoted and "{" in p.text for p in word.parts):
        # quoted text and expansions stand for one opaque character each
        flat = "".join(p.text if isinstance(p, Lit) and not p.quoted else "\0" for p in word.parts)
        if _brace_group(flat) is not None:
            raise Unsupported(f"brace expansion across quotes or expansions is not supported: {word.raw}")
    return [word]


def complete(text: str) -> bool:
    """True when `text` is a whole command: no construct, quote or here-document left open.

    A scenario's setup is read as a script: lines are joined until they form a
    complete command (a here-document or a `for` loop spans lines).
    """
    words = text.split(None, 1)
    if _PLAIN.fullmatch(text) and (not words or words[0] not in _OPENERS):
        return True    # the common line (`ip addr add ...`): nothing that could stay open
    if (len(text) - len(text.rstrip("\\"))) % 2:
        return False   # a backslash-newline continues the command on the next line
    try:
        parser = Parser(text)
        parser.parse_line()
    except BashSyntaxError as e:
        return not e.at_eof
    except Unsupported:
        return True
    return not parser.open_heredoc
