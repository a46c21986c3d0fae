"""`ip nexthop`: the kernel's nexthop objects (iproute2 6.1 ip/ipnexthop.c, net/ipv4/nexthop.c).

Supported: `add`/`replace` of `id N` with `via A dev D [onlink]`, `dev D`, `blackhole` or
`group A[,W]/B[,W] [type mpath]`, each with `proto P`; `del id N`; `show`/`list`/`get`
(`id N`, `dev D`, `groups`, `proto P`), `flush` with the same selectors; `-j` output.
Checks and error texts are the kernel's (rtm_to_nh_config, nh_check_attr_group,
nh_create_ipv4) as this kernel prints them; the table lives in stack/nexthop.py.
Refused in netplex's words: resilient groups, `fdb`, `encap`, `vrf`/`master`, `bucket`, IPv6.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import int_to_ip
from netplex.shell import ip_json
from netplex.shell.ip_route import PROTO_NAMES, check_nh, parse_rtprot
from netplex.shell.iproute_fmt import IpError, invarg, matches, need_arg, parse_inet_addr, parse_u32
from netplex.shell.result import Result
from netplex.stack.nexthop import RT_SCOPE_HOST, RT_SCOPE_LINK, NhObject
from netplex.stack.route import RT_TABLE_MAIN

_SCOPES = {0: "global", RT_SCOPE_LINK: "link", RT_SCOPE_HOST: "host"}
_UNSUPPORTED = ("fdb", "encap", "vrf", "master", "bucket", "buckets", "idle_timer", "unbalanced_timer",
                "hw_stats", "nhid")


def _dev(ns: Any, name: str) -> Any:
    dev = ns.devices.get(name)
    if dev is None:
        raise invarg("Device does not exist\n", name)
    return dev


def _parse_id(v: str) -> int:
    n = parse_u32(v)
    if n is None:
        raise invarg("invalid id value", v)
    return n


def _parse_group(text: str) -> tuple[tuple[int, int], ...]:
    """add_nh_group_attr: `ID[,WEIGHT]/...`, weights 1-256."""
    out = []
    for part in text.split("/"):
        sid, _, sw = part.partition(",")
        nid = parse_u32(sid) if sid else None
        if nid is None:      # strtok and the weight's split cut the word iproute2 names at its first / and ,
            raise invarg('"group" value is invalid\n', text.split("/")[0].split(",")[0])
        w = 1
        if sw:
            wn = parse_u32(sw)
            if wn is None or wn == 0 or wn > 256:
                raise invarg('"weight" is invalid\n', sw)
            w = wn
        out.append((nid, w))
    return tuple(out)


def line(obj: NhObject) -> str:
    """print_nexthop: id, group or via/dev/scope, blackhole, protocol, flags."""
    parts = [f"id {obj.id}"]
    if obj.is_group:
        parts.append("group " + "/".join(f"{i},{w}" if w > 1 else str(i) for i, w in obj.group))
    if obj.gw is not None:
        parts.append(f"via {int_to_ip(obj.gw)}")
    if obj.dev is not None and not obj.blackhole:
        parts.append(f"dev {obj.dev.name}")
    if obj.scope:
        parts.append(f"scope {_SCOPES[obj.scope]}")
    if obj.blackhole:
        parts.append("blackhole")
    if obj.proto:
        parts.append(f"proto {PROTO_NAMES.get(obj.proto, str(obj.proto))}")
    if obj.onlink:
        parts.append("onlink")
    return " ".join(parts) + " \n"


def as_json(obj: NhObject) -> dict[str, Any]:
    o: dict[str, Any] = {"id": obj.id}
    if obj.is_group:
        o["group"] = [{"id": i, "weight": w} if w > 1 else {"id": i} for i, w in obj.group]
    if obj.gw is not None:
        o["gateway"] = int_to_ip(obj.gw)
    if obj.dev is not None and not obj.blackhole:
        o["dev"] = obj.dev.name
    if obj.scope:
        o["scope"] = _SCOPES[obj.scope]
    if obj.blackhole:
        o["blackhole"] = None
    if obj.proto:
        o["protocol"] = PROTO_NAMES.get(obj.proto, str(obj.proto))
    o["flags"] = ["onlink"] if obj.onlink else []
    return o


def _modify(ns: Any, args: list[str], replace: bool) -> Result:
    nh_id, gw, dev, blackhole, onlink, proto = 0, None, None, False, False, 0
    group: tuple[tuple[int, int], ...] = ()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "id":
            i += 1
            nh_id = _parse_id(need_arg(args, i))
        elif a == "via":
            i += 1
            v = need_arg(args, i)
            if v == "inet":
                i += 1
                v = need_arg(args, i)
            if ":" in v or v == "inet6":
                raise IpError("netplex: ip nexthop via inet6 is not supported", 2)
            gw = parse_inet_addr(v)
        elif a == "dev":
            i += 1
            dev = _dev(ns, need_arg(args, i))
        elif a == "blackhole":
            blackhole = True
        elif a == "onlink":
            onlink = True
        elif a == "group":
            i += 1
            group = _parse_group(need_arg(args, i))
        elif a == "type":
            i += 1
            t = need_arg(args, i)
            if t != "mpath":
                raise IpError(f"netplex: ip nexthop group type {t} is not supported", 2)
        elif matches(a, "protocol"):
            i += 1
            proto = parse_rtprot(need_arg(args, i))
        elif a in _UNSUPPORTED:
            raise IpError(f"netplex: ip nexthop {a} is not supported", 2)
        else:
            raise IpError(f'Error: argument "{a}" is wrong: unknown nexthop specification\n', 255)
        i += 1
    table = ns.nexthops
    if group:
        if gw is not None or dev is not None or blackhole or onlink:
            raise IpError("netplex: ip nexthop group with via, dev, blackhole or onlink is not supported", 2)
        ids = [m for m, _w in group]
        if len(set(ids)) != len(ids):    # nh_check_attr_group
            raise IpError("Error: Nexthop id can not be used twice in a group.", 2)
        members = [table.get(m) for m in ids]
        if any(m is None or m.id == nh_id for m in members):
            raise IpError("Error: Invalid nexthop id.", 2)
        if any(m.is_group for m in members if m is not None):
            raise IpError("Error: Hash-threshold group can not be a nexthop within a group.", 2)
        if len(members) > 1 and any(m.blackhole for m in members if m is not None):
            raise IpError("Error: Blackhole nexthop can not be used in a group with more than 1 path.", 2)
    elif blackhole:
        if gw is not None or dev is not None:
            raise IpError("Error: Blackhole attribute can not be used with gateway, oif, encap or fdb.", 2)
        if not ns.lo.up:      # nh_create_ipv4: a blackhole's device is the loopback
            raise IpError("Error: Device for nexthop is not up.", 2)
    else:
        if dev is None:
            raise IpError("Error: Device attribute required for non-blackhole and non-fdb nexthops."
                          if gw is not None else "Error: Invalid address family.", 2)
        if onlink and gw is None:
            raise IpError("Error: ONLINK flag can not be set for nexthop without a gateway.", 2)
        if not dev.up:
            raise IpError("Error: Device for nexthop is not up.", 2)
        if gw is not None:
            check_nh(ns, gw, dev, onlink, 0, RT_TABLE_MAIN)
    old = table.get(nh_id) if nh_id else None
    if old is not None:
        if not replace:
            raise IpError("RTNETLINK answers: File exists", 2)
        if old.is_group and not group:
            raise IpError("Error: Can not replace a nexthop group with a nexthop.", 2)
        if not old.is_group and group:
            raise IpError("Error: Can not replace a nexthop with a nexthop group.", 2)
        if blackhole and any(len(table.objs[g].group) > 1 for g in old.used_by):
            raise IpError("Error: Blackhole nexthop can not be a member of a group with more than one path.", 2)
    if not nh_id:
        nh_id = table.unused_id()
    obj = NhObject(nh_id, gw, dev, blackhole, onlink, proto, group)
    ns.replace_nexthop(obj)
    return Result(0)


def _select(ns: Any, args: list[str]) -> tuple[int | None, list[NhObject]]:
    """The id asked for, or the objects a dump's selectors keep."""
    dev = proto = None
    groups = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "id":
            i += 1
            return _parse_id(need_arg(args, i)), []
        if a == "dev":
            i += 1
            dev = _dev(ns, need_arg(args, i))
        elif a == "groups":
            groups = True
        elif matches(a, "protocol"):     # ipnh_list_flush: a number, not rt_protos' names
            i += 1
            v = need_arg(args, i)
            proto = parse_u32(v)
            if proto is None:
                raise invarg("invalid protocol value", v)
        elif a in ("vrf", "master", "fdb", "nhid"):
            raise IpError(f"netplex: ip nexthop show {a} is not supported", 2)
        else:
            raise IpError(f'Error: argument "{a}" is wrong: unknown nexthop specification\n', 255)
        i += 1
    out = [o for o in ns.nexthops.sorted()
           if (dev is None or (o.dev is dev and not o.blackhole)) and (not groups or o.is_group)
           and (proto is None or o.proto == proto)]
    return None, out


