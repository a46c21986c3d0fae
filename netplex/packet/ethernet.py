"""Ethernet II framing (RFC 894, IEEE 802.3 §3.2) with IEEE 802.1Q VLAN tags
and 802.1ad (QinQ) service tags.

Frames are not padded to the 60-byte minimum: a veth does not pad, and what
netplex captures is what the sender handed to the device.  Decoding accepts
trailing padding; the network layer trims it (IPv4 by its total length).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from .ipv4 import IPv4
from .registry import ETHERTYPES, Payload
from .udp import Udp

__all__ = [
    "ETH_HLEN",
    "ETH_P_8021AD",
    "ETH_P_8021Q",
    "ETH_P_ARP",
    "ETH_P_IP",
    "ETH_P_IPV6",
    "VLAN_HLEN",
    "Dot1Q",
    "Ethernet",
]

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_IPV6 = 0x86DD

ETH_HLEN = 14
VLAN_HLEN = 4

_TAG = struct.Struct("!HH")
_TYPE = struct.Struct("!H")


@dataclass(slots=True)
class Dot1Q:
    """One VLAN tag: TPID then TCI (PCP:3, DEI:1, VID:12)."""

    vid: int
    pcp: int = 0
    dei: int = 0
    tpid: int = ETH_P_8021Q

    def encode(self) -> bytes:
        return _TAG.pack(self.tpid, (self.pcp << 13) | (self.dei << 12) | self.vid)


@dataclass(slots=True)
class Ethernet:
    """An Ethernet frame.  ``type`` is the inner EtherType (after any tags);
    ``vlans`` lists the tags outermost first."""

    dst: bytes
    src: bytes
    type: int
    payload: Payload
    vlans: tuple[Dot1Q, ...] = ()
    # What the stack attaches to a frame on its way (Linux's sk_buff fields:
    # mark, conntrack, priority, …). Never on the wire; not part of equality.
    meta: Any = field(default=None, compare=False, repr=False)

    def encode(self) -> bytes:
        p = self.payload
        body = p if isinstance(p, (bytes, bytearray)) else p.encode()  # type: ignore[attr-defined]
        if self.vlans:
            tags = b"".join([t.encode() for t in self.vlans])
            return self.dst + self.src + tags + _TYPE.pack(self.type) + body
        return self.dst + self.src + _TYPE.pack(self.type) + body

    @classmethod
    def decode(cls, data: bytes) -> Ethernet:
        if len(data) < ETH_HLEN:
            raise ValueError(f"truncated Ethernet header ({len(data)} bytes)")
        etype = (data[12] << 8) | data[13]
        off = ETH_HLEN
        vlans: tuple[Dot1Q, ...] = ()
        if etype == ETH_P_8021Q or etype == ETH_P_8021AD:
            tags = []
            while etype == ETH_P_8021Q or etype == ETH_P_8021AD:
                if len(data) < off + VLAN_HLEN:
                    raise ValueError("truncated 802.1Q tag")
                tci, inner = _TAG.unpack_from(data, off)
                tags.append(Dot1Q(tci & 0xFFF, tci >> 13, (tci >> 12) & 1, etype))
                etype = inner
                off += VLAN_HLEN
            vlans = tuple(tags)
        payload: object = data[off:]
        layer = ETHERTYPES.get(etype)
        if layer is not None:
            payload = layer.decode(payload)  # type: ignore[attr-defined]
        return cls(data[0:6], data[6:12], etype, payload, vlans)

    def wire_len(self) -> int:
        p = self.payload
        if type(p) is IPv4:
            u = p.payload
            if type(u) is Udp and not p.options and type(b := u.payload) is bytes:
                n = 28 + len(b)     # the usual datagram: IPv4.wire_len and Udp.wire_len, inline
            else:
                n = p.wire_len()
        else:
            n = len(p) if p.__class__ is bytes or isinstance(p, bytearray) else p.wire_len()  # type: ignore[attr-defined]
        v = self.vlans
        return (ETH_HLEN + VLAN_HLEN * len(v) + n) if v else ETH_HLEN + n

    def copy(self) -> Ethernet:
        """A copy for flooding: new Ethernet header and new network header
        (IPv4, ARP: their own shallow ``copy()``); the transport layer and any
        bytes are shared until one side replaces them."""
        p = self.payload
        if type(p) is IPv4:     # the usual payload: IPv4.copy, inline
            p = IPv4(p.src, p.dst, p.proto, p.payload, p.ttl, p.tos, p.id, p.flags, p.frag, p.options)
        else:
            cp = getattr(p, "copy", None)
            if cp is not None and not isinstance(p, bytearray):
                p = cp()
        m = self.meta
        if m is not None:
            m = m.copy()
        return Ethernet(self.dst, self.src, self.type, p, self.vlans, m)
