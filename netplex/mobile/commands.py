"""The EPC daemons' show commands, typed in a node's shell (netplex's own; no real tool has them).

    mme show ue                  the UE contexts: IMSI, S1AP ids, state, UE IP, t1 t6 t7 t8
    sgw show sessions            the sessions: IMSI, UE IP, t1..t8 as the SGW holds them, packets relayed
    pgw show bearers             the default bearers: IMSI, APN, UE IP, t2..t5, packets, gated, PCC rules
    hss show subscriber IMSI     one subscription: APN, AMBR, PGW, SQN, the MME serving it
    hss show subscribers         every subscription

Each talks to the daemon of its node (found in the machine's process table,
as a CLI finds its daemon's control socket); without one it says so and
exits 1. A usage error prints the usage and exits 2.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from netplex.apps.process import Program
from netplex.machine import Machine
from netplex.mobile.diameter_servers import Hss
from netplex.mobile.gateways import Pgw, Sgw
from netplex.mobile.mme import Mme
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["mme", "sgw", "pgw", "hss"]

D = TypeVar("D", bound=Program)

USAGE = {
    "mme": "Usage: mme show ue\n",
    "sgw": "Usage: sgw show sessions\n",
    "pgw": "Usage: pgw show bearers\n",
    "hss": "Usage: hss show subscriber IMSI\n       hss show subscribers\n",
}


def _daemon(ctx: Context, cls: type[D], name: str) -> D | Result:
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", f"{name}: this shell runs on no machine\n")
    for p in ctx.machine.procs.by_program(cls):
        if p.alive and isinstance(p.program, cls):
            return p.program
    return Result(1, "", f"{name}: no {name.upper()} daemon runs on this node\n")


def _show(ctx: Context, argv: list[str], cls: type[D], words: list[str], show: Callable[[D], str]) -> Result:
    """`NAME show WHAT`: the daemon's table, or the usage (2), or no daemon (1)."""
    name = argv[0]
    if argv[1:] != words:
        return Result(2, "", USAGE[name])
    d = _daemon(ctx, cls, name)
    return d if isinstance(d, Result) else Result(0, show(d))


@command("mme")
def mme(ctx: Context, argv: list[str]) -> Result:
    return _show(ctx, argv, Mme, ["show", "ue"], Mme.show_ue)


@command("sgw")
def sgw(ctx: Context, argv: list[str]) -> Result:
    return _show(ctx, argv, Sgw, ["show", "sessions"], Sgw.show_sessions)


@command("pgw")
def pgw(ctx: Context, argv: list[str]) -> Result:
    return _show(ctx, argv, Pgw, ["show", "bearers"], Pgw.show_bearers)


@command("hss")
def hss(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    if args == ["show", "subscribers"]:
        return _show(ctx, argv, Hss, args, Hss.show_subscribers)
    if len(args) != 3 or args[:2] != ["show", "subscriber"]:
        return Result(2, "", USAGE["hss"])
    d = _daemon(ctx, Hss, "hss")
    if isinstance(d, Result):
        return d
    text = d.show_subscriber(args[2])
    if text is None:
        return Result(1, "", f"hss: no subscriber {args[2]}\n")
    return Result(0, text)
