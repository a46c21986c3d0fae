"""MPLS label stack encoding (RFC 3032 §2.1), EtherType 0x8847 (MPLS unicast).

Each label stack entry is 32 bits: label (20), traffic class (3, RFC 5462),
bottom of stack S (1), TTL (8).  ``Mpls.entries`` lists (label, tc, ttl) top
first; the S bit is written on the last entry.  What follows the bottom entry
is decoded as IPv4 when its first nibble is 4 (as Linux's mpls_egress guesses
for an implicit-null or explicit-null pop), else kept as bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .ipv4 import IPv4

__all__ = ["ETH_P_MPLS_UC", "MPLS_LABEL_IMPLNULL", "MPLS_LABEL_IPV4NULL", "MPLS_LABEL_FIRST_UNRESERVED",
           "MPLS_HLEN", "Mpls"]

ETH_P_MPLS_UC = 0x8847
MPLS_LABEL_IPV4NULL = 0          # RFC 3032 §2.1: explicit null
MPLS_LABEL_IMPLNULL = 3          # RFC 3032 §2.1: implicit null (penultimate hop popping)
MPLS_LABEL_FIRST_UNRESERVED = 16
MPLS_HLEN = 4

_LSE = struct.Struct("!I")


@dataclass(slots=True)
class Mpls:
    """A label stack and the packet it carries."""

    entries: list[tuple[int, int, int]]     # (label, tc, ttl), top of stack first
    payload: object

    def encode(self) -> bytes:
        n = len(self.entries)
        out = b"".join([_LSE.pack((label << 12) | (tc << 9) | ((i == n - 1) << 8) | ttl)
                        for i, (label, tc, ttl) in enumerate(self.entries)])
        p = self.payload
        return out + (p if isinstance(p, (bytes, bytearray)) else p.encode())  # type: ignore[attr-defined]

    @classmethod
    def decode(cls, data: bytes) -> Mpls:
        entries: list[tuple[int, int, int]] = []
        off = 0
        while True:
            if len(data) < off + MPLS_HLEN:
                raise ValueError("truncated MPLS label stack entry")
            (v,) = _LSE.unpack_from(data, off)
            off += MPLS_HLEN
            entries.append((v >> 12, (v >> 9) & 7, v & 0xFF))
            if v & 0x100:
                break
        rest = data[off:]
        payload: object = IPv4.decode(rest) if rest and rest[0] >> 4 == 4 else rest
        return cls(entries, payload)

    def wire_len(self) -> int:
        p = self.payload
        n = len(p) if isinstance(p, (bytes, bytearray)) else p.wire_len()  # type: ignore[attr-defined]
        return MPLS_HLEN * len(self.entries) + n

    def copy(self) -> Mpls:
        p = self.payload
        return Mpls(list(self.entries), p.copy() if isinstance(p, IPv4) else p)
