"""`ip address` (iproute2 6.1 ip/ipaddress.c): add, del, replace, show, flush (IPv4)."""
from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from netplex.packet.addr import int_to_ip, prefix_to_mask
from netplex.shell import ip_json
from netplex.shell.ip_link import show_devices
from netplex.shell.iproute_fmt import (
    IpError,
    duparg2,
    ifname_or_error,
    invarg,
    link_header,
    link_lines,
    link_name,
    link_netns,
    matches,
    need_arg,
    operstate,
    parse_inet_addr,
    parse_prefix,
    parse_u32,
)
from netplex.shell.result import Result
from netplex.stack.netns import IfAddr
from netplex.stack.route import RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, SCOPE_IDS, SCOPE_NAMES

__all__ = ["do_ipaddr", "parse_scope"]

_WILDCARD_WARNING = (
    "Warning: Executing wildcard deletion to stay compatible with old scripts.\n"
    "         Explicitly specify the prefix length ({0}/32) to avoid this warning.\n"
    "         This special behaviour is likely to disappear in further releases,\n"
    "         fix your scripts!\n")


def parse_scope(text: str, what: str = "invalid scope value.") -> int:
    if text in SCOPE_IDS:
        return SCOPE_IDS[text]
    n = parse_u32(text)
    if n is None or n > 255:
        raise invarg(what, text)
    return n


def _scope_name(scope: int) -> str:
    return SCOPE_NAMES.get(scope, str(scope))


_IPV6_ONLY_FLAGS = ("home", "nodad", "optimistic", "mngtmpaddr")


def _modify(ns: Any, args: list[str], cmd: str) -> Result:
    """ipaddr_modify. An IPv6-only flag (home, nodad, optimistic, mngtmpaddr) is dropped with a warning
    printed as it is read, so the warning comes before whatever the command says next."""
    warnings: list[str] = []
    try:
        r = _modify_read(ns, args, cmd, warnings)
    except IpError as e:
        raise IpError("".join(warnings) + e.message, e.status) from None
    return Result(r.status, r.output, "".join(warnings) + r.error)


def _modify_read(ns: Any, args: list[str], cmd: str, warnings: list[str]) -> Result:
    local: tuple[int, int] | None = None
    local_text = ""
    peer: tuple[int, int] | None = None
    brd: str | None = None
    label: str | None = None
    scope: int | None = None
    devname: str | None = None
    metric = 0
    noprefixroute = False
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "peer") or matches(a, "remote"):
            i += 1
            peer = parse_prefix(need_arg(args, i), allow_default=False)
        elif matches(a, "broadcast") or a == "brd":
            i += 1
            brd = need_arg(args, i)
            if brd not in ("+", "-"):
                parse_inet_addr(brd)
        elif matches(a, "label"):
            i += 1
            label = need_arg(args, i)
        elif matches(a, "scope"):
            i += 1
            scope = parse_scope(need_arg(args, i))
        elif a == "dev":
            i += 1
            devname = need_arg(args, i)
        elif a in ("metric", "priority", "preference"):
            i += 1
            v = need_arg(args, i)
            n = parse_u32(v)
            if n is None:
                raise invarg('"metric" value is invalid\n', v)
            metric = n
        elif a == "noprefixroute":
            noprefixroute = True
        elif a in ("valid_lft", "preferred_lft"):
            i += 1
            v = need_arg(args, i)
            if v != "forever":
                raise IpError(f"netplex: ip address {a} other than forever is not supported", 2)
        elif a in _IPV6_ONLY_FLAGS:   # netplex's addresses are IPv4
            warnings.append(f"Warning: {a} option can be set only for IPv6 addresses\n")
        elif a in ("autojoin", "anycast", "proto"):
            raise IpError(f"netplex: ip address {a} is not supported", 2)
        else:
            if matches(a, "local"):
                i += 1
                a = need_arg(args, i)
            if local is not None:
                raise duparg2("local", a)
            local = parse_prefix(a, allow_default=False)
            local_text = a
        i += 1
    if devname is None:
        raise IpError('Not enough information: "dev" argument is required.', 1)
    if label is not None and not label.startswith(devname):
        raise IpError(f'"dev" ({devname}) must match "label" ({label}).', 1)
    if local is None:
        raise IpError("netplex: ip address without an address is not supported", 2)
    dev = ifname_or_error(ns, devname)
    addr, plen = local
    warn = ""
    if cmd == "del":
        explicit = "/" in local_text
        if not explicit:
            warn = _WILDCARD_WARNING.format(int_to_ip(addr))
        for ifa in ns.dev_addrs(dev):
            if ifa.addr != addr or (explicit and ifa.plen != plen):
                continue
            if label is not None and ifa.label != label:
                continue
            ns.del_addr(ifa)
            return Result(0, "", warn)
        return Result(2, "", warn + "Error: ipv4: Address not found.\n")
    if peer is not None:
        raise IpError("netplex: ip address peer is not supported", 2)
    if scope is None:
        scope = RT_SCOPE_HOST if addr >> 24 == 127 else RT_SCOPE_UNIVERSE
    mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0
    brd_addr: int | None = None
    if brd == "+":
        brd_addr = (addr | ~mask) & 0xFFFFFFFF if plen < 31 else None
    elif brd == "-":
        brd_addr = addr & mask
    elif brd is not None:
        brd_addr = parse_inet_addr(brd)
    existing = [o for o in ns.dev_addrs(dev) if o.addr == addr and o.plen == plen]
    if existing and cmd == "add":
        raise IpError("Error: ipv4: Address already assigned.", 2)
    ifa = IfAddr(addr, plen, dev, brd=brd_addr, scope=scope, label=label, noprefixroute=noprefixroute,
                 metric=metric)
    ns.add_addr(ifa, replace=bool(existing))
    return Result(0)


