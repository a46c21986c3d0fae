"""`ip maddress` (iproute2 6.1 ip/ipmaddr.c, ip-maddress(8)): a device's multicast addresses.

`show [dev DEV]` reads what the kernel's /proc/net/dev_mcast, /proc/net/igmp and
/proc/net/igmp6 would hold: the link-layer list (33:33:00:00:00:01 on every Ethernet device,
joined even with IPv6 disabled; 01:00:5e:00:00:01 and the groups' addresses while up; a
bridge's snooping groups; `static` the ones `ip maddr add` put there), the IPv4 groups (newest
first, 224.0.0.1 from the moment the device is up) and the IPv6 all-nodes groups every device
joins. `add|del LLADDR dev DEV` is dev_mc_add_global/dev_mc_del_global through SIOCADDMULTI:
adding one twice keeps one (a global address is not counted), deleting a missing one is
ENOENT (`ioctl: No such file or directory`). `-j` prints ipmaddr.c's JSON.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import bytes_to_mac, int_to_ip
from netplex.shell import ip_json
from netplex.shell.bridge import self_mc_entries
from netplex.shell.ip_link import parse_lladdr
from netplex.shell.iproute_fmt import IpError, matches, need_arg, need_arg_past
from netplex.shell.result import Result
from netplex.stack.bridge import Bridge
from netplex.stack.device import Loopback

__all__ = ["do_ipmaddr"]

ALL_HOSTS = 0xE0000001
ALL_SNOOPERS = 0xE000006A   # 224.0.0.106, which a bridge joins when it opens (br_multicast_open)


def _entries(dev: Any) -> list[tuple[str, str, bool]]:
    """(family, address, static) of one device, in the order `ip maddr` prints them."""
    out: list[tuple[str, str, bool]] = []
    if not isinstance(dev, Loopback):
        static = {bytes_to_mac(m) for m in dev.mc_static}
        out += [("link", m, m in static) for m in self_mc_entries(dev)]
    if dev.up:
        joined = [ALL_SNOOPERS] if isinstance(dev, Bridge) else []
        joined += [ALL_HOSTS] + [g for g in dev.ns.mc_groups.get(dev.ifindex, ()) if g not in (ALL_SNOOPERS,
                                                                                          ALL_HOSTS)]
        out += [("inet", int_to_ip(g), False) for g in reversed(joined)]   # ip_mc_inc_group: at the head
    six = ["ff02::6a"] if isinstance(dev, Bridge) and dev.up else []
    out += [("inet6", a, False) for a in (*six, "ff02::1", "ff01::1")]
    return out


def _show(ns: Any, opts: Any, args: list[str]) -> Result:
    name = None
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "help"):
            raise IpError("netplex: ip maddress help is not supported", 2)
        name, i = need_arg_past(args, i, "dev")
        i += 1
    want = {"inet": "inet", "link": "link"}.get(opts.family)
    text: list[str] = []
    objs: list[dict[str, Any]] = []
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        if name is not None and dev.name != name:
            continue   # an unknown name lists nothing, as the /proc files hold no such line
        entries = [e for e in _entries(dev) if want is None or e[0] == want]
        if want is not None and not entries:
            continue
        if opts.json:
            maddr = []
            for fam, addr, static in entries:
                o: dict[str, Any] = {"link": addr} if fam == "link" else {"family": fam, "address": addr}
                if static:
                    o["features"] = "static"
                maddr.append(o)
            objs.append({"ifindex": dev.ifindex, "ifname": dev.name, "maddr": maddr})
            continue
        text.append(f"{dev.ifindex}:\t{dev.name}\n")
        for fam, addr, static in entries:
            text.append(f"\t{fam:<5} {addr}{' static' if static else ''}\n")
    if opts.json:
        return Result(0, ip_json.dump(objs, opts.pretty))
    return Result(0, "".join(text))


def _modify(ns: Any, args: list[str], add: bool) -> Result:
    addr_text = name = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            name = need_arg(args, i)
        else:
            if a in ("address", "lladdr"):
                i += 1
                a = need_arg(args, i)
            addr_text = a
        i += 1
    if name is None or addr_text is None:
        raise IpError('Not enough information: "dev" is required.', 255)
    if "." in addr_text and ":" not in addr_text:
        addr = bytes(int(x) & 0xFF for x in addr_text.split(".") if x.isdigit())
    else:
        addr = parse_lladdr(addr_text)
    if len(addr) != 6:
        raise IpError(f"Error: Invalid address length {len(addr)} - must be 6 bytes", 1)
    dev = ns.devices.get(name)
    if dev is None:
        raise IpError("ioctl: No such device", 1)
    if add:
        if addr not in dev.mc_static:
            dev.mc_static.append(addr)
    elif addr in dev.mc_static:
        dev.mc_static.remove(addr)
    else:
        raise IpError("ioctl: No such file or directory", 1)
    return Result(0)


def do_ipmaddr(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args:
        return _show(ns, opts, [])
    cmd, rest = args[0], args[1:]
    if matches(cmd, "add"):
        return _modify(ns, rest, True)
    if matches(cmd, "delete"):
        return _modify(ns, rest, False)
    if matches(cmd, "list") or matches(cmd, "show") or matches(cmd, "lst"):
        return _show(ns, opts, rest)
    if matches(cmd, "help"):
        raise IpError("netplex: ip maddress help is not supported", 2)
    raise IpError(f'Command "{cmd}" is unknown, try "ip maddr help".', 255)
