"""awk(1) as mawk for a useful subset: print with fields, NR/NF, regex and
comparison patterns, BEGIN/END. What netplex does not implement is refused
with status 2 and a message that says so, never silently ignored.
"""
from __future__ import annotations

import re

from netplex.shell.coreutils.common import (
    backslash_escapes,
    read_inputs,
    split_lines,
    text_tool,
)
from netplex.shell.coreutils.regex import RegexError, ere_to_python
from netplex.shell.registry import Context
from netplex.shell.result import Result


class _AwkUnsupported(Exception):
    pass


class _AwkRuntimeError(Exception):
    """mawk's "run time error"; the message is mawk's first line."""


_AWK_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<re>/(?:[^/\\]|\\.)*/)
    | (?P<num>\d+(?:\.\d*)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|!~|&&|\|\||[-+*/%<>~!(){},;$])
    )""",
    re.VERBOSE,
)


class _AwkProgram:
    """A parsed awk program of `pattern { print ... }` rules (mawk's semantics for that subset)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.toks = self._tokenize(source)
        self.i = 0
        self.begin: list[list[tuple]] = []
        self.end: list[list[tuple]] = []
        self.rules: list[tuple[tuple | None, list[tuple]]] = []
        while self._peek() is not None:
            if self._peek() == ("op", ";"):
                self.i += 1
                continue
            if self._peek() in (("name", "BEGIN"), ("name", "END")):
                which = self._next()[1]
                action = self._action()
                (self.begin if which == "BEGIN" else self.end).append(action)
                continue
            pattern = None if self._peek() == ("op", "{") else self._expr()
            action = self._action() if self._peek() == ("op", "{") else [("print", [])]
            self.rules.append((pattern, action))

    @staticmethod
    def _tokenize(source: str) -> list[tuple[str, str]]:
        toks = []
        pos = 0
        prev: tuple[str, str] | None = None
        while pos < len(source):
            if source[pos:].strip() == "":
                break
            m = _AWK_TOKEN.match(source, pos)
            if not m or m.end() == pos:
                raise _AwkUnsupported
            kind = m.lastgroup
            assert kind is not None
            text = m.group(kind)
            # `/` is division after a value, a regex otherwise
            if kind == "re" and prev is not None and (prev[0] in ("num", "str", "name") or prev == ("op", ")")):
                m2 = re.compile(r"\s*(/)").match(source, pos)
                assert m2 is not None
                kind, text, end = "op", "/", m2.end()
            else:
                end = m.end()
            tok = (kind, text)
            toks.append(tok)
            prev = tok
            pos = end
        return toks

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _next(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise _AwkUnsupported
        self.i += 1
        return tok

    def _expect(self, tok: tuple[str, str]) -> None:
        if self._next() != tok:
            raise _AwkUnsupported

    def _action(self) -> list[tuple]:
        self._expect(("op", "{"))
        stmts: list[tuple] = []
        while True:
            tok = self._peek()
            if tok == ("op", "}"):
                self.i += 1
                return stmts
            if tok == ("op", ";"):
                self.i += 1
                continue
            if tok != ("name", "print"):
                raise _AwkUnsupported
            self.i += 1
            args: list[tuple] = []
            if self._peek() not in (("op", "}"), ("op", ";")):
                args.append(self._concat())
                while self._peek() == ("op", ","):
                    self.i += 1
                    args.append(self._concat())
            if self._peek() in (("op", ">"), ("op", "|")):
                raise _AwkUnsupported
            stmts.append(("print", args))

    # expression grammar: or > and > not > comparison/match > concatenation > additive > primary
    def _expr(self) -> tuple:
        left = self._and()
        while self._peek() == ("op", "||"):
            self.i += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> tuple:
        left = self._not()
        while self._peek() == ("op", "&&"):
            self.i += 1
            left = ("and", left, self._not())
        return left

    def _not(self) -> tuple:
        if self._peek() == ("op", "!"):
            self.i += 1
            return ("not", self._not())
        return self._compare()

    def _compare(self) -> tuple:
        left = self._concat()
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">=", "~", "!~"):
            self.i += 1
            return ("cmp", tok[1], left, self._concat())
        return left

    def _concat(self) -> tuple:
        parts = [self._additive()]
        while True:
            tok = self._peek()
            if tok is None or not (tok[0] in ("str", "num", "name") or tok in (("op", "$"), ("op", "("))):
                break
            if tok[0] == "name" and tok[1] in ("print", "BEGIN", "END"):
                break
            parts.append(self._additive())
        return parts[0] if len(parts) == 1 else ("concat", parts)

    def _additive(self) -> tuple:
        left = self._primary()
        while self._peek() in (("op", "+"), ("op", "-"), ("op", "*"), ("op", "/"), ("op", "%")):
            op = self._next()[1]
            left = ("arith", op, left, self._primary())
        return left

    def _primary(self) -> tuple:
        kind, text = self._next()
        if kind == "str":
            return ("str", backslash_escapes(text[1:-1].replace('\\"', '"').replace("\\/", "/"), echo=True)[0])
        if kind == "num":
            return ("num", float(text))
        if kind == "re":
            try:
                return ("re", re.compile(ere_to_python(text[1:-1].replace("\\/", "/"))))
            except (RegexError, re.error):
                raise _AwkUnsupported from None
        if kind == "name":
            if text in ("NR", "NF", "FNR"):
                return ("var", "NR" if text == "FNR" else text)
            raise _AwkUnsupported
        if text == "$":
            return ("field", self._primary())
        if text == "-":
            return ("arith", "-", ("num", 0.0), self._primary())
        if text == "(":
            inner = self._expr()
            self._expect(("op", ")"))
            return inner
        raise _AwkUnsupported


def _awk_num(s: str) -> float:
    m = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s)
    return float(m.group()) if m else 0.0


