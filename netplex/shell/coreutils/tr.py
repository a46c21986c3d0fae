"""tr(1) as GNU coreutils (src/tr.c) behaves under LC_ALL=C."""
from __future__ import annotations

import re
from collections.abc import Callable

from netplex.shell.coreutils.common import (
    Usage,
    gnu_getopt,
    text_tool,
    try_help,
    usage_error,
)
from netplex.shell.registry import Context
from netplex.shell.result import Result


def _tr_set(spec: str) -> list[str]:
    """Expand a tr(1) SET: escapes, ranges a-z and [:class:]."""
    chars: list[str] = []
    i = 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    classes = {
        "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "lower": "abcdefghijklmnopqrstuvwxyz",
        "digit": "0123456789", "space": " \t\n\r\f\v", "blank": " \t",
        "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "xdigit": "0123456789ABCDEFabcdef",
    }
    classes["alpha"] = classes["upper"] + classes["lower"]
    classes["alnum"] = classes["digit"] + classes["alpha"]
    while i < len(spec):
        m = re.match(r"\[:(\w+):\]", spec[i:])
        if m and m.group(1) in classes:
            chars.extend(classes[m.group(1)])
            i += m.end()
            continue
        c = spec[i]
        if c == "\\" and i + 1 < len(spec):
            o = re.match(r"[0-7]{1,3}", spec[i + 1:])
            if o:
                c = chr(int(o.group(), 8))
                i += 1 + len(o.group())
            else:
                c = simple.get(spec[i + 1], spec[i + 1])
                i += 2
        else:
            i += 1
        if i + 1 < len(spec) and spec[i] == "-":
            hi = spec[i + 1]
            if ord(hi) < ord(c):
                raise usage_error("tr", f"range-endpoints of '{c}-{hi}' are in reverse collating sequence order", hint=False)
            chars.extend(chr(k) for k in range(ord(c), ord(hi) + 1))
            i += 2
        else:
            chars.append(c)
    return chars


@text_tool("tr")
def tr(ctx: Context, argv: list[str]) -> Result:
    """tr(1): translate, squeeze (-s) or delete (-d) characters."""
    longs = {"delete": "d", "squeeze-repeats": "s", "complement": "c", "truncate-set1": "t"}
    opts, operands = gnu_getopt("tr", argv[1:], "dscCt", "", longs)
    flags = {("c" if o == "C" else o) for o, _ in opts}
    delete, squeeze = "d" in flags, "s" in flags
    if not operands:
        raise usage_error("tr", "missing operand")
    need_two = not delete and not (squeeze and len(operands) == 1)
    if need_two and len(operands) < 2:
        raise Usage(Result(1, "", f"tr: missing operand after '{operands[0]}'\n"
                                   "Two strings must be given when translating.\n" + try_help("tr")))
    if len(operands) > (2 if need_two or (delete and squeeze) else 1):
        raise usage_error("tr", f"extra operand '{operands[2 if need_two or (delete and squeeze) else 1]}'")
    set1 = _tr_set(operands[0])
    set2 = _tr_set(operands[1]) if len(operands) > 1 else []
    text = ctx.stdin
    in1: Callable[[str], bool] = (lambda ch: ch not in set1) if "c" in flags else (lambda ch: ch in set1)
    out: list[str] = []
    if delete:
        text = "".join(ch for ch in text if not in1(ch))
        squeeze_set = set(set2)
        if squeeze:
            for ch in text:
                if not (out and out[-1] == ch and ch in squeeze_set):
                    out.append(ch)
            text = "".join(out)
        return Result(0, text)
    if set2:
        if "c" in flags:
            last = set2[-1]
            text = "".join(last if in1(ch) else ch for ch in text)
        else:
            table: dict[str, str] = {}
            for k, ch in enumerate(set1):
                table[ch] = set2[min(k, len(set2) - 1)]
            text = "".join(table.get(ch, ch) for ch in text)
    if squeeze:
        squeeze_in: Callable[[str], bool] = (lambda ch: ch in set2) if set2 else in1
        for ch in text:
            if not (out and out[-1] == ch and squeeze_in(ch)):
                out.append(ch)
        text = "".join(out)
    return Result(0, text)
