"""`bridge` (iproute2 6.1 bridge/fdb.c, bridge/link.c): the forwarding database and bridge ports.

`bridge fdb show` lists, device by device in ifindex order, the bridge's
entries for that device (newest first, as the kernel's fdb_list holds
them) and then the device's own address lists (`self permanent`,
netplex/stack/dev_addr_lists.py): dev->uc, then dev->mc — 33:33:00:00:00:01
on every Ethernet device (IPv6 all-nodes, joined even with IPv6 disabled),
01:00:5e:00:00:01 while it is up (IPv4 all-hosts), on an up bridge the
IGMP/MLD snooping groups 01:00:5e:00:00:6a and 33:33:00:00:00:6a.

`bridge fdb add|del|replace|append MAC dev DEV [self] [master]` follows
rtnl_fdb_add / rtnl_fdb_del: Ethernet devices only; `master` on a bridge
port goes to the bridge's FDB; `self` (the default) goes to the device's own
FDB — the bridge's, a VXLAN's, a macvlan's (`macvlan_fdb_add`: multicast
only, no replace), else the default one (`ndo_dflt_fdb_add`: permanent
entries without a VLAN, on dev->uc or dev->mc; EEXIST only for `add`).
"""
from __future__ import annotations

import errno
import re
from typing import Any

from netplex.errors import NetplexError
from netplex.packet.addr import bytes_to_mac
from netplex.shell import ip_json
from netplex.shell.iproute_fmt import IpError, link_flags, link_name, matches, need_arg, need_arg_past, onoff
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported
from netplex.stack.bridge import BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED, PORT_STATE_NAMES, Bridge, FdbEntry
from netplex.stack.dev_addr_lists import (
    dev_mc_add_excl,
    dev_mc_del,
    dev_uc_add_excl,
    dev_uc_del,
    is_unicast_list_addr,
    mc_list,
)
from netplex.stack.macvlan import MacvlanDev

__all__ = ["bridge", "port_state", "self_mc_entries"]

USAGE = """Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }
       bridge [ -force ] -batch filename
where  OBJECT := { link | fdb | mdb | vlan | vni | monitor }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |
                    -o[neline] | -t[imestamp] | -n[etns] name |
                    -com[pressvlans] -c[olor] -p[retty] -j[son] }
"""


def port_state(port: Any) -> int:
    """The STP state the kernel reports: disabled while the port or the bridge is not running."""
    dev = port.dev
    if not port.bridge.up or not dev.up or not dev.has_carrier():
        return 0
    return port.state


def self_mc_entries(dev: Any) -> list[str]:
    """The multicast addresses on a device's own list, dev->mc in order (stack/dev_addr_lists.py)."""
    return [bytes_to_mac(m) for m, _global in mc_list(dev)]


FdbRecord = dict[str, Any]   # one fdb.c print_fdb object, in its key order


