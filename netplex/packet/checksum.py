"""The Internet checksum (RFC 1071, with RFC 1624's note on the -0 result)
and the TCP/UDP pseudo-header (RFC 768, RFC 9293 §3.1).

The ones' complement sum of 16-bit big-endian words equals the whole buffer,
read as one big-endian integer, modulo 0xFFFF (because 2**16 == 1 mod 0xFFFF);
``int.from_bytes`` and one big-integer remainder are both C loops, so a
1500-byte packet costs a couple of microseconds with no Python-level loop.
"""
from __future__ import annotations

import struct

__all__ = ["inet_checksum", "pseudo_header", "transport_checksum"]

_PSEUDO = struct.Struct("!IIBBH")


def inet_checksum(data: bytes) -> int:
    """RFC 1071 checksum of ``data`` (odd length is padded with a zero byte).

    Over a buffer that already holds a correct checksum the result is 0.
    """
    s = int.from_bytes(data, "big")
    if len(data) & 1:
        s <<= 8
    if not s:
        return 0xFFFF  # the sum of all-zero words is +0, whose complement is -0
    s %= 0xFFFF
    # A non-zero sum congruent to 0 is 0xFFFF (-0) in ones' complement.
    return 0xFFFF - s if s else 0


def pseudo_header(src: int, dst: int, proto: int, length: int) -> bytes:
    """The 12-byte IPv4 pseudo-header that TCP and UDP checksums cover."""
    return _PSEUDO.pack(src, dst, 0, proto, length)


def transport_checksum(src: int, dst: int, proto: int, segment: bytes) -> int:
    """Checksum of pseudo-header + ``segment`` without concatenating them.

    The pseudo-header's words sum (mod 0xFFFF) to src + dst + proto + length,
    since a 32-bit address is congruent to the sum of its two halves.
    """
    n = len(segment)
    s = int.from_bytes(segment, "big")
    if n & 1:
        s <<= 8
    s = (s + src + dst + proto + n) % 0xFFFF
    # proto is non-zero, so the sum is never +0: a zero remainder means -0.
    return 0xFFFF - s if s else 0
