"""TCP header (RFC 9293 §3.1) with the options Linux sends: MSS (RFC 9293
§3.2), window scale and timestamps (RFC 7323), SACK-permitted and SACK
blocks (RFC 2018).  Options are laid out in the order and alignment of
Linux's tcp_options_write, so our SYN is byte-for-byte a Linux SYN.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from .checksum import transport_checksum

__all__ = [
    "ACK", "CWR", "ECE", "FIN", "PSH", "RST", "SYN", "URG",
    "TCPOPT_EOL", "TCPOPT_NOP", "TCPOPT_MSS", "TCPOPT_WINDOW", "TCPOPT_SACK_PERM",
    "TCPOPT_SACK", "TCPOPT_TIMESTAMP",
    "Tcp", "verify",
]

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10
URG = 0x20
ECE = 0x40
CWR = 0x80

TCPOPT_EOL = 0
TCPOPT_NOP = 1
TCPOPT_MSS = 2
TCPOPT_WINDOW = 3
TCPOPT_SACK_PERM = 4
TCPOPT_SACK = 5
TCPOPT_TIMESTAMP = 8

_HDR = struct.Struct("!HHIIHHHH")
_U32 = struct.Struct("!I")
_U32X2 = struct.Struct("!II")


@dataclass(slots=True)
class Tcp:
    """A TCP segment.  Option fields are ``None``/empty when absent;
    ``timestamps`` is (TSval, TSecr); ``sack`` holds (left, right) edges;
    ``extra_options`` keeps any other options as raw bytes (written last,
    padded with EOL to a 4-byte boundary)."""

    PSEUDO_HEADER: ClassVar[bool] = True

    sport: int
    dport: int
    seq: int = 0
    ack: int = 0
    flags: int = 0
    window: int = 0
    payload: bytes = b""
    urgent: int = 0
    mss: int | None = None
    wscale: int | None = None
    sack_perm: bool = False
    timestamps: tuple[int, int] | None = None
    sack: tuple[tuple[int, int], ...] = ()
    extra_options: bytes = b""

    def options_len(self) -> int:
        """Bytes of options on the wire, computed without encoding."""
        n = 0
        if self.mss is not None:
            n += 4
        if self.timestamps is not None:
            n += 12
        elif self.sack_perm:
            n += 4
        if self.wscale is not None:
            n += 4
        if self.sack:
            n += 4 + 8 * len(self.sack)
        if self.extra_options:
            n += (len(self.extra_options) + 3) & ~3
        return n

    def _options(self) -> bytes:
        # The order and packing of tcp_options_write (net/ipv4/tcp_output.c).
        out = b""
        if self.mss is not None:
            out += b"\x02\x04" + self.mss.to_bytes(2, "big")
        ts = self.timestamps
        if ts is not None:
            # SACK_PERM rides in the two bytes that would otherwise be NOPs.
            out += (b"\x04\x02\x08\x0a" if self.sack_perm else b"\x01\x01\x08\x0a")
            out += _U32X2.pack(ts[0], ts[1])
        elif self.sack_perm:
            out += b"\x01\x01\x04\x02"
        if self.wscale is not None:
            out += bytes((1, 3, 3, self.wscale))
        if self.sack:
            out += bytes((1, 1, 5, 2 + 8 * len(self.sack)))
            out += b"".join([_U32X2.pack(left, right) for left, right in self.sack])
        extra = self.extra_options
        if extra:
            out += extra + b"\x00" * (-len(extra) & 3)
        return out

    def encode(self, src: int = 0, dst: int = 0) -> bytes:
        opts = self._options() if (
            self.mss is not None or self.timestamps is not None or self.sack_perm
            or self.wscale is not None or self.sack or self.extra_options) else b""
        doff = 5 + (len(opts) >> 2)
        seg = _HDR.pack(self.sport, self.dport, self.seq, self.ack,
                        (doff << 12) | (self.flags & 0xFFF), self.window, 0,
                        self.urgent) + opts + self.payload
        csum = transport_checksum(src, dst, 6, seg)
        return seg[:16] + csum.to_bytes(2, "big") + seg[18:]

    @classmethod
    def decode(cls, data: bytes, src: int | None = None, dst: int | None = None) -> Tcp:
        """Parse a segment; ``src``/``dst`` are accepted for symmetry with
        ``encode`` (checksums are checked by ``verify``, not here)."""
        if len(data) < 20:
            raise ValueError(f"truncated TCP header ({len(data)} bytes)")
        sport, dport, seq, ack, offflags, window, _csum, urgent = _HDR.unpack_from(data)
        doff = (offflags >> 12) << 2
        if doff < 20 or doff > len(data):
            raise ValueError(f"bad TCP data offset {doff}")
        seg = cls(sport, dport, seq, ack, offflags & 0xFFF, window,
                  bytes(data[doff:]), urgent)
        if doff > 20:
            seg._parse_options(bytes(data[20:doff]))
        return seg

    def _parse_options(self, opts: bytes) -> None:
        extra = b""
        sack: list[tuple[int, int]] = []
        i, n = 0, len(opts)
        while i < n:
            kind = opts[i]
            if kind == TCPOPT_EOL:
                break
            if kind == TCPOPT_NOP:
                i += 1
                continue
            if i + 1 >= n or opts[i + 1] < 2 or i + opts[i + 1] > n:
                extra += opts[i:]  # malformed: keep the rest verbatim
                break
            olen = opts[i + 1]
            if kind == TCPOPT_MSS and olen == 4:
                self.mss = (opts[i + 2] << 8) | opts[i + 3]
            elif kind == TCPOPT_WINDOW and olen == 3:
                self.wscale = opts[i + 2]
            elif kind == TCPOPT_SACK_PERM and olen == 2:
                self.sack_perm = True
            elif kind == TCPOPT_TIMESTAMP and olen == 10:
                self.timestamps = _U32X2.unpack_from(opts, i + 2)
            elif kind == TCPOPT_SACK and olen > 2 and (olen - 2) % 8 == 0:
                for j in range(i + 2, i + olen, 8):
                    sack.append(_U32X2.unpack_from(opts, j))
            else:
                extra += opts[i:i + olen]
            i += olen
        if sack:
            self.sack = tuple(sack)
        if extra:
            self.extra_options = extra

    def wire_len(self) -> int:
        return 20 + self.options_len() + len(self.payload)

    def copy(self) -> Tcp:
        return Tcp(self.sport, self.dport, self.seq, self.ack, self.flags, self.window,
                   self.payload, self.urgent, self.mss, self.wscale, self.sack_perm,
                   self.timestamps, self.sack, self.extra_options)


def verify(data: bytes, src: int, dst: int) -> bool:
    """True if the TCP checksum of segment ``data`` is correct."""
    return len(data) >= 20 and transport_checksum(src, dst, 6, data) == 0