def addr_lines(ifa: IfAddr) -> list[str]:
    s = f"    inet {int_to_ip(ifa.addr)}/{ifa.plen}"
    if ifa.metric:   # IFA_RT_PRIORITY, printed before the broadcast address
        s += f" metric {ifa.metric}"
    if ifa.brd:
        s += f" brd {int_to_ip(ifa.brd)}"
    s += f" scope {_scope_name(ifa.scope)}"
    if ifa.secondary:
        s += " secondary"
    if ifa.noprefixroute:
        s += " noprefixroute"
    s += f" {ifa.label}"
    return [s, "       valid_lft forever preferred_lft forever"]


def _show_json(ns: Any, opts: Any, args: list[str]) -> Result:
    """ipaddr_list_flush_or_save with -j: each device's link object with its addr_info."""
    devs = show_devices(ns, args, "addr")
    objs = []
    for dev in show_devices(ns, [a for a in args if a != "up"], "addr"):
        if dev not in devs:   # the `up` filter leaves an empty object (print_linkinfo returns late)
            objs.append({})
            continue
        addrs = ns.dev_addrs(dev)
        if opts.family == "inet" and not addrs:
            continue
        obj = ip_json.link_json(dev, mode=False, lladdr=opts.family != "inet", machine=opts.machine)
        if opts.family != "link":
            obj["addr_info"] = [ip_json.addr_json(a) for a in addrs]
        if opts.stats:
            obj["stats64"] = ip_json.stats64_json(dev, opts.stats)
        objs.append(obj)
    return Result(0, ip_json.dump(objs, opts.pretty))


