"""echo as bash's builtin (builtins/echo.def)."""
from __future__ import annotations

import re

from netplex.shell.coreutils.common import backslash_escapes, text_tool
from netplex.shell.registry import Context
from netplex.shell.result import Result


@text_tool("echo")
def echo(ctx: Context, argv: list[str]) -> Result:
    """bash's echo builtin: -n, -e, -E."""
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args.pop(0)[1:]:
            if c == "n":
                newline = False
            else:
                escapes = c == "e"
    text = " ".join(args)
    if escapes:
        text, go_on = backslash_escapes(text, echo=True)
        if not go_on:
            return Result(0, text)
    return Result(0, text + ("\n" if newline else ""))
