"""POSIX basic and extended regular expressions (GNU flavour) as Python patterns.

The translation GNU grep 3.8 and mawk agree on under LC_ALL=C (regex(7)).
"""
from __future__ import annotations

import re

from netplex.errors import NetplexError

__all__ = ["RegexError", "bre_to_python", "ere_to_python"]

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "0-9A-Za-z", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "blank": " \\t", "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").replace("-", "\\-"),
    "cntrl": "\\x00-\\x1f\\x7f", "print": "\\x20-\\x7e", "graph": "\\x21-\\x7e",
}


class RegexError(NetplexError, ValueError):
    """A pattern GNU grep would reject; the message is grep's (grep exits 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=2)


def _bracket(pat: str, i: int) -> tuple[str, int]:
    """Translate the POSIX bracket expression starting after `[` at i; returns (python, next index)."""
    out = ["["]
    if i < len(pat) and pat[i] == "^":
        out.append("^")
        i += 1
    first = True
    while True:
        if i >= len(pat):
            raise RegexError("Unmatched [, [^, [:, [., or [=")
        c = pat[i]
        if c == "]" and not first:
            return "".join(out) + "]", i + 1
        first = False
        if c == "[" and i + 1 < len(pat) and pat[i + 1] in ":.=":
            kind = pat[i + 1]
            end = pat.find(kind + "]", i + 2)
            if end < 0:
                raise RegexError("Unmatched [, [^, [:, [., or [=")
            name = pat[i + 2:end]
            if kind == ":":
                if name not in _CLASSES:
                    raise RegexError("Invalid character class name")
                out.append(_CLASSES[name])
            else:
                out.append(re.escape(name))
            i = end + 2
            continue
        out.append("\\" + c if c in "\\[]^&|~" else c)
        i += 1


_INTERVAL = re.compile(r"\{(\d*)(,?)(\d*)\}")


class _ReBuilder:
    """Atoms of the Python pattern being built, so quantifiers bind to the right thing."""

    def __init__(self) -> None:
        self.atoms: list[str] = []
        self.quantified: list[bool] = []
        self.groups: list[int] = []  # index in atoms where each open group starts

    def atom(self, s: str) -> None:
        self.atoms.append(s)
        self.quantified.append(False)

    def quantify(self, q: str) -> bool:
        """Apply q to the last atom; False when there is no atom (the caller makes q literal)."""
        start = self.groups[-1] + 1 if self.groups else 0
        if len(self.atoms) <= start or self.atoms[-1] in ("|", "^"):
            return False
        if self.quantified[-1]:
            self.atoms[-1] = f"(?:{self.atoms[-1]})"
        self.atoms[-1] += q
        self.quantified[-1] = True
        return True

    def open(self) -> None:
        self.groups.append(len(self.atoms))
        self.atom("(")

    def close(self) -> bool:
        if not self.groups:
            return False
        start = self.groups.pop()
        merged = "".join(self.atoms[start:]) + ")"
        del self.atoms[start:], self.quantified[start:]
        self.atom(merged)
        return True

    def at_start(self) -> bool:
        """Nothing yet in the current branch (start of RE, after `(` or `|`)."""
        return not self.atoms or self.atoms[-1] in ("(", "|", "^") and not self.quantified[-1]

    def result(self) -> str:
        if self.groups:
            raise RegexError("Unmatched ( or \\(")
        return "".join(self.atoms)


def _escape_common(b: _ReBuilder, c: str) -> None:
    """GNU escapes shared by BRE and ERE (after a backslash)."""
    table = {"w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S", "b": r"\b", "B": r"\B",
             "<": r"\b(?=\w)", ">": r"\b(?<=\w)", "`": r"\A", "'": r"\Z"}
    if c in table:
        b.atom(table[c])
    elif c.isdigit() and c != "0":
        b.atom("\\" + c)
    else:
        b.atom(re.escape(c))


def _translate(pat: str, extended: bool) -> str:
    b = _ReBuilder()
    i = 0
    n = len(pat)
    while i < n:
        c = pat[i]
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("Trailing backslash")
            e = pat[i + 1]
            i += 2
            if not extended and e == "(":
                b.open()
            elif not extended and e == ")":
                if not b.close():
                    raise RegexError("Unmatched ) or \\)")
            elif not extended and e == "|":
                b.atom("|")
            elif not extended and e in "+?":
                if not b.quantify(e):
                    b.atom(re.escape(e))
            elif not extended and e == "{":
                m = _INTERVAL.match("{" + pat[i:].replace("\\}", "}", 1))
                end = pat.find("\\}", i)
                if not m or end < 0:
                    raise RegexError("Unmatched \\{")
                if not b.quantify(_interval(m)):
                    raise RegexError("Invalid preceding regular expression")
                i = end + 2
            else:
                _escape_common(b, e)
            continue
        i += 1
        if c == "[":
            cls, i = _bracket(pat, i)
            b.atom(cls)
        elif c == ".":
            b.atom(".")
        elif c == "*":
            if b.at_start() or not b.quantify("*"):
                b.atom(r"\*")
        elif c == "^":
            if extended or b.at_start():
                b.atom("^")
            else:
                b.atom(r"\^")
        elif c == "$":
            at_end = i >= n or pat.startswith("\\)", i) or pat.startswith("\\|", i)
            b.atom("$" if extended or at_end else r"\$")
        elif extended and c in "+?":
            if not b.quantify(c):
                b.atom(re.escape(c))
        elif extended and c == "{":
            m = _INTERVAL.match(pat, i - 1)
            if m and (m.group(1) or m.group(3)) and b.quantify(_interval(m)):
                i = m.end()
            else:
                b.atom(r"\{")
        elif extended and c == "(":
            b.open()
        elif extended and c == ")":
            if not b.close():
                b.atom(r"\)")
        elif extended and c == "|":
            b.atom("|")
        else:
            b.atom(re.escape(c))
    return b.result()


def _interval(m: re.Match[str]) -> str:
    lo, comma, hi = m.group(1), m.group(2), m.group(3)
    if lo and hi and int(lo) > int(hi):
        raise RegexError("Invalid content of \\{\\}")
    return "{" + (lo or "0") + comma + hi + "}"


def bre_to_python(pattern: str) -> str:
    """A POSIX basic regular expression (GNU flavour) as a Python pattern."""
    return _translate(pattern, extended=False)


def ere_to_python(pattern: str) -> str:
    """A POSIX extended regular expression (GNU flavour) as a Python pattern."""
    return _translate(pattern, extended=True)
