"""VXLAN tunnel endpoints (drivers/net/vxlan/vxlan_core.c; RFC 7348).

A `vxlan` device is an Ethernet device whose wire is UDP. Sending a frame
(vxlan_xmit) looks its destination up in the device's own FDB: a known
address goes to the remote VTEP recorded for it, anything else to the
all-zeros entry — the multicast group, or every `remote` listed for it
(head-end replication). The frame travels as IPv4/UDP/VXLAN from `local` (or
the route's source), from a source port hashed from the inner flow
(udp_flow_src_port) to `dstport` (Linux's default 8472). Its outer TTL is 1
towards a multicast group unless `ttl` says otherwise.

Receiving (vxlan_rcv): a datagram to the device's port whose VNI matches is
decapsulated; with learning on (vxlan_snoop) the inner source address is
recorded as reachable at the outer source address, then the inner frame
arrives on the device (usually a bridge port). A device with a multicast
group joins it on its lower device when it opens (IGMP, `igmp.py`) and
leaves when it stops; stopping also forgets what it learned.
"""
from __future__ import annotations

import errno
import zlib
from typing import TYPE_CHECKING, Any

from netplex.errors import NetplexError
from netplex.packet.ethernet import Ethernet
from netplex.packet.ipv4 import IPPROTO_UDP, IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.packet.vxlan import Vxlan
from netplex.stack.device import NetDevice
from netplex.stack.dropreason import SkbDropReason

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

ZERO_MAC = b"\x00" * 6
VXLAN_HEADROOM = 50          # outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14
NUD_REACHABLE, NUD_NOARP, NUD_PERMANENT = 0x02, 0x40, 0x80
FDB_AGE_DEFAULT = 300


class VxlanRemote:
    """vxlan_rdst: one destination of an FDB entry."""

    __slots__ = ("ip", "port", "vni", "ifindex")

    def __init__(self, ip: int, port: int, vni: int, ifindex: int) -> None:
        self.ip = ip
        self.port = port
        self.vni = vni
        self.ifindex = ifindex

    def same(self, other: VxlanRemote) -> bool:
        return (self.ip, self.port, self.vni, self.ifindex) == (other.ip, other.port, other.vni, other.ifindex)


class VxlanFdb:
    """vxlan_fdb: an address and where it lives."""

    __slots__ = ("mac", "remotes", "state", "updated", "used")

    def __init__(self, mac: bytes, state: int, now: int) -> None:
        self.mac = mac
        self.remotes: list[VxlanRemote] = []
        self.state = state
        self.updated = now
        self.used = now       # vxlan_find_mac refreshes it on each lookup


def is_multicast(ip: int) -> bool:
    return ip >> 28 == 14


def _flow_hash(frame: Any) -> int:
    """skb_get_hash of the inner frame, symmetric in its two directions (what the kernel's
    flow dissector hashes: addresses and ports, or the MAC header of a non-IP frame)."""
    p = frame.payload
    if isinstance(p, IPv4):
        a, b = sorted((p.src, p.dst))
        t = p.payload
        ports = (t.sport, t.dport) if isinstance(t, (Tcp, Udp)) else (0, 0)
        pa, pb = sorted(ports)
        key = a.to_bytes(4, "big") + b.to_bytes(4, "big") + bytes([p.proto]) + pa.to_bytes(2, "big") + pb.to_bytes(2, "big")
    else:
        a2, b2 = sorted((frame.src, frame.dst))
        key = a2 + b2 + frame.type.to_bytes(2, "big")
    return zlib.crc32(key)


def udp_flow_src_port(ns: Any, frame: Any, lo: int, hi: int) -> int:
    """udp_flow_src_port: the outer source port, from the inner flow's hash."""
    if not lo and not hi:
        lo, hi = (int(x) for x in ns.sysctl.values["net.ipv4.ip_local_port_range"].split())
    h = _flow_hash(frame)
    h ^= (h << 16) & 0xFFFFFFFF
    return ((h * (hi - lo)) >> 32) + lo


