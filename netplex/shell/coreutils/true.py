"""true(1) and false(1) as GNU coreutils (src/true.c, src/false.c)."""
from __future__ import annotations

from netplex.shell.coreutils.common import text_tool
from netplex.shell.registry import Context
from netplex.shell.result import Result


@text_tool("true")
def true_(ctx: Context, argv: list[str]) -> Result:
    """true(1)."""
    return Result(0)


@text_tool("false")
def false_(ctx: Context, argv: list[str]) -> Result:
    """false(1)."""
    return Result(1)
