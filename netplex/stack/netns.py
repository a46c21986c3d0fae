"""One simulated Linux network namespace: its devices, addresses, routes and sysctls.

This module owns configuration (what `ip link`, `ip addr`, `ip route` and
`sysctl` change) and the rules the kernel applies on each change: connected
and local routes follow addresses and device state (fib_add_ifaddr,
fib_sync_down_dev), primary and secondary addresses (__inet_insert_ifa),
bridge ports, carrier. The packet path itself lives in `ipv4.py`, `arp.py`
and the socket modules, mixed into `Namespace`.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Unpack

from netplex.engine.trace import TraceEvent, TraceFields
from netplex.errors import NetplexError
from netplex.packet.addr import bytes_to_mac, int_to_ip
from netplex.packet.esp import IPPROTO_AH, IPPROTO_ESP
from netplex.packet.ipv4 import IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPv4
from netplex.stack.arp import ArpMixin
from netplex.stack.bridge import Bridge
from netplex.stack.device import Loopback, NetDevice, Tap, Veth
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.gre import gre_rcv
from netplex.stack.igmp import IPPROTO_IGMP, IgmpDevState, igmp_rcv
from netplex.stack.inetpeer import InetPeer
from netplex.stack.ipv4 import Ipv4Path
from netplex.stack.mpls import MplsRoute
from netplex.stack.neigh import NeighTable
from netplex.stack.nexthop import NexthopTable, NhObject, sync_routes
from netplex.stack.protocol import inet_add_protocol
from netplex.stack.route import (
    RT_SCOPE_HOST,
    RT_SCOPE_LINK,
    RT_SCOPE_UNIVERSE,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    RTPROT_BGP,
    Fib,
    FibRule,
    Route,
    RuleSelector,
)
from netplex.stack.snmp import Mib
from netplex.stack.sockets import SocketTable
from netplex.stack.sysctl import Sysctl
from netplex.stack.tcp import tcp_v4_rcv
from netplex.stack.vlan import VlanDevice
from netplex.stack.wmem import wmem_release
from netplex.stack.xfrm.path import ah_input, esp_input
from netplex.stack.xfrm.state import Xfrm

if TYPE_CHECKING:
    from netplex.engine.world import World
    from netplex.stack.af_packet import PacketSocket
    from netplex.stack.ipmr import MrTable
    from netplex.stack.ipv4 import NfHook
    from netplex.stack.netfilter.core import Netfilter
    from netplex.stack.netfilter.ebtables import Ebtables

IFNAMSIZ = 16

# Device kinds with NETIF_F_NETNS_LOCAL: they cannot change namespace.
NETNS_LOCAL_KINDS = ("bridge", "vxlan")


class IfAddr:
    """struct in_ifaddr: one IPv4 address on a device."""

    __slots__ = ("addr", "plen", "peer", "brd", "scope", "label", "dev", "secondary", "noprefixroute",
                 "metric")

    def __init__(self, addr: int, plen: int, dev: NetDevice, *, brd: int | None = None,
                 scope: int = RT_SCOPE_UNIVERSE, label: str | None = None, peer: int | None = None,
                 noprefixroute: bool = False, metric: int = 0) -> None:
        self.addr = addr
        self.plen = plen
        self.peer = peer
        self.brd = brd
        self.scope = scope
        self.label = label or dev.name
        self.dev = dev
        self.secondary = False
        self.noprefixroute = noprefixroute
        self.metric = metric

    @property
    def mask(self) -> int:
        return (0xFFFFFFFF << (32 - self.plen)) & 0xFFFFFFFF if self.plen else 0

    @property
    def prefix(self) -> int:
        return self.addr & self.mask

    def same_subnet(self, other: IfAddr) -> bool:
        return self.plen == other.plen and self.prefix == other.prefix


def valid_ifname(name: str) -> bool:
    """dev_valid_name."""
    return (0 < len(name) < IFNAMSIZ and name not in (".", "..")
            and not any(c in name for c in "/:") and not any(c.isspace() for c in name))


def _gre_rcv(ns: Namespace, dev: NetDevice, ip: IPv4, rtype: str) -> bool:
    """GRE is served only once a tunnel exists (the kernel loads ip_gre with the first one)."""
    if not ns.gre_tunnels:
        return False
    gre_rcv(ns, dev, ip)
    return True


# inet_init (net/ipv4/af_inet.c): the transport protocols every namespace delivers to
inet_add_protocol(IPPROTO_ICMP, Ipv4Path.icmp_rcv)
inet_add_protocol(IPPROTO_IGMP, igmp_rcv)
inet_add_protocol(IPPROTO_TCP, tcp_v4_rcv)
inet_add_protocol(IPPROTO_UDP, Ipv4Path.udp_rcv)
inet_add_protocol(IPPROTO_GRE, _gre_rcv)
inet_add_protocol(IPPROTO_ESP, esp_input)
inet_add_protocol(IPPROTO_AH, ah_input)


IPV4_MIN_MTU = 68   # inetdev_valid_mtu (include/net/ip.h)



def _type_match(table: Any, addr: int) -> tuple[int, str] | None:
    """The prefix length and type of the route of `table` covering `addr` (fib_table_lookup's first
    live alias of the longest prefix: a host-scope route lives on while its device is down)."""
    for plen in table.plens:
        mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0
        for r in table.by_plen[plen].get(addr & mask, ()):
            if r.dev is None or r.dev.up or r.nhs or r.scope == RT_SCOPE_HOST:
                return plen, r.type
    return None

class Namespace(Ipv4Path, ArpMixin):
    """A network namespace: the node a scenario names."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.sched = world.sched
        self.devices: dict[str, NetDevice] = {}
        self.by_index: dict[int, NetDevice] = {}
        self.next_ifindex = 1
        self.addrs: dict[int, list[IfAddr]] = {}   # ifindex → addresses, primaries first
        self.local_addrs: set[int] = set()
        self.sysctl = Sysctl(self)
        self.fib = Fib(self.ignores_linkdown)
        self.neigh = NeighTable(self)
        self.tc_actions: dict[str, dict[int, Any]] = {}   # tc's shared actions by kind, index (act.py)
        self.ptype_all: list[PacketSocket] = []   # AF_PACKET taps (af_packet.py); tested once per frame
        self.sockets = SocketTable(self)
        self.route_cache: dict[Any, Route | Literal[False]] = {}   # input route by destination (False: none)
        # output routes by flow, valid for one World.config_generation (ipv4.py ip_route_output)
        self.rt_out_cache: dict[tuple[Any, ...], Any] = {}
        self.rt_out_gen = -1
        self.local_fast: tuple[int, dict[int, bool]] = (-1, {})   # ip_local_fast's purity (ipv4.py)
        self.generation = 0
        self.kmsg: list[str] = []
        # netfilter (netfilter/core.py): its state, created by the first iptables
        # command (netfilter_of), and the runner it installs per hook (none: no rules)
        self.netfilter: Netfilter | None = None
        self.hooks: dict[str, NfHook] = {}
        self.ebtables: Ebtables | None = None    # the bridge filter table (netfilter/ebtables.py); None: no rules
        self.pmtu: dict[int, tuple[int, int]] = {}                      # route exceptions (route.c)
        # redirect exceptions (fib_nh_exception's fnhe_gw): dst → (nexthop, gateway, expiry ns); the fast
        # path stays off while there is one (not in FASTPATH_NEUTRAL)
        self.fnhe: dict[int, tuple[Any, int, int]] = {}
        self.frags: dict[tuple[int, int, int, int], list[IPv4]] = {}    # ip_defrag queues
        self.inet_peers: dict[int, InetPeer] = {}                       # inetpeer.py: rate limits per remote host
        self.icmp_global_credit = 0                                     # icmp_global_allow's bucket
        self.mib = Mib()                                                # SNMP counters (snmp.py: /proc/net/snmp)
        self.net_ratelimit_state = [-1, 0, 0]                           # net_ratelimit: begin, printed, missed
        self.tx_owner: Any = None       # the socket whose send is on the stack (skb->sk), stack/wmem.py
        self.wmem_owned: dict[int, tuple[Any, int, Any]] = {}   # queued frames charged to a socket
        self.icmp_global_stamp: int | None = None
        self.igmp: dict[int, IgmpDevState] = {}                         # ifindex → IGMP host state
        self.mrt: MrTable | None = None    # multicast routing table (ipmr.py) once a daemon did MRT_INIT
        self.ip_id = world.rng.randrange(65536)
        self.drops: dict[SkbDropReason, int] = {}
        self.has_uppers = False          # a VLAN/VXLAN/tunnel device sits on another device here
        self.vlan_devs: dict[tuple[int, int, int], Any] = {}   # (lower ifindex, TPID, VID) → VLAN device
        self.macvlan_ports: dict[int, Any] = {}   # lower ifindex → its MacvlanPort (macvlan.py)
        self.vxlan_socks: dict[int, dict[int, Any]] = {}      # UDP port → VNI → VXLAN device
        self.udp_encap: dict[int, Any] = {}                   # UDP port → encapsulation receive
        self.gre_tunnels: list[Any] = []
        self.mc_groups: dict[int, list[int]] = {}             # ifindex → joined IPv4 groups
        self.xfrm = Xfrm(self)                                # IPsec SAD/SPD (stack/xfrm)
        self.mpls_routes: dict[int, MplsRoute] = {}           # the MPLS label table (stack/mpls.py)
        self.nexthops = NexthopTable()                        # `ip nexthop` objects (stack/nexthop.py)
        # RTNLGRP_LINK/IPV4_IFADDR/IPV4_ROUTE listeners (a routing daemon's netlink socket): each is
        # called, as a scheduled event, after a device, address or non-BGP route change
        self.rtnl_listeners: list[Callable[[], None]] = []
        lo = Loopback(self)
        self.register(lo)
        self.lo = lo

    # -- helpers -------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Namespace {self.name}>"

    def fmt_ip(self, a: int | None) -> str:
        return int_to_ip(a) if a is not None else "0.0.0.0"

    @staticmethod
    def fmt_mac(m: bytes) -> str:
        return bytes_to_mac(m)

    def trace(self, stage: str, text: str, **fields: Unpack[TraceFields]) -> None:
        """Emit one trace event; callers test `world.tracer.on` first (nothing is built when off)."""
        tracer = self.world.tracer
        tracer.emit(TraceEvent(self.sched.now, self.name, stage, text, tracer.packet, **fields))

    def drop(self, frame: Any, dev: Any, reason: SkbDropReason, qdisc: str | None = None,
             handle: int | None = None) -> None:
        """kfree_skb_reason: counted per reason, traced when tracing (a qdisc's drop names it)."""
        self.drops[reason] = self.drops.get(reason, 0) + 1
        if self.wmem_owned and frame is not None:
            wmem_release(self, frame)
        if self.world.tracer.on:
            name = dev.name if dev is not None else None
            where = f" on {name}" if name is not None else ""
            self.trace("drop", f"dropped{where}: {reason.text}", dev=name, reason=reason, qdisc=qdisc, handle=handle)

    def config_changed(self) -> None:
        """Anything that can change a forwarding decision bumps the generation."""
        self.generation += 1
        self.route_cache.clear()
        self.world.config_generation += 1

    def rtnl_notify(self) -> None:
        """rtnetlink's multicast to the listening daemons (rtmsg_ifinfo, rtmsg_ifa, rtmsg_fib)."""
        for fn in self.rtnl_listeners:
            self.sched.at(self.sched.now, fn)

    # -- devices -------------------------------------------------------------
    def register(self, dev: NetDevice, ifindex: int = 0) -> None:
        """register_netdevice; `ifindex` 0 takes the next free index (dev_new_index)."""
        if not ifindex:
            while self.next_ifindex in self.by_index:
                self.next_ifindex += 1
            ifindex = self.next_ifindex
            self.next_ifindex += 1
        dev.ifindex = ifindex
        self.devices[dev.name] = dev
        self.by_index[dev.ifindex] = dev
        self.addrs[dev.ifindex] = []
        self.sysctl.add_device(dev.name)
        dev.forwarding = self.sysctl.forwarding(dev.name)
        self.config_changed()

    def dev(self, name: str) -> NetDevice:
        d = self.devices.get(name)
        if d is None:
            raise NetplexError(f'Cannot find device "{name}"', errno.ENODEV)
        return d

    def check_new_name(self, name: str) -> None:
        """dev_valid_name and the uniqueness check of register_netdevice."""
        if not valid_ifname(name):
            raise NetplexError(f'Error: argument "{name}" is wrong: "name" not a valid ifname', errno.EINVAL)
        if name in self.devices:
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)

    def add_veth_pair(self, name: str, peer_ns: Namespace, peer_name: str) -> tuple[Veth, Veth]:
        self.check_new_name(name)
        if peer_ns is self and peer_name == name:
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        peer_ns.check_new_name(peer_name)
        a = Veth(self, name, self.world.random_mac())
        b = Veth(peer_ns, peer_name, self.world.random_mac())
        peer_ns.register(b)   # veth_newlink registers the peer first: it gets the lower ifindex
        self.register(a)
        self.world.connect(a, b)
        return a, b

    def add_bridge(self, name: str) -> Bridge:
        self.check_new_name(name)
        br = Bridge(self, name, self.world.random_mac())
        self.register(br)
        return br

    def add_vlan(self, name: str, lower: NetDevice, vid: int, proto: int = 0x8100) -> Any:
        """register_vlan_dev."""
        self.check_new_name(name)
        dev = VlanDevice(self, name, lower, vid, proto)
        self.register(dev)
        self.vlan_devs[(lower.ifindex, proto, vid)] = dev
        self.has_uppers = True
        return dev

    def add_vxlan(self, name: str, vni: int, **cfg: Any) -> Any:
        """vxlan_dev_configure: the device and, for a group or remote, its all-zeros FDB entry."""
        from netplex.stack.vxlan import NUD_NOARP, NUD_PERMANENT, VxlanDev, VxlanFdb, VxlanRemote, check_vni_in_use

        self.check_new_name(name)
        check_vni_in_use(self, vni, cfg.get("dstport", 8472))
        dev = VxlanDev(self, name, self.world.random_mac(), vni)
        for k, v in cfg.items():
            setattr(dev, k, v)
        if dev.lower is not None:
            dev.mtu = dev.lower.mtu - 50
            self.has_uppers = True
        if dev.group:
            f = VxlanFdb(b"\x00" * 6, NUD_PERMANENT | NUD_NOARP, self.sched.now)
            f.remotes.append(VxlanRemote(dev.group, dev.dstport, vni, dev.lower.ifindex if dev.lower else 0))
            dev.fdb[f.mac] = f
        self.register(dev)
        return dev

    def add_gre(self, name: str, kind: str, **cfg: Any) -> Any:
        """ipgre_newlink / gre_tap: a GRE tunnel device."""
        from netplex.stack.gre import GreDev, GretapDev

        self.check_new_name(name)
        for t in self.gre_tunnels:
            if (t.kind == kind and t.local == cfg["local"] and t.remote == cfg["remote"]
                    and t.ikey == cfg["ikey"] and t.link_dev is cfg["link"]):
                raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        dev = GreDev(self, name, **cfg) if kind == "gre" else GretapDev(self, name, self.world.random_mac(), **cfg)
        self.register(dev)
        self.gre_tunnels.append(dev)
        return dev

    def mc_member(self, dev: NetDevice, group: int) -> bool:
        groups = self.mc_groups.get(dev.ifindex)
        return groups is not None and group in groups

    def add_tap(self, name: str) -> Tap:
        self.check_new_name(name)
        tap = Tap(self, name, self.world.random_mac())
        self.register(tap)
        return tap

    def del_device(self, dev: NetDevice) -> None:
        """unregister_netdevice; a veth takes its peer with it."""
        if dev is self.lo:
            raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)
        peer = dev.peer if isinstance(dev, Veth) else None
        self._unregister(dev)
        if peer is not None:
            peer.ns._unregister(peer)

    def _unregister(self, dev: NetDevice) -> None:
        dev.ndo_uninit()
        port = self.macvlan_ports.get(dev.ifindex)
        if port is not None:   # macvlan_device_event(NETDEV_UNREGISTER): its macvlans, in any namespace
            for v in list(port.vlans):
                v.ns._unregister(v)
        if self.has_uppers:
            # NETDEV_UNREGISTER: VLAN and VXLAN devices on this one go with it
            for upper in [d for d in self.devices.values() if d.lower_dev() is dev]:
                self._unregister(upper)
        if dev.up:
            dev.up = False
            self._device_down(dev)
            if dev.kind == "vxlan":
                dev.netdev_event()
        if isinstance(dev, VlanDevice):
            self.vlan_devs.pop((dev.lower.ifindex, dev.proto, dev.vid), None)
        elif dev.kind in ("gre", "gretap") and dev in self.gre_tunnels:
            self.gre_tunnels.remove(dev)
        self.mc_groups.pop(dev.ifindex, None)
        if dev.master is not None:
            dev.master.ndo_del_slave(dev)
        if dev.accepts_ports:
            for lower in [d for d in self.devices.values() if d.master is dev]:
                dev.ndo_del_slave(lower)
        for a in list(self.addrs.get(dev.ifindex, [])):
            self.local_addrs.discard(a.addr)
        self.addrs.pop(dev.ifindex, None)
        self.fib.flush_dev(dev)
        # local routes are flushed with the device too
        self.neigh.flush_dev(dev)
        self.sysctl.remove_device(dev.name)
        del self.devices[dev.name]
        del self.by_index[dev.ifindex]
        if dev.peer is not None and dev.peer.peer is dev:
            dev.peer.peer = None
        dev.peer = None
        self.config_changed()

    def change_net_namespace(self, dev: NetDevice, target: Namespace) -> None:
        """dev_change_net_namespace (net/core/dev.c): `ip link set DEV netns NAME`.

        The device closes (goes down), leaves its bridge, loses its addresses,
        routes, neighbours and qdiscs, and is registered in `target` under the
        same name, keeping its ifindex if that is free there. A veth keeps its
        peer and cable. Loopback, bridges and VXLAN devices are NETIF_F_NETNS_LOCAL.
        """
        if dev is self.lo or dev.kind in NETNS_LOCAL_KINDS:
            raise NetplexError("Error: The interface netns is immutable.", errno.EINVAL)
        if dev.kind in ("gre", "gretap"):
            raise NetplexError(f"netplex: moving a {dev.kind} device to another namespace is not supported",
                               errno.EOPNOTSUPP)
        if target is self:
            return
        if dev.name in target.devices:
            raise NetplexError("Error: An interface with the same name exists in the target netns.",
                               errno.EEXIST)
        dev.set_up(False)                    # dev_close
        if dev.master is not None:           # NETDEV_UNREGISTER: br_del_if
            self.set_master(dev, None)
        for a in list(self.addrs.get(dev.ifindex, [])):   # inetdev_destroy
            self.local_addrs.discard(a.addr)
        self.addrs.pop(dev.ifindex, None)
        self.mc_groups.pop(dev.ifindex, None)
        self.fib.flush_dev(dev)
        self.neigh.flush_dev(dev)
        self.sysctl.remove_device(dev.name)
        del self.devices[dev.name]
        del self.by_index[dev.ifindex]
        dev.qdisc = dev.ingress_q = None     # dev_shutdown: back to the default qdisc
        dev.qdisc_order = []
        dev.was_up = False
        self.config_changed()
        dev.ns = target
        target.register(dev, 0 if dev.ifindex in target.by_index else dev.ifindex)
        if dev.peer is not None and isinstance(dev, Veth):
            dev.peer.ns.device_state_changed(dev.peer)

    def rename_device(self, dev: NetDevice, new: str) -> None:
        """dev_change_name: an up device may be renamed too (live renaming, Linux 6.2 on: the twin's kernel)."""
        self.check_new_name(new)
        del self.devices[dev.name]
        self.sysctl.rename_device(dev.name, new)
        # inetdev_changename: the first address takes the new name as its label, each other one
        # the new name and its old label's `:suffix` (`:N`, its 1-based position, when it had none)
        # (in ifa_list order: the primaries, then the secondaries __inet_insert_ifa appends)
        for named, a in enumerate(sorted(self.addrs.get(dev.ifindex, []), key=lambda x: x.secondary)):
            if not named:
                a.label = new
                continue
            dot = a.label[a.label.index(":"):] if ":" in a.label else f":{named + 1}"
            a.label = new + dot if len(dot) + len(new) < IFNAMSIZ else new[:IFNAMSIZ - len(dot) - 1] + dot
        dev.name = new
        self.devices[new] = dev
        dev.forwarding = self.sysctl.forwarding(new)
        self.config_changed()

    def set_mtu(self, dev: NetDevice, mtu: int) -> None:
        if mtu < dev.min_mtu:
            raise NetplexError("Error: mtu less than device minimum.", errno.EINVAL)
        if dev.max_mtu > 0 and mtu > dev.max_mtu:   # dev_validate_mtu: 0 is no maximum
            raise NetplexError("Error: mtu greater than device maximum.", errno.EINVAL)
        dev.ndo_change_mtu(mtu)
        if dev.master is not None:
            dev.master.lower_changemtu(dev)
        # inetdev_event(NETDEV_CHANGEMTU): below IPV4_MIN_MTU IPv4 leaves the device (inetdev_destroy:
        # its addresses, routes, neighbours, sysctl keys); back at 68 or more a fresh in_device, empty
        if mtu < IPV4_MIN_MTU and not dev.no_in_dev:
            while self.addrs.get(dev.ifindex):
                self.del_addr(self.addrs[dev.ifindex][0])
            self.neigh.flush_dev(dev)
            self.sysctl.inet_remove_device(dev.name)
            dev.no_in_dev = True
        elif mtu >= IPV4_MIN_MTU and dev.no_in_dev:
            dev.no_in_dev = False
            self.sysctl.inet_add_device(dev.name)
        self.config_changed()

    def set_mac(self, dev: NetDevice, mac: bytes) -> None:
        """dev_set_mac_address: the driver (eth_mac_addr's validity check) is asked only when the
        address changes; the same address still counts as set and notifies NETDEV_CHANGEADDR."""
        if mac != dev.mac and (mac[0] & 1 or mac == b"\x00" * 6):
            raise NetplexError("RTNETLINK answers: Cannot assign requested address", errno.EADDRNOTAVAIL)
        if isinstance(dev, Bridge):
            dev.set_mac(mac, by_user=True)
        else:
            old = dev.mac
            dev.ndo_set_mac_address(mac)
            port = dev.bridge_port
            if port is not None:
                port.bridge.port_mac_changed(port, old)
        dev.addr_assign_random = False
        self.neigh.flush_dev(dev)   # arp_netdev_event(NETDEV_CHANGEADDR): neigh_changeaddr
        self.config_changed()

    def set_master(self, dev: NetDevice, master: NetDevice | None) -> None:
        """do_set_master: release from the old master (ndo_del_slave), enslave to the new
        one (ndo_add_slave), whatever kind of master it is."""
        if master is None:
            if dev.master is not None:
                dev.master.ndo_del_slave(dev)
                self.device_state_changed(dev)
            return
        if dev.master is master:
            return
        master.check_slave(dev)
        if dev.master is not None:
            dev.master.ndo_del_slave(dev)
        master.ndo_add_slave(dev)
        self.device_state_changed(dev)

    def set_link_up(self, dev: NetDevice, up: bool) -> None:
        dev.set_up(up)

    def device_state_changed(self, dev: NetDevice) -> None:
        """NETDEV_UP / NETDEV_DOWN / NETDEV_CHANGE: routes follow the device."""
        # the bridge (br_device_event), a bridge port (br_port_carrier_check) and
        # upper devices (VLAN, VXLAN, tunnels) hear of it
        master = dev.master
        if master is not None:
            master.lower_event(dev)
            master.note_carrier()   # a bridge's carrier follows its forwarding ports
        dev.netdev_event()
        if self.has_uppers:
            for upper in [d for d in self.devices.values() if d.lower_dev() is dev]:
                self.device_state_changed(upper)
        carrier = dev.up and dev.has_carrier()
        dev.note_carrier()
        if dev.up and dev.carrier_seen and not carrier \
                and self.sysctl.values.get(f"net.ipv4.conf.{dev.name}.arp_evict_nocarrier") == "1":
            self.neigh.flush_dev(dev, skip_perm=True)   # arp_netdev_event(NETDEV_CHANGE): neigh_carrier_down
        dev.carrier_seen = carrier
        if dev.up:
            dev.was_up = True
            if dev is self.lo and not dev.no_in_dev and not any(a.addr == 0x7F000001 for a in self.addrs[dev.ifindex]):
                # inetdev_event(NETDEV_UP) on loopback: 127.0.0.1/8 scope host
                self.add_addr(IfAddr(0x7F000001, 8, dev, scope=RT_SCOPE_HOST))
            for a in self.addrs.get(dev.ifindex, []):
                self._fib_add_ifaddr(a)
        else:
            self._device_down(dev)
        self.config_changed()
        if self.rtnl_listeners:
            self.rtnl_notify()

    def _device_down(self, dev: NetDevice) -> None:
        """fib_disable_ip: routes through the device go, its neighbours are flushed. A host-scope route
        stays (a local address, `scope host`: its nexthop's scope is RT_SCOPE_NOWHERE, which
        fib_sync_down_dev does not kill without `force`, i.e. unless the device goes away).
        nexthop_flush_dev first: the nexthop objects through the device go, with their routes."""
        if self.nexthops.objs:
            self.remove_nexthops(self.nexthops.on_dev(dev))
        for t in self.fib.tables.values():
            for r in t.routes():
                if r.nhid is not None:
                    continue      # a route through an object followed it (sync_routes)
                if r.nhs:
                    # fib_sync_down_dev(NETDEV_DOWN): the nexthop is dead; the route goes with the last one
                    if not any(nh.dev.up for nh in r.nhs):
                        t.remove(r)
                elif r.dev is dev and r.scope != RT_SCOPE_HOST:
                    t.remove(r)
        self.neigh.flush_dev(dev)
        self.config_changed()

    # -- addresses -------------------------------------------------------------
    def dev_addrs(self, dev: NetDevice) -> list[IfAddr]:
        return self.addrs.get(dev.ifindex, [])

    def all_addrs(self) -> list[IfAddr]:
        out: list[IfAddr] = []
        for idx in sorted(self.addrs):
            out.extend(self.addrs[idx])
        return out

    def is_local_addr(self, a: int) -> bool:
        return a in self.local_addrs

    def ip_dev_find(self, a: int) -> NetDevice | None:
        """__ip_dev_find: the device holding address `a`, else the device of a local route of the local
        table covering it (127.0.0.5: "communication over loopback subnets"), else None."""
        if a in self.local_addrs:
            for idx in sorted(self.addrs):
                for ifa in self.addrs[idx]:
                    if ifa.addr == a:
                        return ifa.dev
        if self.inet_addr_type_table(a, RT_TABLE_LOCAL) == "local":
            r = self.fib.tables[RT_TABLE_LOCAL].lookup_scoped(a, 0)
            return r.dev if r is not None else self.lo
        return None

    def add_addr(self, ifa: IfAddr, replace: bool = False) -> None:
        """__inet_insert_ifa: the first address of a subnet is primary, later ones secondary (appended);
        a primary is placed by scope (see below), which also orders source address selection."""
        if ifa.dev.no_in_dev:   # inet_rtm_newaddr → rtm_to_ifaddr: no in_device
            raise NetplexError("RTNETLINK answers: No buffer space available", errno.ENOBUFS)
        lst = self.addrs[ifa.dev.ifindex]
        for old in lst:
            if old.addr == ifa.addr and old.plen == ifa.plen:
                if not replace:
                    raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
                # inet_rtm_newaddr with NLM_F_REPLACE on an address it has: only the metric
                # (and the lifetimes) change; scope, label, flags stay as they were
                if old.metric != ifa.metric:
                    self._fib_modify_prefix_metric(old, ifa.metric)
                    old.metric = ifa.metric
                self.config_changed()
                return
        for old in lst:   # __inet_insert_ifa: an address of a subnet the device has takes that scope
            if old.same_subnet(ifa) and old.scope != ifa.scope:
                raise NetplexError("Error: ipv4: Invalid scope value.", errno.EINVAL)
        ifa.secondary = any(o.same_subnet(ifa) and not o.secondary for o in lst)
        if ifa.secondary:
            lst.append(ifa)
        else:
            # a primary goes right after the last primary of the same or a narrower scope (host 254 >
            # link 253 > global 0), else first: narrow scopes lead, secondaries stay at the end
            idx = 0
            for i, o in enumerate(lst):
                if not o.secondary and ifa.scope <= o.scope:
                    idx = i + 1
            lst.insert(idx, ifa)
        self.local_addrs.add(ifa.addr)
        self._fib_add_ifaddr(ifa)
        self.config_changed()
        if self.rtnl_listeners:
            self.rtnl_notify()

    def del_addr(self, ifa: IfAddr) -> None:
        """__inet_del_ifa: deleting a primary deletes its secondaries, or with
        promote_secondaries (all or the device's) makes the first of them primary."""
        lst = self.addrs[ifa.dev.ifindex]
        victims = [ifa]
        promote: IfAddr | None = None
        subs: list[IfAddr] = []
        if not ifa.secondary:
            subs = [o for o in lst if o.secondary and o.same_subnet(ifa)]
            name = ifa.dev.name
            if subs and any(self.sysctl.values.get(f"net.ipv4.conf.{k}.promote_secondaries", "0") != "0"
                            for k in ("all", name)):
                promote = subs[0]   # IN_DEV_PROMOTE_SECONDARIES: the first secondary takes over
            else:
                victims += subs
        for v in victims:
            lst.remove(v)
            self._fib_del_ifaddr(v)
        if promote is not None:
            # the subnet's other secondaries change their primary: their routes go silently and
            # come back with the promoted address as preferred source
            for o in subs[1:]:
                self._fib_del_ifaddr(o)
            moved = {o.addr for o in subs}
            for t in self.fib.tables.values():
                for r in t.routes():
                    if r.type == "local" and r.dev is ifa.dev and r.proto == 2 and r.dst in moved:
                        t.remove(r)
            lst.remove(promote)
            promote.secondary = False
            lst.insert(sum(1 for o in lst if not o.secondary), promote)
            self._fib_add_ifaddr(promote)
            for o in subs[1:]:
                self._fib_add_ifaddr(o)
        self.local_addrs = {a.addr for addrs in self.addrs.values() for a in addrs}
        # fib_sync_down_addr: routes preferring a source address no device has any more go,
        # whatever their device
        gone = {v.addr for v in victims} - self.local_addrs
        for t in self.fib.tables.values():
            for r in t.routes():
                if r.src in gone and r.type != "local":
                    t.remove(r)
        if not lst:
            # fib_inetaddr_event: the last address went, so IP is disabled on the device
            # (fib_disable_ip) — every route through it goes, gateway routes included, and
            # arp_ifdown flushes its neighbours, permanent ones too
            self.fib.flush_dev(ifa.dev)
            self.neigh.flush_dev(ifa.dev)
        self.config_changed()
        if self.rtnl_listeners:
            self.rtnl_notify()

    def inet_addr_type_table(self, addr: int, table_id: int) -> str:
        """inet_addr_type_table (__inet_dev_addr_type without a device): the type of the route table
        `table_id` gives `addr` ("broadcast" for 0.0.0.0/8 and 255.255.255.255, "multicast" for 224/4,
        "unicast" when no route matches). A host-scope route stays alive while its device is down (its
        nexthop scope is RT_SCOPE_NOWHERE: fib_sync_down_dev leaves it)."""
        if addr >> 24 == 0 or addr == 0xFFFFFFFF:
            return "broadcast"
        if addr >> 28 == 14:
            return "multicast"
        table = self.fib.tables.get(table_id)
        if table is None:
            return "broadcast"
        best = _type_match(table, addr)
        if table_id == RT_TABLE_LOCAL and not self.fib.has_custom_rules:
            # the local table is main's trie until the first rule (fib_new_table's alias): its longer
            # prefixes win (10.0.1.2 on eth1's /24 is no local address under lo's 10.0.0.0/16)
            main = _type_match(self.fib.tables[RT_TABLE_MAIN], addr)
            if main is not None and (best is None or main[0] > best[0]):
                best = main
        return best[1] if best is not None else "unicast"

    def fib_valid_prefsrc(self, route: Route) -> bool:
        """fib_valid_prefsrc: a route's preferred source must be a local address of its table (main's:
        local's), else of the local table — unless the route is the address's own local route. An
        address that is also a broadcast route listed before its local one is no local address here."""
        src = route.src
        if src is None or (route.type == "local" and route.dst and src == route.dst):
            return True
        tb_id = RT_TABLE_LOCAL if route.table == RT_TABLE_MAIN else route.table
        if self.inet_addr_type_table(src, tb_id) == "local":
            return True
        return tb_id != RT_TABLE_LOCAL and self.inet_addr_type_table(src, RT_TABLE_LOCAL) == "local"

    def _fib_magic(self, table: Any, route: Route) -> None:
        """fib_magic(RTM_NEWROUTE): a kernel route, quietly not made when fib_create_info refuses it
        (a preferred source that is no local address)."""
        if self.fib_valid_prefsrc(route):
            self._insert_once(table, route)

    def _fib_add_ifaddr(self, ifa: IfAddr) -> None:
        """fib_add_ifaddr."""
        dev = ifa.dev
        prim = ifa if not ifa.secondary else next(
            (o for o in self.addrs[dev.ifindex] if not o.secondary and o.same_subnet(ifa)), ifa)
        local = self.fib.tables[RT_TABLE_LOCAL]
        self._fib_magic(local, Route(ifa.addr, 32, table=RT_TABLE_LOCAL, type="local", dev=dev,
                                     src=prim.addr, proto=2, scope=RT_SCOPE_HOST))
        if not dev.up:
            return
        if ifa.brd and ifa.brd != 0xFFFFFFFF:
            self._fib_magic(local, Route(ifa.brd, 32, table=RT_TABLE_LOCAL, type="broadcast", dev=dev,
                                         src=prim.addr, proto=2, scope=RT_SCOPE_LINK))
        prefix = ifa.prefix
        if prefix and not ifa.secondary and (prefix != ifa.addr or ifa.plen < 32):
            if not ifa.noprefixroute:
                main = self.fib.tables[RT_TABLE_MAIN]
                if isinstance(dev, Loopback):
                    self._fib_magic(local, Route(prefix, ifa.plen, table=RT_TABLE_LOCAL, type="local",
                                                 dev=dev, src=prim.addr, proto=2, scope=RT_SCOPE_HOST,
                                                 metric=ifa.metric))
                else:
                    self._fib_magic(main, Route(prefix, ifa.plen, table=RT_TABLE_MAIN, dev=dev,
                                                src=prim.addr, proto=2, scope=RT_SCOPE_LINK,
                                                metric=ifa.metric))
            if ifa.plen < 31:
                self._fib_magic(local, Route(prefix | (~ifa.mask & 0xFFFFFFFF), 32, table=RT_TABLE_LOCAL,
                                             type="broadcast", dev=dev, src=prim.addr, proto=2,
                                             scope=RT_SCOPE_LINK))

    def _fib_modify_prefix_metric(self, ifa: IfAddr, metric: int) -> None:
        """fib_modify_prefix_metric: the address's prefix route moves to the new metric."""
        prefix = ifa.prefix
        if (not ifa.dev.up or ifa.secondary or ifa.noprefixroute or not prefix
                or (prefix == ifa.addr and ifa.plen == 32)):
            return
        table = self.fib.tables[RT_TABLE_LOCAL if isinstance(ifa.dev, Loopback) else RT_TABLE_MAIN]
        for r in list(table.find(prefix, ifa.plen)):
            if r.dev is ifa.dev and r.proto == 2 and r.metric == ifa.metric and r.src == ifa.addr:
                table.remove(r)
                r.metric = metric
                table.insert(r)
                return

    @staticmethod
    def _insert_once(table: Any, route: Route) -> None:
        for r in table.find(route.dst, route.plen):
            if r.same_entry(route):
                return
        table.insert(route)

    def _fib_del_ifaddr(self, ifa: IfAddr) -> None:
        """fib_del_ifaddr: remove the routes this address alone was keeping."""
        dev = ifa.dev
        others = [o for o in self.addrs.get(dev.ifindex, [])]
        for t in self.fib.tables.values():
            for r in t.routes():
                if r.dev is not dev or r.proto != 2:
                    continue
                if r.type == "local" and r.dst == ifa.addr and r.plen == 32:
                    if not any(o.addr == ifa.addr for a_list in self.addrs.values() for o in a_list if o.dev is dev):
                        t.remove(r)
                elif r.type == "unicast" and r.src == ifa.addr:
                    t.remove(r)
                elif r.type == "broadcast" and r.src == ifa.addr:
                    t.remove(r)
        # the subnet may still be served by another primary on the device
        for o in others:
            if dev.up:
                self._fib_add_ifaddr(o)

    def inet_select_addr(self, dev: NetDevice, dst: int, scope: int) -> int:
        """inet_select_addr: the device's first primary address of scope <= `scope`, one on dst's
        subnet preferred; else the first such primary of any device, in ifindex order (lo first,
        whose 127.0.0.1 is host scope); 0 when there is none."""
        addr = 0
        for a in self.addrs.get(dev.ifindex, []):
            if a.secondary or a.scope > scope:
                continue
            if not dst or (dst & a.mask) == a.prefix:
                return a.addr
            addr = addr or a.addr
        if addr:
            return addr
        for idx in sorted(self.addrs):
            for a in self.addrs[idx]:
                if not a.secondary and a.scope <= scope:
                    return a.addr
        return 0

    def select_source(self, dev: NetDevice | None, dst: int, scope_link: bool = False) -> int | None:
        """inet_select_addr: a primary address of `dev`, preferring one on dst's subnet."""
        if dev is not None:
            best = None
            for a in self.addrs.get(dev.ifindex, []):
                if a.secondary:
                    continue
                if (dst & a.mask) == a.prefix:
                    return a.addr
                if best is None and (a.scope <= (RT_SCOPE_LINK if scope_link else RT_SCOPE_UNIVERSE)):
                    best = a.addr
            if best is not None:
                return best
        for idx in sorted(self.addrs):
            for a in self.addrs[idx]:
                if not a.secondary and a.scope == RT_SCOPE_UNIVERSE and not isinstance(a.dev, Loopback):
                    return a.addr
        for idx in sorted(self.addrs):
            for a in self.addrs[idx]:
                if not a.secondary and a.scope < RT_SCOPE_HOST:
                    return a.addr
        return None

    # -- routes -------------------------------------------------------------
    def add_route(self, route: Route, replace: bool = False, append: bool = False) -> None:
        """fib_table_insert (NLM_F_CREATE, with NLM_F_REPLACE or NLM_F_APPEND)."""
        table = self.fib.new_table(route.table)
        existing = table.find(route.dst, route.plen)
        same = [r for r in existing if r.tos == route.tos and r.metric == route.metric]
        if replace:
            for r in same[:1]:
                table.remove(r)
        elif same:
            if not append or any(r.same_entry(route) for r in same):
                raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        table.insert(route)
        self.config_changed()
        if self.rtnl_listeners and route.proto != RTPROT_BGP:
            self.rtnl_notify()

    def del_route(self, route: Route) -> None:
        """fib_table_delete of a route the caller selected (`ip route del`, `flush`)."""
        table = self.fib.table(route.table)
        if table is None or route not in table.find(route.dst, route.plen):
            raise NetplexError("RTNETLINK answers: No such process", errno.ESRCH)
        table.remove(route)
        self.config_changed()
        if self.rtnl_listeners and route.proto != RTPROT_BGP:
            self.rtnl_notify()

    def replace_nexthop(self, obj: NhObject) -> None:
        """insert_nexthop / replace_nexthop: the routes through the object (or a group holding it)
        take its new paths."""
        self.nexthops.insert(obj)
        if sync_routes(self.fib, self.nexthops, [], {obj.id}, self.lo):
            self.config_changed()

    def remove_nexthops(self, ids: list[int]) -> list[int]:
        """remove_nexthop of each object (`ip nexthop del`, flush, a device going down): the groups
        it empties and the routes using any of them go too. Returns the ids removed."""
        removed: list[int] = []
        changed: set[int] = set()
        for nh_id in ids:
            r, c = self.nexthops.remove(nh_id)
            removed += r
            changed |= c
        if removed:
            sync_routes(self.fib, self.nexthops, removed, changed - set(removed), self.lo)
            self.config_changed()
        return removed

    # -- policy rules (ip rule) -------------------------------------------------
    def add_rule(self, rule: FibRule) -> None:
        """fib_nl_newrule."""
        self.fib.rule_add(rule)
        self.config_changed()

    def del_rule(self, sel: RuleSelector) -> FibRule:
        """fib_nl_delrule: the first rule `sel` names."""
        rule = self.fib.rule_del(sel)
        self.config_changed()
        return rule

    def flush_rules(self) -> None:
        """`ip rule flush`: every rule but those of preference 0 goes."""
        self.fib.rules_flush()
        self.config_changed()
