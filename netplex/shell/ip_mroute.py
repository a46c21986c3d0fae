"""`ip mroute show` (iproute2 6.1 ip/ipmroute.c): the kernel's multicast forwarding cache.

One line per entry, resolved entries oldest first, then the unresolved ones:
`(S,G)` padded to 32 columns, `Iif: DEV` padded to 10, the output interfaces
(with `(ttl N)` when the threshold is above 1) and the state; `-s` adds the
packet and byte counts and the age since last use. Only the default table
exists here; `table`, `iif`, `from` and `to` filters are not modelled.
"""
from __future__ import annotations

from typing import Any

from netplex.shell.iproute_fmt import IpError, matches
from netplex.shell.result import Result

__all__ = ["do_ipmroute"]


def _age(ns_elapsed: int) -> str:
    cs = max(0, ns_elapsed) // 10_000_000
    return f"{cs // 100}.{cs % 100:02d}"


def do_ipmroute(ns: Any, opts: Any, args: list[str]) -> Result:
    if args and not (matches(args[0], "show") or matches(args[0], "list") or matches(args[0], "lst")):
        if matches(args[0], "help"):
            return Result(255, "", "Usage: ip mroute show [ [ to ] PREFIX ] [ from PREFIX ] [ iif DEVICE ]\n"
                                   "                      [ table TABLE_ID ]\n")
        raise IpError(f'Command "{args[0]}" is unknown, try "ip mroute help".', 255)
    rest = args[1:]
    show_table = False
    if rest:
        if rest[0] == "table" and len(rest) == 2 and rest[1] in ("all", "default", "253"):
            show_table = rest[1] == "all"
        else:
            raise IpError(f"netplex: ip mroute show {' '.join(rest)} is not supported", 2)
    mrt = ns.mrt
    if mrt is None:
        return Result(0)
    now = ns.sched.now
    out = []
    entries = [(c, False) for c in mrt.mfc.values()] + [(c, True) for c in mrt.live_unres()]
    for c, unres in entries:
        head = f"({ns.fmt_ip(c.origin)},{ns.fmt_ip(c.group)})"
        line = f"{head:<32} "
        if unres:
            line += "Iif: unresolved "
        else:
            vin = mrt.live_vif(c.parent)
            line += f"Iif: {vin.dev.name if vin is not None else 'unresolved':<10} "
            first = True
            for i, t in sorted(c.ttls.items()):
                v = mrt.live_vif(i)
                if t >= 255 or v is None or i == c.parent:
                    continue
                if first:
                    line += "Oifs: "
                    first = False
                line += v.dev.name + (f"(ttl {t}) " if t > 1 else " ")
        line += " State: " + ("unresolved" if unres else "resolved")
        if opts.stats and not unres:
            line += f"\n  {c.pkt} packets, {c.bytes} bytes"
            if c.wrong_if:
                line += f", {c.wrong_if} arrived on wrong iif."
            line += f", Age {_age(now - c.lastuse)}"
        if show_table:
            line += " Table: default"
        out.append(line + "\n")
    return Result(0, "".join(out))
