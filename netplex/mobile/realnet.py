"""The EPC daemons on the kernel twin: the same programs over real sockets in a real network namespace.

A daemon of this package talks to its node only through the small part of the
simulated stack a userspace program sees (`ns.sockets.udp_socket()`,
`ns.sockets.packet_socket(...)`, `ns.sockets.tcp_socket()`, `ns.sockets.raw_socket(132)`, `sched.now`, timers, `world.seed`), as
httpx's transports let one client run over a mock or the network. This module
gives that same surface over real sockets (socket(2) AF_INET/SOCK_DGRAM,
AF_PACKET/SOCK_DGRAM: packet(7)) and a select(2) loop, so on the twin the
GTP-U encapsulation and decapsulation of `ran.Enodeb`, `gateways.Sgw` and
`gateways.Pgw` run unchanged in the nodes' namespaces and the UE's packets
cross the real kernel (veth, bridge, routing, ARP, MASQUERADE); the PGW's
SGi side is a real TUN device (`RealTun`: /dev/net/tun, TUNSETIFF).

It runs in the process `netplex.mobile.twin_daemon` starts in a node; nothing
here is used by the simulator.
"""
from __future__ import annotations

import fcntl
import heapq
import itertools
import os
import selectors
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.checksum import transport_checksum
from netplex.stack.af_packet import SockaddrLl

__all__ = ["RealNamespace", "RealUdp", "RealRaw", "RealPacket", "RealTcp", "RealTun", "complete_checksum"]

SOL_PACKET, PACKET_AUXDATA = 263, 8       # linux/if_packet.h
TP_STATUS_CSUMNOTREADY = 1 << 3           # the packet's L4 checksum is partial (CHECKSUM_PARTIAL)
_CSUM_AT = {6: 16, 17: 6}                 # TCP, UDP: where the checksum sits in the header
TUNSETIFF = 0x400454CA                    # linux/if_tun.h: _IOW('T', 202, int)
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000       # linux/if_tun.h


def complete_checksum(data: bytes) -> bytes:
    """Fill in the TCP/UDP checksum of an IPv4 packet the kernel handed over with it still partial
    (a veth passes CHECKSUM_PARTIAL packets on; a real NIC would have finished them on the wire)."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return data
    ihl, proto = (data[0] & 0x0F) * 4, data[9]
    at = _CSUM_AT.get(proto)
    if at is None or len(data) < ihl + at + 2 or int.from_bytes(data[6:8], "big") & 0x1FFF:
        return data
    seg = bytearray(data[ihl:])
    seg[at:at + 2] = b"\0\0"
    csum = transport_checksum(int.from_bytes(data[12:16], "big"), int.from_bytes(data[16:20], "big"), proto, bytes(seg))
    if proto == 17 and csum == 0:
        csum = 0xFFFF
    seg[at:at + 2] = csum.to_bytes(2, "big")
    return bytes(data[:ihl]) + bytes(seg)


class _Tracer:
    on = False


class _World:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.tracer = _Tracer()


class _Clock:
    """`sched` as a program sees it: `now` (ns since the daemon started) and timers."""

    def __init__(self) -> None:
        self._t0 = time.monotonic_ns()
        self._timers: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    @property
    def now(self) -> int:
        return time.monotonic_ns() - self._t0

    def at(self, when: int, fn: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), fn, args))

    def after(self, delay: int, fn: Callable[..., Any], *args: Any) -> None:
        self.at(self.now + delay, fn, *args)

    def due(self) -> float | None:
        """Seconds until the next timer (None: none), firing the ones that are due."""
        while self._timers and self._timers[0][0] <= self.now:
            _, _, fn, args = heapq.heappop(self._timers)
            fn(*args)
        return None if not self._timers else max(0.0, (self._timers[0][0] - self.now) / 1e9)


class RealUdp:
    """A UDP socket with the simulated `UdpSocket`'s calls (errno returns, `on_recv(data, src, sport)`)."""

    def __init__(self, ns: RealNamespace) -> None:
        self.ns = ns
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.on_recv: Callable[[bytes, int, int], None] | None = None
        ns.register(self.sock, self._ready)

    def bind(self, addr: int = 0, port: int = 0) -> int:
        try:
            self.sock.bind((int_to_ip(addr), port))
        except OSError as e:
            return e.errno or 1
        return 0

    def sendto(self, data: bytes, addr: int | None = None, port: int | None = None, tos: int = 0) -> int:
        try:
            self.sock.sendto(data, (int_to_ip(addr or 0), port or 0))
        except OSError as e:
            return e.errno or 1
        return 0

    def _ready(self) -> None:
        try:
            data, (src, sport) = self.sock.recvfrom(65535)
        except OSError:
            return
        if self.on_recv is not None:
            self.on_recv(data, ip_to_int(src), sport)

    def close(self) -> None:
        self.ns.unregister(self.sock)
        self.sock.close()


