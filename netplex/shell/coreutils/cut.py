"""cut(1) as GNU coreutils (src/cut.c) behaves."""
from __future__ import annotations

import re

from netplex.shell.coreutils.common import (
    gnu_getopt,
    read_inputs,
    split_lines,
    text_tool,
    usage_error,
)
from netplex.shell.registry import Context
from netplex.shell.result import Result


def _cut_list(spec: str, what: str) -> list[tuple[int, int]]:
    ranges = []
    for item in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", item)
        if not m or item in ("", "-"):
            msg = f"invalid {what} value '{item}'" if item not in ("", "-") else "invalid range with no endpoint: -"
            if item == "":
                msg = f"{what}s are numbered from 1"
            raise usage_error("cut", msg)
        lo, dash, hi = m.group(1), m.group(2), m.group(3)
        if (lo and int(lo) == 0) or (hi and int(hi) == 0 and not dash) or (dash and hi and int(hi) == 0):
            raise usage_error("cut", f"{what}s are numbered from 1" if not dash or lo == "0" else "invalid decreasing range")
        a = int(lo) if lo else 1
        b = (int(hi) if hi else 1 << 30) if dash else a
        if b < a:
            raise usage_error("cut", "invalid decreasing range")
        ranges.append((a, b))
    return ranges


@text_tool("cut")
def cut(ctx: Context, argv: list[str]) -> Result:
    """cut(1): select fields (-f with -d) or characters (-c, -b) of each line."""
    longs = {"delimiter=": "d", "fields=": "f", "characters=": "c", "bytes=": "b",
             "only-delimited": "s", "output-delimiter=": "O", "complement": "C"}
    opts, operands = gnu_getopt("cut", argv[1:], "sn", "dfcb", longs)
    mode = spec = ""
    delim = "\t"
    out_delim: str | None = None
    only_delimited = complement = False
    for o, v in opts:
        if o in "fcb":
            if mode:
                raise usage_error("cut", "only one list may be specified")
            mode, spec = o, v
        elif o == "d":
            if len(v) != 1:
                raise usage_error("cut", "the delimiter must be a single character")
            delim = v
        elif o == "s":
            only_delimited = True
        elif o == "O":
            out_delim = v
        elif o == "C":
            complement = True
    if not mode:
        raise usage_error("cut", "you must specify a list of bytes, characters, or fields")
    ranges = _cut_list(spec, "field" if mode == "f" else "byte/character")

    def wanted(i: int) -> bool:
        return any(a <= i <= b for a, b in ranges) != complement

    inputs, errors = read_inputs(ctx, operands, lambda p: f"cut: {p}: No such file or directory\n")
    out = []
    for _, text in inputs:
        for line in split_lines(text):
            if mode == "f":
                if delim not in line:
                    if not only_delimited:
                        out.append(line + "\n")
                    continue
                parts = line.split(delim)
                kept = [p for i, p in enumerate(parts, 1) if wanted(i)]
                out.append((delim if out_delim is None else out_delim).join(kept) + "\n")
            else:
                out.append("".join(ch for i, ch in enumerate(line, 1) if wanted(i)) + "\n")
    return Result(1 if errors else 0, "".join(out), "".join(errors))
