"""AF_INET SOCK_RAW sockets (raw(7), net/ipv4/raw.c).

A raw socket for protocol N receives a copy of every datagram of protocol N
delivered to this host (`raw_local_deliver`, called by ip_local_deliver
before the protocol's own handler), IP header included, filtered by the
socket's bound address, connected peer and bound device (raw_v4_match). It
sends datagrams whose payload it writes; the kernel adds the IP header
(source chosen by routing, the protocol number, TTL), unless IP_HDRINCL is on
(always for IPPROTO_RAW), when the caller writes the header too and the
kernel fills only a zero id, the total length and the checksum
(raw_send_hdrinc). IPPROTO_RAW sockets only send. A raw ICMP socket's ICMP_FILTER drops the
ICMP types whose bits are set (raw_icmp.c icmp_filter). Sends go through the
OUTPUT hook and routing as every local packet does.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netplex.packet import IP_PROTOS
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPPROTO_ICMP, IPv4
from netplex.stack.skb import SockCgroupData

if TYPE_CHECKING:
    from netplex.stack.device import NetDevice
    from netplex.stack.sockets import SocketTable

__all__ = ["IPPROTO_RAW", "RawSocket", "raw_local_deliver"]

IPPROTO_RAW = 255
LIMITED_BCAST = 0xFFFFFFFF


class RawSocket(SockCgroupData):
    """socket(AF_INET, SOCK_RAW, protocol)."""

    uid = 0   # the owner (-m owner): every netplex command runs as root
    gid = 0

    def __init__(self, table: SocketTable, protocol: int) -> None:
        self.table = table
        self.ns = table.ns
        self.protocol = protocol
        self.hdrincl = protocol == IPPROTO_RAW      # IP_HDRINCL; implied by IPPROTO_RAW
        self.laddr = 0
        self.raddr = 0
        self.bound_dev: NetDevice | None = None     # SO_BINDTODEVICE
        self.broadcast = False                      # SO_BROADCAST
        self.icmp_filter = 0                        # ICMP_FILTER: bit N set drops ICMP type N (raw ICMP only)
        self.on_recv: Callable[[bytes, int], None] | None = None
        self.rxq: list[tuple[bytes, int]] = []
        self.closed = False
        if protocol != IPPROTO_RAW:
            table.raw.append(self)

    def bind(self, addr: int) -> int:
        if addr and not self.ns.is_local_addr(addr):
            return errno.EADDRNOTAVAIL
        self.laddr = addr
        return 0

    def connect(self, addr: int) -> int:
        self.raddr = addr
        return 0

    def sendto(self, data: bytes, addr: int | None = None, tos: int = 0) -> int:
        """raw_sendmsg: 0, or the errno the caller sees."""
        if self.closed:
            return errno.EBADF
        if self.hdrincl:
            try:
                ip = IPv4.decode(data)
            except ValueError:
                return errno.EINVAL
            dst = ip.dst
            src = ip.src or None
        else:
            dst = addr if addr is not None else self.raddr
            src = self.laddr or None
            if not dst and addr is None:
                return errno.EDESTADDRREQ
        rt = self.ns.ip_route_output(dst, self.bound_dev, src, tos=tos)
        if isinstance(rt, int):
            return rt
        if rt.type == "broadcast" and dst >> 28 != 14 and not self.broadcast:
            return errno.EACCES
        if not self.hdrincl:
            layer = IP_PROTOS.get(self.protocol)
            payload: Any = data
            if layer is not None:
                try:
                    payload = layer.decode(data)  # type: ignore[attr-defined]
                except ValueError:
                    payload = data
            ip = IPv4(src or rt.src, dst, self.protocol, payload, ttl=self.ns.default_ttl(), tos=tos)
        return self.ns.ip_local_out(ip, rt, self.table.owner_meta(self))

    def match(self, ip: IPv4, dev: Any) -> bool:
        """raw_v4_match, then icmp_filter for a raw ICMP socket."""
        if not (ip.proto == self.protocol and (not self.laddr or self.laddr == ip.dst)
                and (not self.raddr or self.raddr == ip.src)
                and (self.bound_dev is None or self.bound_dev is dev)):
            return False
        if self.icmp_filter and ip.proto == IPPROTO_ICMP:
            p = ip.payload
            itype = p.type if isinstance(p, Icmp) else (p[0] if isinstance(p, bytes) and p else 0)
            return not (itype < 32 and self.icmp_filter >> itype & 1)
        return True

    def deliver(self, ip: IPv4) -> None:
        data = ip.encode()
        if self.on_recv is not None:
            self.on_recv(data, ip.src)
        else:
            self.rxq.append((data, ip.src))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self in self.table.raw:
                self.table.raw.remove(self)


def raw_local_deliver(table: SocketTable, ip: IPv4, dev: Any) -> bool:
    """raw_local_deliver: a copy to each matching raw socket; True when one took it."""
    hit = False
    for sk in list(table.raw):
        if sk.match(ip, dev):
            sk.deliver(ip)
            hit = True
    return hit
