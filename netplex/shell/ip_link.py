"""`ip link` and `ip tuntap` (iproute2 6.1 ip/iplink.c, iplink_bridge.c, iptuntap.c).

Every argument is parsed and checked before the namespace changes, so a
rejected command changes nothing. Changes are applied in the order the
kernel's do_setlink applies them: address, mtu, name, alias, flags
(up/down), master, txqueuelen, then the kind's own options (bridge).
"""
from __future__ import annotations

import re
from typing import Any

from netplex.errors import NetplexError
from netplex.machine import Machine
from netplex.shell import ip_json
from netplex.shell.ip_bond import parse_bond
from netplex.shell.iproute_fmt import (
    IpError,
    duparg2,
    ifname_or_error,
    invarg,
    link_flags,
    link_lines,
    link_name,
    matches,
    need_arg,
    need_arg_past,
    operstate,
    parse_s32,
    parse_u32,
)
from netplex.shell.result import Result, unsupported
from netplex.stack import rtnl
from netplex.stack.bridge import BR_CHANGELINK_ORDER, Bridge
from netplex.stack.device import Tap
from netplex.stack.if_flags import IFF_ALLMULTI, IFF_DYNAMIC, IFF_MULTICAST, IFF_NOARP, IFF_NOTRAILERS, IFF_PROMISC
from netplex.stack.netns import IFNAMSIZ, Namespace, valid_ifname
from netplex.stack.tun import Tun

_UNMODELLED_KINDS = frozenset(
    "dummy ipip sit bond team macvtap ipvlan vrf ifb geneve wireguard "
    "ip6gre ip6tnl vti xfrm nlmon can bareudp netdevsim".split())

_BRIDGE_USAGE = """Usage: ... bridge [ fdb_flush ]
		  [ forward_delay FORWARD_DELAY ]
		  [ hello_time HELLO_TIME ]
		  [ max_age MAX_AGE ]
		  [ ageing_time AGEING_TIME ]
		  [ stp_state STP_STATE ]
		  [ priority PRIORITY ]
		  [ group_fwd_mask MASK ]
		  [ group_address ADDRESS ]
		  [ no_linklocal_learn NO_LINKLOCAL_LEARN ]
		  [ vlan_filtering VLAN_FILTERING ]
		  [ vlan_protocol VLAN_PROTOCOL ]
		  [ vlan_default_pvid VLAN_DEFAULT_PVID ]
		  [ vlan_stats_enabled VLAN_STATS_ENABLED ]
		  [ vlan_stats_per_port VLAN_STATS_PER_PORT ]
		  [ mcast_snooping MULTICAST_SNOOPING ]
		  [ mcast_vlan_snooping MULTICAST_VLAN_SNOOPING ]
		  [ mcast_router MULTICAST_ROUTER ]
		  [ mcast_query_use_ifaddr MCAST_QUERY_USE_IFADDR ]
		  [ mcast_querier MULTICAST_QUERIER ]
		  [ mcast_hash_elasticity HASH_ELASTICITY ]
		  [ mcast_hash_max HASH_MAX ]
		  [ mcast_last_member_count LAST_MEMBER_COUNT ]
		  [ mcast_startup_query_count STARTUP_QUERY_COUNT ]
		  [ mcast_last_member_interval LAST_MEMBER_INTERVAL ]
		  [ mcast_membership_interval MEMBERSHIP_INTERVAL ]
		  [ mcast_querier_interval QUERIER_INTERVAL ]
		  [ mcast_query_interval QUERY_INTERVAL ]
		  [ mcast_query_response_interval QUERY_RESPONSE_INTERVAL ]
		  [ mcast_startup_query_interval STARTUP_QUERY_INTERVAL ]
		  [ mcast_stats_enabled MCAST_STATS_ENABLED ]
		  [ mcast_igmp_version IGMP_VERSION ]
		  [ mcast_mld_version MLD_VERSION ]
		  [ nf_call_iptables NF_CALL_IPTABLES ]
		  [ nf_call_ip6tables NF_CALL_IP6TABLES ]
		  [ nf_call_arptables NF_CALL_ARPTABLES ]

Where: VLAN_PROTOCOL := { 802.1Q | 802.1ad }
"""
# the bridge options netplex models (Bridge.changelink applies them, br_changelink), and all of
# them in iplink_bridge.c's order (an abbreviation matches the first)
_BRIDGE_OPTS = frozenset(BR_CHANGELINK_ORDER)
_BRIDGE_ORDER = ("forward_delay hello_time max_age ageing_time stp_state priority vlan_filtering vlan_protocol "
                 "group_fwd_mask group_address fdb_flush vlan_default_pvid vlan_stats_enabled "
                 "vlan_stats_per_port mcast_snooping mcast_querier").split()