class RealRaw:
    """An AF_INET SOCK_RAW socket of one IP protocol with the simulated `RawSocket`'s calls
    (`bind`, `sendto(data, addr)`, `on_recv(packet with its IP header, src)`): SCTP for S1-MME."""

    def __init__(self, ns: RealNamespace, protocol: int) -> None:
        self.ns = ns
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, protocol)
        self.on_recv: Callable[[bytes, int], None] | None = None
        ns.register(self.sock, self._ready)

    def bind(self, addr: int = 0) -> int:
        try:
            self.sock.bind((int_to_ip(addr), 0))
        except OSError as e:
            return e.errno or 1
        return 0

    def sendto(self, data: bytes, addr: int | None = None, tos: int = 0) -> int:
        try:
            self.sock.sendto(data, (int_to_ip(addr or 0), 0))
        except OSError as e:
            return e.errno or 1
        return 0

    def _ready(self) -> None:
        try:
            data, (src, _) = self.sock.recvfrom(65535)
        except OSError:
            return
        if self.on_recv is not None:
            self.on_recv(data, ip_to_int(src))

    def close(self) -> None:
        self.ns.unregister(self.sock)
        self.sock.close()


class RealPacket:
    """An AF_PACKET SOCK_DGRAM socket with the simulated `PacketSocket`'s calls."""

    def __init__(self, ns: RealNamespace, protocol: int) -> None:
        self.ns = ns
        self.protocol = protocol
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(protocol))
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.on_recv: Callable[[bytes, SockaddrLl], None] | None = None
        ns.register(self.sock, self._ready)

    def bind(self, ifindex: int, protocol: int | None = None) -> int:
        try:
            self.sock.bind((socket.if_indextoname(ifindex), protocol or self.protocol))
        except OSError as e:
            return e.errno or 1
        return 0

    def sendto(self, data: bytes, ifindex: int = 0, dst_mac: bytes = b"\xff" * 6, protocol: int = 0) -> int:
        try:
            self.sock.sendto(data, (socket.if_indextoname(ifindex), protocol or self.protocol, 0, 0, dst_mac))
        except OSError as e:
            return e.errno or 1
        return 0

    def _ready(self) -> None:
        try:
            data, anc, _flags, addr = self.sock.recvmsg(65535, socket.CMSG_SPACE(20))
        except OSError:
            return
        for level, kind, aux in anc:   # struct tpacket_auxdata: tp_status first
            if level == SOL_PACKET and kind == PACKET_AUXDATA and int.from_bytes(aux[:4], sys.byteorder) & \
                    TP_STATUS_CSUMNOTREADY:
                data = complete_checksum(data)
        ifname, proto, pkttype, _hatype, mac = addr
        if self.on_recv is not None:
            self.on_recv(data, SockaddrLl(proto, socket.if_nametoindex(ifname), pkttype, mac))

    def close(self) -> None:
        self.ns.unregister(self.sock)
        self.sock.close()


class RealTun:
    """/dev/net/tun after TUNSETIFF IFF_TUN|IFF_NO_PI on `name`, with the simulated `TunFile`'s calls
    (Documentation/networking/tuntap.rst): each read(2) is one IP packet the kernel routed into the device."""

    def __init__(self, ns: RealNamespace, name: str) -> None:
        self.ns = ns
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI))
        except OSError:
            os.close(self.fd)
            raise
        self.on_recv: Callable[[bytes], None] | None = None
        ns.register(self.fd, self._ready)

    def write(self, data: bytes) -> int:
        try:
            os.write(self.fd, data)
        except OSError as e:
            return e.errno or 1
        return 0

    def _ready(self) -> None:
        try:
            data = os.read(self.fd, 65535)
        except OSError:
            return
        if self.on_recv is not None:
            self.on_recv(data)

    def close(self) -> None:
        self.ns.unregister(self.fd)
        os.close(self.fd)


