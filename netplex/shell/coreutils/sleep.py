"""sleep(1) as GNU coreutils (src/sleep.c): simulated time on the node's clock."""
from __future__ import annotations

import re
from decimal import Decimal

from netplex.machine import Machine
from netplex.shell.coreutils.common import text_tool, try_help, usage_error
from netplex.shell.registry import Context
from netplex.shell.result import Result

_SLEEP_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Simulated time still costs events (STP hellos every 2 s, ageing, timers): a year of them never
# ends in wall time. Longer sleeps are refused with a clear error, as iperf3 caps -t at a day.
MAX_SLEEP_S = 86_400


@text_tool("sleep")
def sleep(ctx: Context, argv: list[str]) -> Result:
    """sleep(1): advance simulated time by the sum of the intervals."""
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise usage_error("sleep", "missing operand")
    total = Decimal(0)
    errors = []
    for a in args:
        m = re.fullmatch(r"(\d+\.?\d*|\.\d+)([smhd]?)", a)
        if not m:
            errors.append(f"sleep: invalid time interval '{a}'\n")
            continue
        total += Decimal(m.group(1)) * _SLEEP_UNITS[m.group(2)]
    if errors:
        return Result(1, "", "".join(errors) + try_help("sleep"))
    if total > MAX_SLEEP_S:
        return Result(1, "", f"sleep: netplex: {total:f}s is over netplex's limit of {MAX_SLEEP_S}s "
                             "(one day) of simulated time\n")
    ns = int(total * 1_000_000_000)
    clock = ctx.machine.world if isinstance(ctx.machine, Machine) else None
    if ctx.deadline is not None and clock is not None and clock.now + ns > ctx.deadline:
        ctx.sleep(max(ctx.deadline - clock.now, 0))   # `timeout` ends it (SIGTERM)
        return Result(143)
    ctx.sleep(ns)
    return Result(0)