def _ages(ns: Any, used: int, updated: int) -> FdbRecord:
    """NDA_CACHEINFO as `bridge -s fdb` prints it: whole seconds since use and update."""
    now = ns.sched.now
    return {"used": max(0, now - used) // 1_000_000_000, "updated": max(0, now - updated) // 1_000_000_000}


def vxlan_records(dev: Any, stats: bool = False) -> list[FdbRecord]:
    """vxlan_fdb_dump: a VXLAN device's own FDB, newest first, one record per remote."""
    from netplex.stack.vxlan import NUD_NOARP, NUD_PERMANENT

    out = []
    f_ip = dev.ns.fmt_ip
    for f in dev.live_fdb():
        state = "permanent" if f.state & NUD_PERMANENT else "static" if f.state & NUD_NOARP else ""
        for rd in f.remotes:
            rec: FdbRecord = {"mac": bytes_to_mac(f.mac), "ifname": dev.name, "dst": f_ip(rd.ip)}
            if rd.port and rd.port != dev.dstport:
                rec["port"] = rd.port
            if rd.vni != dev.vni:
                rec["vni"] = rd.vni
            if rd.ifindex:
                via = dev.ns.by_index.get(rd.ifindex)
                if via is not None:
                    rec["viaIfname"] = via.name
                else:
                    rec["viaIfindex"] = rd.ifindex
            if stats:
                rec.update(_ages(dev.ns, f.used, f.updated))
            rec["flags"] = ["self"]
            rec["state"] = state
            out.append(rec)
    return out


def fdb_text(rec: FdbRecord) -> str:
    """print_fdb's text for one record (without its newline)."""
    parts = [rec["mac"]]
    if "ifname" in rec:
        parts.append(f"dev {rec['ifname']}")
    for key, word in (("dst", "dst"), ("vlan", "vlan"), ("port", "port"), ("vni", "vni"),
                      ("viaIfname", "via"), ("viaIfindex", "via")):
        if key in rec:
            parts.append(f"{word} {rec[key]}")
    if "used" in rec:
        parts.append(f"used {rec['used']}/{rec['updated']}")
    parts += rec["flags"]
    if "master" in rec:
        parts.append(f"master {rec['master']}")
    return " ".join(parts) + " " + rec["state"]


def _fdb_state(br: Bridge, e: FdbEntry) -> str:
    if e.is_local:
        return "permanent"
    if e.is_static:
        return "static"
    if br.ns.sched.now - e.updated > br.hold_time():
        return "stale"
    return ""


def _fdb_show(ns: Any, args: list[str], stats: bool = False, json_out: int = 0) -> Result:
    """`bridge fdb show` (json_out: 1 for -j, 2 for -j -p)."""
    br_filter = None
    dev_filter = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("dev", "brport"):
            i += 1
            name = need_arg(args, i)
            dev_filter = ns.devices.get(name)
            if dev_filter is None:
                raise IpError(f'Cannot find device "{name}"', 255)
        elif a == "br":
            i += 1
            name = need_arg(args, i)
            br_filter = ns.devices.get(name)
            if br_filter is None:
                raise IpError(f'Cannot find bridge device "{name}"', 255)
        elif a in ("vlan", "state", "dynamic", "self", "master"):
            raise IpError(f"netplex: bridge fdb show {a} is not supported", 2)
        else:
            raise IpError(f'Unknown bridge fdb show argument "{a}"', 255)
        i += 1
    recs: list[FdbRecord] = []
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        if dev_filter is not None and dev is not dev_filter:
            continue
        if br_filter is not None and dev is not br_filter and dev.master is not br_filter:
            continue
        mine: list[FdbRecord] = []
        if dev.master is not None and isinstance(dev.master, Bridge):
            mine += _bridge_records(dev.master, dev.bridge_port, dev, stats)
        if isinstance(dev, Bridge):
            mine += _self_records(dev)
            mine += _bridge_records(dev, None, dev, stats)
        elif dev.kind == "vxlan":
            mine += vxlan_records(dev, stats)
        else:
            mine += _self_records(dev)
        if dev_filter is not None:   # the filtered device is not named again
            for rec in mine:
                del rec["ifname"]
        recs += mine
    if json_out:
        return Result(0, ip_json.dump(recs, json_out > 1))
    return Result(0, "".join(fdb_text(rec) + "\n" for rec in recs))


def _self_records(dev: Any) -> list[FdbRecord]:
    """ndo_dflt_fdb_dump: dev->uc, then dev->mc, each `self permanent`."""
    macs = [bytes_to_mac(m) for m in dev.uc] + self_mc_entries(dev)
    return [{"mac": m, "ifname": dev.name, "flags": ["self"], "state": "permanent"} for m in macs]


def _bridge_records(br: Bridge, port: Any, dev: Any, stats: bool) -> list[FdbRecord]:
    out = []
    for e in reversed(list(br.fdb.values())):
        if e.port is not port:
            continue
        if not e.is_static and br.ns.sched.now - e.updated > br.hold_time():
            continue  # the gc timer would have removed it
        rec: FdbRecord = {"mac": bytes_to_mac(e.mac), "ifname": dev.name}
        if e.vlan:
            rec["vlan"] = e.vlan
        if stats:
            rec.update(_ages(br.ns, e.used, e.updated))
        rec.update(flags=[], master=br.name, state=_fdb_state(br, e))
        out.append(rec)
    return out


_HHX = re.compile(r"\s*[+-]?(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)")


def _fdb_mac(text: str) -> bytes:
    """fdb_modify's sscanf("%hhx:%hhx:%hhx:%hhx:%hhx:%hhx"): six conversions or "Invalid mac address";
    each reads what %x reads (leading hex digits) and keeps its low byte, as %hhx does."""
    out = bytearray()
    rest = text
    for n in range(6):
        if n:
            if not rest.startswith(":"):
                break
            rest = rest[1:]
        m = _HHX.match(rest)
        if m is None:
            break
        out.append(int(m.group(1), 16) & 0xFF)
        rest = rest[m.end():]
    if len(out) != 6:
        raise IpError(f"Invalid mac address {text}", 255)
    return bytes(out)


def _fdb_modify(ns: Any, args: list[str], cmd: str) -> Result:
    mac = None
    devname = None
    master = self_ = False
    state = "permanent"
    vlan = None
    vx: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            devname = need_arg(args, i)
        elif a == "master":
            master = True
        elif a == "self":
            self_ = True
        elif a in ("permanent", "local"):
            state = "permanent"
        elif a in ("static", "temp"):
            state = "static"
        elif a == "dynamic":
            state = "dynamic"
        elif a == "vlan":
            i += 1
            v = need_arg(args, i)
            if not v.isdigit():
                raise IpError(f'Error: argument "{v}" is wrong: invalid VLAN\n', 255)
            vlan = int(v)
        elif a in ("dst", "port", "vni", "via"):
            i += 1
            word = need_arg(args, i)
            if a in vx:
                raise IpError(f'Error: either "{a}" is duplicate, or "{word}" is a garbage.', 255)
            vx[a] = word
        elif a in ("src_vni", "router", "use", "extern_learn", "sticky", "norefresh", "nhid"):
            raise IpError(f"netplex: bridge fdb {a} is not supported", 2)
        else:
            if mac is not None:
                raise IpError(f'Error: either "dev" is duplicate, or "{a}" is a garbage.', 255)
            mac = a
        i += 1
    if mac is None or devname is None:
        raise IpError("Device and address are required arguments.", 255)
    addr = _fdb_mac(mac)
    dev = ns.devices.get(devname)
    if dev is None:
        raise IpError(f'Cannot find device "{devname}"', 255)
    if not master and not self_:
        self_ = True   # fdb_modify: "Assume self"
    if dev.link_type != "ether":
        raise IpError(f"Error: FDB {'delete' if cmd == 'del' else 'add'} only supported for Ethernet devices.", 255)
    if self_ and not master and dev.kind == "vxlan":
        return _vxlan_fdb_modify(ns, dev, addr, vx, state, cmd)
    if vx:
        raise IpError("RTNETLINK answers: Operation not supported", 255)
    try:
        # rtnl_fdb_add / rtnl_fdb_del: `master` on a bridge port goes to the bridge, then `self` to the
        # device's own FDB; `master` alone on a device that is no bridge port is EOPNOTSUPP
        port = dev.bridge_port
        if master and port is not None:
            _br_fdb_modify(port.bridge, port, addr, vlan, state, cmd)
        if self_:
            if isinstance(dev, Bridge):
                _br_fdb_modify(dev, None, addr, vlan, state, cmd)
            elif isinstance(dev, MacvlanDev):
                _macvlan_fdb_modify(dev, addr, cmd)
            else:
                _dflt_fdb_modify(dev, addr, vlan, state, cmd)
        elif port is None:
            raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)
    except NetplexError as e:
        raise IpError(e.message, 255) from None
    return Result(0)


