"""prio and pfifo_fast options (iproute2 tc/q_prio.c, tc-prio(8))."""
from __future__ import annotations

import re
from typing import Any

from netplex.shell.tc.tc_util import Opts, QdiscUtil, TcExit, get_u32, next_arg
from netplex.stack.qdisc import PrioOpts


def parse_pfifo_fast(opts: list[str]) -> None:
    if opts:
        raise TcExit(1, f"What is \"{opts[0]}\"?\nUsage: ... prio bands NUMBER priomap P1 P2...[multiqueue]\n")


PRIO_USAGE = "Usage: ... prio bands NUMBER priomap P1 P2...[multiqueue]\n"


def parse_prio(opts: list[str]) -> PrioOpts:
    bands = 3
    priomap: list[int] | None = None
    i = 0
    while i < len(opts):
        a = opts[i]
        if a == "bands":
            i += 1
            v = get_u32(next_arg(opts, i), 10)
            if v is None:
                raise TcExit(1, "Illegal \"bands\"\n")
            bands = v
        elif a == "priomap":
            priomap = []
            i += 1
            while i < len(opts) and re.fullmatch(r"\d+", opts[i]):
                if len(priomap) == 16:
                    raise TcExit(1, "Illegal \"priomap\"\n")
                priomap.append(int(opts[i]))
                i += 1
            continue
        elif a == "multiqueue":
            pass
        else:
            raise TcExit(1, f"What is \"{a}\"?\n{PRIO_USAGE}")
        i += 1
    if priomap is not None:
        for p in priomap:
            if p >= bands:
                raise TcExit(1, "Illegal \"priomap\" element\n")
    if bands < 2 or bands > 16:
        raise TcExit(2, "RTNETLINK answers: Invalid argument\n")
    pm = list(priomap or [])
    base = (1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
    pm = pm + list(base[len(pm):])
    return PrioOpts(bands, tuple(pm))


def print_prio(q: Any, o: Opts) -> str:
    return f"bands {q.bands} priomap" + "".join(f" {x}" for x in q.priomap)


def json_prio(q: Any, o: Opts) -> dict[str, Any]:
    """prio_print_opt under -j (pfifo_fast prints through it too): no TCA_PRIO_MQ is dumped."""
    return {"bands": q.bands, "priomap": list(q.priomap), "multiqueue": False}


PRIO = QdiscUtil("prio", parse_prio, print_prio, json_qopt=json_prio)
PFIFO_FAST = QdiscUtil("pfifo_fast", parse_pfifo_fast, print_prio, classless=True, json_qopt=json_prio)