_BRIDGE_KNOWN = ("fdb_flush group_address no_linklocal_learn vlan_protocol "
                 "vlan_stats_enabled vlan_stats_per_port mcast_vlan_snooping mcast_router "
                 "mcast_query_use_ifaddr mcast_querier mcast_hash_elasticity mcast_hash_max "
                 "mcast_last_member_count mcast_startup_query_count mcast_last_member_interval "
                 "mcast_membership_interval mcast_querier_interval mcast_query_interval "
                 "mcast_query_response_interval mcast_startup_query_interval mcast_stats_enabled "
                 "mcast_igmp_version mcast_mld_version nf_call_iptables nf_call_ip6tables "
                 "nf_call_arptables").split()


def _check_name(name: str) -> None:
    if not valid_ifname(name) or len(name) >= IFNAMSIZ:
        raise invarg('"name" not a valid ifname', name)


def parse_group(text: str) -> int:
    """rtnl_group_a2n: `default` (0, /etc/iproute2/group) or a number strtol reads whole, not negative."""
    if text == "default":
        return 0
    try:
        n = int(text, 8) if re.fullmatch(r"[+]?0[0-7]+", text) else int(text, 0)   # strtol base 0: 010 is 8
    except ValueError:
        n = -1
    if n < 0 or n > 0x7FFFFFFF:
        raise invarg('Invalid "group" value\n', text)
    return n


def parse_lladdr(text: str) -> bytes:
    """ll_addr_a2n (iproute2 lib/ll_addr.c): colon-separated components, each read as
    sscanf("%x") does (leading hex digits, an optional 0x) and 0..255, at most 32 of them;
    the caller checks the length against the device's."""
    out = bytearray()
    for comp in text.split(":")[:32]:
        m = re.match(r"\s*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)", comp)
        if m is None or m.group(1) == "-" or int(m.group(2), 16) > 255:
            raise IpError(f'"{comp}" is invalid lladdr.', 1)
        out.append(int(m.group(2), 16))
    return bytes(out)


def _parse_mac6(text: str) -> bytes:
    """A six-byte Ethernet address (what bridge(8) and the tunnels take)."""
    mac = parse_lladdr(text)
    if len(mac) != 6:
        raise IpError(f'"{text}" is invalid lladdr.', 1)
    return mac


# `ip link set` words that turn a net_device flag on or off: (flag, whether "on" sets it)
_FLAG_WORDS: dict[str, tuple[int, bool]] = {
    "promisc": (IFF_PROMISC, True), "allmulticast": (IFF_ALLMULTI, True), "multicast": (IFF_MULTICAST, True),
    "arp": (IFF_NOARP, False), "dynamic": (IFF_DYNAMIC, True), "trailers": (IFF_NOTRAILERS, False)}


class _LinkReq:
    """What one `ip link add|set` asked for."""

    def __init__(self) -> None:
        self.name: str | None = None       # the device (set) or the new name (add)
        self.newname: str | None = None
        self.up: bool | None = None
        self.mtu: int | None = None
        self.mac: bytes | None = None
        self.txqlen: int | None = None
        self.group: int | None = None      # IFLA_GROUP
        self.gflags: dict[int, bool] = {}   # net_device flags set (True) or cleared: promisc, arp, ...
        self.master: Any = None
        self.nomaster = False
        self.alias: str | None = None
        self.kind: str | None = None
        self.peer: dict[str, Any] = {}
        self.bridge: dict[str, int] = {}
        self.link: Any = None              # `link DEV`: the lower device (IFLA_LINK)
        self.opts: dict[str, Any] = {}     # the kind's own options (vlan, vxlan, gre, gretap)
        self.netns: str | None = None      # `netns NAME|PID` (IFLA_NET_NS_FD / IFLA_NET_NS_PID)


