"""`ip -j` (iproute2 6.1's json_writer): the objects `ip -j link|addr|route|neigh|rule show`
print, with iproute2's keys, in its order, and its two layouts:
compact (`[{"dst":"default",...}]`, one line) and `-p` pretty (four-space indents,
`},{` between objects, `[ "STALE" ]` arrays).

A route (print_route): type (not unicast), dst ("default", a host without /32),
gateway, dev (unless `dev` selected it), table (only listing every table),
protocol (not boot), scope (not global), prefsrc, metric, flags (always: onlink,
linkdown), metrics ([{"mtu": N}]). A neighbour (print_neigh): dst, dev (unless
selected), lladdr (when known), [-s: used, confirmed, updated, probes], state (the NUD state
names). A link (ipaddress.c print_linkinfo): ifindex, link (a peer or lower device here) or
link_index (elsewhere), ifname, flags, mtu, qdisc, master, operstate, linkmode (`ip link`
only), group, txqlen, link_type, address, broadcast, link_netnsid, ifalias (`ip link` only),
[`ip addr`: addr_info], [-s: stats64]. An address (print_addrinfo): family, local, address
(a peer), prefixlen, broadcast, metric, scope, secondary, noprefixroute, label and the two
lifetimes (forever: 4294967295).

`ip -j -d link` (print_linkinfo's details): promiscuity, allmulti, min_mtu, max_mtu, then
`linkinfo` {info_kind, info_data (the kind's print_opt: iplink_bridge.c, iplink_vxlan.c,
iplink_macvlan.c, iplink_tun.c), info_slave_kind, info_slave_data (iplink_bridge_slave.c)}, then the
common tail (inet6_addr_gen_mode, num_tx_queues, ...). The JSON is read from the same
attributes the text prints (the `-d` text line, key by key, renamed to the JSON keys and
typed as iproute2 types them), so the two cannot drift apart. Kinds without a JSON
printer here (bond, vlan, gre, gretap) refuse `-j -d`.
"""
from __future__ import annotations

import json
from typing import Any

from netplex.machine import Machine
from netplex.packet.addr import bytes_to_mac, int_to_ip
from netplex.shell.iproute_fmt import (
    LOOPBACK_TAIL,
    bridge_slave_line,
    details_line,
    link_flags,
    operstate,
    promisc_allmulti,
    s32,
)
from netplex.stack.device import Veth

__all__ = ["JSON_DETAIL_KINDS", "JsonPairs", "JsonRaw", "addr_json", "details_json", "dump", "flag_names",
           "link_json", "link_ref", "stats64_json"]

JsonObj = dict[str, Any]


class JsonPairs(list[tuple[str, Any]]):
    """An object whose keys may repeat, as json_writer lets them (`tc -j -d qdisc` of a tbf with
    a peak rate prints "mpu" twice); dumped like a dict."""


class JsonRaw(str):
    """A number json_writer prints with its own format (`"hello_timer": 0.00`): written as is."""


def _scalar(v: Any) -> str:
    return str(v) if isinstance(v, JsonRaw) else json.dumps(v)


def _is_obj(v: Any) -> bool:
    return isinstance(v, (dict, JsonPairs))


def _items(obj: Any) -> list[tuple[str, Any]]:
    return list(obj) if isinstance(obj, JsonPairs) else list(obj.items())