def _awk_looks_numeric(s: str) -> bool:
    return re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", s) is not None


def _awk_str(v: object) -> str:
    if isinstance(v, float):
        return str(int(v)) if v == int(v) and abs(v) < 1e16 else f"{v:.6g}"
    return str(v)


class _AwkRun:
    def __init__(self, fs: str | None) -> None:
        self.fs = fs
        self.fields: list[str] = []
        self.record = ""
        self.nr = 0
        self.filename = ""

    def split(self, record: str) -> None:
        self.record = record
        if self.fs is None or self.fs == " ":
            self.fields = record.split()
        elif len(self.fs) == 1 and self.fs != "\\":
            self.fields = record.split(self.fs) if record else []
        else:
            self.fields = re.split(ere_to_python(self.fs), record) if record else []

    def field(self, n: int) -> str:
        if n == 0:
            return self.record
        if n < 0:
            raise _AwkRuntimeError(f"negative field index ${n}")
        return self.fields[n - 1] if n <= len(self.fields) else ""

    # values: str (string), float (number), ("strnum", str) for fields
    def eval(self, e: tuple) -> object:
        kind = e[0]
        if kind == "str":
            return e[1]
        if kind == "num":
            return e[1]
        if kind == "re":
            return 1.0 if e[1].search(self.record) else 0.0
        if kind == "var":
            return float(self.nr if e[1] == "NR" else len(self.fields))
        if kind == "field":
            n = self.eval(e[1])
            idx = int(_awk_num(self._s(n)) if not isinstance(n, float) else n)
            return ("strnum", self.field(idx))
        if kind == "concat":
            return "".join(self._s(self.eval(p)) for p in e[1])
        if kind == "arith":
            a, b = self._n(self.eval(e[2])), self._n(self.eval(e[3]))
            op = e[1]
            if op in "/%" and b == 0:
                raise _AwkUnsupported
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0,
                    "%": float(a - b * int(a / b)) if b else 0.0}[op]
        if kind == "not":
            return 0.0 if self.truth(self.eval(e[1])) else 1.0
        if kind == "and":
            return 1.0 if self.truth(self.eval(e[1])) and self.truth(self.eval(e[2])) else 0.0
        if kind == "or":
            return 1.0 if self.truth(self.eval(e[1])) or self.truth(self.eval(e[2])) else 0.0
        if kind == "cmp":
            op, left, right = e[1], e[2], e[3]
            if op in ("~", "!~"):
                if right[0] != "re":
                    raise _AwkUnsupported
                hit = right[1].search(self._s(self.eval(left))) is not None
                return 1.0 if hit == (op == "~") else 0.0
            va, vb = self.eval(left), self.eval(right)
            if self._numeric(va) and self._numeric(vb):
                x: object = self._n(va)
                y: object = self._n(vb)
            else:
                x, y = self._s(va).encode(), self._s(vb).encode()
            result = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y,  # type: ignore[operator]
                      ">": x > y, ">=": x >= y}[op]  # type: ignore[operator]
            return 1.0 if result else 0.0
        raise _AwkUnsupported

    @staticmethod
    def _numeric(v: object) -> bool:
        return isinstance(v, float) or (isinstance(v, tuple) and _awk_looks_numeric(v[1]))

    @staticmethod
    def _s(v: object) -> str:
        return v[1] if isinstance(v, tuple) else _awk_str(v)

    @staticmethod
    def _n(v: object) -> float:
        if isinstance(v, float):
            return v
        return _awk_num(v[1] if isinstance(v, tuple) else str(v))

    def truth(self, v: object) -> bool:
        if isinstance(v, float):
            return v != 0
        if isinstance(v, tuple):
            return _awk_num(v[1]) != 0 if _awk_looks_numeric(v[1]) else v[1] != ""
        return v != ""

    def action(self, stmts: list[tuple], out: list[str]) -> None:
        for _, args in stmts:
            if not args:
                out.append(self.record + "\n")
            else:
                out.append(" ".join(self._s(self.eval(a)) for a in args) + "\n")


