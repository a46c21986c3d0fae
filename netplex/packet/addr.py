"""Address conversions: dotted-quad IPv4 (RFC 791 §3.2), CIDR prefixes
(RFC 4632 §3.1) and IEEE 802 MAC addresses.

Inside netplex an IPv4 address is a plain ``int`` and a MAC address is a
6-byte ``bytes``; strings exist only at the edges (commands, files, output).
"""
from __future__ import annotations

import socket

__all__ = [
    "BROADCAST_MAC",
    "bytes_to_mac",
    "int_to_ip",
    "ip_to_int",
    "mac_to_bytes",
    "mask_to_prefix",
    "prefix_to_mask",
]

BROADCAST_MAC = b"\xff" * 6

_HEX = frozenset("0123456789abcdefABCDEF")


def ip_to_int(s: str) -> int:
    """``"10.0.0.1"`` -> ``0x0A000001``; strict dotted quad, else ValueError."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, s), "big")
    except (OSError, TypeError, UnicodeError):
        raise ValueError(f"invalid IPv4 address: {s!r}") from None


def int_to_ip(n: int) -> str:
    """``0x0A000001`` -> ``"10.0.0.1"``."""
    return f"{(n >> 24) & 255}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def mac_to_bytes(s: str) -> bytes:
    """``"aa:bb:cc:dd:ee:ff"`` -> 6 bytes; anything else raises ValueError."""
    parts = s.split(":") if isinstance(s, str) else ()
    if len(parts) != 6 or any(len(p) != 2 or not _HEX.issuperset(p) for p in parts):
        raise ValueError(f"invalid MAC address: {s!r}")
    return bytes.fromhex("".join(parts))


def bytes_to_mac(b: bytes) -> str:
    """6 bytes -> ``"aa:bb:cc:dd:ee:ff"`` (lowercase, as iproute2 prints)."""
    return b.hex(":")


def prefix_to_mask(plen: int) -> int:
    """24 -> ``0xFFFFFF00``."""
    if not 0 <= plen <= 32:
        raise ValueError(f"invalid prefix length: {plen!r}")
    return (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF


def mask_to_prefix(mask: int) -> int:
    """``0xFFFFFF00`` -> 24; a non-contiguous mask raises ValueError."""
    if not 0 <= mask <= 0xFFFFFFFF:
        raise ValueError(f"invalid netmask: {mask!r}")
    host = ~mask & 0xFFFFFFFF
    if host & (host + 1):
        raise ValueError(f"non-contiguous netmask: {int_to_ip(mask)}")
    return 32 - host.bit_length()
