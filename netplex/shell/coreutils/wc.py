"""wc(1) as GNU coreutils (src/wc.c) behaves under LC_ALL=C."""
from __future__ import annotations

from netplex.shell.coreutils.common import gnu_getopt, read_inputs, text_tool
from netplex.shell.registry import Context
from netplex.shell.result import Result


def _file_size(name: str, text: str) -> int | None:
    """What stat(2) reports as st_size for a file read from the node (None: not a regular file)."""
    if name == "-":
        return None
    if name.startswith("/proc/"):
        return 0
    if name.startswith("/sys/"):
        return 4096
    return len(text.encode("utf-8", "surrogateescape"))


@text_tool("wc")
def wc(ctx: Context, argv: list[str]) -> Result:
    """wc(1): newline, word and byte counts."""
    longs = {"lines": "l", "words": "w", "bytes": "c", "chars": "m", "max-line-length": "L"}
    opts, operands = gnu_getopt("wc", argv[1:], "lwcmL", "", longs)
    which = {o for o, _ in opts} or {"l", "w", "c"}
    order = [k for k in "lwmcL" if k in which]
    inputs, errors = read_inputs(ctx, operands, lambda p: f"wc: {p}: No such file or directory\n")
    rows: list[tuple[list[int], str]] = []
    totals = [0] * len(order)
    for name, text in inputs:
        counts = []
        for k in order:
            if k == "l":
                counts.append(text.count("\n"))
            elif k == "w":
                counts.append(len(text.split()))
            elif k == "m":
                counts.append(len(text))
            elif k == "c":
                counts.append(len(text.encode("utf-8", "surrogateescape")))
            else:
                counts.append(max((len(line.expandtabs()) for line in text.split("\n")), default=0))
        totals = [max(t, c) if k == "L" else t + c for t, c, k in zip(totals, counts, order)]
        rows.append((counts, "" if name == "-" and not operands else name))
    nfiles = len(operands) or 1
    if nfiles == 1 and len(order) == 1:
        width = 1
    else:
        width, minimum, regular = 1, 1, 0
        for name, text in inputs:
            size = _file_size(name, text)
            if size is None:
                minimum = 7
            else:
                regular += size
        while regular >= 10:
            width += 1
            regular //= 10
        width = max(width, minimum)
        if errors and not inputs:
            width = 1
    out = []
    for counts, name in rows:
        line = " ".join(str(c).rjust(width) for c in counts)
        out.append(line + (f" {name}" if name else "") + "\n")
    if nfiles > 1:
        out.append(" ".join(str(c).rjust(width) for c in totals) + " total\n")
    return Result(1 if errors else 0, "".join(out), "".join(errors))
