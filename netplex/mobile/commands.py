"""The EPC daemons' show commands, typed in a node's shell (netplex's own; no real tool has them).

    mme show ue                  the UE contexts: IMSI, S1AP ids, state, UE IP, t1 t6 t7 t8, eNodeB, TAI, TAI list
    enodeb show ue               the UEs at the eNodeB: S1AP ids, handover state, t7 t8, packets, forwarded
    enodeb show x2               the X2 neighbours: address, their cell (ECGI, PCI, TAC) from the X2 Setup
    enodeb handover UE TARGET    an X2-based handover of UE (its node name) to the neighbour TARGET
    mme detach IMSI              the MME-initiated detach (TS 23.401 §5.3.8.3): NAS Detach Request,
                                 GTPv2-C Delete Session on S11 and S5/S8, S1AP UE context release
    sgw show sessions            the sessions: IMSI, UE IP, t1..t8 as the SGW holds them, packets relayed
    pgw show bearers             the default bearers: IMSI, APN, UE IP, t2..t5, AMBR, packets, gated, PCC rules
    hss show subscriber IMSI     one subscription: APN, AMBR, PGW, SQN, the MME serving it
    hss show subscribers         every subscription
    sgsn show pdp                the MSs' MM and PDP contexts: IMSI, generation, state, APN, address, TEIDs
    ggsn show pdp                the PDP contexts: IMSI, APN, address, the SGSN's and the GGSN's TEIDs, packets
    hlr show subscriber IMSI     one GPRS subscription: MSISDN, APN, GGSN, SQN, the SGSN serving it

Each talks to the daemon of its node (found in the machine's process table,
as a CLI finds its daemon's control socket); without one it says so and
exits 1. A usage error prints the usage and exits 2. On the kernel twin the
same commands (netplex/twin/bin) ask the node's daemon process
(`twin_daemon cli`), which answers with `answer` below.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.apps.process import Program
from netplex.machine import Machine
from netplex.mobile.diameter_servers import Hss
from netplex.mobile.gateways import Pgw, Sgw
from netplex.mobile.gprs import Ggsn, Hlr, Sgsn
from netplex.mobile.mme import Mme
from netplex.mobile.ran import Enodeb
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["show", "request", "answer", "no_daemon"]

USAGE = {
    "mme": "Usage: mme show ue\n       mme detach IMSI\n",
    "enodeb": "Usage: enodeb show ue\n       enodeb show x2\n       enodeb handover UE TARGET\n",
    "sgw": "Usage: sgw show sessions\n",
    "pgw": "Usage: pgw show bearers\n",
    "hss": "Usage: hss show subscriber IMSI\n       hss show subscribers\n",
    "sgsn": "Usage: sgsn show pdp\n",
    "ggsn": "Usage: ggsn show pdp\n",
    "hlr": "Usage: hlr show subscriber IMSI\n",
}

Show = Callable[[Any], "str | Result | None"]


def request(argv: list[str]) -> tuple[type[Program], Show] | Result:
    """What `argv` asks of which daemon class, or the usage error."""
    name, args = argv[0], argv[1:]
    if name == "mme" and args == ["show", "ue"]:
        return Mme, Mme.show_ue
    if name == "mme" and len(args) == 2 and args[0] == "detach":
        imsi = args[1]
        return Mme, lambda m: m.detach(imsi)
    if name == "enodeb" and args in (["show", "ue"], ["show", "x2"]):
        return Enodeb, Enodeb.show_ue if args[1] == "ue" else Enodeb.show_x2
    if name == "enodeb" and len(args) == 3 and args[0] == "handover":
        ue, target = args[1], args[2]
        return Enodeb, lambda e: _handover(e, ue, target)
    if name == "sgw" and args == ["show", "sessions"]:
        return Sgw, Sgw.show_sessions
    if name == "pgw" and args == ["show", "bearers"]:
        return Pgw, Pgw.show_bearers
    if name == "hss" and args == ["show", "subscribers"]:
        return Hss, Hss.show_subscribers
    if name in ("hss", "hlr") and len(args) == 3 and args[:2] == ["show", "subscriber"]:
        imsi = args[2]
        return (Hss if name == "hss" else Hlr), lambda h: h.show_subscriber(imsi)
    if name in ("sgsn", "ggsn") and args == ["show", "pdp"]:
        return (Sgsn if name == "sgsn" else Ggsn), lambda d: d.show_pdp()
    return Result(2, "", USAGE.get(name, f"Usage: {name} show ...\n"))


def answer(argv: list[str], daemon: Program) -> Result:
    """The command's output from `daemon` (a subscriber the HSS does not have: exit 1)."""
    req = request(argv)
    if isinstance(req, Result):
        return req
    text = req[1](daemon)
    if isinstance(text, Result):
        return text
    if text is None and argv[0] == "mme":
        return Result(1, "", f"mme: no attached UE with IMSI {argv[-1]}\n")
    if text is None:
        return Result(1, "", f"{argv[0]}: no subscriber {argv[-1]}\n")
    return Result(0, text)


def _handover(enb: Enodeb, ue: str, target: str) -> Result:
    error = enb.handover(ue, target)
    return Result(0, "") if error is None else Result(1, "", error + "\n")


def no_daemon(name: str) -> Result:
    return Result(1, "", f"{name}: no {name.upper()} daemon runs on this node\n")


@command("mme", "enodeb", "sgw", "pgw", "hss", "sgsn", "ggsn", "hlr")
def show(ctx: Context, argv: list[str]) -> Result:
    """`mme|enodeb|sgw|pgw|hss|sgsn|ggsn|hlr show ...`: asked of the node's daemon of that name."""
    req = request(argv)
    if isinstance(req, Result):
        return req
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", f"{argv[0]}: this shell runs on no machine\n")
    for p in ctx.machine.procs.by_program(req[0]):
        if p.alive and p.program is not None:
            return answer(argv, p.program)
    return no_daemon(argv[0])