@text_tool("awk")
def awk(ctx: Context, argv: list[str]) -> Result:
    """awk(1) as mawk, for programs of `pattern { print expr, ... }` rules."""
    args = argv[1:]
    fs: str | None = None
    while args and args[0].startswith("-") and args[0] != "-":
        a = args.pop(0)
        if a == "--":
            break
        if a.startswith("-F"):
            value = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
            fs = "\t" if value in ("t", "\\t") else backslash_escapes(value, echo=True)[0]
        else:
            return Result(2, "", f"awk: netplex supports only a subset of awk: option {a}\n")
    if not args:
        return Result(2, "", "usage: awk [-F value] [-v var=value] [--] 'program text' [file ...]\n")
    source = args.pop(0)
    try:
        program = _AwkProgram(source)
    except _AwkUnsupported:
        return Result(2, "", f"awk: netplex supports only a subset of awk: {source}\n")
    if any("=" in a for a in args):
        return Result(2, "", f"awk: netplex supports only a subset of awk: {' '.join(args)}\n")
    inputs, errors = read_inputs(ctx, args, lambda p: f"awk: cannot open {p} (No such file or directory)\n")
    run = _AwkRun(fs)
    out: list[str] = []
    try:
        for stmts in program.begin:
            run.action(stmts, out)
        if program.rules or program.end:
            if errors:
                return Result(2, "".join(out), errors[0])
            for name, text in inputs:
                run.filename = name
                for line in split_lines(text):
                    run.nr += 1
                    run.split(line)
                    for pattern, stmts in program.rules:
                        if pattern is None or run.truth(run.eval(pattern)):
                            run.action(stmts, out)
            for stmts in program.end:
                run.action(stmts, out)
    except _AwkUnsupported:
        return Result(2, "".join(out), f"awk: netplex supports only a subset of awk: {source}\n")
    except _AwkRuntimeError as e:
        where = f'\tFILENAME="{run.filename}" FNR={run.nr} NR={run.nr}\n'
        return Result(2, "".join(out), f"awk: run time error: {e}\n{where}")
    return Result(0, "".join(out))
