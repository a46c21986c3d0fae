"""`ip route` (iproute2 6.1 ip/iproute.c): add, del, change, replace, append, show, get, flush.

The checks the kernel makes when a route is created (fib_create_info,
fib_check_nh_v4_gw) are made here before the FIB changes: a gateway must be
reachable through a route of narrower scope (a connected route) unless
`onlink`, the nexthop device must be up, a preferred source must be local.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from netplex.packet.addr import int_to_ip, prefix_to_mask
from netplex.packet.mpls import MPLS_LABEL_IMPLNULL
from netplex.shell import ip_json
from netplex.shell.ip_addr import parse_scope
from netplex.shell.ip_mpls import do_mpls_route, parse_mpls_labels
from netplex.shell.iproute_fmt import (
    IpError,
    duparg2,
    ifname_or_error,
    invarg,
    matches,
    need_arg,
    need_arg_past,
    parse_inet_addr,
    parse_prefix,
    parse_tos,
    parse_u32,
)
from netplex.shell.result import Result
from netplex.shell.rt_tables import DEFAULT_RT_TABLES, RtTables
from netplex.stack.route import (
    ROUTE_ERROR_TYPES,
    RT_SCOPE_HOST,
    RT_SCOPE_LINK,
    RT_SCOPE_UNIVERSE,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    SCOPE_NAMES,
    Nexthop,
    Route,
)

__all__ = ["do_iproute", "route_line"]

_TYPES = ("unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw",
          "nat", "anycast")
PROTO_IDS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
              "mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
              "keepalived": 18, "babel": 42, "openr": 99, "bgp": 186, "isis": 187, "ospf": 188,
              "rip": 189, "eigrp": 192}
PROTO_NAMES = {v: k for k, v in PROTO_IDS.items()}
_ERRNO_TEXT = {101: "Network is unreachable", 113: "No route to host", 22: "Invalid argument",
               13: "Permission denied", 1: "Operation not permitted"}


def parse_table(text: str, tables: RtTables = DEFAULT_RT_TABLES, what: str = "table id value is invalid\n") -> int:
    """rtnl_rttable_a2n; `what` is iproute2's complaint (iproute_modify's: '"table" value is invalid')."""
    if text == "all":
        return 0
    n = tables.id(text)
    if n is None:
        raise invarg(what, text)
    return n


def _dst_text(r: Route) -> str:
    if r.plen == 0 and r.dst == 0:
        return "default"
    if r.plen == 32:
        return int_to_ip(r.dst)
    return f"{int_to_ip(r.dst)}/{r.plen}"


def route_line(r: Route, *, show_table: bool = False, show_dev: bool = True, show_proto: bool = True,
               show_scope: bool = True, tables: RtTables = DEFAULT_RT_TABLES) -> str:
    """iproute2's print_route: what a show selector fixed (a device, a protocol, a scope) is not printed again."""
    parts: list[str] = []
    if r.type != "unicast":
        parts.append(r.type)
    parts.append(_dst_text(r))
    if r.nhid is not None:      # print_route: RTA_NH_ID right after the destination
        parts.append(f"nhid {r.nhid}")
    if r.encap:     # lwt_print_encap: " encap %s ", print_encap_mpls: " %s "
        parts.append(f" encap mpls  {'/'.join(map(str, r.encap))}")
    if r.gw is not None and not r.nhs:
        parts.append(f"via {int_to_ip(r.gw)}")
    if r.dev is not None and show_dev and not r.nhs:
        parts.append(f"dev {r.dev.name}")
    if show_table and r.table != RT_TABLE_MAIN:
        parts.append(f"table {tables.name(r.table)}")
    if r.proto != 3 and show_proto:
        parts.append(f"proto {PROTO_NAMES.get(r.proto, str(r.proto))}")
    if r.scope != RT_SCOPE_UNIVERSE and show_scope:
        parts.append(f"scope {SCOPE_NAMES.get(r.scope, str(r.scope))}")
    if r.src is not None:
        parts.append(f"src {int_to_ip(r.src)}")
    if r.metric:
        parts.append(f"metric {r.metric}")
    linkdown = r.dev is not None and r.scope != RT_SCOPE_HOST and not r.dev.has_carrier() and not r.nhs
    if linkdown and ignore_linkdown(r.dev):
        parts.append("dead")
    if r.onlink:
        parts.append("onlink")
    if linkdown:
        parts.append("linkdown")
    metrics = _metrics_text(r, r.mtu)
    if metrics:
        parts.append(metrics)
    return " ".join(parts) + " " + "".join(_nexthop_text(nh) for nh in r.nhs)


def _nexthop_text(nh: Nexthop) -> str:
    """print_rta_multipath: a tab-indented line per nexthop, its flags as print_rt_flags orders them
    (dead: the device is down, fib_sync_down_dev; linkdown: no carrier, fib_sync_down_dev on NETDEV_CHANGE)."""
    out = "\n\tnexthop "
    if nh.gw is not None:
        out += f"via {int_to_ip(nh.gw)} "
    out += f"dev {nh.dev.name} weight {nh.weight} "
    linkdown = not nh.dev.up or not nh.dev.has_carrier()
    if not nh.dev.up or (linkdown and ignore_linkdown(nh.dev)):
        out += "dead "
    if nh.onlink:
        out += "onlink "
    if linkdown:
        out += "linkdown "
    return out


