"""`bridge` (iproute2 6.1 bridge/fdb.c, bridge/link.c): the forwarding database and bridge ports.

`bridge fdb show` lists, device by device in ifindex order, the bridge's
entries for that device (newest first, as the kernel's fdb_list holds
them) and then the device's own multicast addresses (`self permanent`):
33:33:00:00:00:01 on every Ethernet device (IPv6 all-nodes, joined even
with IPv6 disabled), 01:00:5e:00:00:01 while it is up (IPv4 all-hosts), and
on an up bridge the IGMP/MLD snooping groups 01:00:5e:00:00:6a and
33:33:00:00:00:6a.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import bytes_to_mac
from netplex.shell.iproute_fmt import IpError, link_flags, link_name, matches
from netplex.shell.ip_link import _parse_lladdr
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.bridge import PORT_STATE_NAMES, Bridge, FdbEntry
from netplex.stack.device import Loopback

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
    """The multicast addresses on a device's own list (ndo_dflt_fdb_dump)."""
    if isinstance(dev, Loopback):
        return []
    out = ["33:33:00:00:00:01"]
    if dev.up:
        if isinstance(dev, Bridge):
            out += ["01:00:5e:00:00:6a", "33:33:00:00:00:6a"]
        out.append("01:00:5e:00:00:01")
    return out


def _fdb_state(br: Bridge, e: FdbEntry) -> str:
    if e.is_local:
        return "permanent"
    if e.is_static:
        return "static"
    if br.ns.sched.now - e.updated > br.ageing_ns:
        return "stale"
    return ""


def _fdb_show(ns: Any, args: list[str]) -> Result:
    br_filter = None
    dev_filter = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("dev", "brport"):
            i += 1
            if i >= len(args):
                raise IpError('Command line is not complete. Try option "help"', 255)
            dev_filter = ns.devices.get(args[i])
            if dev_filter is None:
                raise IpError(f'Cannot find device "{args[i]}"', 255)
        elif a == "br":
            i += 1
            if i >= len(args):
                raise IpError('Command line is not complete. Try option "help"', 255)
            br_filter = ns.devices.get(args[i])
            if br_filter is None:
                raise IpError(f'Cannot find bridge device "{args[i]}"', 255)
        elif a in ("vlan", "state", "dynamic", "self", "master"):
            raise IpError(f"netplex: bridge fdb show {a} is not supported", 2)
        else:
            raise IpError(f'Unknown bridge fdb show argument "{a}"', 255)
        i += 1
    out: list[str] = []
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        if dev_filter is not None and dev is not dev_filter:
            continue
        if br_filter is not None and dev is not br_filter and dev.master is not br_filter:
            continue
        devtxt = "" if dev_filter is not None else f"dev {dev.name} "
        lines: list[str] = []
        if dev.master is not None and isinstance(dev.master, Bridge):
            br = dev.master
            lines += _bridge_entries(br, dev.bridge_port, devtxt)
        if isinstance(dev, Bridge):
            lines += [f"{m} {devtxt}self permanent" for m in self_mc_entries(dev)]
            lines += _bridge_entries(dev, None, devtxt)
        else:
            lines += [f"{m} {devtxt}self permanent" for m in self_mc_entries(dev)]
        out += [line + "\n" for line in lines]
    return Result(0, "".join(out))


def _bridge_entries(br: Bridge, port: Any, devtxt: str) -> list[str]:
    out = []
    for e in reversed(list(br.fdb.values())):
        if e.port is not port:
            continue
        if not e.is_static and br.ns.sched.now - e.updated > br.ageing_ns:
            continue  # the gc timer would have removed it
        vlan = f"vlan {e.vlan} " if e.vlan else ""
        out.append(f"{bytes_to_mac(e.mac)} {devtxt}{vlan}master {br.name} {_fdb_state(br, e)}")
    return out


def _fdb_modify(ns: Any, args: list[str], cmd: str) -> Result:
    mac = None
    devname = None
    master = self_ = False
    state = "permanent"
    vlan = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            if i >= len(args):
                raise IpError('Command line is not complete. Try option "help"', 255)
            devname = args[i]
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
            if i >= len(args):
                raise IpError('Command line is not complete. Try option "help"', 255)
            v = args[i]
            if not v.isdigit():
                raise IpError(f'Error: argument "{v}" is wrong: invalid VLAN\n', 255)
            vlan = int(v)
        elif a in ("dst", "port", "vni", "via", "src_vni", "router", "use", "extern_learn", "sticky",
                   "norefresh"):
            raise IpError(f"netplex: bridge fdb {a} is not supported", 2)
        else:
            if mac is not None:
                raise IpError(f'Error: either "dev" is duplicate, or "{a}" is a garbage.', 255)
            mac = a
            _parse_lladdr(a)
        i += 1
    if mac is None or devname is None:
        raise IpError("Device and address are required arguments.", 255)
    addr = _parse_lladdr(mac)
    dev = ns.devices.get(devname)
    if dev is None:
        raise IpError(f'Cannot find device "{devname}"', 255)
    if not master and not self_:
        self_ = True
    if self_ and not master and not isinstance(dev, Bridge):
        raise IpError("netplex: bridge fdb ... self on a non-bridge device is not supported", 2)
    if master:
        if dev.master is None or not isinstance(dev.master, Bridge):
            raise IpError("RTNETLINK answers: Operation not supported", 255)
        br, port = dev.master, dev.bridge_port
    else:
        br, port = dev, None
    if vlan:
        raise IpError("RTNETLINK answers: Invalid argument", 255)
    if addr[0] & 1 or addr == b"\x00" * 6:
        raise IpError("RTNETLINK answers: Invalid argument", 255)
    now = ns.sched.now
    e = br.fdb.get(addr)
    if cmd == "del":
        if e is None or e.port is not port:
            raise IpError("RTNETLINK answers: No such file or directory", 255)
        del br.fdb[addr]
        ns.config_changed()
        return Result(0)
    if e is not None and cmd == "add":
        raise IpError("RTNETLINK answers: File exists", 255)
    is_local = state == "permanent"
    is_static = state in ("permanent", "static")
    if e is None:
        br.fdb[addr] = FdbEntry(addr, port, now, is_local=is_local, is_static=is_static, added_by_user=True)
    else:
        e.port = port
        e.is_local = is_local
        e.is_static = is_static
        e.updated = now
        e.added_by_user = True
    ns.config_changed()
    return Result(0)