def _parse_link_args(ns: Any, args: list[str], adding: bool) -> _LinkReq:
    req = _LinkReq()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "up":
            req.up = True
        elif a == "down":
            req.up = False
        elif a == "name":
            i += 1
            v = need_arg(args, i)
            _check_name(v)
            if adding:
                req.name = v
            else:
                req.newname = v
        elif matches(a, "mtu"):
            i += 1
            v = need_arg(args, i)
            n = parse_u32(v)
            if n is None or n > 0x7FFFFFFF:
                raise invarg('Invalid "mtu" value\n', v)
            req.mtu = n
        elif a in ("address", "addr") or (matches(a, "address") and len(a) > 1):
            i += 1
            req.mac = parse_lladdr(need_arg(args, i))
        elif matches(a, "txqueuelen") or a in ("qlen", "txqlen"):
            i += 1
            v = need_arg(args, i)
            n = parse_s32(v)   # get_integer: -1 is IFLA_TXQLEN 4294967295, shown as `qlen -1`
            if n is None:
                raise invarg('Invalid "txqueuelen" value\n', v)
            req.txqlen = n & 0xFFFFFFFF
        elif a == "group":
            i += 1
            v = need_arg(args, i)
            if req.group is not None:
                raise IpError(f'Error: duplicate "group": "{v}" is the second value.', 255)
            req.group = parse_group(v)
        elif a == "master":
            i += 1
            v = need_arg(args, i)
            m = ns.devices.get(v)
            if m is None:
                raise invarg("Device does not exist\n", v)
            req.master = m
        elif a == "nomaster":
            req.nomaster = True
        elif a == "alias":
            i += 1
            req.alias = need_arg(args, i)
        elif matches(a, "type") and len(a) > 1:
            i += 1
            req.kind = need_arg(args, i)
            _parse_kind_args(ns, req, args[i + 1:])
            break
        elif a == "link":
            i += 1
            v = need_arg(args, i)
            m = ns.devices.get(v)
            if m is None:
                raise IpError(f'Cannot find device "{v}"', 1)
            req.link = m
        elif a == "netns":
            i += 1
            v = need_arg(args, i)
            if req.netns is not None:
                raise IpError(f'Error: duplicate "netns": "{v}" is the second value.', 255)
            req.netns = v
        elif a in _FLAG_WORDS:
            i += 1
            v = need_arg(args, i)
            if v not in ("on", "off"):
                raise IpError(f'Error: argument of "{a}" must be "on" or "off", not "{v}"', 1)
            flag, on_sets = _FLAG_WORDS[a]
            req.gflags[flag] = (v == "on") == on_sets
        elif a in ("carrier",
                   "link-netns", "link-netnsid", "vf", "xdp", "protodown", "gso_max_size",
                   "gso_max_segs", "numtxqueues", "numrxqueues", "broadcast", "brd", "index",
                   "addrgenmode", "mode", "state"):
            raise IpError(f"netplex: ip link {a} is not supported", 2)
        else:
            if matches(a, "help"):
                raise IpError("netplex: ip link help is not supported", 2)
            a, i = need_arg_past(args, i, "dev")
            if req.name is not None:
                raise duparg2("dev", a)
            if adding:
                _check_name(a)
            req.name = a
        i += 1
    return req


