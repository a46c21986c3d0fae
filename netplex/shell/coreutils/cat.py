"""cat(1) as GNU coreutils (src/cat.c) behaves."""
from __future__ import annotations

from netplex.shell.coreutils.common import gnu_getopt, text_tool
from netplex.shell.registry import Context, FileReadError
from netplex.shell.result import Result


@text_tool("cat")
def cat(ctx: Context, argv: list[str]) -> Result:
    """cat(1): concatenate files (-n numbers lines)."""
    opts, operands = gnu_getopt("cat", argv[1:], "nu", "", {"number": "n"})
    number = any(o == "n" for o, _ in opts)
    out: list[str] = []
    errors: list[str] = []
    lineno = 0
    for name in operands or ["-"]:
        try:
            text = ctx.stdin if name == "-" else ctx.read_file(name)
        except FileReadError as e:
            errors.append(f"cat: {name}: {e.message}\n")
            continue
        if text is None:
            errors.append(f"cat: {name}: No such file or directory\n")
            continue
        if number:
            for piece in text.splitlines(keepends=True):
                lineno += 1
                out.append(f"{lineno:6d}\t{piece}")
        else:
            out.append(text)
    return Result(1 if errors else 0, "".join(out), "".join(errors))
