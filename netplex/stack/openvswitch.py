"""The Open vSwitch kernel datapath (net/openvswitch/: datapath.c, vport.c,
vport-internal_dev.c, vport-netdev.c).

One `OvsDatapath` per namespace, the `ovs-system` device (kind `openvswitch`,
down, as the kernel makes it). Its vports are numbered: a *netdev* vport is an
existing device enslaved to it (`master ovs-system` in `ip link`), whose
frames it takes through the rx_handler seam (netdev_frame_hook); an
*internal* vport is an `OvsInternalDev` (a bridge's own `br0`), whose
transmit enters the datapath (internal_dev_xmit) and whose receive is the
datapath's output to it (internal_dev_recv).

Every frame is handed up to userspace (`upcall`, the genetlink
OVS_PACKET_CMD_MISS): ovs-vswitchd decides and answers with datapath
actions it executes through `output`. There is no flow cache in the kernel
here: each packet's decision is made by the OpenFlow tables, which is what
the megaflow cache would reproduce.

A *tunnel* vport (vport-vxlan.c, vport-geneve.c, vport-gre.c) is one
flow-based device per type and UDP port, `vxlan_sys_4789`, `genev_sys_6081`,
`gre_sys` (collect_md: the kernel's vxlan/geneve/gretap in `external` mode):
what it receives goes up with its outer header as the tunnel key
(`TunnelKey`, struct ip_tunnel_key: tun_id, tun_src, tun_dst, ...), and it
sends what the datapath gives it with a `set(tunnel(...))` key, routed by the
namespace's routing table as the kernel routes it (udp_tunnel_xmit_skb,
ip_md_tunnel_xmit).
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from netplex.errors import NetplexError
from netplex.packet.ethernet import Ethernet
from netplex.packet.geneve import GENEVE_PORT, Geneve
from netplex.packet.gre import ETH_P_TEB, GRE_CSUM, GRE_KEY, Gre
from netplex.packet.ipv4 import IP_DF, IPPROTO_GRE, IPPROTO_UDP, IPv4
from netplex.packet.udp import Udp
from netplex.packet.vxlan import VXLAN_PORT_IANA, Vxlan
from netplex.stack.device import (
    RX_HANDLER_CONSUMED,
    NetDevice,
    RxHandlerResult,
    netdev_rx_handler_register,
    netdev_rx_handler_unregister,
)
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.fastpath import FAST_DEVICE_CLASSES, fast_xmit, xmit_state
from netplex.stack.vxlan import udp_flow_src_port

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["OVS_DATAPATH_NAME", "TUNNEL_VPORTS", "OvsDatapath", "OvsInternalDev", "OvsTunnelVport", "TunnelKey",
           "Upcall", "ovs_datapath", "ovs_tunnel_vport"]

OVS_DATAPATH_NAME = "ovs-system"
# tunnel type → (the vport device's name prefix, its default UDP port; 0 for GRE)
TUNNEL_VPORTS = {"vxlan": ("vxlan_sys_", VXLAN_PORT_IANA), "geneve": ("genev_sys_", GENEVE_PORT), "gre": ("gre_sys", 0)}
# struct ip_tunnel_key's TUNNEL_* flags as OVS names them (flags(df|csum|key))
TUNNEL_DF, TUNNEL_CSUM, TUNNEL_KEY = 0x1, 0x2, 0x4


class TunnelKey:
    """struct ip_tunnel_key: the outer header a tunnel packet came with, or is to be sent with."""

    __slots__ = ("tun_id", "src", "dst", "tos", "ttl", "tp_src", "tp_dst", "flags")

    def __init__(self, tun_id: int, src: int, dst: int, tos: int = 0, ttl: int = 64, tp_src: int = 0,
                 tp_dst: int = 0, flags: int = 0) -> None:
        self.tun_id = tun_id
        self.src = src
        self.dst = dst
        self.tos = tos
        self.ttl = ttl
        self.tp_src = tp_src
        self.tp_dst = tp_dst
        self.flags = flags


# OVS_PACKET_CMD_MISS: (datapath, vport number, frame, the tunnel key it came with) → nothing;
# userspace executes its actions
# (datapath, port, frame, tunnel key, the frame's length when known or 0)
Upcall = Callable[["OvsDatapath", int, Ethernet, "TunnelKey | None", int], None]


class OvsDatapath(NetDevice):
    """struct datapath and its local port device `ovs-system`."""

    kind = "openvswitch"

    def __init__(self, ns: Namespace, name: str, mac: bytes) -> None:
        super().__init__(ns, name, mac)
        self.vports: dict[int, NetDevice] = {}       # port number → device
        self.port_of: dict[int, int] = {}            # ifindex → port number
        self.upcall: Upcall | None = None            # ovs-vswitchd's handler (set by it, None when it is gone)
        self.n_hit = self.n_missed = self.n_lost = 0

    accepts_ports = True

    # -- vports (ovs_vport_add / ovs_vport_del) ------------------------------
    def _new_port_no(self, want: int | None) -> int:
        if want is not None and want not in self.vports:
            return want
        n = 1
        while n in self.vports:
            n += 1
        return n

    def check_slave(self, dev: NetDevice) -> None:
        if dev is self or isinstance(dev, (OvsDatapath, OvsInternalDev)):
            raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)
        if dev.master is not None or dev.rx_handler is not None:
            raise NetplexError("RTNETLINK answers: Device or resource busy", errno.EBUSY)

    def ndo_add_slave(self, dev: NetDevice) -> None:
        """netdev_link / ovs_netdev_link: the device becomes a vport; its frames come here."""
        self.add_vport(dev)

    def add_vport(self, dev: NetDevice, want: int | None = None) -> int:
        n = self._new_port_no(want)
        self.vports[n] = dev
        self.port_of[dev.ifindex] = n
        if not isinstance(dev, OvsInternalDev):
            netdev_rx_handler_register(dev, partial(self.netdev_frame_hook, n))
            dev.master = self
            dev.gflags |= 0x100    # IFF_PROMISC: dev_set_promiscuity(dev, 1)
            self.ns.config_changed()
        return n

    def ndo_del_slave(self, dev: NetDevice) -> None:
        self.del_vport(dev)

    def del_vport(self, dev: NetDevice) -> None:
        n = self.port_of.pop(dev.ifindex, None)
        if n is None:
            return
        self.vports.pop(n, None)
        if not isinstance(dev, OvsInternalDev):
            netdev_rx_handler_unregister(dev)
            dev.master = None
            dev.gflags &= ~0x100
            self.ns.config_changed()
        elif dev.name in dev.ns.devices:
            dev.ns.del_device(dev)

    # -- packets -----------------------------------------------------------
    def netdev_frame_hook(self, port_no: int, frame: Ethernet, nbytes: int = 0) -> RxHandlerResult:
        """netdev_frame_hook → ovs_vport_receive: every frame of a netdev vport is ours (`receive`,
        inline: once a packet), with its length as the device received it."""
        self.n_missed += 1
        up = self.upcall
        if up is None:
            self.n_lost += 1
        else:
            up(self, port_no, frame, None, nbytes)
        return RX_HANDLER_CONSUMED

    def receive(self, port_no: int, frame: Ethernet, tun: TunnelKey | None = None) -> None:
        """ovs_dp_process_packet: no kernel flow, so a miss goes up to userspace
        (lost when no ovs-vswitchd listens)."""
        self.n_missed += 1
        up = self.upcall
        if up is None:
            self.n_lost += 1
            return
        up(self, port_no, frame, tun, 0)

    def output(self, port_no: int, frame: Ethernet, tun: TunnelKey | None = None, nbytes: int = 0) -> None:
        """do_output → ovs_vport_send: out of a netdev vport, up an internal one, or
        encapsulated by a tunnel vport with the key `set(tunnel(...))` gave. `nbytes`, when
        the caller knows it, is the frame's length (dev_queue_xmit needs not measure it)."""
        dev = self.vports.get(port_no)
        if dev is None:
            return
        if type(dev) in FAST_DEVICE_CLASSES:
            # a plain veth: dev_queue_xmit → start_xmit → the cable in one call when nothing
            # there can do otherwise (the bridge fast path's output: fastpath.xmit_state)
            ns = self.ns
            if nbytes and ns.world.fastpath:
                now = ns.sched.now
                busy = xmit_state(ns, dev, now)
                if busy >= 0:
                    fast_xmit(ns, dev, frame, nbytes, now, busy)
                    return
            dev.xmit(frame, nbytes)
        elif isinstance(dev, OvsInternalDev):
            dev.internal_dev_recv(frame)
        elif isinstance(dev, OvsTunnelVport):
            dev.tunnel_xmit(frame, tun)
        else:
            dev.xmit(frame, nbytes)


