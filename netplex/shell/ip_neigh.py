"""`ip neighbour` (iproute2 6.1 ip/ipneigh.c): add, change, replace, del, show, flush (ARP table)."""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import bytes_to_mac, int_to_ip, prefix_to_mask
from netplex.shell import ip_json
from netplex.shell.ip_link import parse_lladdr
from netplex.shell.iproute_fmt import (
    IpError,
    duparg2,
    ifname_or_error,
    invarg,
    matches,
    need_arg,
    need_arg_past,
    parse_prefix,
)
from netplex.shell.result import Result
from netplex.stack.neigh import (
    NUD_DELAY,
    NUD_FAILED,
    NUD_INCOMPLETE,
    NUD_NAMES,
    NUD_NOARP,
    NUD_NONE,
    NUD_PERMANENT,
    NUD_PROBE,
    NUD_REACHABLE,
    NUD_STALE,
    NUD_VALID,
)

__all__ = ["do_ipneigh"]

_NUD = {"permanent": NUD_PERMANENT, "reachable": NUD_REACHABLE, "noarp": NUD_NOARP, "none": NUD_NONE,
        "stale": NUD_STALE, "incomplete": NUD_INCOMPLETE, "delay": NUD_DELAY, "probe": NUD_PROBE,
        "failed": NUD_FAILED}


