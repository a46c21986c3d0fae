"""The shell-line interpreter: what `bash -c LINE` does, for the lines netplex runs.

A user (or a domain system acting as an agent) types the same lines on the
simulator as on the kernel twin, where they run under bash. `Shell.run`
therefore follows bash(1) for the subset it accepts, and rejects the rest
with status 2 and a `netplex: ... is not supported` message instead of
guessing:

- words: single quotes, double quotes (with `$VAR`, `${VAR}`, `$?`, `$(...)`
  and backslash escapes inside), `$'...'`, backslash escapes, `#` comments;
- lists and pipelines: `;`, newline, `&&`, `||`, `|`, `|&`, `!`;
- `VAR=value` (persists in the Shell) and `VAR=value cmd` (for that command);
- expansions: `$NAME`, `${NAME}`, `${NAME:-word}` and friends, `${#NAME}`,
  `$?`, `$0`, `$#`, `$(...)`, with word splitting of unquoted results;
- redirections among stdout, stderr and /dev/null (`>/dev/null`,
  `2>/dev/null`, `&>/dev/null`, `2>&1`, `>&2`, `</dev/null`).

Rejected (status 2, nothing run): redirections to or from files, here-docs,
background `&`, subshells `( )`, groups `{ }`, compound commands (`if`,
`for`, `while`, `case`, …), backquotes, arithmetic `$((...))`, brace and
tilde expansion. Glob characters are left as typed (bash's result when no
file matches). The whole line is parsed before anything runs, as bash does,
so a syntax error or a rejection changes nothing.

Builtins that change the shell itself (`export`, `unset`, `exit`, `:`) live
here; every other command comes from the `COMMANDS` registry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Union

from netplex.shell import coreutils as _coreutils  # noqa: F401  (registers the text tools)
from netplex.shell.registry import COMMANDS, CommandFn, Context
from netplex.shell.result import Result

__all__ = ["Shell"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_IFS_SPLIT = re.compile(r"[ \t\n]+")
_BRACE = re.compile(r"\{[^{}\s]*(,|\.\.)[^{}\s]*\}")
_KEYWORDS = frozenset(
    "if then else elif fi for while until do done case esac function select "
    "time coproc { } [[ ]]".split()
)
_OPERATORS = (  # longest first
    "&>>", "<<<", "<<-", "&&", "||", ";;", "|&", ">>", ">|", "<<", "<>", ">&", "<&", "&>",
    ";", "&", "|", "<", ">", "(", ")",
)
_REDIRECT_OPS = frozenset({">", ">>", ">|", "<", "<<", "<<-", "<<<", "<>", ">&", "<&", "&>", "&>>"})
_META = " \t\n;&|<>()"


# ---------------------------------------------------------------- errors


class _SyntaxError(Exception):
    """A line bash would refuse to parse; the message is bash's."""


class _Unsupported(Exception):
    """A construct netplex does not run; the message says which."""


class _Exit(Exception):
    """`exit N`: ends the line (or the enclosing command substitution)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(status)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- syntax tree

# A word is a list of parts; `quoted` parts never split and keep "" alive.
@dataclass(slots=True)
class _Lit:
    text: str
    quoted: bool


@dataclass(slots=True)
class _Param:
    name: str
    quoted: bool
    op: str = ""  # "", ":-", "-", ":=", "=", ":+", "+", ":?", "?", "#" (length)
    arg: list[_Part] | None = None


@dataclass(slots=True)
class _Subst:
    body: _List
    quoted: bool


_Part = Union[_Lit, _Param, _Subst]


@dataclass(slots=True)
class _Word:
    parts: list[_Part]
    raw: str

    def literal(self) -> str | None:
        """The word's text when it contains no expansion, else None."""
        if all(isinstance(p, _Lit) for p in self.parts):
            return "".join(p.text for p in self.parts)  # type: ignore[union-attr]
        return None


@dataclass(slots=True)
class _Redirect:
    fd: int | None
    op: str
    target: _Word


@dataclass(slots=True)
class _Simple:
    assigns: list[tuple[str, bool, _Word]] = field(default_factory=list)  # name, append, value
    words: list[_Word] = field(default_factory=list)
    redirects: list[_Redirect] = field(default_factory=list)
    lineno: int = 1


@dataclass(slots=True)
class _Pipeline:
    negate: bool
    commands: list[_Simple]
    stderr_too: list[bool]  # per command: joined to the next by `|&`