def _br_fdb_modify(br: Bridge, port: Any, addr: bytes, vlan: int | None, state: str, cmd: str) -> None:
    """br_fdb_add / br_fdb_delete: an entry of the bridge's FDB (`port` None: the bridge's own)."""
    if cmd == "del":
        br.fdb_del(addr, port, vlan or 0)
    else:
        br.fdb_add(addr, port, vlan or 0, is_local=state == "permanent",
                   is_static=state in ("permanent", "static"), replace=cmd != "add")


def _einval() -> NetplexError:
    return NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)


def _dflt_fdb_modify(dev: Any, addr: bytes, vlan: int | None, state: str, cmd: str) -> None:
    """ndo_dflt_fdb_add / ndo_dflt_fdb_del: permanent entries only, no VLAN; dev->uc or dev->mc. Only
    `add` (NLM_F_EXCL) reports an address already listed."""
    if state != "permanent":
        raise _einval()   # "default FDB implementation only supports local addresses"
    unicast = is_unicast_list_addr(addr)
    if cmd == "del":
        (dev_uc_del if unicast else dev_mc_del)(dev, addr)
        return
    if vlan:
        raise _einval()   # "vlans aren't supported yet for dev_uc|mc_add()"
    try:
        (dev_uc_add_excl if unicast else dev_mc_add_excl)(dev, addr)
    except NetplexError as e:
        if e.errno != errno.EEXIST or cmd == "add":
            raise


