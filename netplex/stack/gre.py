"""GRE tunnels (net/ipv4/ip_gre.c, ip_tunnel.c; RFC 2784, RFC 2890).

A `gre` device is a point-to-point IPv4 link with no ARP: what the IP stack
routes into it leaves inside GRE (protocol 0x0800) in an outer IPv4 packet
from `local` to `remote` (ip_tunnel_xmit). A `gretap` device is an Ethernet
device whose whole frames travel the same way (protocol 0x6558), so it can be
a bridge port. Outer TTL: the tunnel's, or the inner packet's when `ttl
inherit` (0); DF: set while path-MTU discovery is on (the default) and copied
from the inner packet. `key`, `csum` and `seq` add RFC 2890's fields.

On receive (gre_rcv → ip_tunnel_lookup) the tunnel whose key matches and
whose endpoints match the outer addresses most exactly takes the packet; no
tunnel means an ICMP port unreachable to the sender, as the kernel sends.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.gre import ETH_P_TEB, GRE_CSUM, GRE_KEY, GRE_SEQ, Gre, gre_hlen
from netplex.packet.icmp import ICMP_DEST_UNREACH, ICMP_PORT_UNREACH
from netplex.packet.ipv4 import IP_DF, IPPROTO_GRE, IPv4
from netplex.stack.device import NetDevice
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.if_flags import IFF_BROADCAST, IFF_MULTICAST, IFF_NOARP, IFF_POINTOPOINT

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

ZERO_MAC = b"\x00" * 6
IP_MAX_MTU = 0xFFFF


class _Tunnel:
    """What ip_tunnel_parm holds, shared by gre and gretap."""

    # a tunnel has carrier while up, and no operational state of its own (ip_tunnel)
    up: bool
    collect_md = False      # a flow-based (`external`) tunnel: OVS's gre_sys
    link_dev: Any

    def has_carrier(self) -> bool:
        return self.up

    def operstate(self) -> str:
        return "UNKNOWN" if self.up else "DOWN"

    def link_suffix(self) -> str:
        return self.link_dev.name if self.link_dev is not None else "NONE"

    def _tunnel_init(self, local: int, remote: int, link: Any, ttl: int, tos: int, ikey: int | None,
                     okey: int | None, iflags: int, oflags: int, pmtudisc: bool) -> None:
        self.local = local
        self.remote = remote
        self.link_dev = link
        self.ttl = ttl
        self.tos = tos
        self.ikey = ikey
        self.okey = okey
        self.iflags = iflags | (GRE_KEY if ikey is not None else 0)
        self.oflags = oflags | (GRE_KEY if okey is not None else 0)
        self.pmtudisc = pmtudisc
        self.o_seqno = 0

    def tunnel_hlen(self) -> int:
        return 20 + gre_hlen(self.oflags)

    def lower_mtu(self) -> int:
        """ip_tunnel_bind_dev: the MTU of the device the route to `remote` leaves by."""
        ns = self.ns  # type: ignore[attr-defined]
        if self.remote:
            r = ns.fib.lookup(self.remote)
            if r is not None and r.dev is not None and r.dev is not self:
                return r.dev.mtu
        if self.link_dev is not None:
            return self.link_dev.mtu
        return 1500

    def encap_xmit(self, inner: Any, proto: int, inner_ip: IPv4 | None, inner_len: int) -> None:
        """ip_tunnel_xmit: route the outer packet and send it."""
        dev: Any = self
        ns = dev.ns
        st = dev.stats
        if not self.remote:
            st.tx_errors += 1
            ns.drop(None, dev, SkbDropReason.GRE_NO_REMOTE)
            return
        rt = ns.ip_route_output(self.remote, None, self.local or None)
        if isinstance(rt, int):
            st.tx_errors += 1   # tx_carrier_errors: no route to the other end
            ns.drop(None, dev, SkbDropReason.GRE_NO_ROUTE)
            return
        if rt.dev is dev:
            st.tx_errors += 1
            ns.drop(None, dev, SkbDropReason.GRE_LOOP)
            return
        ttl = self.ttl
        if not ttl:
            ttl = inner_ip.ttl if inner_ip is not None else ns.default_ttl()
        tos = self.tos
        if tos == 1:
            tos = inner_ip.tos if inner_ip is not None else 0
        df = IP_DF if self.pmtudisc else 0
        if inner_ip is not None:
            df |= inner_ip.flags & IP_DF
        seq = 0
        if self.oflags & GRE_SEQ:
            seq = self.o_seqno
            self.o_seqno += 1
        gre = Gre(proto, inner, self.oflags & (GRE_CSUM | GRE_KEY | GRE_SEQ), self.okey or 0, seq)
        outer = IPv4(rt.src, self.remote, IPPROTO_GRE, gre, ttl=ttl, tos=tos, flags=df)
        if ns.world.tracer.on:
            ns.trace("ip_tunnel_xmit", f"{dev.name}: GRE to {ns.fmt_ip(self.remote)} from {ns.fmt_ip(rt.src)}"
                     + (f" key {self.okey}" if self.oflags & GRE_KEY else ""), dev=dev.name, out_dev=rt.dev.name)
        st.tx_packets += 1
        st.tx_bytes += inner_len
        ns.ip_local_out(outer, rt)

    def tunnel_text(self) -> str:
        """The attributes `ip -d link` prints after the kind (gre_print_opt)."""
        dev: Any = self
        f = dev.ns.fmt_ip
        out = f"remote {f(self.remote) if self.remote else 'any'} local {f(self.local) if self.local else 'any'} "
        if self.link_dev is not None:
            out += f"dev {self.link_dev.name} "
        out += f"ttl {self.ttl} " if self.ttl else "ttl inherit "
        if self.tos:
            out += "tos inherit " if self.tos == 1 else f"tos {self.tos:#x} "
        if not self.pmtudisc:
            out += "nopmtudisc "
        if self.iflags & GRE_KEY:
            out += f"ikey {f(self.ikey or 0)} "
        if self.oflags & GRE_KEY:
            out += f"okey {f(self.okey or 0)} "
        for flag, name in ((GRE_SEQ, "seq"), (GRE_CSUM, "csum")):
            if self.iflags & flag:
                out += f"i{name} "
            if self.oflags & flag:
                out += f"o{name} "
        return out


class GreDev(_Tunnel, NetDevice):
    """An IPv4-over-GRE point-to-point device (`ip tunnel add … mode gre`, `ip link add … type gre`)."""

    kind = "gre"
    link_type = "gre"
    default_qdisc = "noqueue"

    def __init__(self, ns: Namespace, name: str, **cfg: Any) -> None:
        local = cfg.get("local", 0)
        super().__init__(ns, name, local.to_bytes(4, "big"))
        self._tunnel_init(**cfg)
        self.base_flags = IFF_NOARP | (IFF_POINTOPOINT if self.remote else 0)
        self.mtu = self.lower_mtu() - self.tunnel_hlen()
        self.max_mtu = IP_MAX_MTU - self.tunnel_hlen()
        self.addr_assign_random = False

    def lladdr_text(self) -> str:
        f = self.ns.fmt_ip
        return f"    link/gre {f(self.local)} peer {f(self.remote)}"

    def details_text(self) -> str:
        return "    gre " + self.tunnel_text()

    def xmit(self, frame: Any, nbytes: int = 0) -> None:
        """ipgre_xmit: the IP packet, without its (absent) link-layer header."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        ip = frame.payload
        if not isinstance(ip, IPv4):
            self.stats.tx_dropped += 1
            return
        self.encap_xmit(ip, ETH_P_IP, ip, ip.wire_len())


