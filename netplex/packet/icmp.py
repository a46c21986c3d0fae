"""ICMP for IPv4 (RFC 792), with the next-hop MTU of RFC 1191 §4 and the
error quoting rule of RFC 1812 §4.3.2.3 as Linux's icmp_send applies it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .checksum import inet_checksum

__all__ = [
    "ICMP_DEST_UNREACH", "ICMP_ECHO", "ICMP_ECHOREPLY", "ICMP_PARAMETERPROB",
    "ICMP_REDIRECT", "ICMP_SOURCE_QUENCH", "ICMP_TIME_EXCEEDED", "ICMP_TIMESTAMP",
    "ICMP_TIMESTAMPREPLY", "ICMP_INFO_REQUEST", "ICMP_INFO_REPLY", "ICMP_ADDRESS",
    "ICMP_ADDRESSREPLY",
    "ICMP_NET_UNREACH", "ICMP_HOST_UNREACH", "ICMP_PROT_UNREACH", "ICMP_PORT_UNREACH",
    "ICMP_FRAG_NEEDED", "ICMP_SR_FAILED", "ICMP_NET_UNKNOWN", "ICMP_HOST_UNKNOWN",
    "ICMP_HOST_ISOLATED", "ICMP_NET_ANO", "ICMP_HOST_ANO", "ICMP_NET_UNR_TOS",
    "ICMP_HOST_UNR_TOS", "ICMP_PKT_FILTERED", "ICMP_PREC_VIOLATION", "ICMP_PREC_CUTOFF",
    "ICMP_REDIR_NET", "ICMP_REDIR_HOST", "ICMP_REDIR_NETTOS", "ICMP_REDIR_HOSTTOS",
    "ICMP_EXC_TTL", "ICMP_EXC_FRAGTIME",
    "ICMP_ERROR_ROOM", "Icmp",
]

# Types (include/uapi/linux/icmp.h names).
ICMP_ECHOREPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_SOURCE_QUENCH = 4
ICMP_REDIRECT = 5
ICMP_ECHO = 8
ICMP_TIME_EXCEEDED = 11
ICMP_PARAMETERPROB = 12
ICMP_TIMESTAMP = 13
ICMP_TIMESTAMPREPLY = 14
ICMP_INFO_REQUEST = 15
ICMP_INFO_REPLY = 16
ICMP_ADDRESS = 17
ICMP_ADDRESSREPLY = 18

# Codes for ICMP_DEST_UNREACH.
ICMP_NET_UNREACH = 0
ICMP_HOST_UNREACH = 1
ICMP_PROT_UNREACH = 2
ICMP_PORT_UNREACH = 3
ICMP_FRAG_NEEDED = 4
ICMP_SR_FAILED = 5
ICMP_NET_UNKNOWN = 6
ICMP_HOST_UNKNOWN = 7
ICMP_HOST_ISOLATED = 8
ICMP_NET_ANO = 9
ICMP_HOST_ANO = 10
ICMP_NET_UNR_TOS = 11
ICMP_HOST_UNR_TOS = 12
ICMP_PKT_FILTERED = 13
ICMP_PREC_VIOLATION = 14
ICMP_PREC_CUTOFF = 15
# Codes for ICMP_REDIRECT.
ICMP_REDIR_NET = 0
ICMP_REDIR_HOST = 1
ICMP_REDIR_NETTOS = 2
ICMP_REDIR_HOSTTOS = 3
# Codes for ICMP_TIME_EXCEEDED.
ICMP_EXC_TTL = 0
ICMP_EXC_FRAGTIME = 1

#: Types whose rest-of-header is identifier + sequence number (RFC 792, RFC 950).
_ID_SEQ_TYPES = frozenset((0, 8, 13, 14, 15, 16, 17, 18))

#: Bytes of the offending datagram an error quotes: icmp_send caps the whole
#: ICMP error packet at 576 bytes, less a 20-byte IP and an 8-byte ICMP header.
ICMP_ERROR_ROOM = 576 - 20 - 8

_HDR = struct.Struct("!BBHI")


@dataclass(slots=True)
class Icmp:
    """An ICMP message.  For echo-like types (0, 8, 13-18) the 4 bytes after
    the checksum are ``id`` and ``seq``; for the others they are ``rest``
    (the next-hop MTU in the low 16 bits for frag-needed, the gateway address
    for a redirect, the pointer in the top byte for a parameter problem)."""

    type: int
    code: int
    id: int = 0
    seq: int = 0
    payload: bytes = b""
    rest: int = 0

    def encode(self) -> bytes:
        t = self.type
        word = (self.id << 16) | self.seq if t in _ID_SEQ_TYPES else self.rest
        msg = _HDR.pack(t, self.code, 0, word) + self.payload
        csum = inet_checksum(msg)
        return msg[:2] + csum.to_bytes(2, "big") + msg[4:]

    @classmethod
    def decode(cls, data: bytes) -> Icmp:
        if len(data) < 8:
            raise ValueError(f"truncated ICMP header ({len(data)} bytes)")
        t, code, _csum, word = _HDR.unpack_from(data)
        if t in _ID_SEQ_TYPES:
            return cls(t, code, word >> 16, word & 0xFFFF, bytes(data[8:]))
        return cls(t, code, 0, 0, bytes(data[8:]), word)

    def wire_len(self) -> int:
        return 8 + len(self.payload)

    def copy(self) -> Icmp:
        return Icmp(self.type, self.code, self.id, self.seq, self.payload, self.rest)

    @classmethod
    def error(cls, type: int, code: int, original: bytes | object, rest: int = 0,
              room: int = ICMP_ERROR_ROOM) -> Icmp:
        """An ICMP error quoting ``original`` (the offending IP datagram, as
        bytes or as a header object with ``encode()``) the way icmp_send does:
        the IP header and as much of the rest as fits in ``room`` bytes
        (576 - 20 - 8 by default; the caller lowers it for IP options in the
        reply or a route MTU below 576)."""
        data = original if isinstance(original, (bytes, bytearray)) else original.encode()  # type: ignore[attr-defined]
        return cls(type, code, 0, 0, bytes(data[:room]), rest)
