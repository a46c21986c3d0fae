"""head(1) as GNU coreutils (src/head.c) behaves."""
from __future__ import annotations

from netplex.shell.coreutils.common import (
    count_arg,
    gnu_getopt,
    numeric_shorthand,
    read_inputs,
    text_tool,
)
from netplex.shell.registry import Context
from netplex.shell.result import Result


@text_tool("head")
def head(ctx: Context, argv: list[str]) -> Result:
    """head(1): the first part of files."""
    argv = numeric_shorthand(argv)
    longs = {"lines=": "n", "bytes=": "c", "quiet": "q", "silent": "q", "verbose": "v"}
    opts, operands = gnu_getopt("head", argv[1:], "qv", "nc", longs)
    unit, count, headers = "n", 10, len(operands) > 1
    for o, v in opts:
        if o in "nc":
            unit = o
            count = count_arg("head", v, "lines" if o == "n" else "bytes")
        elif o == "q":
            headers = False
        elif o == "v":
            headers = True
    inputs, errors = read_inputs(ctx, operands, lambda p: f"head: cannot open '{p}' for reading: No such file or directory\n")
    out = []
    for k, (name, text) in enumerate(inputs):
        if headers:
            label = "standard input" if name == "-" else name
            out.append(("\n" if k else "") + f"==> {label} <==\n")
        if unit == "c":
            data = text.encode("utf-8", "surrogateescape")
            out.append(data[:count].decode(errors="replace"))  # a negative count: all but the last
        else:
            pieces = text.splitlines(keepends=True)
            out.append("".join(pieces[:count]))
    return Result(1 if errors else 0, "".join(out), "".join(errors))
