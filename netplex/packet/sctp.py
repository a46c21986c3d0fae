"""SCTP packets (RFC 9260): the common header, its CRC32c checksum, and the chunks an S1AP association uses.

    source port (16) | destination port (16) | verification tag (32) | checksum (32, CRC32c)
    chunks: type (8) | flags (8) | length (16, without padding) | value, padded to 4 octets

Chunks produced and read (RFC 9260 §3.3): DATA (0), INIT (1), INIT ACK (2),
SACK (3), HEARTBEAT (4), HEARTBEAT ACK (5), ABORT (6), SHUTDOWN (7),
SHUTDOWN ACK (8), ERROR (9), COOKIE ECHO (10), COOKIE ACK (11), SHUTDOWN
COMPLETE (14). Others are kept as raw chunks. The checksum is CRC32c
(RFC 9260 Appendix A), stored as Linux's sctp_compute_cksum stores it
(little-endian of the complemented CRC); it is computed by the `crc32c` package's C
code (SSE4.2/ARMv8 instructions where the CPU has them) when it is installed, else by
the table-driven pure-Python loop below, which gives the same value. Parameters of INIT / INIT ACK are
TLVs (State Cookie 7, IPv4 Address 5, ...), kept as (type, value) pairs.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from netplex.errors import NetplexError

try:
    from crc32c import crc32c as _c_crc32c  # PyPI crc32c: C, with the CPU's CRC32 instruction
    _HAVE_C_CRC32C = True
except ImportError:   # the pure-Python table below
    _HAVE_C_CRC32C = False

__all__ = [
    "IPPROTO_SCTP", "SCTP_DATA", "SCTP_INIT", "SCTP_INIT_ACK", "SCTP_SACK", "SCTP_HEARTBEAT",
    "SCTP_HEARTBEAT_ACK", "SCTP_ABORT", "SCTP_SHUTDOWN", "SCTP_SHUTDOWN_ACK", "SCTP_ERROR", "SCTP_COOKIE_ECHO",
    "SCTP_COOKIE_ACK", "SCTP_SHUTDOWN_COMPLETE", "PARAM_STATE_COOKIE", "PARAM_IPV4", "Chunk", "Sctp", "SctpError",
    "Data", "Init", "Sack", "crc32c", "crc32c_py",
]

IPPROTO_SCTP = 132
SCTP_DATA, SCTP_INIT, SCTP_INIT_ACK, SCTP_SACK = 0, 1, 2, 3
SCTP_HEARTBEAT, SCTP_HEARTBEAT_ACK, SCTP_ABORT, SCTP_SHUTDOWN = 4, 5, 6, 7
SCTP_SHUTDOWN_ACK, SCTP_ERROR, SCTP_COOKIE_ECHO, SCTP_COOKIE_ACK = 8, 9, 10, 11
SCTP_SHUTDOWN_COMPLETE = 14
PARAM_IPV4, PARAM_STATE_COOKIE = 5, 7
DATA_END, DATA_BEGIN, DATA_UNORDERED = 1, 2, 4     # DATA chunk flags E, B, U

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c_py(data: bytes) -> int:
    """CRC32c (Castagnoli, reflected polynomial 0x82F63B78) of `data`, complemented as RFC 9260 Appendix A."""
    crc = 0xFFFFFFFF
    tab = _CRC_TABLE
    for b in data:
        crc = tab[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


crc32c: Callable[[bytes], int] = _c_crc32c if _HAVE_C_CRC32C else crc32c_py


class SctpError(NetplexError, ValueError):
    """Bytes that are not an SCTP packet (a bad checksum, a truncated chunk)."""


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


@dataclass(slots=True)
class Chunk:
    """One chunk as on the wire: type, flags, value (without padding)."""

    type: int
    flags: int = 0
    value: bytes = b""

    def encode(self) -> bytes:
        return struct.pack("!BBH", self.type, self.flags, 4 + len(self.value)) + self.value + bytes(_pad(len(self.value)))


@dataclass(slots=True)
class Data:
    """A DATA chunk's value (§3.3.1): TSN, stream, stream sequence number, payload protocol id, user data."""

    tsn: int
    stream: int
    ssn: int
    ppid: int
    payload: bytes
    flags: int = DATA_BEGIN | DATA_END

    def chunk(self) -> Chunk:
        return Chunk(SCTP_DATA, self.flags, struct.pack("!IHHI", self.tsn, self.stream, self.ssn, self.ppid) + self.payload)

    @classmethod
    def of(cls, c: Chunk) -> Data:
        if len(c.value) < 13:
            raise SctpError("DATA chunk without user data")
        tsn, stream, ssn, ppid = struct.unpack_from("!IHHI", c.value)
        return cls(tsn, stream, ssn, ppid, c.value[12:], c.flags)