def _parse_kind_args(ns: Any, req: _LinkReq, args: list[str]) -> None:
    kind = req.kind
    if kind == "veth":
        i = 0
        if args and args[0] == "peer":
            i = 1
        while i < len(args):
            a = args[i]
            if a == "name":
                i += 1
                v = need_arg(args, i)
                _check_name(v)
                req.peer["name"] = v
            elif a == "netns":
                i += 1
                req.peer["netns"] = need_arg(args, i)
            elif matches(a, "address") and len(a) > 1:
                i += 1
                req.peer["mac"] = parse_lladdr(need_arg(args, i))
            elif matches(a, "mtu"):
                i += 1
                v = need_arg(args, i)
                n = parse_u32(v)
                if n is None:
                    raise invarg('Invalid "mtu" value\n', v)
                req.peer["mtu"] = n
            elif a in ("up", "down", "txqueuelen", "type", "master", "alias"):
                raise IpError(f"netplex: ip link add ... peer {a} is not supported", 2)
            else:
                a, i = need_arg_past(args, i, "dev")
                if "name" in req.peer:
                    raise duparg2("dev", a)
                _check_name(a)
                req.peer["name"] = a
            i += 1
    elif kind == "bridge":
        i = 0
        while i < len(args):
            a = args[i]
            opt = next((o for o in _BRIDGE_ORDER if matches(a, o)), None)
            if opt is None and a in _BRIDGE_KNOWN:
                opt = a
            if opt in _BRIDGE_OPTS:
                i += 1
                v = need_arg(args, i)
                n = parse_u32(v)
                limit = {"priority": 0xFFFF, "vlan_default_pvid": 0xFFFF, "vlan_filtering": 0xFF,
                         "group_fwd_mask": 0xFFFF, "mcast_snooping": 0xFF, "mcast_querier": 0xFF}.get(opt, 0xFFFFFFFF)
                if n is None or n > limit:
                    raise invarg(f"invalid {opt}", v)
                if opt in ("stp_state", "vlan_filtering", "mcast_snooping", "mcast_querier"):
                    n = 1 if n else 0
                req.bridge[opt] = n
            elif opt is not None:
                raise IpError(f"netplex: bridge option {opt} is not supported", 2)
            else:
                raise IpError(f'bridge: unknown command "{a}"?\n' + _BRIDGE_USAGE, 1)
            i += 1
    elif kind == "bond":
        req.opts = parse_bond(ns, args)
    elif kind in ("vlan", "vxlan", "gre", "gretap", "macvlan"):
        from netplex.shell import ip_l2

        ip_l2.parse_kind(ns, req, kind, args)
    elif kind in rtnl.LINK_KINDS and kind != "tun":
        # a kind registered with the stack that takes no options of its own here
        if args:
            raise IpError(f'{kind}: unknown command "{args[0]}"?', 1)
    elif kind in _UNMODELLED_KINDS:
        raise IpError(f"netplex: ip link type {kind} is not supported", 2)
    elif kind in ("tun", "tap"):
        raise IpError("netplex: ip link add type tun is not supported; use ip tuntap add", 2)
    else:
        raise IpError("Error: Unknown device type.", 2)


def _free_veth_name(taken: set[str]) -> str:
    n = 0
    while f"veth{n}" in taken:
        n += 1
    return f"veth{n}"


def _check_set(ns: Any, dev: Any, req: _LinkReq) -> None:
    """The kernel's checks, done before anything changes."""
    if req.mac is not None and len(req.mac) != 6:   # iplink_modify compares with the device's halen
        raise IpError(f"Invalid address length {len(req.mac)} - must be 6 bytes", 1)
    if req.mac is not None and req.mac != dev.mac and (req.mac[0] & 1 or req.mac == b"\x00" * 6):
        raise IpError("RTNETLINK answers: Cannot assign requested address", 2)
    if req.mtu is not None:
        if req.mtu < dev.min_mtu:
            raise IpError("Error: mtu less than device minimum.", 2)
        if dev.max_mtu > 0 and req.mtu > dev.max_mtu:   # dev_validate_mtu: 0 is no maximum
            raise IpError("Error: mtu greater than device maximum.", 2)
    if req.newname is not None and req.newname != dev.name:
        if req.newname in ns.devices:
            raise IpError("RTNETLINK answers: File exists", 2)
        # an up device is renamed too: dev_change_name allows live renaming since Linux 6.2
    if req.master is not None:
        try:
            rtnl.check_master(dev, req.master)
        except NetplexError as e:
            raise IpError(e.message, 2) from None
    if req.bridge and not isinstance(dev, Bridge):
        raise IpError("netplex: bridge options on a non-bridge device are not supported", 2)
    if req.opts and req.kind != dev.kind:
        raise IpError("RTNETLINK answers: Operation not supported", 2)