def _compact(v: Any) -> str:
    if _is_obj(v):
        return "{" + ",".join(f"{json.dumps(k)}:{_compact(x)}" for k, x in _items(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_compact(x) for x in v) + "]"
    return _scalar(v)


def _pretty_value(v: Any, depth: int) -> str:
    if isinstance(v, list) and not isinstance(v, JsonPairs):
        if not v:
            return "[ ]"
        if all(not _is_obj(x) for x in v):
            return "[ " + ",".join(json.dumps(x) for x in v) + " ]"
        return "[ " + ",".join(_pretty_obj(x, depth + 1) for x in v) + " ]"
    if _is_obj(v):
        return _pretty_obj(v, depth)
    return _scalar(v)


def _pretty_obj(obj: Any, depth: int) -> str:
    if not obj:
        return "{}"
    pad = "    " * (depth + 1)
    lines = [f"{pad}{json.dumps(k)}: {_pretty_value(v, depth + 1)}" for k, v in _items(obj)]
    return "{\n" + ",\n".join(lines) + "\n" + "    " * depth + "}"


def dump(objs: list[Any], pretty: bool) -> str:
    """The array as iproute2 prints it, with its trailing newline."""
    if not pretty:
        return _compact(objs) + "\n"
    if not objs:
        return "[ ]\n"
    return "[ " + ",".join(_pretty_obj(o, 1) for o in objs) + " ]\n"


INFINITY_LIFE_TIME = 0xFFFFFFFF   # INFINITY_LIFE_TIME: an address that never expires
_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


def flag_names(dev: Any) -> list[str]:
    """print_link_flags' names as a JSON array."""
    text = link_flags(dev)[1:-1]
    return text.split(",") if text else []


def link_ref(dev: Any, obj: JsonObj) -> None:
    """IFLA_LINK: a device of this namespace by name (`link`), else by number (`link_index`);
    a tunnel with no lower device has `"link": null` (its text prints `@NONE`)."""
    if isinstance(dev, Veth):
        peer = dev.peer
        if peer is None:
            return
        if peer.ns is dev.ns:
            obj["link"] = peer.name
        else:
            obj["link_index"] = peer.ifindex
        return
    name = dev.link_suffix()   # a VLAN's or macvlan's lower device, a tunnel's link
    if name is None:
        return
    lower = dev.lower_dev()
    if lower is not None and lower.ns is not dev.ns:
        obj["link_index"] = lower.ifindex
    else:
        obj["link"] = None if name == "NONE" else name


def _link_netnsid(dev: Any, machine: Machine | None) -> int | None:
    """IFLA_LINK_NETNSID: the id this namespace knows the peer's by (JSON prints the number,
    never the name); another machine's namespace gets one on first dump, as in link_netns."""
    if not (isinstance(dev, Veth) and dev.peer is not None and dev.peer.ns is not dev.ns):
        return None
    if machine is not None:
        nsid = machine.peernet2id(dev.ns, dev.peer.ns)
        if nsid is not None:
            return nsid
        if dev.peer.ns not in machine.namespaces():
            return machine.peernet2id_alloc(dev.ns, dev.peer.ns)
    return 0


def stats64_json(dev: Any, level: int) -> JsonObj:
    """print_stats64's JSON: `rx` and `tx`, with the error counters at -s -s."""
    s = dev.stats
    rx: JsonObj = {"bytes": s.rx_bytes, "packets": s.rx_packets, "errors": s.rx_errors,
                   "dropped": s.rx_dropped, "over_errors": 0, "multicast": s.multicast}
    tx: JsonObj = {"bytes": s.tx_bytes, "packets": s.tx_packets, "errors": s.tx_errors,
                   "dropped": s.tx_dropped, "carrier_errors": 0, "collisions": 0}
    if level > 1:
        rx.update(length_errors=0, crc_errors=0, frame_errors=0, fifo_errors=0, missed_errors=0)
        tx.update(aborted_errors=0, fifo_errors=0, window_errors=0, heartbeat_errors=0,
                  carrier_changes=dev.carrier_changes)
    return {"rx": rx, "tx": tx}


def link_json(dev: Any, *, mode: bool = True, lladdr: bool = True, machine: Machine | None = None) -> JsonObj:
    """One device as print_linkinfo writes it (`mode`: `ip link`, which adds linkmode and
    ifalias; `lladdr`: False under `ip -4 addr`, which leaves out the link/ line)."""
    obj: JsonObj = {"ifindex": dev.ifindex}
    link_ref(dev, obj)
    obj["ifname"] = dev.name
    obj["flags"] = flag_names(dev)
    obj["mtu"] = dev.mtu
    obj["qdisc"] = dev.qdisc_name()
    if dev.master is not None:
        obj["master"] = dev.master.name
    obj["operstate"] = operstate(dev)
    if mode:
        obj["linkmode"] = "DEFAULT"
    obj["group"] = "default" if dev.netdev_group == 0 else str(dev.netdev_group)
    if dev.txqueuelen:
        obj["txqlen"] = s32(dev.txqueuelen)
    if lladdr:
        obj["link_type"] = dev.link_type
        if dev.link_type == "gre":   # IFLA_ADDRESS/IFLA_BROADCAST of a point-to-point tunnel
            obj["address"] = dev.ns.fmt_ip(dev.local)
            obj["link_pointtopoint"] = True
            obj["broadcast"] = dev.ns.fmt_ip(dev.remote)
        elif dev.link_type != "none":   # a TUN device has no IFLA_ADDRESS
            obj["address"] = bytes_to_mac(dev.mac)
            obj["broadcast"] = "00:00:00:00:00:00" if dev.link_type == "loopback" else "ff:ff:ff:ff:ff:ff"
    nsid = _link_netnsid(dev, machine)   # printed whatever the family filter
    if nsid is not None:
        obj["link_netnsid"] = nsid
    if dev.alias and mode:
        obj["ifalias"] = dev.alias
    return obj


def addr_json(ifa: Any) -> JsonObj:
    """print_addrinfo's object for one IPv4 address."""
    obj: JsonObj = {"family": "inet", "local": int_to_ip(ifa.addr)}
    if ifa.peer is not None:
        obj["address"] = int_to_ip(ifa.peer)
    obj["prefixlen"] = ifa.plen
    if ifa.brd:
        obj["broadcast"] = int_to_ip(ifa.brd)
    if ifa.metric:
        obj["metric"] = ifa.metric
    obj["scope"] = _SCOPES.get(ifa.scope, str(ifa.scope))
    if ifa.secondary:
        obj["secondary"] = True
    if ifa.noprefixroute:
        obj["noprefixroute"] = True
    obj["label"] = ifa.label
    obj["valid_life_time"] = INFINITY_LIFE_TIME
    obj["preferred_life_time"] = INFINITY_LIFE_TIME
    return obj


# text key -> (JSON key, type): "i" a number, "s" a string, "b" on/off as a boolean, "f" a
# "%.2f" timer, "-" text only (print_on_off(PRINT_FP, ...)); a key not listed is a number
_BRIDGE_KEYS = {
    "bridge_id": ("bridge_id", "s"), "designated_root": ("root_id", "s"), "hello_timer": ("hello_timer", "f"),
    "tcn_timer": ("tcn_timer", "f"), "topology_change_timer": ("topology_change_timer", "f"),
    "gc_timer": ("gc_timer", "f"), "group_fwd_mask": ("group_fwd_mask", "s"),
    "group_address": ("group_addr", "s"), "mcast_last_member_count": ("mcast_last_member_cnt", "i"),
    "mcast_startup_query_count": ("mcast_startup_query_cnt", "i"),
    "mcast_last_member_interval": ("mcast_last_member_intvl", "i"),
    "mcast_membership_interval": ("mcast_membership_intvl", "i"),
    "mcast_querier_interval": ("mcast_querier_intvl", "i"), "mcast_query_interval": ("mcast_query_intvl", "i"),
    "mcast_query_response_interval": ("mcast_query_response_intvl", "i"),
    "mcast_startup_query_interval": ("mcast_startup_query_intvl", "i"),
}
_BRIDGE_SLAVE_KEYS = {
    "state": ("state", "s"), "hairpin": ("hairpin", "b"), "guard": ("guard", "b"),
    "root_block": ("root_block", "b"), "fastleave": ("fastleave", "b"), "learning": ("learning", "b"),
    "flood": ("flood", "b"), "port_id": ("id", "s"), "port_no": ("no", "s"),
    "designated_bridge": ("bridge_id", "s"), "designated_root": ("root_id", "s"),
    "hold_timer": ("hold_timer", "f"), "message_age_timer": ("message_age_timer", "f"),
    "forward_delay_timer": ("forward_delay_timer", "f"), "proxy_arp": ("proxy_arp", "b"),
    "proxy_arp_wifi": ("proxy_arp_wifi", "b"), "mcast_router": ("multicast_router", "i"),
    "mcast_fast_leave": ("", "-"), "mcast_flood": ("mcast_flood", "b"), "bcast_flood": ("bcast_flood", "b"),
    "mcast_to_unicast": ("mcast_to_unicast", "b"), "neigh_suppress": ("neigh_suppress", "b"),
    "group_fwd_mask": ("group_fwd_mask", "s"), "group_fwd_mask_str": ("group_fwd_mask_str", "s"),
    "vlan_tunnel": ("vlan_tunnel", "b"), "isolated": ("isolated", "b"), "locked": ("locked", "b"),
}
_MACVLAN_KEYS = {"mode": ("mode", "s")}
_TAIL_KEYS = {"addrgenmode": ("inet6_addr_gen_mode", "s"), "numtxqueues": ("num_tx_queues", "i"),
              "numrxqueues": ("num_rx_queues", "i")}
_KIND_KEYS = {"bridge": _BRIDGE_KEYS, "macvlan": _MACVLAN_KEYS, "veth": {}}
JSON_DETAIL_KINDS = frozenset(("loopback", "bridge", "veth", "vxlan", "macvlan", "tun"))


def _pairs(text: str, keys: dict[str, tuple[str, str]]) -> JsonObj:
    """`key value key value ...` of a `-d` text line as print_opt's JSON object."""
    words = text.split()
    obj: JsonObj = {}
    for key, value in zip(words[::2], words[1::2]):
        name, kind = keys.get(key, (key, "i"))
        if kind == "-":
            continue
        obj[name] = (value if kind == "s" else value == "on" if kind == "b"
                     else JsonRaw(value) if kind == "f" else int(value, 0))
    return obj


def _vxlan_json(dev: Any) -> JsonObj:
    """iplink_vxlan.c's vxlan_print_opt in a JSON context."""
    obj: JsonObj = {"id": dev.vni}
    g = dev.group
    if g:
        obj["group" if 0xE0000000 <= g <= 0xEFFFFFFF else "remote"] = dev.ns.fmt_ip(g)
    if dev.local:
        obj["local"] = dev.ns.fmt_ip(dev.local)
    if dev.lower is not None:
        obj["link"] = dev.lower.name
    obj["port_range"] = {"low": dev.srcport[0], "high": dev.srcport[1]}
    obj["port"] = dev.dstport
    obj["learning"] = bool(dev.learning)
    if dev.tos:
        obj["tos"] = f"{dev.tos:#x}"
    if not dev.ttl_inherit:
        obj["ttl"] = dev.ttl or 0   # "ttl auto" in the text
    obj["df"] = "unset"
    obj["ageing"] = dev.ageing
    obj["udp_csum"] = bool(dev.udpcsum)
    obj["udp_zero_csum6_tx"] = False
    obj["udp_zero_csum6_rx"] = False
    return obj


def details_json(dev: Any, obj: JsonObj) -> None:
    """What `-d` adds to print_linkinfo's object (the caller checked the kind is in
    JSON_DETAIL_KINDS)."""
    promisc, allmulti = promisc_allmulti(dev)
    obj.update(promiscuity=promisc, allmulti=allmulti, min_mtu=dev.min_mtu, max_mtu=dev.max_mtu)
    if dev.kind == "loopback":
        obj.update(_pairs(LOOPBACK_TAIL, _TAIL_KEYS))
        return
    text = details_line(dev)
    cut = text.find("addrgenmode ")
    kind, _, rest = text[:cut].strip().partition(" ")
    info: JsonObj = {"info_kind": kind}
    if kind == "vxlan":
        info["info_data"] = _vxlan_json(dev)
    elif kind == "tun":   # iplink_tun.c's print_opt: multi_queue is a bare word in the text
        tun = _pairs(rest.replace("multi_queue ", ""), {"type": ("type", "s"), "pi": ("pi", "b"),
                                                           "vnet_hdr": ("vnet_hdr", "b"), "persist": ("persist", "b")})
        head = {k: tun.pop(k) for k in ("type", "pi", "vnet_hdr")}
        info["info_data"] = {**head, "multi_queue": dev.multi_queue, **tun}
    elif kind != "veth":
        info["info_data"] = _pairs(rest, _KIND_KEYS[kind])
    port = dev.bridge_port
    if port is not None:
        info["info_slave_kind"] = "bridge"
        info["info_slave_data"] = _pairs(bridge_slave_line(port).split(None, 1)[1], _BRIDGE_SLAVE_KEYS)
    obj["linkinfo"] = info
    obj.update(_pairs(text[cut:], _TAIL_KEYS))