class GretapDev(_Tunnel, NetDevice):
    """An Ethernet-over-GRE device (`ip link add … type gretap`): bridgeable."""

    kind = "gretap"
    default_qdisc = "noqueue"

    def __init__(self, ns: Namespace, name: str, mac: bytes, **cfg: Any) -> None:
        super().__init__(ns, name, mac)
        self._tunnel_init(**cfg)
        self.base_flags = IFF_BROADCAST | IFF_MULTICAST
        self.mtu = self.lower_mtu() - self.tunnel_hlen() - 14
        self.max_mtu = IP_MAX_MTU - self.tunnel_hlen() - 14

    def details_text(self) -> str:
        return "    gretap " + self.tunnel_text()

    def xmit(self, frame: Any, nbytes: int = 0) -> None:
        """gre_tap_xmit: the whole Ethernet frame."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        self.xmit_taps(frame)
        frame.meta = None
        self.encap_xmit(frame, ETH_P_TEB, None, nbytes or frame.wire_len())


def _lookup(ns: Any, proto: int, src: int, dst: int, key: int | None) -> Any:
    """ip_tunnel_lookup: the most specific up tunnel of the right kind and key."""
    kind = "gretap" if proto == ETH_P_TEB else "gre"
    best = None
    best_score = -1
    md = None
    for t in ns.gre_tunnels:
        if t.kind != kind or not t.up:
            continue
        if t.collect_md:
            md = t
            continue
        has_key = bool(t.iflags & GRE_KEY)
        if has_key != (key is not None) or (has_key and t.ikey != key):
            continue
        if t.remote and t.remote != src:
            continue
        if t.local and t.local != dst:
            continue
        score = (2 if t.remote else 0) + (1 if t.local else 0)
        if score > best_score:
            best, best_score = t, score
    return best if best is not None else md   # itn->collect_md_tun when nothing else matches


def gre_rcv(ns: Any, dev: Any, ip: IPv4) -> None:
    """gre_rcv → ipgre_rcv: decapsulate into the tunnel that owns the packet."""
    gre = ip.payload
    if isinstance(gre, (bytes, bytearray)):
        try:
            gre = Gre.decode(bytes(gre))
        except ValueError:
            ns.drop(None, dev, SkbDropReason.GRE_MALFORMED)
            return
    if not isinstance(gre, Gre):
        ns.drop(None, dev, SkbDropReason.GRE_MALFORMED)
        return
    key = gre.key if gre.flags & GRE_KEY else None
    t = _lookup(ns, gre.proto, ip.src, ip.dst, key)
    tracing = ns.world.tracer.on
    if t is None:
        if tracing:
            ns.trace("gre_rcv", f"{dev.name}: no tunnel for GRE from {ns.fmt_ip(ip.src)}"
                     + (f" key {key}" if key is not None else ""), dev=dev.name)
        ns.icmp_send(ip, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dev)
        ns.drop(None, dev, SkbDropReason.GRE_NO_TUNNEL)
        return
    if t.iflags & GRE_CSUM and not gre.flags & GRE_CSUM:
        t.stats.rx_errors += 1
        ns.drop(None, t, SkbDropReason.GRE_CSUM_REQUIRED)
        return
    if t.collect_md:
        t.gre_rcv(ip, gre)   # the tunnel key goes with the packet (ip_tun_rx_dst)
        return
    inner = gre.payload
    if tracing:
        ns.trace("gre_rcv", f"{t.name}: GRE from {ns.fmt_ip(ip.src)}" + (f" key {key}" if key is not None else ""),
                 dev=dev.name, out_dev=t.name)
    if gre.proto == ETH_P_TEB:
        if isinstance(inner, (bytes, bytearray)):
            try:
                frame = Ethernet.decode(bytes(inner))
            except ValueError:
                t.stats.rx_errors += 1
                return
        elif isinstance(inner, Ethernet):
            frame = inner.copy()
        else:
            t.stats.rx_errors += 1
            return
        t.rx(frame)
        return
    if isinstance(inner, (bytes, bytearray)):
        try:
            inner_ip = IPv4.decode(bytes(inner))
        except ValueError:
            t.stats.rx_errors += 1
            return
    elif isinstance(inner, IPv4):
        inner_ip = inner.copy()
    else:
        t.stats.rx_errors += 1
        return
    n = inner_ip.wire_len()
    st = t.stats
    st.rx_packets += 1
    st.rx_bytes += n
    ns.ip_rcv(t, Ethernet(ZERO_MAC, ZERO_MAC, ETH_P_IP, inner_ip), n)