def _apply_set(ns: Any, dev: Any, req: _LinkReq) -> None:
    rtnl.setlink(dev, address=req.mac, mtu=req.mtu, ifname=req.newname, alias=req.alias, up=req.up,
                 nomaster=req.nomaster, master=req.master, txqlen=req.txqlen, group=req.group,
                 gflags=req.gflags)
    if req.bridge:
        rtnl.changelink(dev, **req.bridge)
    if req.opts and dev.kind == "bond":
        try:
            rtnl.changelink(dev, **req.opts)
        except NetplexError as e:
            raise IpError(e.message, 2) from None
    elif req.opts:
        from netplex.shell import ip_l2

        ip_l2.change_kind(ns, dev, req)


def _netns_arg(machine: Machine | None, value: str) -> Namespace:
    """`netns NAME|PID`: a named namespace of the machine (netns_get_fd), else a pid
    (IFLA_NET_NS_PID, whose namespace is the process's), else iproute2's invarg."""
    target = machine.netns_lookup(value) if machine is not None else None
    if target is not None:
        return target
    if machine is None or not value.isdigit():
        raise invarg('Invalid "netns" value\n', value)
    ns = machine.netns_of_pid(int(value))
    if ns is None:
        raise IpError("RTNETLINK answers: No such process", 2)
    return ns


def _link_add(ns: Any, args: list[str], machine: Machine | None = None) -> Result:
    req = _parse_link_args(ns, args, adding=True)
    if req.netns is not None:   # the new device is made in that namespace
        if req.master is not None or req.link is not None:
            raise IpError("netplex: ip link add ... netns with master or link is not supported", 2)
        ns = _netns_arg(machine, req.netns)
    if req.kind is None:
        raise IpError('Not enough information: "type" argument is required', 255)
    if req.master is not None or req.nomaster:
        pass
    name = req.name
    if name is not None and name in ns.devices:
        raise IpError("RTNETLINK answers: File exists", 2)
    if any(m is not None and len(m) != 6 for m in (req.mac, req.peer.get("mac"))):
        raise IpError("RTNETLINK answers: Invalid argument", 2)   # validate_linkmsg: IFLA_ADDRESS length
    if req.kind == "veth":
        peer_netns = req.peer.get("netns")
        peer_ns = ns if peer_netns is None else _netns_arg(machine, peer_netns)
        peer_name = req.peer.get("name")
        if peer_name is None:
            taken = set(peer_ns.devices)
            peer_name = _free_veth_name(taken)
        if peer_name in peer_ns.devices or (peer_ns is ns and peer_name == name):
            raise IpError("RTNETLINK answers: File exists", 2)
        if name is None:
            taken = set(ns.devices) | ({peer_name} if peer_ns is ns else set())
            name = _free_veth_name(taken)
        dev = rtnl.newlink(ns, "veth", name, peer=peer_name, peer_ns=peer_ns, peer_mac=req.peer.get("mac"),
                           peer_mtu=req.peer.get("mtu"), address=req.mac, mtu=req.mtu)
        if machine is not None:
            machine.link_crossed(dev)
        req.mac = req.mtu = None
    elif req.kind in ("vlan", "vxlan", "gre", "gretap", "macvlan"):
        from netplex.shell import ip_l2

        try:
            dev = ip_l2.create(ns, req, name)
        except IpError as e:
            if req.opts.get("warning"):
                e.message = req.opts["warning"] + e.message
            raise
        req.opts = {}
    elif req.kind == "bridge":
        if name is None:
            n = 0
            while f"bridge{n}" in ns.devices:
                n += 1
            name = f"bridge{n}"
        dev = rtnl.newlink(ns, "bridge", name)
        if req.bridge:
            rtnl.changelink(dev, **req.bridge)
        req.bridge = {}
    else:
        # any other kind registered in the stack's LINK_KINDS (one module each)
        if name is None:
            n = 0
            while f"{req.kind}{n}" in ns.devices:
                n += 1
            name = f"{req.kind}{n}"
        try:
            dev = rtnl.newlink(ns, req.kind, name, **req.opts)
        except NetplexError as e:
            raise IpError(e.message, 2) from None
        req.opts = {}
    try:
        _check_set(ns, dev, req)
    except IpError:
        rtnl.dellink(dev)
        raise
    if req.mtu is not None:
        rtnl.set_created_mtu(dev, req.mtu)
        req.mtu = None
    _apply_set(ns, dev, req)
    return Result(0, "", getattr(req, "warning", ""))


