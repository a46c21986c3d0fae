"""uniq(1) as GNU coreutils (src/uniq.c) behaves."""
from __future__ import annotations

from netplex.shell.coreutils.common import (
    gnu_getopt,
    read_inputs,
    split_lines,
    text_tool,
)
from netplex.shell.registry import Context
from netplex.shell.result import Result


@text_tool("uniq")
def uniq(ctx: Context, argv: list[str]) -> Result:
    """uniq(1): report or omit repeated adjacent lines."""
    longs = {"count": "c", "repeated": "d", "unique": "u", "ignore-case": "i"}
    opts, operands = gnu_getopt("uniq", argv[1:], "cdui", "", longs)
    flags = {o for o, _ in opts}
    if len(operands) > 1:
        return Result(2, "", "netplex: uniq with an output file is not supported\n")
    inputs, errors = read_inputs(ctx, operands, lambda p: f"uniq: {p}: No such file or directory\n")
    if errors:
        return Result(1, "", errors[0])
    groups: list[list[str]] = []
    for line in split_lines(inputs[0][1]):
        same = groups and (groups[-1][0].lower() == line.lower() if "i" in flags else groups[-1][0] == line)
        if same:
            groups[-1].append(line)
        else:
            groups.append([line])
    out = []
    for g in groups:
        if "d" in flags and len(g) < 2 or "u" in flags and len(g) > 1:
            continue
        out.append(f"{len(g):7d} {g[0]}\n" if "c" in flags else g[0] + "\n")
    return Result(0, "".join(out))