@dataclass(slots=True)
class Init:
    """An INIT or INIT ACK chunk's value (§3.3.2, §3.3.3) with its parameters."""

    tag: int
    a_rwnd: int
    outbound: int
    inbound: int
    tsn: int
    params: list[tuple[int, bytes]] = field(default_factory=list)

    def chunk(self, ack: bool = False) -> Chunk:
        v = struct.pack("!IIHHI", self.tag, self.a_rwnd, self.outbound, self.inbound, self.tsn)
        for t, p in self.params:
            v += struct.pack("!HH", t, 4 + len(p)) + p + bytes(_pad(len(p)))
        return Chunk(SCTP_INIT_ACK if ack else SCTP_INIT, 0, v)

    @classmethod
    def of(cls, c: Chunk) -> Init:
        if len(c.value) < 16:
            raise SctpError("INIT chunk too short")
        tag, rwnd, os_, mis, tsn = struct.unpack_from("!IIHHI", c.value)
        if tag == 0 or os_ == 0 or mis == 0:
            raise SctpError("INIT with a zero initiate tag or stream count")   # §3.3.2: shall not be 0
        params, off = [], 16
        while off + 4 <= len(c.value):
            t, n = struct.unpack_from("!HH", c.value, off)
            if n < 4 or off + n > len(c.value):
                raise SctpError("INIT parameter overruns the chunk")
            params.append((t, c.value[off + 4:off + n]))
            off += n + _pad(n)
        return cls(tag, rwnd, os_, mis, tsn, params)

    def param(self, type_: int) -> bytes | None:
        return next((v for t, v in self.params if t == type_), None)


@dataclass(slots=True)
class Sack:
    """A SACK chunk's value (§3.3.4): cumulative TSN ack, a_rwnd; no gap blocks, duplicate TSNs counted."""

    cum_tsn: int
    a_rwnd: int
    gaps: list[tuple[int, int]] = field(default_factory=list)

    def chunk(self) -> Chunk:
        v = struct.pack("!IIHH", self.cum_tsn, self.a_rwnd, len(self.gaps), 0)
        for s, e in self.gaps:
            v += struct.pack("!HH", s, e)
        return Chunk(SCTP_SACK, 0, v)

    @classmethod
    def of(cls, c: Chunk) -> Sack:
        if len(c.value) < 12:
            raise SctpError("SACK chunk too short")
        cum, rwnd, ngap, ndup = struct.unpack_from("!IIHH", c.value)
        if len(c.value) < 12 + 4 * (ngap + ndup):
            raise SctpError("SACK gap blocks overrun the chunk")
        return cls(cum, rwnd, [struct.unpack_from("!HH", c.value, 12 + 4 * i) for i in range(ngap)])


@dataclass(slots=True)
class Sctp:
    """One SCTP packet."""

    sport: int
    dport: int
    tag: int
    chunks: list[Chunk] = field(default_factory=list)

    def encode(self) -> bytes:
        body = b"".join(c.encode() for c in self.chunks)
        head = struct.pack("!HHI", self.sport, self.dport, self.tag)
        return head + crc32c(head + b"\0\0\0\0" + body).to_bytes(4, "little") + body

    @classmethod
    def decode(cls, data: bytes) -> Sctp:
        """The packet; SctpError when it is short, its checksum wrong (§6.8: discard) or a chunk overruns it."""
        if len(data) < 12:
            raise SctpError("SCTP packet shorter than its common header")
        if crc32c(data[:8] + b"\0\0\0\0" + data[12:]).to_bytes(4, "little") != data[8:12]:
            raise SctpError("SCTP checksum mismatch")
        sport, dport, tag = struct.unpack_from("!HHI", data)
        chunks, off = [], 12
        while off + 4 <= len(data):
            t, f, n = struct.unpack_from("!BBH", data, off)
            if n < 4 or off + n > len(data):
                raise SctpError(f"SCTP chunk of type {t} overruns the packet")
            chunks.append(Chunk(t, f, bytes(data[off + 4:off + n])))
            off += n + _pad(n)
        if not chunks:
            raise SctpError("SCTP packet without a chunk")
        return cls(sport, dport, tag, chunks)