class VxlanDev(NetDevice):
    """A VXLAN device."""

    kind = "vxlan"
    default_qdisc = "noqueue"

    def __init__(self, ns: Namespace, name: str, mac: bytes, vni: int) -> None:
        super().__init__(ns, name, mac)
        self.vni = vni
        self.group: int | None = None      # multicast group, or the unicast `remote`
        self.local = 0
        self.lower: NetDevice | None = None
        self.dstport = 8472
        self.srcport = (0, 0)
        self.learning = True
        self.ttl: int | None = None        # None: auto
        self.ttl_inherit = False
        self.tos = 0
        self.ageing = FDB_AGE_DEFAULT
        self.udpcsum = True
        self.fdb: dict[bytes, VxlanFdb] = {}
        self.opened = False
        self.joined: tuple[Any, int] | None = None
        self.addr_assign_random = True

    # -- state ---------------------------------------------------------
    def has_carrier(self) -> bool:
        return self.up

    def operstate(self) -> str:
        return "UNKNOWN" if self.up else "DOWN"

    def lower_dev(self) -> NetDevice | None:
        return self.lower

    def netdev_event(self) -> None:
        """vxlan_open / vxlan_stop, run when the admin state changes."""
        if self.up and not self.opened:
            self._open()
        elif not self.up and self.opened:
            self._stop()

    def _open(self) -> None:
        ns = self.ns
        self.opened = True
        socks = ns.vxlan_socks.setdefault(self.dstport, {})
        socks[self.vni] = self
        ns.udp_encap[self.dstport] = vxlan_udp_rcv
        g = self.group
        if g is not None and is_multicast(g):
            dev = self.lower
            if dev is None:
                r = ns.fib.lookup(g)
                dev = r.dev if r is not None else None
            if dev is not None:
                from netplex.stack.igmp import ip_mc_join_group

                ip_mc_join_group(ns, dev, g)
                self.joined = (dev, g)

    def _stop(self) -> None:
        ns = self.ns
        self.opened = False
        socks = ns.vxlan_socks.get(self.dstport, {})
        if socks.get(self.vni) is self:
            del socks[self.vni]
        if not socks:
            ns.vxlan_socks.pop(self.dstport, None)
            ns.udp_encap.pop(self.dstport, None)
        if self.joined is not None:
            from netplex.stack.igmp import ip_mc_leave_group

            dev, g = self.joined
            self.joined = None
            if dev.ifindex in ns.by_index:
                ip_mc_leave_group(ns, dev, g)
        # vxlan_flush(vxlan, false): learned entries go, configured ones stay
        for mac in [m for m, f in self.fdb.items() if not f.state & (NUD_PERMANENT | NUD_NOARP)]:
            del self.fdb[mac]

    # -- text ----------------------------------------------------------
    def details_text(self) -> str:
        out = f"    vxlan id {self.vni} "
        g = self.group
        if g is not None and g:
            out += f"{'group' if is_multicast(g) else 'remote'} {self.ns.fmt_ip(g)} "
        if self.local:
            out += f"local {self.ns.fmt_ip(self.local)} "
        if self.lower is not None:
            out += f"dev {self.lower.name} "
        out += f"srcport {self.srcport[0]} {self.srcport[1]} dstport {self.dstport} "
        if not self.learning:
            out += "nolearning "
        if self.tos:
            out += "tos inherit " if self.tos == 1 else f"tos {self.tos:#x} "
        if self.ttl_inherit:
            out += "ttl inherit "
        else:
            out += f"ttl {self.ttl} " if self.ttl else "ttl auto "
        out += f"ageing {self.ageing} " if self.ageing else "ageing none "
        out += "udpcsum " if self.udpcsum else "noudpcsum "
        out += "noudp6zerocsumtx noudp6zerocsumrx "
        return out

    # -- FDB -----------------------------------------------------------
    def fdb_add(self, mac: bytes, rd: VxlanRemote, state: int, how: str = "add") -> None:
        """vxlan_fdb_add (`how`: add = NLM_F_EXCL, append = NLM_F_APPEND, replace)."""
        if mac[0] & 1 and mac != b"\xff" * 6 and not rd.ip:
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        now = self.ns.sched.now
        f = self.fdb_find(mac)
        if f is None:
            f = VxlanFdb(mac, state, now)
            f.remotes.append(rd)
            self.fdb[mac] = f
        elif how == "add":
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        elif how == "append":
            if not any(r.same(rd) for r in f.remotes):
                f.remotes.append(rd)
            f.state = state
            f.updated = now
        else:   # replace: the first remote takes the new values
            if f.remotes:
                f.remotes[0] = rd
            else:
                f.remotes.append(rd)
            f.state = state
            f.updated = now
        self.ns.config_changed()

    def fdb_del(self, mac: bytes, ip: int | None = None, port: int | None = None, vni: int | None = None) -> None:
        """vxlan_fdb_delete: the entry, or with `ip` one of its remotes (no such remote is not
        an error; the entry goes with its last remote)."""
        f = self.fdb_find(mac)
        if f is None:
            raise NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)
        if ip is not None:
            match = [r for r in f.remotes if r.ip == ip and (port is None or r.port == port)
                     and (vni is None or r.vni == vni)]
            if not match:
                return   # __vxlan_fdb_delete
            f.remotes.remove(match[0])
            if f.remotes:
                return
        del self.fdb[mac]
        self.ns.config_changed()

    def fdb_find(self, mac: bytes) -> VxlanFdb | None:
        f = self.fdb.get(mac)
        if f is not None and f.state == NUD_REACHABLE and self.ageing \
                and self.ns.sched.now - f.updated > self.ageing * 1_000_000_000:
            del self.fdb[mac]   # vxlan_cleanup would have removed it
            return None
        return f

    def find_mac(self, mac: bytes) -> VxlanFdb | None:
        """vxlan_find_mac: fdb_find for the data path, which marks the entry used."""
        f = self.fdb_find(mac)
        if f is not None:
            f.used = self.ns.sched.now
        return f

    def live_fdb(self) -> list[VxlanFdb]:
        """The entries a dump shows, newest first."""
        return [f for f in reversed(list(self.fdb.values())) if self.fdb_find(f.mac) is not None]

    def snoop(self, src_mac: bytes, src_ip: int) -> None:
        """vxlan_snoop: remember which VTEP an address lives behind."""
        ns = self.ns
        f = self.find_mac(src_mac)
        now = ns.sched.now
        if f is not None:
            rd = f.remotes[0] if f.remotes else None
            if rd is not None and rd.ip == src_ip and rd.ifindex == 0:
                f.updated = now
                return
            if f.state & (NUD_PERMANENT | NUD_NOARP):
                return
            if rd is not None:
                rd.ip = src_ip
            f.updated = now
            if ns.world.tracer.on:
                ns.trace("vxlan_snoop", f"{self.name}: {ns.fmt_mac(src_mac)} migrated to {ns.fmt_ip(src_ip)}",
                         dev=self.name)
            return
        if not self.up:
            return
        f = VxlanFdb(src_mac, NUD_REACHABLE, now)
        f.remotes.append(VxlanRemote(src_ip, self.dstport, self.vni, 0))
        self.fdb[src_mac] = f
        if ns.world.tracer.on:
            ns.trace("vxlan_snoop", f"{self.name}: learned {ns.fmt_mac(src_mac)} is behind VTEP {ns.fmt_ip(src_ip)}",
                     dev=self.name)

    # -- transmit --------------------------------------------------------
    def xmit(self, frame: Any, nbytes: int = 0) -> None:
        """vxlan_xmit: one encapsulated copy per remote of the destination's entry."""
        ns = self.ns
        if not self.up:
            self.stats.tx_dropped += 1
            return
        if (nbytes or frame.wire_len()) > self.mtu + 18:
            # is_skb_forwardable: a bridge hands over frames no bigger than the device's MTU
            self.stats.tx_dropped += 1
            ns.drop(frame, self, SkbDropReason.MTU_EXCEEDED)
            return
        self.xmit_taps(frame)
        dst = frame.dst
        f = self.find_mac(dst)
        how = "known"
        if f is None:
            f = self.find_mac(ZERO_MAC)
            how = "broadcast" if dst == b"\xff" * 6 else ("multicast" if dst[0] & 1 else "unknown")
        if f is None or not f.remotes:
            self.stats.tx_dropped += 1
            ns.drop(frame, self, SkbDropReason.NO_TX_TARGET)
            return
        remotes = f.remotes
        tracing = ns.world.tracer.on
        if tracing:
            where = ", ".join(ns.fmt_ip(r.ip) for r in remotes)
            if how == "known":
                ns.trace("vxlan_xmit", f"{self.name}: {ns.fmt_mac(dst)} is behind VTEP {where}", dev=self.name)
            else:
                kind = "group" if any(is_multicast(r.ip) for r in remotes) else "every remote"
                ns.trace("vxlan_xmit", f"{self.name}: {how} {ns.fmt_mac(dst)} flooded to {kind} {where}",
                         dev=self.name)
        last = len(remotes) - 1
        for i, rd in enumerate(remotes):
            self._xmit_one(frame if i == last else frame.copy(), rd)

    def _xmit_one(self, frame: Any, rd: VxlanRemote) -> None:
        """vxlan_xmit_one: route, encapsulate, ip_local_out."""
        ns = self.ns
        st = self.stats
        dip = rd.ip
        if not dip:
            st.tx_dropped += 1
            return
        oif = ns.by_index.get(rd.ifindex) if rd.ifindex else self.lower
        rt = ns.ip_route_output(dip, oif if is_multicast(dip) else None, self.local or None)
        if isinstance(rt, int):
            st.tx_errors += 1   # tx_carrier_errors in the kernel: no route to the VTEP
            ns.drop(frame, self, SkbDropReason.VXLAN_NO_ROUTE)
            return
        if rt.dev is self:
            st.tx_errors += 1
            ns.drop(frame, self, SkbDropReason.VXLAN_LOOP)
            return
        inner_len = frame.wire_len()
        if self.ttl_inherit and isinstance(frame.payload, IPv4):
            ttl = frame.payload.ttl
        elif self.ttl:
            ttl = self.ttl
        elif is_multicast(dip):
            ttl = 1
        else:
            ttl = ns.default_ttl()
        tos = self.tos
        if tos == 1:
            p = frame.payload
            tos = p.tos if isinstance(p, IPv4) else 0
        sport = udp_flow_src_port(ns, frame, *self.srcport)
        port = rd.port or self.dstport
        frame.meta = None   # the outer packet is a new skb to netfilter
        outer = IPv4(rt.src, dip, IPPROTO_UDP, Udp(sport, port, Vxlan(rd.vni, frame)), ttl=ttl, tos=tos)
        st.tx_packets += 1
        st.tx_bytes += inner_len
        ns.ip_local_out(outer, rt)



