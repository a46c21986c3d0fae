"""GRE (RFC 2784) with the key and sequence number extensions (RFC 2890).

    C(0x8000) . K(0x2000) S(0x1000) reserved0 | version (3) | protocol type (16)
    [checksum (16) | reserved1 (16)]   when C
    [key (32)]                         when K
    [sequence number (32)]             when S

The checksum covers the GRE header and its payload (RFC 2784 §2.5). Linux's
ip_gre carries IPv4 (protocol 0x0800) on `gre` devices and whole Ethernet
frames (0x6558, Transparent Ethernet Bridging) on `gretap` devices.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .checksum import inet_checksum
from .registry import ETHERTYPES

__all__ = ["ETH_P_TEB", "GRE_CSUM", "GRE_KEY", "GRE_SEQ", "Gre", "gre_hlen"]

GRE_CSUM = 0x8000
GRE_KEY = 0x2000
GRE_SEQ = 0x1000
ETH_P_TEB = 0x6558

_W = struct.Struct("!HH")


def gre_hlen(flags: int) -> int:
    """gre_calc_hlen: the header's length for these flags."""
    n = 4
    if flags & GRE_CSUM:
        n += 4
    if flags & GRE_KEY:
        n += 4
    if flags & GRE_SEQ:
        n += 4
    return n


@dataclass(slots=True)
class Gre:
    """A GRE header and its payload (an IPv4 or Ethernet object, or bytes).

    ``flags`` holds the C, K and S bits; ``key`` and ``seq`` are used when
    their bit is set; the checksum is computed on encode.
    """

    proto: int
    payload: object = b""
    flags: int = 0
    key: int = 0
    seq: int = 0

    def encode(self) -> bytes:
        p = self.payload
        body = bytes(p) if isinstance(p, (bytes, bytearray)) else p.encode()  # type: ignore[attr-defined]
        f = self.flags & (GRE_CSUM | GRE_KEY | GRE_SEQ)
        opt = b""
        if f & GRE_KEY:
            opt += (self.key & 0xFFFFFFFF).to_bytes(4, "big")
        if f & GRE_SEQ:
            opt += (self.seq & 0xFFFFFFFF).to_bytes(4, "big")
        head = _W.pack(f, self.proto)
        if f & GRE_CSUM:
            whole = head + b"\x00\x00\x00\x00" + opt + body
            csum = inet_checksum(whole)
            return head + csum.to_bytes(2, "big") + b"\x00\x00" + opt + body
        return head + opt + body

    @classmethod
    def decode(cls, data: bytes) -> Gre:
        if len(data) < 4:
            raise ValueError(f"truncated GRE header ({len(data)} bytes)")
        f, proto = _W.unpack_from(data)
        if f & 0x7:
            raise ValueError(f"GRE version {f & 7} is not supported")
        off = 4
        if f & GRE_CSUM:
            off += 4
        key = seq = 0
        if f & GRE_KEY:
            key = int.from_bytes(data[off:off + 4], "big")
            off += 4
        if f & GRE_SEQ:
            seq = int.from_bytes(data[off:off + 4], "big")
            off += 4
        if len(data) < off:
            raise ValueError("truncated GRE options")
        raw = data[off:]
        payload: object = raw
        layer = ETHERTYPES.get(proto)
        if proto == ETH_P_TEB:
            from .ethernet import Ethernet

            payload = Ethernet.decode(bytes(raw))
        elif layer is not None:
            payload = layer.decode(raw)  # type: ignore[attr-defined]
        return cls(proto, payload, f & (GRE_CSUM | GRE_KEY | GRE_SEQ), key, seq)

    def wire_len(self) -> int:
        p = self.payload
        n = len(p) if p.__class__ is bytes or isinstance(p, bytearray) else p.wire_len()  # type: ignore[attr-defined]
        return gre_hlen(self.flags) + n

    def copy(self) -> Gre:
        return Gre(self.proto, self.payload, self.flags, self.key, self.seq)


def verify(data: bytes) -> bool:
    """True when a GRE packet's checksum (if it has one) is right."""
    if len(data) < 4 or not data[0] & 0x80:
        return True
    return inet_checksum(data) == 0
