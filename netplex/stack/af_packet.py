"""AF_PACKET sockets (packet(7), net/packet/af_packet.c): frames at the device.

A packet socket taps a namespace's devices: bound to an ifindex (or to all
devices, ifindex 0) and a protocol (ETH_P_ALL or one EtherType), it receives
a copy of each frame the device receives (packet_rcv from the ptype_all
taps in __netif_receive_skb_core, before a master's rx_handler such as the
bridge takes the frame; a socket for one EtherType sees a bridge port's
frames only if nothing consumed them) and, with ETH_P_ALL, each frame the
device sends (dev_queue_xmit_nit, PACKET_OUTGOING) — except its own. SOCK_RAW
reads and writes whole frames; SOCK_DGRAM reads the payload after the link
header and writes a payload that the kernel frames for a destination MAC.
A send goes straight to the device's queue (dev_queue_xmit), bypassing
routing and netfilter, which is how a DHCP client talks before it has an
address.

The taps live in `SocketTable.ptype_all`; the device's receive and transmit
paths test that list once and call `packet_taps` only when it is not empty,
which walks only the taps of that device (`SocketTable.ptype_dev`: a base
station with a hundred radios does not test three hundred sockets a frame).
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.registry import ETHERTYPES

if TYPE_CHECKING:
    from netplex.stack.device import NetDevice
    from netplex.stack.sockets import SocketTable

__all__ = ["ETH_P_ALL", "ETH_P_IP", "PACKET_BROADCAST", "PACKET_HOST", "PACKET_MULTICAST",
           "PACKET_OTHERHOST", "PACKET_OUTGOING", "SOCK_DGRAM", "SOCK_RAW", "PacketSocket", "SockaddrLl",
           "packet_taps"]

ETH_P_ALL = 0x0003
SOCK_DGRAM, SOCK_RAW = 2, 3
# sll_pkttype (linux/if_packet.h)
PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING = 0, 1, 2, 3, 4
BROADCAST_MAC = b"\xff" * 6


@dataclass(slots=True, frozen=True)
class SockaddrLl:
    """struct sockaddr_ll of a received frame: protocol, ifindex, packet type, source MAC."""

    protocol: int
    ifindex: int
    pkttype: int
    addr: bytes


class PacketSocket:
    """socket(AF_PACKET, SOCK_RAW | SOCK_DGRAM, htons(protocol))."""

    uid = 0
    gid = 0

    def __init__(self, table: SocketTable, type_: int, protocol: int) -> None:
        if type_ not in (SOCK_RAW, SOCK_DGRAM):
            raise ValueError(f"AF_PACKET socket type {type_}")
        self.table = table
        self.ns = table.ns
        self.type = type_
        self.protocol = protocol
        self.ifindex = 0
        self.on_recv: Callable[[bytes, SockaddrLl], None] | None = None
        self.rxq: list[tuple[bytes, SockaddrLl]] = []
        self.closed = False
        if protocol:
            table.ptype_all.append(self)
            table.ptype_dev.clear()

    def bind(self, ifindex: int, protocol: int | None = None) -> int:
        """bind(2) with a sockaddr_ll: ENODEV for an unknown ifindex."""
        if ifindex and ifindex not in self.ns.by_index:
            return errno.ENODEV
        self.ifindex = ifindex
        if protocol is not None:
            if self.protocol and not protocol:
                self.table.ptype_all.remove(self)
            elif protocol and not self.protocol:
                self.table.ptype_all.append(self)
            self.protocol = protocol
        self.table.ptype_dev.clear()
        return 0

    def sendto(self, data: bytes, ifindex: int = 0, dst_mac: bytes = BROADCAST_MAC, protocol: int = 0) -> int:
        """packet_sendmsg: frame `data` (SOCK_DGRAM) or send it as is (SOCK_RAW) on the device."""
        if self.closed:
            return errno.EBADF
        dev = self.ns.by_index.get(ifindex or self.ifindex)
        if dev is None:
            return errno.ENXIO
        if not dev.up:
            return errno.ENETDOWN
        if self.type == SOCK_RAW:
            try:
                frame = Ethernet.decode(data)
            except ValueError:
                return errno.EINVAL
        else:
            etype = protocol or self.protocol
            layer = ETHERTYPES.get(etype)
            payload: Any = data
            if layer is not None:
                try:
                    payload = layer.decode(data)  # type: ignore[attr-defined]
                except ValueError:
                    payload = data
            frame = Ethernet(dst_mac, dev.mac, etype, payload)
        frame.meta = None
        self.table.packet_origin = self
        try:
            dev.xmit(frame)
        finally:
            self.table.packet_origin = None
        return 0

    def wants(self, dev: NetDevice, frame: Ethernet, consumed: bool) -> bool:
        if self.ifindex and self.ifindex != dev.ifindex:
            return False
        if self.protocol == ETH_P_ALL:
            return True
        return not consumed and frame.type == self.protocol

    def deliver(self, dev: NetDevice, frame: Ethernet, pkttype: int) -> None:
        if self.type == SOCK_RAW:
            data = frame.encode()
        else:
            p = frame.payload
            data = bytes(p) if isinstance(p, (bytes, bytearray)) else p.encode()  # type: ignore[attr-defined]
        sll = SockaddrLl(frame.type, dev.ifindex, pkttype, frame.src)
        if self.on_recv is not None:
            self.on_recv(data, sll)
        else:
            self.rxq.append((data, sll))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self in self.table.ptype_all:
                self.table.ptype_all.remove(self)
                self.table.ptype_dev.clear()


def _pkttype(dev: NetDevice, frame: Ethernet) -> int:
    d = frame.dst
    if d == dev.mac:
        return PACKET_HOST
    if d == BROADCAST_MAC:
        return PACKET_BROADCAST
    if d[0] & 1:
        return PACKET_MULTICAST
    return PACKET_OTHERHOST


def packet_taps(table: SocketTable, dev: NetDevice, frame: Ethernet, outgoing: bool, consumed: bool = False) -> None:
    """The ptype_all taps for one frame on `dev` (received, or `outgoing`: dev_queue_xmit_nit)."""
    origin = table.packet_origin
    taps = table.ptype_dev.get(dev.ifindex)
    if taps is None:
        taps = table.ptype_dev[dev.ifindex] = [sk for sk in table.ptype_all if sk.ifindex in (0, dev.ifindex)]
    for sk in taps:
        if outgoing and (sk is origin or sk.protocol != ETH_P_ALL):
            continue
        if sk.wants(dev, frame, consumed):
            sk.deliver(dev, frame, PACKET_OUTGOING if outgoing else _pkttype(dev, frame))