def _show(ns: Any, opts: Any, args: list[str]) -> Result:
    if opts.json:
        return _show_json(ns, opts, args)
    filtering = any(a in ("scope", "primary", "secondary", "permanent") for a in args)
    for a in args:
        if a in ("label", "to", "dynamic", "tentative", "deprecated", "dadfailed", "temporary"):
            raise IpError(f"netplex: ip address show {a} is not supported", 2)
    if filtering:
        args, match = _addr_filter(ns, args)
    devs = show_devices(ns, args, "addr")
    out: list[str] = []
    for dev in devs:
        addrs = ns.dev_addrs(dev)
        if filtering:
            # ipaddr_filter: a device none of whose addresses passes goes; one without any stays
            kept = [x for x in addrs if match(x)]
            if addrs and not kept:
                continue
            addrs = kept
        if opts.family == "inet" and not addrs and not opts.brief:
            continue
        if opts.brief:
            line = f"{link_name(dev):<16} {operstate(dev):<14} "
            if opts.family != "link":
                # print_addrinfo in brief mode: the address, then IFA_RT_PRIORITY
                line += "".join(f"{int_to_ip(a.addr)}/{a.plen} " + (f"metric {a.metric} " if a.metric else "")
                                for a in addrs)
            out.append(line + "\n")
            continue
        if opts.oneline:
            if opts.family != "link":
                for a in addrs:
                    out.append(f"{dev.ifindex}: {dev.name}" + "\\".join(addr_lines(a)) + "\n")
            else:
                out.append("\\".join(link_lines(dev, mode=False, stats=opts.stats, machine=opts.machine)) + "\n")
            continue
        if opts.family == "inet":
            head = link_header(dev, mode=False)
            netns = link_netns(dev, opts.machine)
            if netns is not None:
                head += netns
            lines = [head]
        else:
            lines = link_lines(dev, mode=False, stats=opts.stats, details=opts.details, machine=opts.machine)
        if opts.family != "link":
            for a in addrs:
                lines += addr_lines(a)
        out.append("\n".join(lines) + "\n")
    return Result(0, "".join(out))


def _addr_filter(ns: Any, args: list[str]) -> tuple[list[str], Callable[[IfAddr], bool]]:
    """ipaddr_list_flush_or_save's address filters: `scope`, `label PATTERN`, `to PREFIX`,
    `primary`, `secondary`, `permanent`, `dynamic`; the other words are the device filter."""
    rest: list[str] = []
    tests: list[Callable[[IfAddr], bool]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "scope":
            i += 1
            scope = parse_scope(need_arg(args, i))
            tests.append(lambda f, scope=scope: f.scope == scope)
        elif a == "label":
            i += 1
            pattern = need_arg(args, i)
            tests.append(lambda f, pattern=pattern: fnmatch.fnmatchcase(f.label, pattern))
        elif a == "to":
            i += 1
            prefix, plen = parse_prefix(need_arg(args, i))
            mask = prefix_to_mask(plen)
            tests.append(lambda f, prefix=prefix, mask=mask: f.addr & mask == prefix & mask)
        elif a in ("primary", "secondary"):
            want = a == "secondary"
            tests.append(lambda f, want=want: f.secondary == want)
        elif a == "permanent":
            pass   # every address netplex holds is permanent (no valid_lft)
        elif a == "dynamic":
            tests.append(lambda f: False)
        else:
            rest.append(a)
            if a in ("dev", "master", "type") and i + 1 < len(args):
                i += 1
                rest.append(args[i])
        i += 1
    return rest, lambda f: all(t(f) for t in tests)


def _flush(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args:
        raise IpError("Flush requires arguments.", 1)
    args, match = _addr_filter(ns, args)
    devs = show_devices(ns, args, "addr")
    for dev in devs:
        # ipaddr_flush: delete what matches until nothing does (a primary takes its secondaries)
        while True:
            victims = [a for a in ns.dev_addrs(dev) if match(a)]
            if not victims:
                break
            ns.del_addr(victims[0])
    return Result(0)


def do_ipaddr(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args:
        return _show(ns, opts, [])
    cmd, rest = args[0], args[1:]
    if matches(cmd, "add"):
        return _modify(ns, rest, "add")
    if matches(cmd, "change") or cmd == "chg" or matches(cmd, "replace"):
        return _modify(ns, rest, "replace")
    if matches(cmd, "delete"):
        return _modify(ns, rest, "del")
    if matches(cmd, "list") or matches(cmd, "show") or matches(cmd, "lst"):
        return _show(ns, opts, rest)
    if matches(cmd, "flush"):
        return _flush(ns, opts, rest)
    if matches(cmd, "save") or matches(cmd, "showdump") or matches(cmd, "restore") or matches(cmd, "help"):
        raise IpError(f"netplex: ip address {cmd} is not supported", 2)
    raise IpError(f'Command "{cmd}" is unknown, try "ip address help".', 255)
