"""The IPv4 packet path of a namespace (net/ipv4/ip_input.c, ip_forward.c, ip_output.c, icmp.c).

Stages, in the order a packet meets them, each named after its kernel
counterpart:

    netif_receive ─▶ ip_rcv ─▶ PREROUTING ─▶ ip_route_input
        ├─▶ ip_local_deliver ─▶ INPUT ─▶ icmp_rcv | udp_rcv | tcp_v4_rcv
        └─▶ ip_forward ─▶ FORWARD ─▶ ip_output ─▶ POSTROUTING ─▶ neigh_output ─▶ dev_queue_xmit
    socket ─▶ ip_route_output ─▶ ip_local_out ─▶ OUTPUT ─▶ POSTROUTING ─▶ neigh_output …

Netfilter attaches at the named hooks through `self.hooks` (empty: one dict
test per hook). Drops are counted and traced with a reason; nothing raises
on the data path. Forwarding decisions are cached per destination and the
cache is cleared by any configuration change (`config_changed`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from zlib import crc32

from netplex.engine.compiled import mypyc_attr
from netplex.engine.scheduler import Scheduler
from netplex.engine.world import World
from netplex.packet.ethernet import ETH_P_ARP, ETH_P_IP, Ethernet
from netplex.packet.gre import Gre
from netplex.packet.icmp import (
    ICMP_DEST_UNREACH,
    ICMP_ECHO,
    ICMP_ECHOREPLY,
    ICMP_FRAG_NEEDED,
    ICMP_HOST_UNREACH,
    ICMP_NET_UNREACH,
    ICMP_PORT_UNREACH,
    ICMP_PROT_UNREACH,
    ICMP_REDIR_HOST,
    ICMP_REDIRECT,
    ICMP_TIME_EXCEEDED,
    ICMP_TIMESTAMP,
    ICMP_TIMESTAMPREPLY,
    Icmp,
)
from netplex.packet.ipv4 import IP_DF, IP_MF, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPv4, fragment
from netplex.packet.mpls import ETH_P_MPLS_UC, Mpls
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.af_packet import PacketSocket, packet_taps
from netplex.stack.device import Loopback
from netplex.stack.dropreason import ROUTE_TYPE_DROP, SkbDropReason
from netplex.stack.fastpath import (
    DEVICE_NEUTRAL,
    FAST_DEVICE_CLASSES,
    FASTPATH_NEUTRAL,
    NUD_FAST,
    NUD_USED,
    fast_xmit,
    unknown_device_state,
    unknown_state,
    xmit_state,
)
from netplex.stack.inetpeer import XRLIM_BURST_FACTOR, InetPeer, inet_getpeer, ip_error_allow
from netplex.stack.mpls import mpls_encap_xmit, mpls_rcv
from netplex.stack.neigh import NUD_REACHABLE, NUD_VALID, NeighTable
from netplex.stack.protocol import INET_PROTOS
from netplex.stack.raw import raw_local_deliver
from netplex.stack.route import (
    FLOW_IIF,
    FLOW_MARK,
    FLOW_SRC,
    FLOW_TOS,
    RT_SCOPE_LINK,
    RT_TABLE_LOCAL,
    Fib,
    fib_select_multipath,
)
from netplex.stack.skb import skb_meta
from netplex.stack.snmp import Mib
from netplex.stack.sockets import SocketTable
from netplex.stack.sysctl import Sysctl
from netplex.stack.tcp import tcp_v4_rcv
from netplex.stack.xfrm.path import (
    EAGAIN,
    IPSEC_PROTOS,
    xfrm_forward,
    xfrm_lookup,
    xfrm_mtu,
    xfrm_output,
    xfrm_policy_check,
)
from netplex.stack.xfrm.state import Xfrm

if TYPE_CHECKING:
    from collections.abc import Callable

    from netplex.stack.device import NetDevice
    from netplex.stack.ipmr import MrTable
    from netplex.stack.route import Nexthop, Route
    from netplex.stack.skb import SkbMeta

    NfHook = Callable[[Any, Ethernet, NetDevice | None, NetDevice | None], bool]

BCAST_MAC = b"\xff" * 6
IGMP_ALL_HOSTS = 0xE0000001
ZERO_MAC = b"\x00" * 6
LIMITED_BCAST = 0xFFFFFFFF
IPTOS_PREC_INTERNETCONTROL = 0xC0
NSEC_PER_SEC = 1_000_000_000
_INT_OF: dict[str, int] = {}   # a per-packet sysctl's text -> its value (int() of a str is slow, once a packet)
ICMP_ERROR_TYPES = (3, 4, 5, 11, 12)

# errno values a local sender sees from the output route (ip_route_output_key)
ENETUNREACH, EHOSTUNREACH, EINVAL, EACCES, EPERM, EMSGSIZE = 101, 113, 22, 13, 1, 90
ROUTE_TYPE_ERRNO = {"unreachable": EHOSTUNREACH, "blackhole": EINVAL, "prohibit": EACCES}
# fib_props: the route types whose fib_lookup is an error (a throw that found nothing further too)
FIB_LOOKUP_ERRORS = frozenset({"unreachable", "blackhole", "prohibit", "nat", "throw"})
# The namespace as Ipv4Path's methods take it (`self`: Namespace mixes Ipv4Path in): `| Any` keeps
# the attribute checks of Ipv4Path and lets the compiled build (netplex/build.py), whose
# non-native classes test `self`'s exact class, take a Namespace
NsSelf: TypeAlias = "Ipv4Path | Any"
ROUTE_TYPE_ICMP = {"unreachable": ICMP_HOST_UNREACH, "prohibit": 13}


IP_TCP_HEADERS = 40        # sizeof(struct iphdr) + sizeof(struct tcphdr)
IP_RT_MIN_ADVMSS = 256     # net.ipv4.route.min_adv_mss
IPV4_MAX_PMTU = 65535
# ip_rt_send_redirect's limits (net/ipv4/route.c): at most ip_rt_redirect_number redirects to a
# host, the n-th no sooner than ip_rt_redirect_load << n after the last; after
# ip_rt_redirect_silence without a redirected packet the count starts again
IP_RT_REDIRECT_NUMBER = 9
IP_RT_REDIRECT_LOAD_NS = NSEC_PER_SEC // 50
IP_RT_REDIRECT_SILENCE_NS = IP_RT_REDIRECT_LOAD_NS << (IP_RT_REDIRECT_NUMBER + 1)
IP_RT_GC_TIMEOUT_NS = 300 * NSEC_PER_SEC   # ip_rt_gc_timeout (RT_GC_TIMEOUT): a redirect's exception lasts
ICMP_REDIR_HOSTTOS = 3
# net_ratelimit (net/core/utils.c): DEFINE_RATELIMIT_STATE(net_ratelimit_state, 5 * HZ, 10)
NET_RATELIMIT_INTERVAL_NS = 5 * NSEC_PER_SEC
NET_RATELIMIT_BURST = 10
ETH_HLEN = 14
# devices without a link-layer header (hard_header_len 0): no `ll header:` line
L3_KINDS = frozenset({"ipip", "gre", "sit", "vti", "wireguard", "xfrm", "ip6tnl", "ip6gre", "vti6"})


def _int_of(text: str) -> int:
    """The value of a sysctl's text, parsed once per text it was given."""
    n = _INT_OF.get(text)
    if n is None:
        n = _INT_OF[text] = int(text)
    return n


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finaliser: every input bit reaches every output bit."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)

def flow_dissect_inner(ip: IPv4) -> IPv4 | None:
    """The innermost IPv4 header __skb_flow_dissect reaches under `ip`, or None when `ip` carries
    no tunnelled packet: it goes on through IPIP and GRE (an IPv4 payload, or Ethernet over GRE,
    ETH_P_TEB); a fragment or any other payload stops it at the header it is in."""
    inner = None
    while not ip.frag and not ip.flags & IP_MF:
        p = ip.payload
        if isinstance(p, Gre):
            p = p.payload
            if isinstance(p, Ethernet):
                p = p.payload
        if not isinstance(p, IPv4):
            break
        ip = inner = p
    return inner


def _ports(ip: IPv4) -> tuple[int, int]:
    """The transport ports the flow dissector reads (0, 0 for a fragment or a portless protocol)."""
    p: Any = ip.payload
    return (p.sport, p.dport) if isinstance(p, (Tcp, Udp)) and not ip.frag and not ip.flags & IP_MF else (0, 0)


def fib_multipath_custom_key(fields: int, src: int, dst: int, proto: int, sport: int, dport: int,
                             ip: IPv4 | None) -> tuple[int, ...]:
    """Policy 3 (fib_multipath_custom_hash_*): only the fields `net.ipv4.fib_multipath_hash_fields`
    names (ip-sysctl.rst: 0x1 source IP, 0x2 destination IP, 0x4 IP protocol, 0x10 source port,
    0x20 destination port; 0x40-0x800 the same of the inner packet, of a forwarded IPIP/GRE
    packet only; the flow labels 0x8/0x200 are IPv6's)."""
    key = [src if fields & 0x1 else 0, dst if fields & 0x2 else 0, proto if fields & 0x4 else 0,
           sport if fields & 0x10 else 0, dport if fields & 0x20 else 0]
    inner = flow_dissect_inner(ip) if ip is not None and fields & 0xFC0 else None
    if inner is not None:
        isport, idport = _ports(inner)
        key += [inner.src if fields & 0x40 else 0, inner.dst if fields & 0x80 else 0,
                inner.proto if fields & 0x100 else 0, isport if fields & 0x400 else 0,
                idport if fields & 0x800 else 0]
    return tuple(key)


@mypyc_attr(native_class=False)   # tcp.py and sockets.py read its slots interpreted
class OutRoute:
    """The result of an output route lookup (a dst_entry / rtable)."""

    __slots__ = ("route", "dev", "nexthop", "src", "type", "mtu", "gw", "nh", "redirected", "neigh", "neigh_gen")

    def __init__(self, route: Route | None, dev: NetDevice, nexthop: int, src: int, type: str,
                 mtu: int = 0, gw: int | None = None, nh: Route | Nexthop | None = None,
                 redirected: bool = False) -> None:
        self.route = route
        self.dev = dev
        self.nexthop = nexthop
        self.src = src
        self.type = type
        self.mtu = mtu or dev.mtu   # the path MTU: device, route `mtu`, learned exception
        self.gw = gw                # rt_gw4: the gateway (a redirect's, RTCF_REDIRECTED), None: on-link
        self.nh = nh                # the fib_nh the route went through (the route itself when single-path)
        self.redirected = redirected
        # the next hop's Neighbour (or None) while its table's membership generation `neigh_gen`
        # holds (NeighTable.gen; 0 is no table's): `_output_fast` keeps it here, as fastpath.py's entries do
        self.neigh: Any = None
        self.neigh_gen = 0

    def advmss(self) -> int:
        """dst_metric_advmss: the route's `advmss` (RTAX_ADVMSS), else ipv4_default_advmss: the path
        MTU less the IP and TCP headers, at least ip_rt_min_advmss (256), at most IPV4_MAX_PMTU - 40."""
        r = self.route
        if r is not None and r.advmss:
            return r.advmss
        return min(max(self.mtu - IP_TCP_HEADERS, IP_RT_MIN_ADVMSS), IPV4_MAX_PMTU - IP_TCP_HEADERS)