class RealTcp:
    """A TCP socket with the simulated `TcpSocket`'s calls the Diameter peers use: `listen`/`on_accept`,
    `connect`/`on_connect`, `send`, `on_data(sk, data)`, `on_close`, `raddr`, `close`."""

    def __init__(self, ns: RealNamespace, sock: socket.socket | None = None, raddr: int = 0) -> None:
        self.ns = ns
        self.sock = sock
        self.raddr = raddr
        self.on_accept: Callable[[RealTcp], None] | None = None
        self.on_connect: Callable[[RealTcp], None] | None = None
        self.on_data: Callable[[RealTcp, bytes], None] | None = None
        self.on_close: Callable[[RealTcp], None] | None = None
        self.on_error: Callable[[RealTcp, int], None] | None = None
        if sock is not None:
            ns.register(sock, self._readable)

    def listen(self, port: int, addr: int = 0) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((int_to_ip(addr), port))
            sock.listen(64)
        except OSError as e:
            sock.close()
            return e.errno or 1
        self.sock = sock
        self.ns.register(sock, self._accept)
        return 0

    def _accept(self) -> None:
        assert self.sock is not None
        try:
            conn, (ip, _port) = self.sock.accept()
        except OSError:
            return
        child = RealTcp(self.ns, conn, ip_to_int(ip))
        if self.on_accept is not None:
            self.on_accept(child)

    def connect(self, addr: int, port: int, src: int | None = None) -> int:
        """A blocking connect (at most 3 s), then `on_connect` from the loop, as the simulator calls it."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(3)
        try:
            if src:
                sock.bind((int_to_ip(src), 0))
            sock.connect((int_to_ip(addr), port))
        except OSError as e:
            sock.close()
            return e.errno or 1
        sock.settimeout(None)
        self.sock, self.raddr = sock, addr
        self.ns.register(sock, self._readable)
        if self.on_connect is not None:
            self.ns.sched.after(0, self.on_connect, self)
        return 0

    def send(self, data: bytes) -> None:
        if self.sock is None:
            return
        try:
            self.sock.sendall(data)
        except OSError as e:
            if self.on_error is not None:
                self.on_error(self, e.errno or 1)

    def _readable(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.ns.unregister(self.sock)
            if self.on_close is not None:
                self.on_close(self)
            return
        if self.on_data is not None:
            self.on_data(self, data)

    def close(self) -> None:
        if self.sock is not None:
            self.ns.unregister(self.sock)
            self.sock.close()
            self.sock = None


class _Sockets:
    def __init__(self, ns: RealNamespace) -> None:
        self.ns = ns

    def tcp_socket(self) -> RealTcp:
        return RealTcp(self.ns)

    def udp_socket(self) -> RealUdp:
        return RealUdp(self.ns)

    def raw_socket(self, protocol: int) -> RealRaw:
        return RealRaw(self.ns, protocol)

    def packet_socket(self, type_: int, protocol: int) -> RealPacket:
        if type_ != socket.SOCK_DGRAM:
            raise ValueError("the twin's EPC daemons use SOCK_DGRAM packet sockets only")
        return RealPacket(self.ns, protocol)


class RealNamespace:
    """The namespace this process runs in, as a daemon sees it; `loop()` serves its sockets and timers."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.world = _World(seed)
        self.sched = _Clock()
        self.sockets = _Sockets(self)
        self._sel = selectors.DefaultSelector()
        self.trace_out = sys.stderr if os.environ.get("NETPLEX_MOBILE_TRACE") else None
        if self.trace_out is not None:
            self.world.tracer.on = True

    def register(self, sock: socket.socket | int, fn: Callable[[], None]) -> None:
        self._sel.register(sock, selectors.EVENT_READ, fn)

    def unregister(self, sock: socket.socket | int) -> None:
        try:
            self._sel.unregister(sock)
        except (KeyError, ValueError):
            pass

    def trace(self, stage: str, text: str, **fields: Any) -> None:
        if self.trace_out is not None:
            print(f"{self.name}: {text}", file=self.trace_out, flush=True)

    def loop(self, stop: Callable[[], bool]) -> None:
        while not stop():
            timeout = self.sched.due()
            for key, _ in self._sel.select(0.2 if timeout is None else min(timeout, 0.2)):
                key.data()
