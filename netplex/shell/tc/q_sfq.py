"""sfq options (iproute2 tc/q_sfq.c, tc-sfq(8))."""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.tc_util import Opts, QdiscUtil, TcExit, fmt_g, get_u32, next_arg
from netplex.stack.qdisc import SfqOpts
from netplex.units import get_size, sprint_size

SFQ_USAGE = ("Usage: ... sfq	[ limit NUMBER ] [ perturb SECS ] [ quantum BYTES ]\n"
             "		[ divisor NUMBER ] [ flows NUMBER] [ depth NUMBER ]\n"
             "		[ headdrop ]\n"
             "		[ redflowlimit BYTES ] [ min BYTES ] [ max BYTES ]\n"
             "		[ avpkt BYTES ] [ burst PACKETS ] [ probability P ]\n"
             "		[ ecn ] [ harddrop ]\n")


def parse_sfq(opts: list[str]) -> SfqOpts:
    p: dict[str, Any] = {}
    red: dict[str, Any] = {}
    i = 0
    while i < len(opts):
        a = opts[i]
        val = opts[i + 1] if i + 1 < len(opts) else ""
        if a in ("quantum", "perturb", "limit", "divisor", "flows", "depth", "redflowlimit", "min", "max",
                 "avpkt", "burst", "probability"):
            next_arg(opts, i + 1)
            if a == "probability":
                try:
                    red[a] = float(val)
                except ValueError:
                    raise TcExit(1, f'Illegal "{a}"\n') from None
            else:
                v = get_size(val) if a in ("quantum", "redflowlimit", "min", "max", "avpkt") else get_u32(val, 0)
                if v is None:
                    raise TcExit(1, f'Illegal "{a}"\n')
                if a in ("redflowlimit", "min", "max", "avpkt", "burst"):
                    red[a] = v
                else:
                    p[a] = v
            i += 2
            continue
        if a == "headdrop":
            p["headdrop"] = True
        elif a in ("ecn", "harddrop"):
            red[a] = True
        elif a == "help":
            raise TcExit(1, SFQ_USAGE)
        else:
            raise TcExit(1, f'What is "{a}"?\n{SFQ_USAGE}')
        i += 1
    if red:
        p["red"] = red
    return SfqOpts(**p)


def print_sfq(q: Any, o: Opts) -> str:
    s = f"limit {q.limit}p quantum {sprint_size(q.quantum)} depth {q.depth} "
    if q.headdrop:
        s += "headdrop "
    if o.details:
        s += f"flows {q.flows} "
    s += f"divisor {q.divisor} "
    if q.perturb:
        s += f"perturb {q.perturb}sec "
    red = q.red or {}
    if red.get("min"):
        s += f"ewma {red.get('ewma', 6)} min {sprint_size(red['min'])} max {sprint_size(red.get('max', 0))} "
        s += f"probability {fmt_g(red.get('probability', 0.02))} "
        if red.get("ecn"):
            s += "ecn "
        if red.get("harddrop"):
            s += "harddrop "
    return s


def json_sfq(q: Any, o: Opts) -> dict[str, Any]:
    """sfq_print_opt under -j (sizes as numbers)."""
    d: dict[str, Any] = {"limit": q.limit, "quantum": q.quantum}
    if q.depth:
        d["depth"] = q.depth
    if q.headdrop:
        d["headdrop"] = True
    if o.details:
        d["flows"] = q.flows
    d["divisor"] = q.divisor
    if q.perturb:
        d["perturb"] = q.perturb
    red = q.red or {}
    if red.get("min"):
        d.update(ewma=red.get("ewma", 6), min=red["min"], max=red.get("max", 0),
                 probability=red.get("probability", 0.02))
        for flag in ("ecn", "harddrop"):   # tc_red_print_flags
            if red.get(flag):
                d[flag] = True
    return d


SFQ = QdiscUtil("sfq", parse_sfq, print_sfq, classless=True, json_qopt=json_sfq)
