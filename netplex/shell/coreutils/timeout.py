"""timeout(1) as GNU coreutils (src/timeout.c): run a command with a time limit in simulated time.

    timeout [-s SIGNAL] [-k DURATION] [--preserve-status] [--foreground] [-v] DURATION COMMAND [ARG]...

The command runs with `Context.deadline` set (simulated nanoseconds); a
command that waits (sleep, etcdctl watch) stops there, as it would on the
signal. When the command ended at or after the deadline, timeout exits 124
(the command's own status with --preserve-status, 137 with `-s KILL`; `-v`
says which signal it sent); otherwise the command's status. 125: timeout's own error, 127: no such
command. netplex's commands run to completion inside one shell step, so a
command that does not wait on the deadline (a `ping -c 100`) is not cut short:
only its status becomes 124.
"""
from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from netplex.apps.process import signal_number
from netplex.machine import Machine
from netplex.shell.coreutils.common import text_tool, try_help
from netplex.shell.registry import Context, lookup
from netplex.shell.result import Result

__all__ = ["timeout"]

EXIT_TIMEDOUT, EXIT_CANCELED, EXIT_ENOENT = 124, 125, 127
SIGKILL = 9
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
NSEC_PER_SEC = 1_000_000_000


def _duration(text: str) -> int | None:
    """parse_duration: a non-negative float with an optional s/m/h/d suffix, in nanoseconds."""
    m = re.fullmatch(r"(\d+\.?\d*|\.\d+)([smhd]?)", text)
    if not m:
        return None
    return int(Decimal(m.group(1)) * _UNITS[m.group(2)] * NSEC_PER_SEC)


def _fail(msg: str, hint: bool = False) -> Result:
    """timeout's own error (125); a missing operand says only where to get help, as coreutils 9.1 does."""
    return Result(EXIT_CANCELED, "", (f"timeout: {msg}\n" if msg else "") + (try_help("timeout") if hint else ""))


@text_tool("timeout")
def timeout(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    sig, verbose, preserve = "TERM", False, False
    while args and args[0].startswith("-") and args[0] != "-":
        a = args.pop(0)
        if a == "--":
            break
        name, eq, value = a.partition("=")
        if name in ("-s", "--signal", "-k", "--kill-after") or (a[:2] in ("-s", "-k") and len(a) > 2):
            if not eq and len(a) > 2 and not a.startswith("--"):
                name, value = a[:2], a[2:]
            elif not eq:
                if not args:
                    return _fail(f"option requires an argument -- '{name.lstrip('-')[0]}'", hint=True)
                value = args.pop(0)
            if name in ("-s", "--signal"):
                if signal_number(value) is None:
                    return _fail(f"'{value}': invalid signal", hint=True)
                sig = value.upper().removeprefix("SIG") if not value.isdigit() else value
            elif _duration(value) is None:
                return _fail(f"invalid time interval '{value}'", hint=True)
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a == "--preserve-status":
            preserve = True
        elif a == "--foreground":
            pass
        else:
            return _fail(f"invalid option -- '{a.lstrip('-')[:1]}'" if not a.startswith("--")
                         else f"unrecognized option '{a}'", hint=True)
    if not args:
        return _fail("", hint=True)
    limit = _duration(args[0])
    if limit is None:
        return _fail(f"invalid time interval '{args[0]}'", hint=True)
    cmd = args[1:]
    if not cmd:
        return _fail("", hint=True)
    fn = lookup(cmd[0])
    if fn is None:
        return Result(EXIT_ENOENT, "", f"timeout: failed to run command '{cmd[0]}': No such file or directory\n")
    clock = ctx.machine.world if isinstance(ctx.machine, Machine) else None
    if clock is None or limit == 0:          # DURATION 0 disables the limit
        return fn(ctx, cmd)
    deadline = clock.now + limit
    if ctx.deadline is not None:
        deadline = min(deadline, ctx.deadline)
    r = fn(dataclasses.replace(ctx, deadline=deadline), cmd)
    if clock.now < deadline:
        return r
    err = r.error + (f"timeout: sending signal {sig} to command '{cmd[0]}'\n" if verbose else "")
    if signal_number(sig) == SIGKILL:      # timeout is in the command's process group: it dies too
        return Result(128 + SIGKILL, r.output, err)
    return Result(r.status if preserve else EXIT_TIMEDOUT, r.output, err)
