"""ARP for IPv4 over Ethernet (RFC 826)."""
from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["ARPHRD_ETHER", "ARPOP_REPLY", "ARPOP_REQUEST", "Arp"]

ARPOP_REQUEST = 1
ARPOP_REPLY = 2
ARPHRD_ETHER = 1

_ARP = struct.Struct("!HHBBH6sI6sI")


@dataclass(slots=True)
class Arp:
    """An ARP packet; protocol addresses are ints, hardware addresses bytes."""

    op: int
    sha: bytes
    spa: int
    tha: bytes
    tpa: int
    hwtype: int = ARPHRD_ETHER
    ptype: int = 0x0800

    def encode(self) -> bytes:
        return _ARP.pack(self.hwtype, self.ptype, 6, 4, self.op,
                         self.sha, self.spa, self.tha, self.tpa)

    @classmethod
    def decode(cls, data: bytes) -> Arp:
        if len(data) < 28:
            raise ValueError(f"truncated ARP packet ({len(data)} bytes)")
        hw, pt, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(data)
        if hlen != 6 or plen != 4:
            raise ValueError(f"unsupported ARP address sizes {hlen}/{plen}")
        return cls(op, sha, spa, tha, tpa, hw, pt)

    def wire_len(self) -> int:
        return 28

    def copy(self) -> Arp:
        return Arp(self.op, self.sha, self.spa, self.tha, self.tpa, self.hwtype, self.ptype)