class OvsInternalDev(NetDevice):
    """vport-internal_dev: a bridge's own port device (`br0`): what the host sends on it
    enters the datapath, what the datapath outputs to it is received by the host."""

    kind = "openvswitch"

    def __init__(self, ns: Namespace, name: str, mac: bytes, dp: OvsDatapath) -> None:
        super().__init__(ns, name, mac)
        self.dp = dp

    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        """internal_dev_xmit: counted and tapped as any queue-less device, then into the datapath."""
        if not self.upper_xmit_start(frame, nbytes):
            return
        n = self.dp.port_of.get(self.ifindex)
        if n is not None:
            self.dp.receive(n, frame)

    def internal_dev_recv(self, frame: Ethernet) -> None:
        """internal_dev_recv: the host receives it (dropped while the device is down)."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        st = self.stats
        st.rx_packets += 1
        st.rx_bytes += frame.wire_len()
        self.ns.netif_receive(self, frame)


class OvsTunnelVport(NetDevice):
    """A flow-based tunnel device a tunnel vport owns (`vxlan_sys_4789`, `genev_sys_6081`,
    `gre_sys`): the kernel's vxlan, geneve or gretap device in collect_md (`external`) mode."""

    default_qdisc = "noqueue"
    collect_md = True       # ip_tunnel_lookup's fallback for GRE (itn->collect_md_tun)

    def __init__(self, ns: Namespace, name: str, mac: bytes, dp: OvsDatapath, ttype: str, dstport: int) -> None:
        super().__init__(ns, name, mac, 65000 if ttype != "gre" else 1472)
        self.dp = dp
        self.ttype = ttype
        self.kind = {"vxlan": "vxlan", "geneve": "geneve", "gre": "gretap"}[ttype]  # type: ignore[misc]  # per device
        self.dstport = dstport
        # what ns.gre_tunnels' readers (add_gre, ip_tunnel_lookup) and vxlan_vni_in_use look at
        self.vni: int | None = None
        self.local = self.remote = 0
        self.ikey: int | None = None
        self.iflags = 0
        self.link_dev: NetDevice | None = None
        self.up = True
        if ttype == "gre":
            ns.gre_tunnels.append(self)
        else:
            ns.udp_encap[dstport] = self.udp_encap_rcv

    def has_carrier(self) -> bool:
        return self.up

    def operstate(self) -> str:
        return "UNKNOWN" if self.up else "DOWN"

    def details_text(self) -> str:
        if self.ttype == "gre":
            return "    gretap external any remote any local any ttl inherit nopmtudisc "
        return f"    {self.kind} external id 0 dstport {self.dstport} "

    def ndo_uninit(self) -> None:
        super().ndo_uninit()
        ns = self.ns
        if self.ttype == "gre":
            if self in ns.gre_tunnels:
                ns.gre_tunnels.remove(self)
        elif ns.udp_encap.get(self.dstport) == self.udp_encap_rcv:
            del ns.udp_encap[self.dstport]

    # -- receive: vxlan_rcv / geneve_rx / ipgre_rcv with tun_dst metadata ----------------
    def udp_encap_rcv(self, ns: Namespace, dev: NetDevice, ip: IPv4) -> bool:
        udp = ip.payload
        if not isinstance(udp, Udp):
            return False
        hdr = udp.payload
        cls = Vxlan if self.ttype == "vxlan" else Geneve
        if isinstance(hdr, (bytes, bytearray)):
            try:
                hdr = cls.decode(bytes(hdr))
            except ValueError:
                self.stats.rx_errors += 1
                return True
        if not isinstance(hdr, (Vxlan, Geneve)):
            self.stats.rx_errors += 1
            return True
        if isinstance(hdr, Vxlan) and not hdr.flags & 0x08:
            ns.drop(None, dev, SkbDropReason.VXLAN_INVALID_HDR)
            return True
        flags = TUNNEL_KEY
        if ip.flags & IP_DF:
            flags |= TUNNEL_DF
        key = TunnelKey(hdr.vni, ip.src, ip.dst, ip.tos, ip.ttl, udp.sport, udp.dport, flags)
        self._rcv(hdr.payload, key)
        return True

    def gre_rcv(self, ip: IPv4, gre: Gre) -> None:
        """ipgre_rcv on a collect_md tunnel: the GRE key (if any) is the tunnel id."""
        if gre.proto != ETH_P_TEB:
            self.stats.rx_errors += 1
            return
        flags = (TUNNEL_KEY if gre.flags & GRE_KEY else 0) | (TUNNEL_CSUM if gre.flags & GRE_CSUM else 0)
        if ip.flags & IP_DF:
            flags |= TUNNEL_DF
        self._rcv(gre.payload, TunnelKey(gre.key if gre.flags & GRE_KEY else 0, ip.src, ip.dst, ip.tos, ip.ttl,
                                         flags=flags))

    def _rcv(self, payload: object, key: TunnelKey) -> None:
        if isinstance(payload, (bytes, bytearray)):
            try:
                inner = Ethernet.decode(bytes(payload))
            except ValueError:
                self.stats.rx_errors += 1
                return
        elif isinstance(payload, Ethernet):
            inner = payload.copy()
        else:
            self.stats.rx_errors += 1
            return
        st = self.stats
        st.rx_packets += 1
        st.rx_bytes += inner.wire_len()
        ns = self.ns
        if ns.world.tracer.on:
            ns.trace(f"{self.kind}_rcv", f"{self.name}: tun_id {key.tun_id:#x} from {ns.fmt_ip(key.src)}: "
                     f"{ns.fmt_mac(inner.src)} > {ns.fmt_mac(inner.dst)}", dev=self.name)
        n = self.dp.port_of.get(self.ifindex)
        if n is not None:
            self.dp.receive(n, inner, key)

    # -- transmit: the tunnel key says where -------------------------------------------
    def tunnel_xmit(self, frame: Ethernet, key: TunnelKey | None) -> None:
        """vxlan_xmit_one / geneve_xmit / gre_fb_xmit with the skb's tunnel info; without
        one a flow-based device drops the packet."""
        ns = self.ns
        st = self.stats
        if key is None or not key.dst:
            st.tx_errors += 1
            ns.drop(frame, self, SkbDropReason.NO_TX_TARGET)
            return
        rt = ns.ip_route_output(key.dst, None, key.src or None, tos=key.tos)
        gre = self.ttype == "gre"
        if isinstance(rt, int):
            st.tx_errors += 1
            ns.drop(frame, self, SkbDropReason.GRE_NO_ROUTE if gre else SkbDropReason.VXLAN_NO_ROUTE)
            return
        if rt.dev is self:
            st.tx_errors += 1
            ns.drop(frame, self, SkbDropReason.GRE_LOOP if gre else SkbDropReason.VXLAN_LOOP)
            return
        inner_len = frame.wire_len()
        frame.meta = None   # the outer packet is a new skb to netfilter
        df = IP_DF if key.flags & TUNNEL_DF else 0
        src = key.src or rt.src
        if gre:
            gflags = (GRE_KEY if key.flags & TUNNEL_KEY else 0) | (GRE_CSUM if key.flags & TUNNEL_CSUM else 0)
            outer = IPv4(src, key.dst, IPPROTO_GRE, Gre(ETH_P_TEB, frame, gflags, key.tun_id & 0xFFFFFFFF, 0),
                         ttl=key.ttl, tos=key.tos, flags=df)
        else:
            sport = udp_flow_src_port(ns, frame, 0, 0)
            hdr: object = (Vxlan(key.tun_id & 0xFFFFFF, frame) if self.ttype == "vxlan"
                           else Geneve(key.tun_id & 0xFFFFFF, frame))
            outer = IPv4(src, key.dst, IPPROTO_UDP, Udp(sport, key.tp_dst or self.dstport, hdr), ttl=key.ttl,
                         tos=key.tos, flags=df)
        if ns.world.tracer.on:
            ns.trace(f"{self.kind}_xmit", f"{self.name}: tun_id {key.tun_id:#x} to {ns.fmt_ip(key.dst)} "
                     f"from {ns.fmt_ip(src)}", dev=self.name, out_dev=rt.dev.name)
        st.tx_packets += 1
        st.tx_bytes += inner_len
        ns.ip_local_out(outer, rt)