def _macvlan_fdb_modify(dev: MacvlanDev, addr: bytes, cmd: str) -> None:
    """macvlan_fdb_add / macvlan_fdb_del: unicast entries only on a passthru macvlan, no replace."""
    unicast = is_unicast_list_addr(addr)
    if cmd == "del":
        (dev_uc_del if unicast else dev_mc_del)(dev, addr)
        return
    if (unicast and not dev.port.passthru()) or cmd == "replace":
        raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)
    (dev_uc_add_excl if unicast else dev_mc_add_excl)(dev, addr)


def _vxlan_fdb_modify(ns: Any, dev: Any, addr: bytes, vx: dict[str, str], state: str, cmd: str) -> Result:
    """vxlan_fdb_add / vxlan_fdb_delete: entries with their remote VTEPs."""
    from netplex.packet.addr import ip_to_int
    from netplex.stack.vxlan import NUD_NOARP, NUD_PERMANENT, NUD_REACHABLE, VxlanRemote

    def num(key: str, limit: int, what: str) -> int | None:
        if key not in vx:
            return None
        v = vx[key]
        try:
            n = int(v, 0)
        except ValueError:
            raise IpError(f'Error: argument "{v}" is wrong: invalid {what}\n', 255) from None
        if n > limit:
            raise IpError(f'Error: argument "{v}" is wrong: invalid {what}\n', 255)
        return n

    ip = 0
    if "dst" in vx:
        try:
            ip = ip_to_int(vx["dst"])
        except ValueError:
            raise IpError(f'Error: inet address is expected rather than "{vx["dst"]}".', 1) from None
    port = num("port", 0xFFFF, "port")
    vni = num("vni", 0xFFFFFF, "VNI")
    ifindex = 0
    if "via" in vx:
        via = ns.devices.get(vx["via"])
        if via is None:
            raise IpError(f'Cannot find device "{vx["via"]}"', 255)
        ifindex = via.ifindex
    rd = VxlanRemote(ip, port or dev.dstport, dev.vni if vni is None else vni, ifindex)
    nud = {"permanent": NUD_PERMANENT | NUD_NOARP, "static": NUD_NOARP | NUD_REACHABLE,
           "dynamic": NUD_REACHABLE}[state]
    try:
        if cmd == "del":
            dev.fdb_del(addr, ip if "dst" in vx else None, None if port is None else rd.port,
                        None if vni is None else rd.vni)
        else:
            dev.fdb_add(addr, rd, nud, cmd)
    except NetplexError as e:
        raise IpError(e.message, 255) from None
    return Result(0)


def _port_details(port: Any) -> str:
    """bridge/link.c print_protinfo's line under a port (`bridge -d link show`), as iproute2 6.1 prints it."""
    return (f"    hairpin {onoff(port.hairpin)} guard {onoff(port.guard)} root_block {onoff(port.root_block)} "
            f"fastleave {onoff(port.fastleave)} learning {onoff(port.learning)} flood {onoff(port.flood)} "
            f"mcast_flood {onoff(port.mcast_flood)} bcast_flood {onoff(port.bcast_flood)} "
            f"mcast_router {port.mcast_router} mcast_to_unicast off neigh_suppress {onoff(port.neigh_suppress)} "
            f"vlan_tunnel off isolated {onoff(port.isolated)} locked off \n")