def _link_show(ns: Any, args: list[str]) -> Result:
    dev_filter = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            if i >= len(args):
                raise IpError('Command line is not complete. Try option "help"', 255)
            a = args[i]
        dev_filter = ns.devices.get(a)
        if dev_filter is None:
            raise IpError(f'Cannot find device "{a}"', 255)
        i += 1
    out = []
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        port = dev.bridge_port
        if port is None or (dev_filter is not None and dev is not dev_filter):
            continue
        out.append(f"{dev.ifindex}: {link_name(dev)}: {link_flags(dev)} mtu {dev.mtu} master {dev.master.name} "
                   f"state {PORT_STATE_NAMES[port_state(port)]} priority {port.priority} cost {port.path_cost} \n")
    return Result(0, "".join(out))


_FLAG_ATTRS = {"hairpin": "hairpin", "learning": "learning", "flood": "flood", "isolated": "isolated"}


def _link_set(ns: Any, args: list[str]) -> Result:
    dev = None
    changes: dict[str, Any] = {}
    i = 0

    def value() -> str:
        nonlocal i
        i += 1
        if i >= len(args):
            raise IpError('Command line is not complete. Try option "help"', 255)
        return args[i]

    while i < len(args):
        a = args[i]
        if a == "dev":
            name = value()
            dev = ns.devices.get(name)
            if dev is None:
                raise IpError(f'Cannot find device "{name}"', 255)
        elif a in ("cost", "priority", "state"):
            v = value()
            if not v.isdigit():
                if a == "state" and v in PORT_STATE_NAMES:
                    v = str(PORT_STATE_NAMES.index(v))
                else:
                    raise IpError(f'Error: argument "{v}" is wrong: Invalid "{a}" value\n', 255)
            changes[a] = int(v)
        elif a in _FLAG_ATTRS:
            v = value()
            if v not in ("on", "off"):
                raise IpError(f'Error: argument "{v}" is wrong: {a} value is invalid', 255)
            changes[a] = v == "on"
        else:
            raise IpError(f"netplex: bridge link set {a} is not supported", 2)
        i += 1
    if dev is None:
        raise IpError('Device is a required argument.', 255)
    port = dev.bridge_port
    if port is None:
        raise IpError("RTNETLINK answers: Operation not supported", 255)
    if changes.get("state", 0) > 4 or changes.get("priority", 0) > 63:
        raise IpError("RTNETLINK answers: Numerical result out of range", 255)
    for k, v in changes.items():
        if k == "cost":
            port.path_cost = v
        elif k in ("priority", "state"):
            setattr(port, k, v)
        else:
            setattr(port, _FLAG_ATTRS[k], v)
    ns.config_changed()
    return Result(0)


@command("bridge")
def bridge(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    while args and args[0].startswith("-"):
        o = args[0]
        if matches(o, "-statistics") or matches(o, "-details") or matches(o, "-color") or o in ("-c", "-d", "-s") \
                or matches(o, "-timestamp") or matches(o, "-oneline") or matches(o, "-compressvlans"):
            pass
        elif matches(o, "-json") or matches(o, "-pretty"):
            return Result(2, "", "netplex: JSON output (bridge -json) is not supported\n")
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
    try:
        if matches(obj, "link"):
            if not rest or matches(rest[0], "show") or matches(rest[0], "list") or matches(rest[0], "lst"):
                return _link_show(ns, rest[1:])
            if matches(rest[0], "set"):
                return _link_set(ns, rest[1:])
            raise IpError(f'Command "{rest[0]}" is unknown, try "bridge link help".', 255)
        if matches(obj, "fdb"):
            if not rest or matches(rest[0], "show") or matches(rest[0], "list") or matches(rest[0], "lst"):
                return _fdb_show(ns, rest[1:])
            cmd = rest[0]
            if matches(cmd, "add") or matches(cmd, "append"):
                return _fdb_modify(ns, rest[1:], "add")
            if matches(cmd, "replace"):
                return _fdb_modify(ns, rest[1:], "replace")
            if matches(cmd, "delete"):
                return _fdb_modify(ns, rest[1:], "del")
            raise IpError(f'Command "{cmd}" is unknown, try "bridge fdb help".', 255)
        if obj in ("mdb", "vlan", "vni", "monitor") or matches(obj, "monitor"):
            return Result(2, "", f"netplex: bridge {obj} is not supported\n")
        if matches(obj, "help"):
            return Result(255, "", USAGE)
        return Result(255, "", f'Object "{obj}" is unknown, try "bridge help".\n')
    except IpError as e:
        return Result(e.status, "", e.message)