def vxlan_udp_rcv(ns: Any, dev: Any, ip: IPv4) -> bool:
    """vxlan_rcv: True when a VXLAN device took the datagram."""
    udp = ip.payload
    if not isinstance(udp, Udp):
        return False
    socks = ns.vxlan_socks.get(udp.dport)
    if socks is None:
        return False
    vx = udp.payload
    if isinstance(vx, (bytes, bytearray)):
        try:
            vx = Vxlan.decode(bytes(vx))
        except ValueError:
            ns.drop(None, dev, SkbDropReason.VXLAN_INVALID_HDR)
            return True
    if not isinstance(vx, Vxlan):
        ns.drop(None, dev, SkbDropReason.VXLAN_INVALID_HDR)
        return True
    vdev = socks.get(vx.vni)
    tracing = ns.world.tracer.on
    if vdev is None or not vx.flags & 0x08:
        if tracing:
            ns.trace("vxlan_rcv", f"{dev.name}: no VXLAN device for VNI {vx.vni} on port {udp.dport}, dropped",
                     dev=dev.name)
        ns.drop(None, dev, SkbDropReason.VXLAN_VNI_NOT_FOUND)
        return True
    payload = vx.payload
    if isinstance(payload, (bytes, bytearray)):
        try:
            inner = Ethernet.decode(bytes(payload))
        except ValueError:
            vdev.stats.rx_errors += 1
            return True
    elif isinstance(payload, Ethernet):
        inner = payload.copy()   # the sender's copy may be captured or reused; ours is our own
    else:
        vdev.stats.rx_errors += 1
        return True
    if inner.src == vdev.mac:
        ns.drop(inner, vdev, SkbDropReason.LOCAL_MAC)
        return True
    if tracing:
        ns.trace("vxlan_rcv", f"{vdev.name}: VNI {vx.vni} from VTEP {ns.fmt_ip(ip.src)}: "
                 f"{ns.fmt_mac(inner.src)} > {ns.fmt_mac(inner.dst)}", dev=dev.name, out_dev=vdev.name)
    if vdev.learning:
        vdev.snoop(inner.src, ip.src)
    vdev.rx(inner)
    return True


def check_vni_in_use(ns: Any, vni: int, dstport: int, exclude: Any = None) -> None:
    """vxlan_vni_in_use: one device per VNI and port in a namespace."""
    for d in ns.devices.values():
        if d is not exclude and d.kind == "vxlan" and d.vni == vni and d.dstport == dstport:
            raise NetplexError("Error: A VXLAN device with the specified VNI already exists.", errno.EEXIST)