def _modify(ns: Any, args: list[str], cmd: str) -> Result:
    dst: int | None = None
    devname = None
    lladdr: bytes | None = None
    state = NUD_PERMANENT
    i = 0
    while i < len(args):
        a = args[i]
        if a == "lladdr":
            i += 1
            lladdr = parse_lladdr(need_arg(args, i))
            if len(lladdr) < 6:   # neigh_add: NDA_LLADDR shorter than the device's address
                raise IpError("Error: Invalid link address.", 2)
            lladdr = lladdr[:6]
        elif a == "nud":
            i += 1
            v = need_arg(args, i)
            if v not in _NUD:
                raise invarg("nud state is bad", v)
            state = _NUD[v]
        elif a == "dev":
            i += 1
            devname = need_arg(args, i)
        elif a in ("proxy", "router", "extern_learn", "use", "managed", "protocol"):
            raise IpError(f"netplex: ip neigh {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "to")
            if dst is not None:
                raise duparg2("to", a)
            dst = parse_prefix(a, allow_default=False)[0]
        i += 1
    if devname is None or dst is None:
        raise IpError("Device and destination are required arguments.", 255)
    dev = ifname_or_error(ns, devname)
    table = ns.neigh
    if cmd == "del":
        if table.remove((dev.ifindex, dst)) is None:
            raise IpError("RTNETLINK answers: No such file or directory", 2)
        return Result(0)
    table.neigh_add(dev, dst, lladdr, state, create=cmd != "change", excl=cmd == "add")
    ns.config_changed()
    return Result(0)


def _state_names(state: int) -> str:
    if state == NUD_NONE:
        return "NONE"
    return " ".join(NUD_NAMES[b] for b in (NUD_INCOMPLETE, NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE,
                                           NUD_FAILED, NUD_NOARP, NUD_PERMANENT) if state & b)


def _select(ns: Any, args: list[str], flushing: bool) -> tuple[list[Any], Any]:
    dev = None
    prefix: tuple[int, int] | None = None
    mask = ~NUD_NOARP & 0xFF if not flushing else ~(NUD_PERMANENT | NUD_NOARP) & 0xFF
    show_none = False
    nud_given = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            name = need_arg(args, i)
            dev = ns.devices.get(name)
            if dev is None:
                raise IpError(f'Cannot find device "{name}"', 1)
        elif a == "nud":
            i += 1
            v = need_arg(args, i)
            if not nud_given:
                mask = 0
                nud_given = True
            if v == "all":
                mask = 0xFF
                show_none = True
            elif v in _NUD:
                mask |= _NUD[v]
                show_none = show_none or v == "none"
            else:
                raise invarg("nud state is bad", v)
        elif a in ("proxy", "unused", "vrf", "master", "nomaster", "router"):
            raise IpError(f"netplex: ip neigh show {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "to")
            prefix = parse_prefix(a)
        i += 1
    out = []
    for n in list(ns.neigh.entries.values()):
        ns.neigh.refresh(n)
        if dev is not None and n.dev is not dev:
            continue
        if prefix is not None and (n.ip & prefix_to_mask(prefix[1])) != prefix[0]:
            continue
        if n.state == NUD_NONE:
            if not (show_none or flushing and not nud_given):   # a flush without `nud` takes NONE entries too
                continue
        elif not n.state & mask:
            continue
        out.append(n)
    return out, dev


def _cacheinfo(ns: Any, n: Any) -> dict[str, int]:
    """neigh_fill_info's nda_cacheinfo as iproute2 prints it: whole seconds since the entry
    was last used, confirmed and updated (clock_t ticks divided by USER_HZ)."""
    now = ns.sched.now
    return {key: max(0, now - t) // 10_000_000 // 100
            for key, t in (("used", n.used), ("confirmed", n.confirmed), ("updated", n.updated))}


def _show(ns: Any, opts: Any, args: list[str]) -> Result:
    entries, dev = _select(ns, args, False)
    if opts.json:
        objs = []
        for n in entries:
            o: dict[str, Any] = {"dst": int_to_ip(n.ip)}
            if dev is None:
                o["dev"] = n.dev.name
            if n.lladdr is not None and n.state & NUD_VALID:   # neigh_fill_info: NDA_LLADDR only then
                o["lladdr"] = bytes_to_mac(n.lladdr)
            if opts.stats:
                ref = ns.neigh.refcnt(n)
                if ref:   # print_cacheinfo: refcnt only when non-zero
                    o["refcnt"] = ref
                o.update(_cacheinfo(ns, n))
                o["probes"] = n.probes
            if n.state:   # print_neigh: NUD_NONE prints no state
                o["state"] = _state_names(n.state).split()
            objs.append(o)
        return Result(0, ip_json.dump(objs, opts.pretty))
    out = []
    for n in entries:
        if opts.brief:
            mac = bytes_to_mac(n.lladdr) if n.lladdr is not None and n.state & NUD_VALID else ""
            devcol = f"{n.dev.name:<16} " if dev is None else ""   # print_neigh: no device when filtered by one
            out.append(f"{int_to_ip(n.ip):<39} {devcol}{mac}\n")
            continue
        parts = [int_to_ip(n.ip)]
        if dev is None:
            parts.append(f"dev {n.dev.name}")
        if n.lladdr is not None and n.state & NUD_VALID:   # neigh_fill_info: NDA_LLADDR only then
            parts.append(f"lladdr {bytes_to_mac(n.lladdr)}")
        if opts.stats:
            # print_cacheinfo (" ref %u" when non-zero, " used %u/%u/%u") then "probes %u " without a blank
            used, confirmed, updated = _cacheinfo(ns, n).values()
            ref = ns.neigh.refcnt(n)
            parts[-1] += (f"  ref {ref}" if ref else " ") + f" used {used}/{confirmed}/{updated}probes {n.probes}"
        if n.state:   # print_neigh: NUD_NONE prints no state
            parts.append(_state_names(n.state))
        out.append(" ".join(parts) + " \n")
    return Result(0, "".join(out))


def _flush(ns: Any, args: list[str]) -> Result:
    if not args:
        raise IpError("Flush requires arguments.", 1)
    entries, _ = _select(ns, args, True)
    for n in entries:
        ns.neigh.remove((n.dev.ifindex, n.ip))
    return Result(0)


def do_ipneigh(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args:
        return _show(ns, opts, [])
    cmd, rest = args[0], args[1:]
    if matches(cmd, "add"):
        return _modify(ns, rest, "add")
    if matches(cmd, "change") or cmd == "chg":
        return _modify(ns, rest, "change")
    if matches(cmd, "replace"):
        return _modify(ns, rest, "replace")
    if matches(cmd, "delete"):
        return _modify(ns, rest, "del")
    if matches(cmd, "get"):
        raise IpError("netplex: ip neigh get is not supported", 2)
    if matches(cmd, "show") or matches(cmd, "lst") or matches(cmd, "list"):
        return _show(ns, opts, rest)
    if matches(cmd, "flush"):
        return _flush(ns, rest)
    raise IpError(f'Command "{cmd}" is unknown, try "ip neigh help".', 255)
