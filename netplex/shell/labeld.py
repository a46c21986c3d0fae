"""`labeld` / `labelctl`: netplex's label distribution daemon (netplex/apps/labeld.py) and its state.

```
labeld [--interval SECONDS] [--holdtime SECONDS] PEER [PEER ...]
labelctl
```
`labeld` starts the daemon in the background (a process of the node: `ps` shows it, `kill`
ends it) and returns; one per network namespace; PEER is a neighbour LSR's address. The
defaults are LDP's targeted Hello timers (RFC 5036 §3.5.2: hold time 45 s, a Hello each
15 s). `labelctl` prints each peer (up or down, how many labels it advertised) and each FEC
advertised with its local label. Bad input gets a usage line and status 1, and nothing
starts. This is netplex's own tool (FRR's ldpd has its own configuration, not modelled).
"""
from __future__ import annotations

from typing import Any

from netplex.apps.labeld import Labeld, find_labeld
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["labelctl", "labeld"]

USAGE = "usage: labeld [--interval SECONDS] [--holdtime SECONDS] PEER [PEER ...]\n"


def _parse(args: list[str]) -> tuple[int, int, list[int]]:
    """(interval, hold time, peers); ValueError with the complaint."""
    timers = {"--interval": 15, "--holdtime": 45}
    peers: list[int] = []
    words = iter(args)
    for a in words:
        if a in timers:
            v = next(words, None)
            if v is None:
                raise ValueError(f"option {a} needs an argument")
            if not v.isdigit() or not 1 <= int(v) <= 65535:
                raise ValueError(f"invalid {a[2:]}: {v}")
            timers[a] = int(v)
        elif a.startswith("-"):
            raise ValueError(f"unknown option {a}")
        else:
            try:
                peer = ip_to_int(a)
            except ValueError:
                raise ValueError(f"invalid peer address: {a}") from None
            if peer in peers:
                raise ValueError(f"peer {a} given twice")
            peers.append(peer)
    if not peers:
        raise ValueError("at least one PEER is needed")
    if timers["--holdtime"] <= timers["--interval"]:
        raise ValueError("the hold time must be longer than the interval")
    return timers["--interval"], timers["--holdtime"], peers


@command("labeld")
def labeld(ctx: Context, argv: list[str]) -> Result:
    ns: Any = ctx.node
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: labeld: this shell runs on no machine\n")
    try:
        interval, hold, peers = _parse(argv[1:])
    except ValueError as e:
        return Result(1, "", f"labeld: {e}\n{USAGE}")
    if find_labeld(ctx.machine.procs, ns) is not None:
        return Result(1, "", "labeld: already running in this network namespace\n")
    proc = ctx.machine.procs.spawn(argv, ns, Labeld(peers, interval, hold))
    return Result(0) if proc.alive else Result(1, "", proc.error)


@command("labelctl")
def labelctl(ctx: Context, argv: list[str]) -> Result:
    d = find_labeld(ctx.machine.procs, ctx.node) if isinstance(ctx.machine, Machine) else None
    if len(argv) > 1 or d is None:
        return Result(1, "", "usage: labelctl\n" if len(argv) > 1 else "labelctl: labeld is not running\n")
    return Result(0, d.status())
