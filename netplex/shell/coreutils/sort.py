"""sort(1) as GNU coreutils (src/sort.c) behaves under LC_ALL=C."""
from __future__ import annotations

import functools
import re
from decimal import Decimal

from netplex.shell.coreutils.common import (
    gnu_getopt,
    read_inputs,
    split_lines,
    text_tool,
    usage_error,
)
from netplex.shell.registry import Context
from netplex.shell.result import Result

_NUM = re.compile(r"[ \t]*(-?)(\d*)(?:\.(\d*))?")


def _numeric_key(s: str) -> Decimal:
    m = _NUM.match(s)
    assert m is not None
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if not whole and not frac:
        return Decimal(0)
    return Decimal(f"{sign}{whole or '0'}.{frac or '0'}")


class _Key:
    __slots__ = ("end_char", "end_field", "opts", "start_char", "start_field")

    def __init__(self, spec: str, global_opts: str) -> None:
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?([bdfgiMhnRrV]*)(?:,(\d+)(?:\.(\d+))?([bdfgiMhnRrV]*))?", spec)
        if not m:
            bad = re.match(r"\d*", spec)
            raise usage_error("sort", f"invalid number at field start: invalid count at start of '{spec[bad.end() if bad else 0:] or spec}'", 2, False)
        if int(m.group(1)) == 0:
            raise usage_error("sort", f"field number is zero: invalid field specification '{spec}'", 2, False)
        self.start_field = int(m.group(1))
        self.start_char = int(m.group(2) or 1)
        self.end_field = int(m.group(4)) if m.group(4) else None
        self.end_char = int(m.group(5) or 0)
        own = (m.group(3) or "") + (m.group(6) or "")
        self.opts = own if own else global_opts


def _fields(line: str, sep: str | None) -> list[tuple[int, int]]:
    """(start, end) of each field; without -t a field is its leading blanks plus non-blanks."""
    if sep is not None:
        spans, start = [], 0
        while True:
            end = line.find(sep, start)
            if end < 0:
                spans.append((start, len(line)))
                return spans
            spans.append((start, end))
            start = end + 1
    return [m.span() for m in re.finditer(r"[ \t]*[^ \t]+|[ \t]+$", line)] or [(0, 0)]


def _key_text(line: str, key: _Key, sep: str | None) -> str:
    spans = _fields(line, sep)
    if key.start_field > len(spans):
        return ""
    fstart, fend = spans[key.start_field - 1]
    if "b" in key.opts:
        while fstart < fend and line[fstart] in " \t":
            fstart += 1
    start = min(fstart + key.start_char - 1, fend)
    if key.end_field is None or key.end_field > len(spans):
        end = len(line)
    else:
        s, e = spans[key.end_field - 1]
        end = e if key.end_char == 0 else min(s + key.end_char, e)
    return line[start:max(start, end)]


@text_tool("sort")
def sort(ctx: Context, argv: list[str]) -> Result:
    """sort(1) under LC_ALL=C: byte order, -n -r -u -k -t -b -f -s."""
    longs = {"numeric-sort": "n", "reverse": "r", "unique": "u", "key=": "k", "field-separator=": "t",
             "ignore-leading-blanks": "b", "ignore-case": "f", "stable": "s"}
    opts, operands = gnu_getopt("sort", argv[1:], "nrubfsghVMR", "kt", longs, status=2)
    global_opts = ""
    key_specs: list[str] = []
    sep: str | None = None
    unique = stable = False
    for o, v in opts:
        if o in "nrbf":
            global_opts += o
        elif o in "ghVMR":
            return Result(2, "", f"netplex: sort -{o} is not supported\n")
        elif o == "u":
            unique = True
        elif o == "s":
            stable = True
        elif o == "k":
            key_specs.append(v)
        elif o == "t":
            if len(v) != 1:
                if v == "\\0":
                    v = "\0"
                else:
                    return Result(2, "", f"sort: multi-character tab '{v}'\n")
            sep = v
    keys = [_Key(s, global_opts) for s in key_specs]
    inputs, errors = read_inputs(ctx, operands, lambda p: f"sort: cannot read: {p}: No such file or directory\n")
    if errors:
        return Result(2, "", errors[0])
    lines = [line for _, text in inputs for line in split_lines(text)]
    whole = _Key("1", global_opts)
    whole.start_field, whole.end_field = 1, None

    def key_of(line: str, key: _Key) -> str:
        return line if not keys else _key_text(line, key, sep)

    def cmp_key(a: str, b: str, key: _Key) -> int:
        ka, kb = (a, b) if not keys else (key_of(a, key), key_of(b, key))
        if "b" in key.opts and not keys:
            ka, kb = ka.lstrip(" \t"), kb.lstrip(" \t")
        if "n" in key.opts:
            na, nb = _numeric_key(ka), _numeric_key(kb)
            c = (na > nb) - (na < nb)
        else:
            if "f" in key.opts:
                ka, kb = ka.upper(), kb.upper()
            ba, bb = ka.encode(), kb.encode()
            c = (ba > bb) - (ba < bb)
        return -c if "r" in key.opts else c

    def compare_keys(a: str, b: str) -> int:
        for key in keys or [whole]:
            c = cmp_key(a, b, key)
            if c:
                return c
        return 0

    def compare(a: str, b: str) -> int:
        c = compare_keys(a, b)
        if c or stable or unique:
            return c
        ba, bb = a.encode(), b.encode()
        c = (ba > bb) - (ba < bb)
        return -c if "r" in global_opts else c

    lines.sort(key=functools.cmp_to_key(compare))
    if unique:
        kept: list[str] = []
        for line in lines:
            if not kept or compare_keys(kept[-1], line) != 0:
                kept.append(line)
        lines = kept
    return Result(0, "".join(line + "\n" for line in lines))