def _link_set(ns: Any, args: list[str], machine: Machine | None = None) -> Result:
    req = _parse_link_args(ns, args, adding=False)
    if req.name is None and req.group is not None:
        raise IpError("netplex: ip link set group N without dev (every device of a group) is not supported", 2)
    if req.name is None:
        raise IpError('Not enough information: "dev" argument is required.', 255)
    # iplink_parse resolves `netns NAME|PID` while it reads the line, before the device is looked up
    target = _netns_arg(machine, req.netns) if req.netns is not None else None
    dev = ifname_or_error(ns, req.name)
    if target is not None:   # do_setlink moves the device first; the rest applies there
        if machine is not None and dev.ns is not target:
            machine.move_device(dev, target)
            ns = target
    if req.kind is not None and req.kind != dev.kind:
        raise IpError("RTNETLINK answers: Operation not supported", 2)
    _check_set(ns, dev, req)
    _apply_set(ns, dev, req)
    return Result(0)


def _link_del(ns: Any, args: list[str]) -> Result:
    name = None
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "type") and len(a) > 1:
            i += 2
            continue
        a, i = need_arg_past(args, i, "dev")
        if name is not None:
            raise duparg2("dev", a)
        name = a
        i += 1
    if name is None:
        raise IpError('Not enough information: "dev" argument is required.', 255)
    dev = ifname_or_error(ns, name)
    rtnl.dellink(dev)
    return Result(0)


