"""The generic action (iproute2 tc/m_gact.c, tc-actions(8)): pass, drop, continue, ..."""
from __future__ import annotations

from netplex.shell.tc.tc_util import ActionUtil, Opts, TcExit, get_u32, next_index, parse_control, parse_cookie, tm
from netplex.stack.qdisc.act import Action, Gact, action_n2a


def _parse_gact(now: int, args: list[str], i: int, table: dict[str, dict[int, Action]],
                bind: bool) -> tuple[Action, int]:
    tbl = table.setdefault("gact", {})
    ctl = None
    if i < len(args) and args[i] != "index":
        r = parse_control(args, i)
        if r is None:
            raise TcExit(255, "Usage: ... gact <ACTION> [RAND] [INDEX]\n")
        ctl, i = r
    index = 0
    if i < len(args) and args[i] == "random":
        raise TcExit(2, "netplex: gact random is not supported\n")
    if i < len(args) and args[i] == "index":
        v = get_u32(args[i + 1], 10) if i + 1 < len(args) else None
        if v is None:
            raise TcExit(1, 'Illegal "index"\n')
        index = v
        i += 2
    if ctl is None:
        a = tbl.get(index)
        if a is None:
            raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")
        a.refcnt += 1
        if bind:
            a.bindcnt += 1
        return a, parse_cookie(args, i, a)
    if index and index in tbl:
        a = tbl[index]
        if bind:
            a.refcnt += 1
            a.bindcnt += 1
            return a, parse_cookie(args, i, a)
        raise TcExit(2, "RTNETLINK answers: File exists\nWe have an error talking to the kernel\n")
    a = Gact(index or next_index(tbl), ctl)
    if bind:
        a.bindcnt = 1
    a.installed = now
    i = parse_cookie(args, i, a)
    tbl[a.index] = a
    a.idr = tbl
    return a, i


def print_gact(a: Gact, o: Opts) -> str:
    s = f"gact action {action_n2a(a.control)}\n"
    s += "\t random type none pass val 0\n"
    s += f"\t index {a.index} ref {a.refcnt} bind {a.bindcnt}"
    if o.stats:
        s += tm(a)
    return s + "\n"


GACT = ActionUtil("gact", _parse_gact, print_gact)