def ignore_linkdown(dev: Any) -> bool:
    """IN_DEV_IGNORE_ROUTES_WITH_LINKDOWN: fib_nexthop_info reports a linkdown nexthop dead too."""
    values = dev.ns.sysctl.values
    return (values["net.ipv4.conf.all.ignore_routes_with_linkdown"] != "0"
            or values.get(f"net.ipv4.conf.{dev.name}.ignore_routes_with_linkdown", "0") != "0")


def _metrics_text(r: Route, mtu: int | None) -> str:
    """print_rta_metrics: RTA_METRICS in RTAX order (mtu, advmss), each `NAME [lock ]VALUE`; zero is not kept."""
    parts = []
    if mtu:
        parts.append(f"mtu {'lock ' if r.mtu_lock else ''}{mtu}")
    if r.advmss:
        parts.append(f"advmss {'lock ' if r.advmss_lock else ''}{r.advmss}")
    return " ".join(parts)


def route_json(r: Route, *, show_table: bool = False, show_dev: bool = True, show_proto: bool = True,
               show_scope: bool = True, tables: RtTables = DEFAULT_RT_TABLES) -> dict[str, Any]:
    """`ip -j route show`: route_line's fields with print_route's JSON keys."""
    o: dict[str, Any] = {}
    if r.type != "unicast":
        o["type"] = r.type
    o["dst"] = _dst_text(r)
    if r.nhid is not None:
        o["nhid"] = r.nhid
    if r.gw is not None and not r.nhs:
        o["gateway"] = int_to_ip(r.gw)
    if r.dev is not None and show_dev and not r.nhs:
        o["dev"] = r.dev.name
    if show_table and r.table != RT_TABLE_MAIN:
        o["table"] = tables.name(r.table)
    if r.proto != 3 and show_proto:
        o["protocol"] = PROTO_NAMES.get(r.proto, str(r.proto))
    if r.scope != RT_SCOPE_UNIVERSE and show_scope:
        o["scope"] = SCOPE_NAMES.get(r.scope, str(r.scope))
    if r.src is not None:
        o["prefsrc"] = int_to_ip(r.src)
    if r.metric:
        o["metric"] = r.metric
    linkdown = r.dev is not None and r.scope != RT_SCOPE_HOST and not r.dev.has_carrier() and not r.nhs
    flags = ["dead"] if linkdown and ignore_linkdown(r.dev) else []
    if r.onlink:
        flags.append("onlink")
    if linkdown:
        flags.append("linkdown")
    o["flags"] = flags
    metrics = {k: v for k, v in (("mtu", r.mtu), ("advmss", r.advmss)) if v}
    if metrics:
        o["metrics"] = [metrics]
    if r.nhs:
        o["nexthops"] = [_nexthop_json(nh) for nh in r.nhs]
    return o


def _nexthop_json(nh: Nexthop) -> dict[str, Any]:
    o: dict[str, Any] = {}
    if nh.gw is not None:
        o["gateway"] = int_to_ip(nh.gw)
    o["dev"] = nh.dev.name
    o["weight"] = nh.weight
    o["flags"] = _nexthop_text(nh).split("weight ")[1].split()[1:]
    return o


class _RouteReq:
    def __init__(self) -> None:
        self.type: str | None = None
        self.dst: tuple[int, int] | None = None
        self.gw: int | None = None
        self.dev: Any = None
        self.src: int | None = None
        self.metric: int | None = None
        self.table: int | None = None
        self.proto: int | None = None
        self.nhid: int | None = None
        self.scope: int | None = None
        self.onlink = False
        self.mtu: int | None = None
        self.mtu_lock = False
        self.advmss: int | None = None
        self.advmss_lock = False
        self.encap: tuple[int, ...] = ()
        self.nhs: list[tuple[int | None, Any, int, bool]] = []   # (via, dev, weight, onlink)


def _parse_nexthops(ns: Any, args: list[str], i: int, req: _RouteReq) -> None:
    """iproute2's parse_nexthops/parse_one_nh: `nexthop [via ADDR] [dev NAME] [weight 1-256] [onlink]`
    repeated to the end of the line."""
    while i < len(args):
        if args[i] != "nexthop":
            raise IpError(f'Error: "nexthop" or end of line is expected instead of "{args[i]}"', 255)
        if i + 1 >= len(args):
            raise IpError('Error: unexpected end of line after "nexthop"', 255)
        i += 1
        gw: int | None = None
        dev = None
        weight = 1
        onlink = False
        while i < len(args) and args[i] != "nexthop":
            a = args[i]
            if a == "via":
                v, i = need_arg_past(args, i + 1, "inet")
                gw = parse_inet_addr(v)
            elif a == "dev":
                i += 1
                name = need_arg(args, i)
                dev = ns.devices.get(name)
                if dev is None:
                    raise IpError(f'Cannot find device "{name}"\nError: cannot parse nexthop', 255)
            elif a == "weight":
                i += 1
                v = need_arg(args, i)
                w = parse_u32(v)
                if w is None or w == 0 or w > 256:
                    raise invarg('"weight" is invalid\n', v)
                weight = w
            elif a == "onlink":
                onlink = True
            elif a in ("realms", "encap", "as"):
                raise IpError(f"netplex: ip route nexthop {a} is not supported", 2)
            else:
                raise IpError(f'Error: "nexthop" or end of line is expected instead of "{a}"', 255)
            i += 1
        req.nhs.append((gw, dev, weight, onlink))


