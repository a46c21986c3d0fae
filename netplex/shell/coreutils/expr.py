"""expr(1) as GNU coreutils (src/expr.c) behaves under LC_ALL=C: integer arithmetic,
comparisons, `|`, `&`, `STRING : REGEX`, `length`, and parentheses, with expr's
precedence; exit status 0, 1 when the result is null or 0, 2 for bad input.
`match`, `substr` and `index` are refused (status 2, in netplex's words)."""
from __future__ import annotations

import re

from netplex.shell.coreutils.common import text_tool, usage_error
from netplex.shell.coreutils.regex import bre_to_python
from netplex.shell.registry import Context
from netplex.shell.result import Result

_INT = re.compile(r"[-+]?\d+")
_COMPARE = ("<", "<=", "=", "==", "!=", ">=", ">")


class _Fail(Exception):
    def __init__(self, msg: str) -> None:
        self.msg = msg


def _num(v: str) -> int:
    if not _INT.fullmatch(v):
        raise _Fail("non-integer argument")
    return int(v)


def _null(v: str) -> bool:
    """expr's null: the empty string or an integer zero (`0`, `-0`, `00`)."""
    return v == "" or (bool(_INT.fullmatch(v)) and int(v) == 0)


class _Parser:
    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.i = 0

    def peek(self) -> str | None:
        return self.args[self.i] if self.i < len(self.args) else None

    def take(self) -> str:
        if self.i >= len(self.args):
            raise _Fail(f"syntax error: missing argument after '{self.args[self.i - 1]}'")
        self.i += 1
        return self.args[self.i - 1]

    def binary(self, ops: tuple[str, ...], operand: str) -> str:
        left = getattr(self, operand)()
        while self.peek() in ops:
            op = self.take()
            if self.i >= len(self.args):
                raise _Fail(f"syntax error: missing argument after '{op}'")
            right = getattr(self, operand)()
            left = self.apply(op, left, right)
        return left

    def apply(self, op: str, a: str, b: str) -> str:
        if op == "|":
            return a if not _null(a) else (b if not _null(b) else "0")
        if op == "&":
            return a if not (_null(a) or _null(b)) else "0"
        if op in _COMPARE:
            if _INT.fullmatch(a) and _INT.fullmatch(b):
                x, y = int(a), int(b)
                c = (x > y) - (x < y)
            else:
                c = (a > b) - (a < b)
            return str(int({"<": c < 0, "<=": c <= 0, "=": c == 0, "==": c == 0, "!=": c != 0,
                            ">=": c >= 0, ">": c > 0}[op]))
        if op == ":":
            m = re.match(bre_to_python(b), a)
            if m is None:
                return "" if re.compile(bre_to_python(b)).groups else "0"
            return m.group(1) or "" if m.re.groups else str(len(m.group(0)))
        x, y = _num(a), _num(b)
        if op in ("/", "%") and y == 0:
            raise _Fail("division by zero")
        if op == "/":
            return str(abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1))
        if op == "%":
            return str(abs(x) % abs(y) * (1 if x >= 0 else -1))
        return str({"+": x + y, "-": x - y, "*": x * y}[op])

    def or_(self) -> str:
        return self.binary(("|",), "and_")

    def and_(self) -> str:
        return self.binary(("&",), "compare")

    def compare(self) -> str:
        return self.binary(_COMPARE, "add")

    def add(self) -> str:
        return self.binary(("+", "-"), "mul")

    def mul(self) -> str:
        return self.binary(("*", "/", "%"), "match")

    def match(self) -> str:
        return self.binary((":",), "primary")

    def primary(self) -> str:
        tok = self.take()
        if tok == "(":
            v = self.or_()
            if self.peek() != ")":
                raise _Fail(f"syntax error: expecting ')' after '{self.args[self.i - 1]}'"
                            if self.i < len(self.args) or self.i else "syntax error: expecting ')'")
            self.i += 1
            return v
        if tok == "length" and self.peek() is not None:
            return str(len(self.take()))
        if tok in ("match", "substr", "index"):
            raise _Fail(f"netplex: expr {tok} is not supported")
        if tok == "+" and self.peek() is not None:
            return self.take()
        return tok


@text_tool("expr")
def expr(ctx: Context, argv: list[str]) -> Result:
    """expr(1): evaluate an expression, print its value."""
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise usage_error("expr", "missing operand", status=2)
    p = _Parser(args)
    try:
        v = p.or_()
        if p.i < len(args):
            raise _Fail(f"syntax error: unexpected argument '{args[p.i]}'")
    except _Fail as e:
        return Result(2, "", f"expr: {e.msg}\n")
    return Result(1 if _null(v) else 0, v + "\n")