def _link_show(ns: Any, args: list[str], json_out: int = 0, details: bool = False) -> Result:
    dev_filter = None
    i = 0
    while i < len(args):
        a = args[i]
        a, i = need_arg_past(args, i, "dev")
        dev_filter = ns.devices.get(a)
        if dev_filter is None:
            raise IpError(f'Cannot find device "{a}"', 255)
        i += 1
    out = []
    objs: list[dict[str, Any]] = []
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        port = dev.bridge_port
        if port is None or (dev_filter is not None and dev is not dev_filter):
            continue
        state = PORT_STATE_NAMES[port_state(port)]
        if json_out:   # link.c print_linkinfo's JSON
            obj: dict[str, Any] = {"ifindex": dev.ifindex}
            ip_json.link_ref(dev, obj)
            obj.update(ifname=dev.name, flags=ip_json.flag_names(dev), mtu=dev.mtu, master=dev.master.name,
                       state=state, priority=port.priority, cost=port.path_cost)
            objs.append(obj)
            continue
        out.append(f"{dev.ifindex}: {link_name(dev)}: {link_flags(dev)} mtu {dev.mtu} master {dev.master.name} "
                   f"state {state} priority {port.priority} cost {port.path_cost} \n")
        if details:
            out.append(_port_details(port))
    if json_out:
        return Result(0, ip_json.dump(objs, json_out > 1))
    return Result(0, "".join(out))


_FLAG_ATTRS = {"hairpin": "hairpin", "learning": "learning", "flood": "flood", "isolated": "isolated",
               "guard": "guard", "root_block": "root_block", "fastleave": "fastleave", "bcast_flood": "bcast_flood",
               "neigh_suppress": "neigh_suppress"}
_UNMODELLED_PORT_FLAGS = ("mcast_to_unicast", "vlan_tunnel", "locked", "learning_sync")
# the words of iproute2 6.1's `bridge link set` that netplex does not model (refused in its words);
# any other word gets the usage (6.1 has no proxy_arp there: `ip link set ... type bridge_slave` sets it)
_UNMODELLED_LINK_SET_WORDS = ("hwmode", "backup_port", "nobackup_port", "self", "master")
USAGE_LINK_SET = (
    "Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]\n"
    + "".join(f"                               [ {w} ]\n" for w in (
        "guard {on | off}", "hairpin {on | off}", "fastleave {on | off}", "root_block {on | off}",
        "learning {on | off}", "learning_sync {on | off}", "flood {on | off}", "mcast_router MULTICAST_ROUTER",
        "mcast_flood {on | off}", "bcast_flood {on | off}", "mcast_to_unicast {on | off}",
        "neigh_suppress {on | off}", "vlan_tunnel {on | off}", "isolated {on | off}", "locked {on | off}",
        "hwmode {vepa | veb}"))
    + "                               [ backup_port DEVICE ] [ nobackup_port ]\n"
    + "                               [ self ] [ master ]\n"
    + "       bridge link show [dev DEV]\n")


def _on_off(word: str, v: str) -> bool:
    """iproute2's parse_on_off: `on` or `off`, else its error (status 234, -EINVAL as a byte)."""
    if v not in ("on", "off"):
        raise IpError(f'Error: argument of "{word}" must be one of "off", "on", not "{v}"', 234)
    return v == "on"