def parse_rtprot(text: str) -> int:
    """rtnl_rtprot_a2n: a name from rt_protos or a number 0-255, else invarg."""
    n = PROTO_IDS[text] if text in PROTO_IDS else parse_u32(text)
    if n is None or n > 255:
        raise invarg('"protocol" value is invalid\n', text)
    return n


def _parse_metric(args: list[str], i: int, msg: str) -> tuple[int, bool, int]:
    """`[lock] NUMBER` of a route metric (mtu, advmss): the value, whether locked, and its index."""
    v, j = need_arg_past(args, i, "lock")
    n = parse_u32(v)
    if n is None:
        raise invarg(msg, v)
    return n, j > i, j


def _parse_encap(ns: Any, args: list[str], i: int) -> tuple[int, ...]:
    """lwt_parse_encap for `encap mpls L1/L2...` (mpls_iptunnel); other encap types are refused."""
    kind = need_arg(args, i)
    if kind != "mpls":
        raise IpError(f"netplex: ip route encap {kind} is not supported", 2)
    labels = parse_mpls_labels(need_arg(args, i + 1))
    if "mpls_iptunnel" not in ns.world.kmods:
        # lwtunnel_valid_encap_type: no lwtunnel_encap_ops registered for MPLS
        raise IpError("Error: LWT encapsulation type not supported.", 2)
    if MPLS_LABEL_IMPLNULL in labels:
        raise IpError("Error: Implicit NULL Label (3) can not be used in encapsulation.", 2)
    return labels