def _show(ns: Any, opts: Any, args: list[str]) -> Result:
    nh_id, objs = _select(ns, args)
    if nh_id is not None:
        obj = ns.nexthops.get(nh_id)
        if obj is None:
            raise IpError("RTNETLINK answers: No such file or directory", 2)
        objs = [obj]
    if opts.json:
        return Result(0, ip_json.dump([as_json(o) for o in objs], opts.pretty))
    return Result(0, "".join(line(o) for o in objs))


def _flush(ns: Any, args: list[str]) -> Result:
    nh_id, objs = _select(ns, args)
    if nh_id is not None:
        raise IpError("netplex: ip nexthop flush id is not supported", 2)
    flushed = 0
    for o in objs:       # flush_nexthop: one delete per dumped object; a group gone already is not counted
        if o.id in ns.nexthops:
            ns.remove_nexthops([o.id])
            flushed += 1
    return Result(0, f"Flushed {flushed} nexthops\n" if flushed else "Nothing to flush\n")


def _delete(ns: Any, args: list[str]) -> Result:
    nh_id = None
    i = 0
    while i < len(args):
        if args[i] == "id":
            i += 1
            nh_id = _parse_id(need_arg(args, i))
        else:
            raise IpError(f'Error: argument "{args[i]}" is wrong: unknown nexthop specification\n', 255)
        i += 1
    if not nh_id:
        raise IpError("Error: Nexthop id is missing.", 2)
    if nh_id not in ns.nexthops:
        raise IpError("RTNETLINK answers: No such file or directory", 2)
    ns.remove_nexthops([nh_id])
    return Result(0)


def do_ipnexthop(ns: Any, opts: Any, args: list[str]) -> Result:
    """ip nexthop {add|replace|del|show|list|get|flush} ..."""
    if not args:
        return _show(ns, opts, [])
    cmd, rest = args[0], args[1:]
    if opts.json and not (matches(cmd, "show") or matches(cmd, "list") or matches(cmd, "get")):
        return Result(2, "", f"netplex: JSON output of ip nexthop {cmd} is not supported\n")
    if matches(cmd, "add"):
        return _modify(ns, rest, replace=False)
    if matches(cmd, "replace"):
        return _modify(ns, rest, replace=True)
    if matches(cmd, "delete"):
        return _delete(ns, rest)
    if matches(cmd, "show") or matches(cmd, "list") or matches(cmd, "lst"):
        return _show(ns, opts, rest)
    if matches(cmd, "get"):
        if not rest:
            raise IpError('Command line is not complete. Try option "help"', 255)
        return _show(ns, opts, rest)
    if matches(cmd, "flush"):
        return _flush(ns, rest)
    if matches(cmd, "bucket"):
        raise IpError("netplex: ip nexthop bucket is not supported", 2)
    return Result(255, "", f'Command "{cmd}" is unknown, try "ip nexthop help".\n')