def _link_set(ns: Any, args: list[str]) -> Result:
    dev = None
    changes: dict[str, Any] = {}
    unmodelled: list[str] = []
    i = 0

    def value() -> str:
        nonlocal i
        i += 1
        return need_arg(args, i)

    while i < len(args):
        a = args[i]
        if a == "dev":
            name = value()
            dev = ns.devices.get(name)
            if dev is None:   # brlink_modify
                raise IpError(f'Cannot find bridge device "{name}"', 255)
        elif a in ("cost", "priority", "state"):
            v = value()
            if not v.isdigit():
                if a == "state" and v in PORT_STATE_NAMES:
                    v = str(PORT_STATE_NAMES.index(v))
                else:
                    raise IpError(f'Error: argument "{v}" is wrong: Invalid "{a}" value\n', 255)
            changes[a] = int(v)
        elif a == "mcast_router":
            v = value()
            if not v.isdigit() or int(v) > 255:
                raise IpError(f'Error: argument "{v}" is wrong: Invalid "{a}" value\n', 255)
            changes[a] = int(v)
        elif a == "mcast_flood" or a in _FLAG_ATTRS:
            changes[a] = _on_off(a, value())
        elif a in _UNMODELLED_PORT_FLAGS:
            _on_off(a, value())
            unmodelled.append(a)
        elif a in _UNMODELLED_LINK_SET_WORDS:
            raise IpError(f"netplex: bridge link set {a} is not supported", 2)
        else:
            raise IpError(USAGE_LINK_SET.rstrip("\n"), 255)
        i += 1
    if dev is None:
        raise IpError('Device is a required argument.', 255)
    port = dev.bridge_port
    if port is None:
        raise IpError("RTNETLINK answers: Operation not supported", 255)
    if unmodelled:   # the kernel's checks first: a port option on a device that is no port fails there
        raise IpError(f"netplex: bridge link set {unmodelled[0]} is not supported", 2)
    if changes.get("state", 0) > 4 or changes.get("priority", 0) > 63:
        raise IpError("RTNETLINK answers: Numerical result out of range", 255)
    if changes.get("mcast_router", 0) > 3:
        raise IpError("RTNETLINK answers: Invalid argument", 255)
    names = {"cost": "path_cost"}
    port.bridge.port_set(port, **{names.get(k, k): v for k, v in changes.items()})
    return Result(0)


def _timer(ns_left: int) -> str:
    """iproute2's print_timer: seconds and hundredths, "%4i.%.2i"."""
    cs = max(0, ns_left) // 10_000_000
    return f"{cs // 100:4d}.{cs % 100:02d}"


def _mdb_show(ns: Any, args: list[str], details: bool, stats: bool) -> Result:
    """bridge mdb show (bridge/mdb.c): per bridge, groups newest first, the host's own membership
    before the ports'; `-d` adds the protocol and the router ports, `-s` the timers."""
    from netplex.stack.bridge import MDB_RTR_TYPE_PERM

    dev_filter = port_filter = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("dev", "port", "vid"):
            i += 1
            word = need_arg(args, i)
            if a == "vid":
                raise IpError("netplex: bridge mdb show vid is not supported", 2)
            d = ns.devices.get(word)
            if d is None:
                raise IpError(f'Cannot find device "{word}"', 255)
            if a == "dev":
                dev_filter = d
            else:
                port_filter = d
        else:
            raise IpError(f'Unknown mdb show argument "{a}"', 255)   # not checked against iproute2
        i += 1
    out: list[str] = []
    now = ns.sched.now
    for idx in sorted(ns.by_index):
        br = ns.by_index[idx]
        if not isinstance(br, Bridge) or (dev_filter is not None and br is not dev_filter):
            continue
        m = br.mcast
        if m is None or not br.mcast_snooping:
            continue
        for e in reversed(list(m.mdb.values())):
            g = ns.fmt_ip(e.group)
            rows: list[tuple[Any, bool, int]] = []
            if e.host_alive(now):
                rows.append((br, False, e.host_expires - now))
            for pg in e.live_ports(now):
                rows.append((pg.port.dev, pg.permanent, 0 if pg.permanent else pg.expires - now))
            for dev, perm, left in rows:
                if port_filter is not None and dev is not port_filter:
                    continue
                line = f"dev {br.name} port {dev.name} grp {g} {'permanent' if perm else 'temp'}"
                if details:
                    line += f" proto {'static' if perm else 'kernel'} "
                if stats:
                    line += " " + _timer(left)
                out.append(line + "\n")
        if details:
            rps = m.router_ports(now)
            if rps:
                line = f"router ports on {br.name}: "
                for p in rps:
                    line += f"{p.dev.name} "
                    if stats:
                        perm = p.mcast_router == MDB_RTR_TYPE_PERM
                        line += _timer(0 if perm else m.rports.get(p, now) - now)
                        line += " permanent" if perm else " temp"
                out.append(line + "\n")
    return Result(0, "".join(out))