def _parse(ns: Any, args: list[str], tables: RtTables) -> _RouteReq:
    req = _RouteReq()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "via":
            if req.gw is not None:   # iproute_modify: one gateway per route
                raise invarg("use nexthop syntax to specify multiple via\n", a)
            v, i = need_arg_past(args, i + 1, "inet")
            req.gw = parse_inet_addr(v)
        elif a in ("dev", "oif"):
            i += 1
            req.dev = ifname_or_error(ns, need_arg(args, i))
        elif a == "src":
            i += 1
            req.src = parse_inet_addr(need_arg(args, i))
        elif a in ("metric", "priority", "preference"):
            i += 1
            v = need_arg(args, i)
            n = parse_u32(v)
            if n is None:
                raise invarg('"metric" value is invalid\n', v)
            req.metric = n
        elif a == "table":
            i += 1
            req.table = parse_table(need_arg(args, i), tables, '"table" value is invalid\n')
        elif matches(a, "protocol"):
            i += 1
            req.proto = parse_rtprot(need_arg(args, i))
        elif a == "scope":
            i += 1
            req.scope = parse_scope(need_arg(args, i), '"scope" value is invalid\n')
        elif a == "onlink":
            req.onlink = True
        elif a == "mtu":
            req.mtu, lock, i = _parse_metric(args, i + 1, '"mtu" value is invalid\n')
            req.mtu_lock |= lock
        elif matches(a, "advmss"):
            req.advmss, lock, i = _parse_metric(args, i + 1, '"mss" value is invalid\n')
            req.advmss_lock |= lock
        elif a == "encap":
            req.encap = _parse_encap(ns, args, i + 1)
            i += 2
        elif a == "nexthop":
            _parse_nexthops(ns, args, i, req)
            break
        elif a == "nhid":
            i += 1
            v = need_arg(args, i)
            req.nhid = parse_u32(v)
            if req.nhid is None:
                raise invarg('"id" value is invalid\n', v)
        elif a in ("tos", "dsfield", "realms", "mpath", "expires",
                   "rtt", "rttvar", "window", "cwnd", "initcwnd", "initrwnd", "quickack", "congctl",
                   "features", "pref", "ttl-propagate", "fastopen_no_cookie", "hoplimit", "reordering",
                   "ssthresh", "lock", "from", "iif", "vrf"):
            raise IpError(f"netplex: ip route {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "to")
            if req.dst is None and req.type is None and a in _TYPES:
                req.type = a
                i += 1
                a = need_arg(args, i)
            if req.dst is not None:
                raise duparg2("to", a)
            req.dst = parse_prefix(a)
            if req.dst[0] & ~prefix_to_mask(req.dst[1]) & 0xFFFFFFFF:
                raise IpError("Error: Invalid prefix for given prefix length.", 2)
        i += 1
    return req


def _modify(ns: Any, args: list[str], cmd: str, tables: RtTables) -> Result:
    req = _parse(ns, args, tables)
    if req.dst is None:
        raise IpError("netplex: ip route without a destination is not supported", 2)
    rtype = req.type or "unicast"
    table = req.table if req.table is not None else (RT_TABLE_LOCAL if rtype in ("local", "broadcast", "nat")
                                                       else RT_TABLE_MAIN)
    if table == 0:
        raise IpError("netplex: ip route table 0 is not supported", 2)
    ns.fib.new_table(table)   # inet_rtm_newroute: fib_new_table before fib_table_insert's checks
    dev = req.dev
    gw = req.gw
    scope = req.scope
    if req.nhid is not None:
        return _modify_nhid(ns, req, cmd, rtype, table)
    if scope is None:
        if rtype in ("local", "nat"):
            scope = RT_SCOPE_HOST
        elif rtype in ("broadcast", "multicast", "anycast"):
            scope = RT_SCOPE_LINK
        elif rtype == "unicast" and gw is None:
            scope = RT_SCOPE_LINK
        else:
            scope = RT_SCOPE_UNIVERSE
    if _TYPE_SCOPE.get(rtype, RT_SCOPE_UNIVERSE) > scope:   # fib_create_info's "fast check" (fib_props)
        raise IpError("Error: Invalid scope.", 2)
    nhs: list[Nexthop] = []
    if req.nhs:
        if gw is not None or dev is not None or rtype != "unicast":
            raise IpError("netplex: ip route with both nexthop and via/dev, or a multipath route "
                          f"of type {rtype}, is not supported", 2)
        if scope == RT_SCOPE_LINK and req.scope is None:
            scope = RT_SCOPE_UNIVERSE if any(g is not None for g, _d, _w, _o in req.nhs) else RT_SCOPE_LINK
        for g, d, w, o in req.nhs:   # fib_get_nhs, then fib_check_nh for each
            nhs.append(Nexthop(g, check_nh(ns, g, d, o, scope, table), w, o))
        if len(nhs) == 1:   # fib_count_nexthops: one nexthop is a plain route
            gw, dev, req.onlink = nhs[0].gw, nhs[0].dev, nhs[0].onlink
            nhs = []
        else:
            gw, dev = nhs[0].gw, nhs[0].dev
    elif rtype in ("unicast", "local", "broadcast", "multicast", "anycast") and scope == RT_SCOPE_HOST:
        # fib_create_info: a host-scope route (a local address) takes its device as it is, up or down
        if gw is not None:
            raise IpError("Error: Route with host scope can not have a gateway.", 2)
        if dev is None:
            raise IpError("RTNETLINK answers: No such device", 2)
    elif rtype in ("unicast", "local", "broadcast", "multicast", "anycast"):   # fib_check_nh: a nexthop needed
        dev = check_nh(ns, gw, dev, req.onlink, scope, table)
    dst, plen = req.dst
    route = Route(dst, plen, table=table, type=rtype, dev=dev, gw=gw, src=req.src,
                  metric=req.metric or 0, proto=req.proto if req.proto is not None else 3, scope=scope,
                  onlink=req.onlink, mtu=req.mtu, mtu_lock=req.mtu_lock, advmss=req.advmss,
                  advmss_lock=req.advmss_lock)
    if req.src is not None and rtype not in ROUTE_ERROR_TYPES and not ns.fib_valid_prefsrc(route):
        # fib_create_info: a route of an error type skips the nexthop and prefsrc checks (link_it)
        raise IpError("Error: Invalid prefsrc address.", 2)
    route.nhs = tuple(nhs)
    route.encap = req.encap
    t = ns.fib.tables.get(table)
    existing = [r for r in t.find(dst, plen) if r.metric == route.metric and r.tos == 0] if t else []
    if cmd == "add" and existing:
        raise IpError("RTNETLINK answers: File exists", 2)
    if cmd == "append" and any(r.same_entry(route) for r in existing):
        raise IpError("RTNETLINK answers: File exists", 2)
    if cmd == "change" and not existing:
        raise IpError("RTNETLINK answers: No such file or directory", 2)
    ns.add_route(route, replace=cmd in ("replace", "change"), append=cmd == "append")
    if rtype == "local":   # inet_rtm_newroute: fib_has_custom_local_routes (fib_validate_source looks up)
        ns.fib.has_custom_local_routes = True
    return Result(0)


def _modify_nhid(ns: Any, req: _RouteReq, cmd: str, rtype: str, table: int) -> Result:
    """A route through a nexthop object (`nhid N`): rtm_to_fib_config refuses a nexthop of the
    route's own beside it, fib_create_info needs the object; the route's scope is universe
    (iproute2 sets RT_SCOPE_LINK only for a route with no gateway, nexthop or id)."""
    if req.gw is not None or req.dev is not None or req.nhs or req.encap:
        raise IpError("Error: Nexthop specification and nexthop id are mutually exclusive.", 2)
    obj = ns.nexthops.get(req.nhid)
    if obj is None:
        raise IpError("Error: Nexthop id does not exist.", 2)
    if rtype != "unicast":
        raise IpError(f"netplex: ip route {rtype} with nhid is not supported", 2)
    dst, plen = req.dst
    route = Route(dst, plen, table=table, src=req.src, metric=req.metric or 0,
                  proto=req.proto if req.proto is not None else 3,
                  scope=req.scope if req.scope is not None else RT_SCOPE_UNIVERSE,
                  mtu=req.mtu, mtu_lock=req.mtu_lock, advmss=req.advmss, advmss_lock=req.advmss_lock)
    ns.nexthops.apply(route, obj, ns.lo)
    if req.src is not None and not ns.fib_valid_prefsrc(route):
        raise IpError("Error: Invalid prefsrc address.", 2)
    t = ns.fib.tables.get(table)
    existing = [r for r in t.find(dst, plen) if r.metric == route.metric and r.tos == 0] if t else []
    if cmd == "add" and existing:
        raise IpError("RTNETLINK answers: File exists", 2)
    if cmd == "change" and not existing:
        raise IpError("RTNETLINK answers: No such file or directory", 2)
    if cmd in ("replace", "change") and any(r.nhid == route.nhid for r in existing):
        # fib_table_insert: the alias that already uses this nexthop is a no-op when it is the one
        # replaced, else EEXIST
        if existing[0].nhid == route.nhid:
            return Result(0)
        raise IpError("RTNETLINK answers: File exists", 2)
    if cmd == "append" and any(r.nhid == route.nhid for r in existing):
        raise IpError("RTNETLINK answers: File exists", 2)
    ns.add_route(route, replace=cmd in ("replace", "change"), append=cmd == "append")
    return Result(0)


_TYPE_SCOPE = {"local": RT_SCOPE_HOST, "nat": RT_SCOPE_HOST, "broadcast": RT_SCOPE_LINK, "anycast": RT_SCOPE_LINK}
"""fib_props[type].scope, the narrowest scope a route of the type may have (the others: universe)."""


def check_nh(ns: Any, gw: int | None, dev: Any, onlink: bool, scope: int, table: int) -> Any:
    """fib_check_nh: the nexthop's gateway must be reachable (or `onlink` through an up device),
    a device-only nexthop's device must be up. Returns the nexthop's device."""
    if gw is not None:
        if onlink:   # fib_check_nh_v4_gw
            if scope >= RT_SCOPE_LINK:
                raise IpError("Error: Nexthop has invalid scope.", 2)
            if dev is None:
                raise IpError("Error: Nexthop device required for onlink.", 2)
            if not dev.up:
                raise IpError("Error: Nexthop device is not up.", 2)
            if ns.inet_addr_type_table(gw, RT_TABLE_LOCAL) != "unicast":   # inet_addr_type_dev_table
                raise IpError("Error: Nexthop has invalid gateway.", 2)
            return dev
        nh = ns.fib.gw_lookup(gw, scope, dev, table)
        if nh is not None and nh.type not in ("unicast", "local"):
            nh = None
        if nh is None:
            raise IpError("Error: Nexthop has invalid gateway.", 2)
        return dev if dev is not None else nh.dev
    if onlink:   # fib_check_nh_nongw
        raise IpError("Error: Invalid flags for nexthop - PERVASIVE and ONLINK can not be set.", 2)
    if dev is None:
        raise IpError("RTNETLINK answers: No such device", 2)
    if not dev.up:
        raise IpError("Error: Device for nexthop is not up.", 2)
    return dev


def _delete(ns: Any, args: list[str], tables: RtTables) -> Result:
    req = _parse(ns, args, tables)
    if req.dst is None:
        raise IpError("netplex: ip route del without a destination is not supported", 2)
    table = req.table if req.table is not None else (RT_TABLE_LOCAL if req.type in ("local", "broadcast")
                                                       else RT_TABLE_MAIN)
    if table not in ns.fib.tables:
        raise IpError("Error: FIB table does not exist.", 2)
    dst, plen = req.dst
    for r in ns.fib.tables[table].find(dst, plen):
        if req.type is not None and r.type != req.type:
            continue
        if req.nhid is not None and r.nhid != req.nhid:
            continue   # fib_nh_match: a nexthop id must be the route's object
        if r.nhid is not None and (req.gw is not None or req.dev is not None or req.nhs):
            continue   # fib_nh_match: a route through an object matches no nexthop specification
        if req.gw is not None and r.gw != req.gw:
            continue
        if req.dev is not None and r.dev is not req.dev:
            continue
        if req.nhs and [g for g, _d, _w, _o in req.nhs] != [nh.gw for nh in r.nhs]:
            continue   # fib_nh_match: the nexthops named must be the route's
        if req.metric is not None and r.metric != req.metric:
            continue
        if req.proto is not None and r.proto != req.proto:
            continue
        if req.scope is not None and r.scope != req.scope:
            continue
        if req.src is not None and r.src != req.src:
            continue
        ns.del_route(r)
        return Result(0)
    raise IpError("RTNETLINK answers: No such process", 2)


class _Shown(NamedTuple):
    """What a show selector leaves to print: `table` for table all, a device/protocol/scope it did not fix."""

    table: bool
    dev: bool
    proto: bool
    scope: bool


def _select(ns: Any, args: list[str], flushing: bool, tables: RtTables) -> tuple[list[Route], _Shown]:
    """Routes matching a show/flush selector, in the kernel's dump order."""
    table: int | None = RT_TABLE_MAIN
    dev = None
    proto = None
    rtype = None
    scope = None
    exact = root = match = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "table":
            i += 1
            table = parse_table(need_arg(args, i), tables)
        elif a in ("dev", "oif"):
            i += 1
            name = need_arg(args, i)
            dev = ns.devices.get(name)
            if dev is None:
                raise IpError(f'Cannot find device "{name}"', 1)
        elif matches(a, "protocol"):
            i += 1
            v = need_arg(args, i)
            proto = PROTO_IDS.get(v, parse_u32(v))
        elif a == "scope":
            i += 1
            scope = parse_scope(need_arg(args, i), '"scope" value is invalid\n')
        elif a == "type":
            i += 1
            rtype = need_arg(args, i)
        elif a == "cache":
            return [], _Shown(False, True, True, True)
        elif a in ("root", "match", "exact"):
            i += 1
            p = parse_prefix(need_arg(args, i))
            if a == "root":
                root = p
            elif a == "match":
                match = p
            else:
                exact = p
        elif a in _TYPES and rtype is None:
            rtype = a
        else:
            a, i = need_arg_past(args, i, "to")
            if exact is not None:
                raise duparg2("to", a)
            exact = parse_prefix(a)
        i += 1
    if table is not None and table != 0 and table not in ns.fib.tables:
        raise IpError("Error: ipv4: FIB table does not exist.\n"
                      + ("Flush terminated" if flushing else "Dump terminated"), 2)
    tids = sorted(ns.fib.tables, key=lambda t: (t & 0xFF, t)) if table == 0 else [table]
    out: list[Route] = []
    for tid in tids:
        routes = ns.fib.tables[tid].routes()
        routes = sorted(routes, key=lambda r: (r.dst, -r.plen))  # stable: kernel trie order
        for r in routes:
            if dev is not None and (r.nhs or r.dev is not dev):   # a multipath route has no RTA_OIF
                continue
            if proto is not None and r.proto != proto:
                continue
            if rtype is not None and r.type != rtype:
                continue
            if scope is not None and r.scope != scope:
                continue
            if exact is not None and (r.dst, r.plen) != exact:
                continue
            if root is not None and (r.plen < root[1] or (r.dst & prefix_to_mask(root[1])) != root[0]):
                continue
            if match is not None and (r.plen > match[1] or (match[0] & prefix_to_mask(r.plen)) != r.dst):
                continue
            out.append(r)
    return out, _Shown(table == 0, dev is None, proto is None, scope is None)


def _show(ns: Any, args: list[str], tables: RtTables, opts: Any = None) -> Result:
    if "cache" in args:
        return _show_cache(ns, args, opts)
    routes, shown = _select(ns, args, False, tables)
    if opts is not None and opts.json:
        return Result(0, ip_json.dump([route_json(r, show_table=shown.table, show_dev=shown.dev,
                                                  show_proto=shown.proto, show_scope=shown.scope, tables=tables)
                                       for r in routes], opts.pretty))
    return Result(0, "".join(route_line(r, show_table=shown.table, show_dev=shown.dev, show_proto=shown.proto,
                                        show_scope=shown.scope, tables=tables) + "\n" for r in routes))


def _show_cache(ns: Any, args: list[str], opts: Any) -> Result:
    """`ip route show cache [[to] ADDR]`: the nexthop exceptions (fib_dump_info_fnhe), a learned
    path MTU or a redirect's gateway, each as rt_fill_info prints it (no source, no uid)."""
    rest = [a for a in args if a != "cache"]
    if rest and rest[0] == "to":
        rest = rest[1:]
    if len(rest) > 1 or (opts is not None and opts.json):
        raise IpError("netplex: ip route show cache takes only a destination here", 2)
    want = parse_prefix(rest[0]) if rest else None
    lines = []
    for dst in sorted(set(ns.pmtu) | set(ns.fnhe)):
        if want is not None and (dst & prefix_to_mask(want[1])) != want[0]:
            continue
        res = ns.ip_route_output(dst)
        if isinstance(res, int) or res.type != "unicast":
            continue
        flags = "<redirected> " if res.redirected else ""
        metrics = _cache_metrics(ns, dst, res.route, res.redirected)
        if not flags and not metrics:
            continue
        via = f"via {int_to_ip(res.gw)} " if res.gw is not None else ""
        lines.append(f"{int_to_ip(dst)} {via}dev {res.dev.name} \n    cache {flags}{metrics}\n")
    return Result(0, "".join(lines))


def _flush(ns: Any, args: list[str], tables: RtTables) -> Result:
    if not args:
        raise IpError('"ip route flush" requires arguments.', 1)
    if args == ["cache"]:   # ipv4_sysctl_rtcache_flush: rt_cache_flush and fnhe_genid_bump
        ns.rt_cache_flush_exceptions()
        return Result(0)
    routes, _shown = _select(ns, args, True, tables)
    for r in routes:
        if r.nhid is None:
            ns.del_route(r)
    if any(r.nhid is not None for r in routes):
        # iproute2 sends each dumped route back as RTM_DELROUTE: a route through a nexthop object
        # carries both RTA_NH_ID and its paths, which rtm_to_fib_config refuses (EINVAL); the
        # batch's other deletes are done
        raise IpError("Failed to send flush request: Invalid argument", 2)
    return Result(0)


def _get(ns: Any, args: list[str], tables: RtTables) -> Result:
    dst = None
    src = None
    oif = None
    iif = None
    mark = 0
    tos = 0
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("tos", "dsfield"):
            i += 1
            tos = parse_tos(need_arg(args, i))
        elif a == "from":
            i += 1
            # iproute_get: each address sets rtm_family, which names the next one's error
            src = parse_prefix(need_arg(args, i), allow_default=False, family_known=dst is not None)[0]
        elif a in ("oif", "dev"):
            i += 1
            oif = ifname_or_error(ns, need_arg(args, i))
        elif a == "iif":
            i += 1
            iif = ifname_or_error(ns, need_arg(args, i))
        elif a == "mark":
            i += 1
            v = need_arg(args, i)
            m = parse_u32(v)
            if m is None:
                raise invarg("invalid mark value", v)
            mark = m
        elif a in ("vrf", "uid", "ipproto", "sport", "dport", "connected",
                   "fibmatch", "as", "ttl-propagate"):
            raise IpError(f"netplex: ip route get {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "to")
            if dst is not None:
                raise duparg2("to", a)
            dst = parse_prefix(a, allow_default=False, family_known=src is not None)[0]
        i += 1
    if dst is None:
        raise IpError("need at least a destination address", 1)
    if iif is not None:
        return _get_input(ns, dst, src or 0, iif, mark, tables, tos)
    if src == 0:
        src = None   # inet_rtm_getroute: RTA_SRC 0.0.0.0 is no source (none is printed back)
    res = ns.ip_route_output(dst, oif=oif, src=src, mark=mark, tos=tos)
    if isinstance(res, int):
        raise IpError(f"RTNETLINK answers: {_ERRNO_TEXT.get(res, f'errno {res}')}", 2)
    parts: list[str] = []
    if res.type in ("local", "broadcast"):
        parts.append(res.type)
    parts.append(int_to_ip(dst))
    if src is not None:
        parts.append(f"from {int_to_ip(src)}")
    r = res.route
    if res.redirected:
        parts.append(f"via {int_to_ip(res.nexthop)}")   # rt_bind_exception's gateway
    elif r is not None and r.nhs and res.type == "unicast":
        if res.nexthop != dst:   # the nexthop fib_select_multipath chose
            parts.append(f"via {int_to_ip(res.nexthop)}")
    elif r is not None and r.gw is not None and res.type == "unicast":
        parts.append(f"via {int_to_ip(r.gw)}")
    parts.append(f"dev {res.dev.name}")
    parts += _table_part(ns, r, tables)
    if src is None or res.src != src:
        parts.append(f"src {int_to_ip(res.src)}")
    if mark:
        parts.append(f"mark {_mark_text(mark)}")
    parts.append("uid 0")
    flags = {"local": "<local> ", "broadcast": "<local,brd> "}.get(res.type, "")
    if res.type == "unicast" and res.dev.kind == "loopback":
        flags = "<local> "     # __mkroute_output: RTCF_LOCAL for any route out of a loopback device
    if res.redirected:
        flags += "<redirected> "
    flags += _cache_metrics(ns, dst, r if res.type == "unicast" else None, res.redirected)
    return Result(0, " ".join(parts) + " \n    cache " + flags + "\n")


def _cache_metrics(ns: Any, dst: int, r: Any, redirected: bool = False) -> str:
    """The metrics rt_fill_info reports: when the route's exception expires (a learned path MTU, a
    redirect's gateway), the learned or the route's own `mtu`."""
    exc = ns.pmtu_exception(dst) if r is not None else None
    expires = ns.fnhe_expires(dst) if redirected else None
    if expires is None and exc is not None:
        expires = exc[1]
    metrics = _metrics_text(r, exc[0] if exc is not None else r.mtu) if r is not None else ""
    text = f"expires {(expires - ns.sched.now) // 1_000_000_000}sec " if expires is not None else ""
    return text + (f"{metrics} " if metrics else "")


def _mark_text(mark: int) -> str:
    """How iproute2 6.1 prints RTA_MARK (seen on Debian 12): decimal below 16, else 0x hex."""
    return str(mark) if mark < 16 else f"{mark:#x}"


def _table_part(ns: Any, r: Route | None, tables: RtTables) -> list[str]:
    """rt_fill_info's RTA_TABLE: the table the lookup found the route in, known
    once rules have been added (fib_has_custom_rules), printed unless main."""
    if r is None or not ns.fib.has_custom_rules or r.table in (RT_TABLE_MAIN, 0):
        return []
    return [f"table {tables.name(r.table)}"]


def _getroute_ll(src: int) -> bytes:
    """What ip_handle_martian_source dumps as the `ll header` of inet_rtm_getroute's skb: its mac
    header is the IPv4 header it built (version/ihl, protocol UDP, the source); the fields it leaves
    uninitialised (TOS, length, id, TTL, checksum: whatever the slab held) are zeros here."""
    return bytes([0x45, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0]) + src.to_bytes(4, "big")[:2]


def _validate_source(ns: Any, iif: Any, src: int, dst: int, tos: int, mark: int) -> None:
    """ip_route_input_slow's fib_validate_source: any refusal (a martian or a reverse-path
    failure alike) goes to martian_source (logged with log_martians), EINVAL."""
    if ns.fib_validate_source(iif, src, dst, tos, mark=mark) is not None:
        ns.ip_handle_martian_source(iif, None, dst, src, _getroute_ll(src))
        raise IpError("RTNETLINK answers: Invalid argument", 2)


def _get_input(ns: Any, dst: int, src: int, iif: Any, mark: int, tables: RtTables, tos: int = 0) -> Result:
    """`ip route get … iif DEV [mark M] [tos T]`: the input route a packet from `src`
    arriving on `iif` would take (ip_route_input_slow)."""
    if ns.ip_route_input_martian(iif, dst, src, _getroute_ll(src)):
        raise IpError("RTNETLINK answers: Invalid argument", 2)
    head = f"{int_to_ip(dst)} from {int_to_ip(src)}" if src else int_to_ip(dst)   # RTA_SRC 0 is not printed
    tail = f"mark {_mark_text(mark)} " if mark else ""
    if dst == 0xFFFFFFFF or (src == 0 and dst == 0):   # brd_input: the limited broadcast needs no route
        if src:
            _validate_source(ns, iif, src, dst, tos, mark)
        return Result(0, f"broadcast {head} dev lo {tail}\n    cache <local,brd> iif {iif.name} \n")
    r = ns.fib.lookup(dst, src, iif.name, "", mark, tos)
    tail = "".join(p + " " for p in _table_part(ns, r, tables)) + tail
    if r is None:   # no_route: EHOSTUNREACH on a device that does not forward
        raise IpError(f"RTNETLINK answers: {'Network is unreachable' if iif.forwarding else 'No route to host'}", 2)
    if r.type in ("local", "broadcast"):
        if r.type == "local" or src:
            _validate_source(ns, iif, src, dst, tos, mark)
        flag = "<local>" if r.type == "local" else "<local,brd>"
        return Result(0, f"{r.type} {head} dev lo {tail}\n    cache {flag} iif {iif.name} \n")
    if r.type != "unicast":
        raise IpError(f"RTNETLINK answers: {_ERRNO_TEXT.get({'blackhole': 22, 'prohibit': 13}.get(r.type, 113))}", 2)
    if not iif.forwarding:
        raise IpError("RTNETLINK answers: No route to host", 2)
    _validate_source(ns, iif, src, dst, tos, mark)
    out, gw = r.dev, r.gw
    via = r
    if r.nhs:   # ip_mkroute_input: fib_select_multipath over the packet's hash
        via = ns.fib_select_path(r, src, dst, 0, 0, 0)
        out, gw = via.dev, via.gw
    new_gw = ns.fnhe_gateway(dst, via) if ns.fnhe else None   # __mkroute_input's find_exception
    if new_gw is not None:
        gw = new_gw
    parts = [head]
    if gw is not None:
        parts.append(f"via {int_to_ip(gw)}")
    parts.append(f"dev {out.name}")
    parts += _table_part(ns, r, tables)
    if mark:
        parts.append(f"mark {_mark_text(mark)}")
    flags = ""
    if out is iif and ns.rtcf_doredirect(iif, src, dst, tos):
        flags = "<redirect> "   # RTCF_DOREDIRECT: in and out the same device, on-link sender
    if new_gw is not None:
        flags += "<redirected> "
    flags += _cache_metrics(ns, dst, r, new_gw is not None)
    return Result(0, " ".join(parts) + f" \n    cache {flags}iif {iif.name} \n")


def do_iproute(ns: Any, opts: Any, args: list[str]) -> Result:
    if opts.family == "mpls":
        if opts.json:
            raise IpError("netplex: JSON output of ip -f mpls route is not supported", 2)
        return do_mpls_route(ns, args)
    tables: RtTables = opts.tables
    if not args:
        return _show(ns, [], tables, opts)
    cmd, rest = args[0], args[1:]
    if matches(cmd, "add"):
        return _modify(ns, rest, "add", tables)
    if matches(cmd, "change") or cmd == "chg":
        return _modify(ns, rest, "change", tables)
    if matches(cmd, "replace"):
        return _modify(ns, rest, "replace", tables)
    if matches(cmd, "prepend"):
        raise IpError("netplex: ip route prepend is not supported", 2)
    if matches(cmd, "append"):
        return _modify(ns, rest, "append", tables)
    if matches(cmd, "test"):
        raise IpError("netplex: ip route test is not supported", 2)
    if matches(cmd, "delete"):
        return _delete(ns, rest, tables)
    if matches(cmd, "list") or matches(cmd, "show") or matches(cmd, "lst"):
        return _show(ns, rest, tables, opts)
    if matches(cmd, "get"):
        return _get(ns, rest, tables)
    if matches(cmd, "flush"):
        return _flush(ns, rest, tables)
    if matches(cmd, "save") or matches(cmd, "restore") or matches(cmd, "showdump") or matches(cmd, "help"):
        raise IpError(f"netplex: ip route {cmd} is not supported", 2)
    raise IpError(f'Command "{cmd}" is unknown, try "ip route help".', 255)

