"""IPv4 (RFC 791), header checksum (RFC 1071) and fragmentation as Linux's
ip_do_fragment does it (RFC 791 §3.2 "Fragmentation and reassembly").
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import cast

from .checksum import inet_checksum
from .registry import IP_PROTOS, Payload

__all__ = [
    "IPPROTO_GRE",
    "IPPROTO_ICMP",
    "IPPROTO_TCP",
    "IPPROTO_UDP",
    "IP_DF",
    "IP_MF",
    "IPv4",
    "fragment",
    "verify",
]

IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_GRE = 47

# Bits of the 3-bit flags field (the high bit is reserved, "evil").
IP_DF = 2
IP_MF = 1

_HDR = struct.Struct("!BBHHHBBHII")


def _payload_bytes(pkt: IPv4) -> bytes:
    p = pkt.payload
    if isinstance(p, (bytes, bytearray)):
        return bytes(p)
    if getattr(p, "PSEUDO_HEADER", False):  # TCP, UDP: checksum covers src/dst
        return cast(bytes, p.encode(pkt.src, pkt.dst))  # type: ignore[attr-defined]
    return cast(bytes, p.encode())  # type: ignore[attr-defined]


@dataclass(slots=True)
class IPv4:
    """An IPv4 header and its payload (a transport header object, or bytes for
    unknown protocols and for fragments).  ``frag`` is in 8-byte units;
    ``options`` are raw bytes, zero-padded to 4 bytes on encode."""

    src: int
    dst: int
    proto: int
    payload: Payload
    ttl: int = 64
    tos: int = 0
    id: int = 0
    flags: int = 0
    frag: int = 0
    options: bytes = b""

    def _header(self, total: int, csum: bool = True) -> bytes:
        """The header's bytes for a datagram of `total` bytes; without `csum`, the checksum
        field is left zero (for a reader that does not look at it)."""
        opts = self.options
        if len(opts) & 3:
            opts = opts + b"\x00" * (-len(opts) & 3)
        ihl = 5 + (len(opts) >> 2)
        ff = (self.flags << 13) | self.frag
        hdr = _HDR.pack(0x40 | ihl, self.tos, total, self.id, ff, self.ttl,
                        self.proto, 0, self.src, self.dst) + opts
        if not csum:
            return hdr
        return hdr[:10] + inet_checksum(hdr).to_bytes(2, "big") + hdr[12:]

    def encode(self) -> bytes:
        body = _payload_bytes(self)
        hlen = 20 + ((len(self.options) + 3) & ~3)
        return self._header(hlen + len(body)) + body

    @classmethod
    def decode(cls, data: bytes) -> IPv4:
        if len(data) < 20:
            raise ValueError(f"truncated IPv4 header ({len(data)} bytes)")
        vihl, tos, total, ident, ff, ttl, proto, _csum, src, dst = _HDR.unpack_from(data)
        if vihl >> 4 != 4:
            raise ValueError(f"not IPv4 (version {vihl >> 4})")
        ihl = (vihl & 15) << 2
        if ihl < 20 or total < ihl or len(data) < total:
            raise ValueError(f"bad IPv4 lengths (ihl {ihl}, total {total}, have {len(data)})")
        flags = ff >> 13
        frag = ff & 0x1FFF
        payload: object = data[ihl:total]
        if not (flags & IP_MF or frag):
            layer = IP_PROTOS.get(proto)
            if layer is not None:
                try:
                    payload = layer.decode(payload)  # type: ignore[attr-defined]
                except ValueError:
                    pass   # a payload its decoder cannot parse stays bytes, as on the wire
        return cls(src, dst, proto, payload, ttl, tos, ident, flags, frag, data[20:ihl])

    def wire_len(self) -> int:
        p = self.payload
        n = len(p) if p.__class__ is bytes or isinstance(p, bytearray) else p.wire_len()  # type: ignore[attr-defined]
        o = self.options
        return (20 + ((len(o) + 3) & ~3) + n) if o else 20 + n

    def copy(self) -> IPv4:
        """Shallow copy: a new header sharing the payload object."""
        return IPv4(self.src, self.dst, self.proto, self.payload, self.ttl,
                    self.tos, self.id, self.flags, self.frag, self.options)


def verify(data: bytes) -> bool:
    """True if ``data`` starts with a well-formed IPv4 header whose checksum
    is correct (what ip_rcv checks before anything else)."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return False
    ihl = (data[0] & 15) << 2
    total = (data[2] << 8) | data[3]
    if ihl < 20 or total < ihl or len(data) < total:
        return False
    return inet_checksum(data[:ihl]) == 0


def _options_fragment(opts: bytes) -> bytes:
    """Options for the second and later fragments, as ip_options_fragment
    does: options whose copied flag (RFC 791, type bit 0x80) is clear are
    overwritten with NOPs, so every fragment keeps the same header length."""
    out = bytearray(opts)
    i, n = 0, len(out)
    while i < n:
        kind = out[i]
        if kind == 0:  # end of option list
            break
        if kind == 1:  # no-operation
            i += 1
            continue
        if i + 1 >= n:
            break
        olen = out[i + 1]
        if olen < 2 or olen > n - i:
            break
        if not kind & 0x80:
            out[i:i + olen] = b"\x01" * olen
        i += olen
    return bytes(out)


def fragment(pkt: IPv4, mtu: int, keep_df: bool = False) -> list[IPv4]:
    """Split ``pkt`` into fragments that fit ``mtu`` (bytes of IP packet).

    Mirrors ip_do_fragment / ip_frag_next: each fragment but the last carries
    a multiple of 8 payload bytes; MF is set on all but the last (and on the
    last too when ``pkt`` was itself a non-final fragment); offsets continue
    from ``pkt.frag``; the ID is kept; DF is cleared unless ``keep_df`` (the
    kernel's IPSKB_FRAG_PMTU case, e.g. a netfilter-defragmented packet being
    refragmented); the first fragment keeps all options, the others keep
    only the copied ones (same header length, as Linux).  The caller decides
    whether DF forbids fragmenting (and sends ICMP frag-needed instead).  A packet that fits is
    returned as is, in a one-element list.  Fragment payloads are bytes.
    """
    body = _payload_bytes(pkt)
    opts = pkt.options
    if len(opts) & 3:
        opts = opts + b"\x00" * (-len(opts) & 3)
    hlen = 20 + len(opts)
    if hlen + len(body) <= mtu:
        return [pkt]
    room = mtu - hlen
    if room < 8:
        raise ValueError(f"MTU {mtu} too small to fragment a {hlen}-byte header")
    later_opts = _options_fragment(opts)
    df = pkt.flags & IP_DF if keep_df else 0
    not_last = pkt.flags & IP_MF
    base = pkt.frag << 3
    out: list[IPv4] = []
    pos, left = 0, len(body)
    while left > 0:
        n = left
        if n > room:
            n = room & ~7
        left -= n
        flags = df | (IP_MF if (left > 0 or not_last) else 0)
        out.append(IPv4(pkt.src, pkt.dst, pkt.proto, body[pos:pos + n], pkt.ttl,
                        pkt.tos, pkt.id, flags, (base + pos) >> 3,
                        opts if pos == 0 else later_opts))
        pos += n
    return out
