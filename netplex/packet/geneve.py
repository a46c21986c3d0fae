"""Geneve (RFC 8926 §3.4): an 8-byte base header, variable options, then the inner frame.

    Ver (2) | Opt Len (6, in 4-byte words) | O (1) | C (1) | Rsvd (6) | Protocol Type (16)
    Virtual Network Identifier (24) | Reserved (8)
    [options: Opt Len × 4 bytes]

IANA's UDP port is 6081; Open vSwitch carries whole Ethernet frames in it
(protocol type 0x6558, Transparent Ethernet Bridging). netplex sends no
options; received options are kept as bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .ethernet import Ethernet

__all__ = ["GENEVE_HLEN", "GENEVE_PORT", "Geneve"]

GENEVE_HLEN = 8
GENEVE_PORT = 6081
ETH_P_TEB = 0x6558

_HDR = struct.Struct("!BBHI")


@dataclass(slots=True)
class Geneve:
    """A Geneve header and its inner frame (an ``Ethernet`` object, or bytes)."""

    vni: int
    payload: object = b""
    proto: int = ETH_P_TEB
    options: bytes = b""
    flags: int = 0            # the O (0x80) and C (0x40) bits

    def encode(self) -> bytes:
        p = self.payload
        body = p if isinstance(p, (bytes, bytearray)) else p.encode()  # type: ignore[attr-defined]
        opt_words = len(self.options) // 4
        return (_HDR.pack(opt_words & 0x3F, self.flags & 0xC0, self.proto, (self.vni & 0xFFFFFF) << 8)
                + self.options + bytes(body))

    @classmethod
    def decode(cls, data: bytes) -> Geneve:
        if len(data) < GENEVE_HLEN:
            raise ValueError(f"truncated Geneve header ({len(data)} bytes)")
        b0, b1, proto, w = _HDR.unpack_from(data)
        if b0 >> 6:
            raise ValueError(f"Geneve version {b0 >> 6} (RFC 8926 knows version 0)")
        olen = (b0 & 0x3F) * 4
        if len(data) < GENEVE_HLEN + olen:
            raise ValueError("truncated Geneve options")
        rest = data[GENEVE_HLEN + olen:]
        inner: object = Ethernet.decode(bytes(rest)) if proto == ETH_P_TEB and len(rest) >= 14 else rest
        return cls(w >> 8, inner, proto, bytes(data[GENEVE_HLEN:GENEVE_HLEN + olen]), b1 & 0xC0)

    def wire_len(self) -> int:
        p = self.payload
        body = len(p) if p.__class__ is bytes or isinstance(p, bytearray) else p.wire_len()  # type: ignore[attr-defined]
        return GENEVE_HLEN + len(self.options) + body

    def copy(self) -> Geneve:
        return Geneve(self.vni, self.payload, self.proto, self.options, self.flags)