def show_devices(ns: Any, args: list[str], what: str) -> list[Any]:
    """The devices `ip link show` / `ip addr show` filter to, in ifindex order."""
    name = None
    kind = None
    master = None
    up_only = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "up":
            up_only = True
        elif matches(a, "type") and len(a) > 1:
            i += 1
            kind = need_arg(args, i)
        elif a == "master":
            i += 1
            v = need_arg(args, i)
            m = ns.devices.get(v)
            if m is None:
                raise invarg("Device does not exist\n", v)
            master = m
        elif a in ("scope", "label", "to", "permanent", "dynamic", "primary", "secondary", "group", "vrf"):
            if what == "link" or a in ("group", "vrf"):
                raise duparg2("dev", a)
            raise IpError(f"netplex: ip address show {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "dev")
            if name is not None:
                raise duparg2("dev", a)
            name = a
        i += 1
    if name is not None and name not in ns.devices:
        raise IpError(f'Device "{name}" does not exist.', 1)
    out = []
    for idx in sorted(ns.by_index):
        dev = ns.by_index[idx]
        if name is not None and dev.name != name:
            continue
        if kind is not None and _kind(dev) != kind:
            continue
        if master is not None and dev.master is not master:
            continue
        if up_only and not dev.up:
            continue
        out.append(dev)
    return out


def _kind(dev: Any) -> str:
    return {"veth": "veth", "bridge": "bridge", "tun": "tun", "vlan": "vlan", "vxlan": "vxlan", "gre": "gre",
            "gretap": "gretap", "macvlan": "macvlan", "bond": "bond"}.get(dev.kind, "")


def brief_link_line(dev: Any) -> str:
    from netplex.packet.addr import bytes_to_mac

    return f"{link_name(dev):<16} {operstate(dev):<14} {bytes_to_mac(dev.mac)} {link_flags(dev)} "


def _link_show(ns: Any, opts: Any, args: list[str]) -> Result:
    devs = show_devices(ns, args, "link")
    if opts.json and opts.details:
        odd = sorted({d.kind for d in devs} - ip_json.JSON_DETAIL_KINDS)
        if odd:
            return unsupported(f"ip -json -details of {', '.join(odd)} devices "
                               f"(JSON details exist for bridge, veth, vxlan, macvlan, tun and loopback)")
    if opts.json:
        objs = []
        for dev in show_devices(ns, [a for a in args if a != "up"], "link"):
            if dev not in devs:   # print_linkinfo's `up` filter returns after the object was opened
                objs.append({})
                continue
            obj = ip_json.link_json(dev, machine=opts.machine)
            if opts.details:
                ip_json.details_json(dev, obj)
            if opts.stats:
                obj["stats64"] = ip_json.stats64_json(dev, opts.stats)
            objs.append(obj)
        return Result(0, ip_json.dump(objs, opts.pretty))
    out: list[str] = []
    for dev in devs:
        if opts.brief:
            out.append(brief_link_line(dev) + "\n")
            continue
        lines = link_lines(dev, stats=opts.stats, details=opts.details, machine=opts.machine)
        out.append(("\\" if opts.oneline else "\n").join(lines) + "\n")
    return Result(0, "".join(out))


def do_iplink(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args:
        return _link_show(ns, opts, [])
    cmd, rest = args[0], args[1:]
    machine = opts.machine
    if matches(cmd, "add"):
        return _link_add(ns, rest, machine)
    if matches(cmd, "set") or matches(cmd, "change"):
        return _link_set(ns, rest, machine)
    if matches(cmd, "replace"):
        raise IpError("netplex: ip link replace is not supported", 2)
    if matches(cmd, "delete"):
        return _link_del(ns, rest)
    if matches(cmd, "show") or matches(cmd, "lst") or matches(cmd, "list"):
        return _link_show(ns, opts, rest)
    if matches(cmd, "help"):
        raise IpError("netplex: ip link help is not supported", 2)
    raise IpError(f'Command "{cmd}" is unknown, try "ip link help".', 255)


# ---------------------------------------------------------------- ip tuntap

def _parse_user(text: str, kind: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "root":
        return 0
    raise IpError(f'invalid {kind} "{text}"', 1)


def do_iptuntap(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args or matches(args[0], "show") or matches(args[0], "list") or matches(args[0], "lst"):
        out = []
        for idx in sorted(ns.by_index):
            d = ns.by_index[idx]
            if isinstance(d, (Tap, Tun)):
                line = f"{d.name}: {d.mode}"
                if d.multi_queue:
                    line += " multi_queue"
                if d.persist:
                    line += " persist"
                if d.owner is not None:
                    line += f" user {d.owner}"
                if d.group is not None:
                    line += f" group {d.group}"
                out.append(line + "\n")
        return Result(0, "".join(out))
    cmd, rest = args[0], args[1:]
    adding = matches(cmd, "add")
    if not adding and not matches(cmd, "delete"):
        raise IpError(f'Command "{cmd}" is unknown, try "ip tuntap help".', 255)
    name = None
    mode = None
    user = group = None
    multi = False
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "mode":
            i += 1
            mode = need_arg(rest, i)
            if mode not in ("tun", "tap"):
                raise IpError(f'Unknown tunnel mode "{mode}"', 255)
        elif a in ("tun", "tap"):
            mode = a
        elif a == "user":
            i += 1
            user = _parse_user(need_arg(rest, i), "user")
        elif a == "group":
            i += 1
            group = _parse_user(need_arg(rest, i), "group")
        elif a == "multi_queue":
            multi = True
        elif a in ("one_queue", "pi", "vnet_hdr", "numqueues"):
            raise IpError(f"netplex: ip tuntap {a} is not supported", 2)
        else:
            if a in ("dev", "name"):   # iptuntap.c parse_args: `dev NAME`, `name NAME` or a bare NAME
                i += 1
                a = need_arg(rest, i)
            if name is not None:
                raise duparg2("dev", a)
            name = a
        i += 1
    if mode is None:
        raise IpError("You failed to specify a tunnel mode", 1)
    if not adding:
        dev = ns.devices.get(name) if name else None
        if isinstance(dev, (Tap, Tun)) and dev.mode == mode:
            rtnl.dellink(dev)
        elif dev is not None:
            raise IpError("ioctl(TUNSETIFF): Invalid argument", 1)
        return Result(0)
    if name is None:
        n = 0
        while f"{mode}{n}" in ns.devices:
            n += 1
        name = f"{mode}{n}"
    if not valid_ifname(name):
        raise IpError("ioctl(TUNSETIFF): Invalid argument", 1)
    if name in ns.devices:
        raise IpError("ioctl(TUNSETIFF): Device or resource busy", 1)
    rtnl.newlink(ns, "tun", name, mode=mode, owner=user, group=group, multi_queue=multi)
    return Result(0)


__all__ = ["do_iplink", "do_iptuntap", "show_devices", "brief_link_line", "parse_lladdr"]