def _vlan_modify(ns: Any, args: list[str], cmd: str) -> Result:
    """bridge vlan add|del (bridge/vlan.c vlan_modify, then br_setlink / br_vlan_add)."""
    d = None
    vid = vid_end = -1
    self_ = master = False
    flags = 0
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("dev", "vid"):
            i += 1
            word = need_arg(args, i)
            if a == "dev":
                d = word
            else:
                lo, dash, hi = word.partition("-")
                vid = int(lo) if lo.isdigit() else 0
                if dash:
                    vid_end = int(hi) if hi.isdigit() else 0
        elif a == "self":
            self_ = True
        elif a == "master":
            master = True
        elif a == "pvid":
            flags |= BRIDGE_VLAN_INFO_PVID
        elif a == "untagged":
            flags |= BRIDGE_VLAN_INFO_UNTAGGED
        elif a == "tunnel_info":
            raise IpError("netplex: bridge vlan tunnel_info is not supported", 2)
        i += 1
    if d is None or vid == -1:
        raise IpError("Device and VLAN ID are required arguments.", 255)
    dev = ns.devices.get(d)
    if dev is None:
        raise IpError(f'Cannot find bridge device "{d}"', 255)
    if vid >= 4096:
        raise IpError(f'Invalid VLAN ID "{vid}"', 255)
    if vid_end != -1:
        if vid_end >= 4096 or vid >= vid_end:
            raise IpError(f'Invalid VLAN range "{vid}-{vid_end}"', 255)
        if flags & BRIDGE_VLAN_INFO_PVID:
            raise IpError("pvid cannot be configured for a vlan range", 255)
    if self_ and not master:
        if not isinstance(dev, Bridge):
            raise IpError("RTNETLINK answers: Operation not supported", 255)
        br, port = dev, None
    else:
        port = dev.bridge_port
        if port is None:
            raise IpError("RTNETLINK answers: Operation not supported", 255)
        br = port.bridge
    vids = list(range(vid, (vid_end if vid_end != -1 else vid) + 1))
    try:
        if cmd == "del":
            br.vlan_del(port, vids)
        else:
            br.vlan_add(port, vids, flags)
    except NetplexError as e:
        raise IpError(e.message, 255) from None
    return Result(0)


def _vlan_show(ns: Any, args: list[str]) -> Result:
    """bridge vlan show: the bridge ports and bridges, each VLAN on its own line."""
    from netplex.stack.bridge import BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED

    dev_filter = None
    vid_filter = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("dev", "vid"):
            i += 1
            word = need_arg(args, i)
            if a == "dev":
                dev_filter = ns.devices.get(word)
                if dev_filter is None:
                    raise IpError(f'Cannot find device "{word}"', 1)
            else:
                vid_filter = int(word) if word.isdigit() else 0
        i += 1
    out = [f"{'port':<16}  {'vlan-id':<9}\n"]
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        if dev_filter is not None and dev is not dev_filter:
            continue
        if isinstance(dev, Bridge):
            owner = dev
        elif dev.bridge_port is not None:
            owner = dev.bridge_port
        else:
            continue
        first = True
        for vid in sorted(owner.vlans):
            if vid_filter is not None and vid != vid_filter:
                continue
            fl = owner.vlans[vid]
            text = (f"{dev.name if first else '':<16}  {vid}" + (" PVID" if fl & BRIDGE_VLAN_INFO_PVID else "")
                    + (" Egress Untagged" if fl & BRIDGE_VLAN_INFO_UNTAGGED else ""))
            out.append(text + "\n")
            first = False
    return Result(0, "".join(out))


