"""tail(1) as GNU coreutils (src/tail.c) behaves."""
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


@text_tool("tail")
def tail(ctx: Context, argv: list[str]) -> Result:
    """tail(1): the last part of files."""
    argv = numeric_shorthand(argv)
    longs = {"lines=": "n", "bytes=": "c", "quiet": "q", "silent": "q", "verbose": "v", "follow": "f"}
    opts, operands = gnu_getopt("tail", argv[1:], "qvfF", "nc", longs)
    unit, count, from_start, headers = "n", 10, False, len(operands) > 1
    for o, v in opts:
        if o in "nc":
            unit = o
            from_start = v.startswith("+")
            count = abs(count_arg("tail", v.lstrip("+"), "lines" if o == "n" else "bytes"))
        elif o == "q":
            headers = False
        elif o == "v":
            headers = True
        elif o in "fF":
            return Result(2, "", "netplex: tail -f (follow) is not supported\n")
    inputs, errors = read_inputs(ctx, operands, lambda p: f"tail: cannot open '{p}' for reading: No such file or directory\n")
    out = []
    for k, (name, text) in enumerate(inputs):
        if headers:
            label = "standard input" if name == "-" else name
            out.append(("\n" if k else "") + f"==> {label} <==\n")
        if unit == "c":
            data = text.encode("utf-8", "surrogateescape")
            part = data[max(count - 1, 0):] if from_start else (data[-count:] if count else b"")
            out.append(part.decode(errors="replace"))
        else:
            pieces = text.splitlines(keepends=True)
            chosen = pieces[max(count - 1, 0):] if from_start else (pieces[-count:] if count else [])
            out.append("".join(chosen))
    return Result(1 if errors else 0, "".join(out), "".join(errors))