def ovs_tunnel_vport(ns: Namespace, dp: OvsDatapath, ttype: str, dstport: int) -> OvsTunnelVport:
    """ovs_vport_add of a tunnel vport (vxlan_tnl_create, geneve_tnl_create, gre_tnl_create):
    the type's flow-based device for that port, shared by every OVS tunnel port using it.
    A UDP port another VXLAN device holds is `Address already in use`."""
    prefix, _ = TUNNEL_VPORTS[ttype]
    name = prefix if ttype == "gre" else f"{prefix}{dstport}"
    dev = ns.devices.get(name)
    if isinstance(dev, OvsTunnelVport):
        return dev
    if ttype != "gre" and dstport in ns.udp_encap:
        raise NetplexError("Address already in use", errno.EADDRINUSE)
    if ttype == "gre" and any(isinstance(t, OvsTunnelVport) for t in ns.gre_tunnels):
        raise NetplexError("File exists", errno.EEXIST)
    ns.check_new_name(name)
    dev = OvsTunnelVport(ns, name, ns.world.random_mac(), dp, ttype, dstport)
    ns.register(dev)
    dp.add_vport(dev)
    return dev


def ovs_datapath(ns: Namespace, create: bool = True) -> OvsDatapath | None:
    """The namespace's datapath (`ovs-system`), made on first use (ovs_dp_cmd_new)."""
    dp = ns.devices.get(OVS_DATAPATH_NAME)
    if isinstance(dp, OvsDatapath):
        return dp
    if not create:
        return None
    dp = OvsDatapath(ns, OVS_DATAPATH_NAME, ns.world.random_mac())
    ns.register(dp)
    return dp


def ovs_internal_dev(ns: Namespace, dp: OvsDatapath, name: str, want: int | None = None) -> OvsInternalDev:
    """ovs_vport_add of an internal vport: a new device in the namespace."""
    ns.check_new_name(name)
    dev = OvsInternalDev(ns, name, ns.world.random_mac(), dp)
    ns.register(dev)
    dp.add_vport(dev, want)
    return dev
