"""VXLAN (RFC 7348 §5): an 8-byte header over UDP carrying a whole Ethernet frame.

    flags (8: the I bit 0x08) | reserved (24) | VNI (24) | reserved (8)

Linux's default destination port is 8472 (the pre-IANA value); IANA's is
4789. Both are bound in the layer graph so a capture decodes either way.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .ethernet import Ethernet

__all__ = ["VXLAN_FLAG_I", "VXLAN_HLEN", "VXLAN_PORT_IANA", "VXLAN_PORT_LINUX", "Vxlan"]

VXLAN_FLAG_I = 0x08
VXLAN_HLEN = 8
VXLAN_PORT_IANA = 4789
VXLAN_PORT_LINUX = 8472
# What encapsulation adds in front of the inner frame: outer IPv4 + UDP + VXLAN + outer Ethernet.
VXLAN_OVERHEAD = 20 + 8 + VXLAN_HLEN + 14

_HDR = struct.Struct("!II")


@dataclass(slots=True)
class Vxlan:
    """A VXLAN header and its inner frame (an ``Ethernet`` object, or bytes)."""

    vni: int
    payload: object = b""
    flags: int = VXLAN_FLAG_I

    def encode(self) -> bytes:
        p = self.payload
        body = p if isinstance(p, (bytes, bytearray)) else p.encode()  # type: ignore[attr-defined]
        return _HDR.pack(self.flags << 24, (self.vni & 0xFFFFFF) << 8) + bytes(body)

    @classmethod
    def decode(cls, data: bytes) -> Vxlan:
        if len(data) < VXLAN_HLEN:
            raise ValueError(f"truncated VXLAN header ({len(data)} bytes)")
        w0, w1 = _HDR.unpack_from(data)
        rest = data[VXLAN_HLEN:]
        inner: object = Ethernet.decode(bytes(rest)) if len(rest) >= 14 else rest
        return cls(w1 >> 8, inner, w0 >> 24)

    def wire_len(self) -> int:
        p = self.payload
        return VXLAN_HLEN + (len(p) if p.__class__ is bytes or isinstance(p, bytearray) else p.wire_len())  # type: ignore[attr-defined]

    def copy(self) -> Vxlan:
        return Vxlan(self.vni, self.payload, self.flags)
