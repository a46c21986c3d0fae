"""Shell arithmetic: what `$(( ))`, `(( ))`, `let` and `for ((;;))` evaluate (bash(1) ARITHMETIC
EVALUATION): 64-bit signed integers, C's operators and precedence, variables by name.

`evaluate(text, get, set)` reads variables through `get(name) -> str | None` and
assigns through `set(name, value)`; a variable's value is itself evaluated as an
expression, and an unset or empty one is 0. Errors raise `ArithError` with
bash's wording (`division by 0 (error token is "0")`).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from netplex.errors import NetplexError

__all__ = ["ArithError", "evaluate"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9A-Fa-f]+|\d+#[0-9A-Za-z@_]+|\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><<=|>>=|\*\*|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&^|]=|[-+*/%<>=!~&^|?:(),]))"
)
_BINARY = {  # operator -> (precedence, right associative)
    "||": (3, False), "&&": (4, False), "|": (5, False), "^": (6, False), "&": (7, False),
    "==": (8, False), "!=": (8, False), "<": (9, False), ">": (9, False), "<=": (9, False), ">=": (9, False),
    "<<": (10, False), ">>": (10, False), "+": (11, False), "-": (11, False),
    "*": (12, False), "/": (12, False), "%": (12, False), "**": (13, True),
}
_ASSIGN = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="})
_MAX_DEPTH = 64


class ArithError(NetplexError):
    """An expression bash refuses; `str()` is bash's text after `EXPR: `."""


def _wrap(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >> 63 else v


def _number(tok: str) -> int:
    if tok[:2] in ("0x", "0X"):
        return int(tok, 16)
    if "#" in tok:
        base_s, digits = tok.split("#", 1)
        base = int(base_s)
        if not 2 <= base <= 64:
            raise ArithError(f'invalid arithmetic base (error token is "{tok}")')
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@_"
        if base <= 36:
            digits = digits.lower()
        value = 0
        for c in digits:
            d = alphabet.find(c)
            if d < 0 or d >= base:
                raise ArithError(f'value too great for base (error token is "{tok}")')
            value = value * base + d
        return value
    if len(tok) > 1 and tok.startswith("0"):
        if any(c in "89" for c in tok):
            raise ArithError(f'value too great for base (error token is "{tok}")')
        return int(tok, 8)
    return int(tok)


class _Eval:
    def __init__(self, text: str, get: Callable[[str], str | None], set_: Callable[[str, str], None],
                 depth: int) -> None:
        self.text = text
        self.get = get
        self.set = set_
        self.depth = depth
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ArithError(f'syntax error: invalid arithmetic operator (error token is "{text[pos:].strip()}")')
            pos = m.end()
            kind = m.lastgroup or "op"
            self.toks.append((kind, m.group(kind)))
        self.i = 0

    def _rest(self) -> str:
        return " ".join(t for _, t in self.toks[self.i:])

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ArithError("syntax error: operand expected (error token is \"" + self._last() + "\")")
        self.i += 1
        return tok

    def _last(self) -> str:
        return self.toks[-1][1] if self.toks else ""

    def var(self, name: str) -> int:
        value = self.get(name)
        if value is None or value.strip() == "":
            return 0
        if self.depth >= _MAX_DEPTH:
            raise ArithError(f'expression recursion level exceeded (error token is "{value}")')
        return _Eval(value, self.get, self.set, self.depth + 1).run()

    def run(self) -> int:
        if not self.toks:
            return 0
        value = self.comma(True)
        if self.peek() is not None:
            raise ArithError(f'syntax error in expression (error token is "{self._rest()}")')
        return value

    # Each level takes `live`: False inside the branch that && || ?: skip (no assignments, no errors).
    def comma(self, live: bool) -> int:
        value = self.assign(live)
        while self.peek() == ("op", ","):
            self.take()
            value = self.assign(live)
        return value

    def assign(self, live: bool) -> int:
        tok, nxt = self.peek(), self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        if tok is not None and tok[0] == "name" and nxt is not None and nxt[0] == "op" and nxt[1] in _ASSIGN:
            self.i += 2
            rhs = self.assign(live)
            if not live:
                return 0
            op = nxt[1]
            value = rhs if op == "=" else self.apply(op[:-1], self.var(tok[1]), rhs)
            self.set(tok[1], str(value))
            return value
        return self.ternary(live)

    def ternary(self, live: bool) -> int:
        cond = self.binary(3, live)
        if self.peek() != ("op", "?"):
            return cond
        self.take()
        a = self.assign(live and cond != 0)
        if self.take() != ("op", ":"):
            raise ArithError(f"syntax error in expression (error token is \"{self._rest()}\")")
        b = self.ternary(live and cond == 0)
        return a if cond else b

    def binary(self, level: int, live: bool) -> int:
        left = self.unary(live)
        while True:
            tok = self.peek()
            if tok is None or tok[0] != "op" or tok[1] not in _BINARY:
                return left
            prec, right_assoc = _BINARY[tok[1]]
            if prec < level:
                return left
            self.take()
            op = tok[1]
            if op == "&&":
                right = self.binary(prec + 1, live and left != 0)
                left = int(left != 0 and right != 0)
            elif op == "||":
                right = self.binary(prec + 1, live and left == 0)
                left = int(left != 0 or right != 0)
            else:
                right = self.binary(prec if right_assoc else prec + 1, live)
                left = self.apply(op, left, right) if live else 0

    def apply(self, op: str, a: int, b: int) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise ArithError(f'division by 0 (error token is "{self._rest() or b}")')
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)   # C truncates toward zero
            return _wrap(q if op == "/" else a - q * b)
        if op == "**":
            if b < 0:
                raise ArithError(f'exponent less than 0 (error token is "{b}")')
            return _wrap(pow(a, b, 1 << 64))
        results = {
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "<<": lambda: a << (b & 63), ">>": lambda: a >> (b & 63),
            "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
            "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
            ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        }
        return _wrap(results[op]())

    def unary(self, live: bool) -> int:
        tok = self.peek()
        if tok is None:
            raise ArithError(f'syntax error: operand expected (error token is "{self._last()}")')
        kind, text = tok
        if kind == "op" and text in ("++", "--"):
            self.take()
            name = self.take()
            if name[0] != "name":
                raise ArithError(f'syntax error: operand expected (error token is "{name[1]}")')
            if not live:
                return 0
            value = _wrap(self.var(name[1]) + (1 if text == "++" else -1))
            self.set(name[1], str(value))
            return value
        if kind == "op" and text in ("-", "+", "!", "~"):
            self.take()
            v = self.unary(live)
            return {"-": _wrap(-v), "+": v, "!": int(v == 0), "~": ~v}[text]
        return self.postfix(live)

    def postfix(self, live: bool) -> int:
        kind, text = self.take()
        if kind == "num":
            return _wrap(_number(text))
        if kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt[1] in ("++", "--"):
                self.take()
                if not live:
                    return 0
                old = self.var(text)
                self.set(text, str(_wrap(old + (1 if nxt[1] == "++" else -1))))
                return old
            return self.var(text) if live else 0
        if text == "(":
            value = self.comma(live)
            if self.peek() != ("op", ")"):
                raise ArithError(f"missing `)' (error token is \"{self._rest()}\")")
            self.take()
            return value
        raise ArithError(f'syntax error: operand expected (error token is "{f"{text} {self._rest()}".strip()}")')


def evaluate(text: str, get: Callable[[str], str | None], set_: Callable[[str, str], None]) -> int:
    """The value of one arithmetic expression; raises ArithError."""
    return _Eval(text, get, set_, 0).run()
