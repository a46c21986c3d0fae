"""Sockets of one namespace: UDP, ICMP echo (ping), and the table that finds them.

Raw IP sockets (`raw.py`) and packet sockets (`af_packet.py`) are kept here
too: `raw` for raw_local_deliver, `ptype_all` (the namespace's own list, which
the devices test) for the device taps.

Port allocation, demultiplexing of received datagrams, and the translation of
ICMP errors into socket errors (icmp_err_convert, udp_err: a connected UDP
socket without IP_RECVERR sees only "hard" errors such as port unreachable).
TCP sockets live in `tcp.py` and are registered here.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netplex.packet.icmp import ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, Icmp
from netplex.packet.ipv4 import IP_DF, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPv4
from netplex.packet.udp import Udp
from netplex.stack.af_packet import PacketSocket
from netplex.stack.raw import RawSocket
from netplex.stack.skb import SockCgroupData
from netplex.stack.tcp import TcpSocket
from netplex.stack.xfrm.path import esp_udp_encap_rcv
from netplex.stack.xfrm.state import UDP_ENCAP_ESPINUDP

if TYPE_CHECKING:
    from netplex.stack.ipv4 import OutRoute
    from netplex.stack.netns import Namespace

ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EMSGSIZE, ENOPROTOOPT = 111, 113, 101, 90, 92
EADDRINUSE, EADDRNOTAVAIL, EHOSTDOWN, ENONET, EOPNOTSUPP = 98, 99, 112, 64, 95
EACCES, EDESTADDRREQ, EAGAIN, EINVAL = 13, 89, 11, 22
# icmp_err_convert: (errno, fatal) per destination-unreachable code
ICMP_ERR_CONVERT = [
    (ENETUNREACH, False), (EHOSTUNREACH, False), (ENOPROTOOPT, True), (ECONNREFUSED, True),
    (EMSGSIZE, False), (EOPNOTSUPP, False), (ENETUNREACH, True), (EHOSTDOWN, True), (ENONET, True),
    (ENETUNREACH, True), (EHOSTUNREACH, True), (ENETUNREACH, False), (EHOSTUNREACH, False),
    (EHOSTUNREACH, True), (EHOSTUNREACH, True), (EHOSTUNREACH, True),
]
ERRNO_TEXT = {
    ECONNREFUSED: "Connection refused", EHOSTUNREACH: "No route to host",
    ENETUNREACH: "Network is unreachable", 1: "Operation not permitted", 22: "Invalid argument",
    13: "Permission denied", EMSGSIZE: "Message too long", 110: "Connection timed out",
    ENOPROTOOPT: "Protocol not available", EHOSTDOWN: "Host is down", ENONET: "Machine is not on the network",
    EADDRINUSE: "Address already in use", EADDRNOTAVAIL: "Cannot assign requested address",
    104: "Connection reset by peer",
}


def icmp_to_errno(icmp: Icmp) -> tuple[int, bool]:
    """The errno and 'hard error' flag an ICMP error means to a socket."""
    if icmp.type == ICMP_DEST_UNREACH and icmp.code < len(ICMP_ERR_CONVERT):
        return ICMP_ERR_CONVERT[icmp.code]
    if icmp.type == ICMP_TIME_EXCEEDED:
        return EHOSTUNREACH, False
    return EHOSTUNREACH, False


def quoted_header(icmp: Icmp) -> tuple[int, int, int, int, int, int] | None:
    """(src, dst, proto, sport, dport, echo id) of the datagram an ICMP error quotes."""
    q = icmp.payload
    if len(q) < 28:
        return None
    ihl = (q[0] & 15) * 4
    if len(q) < ihl + 8:
        return None
    src = int.from_bytes(q[12:16], "big")
    dst = int.from_bytes(q[16:20], "big")
    proto = q[9]
    sport = int.from_bytes(q[ihl:ihl + 2], "big")
    dport = int.from_bytes(q[ihl + 2:ihl + 4], "big")
    echo_id = int.from_bytes(q[ihl + 4:ihl + 6], "big")
    return src, dst, proto, sport, dport, echo_id


class UdpSocket(SockCgroupData):
    """A UDP socket: bind, connect, sendto, and a receive callback."""

    uid = 0   # the owner (-m owner): every netplex command runs as root
    gid = 0

    def __init__(self, table: SocketTable) -> None:
        self.table = table
        self.ns = table.ns
        self.laddr = 0
        self.lport = 0
        self.raddr: int | None = None
        self.rport: int | None = None
        self.bound_dev: Any = None          # SO_BINDTODEVICE
        self.broadcast = False              # SO_BROADCAST
        self.rx_ifindex = 0                 # IP_PKTINFO: the device the last datagram arrived on
        self.on_recv: Callable[[bytes, int, int], None] | None = None
        self.on_error: Callable[[int], None] | None = None
        self.rxq: list[tuple[bytes, int, int]] = []
        self.error = 0
        self.recverr = False
        self.closed = False
        self.encap_type = 0                 # UDP_ENCAP (setsockopt SOL_UDP): ESP in UDP for IKE daemons
        # send buffer (SO_SNDBUF, net.core.wmem_default): bytes of our datagrams still queued
        # on a device (stack/wmem.py); at the limit sendto would block
        self.sndbuf = int(self.ns.sysctl.values["net.core.wmem_default"])
        self.wmem_alloc = 0
        self.on_writable: Callable[[], None] | None = None
        # sk_dst_cache: the last output route, with the namespace generation and the flow it
        # was looked up for (sk_dst_check: stale after any configuration change), and the default
        # TTL of that generation (a sysctl write is a configuration change)
        self.dst_cache: tuple[int, int, int, Any, int, OutRoute | int, int] | None = None

    def route(self, addr: int, tos: int) -> OutRoute | int:
        """ip_route_output for this socket's flow, through its dst cache. A route with a
        learned path MTU or redirect (a route exception, which expires with time) is never cached."""
        ns = self.ns
        c = self.dst_cache
        if (c is not None and c[0] == ns.generation and c[1] == addr and c[2] == tos and c[3] is self.bound_dev
                and c[4] == self.laddr and not ns.pmtu and not ns.fnhe):
            return c[5]
        rt = ns.ip_route_output(addr, self.bound_dev, self.laddr or None, tos=tos)
        self.dst_cache = (None if ns.pmtu or ns.fnhe
                          else (ns.generation, addr, tos, self.bound_dev, self.laddr, rt, ns.default_ttl()))
        return rt

    def wmem_free(self, size: int) -> None:
        """sock_wfree + sock_def_write_space: a sender waiting for room wakes once
        less than half of the send buffer is in use."""
        self.wmem_alloc -= size
        cb = self.on_writable
        if cb is not None and self.wmem_alloc * 2 <= self.sndbuf:
            self.on_writable = None
            self.ns.sched.at(self.ns.sched.now, cb)

    def bind(self, addr: int = 0, port: int = 0) -> int:
        # inet_bind: the address must be local, an interface's or one a local route covers (127.0.0.11)
        if addr and not self.ns.is_local_addr(addr) and self.ns.ip_dev_find(addr) is None:
            return EADDRNOTAVAIL
        if port == 0:
            port = self.table.ephemeral_port("udp")
        elif port in self.table.udp:
            return EADDRINUSE
        self.laddr, self.lport = addr, port
        self.table.udp[port] = self
        return 0

    def connect(self, addr: int, port: int) -> int:
        rt = self.ns.ip_route_output(addr, self.bound_dev, self.laddr or None)
        if isinstance(rt, int):
            return rt
        if not self.lport:
            self.bind(0, 0)
        if not self.laddr:
            self.laddr = rt.src
        self.raddr, self.rport = addr, port
        return 0

    def sendto(self, data: bytes, addr: int | None = None, port: int | None = None, tos: int = 0) -> int:
        if addr is None:
            addr, port = self.raddr, self.rport
        if addr is None or port is None:
            return EDESTADDRREQ
        if not self.lport:
            self.bind(0, 0)
        ns = self.ns
        c = self.dst_cache      # route()'s cache, tested here first: one call fewer a datagram
        if (c is not None and c[0] == ns.generation and c[1] == addr and c[2] == tos and c[3] is self.bound_dev
                and c[4] == self.laddr and not ns.pmtu and not ns.fnhe):
            rt: OutRoute | int = c[5]
            ttl = c[6]
        else:
            rt = self.route(addr, tos)
            ttl = ns.default_ttl()
        if isinstance(rt, int):
            return rt
        if rt.type == "broadcast" and addr >> 28 != 14 and not self.broadcast:
            return EACCES    # udp_sendmsg: RTCF_BROADCAST without SO_BROADCAST
        if self.wmem_alloc >= self.sndbuf:
            return EAGAIN    # sock_alloc_send_pskb: no room; a blocking sender waits for on_writable
        src = self.laddr or rt.src
        ip = IPv4(src, addr, IPPROTO_UDP, Udp(self.lport, port, data), ttl, tos)
        length = 28 + len(data) if data.__class__ is bytes else ip.wire_len()
        hooks = ns.hooks
        if length <= rt.mtu and rt.type == "unicast":
            ip.flags = IP_DF   # IP_PMTUDISC_WANT: DF while the datagram fits the path MTU
            ns.ip_id = (ns.ip_id + 1) & 0xFFFF
            ip.id = ns.ip_id
            if not hooks and self.sk_task is None:
                # ip_local_out's own first steps for this datagram (an IP ID given; not ICMP) and
                # its test for the output fast path, done here (as TcpSocket's transmit): one call
                # fewer a datagram
                world = ns.world
                if not world.tracer.on and world.fastpath and not ns.xfrm.spd_out:
                    ns.tx_owner = self
                    try:
                        sent = ns._output_fast(ip, rt, None, length)
                    finally:
                        ns.tx_owner = None
                    if sent:
                        ns.mib.udp["OutDatagrams"] += 1   # udp_send_skb
                        return 0
        # skb->sk's metadata for `-m owner` and net_cls (owner_meta): none without an OUTPUT hook
        # or a task's classid
        meta = self.table.owner_meta(self) if "OUTPUT" in hooks or self.sk_task is not None else None
        ns.tx_owner = self      # skb->sk while the datagram goes down the stack
        try:
            err = ns.ip_local_out(ip, rt, meta, length)
        finally:
            ns.tx_owner = None
        if not err:
            ns.mib.udp["OutDatagrams"] += 1   # udp_send_skb
        return err

    def deliver(self, ip: IPv4, dev: Any) -> None:
        udp: Udp = ip.payload  # type: ignore[assignment]   # udp_rcv hands over UDP datagrams only
        if self.raddr is not None and (ip.src != self.raddr or udp.sport != self.rport):
            return
        data = udp.payload if isinstance(udp.payload, bytes) else udp.payload.encode()  # type: ignore[attr-defined]
        self.ns.mib.udp["InDatagrams"] += 1   # udp_recvmsg: the application reads it
        self.rx_ifindex = dev.ifindex if dev is not None else 0
        if self.on_recv is not None:
            self.on_recv(data, ip.src, udp.sport)
        else:
            self.rxq.append((data, ip.src, udp.sport))

    def set_encap(self, encap_type: int) -> int:
        """setsockopt(SOL_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP) on a bound socket: ESP arriving on its port
        goes to xfrm (udp_lib_setsockopt → setup_udp_tunnel_sock with xfrm4_udp_encap_rcv)."""
        if encap_type != UDP_ENCAP_ESPINUDP or not self.lport:
            return EINVAL
        self.encap_type = encap_type
        self.ns.udp_encap[self.lport] = esp_udp_encap_rcv
        self.ns.config_changed()
        return 0

    def err(self, errno_: int, hard: bool) -> None:
        """udp_err: report only hard errors on a connected socket unless IP_RECVERR."""
        if not self.recverr and (not hard or self.raddr is None):
            return
        self.error = errno_
        if self.on_error is not None:
            self.on_error(errno_)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.table.udp.get(self.lport) is self:
                del self.table.udp[self.lport]
            if self.encap_type and self.ns.udp_encap.get(self.lport) is esp_udp_encap_rcv:
                del self.ns.udp_encap[self.lport]
                self.ns.config_changed()


class PingSocket(SockCgroupData):
    """What `ping` holds: sends echo requests, hears replies and errors for its id."""

    uid = 0   # the owner (-m owner): every netplex command runs as root
    gid = 0

    def __init__(self, table: SocketTable, ident: int) -> None:
        self.table = table
        self.ns = table.ns
        self.ident = ident
        self.on_reply: Callable[[IPv4, Icmp], None] | None = None
        self.on_error: Callable[[IPv4, Icmp], None] | None = None
        self.oif: Any = None     # the device the last echo was bound to (ping -I DEV: SO_BINDTODEVICE)
        self.tos = 0             # and its TOS (ping -Q): the flow a redirect is checked against
        table.ping[ident] = self

    def send(self, dst: int, seq: int, payload: bytes, ttl: int | None = None, tos: int = 0,
             oif: Any = None, src: int | None = None) -> int:
        self.oif, self.tos = oif, tos
        ns = self.ns
        rt = ns.ip_route_output(dst, oif, src, 0, tos)
        if isinstance(rt, int):
            return rt
        icmp = Icmp(ICMP_ECHO, 0, self.ident, seq, payload)
        ip = IPv4(rt.src, dst, IPPROTO_ICMP, icmp, ttl=ttl if ttl is not None else ns.default_ttl(), tos=tos)
        length = ip.wire_len()     # measured once: ip_local_out and the device reuse it
        if rt.type == "unicast" and length <= rt.mtu:
            ip.flags = IP_DF
        # owner_meta's answer without the call when it is None (no OUTPUT hook, no task: no classid)
        meta = self.table.owner_meta(self) if "OUTPUT" in ns.hooks or self.sk_task is not None else None
        return ns.ip_local_out(ip, rt, meta, length)

    def close(self) -> None:
        if self.table.ping.get(self.ident) is self:
            del self.table.ping[self.ident]


class SocketTable:
    """All sockets of a namespace, by protocol and port."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.udp: dict[int, UdpSocket] = {}
        self.ping: dict[int, PingSocket] = {}
        self.tcp_listen: dict[int, Any] = {}
        self.tcp_conns: dict[tuple[int, int, int, int], Any] = {}
        self.raw: list[RawSocket] = []               # raw_v4_hashinfo
        self.ptype_all: list[PacketSocket] = ns.ptype_all   # the namespace's AF_PACKET taps
        # the taps each device (ifindex) sees: those bound to it or to every device, in ptype_all's order
        # (dev->ptype_all plus the global list, as __netif_receive_skb_core walks them); emptied whenever a
        # tap is added, removed or bound (af_packet.py), rebuilt for a device on its next frame
        self.ptype_dev: dict[int, list[PacketSocket]] = {}
        self.packet_origin: PacketSocket | None = None   # the packet socket sending right now

    def owner_meta(self, sk: Any) -> Any:
        """The metadata a socket's packet starts with: its owner, for `-m owner`
        (skb->sk). Built only while OUTPUT has netfilter hooks, so it costs
        nothing otherwise. Every netplex socket belongs to root (uid 0, gid 0),
        as every command runs as root. A socket with a net_cls classid always
        gets one: tc's cgroup classifier reads it from skb->sk."""
        if "OUTPUT" not in self.ns.hooks and not sk.sk_cgrp_classid:
            return None
        from netplex.stack.skb import SkbMeta

        m = SkbMeta()
        m.local_socket = sk
        return m

    def ephemeral_port(self, proto: str) -> int:
        lo, hi = (int(x) for x in self.ns.sysctl.values["net.ipv4.ip_local_port_range"].split())
        used = self.udp if proto == "udp" else {k[1] for k in self.tcp_conns} | set(self.tcp_listen)
        rng = self.ns.world.rng
        for _ in range(64):
            p = rng.randint(lo, hi)
            if p not in used:
                return p
        for p in range(lo, hi + 1):
            if p not in used:
                return p
        raise OSError(EADDRINUSE, "no free port")

    def udp_socket(self) -> UdpSocket:
        return UdpSocket(self)

    def tcp_socket(self) -> TcpSocket:
        """socket(AF_INET, SOCK_STREAM): what a program opens (the twin's daemons get the real one)."""
        return TcpSocket(self)

    def ping_socket(self, ident: int) -> PingSocket:
        return PingSocket(self, ident)

    def raw_socket(self, protocol: int) -> RawSocket:
        """socket(AF_INET, SOCK_RAW, protocol)."""
        return RawSocket(self, protocol)

    def packet_socket(self, type_: int, protocol: int) -> PacketSocket:
        """socket(AF_PACKET, type_, htons(protocol)): SOCK_RAW or SOCK_DGRAM."""
        return PacketSocket(self, type_, protocol)

    def udp_lookup(self, ip: IPv4) -> UdpSocket | None:
        udp: Udp = ip.payload  # type: ignore[assignment]
        sk = self.udp.get(udp.dport)
        if sk is None:
            return None
        if sk.laddr and sk.laddr != ip.dst:
            return None
        return sk

    def ping_rcv(self, ip: IPv4, icmp: Icmp, iif: Any = None) -> None:
        """ping_rcv → ping_lookup: the socket of the echo's id, unless it is bound to a device
        (`ping -I DEV`) other than the one the reply came in by (`iif`, inet_iif)."""
        sk = self.ping.get(icmp.id)
        if sk is not None and sk.on_reply is not None and (sk.oif is None or iif is None or sk.oif is iif):
            sk.on_reply(ip, icmp)

    def icmp_error_rcv(self, ip: IPv4, icmp: Icmp, dev: Any = None) -> None:
        """icmp_unreach / icmp_redirect → the protocol's err handler for the socket that sent the
        quoted packet. A redirect (arriving on `dev`) goes to __ip_do_redirect with the socket's flow
        (ipv4_sk_redirect: ping_err, __udp4_lib_err; tcp_v4_err's do_redirect); ping also reports it
        (EREMOTEIO, what ping prints), UDP and TCP sockets see no error."""
        q = quoted_header(icmp)
        if q is None:
            return
        src, dst, proto, sport, dport, echo_id = q
        redirect = icmp.type == ICMP_REDIRECT and dev is not None
        if proto == IPPROTO_ICMP:
            sk = self.ping.get(echo_id)
            if sk is not None:
                if redirect:
                    self.ns.ip_do_redirect(dev, ip, icmp, sk.oif, 0, sk.tos)
                if sk.on_error is not None:
                    sk.on_error(ip, icmp)
            return
        err, hard = icmp_to_errno(icmp)
        if proto == IPPROTO_UDP:
            usk = self.udp.get(sport)
            if usk is not None:
                if redirect:
                    self.ns.ip_do_redirect(dev, ip, icmp, usk.bound_dev, 0, 0)
                else:
                    usk.err(err, hard)
        elif proto == IPPROTO_TCP:
            tsk = self.tcp_conns.get((src, sport, dst, dport))
            if tsk is not None:
                if redirect:
                    self.ns.ip_do_redirect(dev, ip, icmp, None, 0, tsk.tos)
                else:
                    tsk.icmp_error(err, hard)