@dataclass(slots=True)
class _AndOr:
    first: _Pipeline
    rest: list[tuple[str, _Pipeline]]


@dataclass(slots=True)
class _List:
    items: list[_AndOr]


@dataclass(slots=True)
class _Tok:
    kind: str  # "word", "op", "newline", "eof"
    value: str = ""
    word: _Word | None = None
    fd: int | None = None  # an IO number before a redirection operator
    lineno: int = 1


# ---------------------------------------------------------------- parser


class _Parser:
    """Lexer and recursive-descent parser over one line (bash's grammar subset)."""

    def __init__(self, text: str, pos: int = 0, nested: bool = False) -> None:
        self.text = text
        self.pos = pos
        self.nested = nested  # inside $( ... ): `)` ends the list
        self._peeked: _Tok | None = None

    # -- errors

    def _lineno(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def _unexpected(self, tok: _Tok) -> _SyntaxError:
        name = {"newline": "newline", "eof": "newline"}.get(tok.kind, tok.value)
        if tok.kind == "word":
            name = tok.word.raw  # type: ignore[union-attr]
        line = self._lineno()
        src = self.text.splitlines()[line - 1] if self.text.strip() else self.text
        return _SyntaxError(
            f"bash: -c: line {line}: syntax error near unexpected token `{name}'\n"
            f"bash: -c: line {line}: `{src}'\n"
        )

    def _eof(self) -> _SyntaxError:
        return _SyntaxError(
            f"bash: -c: line {self._lineno(len(self.text)) + 1}: syntax error: unexpected end of file\n"
        )

    def _eof_matching(self, ch: str, extra_line: bool = False) -> _SyntaxError:
        line = self._lineno(len(self.text)) + (1 if extra_line else 0)
        return _SyntaxError(f"bash: -c: line {line}: unexpected EOF while looking for matching `{ch}'\n")

    # -- lexer

    def peek(self) -> _Tok:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> _Tok:
        tok = self.peek()
        self._peeked = None
        return tok

    def _lex(self) -> _Tok:
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
            return _Tok("eof", lineno=lineno)
        c = text[self.pos]
        if c == "\n":
            self.pos += 1
            return _Tok("newline", "\n", lineno=lineno)
        for op in _OPERATORS:
            if text.startswith(op, self.pos):
                self.pos += len(op)
                return _Tok("op", op, lineno=lineno)
        return self._lex_word(lineno)

    def _lex_word(self, lineno: int) -> _Tok:
        text = self.text
        n = len(text)
        start = self.pos
        parts: list[_Part] = []

        def lit(s: str, quoted: bool) -> None:
            if parts and isinstance(parts[-1], _Lit) and parts[-1].quoted == quoted:
                parts[-1].text += s
            else:
                parts.append(_Lit(s, quoted))

        while self.pos < n:
            c = text[self.pos]
            if c in _META:
                if c in "<>" and len(parts) == 1 and isinstance(parts[0], _Lit) \
                        and not parts[0].quoted and parts[0].text.isdigit():
                    # `2>`: an IO number, not a word
                    for op in _OPERATORS:
                        if text.startswith(op, self.pos):
                            self.pos += len(op)
                            return _Tok("op", op, fd=int(parts[0].text), lineno=lineno)
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
                raise _Unsupported("backquote command substitution is not supported; use $(...)")
            elif c == "$":
                self._lex_dollar(parts, lit, quoted=False)
            else:
                lit(c, False)
                self.pos += 1
        raw = text[start:self.pos]
        return _Tok("word", raw, word=_Word(parts, raw), lineno=lineno)

    def _lex_dquote(self, parts: list[_Part], lit: Callable[[str, bool], None]) -> None:
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
                raise _Unsupported("backquote command substitution is not supported; use $(...)")
            elif c == "$":
                self._lex_dollar(parts, lit, quoted=True)
            else:
                lit(c, True)
                self.pos += 1

    def _lex_dollar(self, parts: list[_Part], lit: Callable[[str, bool], None], quoted: bool) -> None:
        text = self.text
        n = len(text)
        p = self.pos + 1  # just after `$`
        nxt = text[p] if p < n else ""
        if text.startswith("((", p):
            raise _Unsupported("arithmetic expansion $((...)) is not supported")
        if nxt == "(":
            sub = _Parser(text, p + 1, nested=True)
            body = sub.parse_list()
            tok = sub.next()
            if tok.kind != "op" or tok.value != ")":
                if tok.kind == "eof":
                    raise self._eof_matching(")", extra_line=True)
                raise sub._unexpected(tok)
            self.pos = sub.pos
            parts.append(_Subst(body, quoted))
        elif nxt == "{":
            end = self._match_brace(p + 1)
            self.pos = end + 1
            parts.append(self._param_expr(text[p + 1:end], quoted))
        elif nxt and (nxt.isalpha() or nxt == "_"):
            m = _NAME.match(text, p)
            assert m is not None
            self.pos = m.end()
            parts.append(_Param(m.group(), quoted))
        elif nxt and (nxt.isdigit() or nxt in "?#@*"):
            self.pos = p + 1
            parts.append(_Param(nxt, quoted))
        elif nxt in ("$", "!", "-"):
            raise _Unsupported(f"the special parameter ${nxt} is not supported")
        elif nxt == "'" and not quoted:
            self.pos = p + 1
            lit(self._ansi_c(), True)
        elif nxt == '"' and not quoted:
            self.pos = p  # $"..." is "..." without a locale
        else:
            lit("$", quoted)
            self.pos = p

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

    def _param_expr(self, body: str, quoted: bool) -> _Param:
        if body.startswith("#") and len(body) > 1:
            name = body[1:]
            if _NAME.fullmatch(name) or name in ("?", "#") or name.isdigit():
                return _Param(name, quoted, "#")
        m = _NAME.match(body)
        if m:
            name = m.group()
        elif body[:1] and (body[0] in "?#@*" or body[0].isdigit()):
            name = body[0]
        else:
            raise _Unsupported(f"the parameter expansion ${{{body}}} is not supported")
        rest = body[len(name):]
        if not rest:
            return _Param(name, quoted)
        for op in (":-", ":=", ":+", ":?", "-", "=", "+", "?"):
            if rest.startswith(op):
                arg = _Parser(rest[len(op):])._brace_word()
                return _Param(name, quoted, op, arg)
        raise _Unsupported(f"the parameter expansion ${{{body}}} is not supported")

    def _brace_word(self) -> list[_Part]:
        """The word inside ${NAME:-word}: quotes and expansions, its result never split."""
        parts: list[_Part] = []

        def lit(s: str, q: bool) -> None:
            if parts and isinstance(parts[-1], _Lit):
                parts[-1].text += s
            else:
                parts.append(_Lit(s, True))

        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
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
                self._lex_dollar(parts, lit, quoted=True)
            else:
                lit(c, True)
                self.pos += 1
        return parts

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

    def parse_line(self) -> _List:
        body = self.parse_list()
        tok = self.peek()
        if tok.kind != "eof":
            raise self._unexpected(tok)
        return body

    def parse_list(self) -> _List:
        items: list[_AndOr] = []
        self._skip_newlines()
        while True:
            tok = self.peek()
            if tok.kind == "eof" or (self.nested and tok.kind == "op" and tok.value == ")"):
                return _List(items)
            items.append(self._and_or())
            tok = self.peek()
            if tok.kind == "op" and tok.value == "&":
                raise _Unsupported("background jobs (&) are not supported")
            if (tok.kind == "op" and tok.value == ";") or tok.kind == "newline":
                self.next()
                self._skip_newlines()
                continue
            return _List(items)

    def _and_or(self) -> _AndOr:
        first = self._pipeline()
        rest: list[tuple[str, _Pipeline]] = []
        while self.peek().kind == "op" and self.peek().value in ("&&", "||"):
            op = self.next().value
            self._skip_newlines()
            if self.peek().kind == "eof":
                raise self._eof()
            rest.append((op, self._pipeline()))
        return _AndOr(first, rest)

    def _pipeline(self) -> _Pipeline:
        negate = False
        while True:
            tok = self.peek()
            if tok.kind == "word" and tok.value == "!":
                self.next()
                negate = not negate
            else:
                break
        commands = [self._simple()]
        stderr_too: list[bool] = []
        while self.peek().kind == "op" and self.peek().value in ("|", "|&"):
            stderr_too.append(self.next().value == "|&")
            self._skip_newlines()
            if self.peek().kind == "eof":
                raise self._eof()
            commands.append(self._simple())
        stderr_too.append(False)
        return _Pipeline(negate, commands, stderr_too)

    def _simple(self) -> _Simple:
        cmd = _Simple(lineno=self.peek().lineno)
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
                    if word.literal() is not None and tok.value in _KEYWORDS:
                        what = "groups { ... }" if tok.value in "{}" else f"the shell keyword '{tok.value}'"
                        raise _Unsupported(f"{what} is not supported")
                self._check_word(word)
                cmd.words.append(word)
            elif tok.kind == "op" and tok.value in _REDIRECT_OPS:
                self.next()
                target = self.peek()
                if target.kind != "word":
                    raise self._unexpected(target)
                self.next()
                assert target.word is not None
                cmd.redirects.append(self._redirect(tok.fd, tok.value, target.word))
            elif tok.kind == "op" and tok.value == "(":
                if not cmd.words and not cmd.assigns and not cmd.redirects:
                    raise _Unsupported("subshells ( ... ) are not supported")
                raise self._unexpected(tok)
            else:
                break
        if not (cmd.words or cmd.assigns or cmd.redirects):
            raise self._unexpected(self.peek())
        return cmd

    @staticmethod
    def _as_assignment(word: _Word) -> tuple[str, bool, _Word] | None:
        first = word.parts[0] if word.parts else None
        if not isinstance(first, _Lit) or first.quoted:
            return None
        m = _ASSIGN.match(first.text)
        if not m:
            return None
        rest = first.text[m.end():]
        value_parts: list[_Part] = ([_Lit(rest, False)] if rest else []) + word.parts[1:]
        return m.group(1), m.group(2) == "+", _Word(value_parts, word.raw[m.end():])

    @staticmethod
    def _check_word(word: _Word) -> None:
        for i, part in enumerate(word.parts):
            if isinstance(part, _Lit) and not part.quoted:
                if i == 0 and part.text.startswith("~"):
                    raise _Unsupported(f"tilde expansion is not supported: {word.raw}")
                if _BRACE.search(part.text):
                    raise _Unsupported(f"brace expansion is not supported: {word.raw}")

    @staticmethod
    def _redirect(fd: int | None, op: str, target: _Word) -> _Redirect:
        redir = _Redirect(fd, op, target)
        shown = f"{'' if fd is None else fd}{op}{target.raw}"
        if op in ("<<", "<<-", "<<<", "<>", "<&"):
            raise _Unsupported(f"redirection to files is not supported: {shown}")
        lit = target.literal()
        if lit is not None:
            _redirect_plan(redir, lit)  # raises when the target is a file
        return redir


def _redirect_plan(redir: _Redirect, target: str) -> tuple[str, int, object]:
    """What a redirection does: ("null", fd, None) / ("dup", fd, from_fd) / ("stdin-null", 0, None).

    `fd` is -1 for `&>` (both stdout and stderr). Anything that would open a
    real file is rejected.
    """
    op, fd = redir.op, redir.fd
    shown = f"{'' if fd is None else fd}{op}{target}"
    if op == "<":
        if target == "/dev/null" and fd in (None, 0):
            return ("stdin-null", 0, None)
    elif op in ("&>", "&>>"):
        if target == "/dev/null":
            return ("null", -1, None)
    elif op == ">&":
        if target in ("1", "2") and fd in (None, 1, 2):
            return ("dup", 1 if fd is None else fd, int(target))
        if target == "/dev/null" and fd is None:
            return ("null", -1, None)
    elif target == "/dev/null":  # >, >>, >|
        return ("null", 1 if fd is None else fd, None)
    raise _Unsupported(f"redirection to files is not supported: {shown}")


# ---------------------------------------------------------------- the shell

_Builtin = Callable[["Shell", list[str], bool], Result]


class Shell:
    """One shell session: its variables and last status persist across lines.

    `node` is handed to every command as `ctx.node` and `machine` as
    `ctx.machine`; `read_file` and `sleep`
    are the host's (see `registry.Context`); `commands` defaults to the live
    `COMMANDS` table, so commands registered later are found.
    """

    def __init__(
        self,
        node: object = None,
        env: dict[str, str] | None = None,
        read_file: Callable[[str], str | None] | None = None,
        sleep: Callable[[int], None] | None = None,
        commands: dict[str, CommandFn] | None = None,
        machine: object = None,
    ) -> None:
        self.node = node
        self.machine = machine
        self.env: dict[str, str] = dict(env) if env else {}
        defaults = Context()
        self.read_file = read_file if read_file is not None else defaults.read_file
        self.sleep = sleep if sleep is not None else defaults.sleep
        self.commands = COMMANDS if commands is None else commands
        self.status = 0  # $?

    def run(self, line: str) -> Result:
        """Run one line, as `bash -c LINE` would; returns all stdout and stderr it produced."""
        try:
            body = _Parser(line).parse_line()
        except _SyntaxError as e:
            self.status = 2
            return Result(2, "", str(e))
        except _Unsupported as e:
            self.status = 2
            return Result(2, "", f"netplex: {e}\n")
        out: list[str] = []
        err: list[str] = []
        try:
            self._run_list(body, out, err)
        except _Exit as e:
            err.append(e.message)
            self.status = e.status
        except _Unsupported as e:
            err.append(f"netplex: {e}\n")
            self.status = 2
        return Result(self.status, "".join(out), "".join(err))

    # -- execution

    def _run_list(self, body: _List, out: list[str], err: list[str]) -> None:
        for item in body.items:
            self._run_pipeline(item.first, out, err)
            for op, pipeline in item.rest:
                if (op == "&&") == (self.status == 0):
                    self._run_pipeline(pipeline, out, err)

    def _run_pipeline(self, pipeline: _Pipeline, out: list[str], err: list[str]) -> None:
        data = ""
        status = 0
        alone = len(pipeline.commands) == 1
        for cmd, stderr_too in zip(pipeline.commands, pipeline.stderr_too):
            try:
                status, data, stage_err = self._run_simple(cmd, data, err, alone, stderr_too)
            except _Exit as e:
                if alone:
                    raise
                status, data, stage_err = e.status, "", e.message
            err.append(stage_err)
        out.append(data)
        if pipeline.negate:
            status = 0 if status else 1
        self.status = status

    def _run_simple(
        self, cmd: _Simple, stdin: str, err: list[str], alone: bool, stderr_too: bool
    ) -> tuple[int, str, str]:
        """Run one simple command; returns (status, stdout text, stderr text) after redirections."""
        self._subst_status: int | None = None
        argv: list[str] = []
        for word in cmd.words:
            argv.extend(self._expand(word, err))
        assigns = [(name, append, self._expand_joined(value, err)) for name, append, value in cmd.assigns]
        plans = [_redirect_plan(r, self._expand_joined(r.target, err)) for r in cmd.redirects]

        if not argv:
            if alone:
                for name, append, value in assigns:
                    self.env[name] = self.env.get(name, "") + value if append else value
            status = self._subst_status if self._subst_status is not None else 0
            return status, "", ""

        env = dict(self.env)
        for name, append, value in assigns:
            env[name] = env.get(name, "") + value if append else value
        for kind, _, _ in plans:
            if kind == "stdin-null":
                stdin = ""
        name = argv[0]
        builtin = _BUILTINS.get(name)
        if builtin is not None:
            result = builtin(self, argv, alone)
        else:
            fn = self.commands.get(name)
            if fn is None:
                result = Result(127, "", f"bash: line {cmd.lineno}: {name}: command not found\n")
            else:
                ctx = Context(self.node, env, stdin, self.read_file, self.sleep, self.machine)
                result = fn(ctx, argv)
        return self._route(result, plans, stderr_too)

    @staticmethod
    def _route(result: Result, plans: list[tuple[str, int, object]], stderr_too: bool) -> tuple[int, str, str]:
        where = {1: 1, 2: 2}  # fd -> 1 (stdout), 2 (stderr) or 0 (/dev/null)
        for kind, fd, src in plans:
            if kind == "null":
                if fd == -1:
                    where[1] = where[2] = 0
                elif fd in where:
                    where[fd] = 0
            elif kind == "dup":
                where[fd] = where[src]  # type: ignore[index]
        if stderr_too:
            where[2] = where[1]
        sinks: dict[int, list[str]] = {0: [], 1: [], 2: []}
        sinks[where[1]].append(result.output)
        sinks[where[2]].append(result.error)
        return result.status, "".join(sinks[1]), "".join(sinks[2])

    # -- expansion

    def _param(self, part: _Param, err: list[str]) -> str:
        name = part.name
        value: str | None
        if name == "?":
            value = str(self.status)
        elif name == "#":
            value = "0"
        elif name == "0":
            value = "bash"
        elif name.isdigit() or name in "@*":
            value = None
        else:
            value = self.env.get(name)
        op = part.op
        if op == "#":
            return str(len(value or ""))
        if not op:
            return value or ""
        unset = value is None or (op.startswith(":") and value == "")
        base = op.lstrip(":")
        if base == "+":
            return "" if unset else self._expand_joined(_Word(part.arg or [], ""), err)
        if not unset:
            return value or ""
        arg = self._expand_joined(_Word(part.arg or [], ""), err)
        if base == "=":
            self.env[name] = arg
        elif base == "?":
            raise _Unsupported(f"${{{name}{op}...}} on an unset variable: {arg or 'parameter null or not set'}")
        return arg

    def _subst(self, part: _Subst, err: list[str]) -> str:
        saved_env = dict(self.env)  # $(...) runs in a subshell: its assignments vanish
        captured: list[str] = []
        try:
            self._run_list(part.body, captured, err)
        except _Exit as e:
            err.append(e.message)
            self.status = e.status
        finally:
            self.env = saved_env
        self._subst_status = self.status
        return "".join(captured).rstrip("\n")

    def _value(self, part: _Param | _Subst, err: list[str]) -> str:
        if isinstance(part, _Param):
            return self._param(part, err)
        return self._subst(part, err)

    def _expand_joined(self, word: _Word, err: list[str]) -> str:
        """A word expanded without field splitting (assignments, redirection targets)."""
        return "".join(p.text if isinstance(p, _Lit) else self._value(p, err) for p in word.parts)

    def _split(self, value: str) -> tuple[list[str], bool]:
        """Field-split an unquoted expansion on $IFS; True when empty fields count (IFS has non-blanks)."""
        ifs = self.env.get("IFS")
        if ifs is None:
            return (_IFS_SPLIT.split(value) if value else []), False
        if not ifs or not value:
            return ([value] if value else []), False
        blanks = "".join(c for c in ifs if c in " \t\n")
        others = "".join(c for c in ifs if c not in " \t\n")
        sep = f"[{re.escape(blanks)}]+" if blanks else ""
        if others:
            around = f"[{re.escape(blanks)}]*" if blanks else ""
            sep = f"{around}[{re.escape(others)}]{around}" + (f"|{sep}" if sep else "")
        return re.split(sep, value), bool(others)

    def _expand(self, word: _Word, err: list[str]) -> list[str]:
        """A word expanded into fields: unquoted expansions split on blanks (bash EXPANSION)."""
        fields: list[str] = []
        cur = ""
        have = False  # `cur` is a field, even if empty (it holds quoted text)
        for part in word.parts:
            if isinstance(part, _Lit):
                cur += part.text
                have = have or part.quoted or part.text != ""
                continue
            value = self._value(part, err)
            if part.quoted:
                cur += value
                have = True
                continue
            pieces, keep_empty = self._split(value)
            for i, piece in enumerate(pieces):
                if i > 0:
                    if have:
                        fields.append(cur)
                    cur, have = "", False
                if piece or (keep_empty and 0 < i < len(pieces) - 1):
                    cur += piece
                    have = True
        if have:
            fields.append(cur)
        return fields


# ---------------------------------------------------------------- builtins


def _export(shell: Shell, argv: list[str], alone: bool) -> Result:
    errors = []
    for arg in argv[1:]:
        if arg == "-n" or arg == "-p":
            continue
        name, eq, value = arg.partition("=")
        if not _NAME.fullmatch(name):
            errors.append(f"bash: line 1: export: `{arg}': not a valid identifier\n")
            continue
        if eq and alone:
            shell.env[name] = value
    return Result(1 if errors else 0, "", "".join(errors))


def _unset(shell: Shell, argv: list[str], alone: bool) -> Result:
    for arg in argv[1:]:
        if arg in ("-v", "-f"):
            continue
        if alone:
            shell.env.pop(arg, None)
    return Result(0)


def _exit(shell: Shell, argv: list[str], alone: bool) -> Result:
    if len(argv) < 2:
        raise _Exit(shell.status)
    try:
        raise _Exit(int(argv[1]) & 0xFF)
    except ValueError:
        raise _Exit(2, f"bash: line 1: exit: {argv[1]}: numeric argument required\n") from None


def _colon(shell: Shell, argv: list[str], alone: bool) -> Result:
    return Result(0)


_BUILTINS: dict[str, _Builtin] = {"export": _export, "unset": _unset, "exit": _exit, ":": _colon}