@command("bridge")
def bridge(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    details = stats = False
    json_opt = pretty = False
    while args and args[0].startswith("-"):
        o = args[0]
        if o == "-d" or matches(o, "-details"):
            details = True
        if o == "-s" or matches(o, "-statistics"):
            stats = True
        if matches(o, "-statistics") or matches(o, "-details") or o in ("-d", "-s") \
                or matches(o, "-timestamp") or matches(o, "-oneline"):
            pass   # -timestamp only changes `bridge monitor`; netplex prints one entry a line already
        elif o in ("-c", "-color", "-c=always", "-color=always"):
            return unsupported(f"bridge {o} (coloured output)")
        elif o in ("-c=never", "-color=never", "-c=auto", "-color=auto"):
            pass   # a netplex command's output is never a terminal: no colour either way
        elif matches(o, "-compressvlans"):
            return unsupported("bridge -compressvlans")
        elif matches(o, "-json"):
            json_opt = True
        elif matches(o, "-pretty"):
            pretty = True
        elif matches(o, "-Version"):
            return Result(0, "bridge utility, 6.1.0\n")
        elif matches(o, "-help"):
            return Result(255, "", USAGE)
        else:
            return Result(255, "", f'Option "{o}" is unknown, try "bridge help".\n')
        args = args[1:]
    if not args:
        return Result(255, "", USAGE)
    obj, rest = args[0], args[1:]
    ns = ctx.node
    json_out = (2 if pretty else 1) if json_opt else 0
    if json_out and not ((matches(obj, "link") or matches(obj, "fdb")) and (not rest or any(
            matches(rest[0], verb) for verb in ("show", "list", "lst")))):
        return unsupported(f"JSON output of bridge {' '.join(args[:2])} (bridge -json has link and fdb show)")
    try:
        if matches(obj, "link"):
            if not rest or matches(rest[0], "show") or matches(rest[0], "list") or matches(rest[0], "lst"):
                if json_out and details:
                    return unsupported("bridge -json -details link show")
                return _link_show(ns, rest[1:], json_out, details)
            if matches(rest[0], "set"):
                return _link_set(ns, rest[1:])
            raise IpError(f'Command "{rest[0]}" is unknown, try "bridge link help".', 255)
        if matches(obj, "fdb"):
            if not rest or matches(rest[0], "show") or matches(rest[0], "list") or matches(rest[0], "lst"):
                return _fdb_show(ns, rest[1:], stats, json_out)
            cmd = rest[0]
            if matches(cmd, "add"):
                return _fdb_modify(ns, rest[1:], "add")
            if matches(cmd, "append"):
                return _fdb_modify(ns, rest[1:], "append")
            if matches(cmd, "replace"):
                return _fdb_modify(ns, rest[1:], "replace")
            if matches(cmd, "delete"):
                return _fdb_modify(ns, rest[1:], "del")
            raise IpError(f'Command "{cmd}" is unknown, try "bridge fdb help".', 255)
        if matches(obj, "vlan"):
            if not rest or matches(rest[0], "show") or matches(rest[0], "list") or matches(rest[0], "lst"):
                return _vlan_show(ns, rest[1:])
            if matches(rest[0], "add"):
                return _vlan_modify(ns, rest[1:], "add")
            if matches(rest[0], "delete"):
                return _vlan_modify(ns, rest[1:], "del")
            return Result(2, "", f"netplex: bridge vlan {rest[0]} is not supported\n")
        if obj == "mdb":
            if not rest or matches(rest[0], "show") or matches(rest[0], "list") or matches(rest[0], "lst"):
                return _mdb_show(ns, rest[1:], details, stats)
            return Result(2, "", f"netplex: bridge mdb {rest[0]} is not supported\n")
        if obj in ("vni", "monitor") or matches(obj, "monitor"):
            return Result(2, "", f"netplex: bridge {obj} is not supported\n")
        if matches(obj, "help"):
            return Result(255, "", USAGE)
        return Result(255, "", f'Object "{obj}" is unknown, try "bridge help".\n')
    except IpError as e:
        return Result(e.status, "", e.message)