@mypyc_attr(native_class=False)   # a mixin of Namespace: its methods compiled, its fields the namespace's
class Ipv4Path:
    """Mixed into Namespace: everything between the device and the sockets."""

    # The namespace state this mixin works on, declared (and initialised) by
    # Namespace.__init__ in netns.py. (Their classes are imported at run time: the compiled build,
    # netplex/build.py, evaluates a non-native class's annotations of a plain class.)
    world: World
    sched: Scheduler
    sysctl: Sysctl
    fib: Fib
    neigh: NeighTable
    sockets: SocketTable
    lo: Loopback
    hooks: dict[str, NfHook]            # netfilter's hook runners by hook name (empty: no rules)
    route_cache: dict[Any, Route | Literal[False]]
    rt_out_cache: dict[tuple[Any, ...], OutRoute | int]
    rt_out_gen: int
    ip_id: int
    pmtu: dict[int, tuple[int, int]]    # route exceptions: dst → (learned path MTU, expiry ns)
    frags: dict[tuple[int, int, int, int], list[IPv4]]   # ip_defrag queues by (src, dst, id, proto)
    inet_peers: dict[int, InetPeer]                     # inetpeer.py: per remote address, the rate limiters' state
    icmp_global_credit: int                             # icmp_global_allow's bucket
    mib: Mib                                            # the SNMP counters (snmp.py)
    fnhe: dict[int, tuple[Route | Nexthop, int, int]]   # redirect exceptions: dst → (the nexthop, gateway, expiry ns)
    icmp_global_stamp: int | None                       # its last refill (ns), None: never
    net_ratelimit_state: list[int]                      # net_ratelimit: [begin ns (-1: never), printed, missed]
    kmsg: list[str]                                     # the kernel log `dmesg` prints
    udp_encap: dict[int, Callable[[Any, NetDevice, IPv4], bool]]
    vlan_devs: dict[tuple[int, int, int], Any]
    mrt: MrTable | None
    ptype_all: list[PacketSocket]       # AF_PACKET taps (af_packet.py)
    xfrm: Xfrm                          # IPsec SAD and SPD (stack/xfrm); empty: no xfrm code runs
    local_addrs: set[int]               # every address of every device (is_local_addr)
    addrs: dict[int, list[Any]]         # ifindex → the device's addresses (its in_device's ifa_list)
    # ip_local_fast's purity, worked out once per World.config_generation: (generation, ifindex → pure)
    local_fast: tuple[int, dict[int, bool]]

    # Namespace's methods this mixin calls (netns.py, arp.py), as attributes: the compiled build
    # (netplex/build.py) takes no class-body `if TYPE_CHECKING` in a non-native class
    trace: Callable[..., None]           # (stage, text, **TraceFields)
    drop: Callable[[Ethernet | None, NetDevice | None, SkbDropReason], None]
    fmt_ip: Callable[[int | None], str]
    config_changed: Callable[[], None]
    is_local_addr: Callable[[int], bool]
    ip_dev_find: Callable[[int], NetDevice | None]
    select_source: Callable[..., int | None]   # (dev, dst, scope_link=False)
    inet_select_addr: Callable[[NetDevice, int, int], int]
    inet_addr_type_table: Callable[[int, int], str]
    mc_member: Callable[[NetDevice, int], bool]
    arp_rcv: Callable[[NetDevice, Ethernet], None]

    # -- receive -------------------------------------------------------------
    def netif_receive(self: NsSelf, dev: NetDevice, frame: Ethernet) -> None:
        """__netif_receive_skb_core for a frame a software device receives (the bridge
        device from br_pass_frame_up, lo): the AF_PACKET taps, then its protocol.
        `NetDevice.rx` taps its frames itself and calls `netif_deliver`."""
        if self.ptype_all:
            packet_taps(self.sockets, dev, frame, outgoing=False)
        self.netif_deliver(dev, frame)

    def netif_deliver(self: NsSelf, dev: NetDevice, frame: Ethernet) -> None:
        """__netif_receive_skb_core after the taps: hand the frame to its protocol."""
        if frame.vlans:
            # vlan_do_receive: a tagged frame belongs to the VLAN device of its tag
            from netplex.stack.vlan import vlan_rcv

            if not (self.vlan_devs and vlan_rcv(self, dev, frame)):
                self.drop(frame, dev, SkbDropReason.VLAN_UNKNOWN)
            return
        etype = frame.type
        if etype == ETH_P_IP:
            dst = frame.dst
            if dst != dev.mac and not dst[0] & 1:
                return  # PACKET_OTHERHOST: not for us, silently ignored (lo too: its neighbour's lladdr)
            self.ip_rcv(dev, frame)
        elif etype == ETH_P_ARP:
            dst = frame.dst
            if dst != dev.mac and not dst[0] & 1:
                return  # arp_rcv: PACKET_OTHERHOST (a unicast probe to another MAC) is consumed unread
            self.arp_rcv(dev, frame)
        elif etype == ETH_P_MPLS_UC:
            mpls_rcv(self, dev, frame)
        else:
            self.drop(frame, dev, SkbDropReason.UNHANDLED_PROTO)

    def ip_rcv(self: NsSelf, dev: NetDevice, frame: Ethernet, length: int = 0) -> None:
        """ip_rcv + ip_rcv_finish: sanity checks, PREROUTING, the input route.

        `length` is the IP datagram's length when the caller measured it.
        """
        ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
        tracing = self.world.tracer.on
        mib = self.mib
        mib.ip_in(length or ip.wire_len(), ip.tos)   # ip_rcv_core: IPSTATS_MIB_IN, InOctets, ECN
        if (ip.proto == IPPROTO_TCP and not tracing and self.world.fastpath and not self.hooks and frame.meta is None
                and not self.xfrm.active and not self.sockets.raw and not self.fib.flow_keys and dev.kind != "loopback"
                and self._plain_unicast(ip)):
            # tcp_v4_early_demux: a TCP segment for one of our unicast addresses (a cached local
            # input route), with nothing on the way that could see or change it — no netfilter
            # hook, raw socket, xfrm policy, fragment, martian source or destination, rp_filter,
            # policy rule or custom local route — goes straight to TCP, as ip_rcv and
            # ip_local_deliver would hand it on with no other effect
            r = self.route_cache.get(ip.dst)
            if (r and r.type == "local" and not self.sysctl.rpf_any and self.fib.rules_default
                    and not self.fib.has_custom_local_routes):
                mib.ip["InDelivers"] += 1    # ip_protocol_deliver_rcu
                tcp_v4_rcv(self, dev, ip)
                return
        if tracing:
            self.trace("ip_rcv", f"{dev.name}: {self.describe(ip)}", dev=dev.name)
        m = frame.meta
        if m is not None:           # ip_rcv_core: "Must drop socket now" (skb_orphan): a packet a
            m.local_socket = None   # container sent reaches the host's egress without its socket
        src = ip.src
        if src >> 28 >= 14 or src >> 24 == 127 and dev.kind != "loopback":
            self.ip_handle_martian_source(dev, frame, ip.dst, src)
            self.drop(frame, dev, SkbDropReason.IP_INVALID_SOURCE)
            return
        hook = self.hooks.get("PREROUTING")
        if hook is not None:
            if not hook(self, frame, dev, None):
                return
            ip = frame.payload  # type: ignore[assignment]  # DNAT may have replaced it
            length = 0
            # DNAT to 127/8 from outside: a martian destination unless route_localnet
            # (ip_route_input_slow: ipv4_is_loopback(daddr) && !IN_DEV_NET_ROUTE_LOCALNET)
            if ip.dst >> 24 == 127 and dev.kind != "loopback" and not self._route_localnet(dev):
                self.ip_handle_martian_destination(dev, ip.dst, ip.src)
                self.drop(frame, dev, SkbDropReason.IP_INVALID_DEST)
                return
        validate = dev.kind != "loopback"   # the kernel's own packets through lo carry their route
        if validate and not self.sysctl.rpf_any and self.fib.rules_default and not self.fib.has_custom_local_routes:
            # fib_validate_source's fast path (no rp_filter, no custom rules or local routes): only a
            # packet from one of our own addresses is a martian
            validate = False
            if ip.src in self.local_addrs and not self._accept_local(dev):
                self.ip_handle_martian_source(dev, frame, ip.dst, ip.src)
                self.drop(frame, dev, SkbDropReason.IP_INVALID_SOURCE)
                return
        dst = ip.dst
        if dst >> 24 == 127 and dev.kind != "loopback" and not self._route_localnet(dev):
            # ip_route_input_slow: ipv4_is_loopback(daddr) without route_localnet
            self.ip_handle_martian_destination(dev, dst, src)
            self.drop(frame, dev, SkbDropReason.IP_INVALID_DEST)
            return
        if dst == LIMITED_BCAST or dst >> 28 == 14:
            if self.mrt is not None and dst != LIMITED_BCAST:
                from netplex.stack.ipmr import ip_mr_input

                if ip_mr_input(self, dev, frame):   # ip_route_input_mc → ip_mr_input
                    return
            # ip_check_mc_rcu: a multicast datagram is ours only for a group the device joined
            if dst >> 28 == 14 and dst != IGMP_ALL_HOSTS and not self.mc_member(dev, dst):
                self.drop(frame, dev, SkbDropReason.IP_MC_NOT_MEMBER)
                return
            # brd_input / ip_mc_validate_source: a non-zero source is validated
            if validate and src and self._martian(dev, frame, ip):
                return
            self._in_cast(dst != LIMITED_BCAST and dst >> 28 == 14, ip)
            self.ip_local_deliver(dev, frame, "broadcast")
            return
        cache = self.route_cache
        keys = self.fib.flow_keys
        if not keys:
            # only the destination decides (the default rules): one lookup
            r = cache.get(dst)
            if r is None:
                r = self.fib.lookup(dst)
                cache[dst] = r if r is not None else False
        else:
            r = self.ip_route_input_rules(dst, ip.src, dev, frame, keys)
        if not r:
            ext_or_ip = self.mib.ipext if dev.forwarding else self.mib.ip   # ip_error: ENETUNREACH or EHOSTUNREACH
            ext_or_ip["InNoRoutes" if dev.forwarding else "InAddrErrors"] += 1
            if dev.forwarding:
                self.ip_error(ip, ICMP_NET_UNREACH, dev)
                self.drop(frame, dev, SkbDropReason.IP_INNOROUTES)
            else:
                self.drop(frame, dev, SkbDropReason.IP_INNOROUTES_NOT_FORWARDING)
            if tracing:
                self.trace("fib_lookup", f"no route to {self.fmt_ip(dst)}", dev=dev.name)
            return
        rtype = r.type
        if rtype == "local" or rtype == "broadcast":
            if validate and (rtype == "local" or src) and self._martian(dev, frame, ip):
                return
            if tracing:
                self.trace("fib_lookup", f"{self.fmt_ip(dst)} is local ({rtype})", dev=dev.name, verdict=rtype)
            if rtype == "broadcast":
                self._in_cast(False, ip)
            self.ip_local_deliver(dev, frame, rtype)
            return
        if rtype != "unicast":
            if rtype == "unreachable" and not dev.forwarding:
                self.mib.ip["InAddrErrors"] += 1   # ip_error: EHOSTUNREACH on a host
            if dev.forwarding and rtype in ROUTE_TYPE_ICMP:
                self.ip_error(ip, ROUTE_TYPE_ICMP[rtype], dev)
            self.drop(frame, dev, ROUTE_TYPE_DROP[rtype])
            return
        if validate and dev.forwarding and self._martian(dev, frame, ip):   # __mkroute_input
            return
        self.ip_forward(dev, frame, r, length)

    def ip_local_fast(self: NsSelf, dev: NetDevice, frame: Ethernet, nbytes: int) -> bool:
        """netif_receive_skb → ip_rcv → ip_local_deliver's common case in one step, the host side of
        the exact fast path (docs/arch/fastpath.md): an IPv4 unicast datagram, not a fragment, to one
        of our addresses (the input route is `local`), arriving on a device of a declared-pure class
        in a namespace the fast path understands (worked out once per configuration generation), with
        no netfilter hook, tracer, capture, tap, raw socket, xfrm state, ingress qdisc, VLAN tag or
        packet metadata, from a source that is not a martian. The effects are the full path's: the
        device's receive counters, the input route cached, then the transport protocol's handler
        called as ip_local_deliver calls it. False, with nothing changed, otherwise."""
        world: World = self.world
        gen = world.config_generation
        lf = self.local_fast
        if lf[0] != gen:
            lf = self.local_fast = (gen, {})
        ok = lf[1].get(dev.ifindex)
        if ok is None:
            ok = lf[1][dev.ifindex] = self._local_fast_pure(dev)
        if (not ok or not nbytes or not world.fastpath or self.hooks or world.tracer.on
                or world.capture is not None or self.ptype_all or frame.meta is not None or frame.vlans
                or frame.type != ETH_P_IP or frame.dst != dev.mac or not dev.up or nbytes > dev.mtu + 18
                or dev.ingress_q is not None or dev.rx_handler is not None or self.xfrm.active or self.sockets.raw):
            return False
        ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
        src = ip.src        # _plain_unicast, inline (once a datagram)
        dst = ip.dst
        if (src >> 28 >= 14 or src >> 24 == 127 or dst >> 28 >= 14 or dst >> 24 == 127
                or ip.flags & IP_MF or ip.frag or src in self.local_addrs):
            return False   # martians, broadcast, multicast, fragments: the full path's
        cache = self.route_cache
        r = cache.get(dst)
        if r is None:       # as ip_rcv looks it up and caches it
            r = self.fib.lookup(dst)
            cache[dst] = r if r is not None else False
        if not r or r.type != "local":
            return False
        st = dev.stats
        st.rx_packets += 1
        st.rx_bytes += nbytes
        # ip_rcv_core's IPSTATS_MIB_IN, InOctets and ECN counter, ip_protocol_deliver_rcu's
        # InDelivers (taken back below if nothing takes it): a Not-ECT datagram in two increments
        mib = self.mib
        mib.rcv_octets += nbytes - 14
        if ip.tos & 3:
            mib.ip_in(0, ip.tos)
            mib.ip["InDelivers"] += 1
        else:
            mib.loc_plain += 1
        handler = INET_PROTOS.get(ip.proto)
        if handler is None:
            self._no_proto(frame, dev, ip)
            return True
        # icmp_rcv's two common cases in this call: an echo request answered from the cached reverse
        # route (icmp_reply's, when neither echo_ignore_all nor the echo reply's rate limit applies and
        # ip_route_output would answer from its cache), an echo reply handed to the ping sockets
        icmp: Any = ip.payload
        echo = 0
        rt: Any = None
        ttl = 0
        if handler is _ICMP_RCV and type(icmp) is Icmp:
            t = icmp.type
            if t == ICMP_ECHOREPLY:
                echo = 1
            elif t == ICMP_ECHO and not self.pmtu and not self.fnhe and self.rt_out_gen == gen:
                v = self.sysctl.values
                if v["net.ipv4.icmp_echo_ignore_all"] != "1" and not _INT_OF.get(v["net.ipv4.icmp_ratemask"], 1) & 1:
                    rt = self.rt_out_cache.get((src, None, dst, 0, 0, False))
                    ttl = _INT_OF.get(v["net.ipv4.ip_default_ttl"], 0)
                    if type(rt) is OutRoute and ttl:
                        echo = 2
        # this delivery is the last act of its event (fastpath.slow_rx's, the one caller): the
        # handler may leave the wake-up of a reader in the scheduler's tail (engine/scheduler.py)
        sched = self.sched
        sched.tail_ok = True
        if echo == 2:
            mib.icmp_in[ICMP_ECHO] += 1
            self.ip_local_out(IPv4(rt.src, src, IPPROTO_ICMP, Icmp(ICMP_ECHOREPLY, 0, icmp.id, icmp.seq, icmp.payload),
                                   ttl=ttl, tos=ip.tos), rt)
        elif echo:
            mib.icmp_in[ICMP_ECHOREPLY] += 1
            self.sockets.ping_rcv(ip, icmp, dev)    # (dev is not lo: a pure device's class)
        elif handler(self, dev, ip, "local") is False:
            self._no_proto(frame, dev, ip)
        if sched.tail is None:
            sched.tail_ok = False   # tail_close with nothing left in the tail (the usual datagram), inline
        else:
            sched.tail_close()
        return True

    def _no_proto(self: NsSelf, frame: Ethernet, dev: NetDevice, ip: IPv4) -> None:
        """ip_protocol_deliver_rcu with no handler for the protocol: InUnknownProtos instead of the
        InDelivers counted, an ICMP protocol unreachable, the drop."""
        ipmib = self.mib.ip
        ipmib["InDelivers"] -= 1
        ipmib["InUnknownProtos"] += 1
        self.icmp_send(ip, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, dev)
        self.drop(frame, dev, SkbDropReason.IP_NOPROTO)

    def _plain_unicast(self: NsSelf, ip: IPv4) -> bool:
        """A whole datagram (no fragment) between unicast addresses, neither loopback, multicast nor
        broadcast, from a source that is not one of ours: what ip_rcv's TCP early demux and
        ip_local_fast may hand straight to the protocol (the rest takes the full path)."""
        src = ip.src
        dst = ip.dst
        return (src >> 28 < 14 and src >> 24 != 127 and dst >> 28 < 14 and dst >> 24 != 127
                and not ip.flags & IP_MF and not ip.frag and src not in self.local_addrs)

    def _local_fast_pure(self: NsSelf, dev: NetDevice) -> bool:
        """ip_local_fast's opt-in purity (fastpath.py's rule 1): a device of a declared-pure class
        with no master and no state the fast path does not know, in a namespace with the default
        rules, no rp_filter, no custom local routes and no state the fast path does not know."""
        fib = self.fib
        return (type(dev) in FAST_DEVICE_CLASSES and dev.master is None and not self.hooks and fib.rules_default
                and not fib.flow_keys and not fib.has_custom_local_routes and not self.sysctl.rpf_any
                and unknown_device_state(dev, DEVICE_NEUTRAL) is None and unknown_state(self, FASTPATH_NEUTRAL) is None)

    def _martian(self: NsSelf, dev: NetDevice, frame: Ethernet, ip: IPv4) -> bool:
        """Drop (and say so) a packet whose source fib_validate_source refuses."""
        reason = self.fib_validate_source(dev, ip.src, ip.dst, ip.tos, frame)
        if reason is None:
            return False
        if self.world.tracer.on:
            self.trace("fib_validate_source", f"{self.fmt_ip(ip.src)} on {dev.name}: {reason.text}", dev=dev.name)
        self.ip_handle_martian_source(dev, frame, ip.dst, ip.src)
        self.drop(frame, dev, reason)
        return True

    def log_martians(self: NsSelf, dev: NetDevice) -> bool:
        """IN_DEV_LOG_MARTIANS: IN_DEV_ORCONF, `all` or the device's log_martians."""
        v = self.sysctl.values
        return v["net.ipv4.conf.all.log_martians"] != "0" or v.get(f"net.ipv4.conf.{dev.name}.log_martians", "0") != "0"

    def net_ratelimit(self: NsSelf) -> bool:
        """net_ratelimit (___ratelimit over net_ratelimit_state): 10 messages in each 5 s window; the
        first allowed after a window with suppressed ones says how many (`net_ratelimit: N callbacks
        suppressed`). The kernel has one state for the whole host (every namespace, every caller);
        netplex keeps one per namespace, so a run is not disturbed by its neighbours."""
        rs = self.net_ratelimit_state
        now = self.sched.now
        if rs[0] < 0:
            rs[0] = now
        if now > rs[0] + NET_RATELIMIT_INTERVAL_NS:
            if rs[2]:
                self.printk(f"net_ratelimit: {rs[2]} callbacks suppressed")
                rs[2] = 0
            rs[0] = now
            rs[1] = 0
        if rs[1] < NET_RATELIMIT_BURST:
            rs[1] += 1
            return True
        rs[2] += 1
        return False

    def printk(self: NsSelf, text: str) -> None:
        """One line in the namespace's kernel log, stamped `[    T.TTTTTT] ` from the simulated clock."""
        t = self.sched.now
        self.kmsg.append(f"[{t // NSEC_PER_SEC:5d}.{(t // 1000) % 1_000_000:06d}] {text}")

    def ip_handle_martian_source(self: NsSelf, dev: NetDevice, frame: Ethernet | None, daddr: int, saddr: int,
                                 ll: bytes | None = None) -> None:
        """ip_handle_martian_source (net/ipv4/route.c): with log_martians, and net_ratelimit allowing,
        `IPv4: martian source DADDR from SADDR, on dev DEV` and the link-layer header the frame came
        with (print_hex_dump: `ll header: 00000000: ` and its 14 bytes) when the device has one;
        `ll`: the bytes at the mac header of a packet without a frame (`ip route get ... iif`)."""
        if not self.log_martians(dev) or not self.net_ratelimit():
            return
        self.printk(f"IPv4: martian source {self.fmt_ip(daddr)} from {self.fmt_ip(saddr)}, on dev {dev.name}")
        if frame is not None:
            ll = frame.dst + frame.src + frame.type.to_bytes(2, "big")
        if ll is not None and dev.kind not in L3_KINDS:
            self.printk("ll header: 00000000: " + " ".join(f"{b:02x}" for b in ll[:ETH_HLEN]))

    def ip_route_input_martian(self: NsSelf, dev: NetDevice, daddr: int, saddr: int, ll: bytes | None = None) -> bool:
        """ip_route_input_slow's checks before the lookup, for `ip route get ... iif` (the packet path
        makes its own in ip_rcv): a multicast or limited-broadcast source, a zero source (unless to
        the limited broadcast), a zero destination, a loopback destination or source without
        route_localnet are martians, logged as such (log_martians); True when refused (EINVAL).
        (0.0.0.0/8 beyond 0.0.0.0 itself is unicast: ipv4_is_zeronet since Linux 5.3.)"""
        if saddr >> 28 == 14 or saddr == LIMITED_BCAST:
            self.ip_handle_martian_source(dev, None, daddr, saddr, ll)
            return True
        if daddr == LIMITED_BCAST or (saddr == 0 and daddr == 0):
            return False    # brd_input
        if saddr == 0:
            self.ip_handle_martian_source(dev, None, daddr, saddr, ll)
            return True
        if daddr == 0:
            self.ip_handle_martian_destination(dev, daddr, saddr)
            return True
        if daddr >> 24 == 127 and not self._route_localnet(dev):
            self.ip_handle_martian_destination(dev, daddr, saddr)
            return True
        if daddr >> 24 != 127 and saddr >> 24 == 127 and not self._route_localnet(dev):
            self.ip_handle_martian_source(dev, None, daddr, saddr, ll)
            return True
        return False

    def ip_handle_martian_destination(self: NsSelf, dev: NetDevice, daddr: int, saddr: int) -> None:
        """ip_route_input_slow's martian_destination: with log_martians, net_warn_ratelimited's
        `IPv4: martian destination DADDR from SADDR, dev DEV` (its own 10-per-5-s state in the
        kernel, net_ratelimit's here)."""
        if self.log_martians(dev) and self.net_ratelimit():
            self.printk(f"IPv4: martian destination {self.fmt_ip(daddr)} from {self.fmt_ip(saddr)}, dev {dev.name}")

    def fib_validate_source(self: NsSelf, dev: NetDevice, src: int, dst: int, tos: int = 0,
                            frame: Ethernet | None = None, mark: int | None = None) -> SkbDropReason | None:
        """fib_validate_source + __fib_validate_source (net/ipv4/fib_frontend.c): None when the
        source is acceptable on `dev`, else the drop reason.

        rp_filter is IN_DEV_MAXCONF (the larger of `all` and the device's); a decrypted packet
        (a sec_path) is not filtered. Without rp_filter, custom rules or custom local routes, only
        a source that is one of our addresses is refused (unless accept_local). Otherwise the
        reverse route (to `src` from `dst`, input lo) must exist and be unicast (or local with
        accept_local): no route is EXDEV under rp_filter and fine without it, another type is a
        martian; strict mode (1) also wants that route to leave through `dev` (any nexthop of
        it, or a local route when `dev` is lo); loose mode (any other non-zero value) does not.
        The reverse lookup carries the packet's mark (the frame's, or `mark` for `ip route get`)
        only with src_valid_mark (IN_DEV_SRC_VMARK), as `fwmark` rules may then choose the way back.
        """
        meta = frame.meta if frame is not None else None
        rpf = 0 if meta is not None and meta.sp else self.sysctl.rp_filter(dev.name)
        accept_local = self._accept_local(dev)
        if not rpf and self.fib.rules_default and not self.fib.has_custom_local_routes:
            if not accept_local and src in self.local_addrs:
                return SkbDropReason.IP_INVALID_SOURCE
            return None
        if not self.sysctl.src_valid_mark(dev.name):
            mark = 0
        elif mark is None:
            mark = meta.mark if meta is not None else 0
        r = self.fib.lookup(src, dst, "lo", "", mark, tos & 0x1C)
        if r is None or r.type in FIB_LOOKUP_ERRORS:   # fib_lookup failed (fib_props: an error)
            return SkbDropReason.IP_RPFILTER if rpf else None
        if r.type != "unicast" and (r.type != "local" or not accept_local):
            return SkbDropReason.IP_INVALID_SOURCE
        if (r.dev is dev or any(nh.dev is dev for nh in r.nhs)
                or (r.type == "local" and dev.kind == "loopback")):
            return None
        if not self.addrs.get(dev.ifindex) or rpf == 1:   # no_addr, or strict
            return SkbDropReason.IP_RPFILTER if rpf else None
        return None

    def ip_route_input_rules(self: NsSelf, dst: int, src: int, dev: NetDevice, frame: Ethernet,
                             keys: int) -> Route | Literal[False]:
        """The input route when policy rules read more than the destination: cached
        by exactly the flow fields they read (source, input device, mark, TOS)."""
        meta = frame.meta
        mark = meta.mark if meta is not None else 0
        tos = frame.payload.tos if keys & FLOW_TOS else 0  # type: ignore[attr-defined]  # an IPv4 frame
        key = (dst, src if keys & FLOW_SRC else 0, dev.name if keys & FLOW_IIF else "",
               mark if keys & FLOW_MARK else 0, tos)
        cache: dict[Any, Route | Literal[False]] = self.route_cache
        r = cache.get(key)
        if r is None:
            fib: Fib = self.fib
            r = cache[key] = fib.lookup(dst, src, dev.name, "", mark, tos) or False
        return r

    def _in_cast(self: NsSelf, multicast: bool, ip: IPv4) -> None:
        """ip_rcv_finish_core: IPSTATS_MIB_INMCAST or INBCAST (packets, octets) for a datagram to us."""
        ext = self.mib.ipext
        key = "Mcast" if multicast else "Bcast"
        ext[f"In{key}Pkts"] += 1
        ext[f"In{key}Octets"] += ip.wire_len()

    def ip_forward(self: NsSelf, dev: NetDevice, frame: Ethernet, r: Route, length: int = 0) -> None:
        """ip_forward: forwarding switch, TTL, MTU, FORWARD, then out."""
        ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
        tracing = self.world.tracer.on
        if not dev.forwarding:
            self.drop(frame, dev, SkbDropReason.IP_FORWARDING_DISABLED)
            if tracing:
                self.trace("ip_forward", f"net.ipv4.conf.{dev.name}.forwarding=0: not a router, dropped",
                           dev=dev.name)
            return
        bundle = None
        if self.xfrm.active:
            # xfrm4_policy_check(FWD), then xfrm4_route_forward
            res = xfrm_forward(self, dev, frame, r.dev)
            if res is False:
                return
            if res is not True:
                bundle = res
        if ip.ttl <= 1:
            self.mib.ip["InHdrErrors"] += 1
            self.icmp_send(ip, ICMP_TIME_EXCEEDED, 0, dev)
            self.drop(frame, dev, SkbDropReason.IP_TTL_EXCEEDED)
            return
        out = r.dev
        gw = r.gw
        fib_nh: Route | Nexthop = r
        if r.nhs:
            fib_nh = self.fib_select_path(r, ip.src, ip.dst, ip.proto, *_ports(ip), ip)
            out, gw = fib_nh.dev, fib_nh.gw
        if self.fnhe:   # __mkroute_input's find_exception: a redirect learned for this destination
            gw = self.fnhe_gateway(ip.dst, fib_nh) or gw
        nexthop = gw if gw is not None else ip.dst
        mtu = r.mtu or out.mtu
        if bundle:
            mtu = xfrm_mtu(self, bundle)
        if not length:
            length = ip.wire_len()
        if length > mtu and ip.flags & IP_DF:
            self.mib.ip["FragFails"] += 1
            self.icmp_send(ip, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, dev, rest=mtu)
            self.drop(frame, dev, SkbDropReason.PKT_TOO_BIG)
            return
        ip.ttl -= 1     # ip_decrease_ttl, before FORWARD as in ip_forward
        if bundle:
            skb_meta(frame).dst_xfrm = tuple(bundle)   # xfrm4_route_forward's dst: -m policy --dir out
        if out is dev and not bundle and self.rtcf_doredirect(dev, ip.src, ip.dst, ip.tos):
            self.ip_rt_send_redirect(dev, ip, nexthop)
        hook = self.hooks.get("FORWARD")
        if hook is not None:
            if not hook(self, frame, dev, out):
                return
            length = 0
        self.mib.ip["ForwDatagrams"] += 1   # ip_forward_finish
        if tracing:
            via = f" via {self.fmt_ip(gw)}" if gw is not None else ""
            self.trace("ip_forward", f"to {self.fmt_ip(ip.dst)}{via} dev {out.name}, ttl {ip.ttl}", dev=dev.name,
                       out_dev=out.name)
        if bundle:
            xfrm_output(self, frame, bundle, out)
            return
        if r.encap:
            mpls_encap_xmit(self, out, nexthop, frame, r.encap)
            return
        self.ip_finish_output(out, nexthop, frame, ip.src, length)

    def ip_local_deliver(self: NsSelf, dev: NetDevice, frame: Ethernet, rtype: str) -> None:
        """ip_local_deliver: INPUT, then the transport protocol."""
        hook = self.hooks.get("INPUT")
        if hook is not None and not hook(self, frame, dev, None):
            return
        ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
        if ip.flags & IP_MF or ip.frag:
            self.mib.ip["ReasmReqds"] += 1
            whole = self.ip_defrag(ip)
            if whole is None:
                return
            self.mib.ip["ReasmOKs"] += 1
            ip = whole
        proto = ip.proto
        if self.xfrm.active and proto not in IPSEC_PROTOS \
                and not xfrm_policy_check(self, 0, ip, frame.meta, dev.ifindex):
            self.drop(frame, dev, SkbDropReason.XFRM_POLICY)   # xfrm4_policy_check(XFRM_POLICY_IN)
            return
        if self.world.tracer.on:
            self.trace("ip_local_deliver", f"{self.describe(ip)}", dev=dev.name)
        # ip_protocol_deliver_rcu: raw sockets get their copy first
        raw = bool(self.sockets.raw) and raw_local_deliver(self.sockets, ip, dev)
        handler = INET_PROTOS.get(proto)
        mib = self.mib.ip
        mib["InDelivers"] += 1    # ip_protocol_deliver_rcu, unless nothing takes it
        if handler is None or handler(self, dev, ip, rtype) is False:
            if raw:
                return   # a raw socket took it: consumed, no protocol unreachable
            # no protocol serves it (ip_protocol_deliver_rcu without ipprot)
            mib["InDelivers"] -= 1
            mib["InUnknownProtos"] += 1
            if rtype == "local":
                self.icmp_send(ip, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, dev)
            self.drop(frame, dev, SkbDropReason.IP_NOPROTO)

    def ip_defrag(self: NsSelf, ip: IPv4) -> IPv4 | None:
        """ip_defrag: collect fragments by (src, dst, id, proto); whole datagram when complete."""
        key = (ip.src, ip.dst, ip.id, ip.proto)
        frags = self.frags
        lst = frags.setdefault(key, [])
        lst.append(ip)
        lst.sort(key=lambda f: f.frag)
        last = lst[-1]
        if last.flags & IP_MF:
            return None
        data = b""
        for f in lst:
            if f.frag * 8 != len(data):
                return None
            fp: Any = f.payload
            data += fp if isinstance(fp, bytes) else fp.encode()
        del frags[key]
        from netplex.packet import IP_PROTOS
        layer: Any = IP_PROTOS.get(ip.proto)
        payload: Any = data
        if layer is not None:
            try:
                payload = layer.decode(data)
            except Exception:
                payload = data
        first = lst[0]
        return IPv4(first.src, first.dst, first.proto, payload, first.ttl, first.tos, first.id,
                    first.flags & IP_DF, 0, first.options)

    # -- output --------------------------------------------------------------
    def ip_route_output(self: NsSelf, dst: int, oif: NetDevice | None = None, src: int | None = None,
                        mark: int = 0, tos: int = 0, anysrc: bool = False) -> OutRoute | int:
        """ip_route_output_key through a cache of the answers by flow, as the kernel's dst cache
        (and a socket's sk_dst_cache here): valid for one `World.config_generation` — any
        configuration change anywhere, a peer's link state included, empties it — and not used
        while a route exception (a learned PMTU, a redirect) exists, as those expire with time."""
        if self.pmtu or self.fnhe:
            return self.ip_route_output_key(dst, oif, src, mark, tos, anysrc)
        gen = self.world.config_generation
        cache = self.rt_out_cache
        if self.rt_out_gen != gen:
            cache.clear()
            self.rt_out_gen = gen
        key = (dst, oif, src, mark, tos, anysrc)
        rt = cache.get(key)
        if rt is None:
            rt = self.ip_route_output_key(dst, oif, src, mark, tos, anysrc)
            if len(cache) < 4096:
                cache[key] = rt
        return rt

    def ip_route_output_key(self: NsSelf, dst: int, oif: NetDevice | None = None, src: int | None = None,
                            mark: int = 0, tos: int = 0, anysrc: bool = False) -> OutRoute | int:
        """ip_route_output_key: the route a local packet takes, or an errno.

        The flow the rules see: input device lo (flowi4_iif = LOOPBACK_IFINDEX),
        the bound device `oif`, the chosen source `src` (0 when not yet chosen)
        the socket's or packet's `mark` and TOS. A source given must be one of
        ours (ENETUNREACH) unless `anysrc` (FLOWI_FLAG_ANYSRC: ip_route_me_harder
        for a packet netfilter made, a transparent socket).
        """
        fib = self.fib
        oifname = oif.name if oif is not None else ""
        src_dev = None
        if src:   # ip_route_output_key_hash_rcu: a source the caller fixed must be one of ours
            if src >> 28 == 14 or src == LIMITED_BCAST or src >> 24 == 0:
                return EINVAL
            src_dev = self.ip_dev_find(src)
            if src_dev is None and not anysrc:
                return ENETUNREACH
        if dst == LIMITED_BCAST or (dst >> 28 == 14):
            dev = oif if oif is not None else src_dev   # no device: the source's ("it is equivalent ...")
            if dev is None:
                r = fib.lookup(dst, src or 0, "lo", oifname, mark, tos)
                dev = r.dev if r is not None else None
            if dev is None:
                return ENETUNREACH
            s = src if src is not None else (self.select_source(dev, dst) or 0)
            return OutRoute(None, dev, dst, s, "broadcast")
        if oif is not None:
            if not oif.up:
                return ENETUNREACH
            r = fib.lookup_oif(dst, src or 0, oif, mark, tos)
            if r is None:
                # ip_route_output_key_hash_rcu: no route through the bound device (SO_BINDTODEVICE,
                # ping -I): "assume that the destination is on link", the source from the device
                s = src if src is not None else self.inet_select_addr(oif, 0, RT_SCOPE_LINK)
                return OutRoute(None, oif, dst, s, "unicast")
        else:
            r = fib.lookup(dst, src or 0, "lo", "", mark, tos)
        if r is None:
            return ENETUNREACH
        rtype = r.type
        if rtype in ROUTE_TYPE_ERRNO:
            return ROUTE_TYPE_ERRNO[rtype]
        if rtype == "local":
            s = src if src is not None else (r.src if r.src is not None else dst)
            return OutRoute(r, self.lo, dst, s, "local")
        if rtype == "broadcast":
            s = src if src is not None else (r.src if r.src is not None else self.select_source(r.dev, dst) or 0)
            if s >> 24 == 127 and r.dev.link_type != "loopback":
                return EINVAL   # __mkroute_output: a loopback source leaves through loopback only
            return OutRoute(r, r.dev, dst, s, "broadcast")
        out, gw = r.dev, r.gw
        nh: Route | Nexthop = r
        if r.nhs:
            # fib_select_path: the flow's hash picks the nexthop (no transport ports known here)
            nh = self.fib_select_path(r, src or 0, dst, 0, 0, 0)
            out, gw = nh.dev, nh.gw
        if src is not None:
            s = src
        elif r.src is not None:
            s = r.src
        else:
            s = self.select_source(out, gw if gw is not None else dst) or 0
        if s >> 24 == 127 and out.link_type != "loopback":
            return EINVAL   # __mkroute_output: a loopback source leaves through loopback only
        mtu = out.mtu
        if r.mtu:
            mtu = min(mtu, r.mtu)
        exc = self.pmtu_exception(dst)
        if exc is not None:
            mtu = min(mtu, exc[0])
        redirected = False
        if self.fnhe:
            new_gw = self.fnhe_gateway(dst, nh)
            if new_gw is not None:   # rt_bind_exception: the redirect's gateway, RTCF_REDIRECTED
                gw, redirected = new_gw, True
        return OutRoute(r, out, gw if gw is not None else dst, s, "unicast", mtu, gw, nh, redirected)

    def fib_select_path(self: NsSelf, r: Route, src: int, dst: int, proto: int, sport: int, dport: int,
                        ip: IPv4 | None = None) -> Nexthop:
        """fib_multipath_hash + fib_select_multipath: policy 0 hashes the addresses, policy 1 the
        5-tuple (ports 0 for a fragment or a protocol without them), policy 2 the innermost
        addresses of a forwarded IPIP/GRE packet `ip` (else the addresses, as 0), policy 3 the
        fields `net.ipv4.fib_multipath_hash_fields` names. The kernel seeds its hash with
        `net.ipv4.fib_multipath_hash_seed` (Linux 6.11; 0: a random key per boot, shared by
        every namespace); netplex's hash is a CRC-32 of the fields, put through MurmurHash3's
        finaliser with the seed when one is set (a CRC is linear: a seed XORed in would flip
        every flow's choice alike), so a flow's path is reproducible and switches given
        different seeds choose independently."""
        values = self.sysctl.values
        policy = values["net.ipv4.fib_multipath_hash_policy"]
        key: tuple[int, ...]
        if policy == "1":
            key = (src, dst, proto, sport, dport)
        elif policy == "3":
            key = fib_multipath_custom_key(int(values["net.ipv4.fib_multipath_hash_fields"]),
                                           src, dst, proto, sport, dport, ip)
        else:
            inner = flow_dissect_inner(ip) if policy == "2" and ip is not None else None
            key = (inner.src, inner.dst, 0, 0, 0) if inner is not None else (src, dst, 0, 0, 0)
        mp_hash = crc32(b"".join(v.to_bytes(4, "big") for v in key))
        seed = values["net.ipv4.fib_multipath_hash_seed"]
        if seed != "0":
            mp_hash = fmix32(mp_hash ^ int(seed))
        mp_hash >>= 1
        return fib_select_multipath(r, mp_hash, self.ignores_linkdown)

    def ignores_linkdown(self: NsSelf, dev: NetDevice) -> bool:
        """ip_ignore_linkdown: net.ipv4.conf.{all,DEV}.ignore_routes_with_linkdown."""
        values = self.sysctl.values
        return (values["net.ipv4.conf.all.ignore_routes_with_linkdown"] != "0"
                or values.get(f"net.ipv4.conf.{dev.name}.ignore_routes_with_linkdown", "0") != "0")

    # -- path MTU (route exceptions, net/ipv4/route.c) -------------------------
    def pmtu_exception(self: NsSelf, dst: int) -> tuple[int, int] | None:
        """The learned path MTU towards `dst` and when it expires, while it lasts."""
        exc = self.pmtu.get(dst)
        if exc is None or exc[1] <= self.sched.now:
            return None
        return exc

    def fnhe_gateway(self: NsSelf, dst: int, nh: Route | Nexthop) -> int | None:
        """find_exception + rt_bind_exception: the gateway a redirect left on `nh` for `dst`, while
        it lasts (an expired one is deleted, as find_exception does)."""
        exc = self.fnhe.get(dst)
        if exc is None or exc[0] is not nh:
            return None
        if exc[2] <= self.sched.now:
            del self.fnhe[dst]
            return None
        return exc[1]

    def fnhe_expires(self: NsSelf, dst: int) -> int | None:
        """When the redirect exception towards `dst` expires (ns), if there is one."""
        exc = self.fnhe.get(dst)
        return exc[2] if exc is not None and exc[2] > self.sched.now else None

    def rt_cache_flush_exceptions(self: NsSelf) -> None:
        """`ip route flush cache` (ipv4_sysctl_rtcache_flush: rt_cache_flush + fnhe_genid_bump): every
        nexthop exception, learned path MTU and redirect alike, is forgotten."""
        if self.fnhe or self.pmtu:
            self.fnhe.clear()
            self.pmtu.clear()
            self.config_changed()

    def ip_do_redirect(self: NsSelf, dev: NetDevice, ip: IPv4, icmp: Icmp, oif: NetDevice | None, mark: int,
                       tos: int) -> None:
        """__ip_do_redirect (net/ipv4/route.c), as ipv4_sk_redirect calls it for the socket that sent
        the quoted packet: the redirect must come from the route's current gateway; the new one is
        refused when accept_redirects does not allow it (IN_DEV_RX_REDIRECTS), or it is multicast,
        broadcast or zero, or (shared_media 0) not on a subnet of `dev` with the old one, or
        (secure_redirects too) not already a gateway of some route through `dev`, or (shared_media 1)
        not a unicast address. Then a new gateway whose neighbour is not valid is only resolved
        (neigh_event_send); a valid one gets a nexthop exception for 300 s (ip_rt_gc_timeout): the
        route goes through it (`cache <redirected> expires 299sec`)."""
        q = icmp.payload
        if len(q) < 20 or icmp.code & 7 > ICMP_REDIR_HOSTTOS:
            return
        qsrc, qdst = int.from_bytes(q[12:16], "big"), int.from_bytes(q[16:20], "big")
        rt = self.ip_route_output(qdst, oif, qsrc, mark, tos & 0x1C)
        old_gw, new_gw = ip.src, icmp.rest & 0xFFFFFFFF
        if isinstance(rt, int) or rt.type != "unicast" or rt.gw != old_gw:
            return
        sysctl = self.sysctl
        ok = (new_gw != old_gw and sysctl.rx_redirects(dev.name) and new_gw >> 28 != 14
              and new_gw != LIMITED_BCAST and new_gw >> 24 != 0)
        if ok and not sysctl.shared_media(dev.name):
            ok = (any((new_gw & a.mask) == a.prefix and (old_gw & a.mask) == a.prefix
                      for a in self.addrs.get(dev.ifindex, []))                    # inet_addr_onlink
                  and (not sysctl.secure_redirects(dev.name) or self.ip_fib_check_default(new_gw, dev)))
        elif ok:
            ok = self.inet_addr_type_table(new_gw, RT_TABLE_LOCAL) == "unicast"
        if not ok:
            if self.log_martians(dev) and self.net_ratelimit():
                f = self.fmt_ip
                self.printk(f"IPv4: Redirect from {f(old_gw)} on {dev.name} about {f(new_gw)} ignored")
                self.printk(f"  Advised path = {f(qsrc)} -> {f(qdst)}")
            return
        n = self.neigh.get(rt.dev, new_gw) or self.neigh.create(rt.dev, new_gw)
        if not n.state & NUD_VALID:
            self.neigh.event_send(n)
            return
        assert rt.nh is not None
        self.fnhe[qdst] = (rt.nh, new_gw, self.sched.now + IP_RT_GC_TIMEOUT_NS)
        self.config_changed()

    def ip_fib_check_default(self: NsSelf, gw: int, dev: NetDevice) -> bool:
        """ip_fib_check_default: some live route's nexthop through `dev` has gateway `gw`."""
        for table in self.fib.tables.values():
            for r in table.routes():
                if (r.dev is dev and r.gw == gw) or any(nh.dev is dev and nh.gw == gw for nh in r.nhs):
                    return True
        return False

    def ip_rt_update_pmtu(self: NsSelf, dst: int, mtu: int) -> None:
        """__ip_rt_update_pmtu: remember a smaller path MTU for 600 s (ip_rt_mtu_expires).

        A value below min_pmtu (552) is raised to it, as the kernel does.
        """
        mtu = max(mtu, 552)
        rt = self.ip_route_output(dst)
        if isinstance(rt, int) or mtu >= rt.mtu:
            return
        self.pmtu[dst] = (mtu, self.sched.now + 600 * 1_000_000_000)
        self.config_changed()

    def ip_local_out(self: NsSelf, ip: IPv4, rt: OutRoute, meta: SkbMeta | None = None, length: int = 0) -> int:
        """ip_local_out: OUTPUT, then POSTROUTING and the neighbour layer.

        `meta` is per-packet metadata the packet starts with (a reset that
        netfilter makes carries the connection it answers); `length`, when the
        sender measured it, the datagram's length (carried down unless a hook
        may change the packet). Returns 0, or an errno the sending socket sees
        (EPERM when OUTPUT drops).
        """
        if not ip.id and not ip.flags & IP_DF:
            self.ip_id = (self.ip_id + 1) & 0xFFFF
            ip.id = self.ip_id
        mib = self.mib
        if ip.proto == IPPROTO_ICMP and isinstance(ip.payload, Icmp):
            mib.icmp_out[ip.payload.type & 0xFF] += 1   # icmp_out_count: icmp_push_reply, raw and ping sockets
        world: World = self.world
        tracer = world.tracer
        if tracer.on:   # a new packet leaves a socket: the next events are about it
            tracer.packet = tracer.packet_id(ip)
        elif world.fastpath and rt.type == "unicast" and not self.xfrm.spd_out:
            hooks = self.hooks
            if "OUTPUT" not in hooks and "POSTROUTING" not in hooks and self._output_fast(ip, rt, meta, length):
                return 0   # (it counted OutRequests with OutTransmits: Mib.out_fast)
        mib.ip["OutRequests"] += 1   # __ip_local_out
        bundle = None
        if self.xfrm.spd_out and rt.type == "unicast" and (meta is None or not meta.xfrm_transformed):
            # xfrm_lookup_route: an out policy may send this packet through SAs
            res = xfrm_lookup(self, ip, rt.dev.ifindex)
            if res is not None:
                if isinstance(res, int):
                    if res == EAGAIN:
                        # larval drop: make_blackhole, the sender sees no error
                        self.drop(None, rt.dev, SkbDropReason.XFRM_OUT_NO_STATES)
                        return 0
                    self.drop(None, rt.dev, SkbDropReason.XFRM_OUT_POL_BLOCK)
                    return res
                bundle = res
        frame = Ethernet(ZERO_MAC, ZERO_MAC, ETH_P_IP, ip, (), meta)
        if bundle:
            skb_meta(frame).dst_xfrm = tuple(bundle)   # the xfrm dst xfrm_lookup_route made: -m policy --dir out
        hook = self.hooks.get("OUTPUT")
        if hook is not None:
            length = 0     # NAT may change the packet
            dst0 = ip.dst
            mark0 = meta.mark if meta is not None else 0
            if not hook(self, frame, None, rt.dev):
                return EPERM
            ip = frame.payload  # type: ignore[assignment]  # NAT may have replaced it
            m = frame.meta
            mark = m.mark if m is not None else 0
            if ip.dst != dst0 or (mark != mark0 and self.fib.flow_keys & FLOW_MARK):
                # DNAT/REDIRECT in OUTPUT changed the destination, or MARK the mark a
                # rule reads: route again (ip_route_me_harder), keeping the source
                # the socket chose
                rt2 = self.ip_route_output(ip.dst, None, ip.src if self.is_local_addr(ip.src) else None, mark,
                                           ip.tos)
                if isinstance(rt2, int):
                    return rt2
                rt = rt2
        if self.world.tracer.on:
            self.trace("ip_local_out", f"{self.describe(ip)} dev {rt.dev.name}", out_dev=rt.dev.name)
        if bundle:
            return xfrm_output(self, frame, bundle, rt.dev)
        if rt.type == "local":
            lo = self.lo
            if not lo.up:
                self.drop(frame, lo, SkbDropReason.IP_LOOPBACK_DOWN)
                return 0
            # ip_output: a packet to a local address passes POSTROUTING too (SNAT,
            # conntrack confirm) before the loopback device
            post = self.hooks.get("POSTROUTING")
            if post is not None and not post(self, frame, None, lo):
                return 0
            # ip_finish_output2 → lo's one neighbour (keyed 0.0.0.0): its lladdr is the frame's
            # destination, and eth_type_trans on the way back in drops any other than lo's own
            mib.ip_out(length or ip.wire_len())
            self.neigh.output(lo, 0, frame, ip.src)
            return 0
        if rt.type == "broadcast":
            # ip_eth_mc_map: a multicast group's MAC is 01:00:5e and its low 23 bits
            d = ip.dst
            frame.dst = BCAST_MAC if d >> 28 != 14 else b"\x01\x00\x5e" + (d & 0x7FFFFF).to_bytes(3, "big")
            frame.src = rt.dev.mac
            mib.ip_out(length or ip.wire_len(), "multicast" if d >> 28 == 14 else "broadcast")
            rt.dev.xmit(frame)
            return 0
        r = rt.route
        if r is not None and r.encap:
            mpls_encap_xmit(self, rt.dev, rt.nexthop, frame, r.encap)
            return 0
        self.ip_finish_output(rt.dev, rt.nexthop, frame, ip.src, length, rt.mtu)
        return 0

    def _output_fast(self: NsSelf, ip: IPv4, rt: OutRoute, meta: SkbMeta | None, length: int) -> bool:
        """ip_local_out's common case in one step, with the effects of ip_finish_output and
        neigh_output (neigh_hh_output, or neigh_resolve_output's plain send): a unicast route
        without encap or netfilter hooks, a datagram within the MTU, a REACHABLE next hop still
        confirmed or a PERMANENT, NOARP, DELAY or PROBE one (the last two get `used` = now, as
        neigh_event_send does); on a device of a declared-pure class the frame goes to the cable
        as the flow fast path sends it (fastpath.py `fast_xmit`). The caller has checked that the
        tracer is off and no xfrm policy or OUTPUT/POSTROUTING hook exists. False, nothing done,
        when anything else holds: the full path takes it."""
        r = rt.route
        out = rt.dev
        if (r is not None and r.encap) or out.kind == "loopback":
            return False
        if not length:
            length = ip.wire_len()
        if length > (rt.mtu or out.mtu):
            return False
        neigh: NeighTable = self.neigh
        n = rt.neigh
        if rt.neigh_gen != neigh.gen:
            n = rt.neigh = neigh.entries.get((out.ifindex, rt.nexthop))
            rt.neigh_gen = neigh.gen
        if n is None:
            return False
        sched: Scheduler = self.sched
        now = sched.now
        state = n.state
        if not (state == NUD_REACHABLE and now - n.confirmed < n.reachable_ns or state & NUD_FAST):
            return False
        lladdr = n.lladdr
        if lladdr is None:    # (a REACHABLE, PERMANENT, NOARP, DELAY or PROBE entry always has one)
            return False
        if state & NUD_USED:
            n.used = now      # neigh_event_send on a DELAY or PROBE entry (its timer does the rest)
        mib = self.mib      # __ip_local_out's OutRequests, ip_finish_output2's OutTransmits and OUTOCTETS
        mib.out_fast += 1
        mib.out_octets += length
        frame = Ethernet(lladdr, out.mac, ETH_P_IP, ip, (), meta)
        if type(out) in FAST_DEVICE_CLASSES:
            # dev_queue_xmit → start_xmit → the cable on a pure device in one step (fastpath.py),
            # the peer's receive pushed as the flow fast path pushes it
            ns: Any = self      # (the Namespace this mixin is part of)
            q = out.qdisc
            if q is None:
                busy = xmit_state(ns, out, now)
                if busy >= 0:
                    fast_xmit(ns, out, frame, length + 14, now, busy)
                    return True
            elif out.up:        # dev_queue_xmit with a configured qdisc: what xmit does next
                out._qdisc_xmit(q, frame, length + 14)
                return True
        out.xmit(frame, length + 14)
        return True

    def ip_finish_output(self: NsSelf, out: NetDevice, nexthop: int, frame: Ethernet, src_hint: int | None,
                         length: int = 0, mtu: int = 0) -> None:
        """ip_output → POSTROUTING → ip_finish_output2: fragment if needed, then the neighbour."""
        hook = self.hooks.get("POSTROUTING")
        if hook is not None:
            if not hook(self, frame, None, out):
                return
            length = 0  # NAT may have changed the packet
        ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
        frame.src = out.mac
        mtu = mtu or out.mtu
        if out.kind == "loopback":
            nexthop = 0     # __ipv4_neigh_lookup_noref: every address on lo is the entry 0.0.0.0
        if not length:
            length = ip.wire_len()   # measured once: the neighbour layer and the device reuse it
        if length > mtu:
            if ip.flags & IP_DF:
                self.mib.ip["FragFails"] += 1
                self.drop(frame, out, SkbDropReason.PKT_TOO_BIG)
                return
            if mtu - 20 - ((len(ip.options) + 3) & ~3) < 8:   # ip_do_fragment: no room for one 8-byte block (FRAGFAILS)
                self.mib.ip["FragFails"] += 1
                self.drop(frame, out, SkbDropReason.FRAG_FAILED)
                return
            mib = self.mib
            mib.ip["FragOKs"] += 1
            for piece in fragment(ip, mtu):
                mib.ip["FragCreates"] += 1
                mib.ip_out(piece.wire_len())
                self.neigh.output(out, nexthop, Ethernet(ZERO_MAC, out.mac, ETH_P_IP, piece), src_hint)
            return
        self.mib.ip_out(length)
        self.neigh.output(out, nexthop, frame, src_hint, length + 14 if not frame.vlans else 0)

    def neigh_unreachable(self: NsSelf, dev: NetDevice, frame: Ethernet) -> None:
        """A queued packet whose next hop never answered ARP (arp_error_report)."""
        ip = frame.payload
        if isinstance(ip, Mpls):    # an MPLS packet has no ICMP error (neigh_xmit just drops it)
            self.drop(frame, dev, SkbDropReason.NEIGH_FAILED)
            return
        assert isinstance(ip, IPv4)
        # ipv4_link_failure: an ICMP host unreachable to the sender, ours too: that one travels
        # OUTPUT, POSTROUTING and lo back in to the sending socket (iptables counts it)
        self.icmp_send(ip, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, None)
        self.drop(frame, dev, SkbDropReason.NEIGH_FAILED)

    # -- ICMP ----------------------------------------------------------------
    def rtcf_doredirect(self: NsSelf, dev: NetDevice, src: int, dst: int, tos: int) -> bool:
        """__mkroute_input's RTCF_DOREDIRECT for a packet leaving through `dev`, the device it came
        in on: IN_DEV_TX_REDIRECTS (send_redirects of `all` or the device) and fib_validate_source
        returning 1: the route back to `src` leaves through `dev` straight (no gateway: the
        nexthop's scope is host), the sender is on-link. (IN_DEV_SHARED_MEDIA, on by default and
        not settable here, makes inet_addr_onlink's test moot.)"""
        if not self.sysctl.send_redirects(dev.name):
            return False
        r = self.fib.lookup(src, dst, "lo", "", 0, tos & 0x1C)
        if r is None or r.type != "unicast":
            return False
        return r.gw is None and (r.dev is dev or any(nh.dev is dev for nh in r.nhs))

    def ip_error(self: NsSelf, ip: IPv4, code: int, dev: NetDevice) -> None:
        """ip_error (net/ipv4/route.c): a forwarded packet's route was an error (no route, an
        unreachable or prohibit route or rule): an ICMP destination unreachable with `code` to its
        sender, within the sender's inet_peer bucket (five at once, then one a second; inetpeer.py)."""
        now = self.sched.now
        if ip_error_allow(inet_getpeer(self.inet_peers, ip.src, now), now):
            self.icmp_send(ip, ICMP_DEST_UNREACH, code, dev)

    def ip_rt_send_redirect(self: NsSelf, dev: NetDevice, ip: IPv4, gw: int) -> None:
        """ip_rt_send_redirect (net/ipv4/route.c): an ICMP host redirect to `gw` for the sender of
        `ip`, rate-limited per sender (its inet_peer): the first at once, the n-th only later than
        ip_rt_redirect_load << n after the previous, none after ip_rt_redirect_number of them
        until ip_rt_redirect_silence passes with no redirected packet."""
        now = self.sched.now
        peer = inet_getpeer(self.inet_peers, ip.src, now)
        if now - peer.rate_last > IP_RT_REDIRECT_SILENCE_NS:
            peer.rate_tokens = 0
            peer.n_redirects = 0
        if peer.n_redirects >= IP_RT_REDIRECT_NUMBER:
            peer.rate_last = now
            return
        if peer.n_redirects == 0 or now - peer.rate_last > IP_RT_REDIRECT_LOAD_NS << peer.n_redirects:
            self.icmp_send(ip, ICMP_REDIRECT, ICMP_REDIR_HOST, dev, rest=gw)
            peer.rate_last = now
            peer.n_redirects += 1

    def inet_iif(self: NsSelf, dev: NetDevice, ip: IPv4) -> NetDevice:
        """inet_iif: the device a socket lookup sees the packet come in by. Our own packet looped
        through lo keeps its output route, whose rt_iif is the local route's device
        (ip_route_output_key_hash_rcu: "orig_oif points to fib result device"): a reply to eth0's
        address comes in by eth0 for the sockets, though lo carried it."""
        if dev.kind != "loopback":
            return dev
        r = self.fib.lookup(ip.dst)
        return r.dev if r is not None and r.type == "local" and r.dev is not None else dev

    def icmp_rcv(self: NsSelf, dev: NetDevice, ip: IPv4, rtype: str) -> None:
        """icmp_rcv: answer echo, hand replies and errors to their sockets."""
        icmp = ip.payload
        if not isinstance(icmp, Icmp):
            return
        t = icmp.type
        self.mib.icmp_in[t & 0xFF] += 1   # InMsgs, the type's counter, ICMPMSG InType<t> (snmp.Mib.icmp_rcv)
        if t == ICMP_ECHO:
            if self.sysctl.values["net.ipv4.icmp_echo_ignore_all"] == "1":
                return
            if rtype == "broadcast" and self.sysctl.values["net.ipv4.icmp_echo_ignore_broadcasts"] == "1":
                return
            self.icmp_reply(ip, Icmp(ICMP_ECHOREPLY, 0, icmp.id, icmp.seq, icmp.payload), rtype)
        elif t == ICMP_TIMESTAMP:
            # icmp_timestamp: originate copied, receive = transmit = ms since midnight UT;
            # not to a broadcast when echo_ignore_broadcasts (RFC 1122 3.2.2.8)
            if rtype == "broadcast" and self.sysctl.values["net.ipv4.icmp_echo_ignore_broadcasts"] == "1":
                return
            if len(icmp.payload) < 4:
                return
            now = (self.sched.now // 1_000_000 % 86_400_000).to_bytes(4, "big")
            self.icmp_reply(ip, Icmp(ICMP_TIMESTAMPREPLY, 0, icmp.id, icmp.seq, icmp.payload[:4] + now + now), rtype)
        elif t == ICMP_ECHOREPLY:
            self.sockets.ping_rcv(ip, icmp, dev if dev.kind != "loopback" else self.inet_iif(dev, ip))
        elif t in ICMP_ERROR_TYPES:
            if t == ICMP_DEST_UNREACH and icmp.code == ICMP_FRAG_NEEDED:
                q = icmp.payload
                if len(q) >= 20 and self.is_local_addr(int.from_bytes(q[12:16], "big")):
                    self.ip_rt_update_pmtu(int.from_bytes(q[16:20], "big"), icmp.rest & 0xFFFF)
            self.sockets.icmp_error_rcv(ip, icmp, dev)

    def icmp_reply(self: NsSelf, ip: IPv4, icmp: Icmp, rtype: str = "local") -> None:
        """icmp_reply: from fib_compute_spec_dst's address (the destination of a request a local
        route took, even one no device holds: `local 10.0.0.0/8 dev lo`), within the rate limits."""
        apply_ratelimit = not self.icmpv4_mask_allow(icmp.type, icmp.code)
        if apply_ratelimit and not self.icmp_global_allow():
            self.mib.icmp["OutRateLimitGlobal"] += 1
            self.drop(None, None, SkbDropReason.ICMP_RATELIMIT)
            return
        src = ip.dst if rtype == "local" or self.is_local_addr(ip.dst) else None
        rt = self.ip_route_output(ip.src, None, src)
        if isinstance(rt, int):
            return
        if apply_ratelimit and not self.icmpv4_xrlim_allow(rt, apply_ratelimit, ip.src):
            self.mib.icmp["OutRateLimitHost"] += 1
            self.drop(None, None, SkbDropReason.ICMP_RATELIMIT)
            return
        reply = IPv4(rt.src, ip.src, IPPROTO_ICMP, icmp, ttl=self.default_ttl(), tos=ip.tos)
        self.ip_local_out(reply, rt)

    def icmp_send(self: NsSelf, ip: IPv4, type: int, code: int, in_dev: NetDevice | None, rest: int = 0) -> None:
        """icmp_send: an error about `ip` back to its source, with the kernel's rules."""
        dst, src = ip.dst, ip.src
        if ip.frag or dst == LIMITED_BCAST or dst >> 28 == 14:
            return
        if ip.proto == IPPROTO_ICMP and isinstance(ip.payload, Icmp) and ip.payload.type in ICMP_ERROR_TYPES:
            return
        if src == 0 or src >> 28 == 14:
            return
        # icmpv4_global_allow: the global bucket, before the route lookup and before anything is
        # built, unless the packet came in on loopback (then no limit at all); while credit
        # remains, icmp_global_allow passes without looking at the clock
        apply_ratelimit = False
        if in_dev is None or in_dev.kind != "loopback":
            # not icmpv4_mask_allow(type, code), inline (once an ICMP error)
            text = self.sysctl.values["net.ipv4.icmp_ratemask"]
            mask = _INT_OF.get(text)
            apply_ratelimit = (type <= 18 and not (type == ICMP_DEST_UNREACH and code == ICMP_FRAG_NEEDED)
                               and (((mask if mask is not None else _int_of(text)) >> type) & 1) == 1)
            if apply_ratelimit and self.icmp_global_credit <= 0 and not self.icmp_global_allow():
                self.mib.icmp["OutRateLimitGlobal"] += 1
                self.drop(None, in_dev, SkbDropReason.ICMP_RATELIMIT)
                return
        # icmp_route_lookup: ip_route_output's cached answer probed here (its key for this flow)
        key = (src, None, dst if dst in self.local_addrs else None, 0, 0, False)
        rt = None
        if self.rt_out_gen == self.world.config_generation and not self.pmtu and not self.fnhe:
            rt = self.rt_out_cache.get(key)
        if rt is None:
            rt = self.ip_route_output(src, None, key[2])
        if isinstance(rt, int):
            return
        if not self.icmpv4_xrlim_allow(rt, apply_ratelimit, src):
            self.mib.icmp["OutRateLimitHost"] += 1
            self.drop(None, in_dev, SkbDropReason.ICMP_RATELIMIT)
            return
        err = Icmp.error(type, code, ip, rest)
        out = IPv4(rt.src, ip.src, IPPROTO_ICMP, err, ttl=self.default_ttl(),
                   tos=(ip.tos & 0x1E) | IPTOS_PREC_INTERNETCONTROL)
        if self.world.tracer.on:
            self.trace("icmp_send", f"ICMP type {type} code {code} to {self.fmt_ip(ip.src)}", out_dev=rt.dev.name)
        self.ip_local_out(out, rt)

    def icmpv4_mask_allow(self: NsSelf, type: int, code: int) -> bool:
        """icmpv4_mask_allow: True when `type` is not rate-limited at all — outside
        net.ipv4.icmp_ratemask (default 6168: dest unreachable, source quench, time
        exceeded, parameter problem), beyond NR_ICMP_TYPES, or fragmentation needed."""
        if type > 18:
            return True
        if type == ICMP_DEST_UNREACH and code == ICMP_FRAG_NEEDED:
            return True
        text = self.sysctl.values["net.ipv4.icmp_ratemask"]
        mask = _INT_OF.get(text)    # (_int_of's table read inline: once an ICMP message)
        return not ((mask if mask is not None else _int_of(text)) >> type) & 1

    def icmp_global_allow(self: NsSelf) -> bool:
        """icmp_global_allow: the namespace's bucket of net.ipv4.icmp_msgs_per_sec, at most
        icmp_msgs_burst credits; while credit remains anything passes, else it refills
        (at most one second's worth, not within 20 ms of the last refill)."""
        if self.icmp_global_credit > 0:
            return True
        now = self.sched.now
        stamp = self.icmp_global_stamp
        delta = NSEC_PER_SEC if stamp is None else min(now - stamp, NSEC_PER_SEC)
        if delta < NSEC_PER_SEC // 50:
            return False
        v = self.sysctl.values
        incr = int(v["net.ipv4.icmp_msgs_per_sec"]) * delta // NSEC_PER_SEC
        if not incr:
            return False
        self.icmp_global_stamp = now
        self.icmp_global_credit = min(self.icmp_global_credit + incr, int(v["net.ipv4.icmp_msgs_burst"]))
        return True

    def icmpv4_xrlim_allow(self: NsSelf, rt: OutRoute, apply_ratelimit: bool, daddr: int) -> bool:
        """icmpv4_xrlim_allow: a token bucket per destination (inet_peer_xrlim_allow).

        Each message costs net.ipv4.icmp_ratelimit ms of tokens; the bucket holds
        six (XRLIM_BURST_FACTOR). Never on a loopback route. A message sent takes
        a credit of the global bucket (icmp_global_consume: the kernel takes 0-2
        at random, one on average; netplex takes one, so runs stay reproducible). The bucket and
        its sysctls are the namespace's on kernel 6.18 (netns_ipv4.icmp_global_credit), as here;
        once it runs dry the kernel's count of errors sent is random (docs/fidelity-audit.md).
        """
        if not apply_ratelimit:
            return True
        allow = True
        if rt.dev.kind != "loopback":
            text = self.sysctl.values["net.ipv4.icmp_ratelimit"]
            ms = _INT_OF.get(text)      # (_int_of's table read inline: once an ICMP message)
            timeout = (ms if ms is not None else _int_of(text)) * 1_000_000
            now = self.sched.now
            peer = self.inet_peers.get(daddr)
            if peer is None:
                peer = inet_getpeer(self.inet_peers, daddr, now)
            # inet_peer_xrlim_allow (inetpeer.py's bucket), inline: once an ICMP message
            token = peer.rate_tokens
            delta = now - peer.rate_last
            if delta:
                peer.rate_last = now
                token = min(token + delta, XRLIM_BURST_FACTOR * timeout)
            allow = token >= timeout
            if allow:
                token -= timeout
            peer.rate_tokens = token
        if allow:
            self.icmp_global_credit -= 1
        return allow

    def _accept_local(self: NsSelf, dev: NetDevice) -> bool:
        """IN_DEV_ACCEPT_LOCAL: net.ipv4.conf.{all,DEV}.accept_local."""
        v = self.sysctl.values
        return v.get(f"net.ipv4.conf.{dev.name}.accept_local", "0") != "0" or v.get("net.ipv4.conf.all.accept_local") != "0"

    def _route_localnet(self: NsSelf, dev: NetDevice) -> bool:
        v = self.sysctl.values
        return (v.get(f"net.ipv4.conf.{dev.name}.route_localnet") == "1"
                or v.get("net.ipv4.conf.all.route_localnet") == "1")

    def default_ttl(self: NsSelf) -> int:
        text = self.sysctl.values["net.ipv4.ip_default_ttl"]
        ttl = _INT_OF.get(text)     # (_int_of's table read inline: once a datagram sent)
        return ttl if ttl is not None else _int_of(text)

    # -- transport dispatch --------------------------------------------------
    def udp_rcv(self: NsSelf, dev: NetDevice, ip: IPv4, rtype: str) -> None:
        udp: Udp = ip.payload  # type: ignore[assignment]  # IPPROTO_UDP carries a UDP header
        if self.udp_encap:
            # an encapsulation socket (VXLAN) on the destination port takes the datagram first
            encap = self.udp_encap.get(udp.dport)
            if encap is not None and encap(self, dev, ip):
                return
        sk = self.sockets.udp.get(udp.dport)   # SocketTable.udp_lookup inline
        if sk is not None and sk.laddr and sk.laddr != ip.dst:
            sk = None
        if sk is None:
            self.mib.udp["NoPorts" if rtype == "local" else "IgnoredMulti"] += 1
            if rtype == "local":
                self.icmp_send(ip, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dev)
            if self.world.tracer.on:
                self.trace("udp_rcv", f"no socket on port {udp.dport}", dev=dev.name)
            return
        sk.deliver(ip, dev)

    def neigh_confirm_for(self: NsSelf, addr: int) -> None:
        """dst_confirm_neigh: forward progress on a connection confirms its next hop."""
        cache = self.route_cache
        r = cache.get(addr)
        if r is None:
            r = self.fib.lookup(addr)
            if not self.fib.flow_keys:   # the same entry ip_rcv caches for this destination
                cache[addr] = r if r is not None else False
        if r and r.dev is not None:
            self.neigh.confirm(r.dev, r.gw if r.gw is not None else addr)

    # -- text ----------------------------------------------------------------
    def describe(self: NsSelf, ip: IPv4) -> str:
        """A one-line summary of a packet, as the trace shows it."""
        p: Any = ip.payload
        s, d = self.fmt_ip(ip.src), self.fmt_ip(ip.dst)
        if ip.proto == IPPROTO_ICMP and isinstance(p, Icmp):
            names = {0: "echo reply", 8: "echo request", 3: "destination unreachable", 11: "time exceeded"}
            return f"ICMP {s} > {d} {names.get(p.type, f'type {p.type}')} code {p.code} ttl {ip.ttl}"
        if ip.proto == IPPROTO_UDP and not isinstance(p, bytes):
            return f"UDP {s}:{p.sport} > {d}:{p.dport} ttl {ip.ttl}"
        if ip.proto == IPPROTO_TCP and not isinstance(p, bytes):
            from netplex.packet.tcp import ACK, FIN, PSH, RST, SYN
            fl = "".join(c for c, bit in (("S", SYN), ("F", FIN), ("R", RST), ("P", PSH), (".", ACK)) if p.flags & bit)
            return f"TCP {s}:{p.sport} > {d}:{p.dport} [{fl}] ttl {ip.ttl}"
        return f"IP {s} > {d} proto {ip.proto} ttl {ip.ttl}"


# the ICMP handler ip_local_fast answers echo requests for (unless someone registered another)
_ICMP_RCV = Ipv4Path.icmp_rcv
