"""UDP (RFC 768): header, pseudo-header checksum (0 is sent as 0xFFFF) and
the port registry that binds payload decoders (VXLAN, RFC 7348, on 4789).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from .checksum import transport_checksum

__all__ = ["UDP_PORTS", "Udp", "verify"]

#: Destination port -> payload class with ``decode(data)``; empty until a
#: protocol over UDP binds itself (e.g. ``UDP_PORTS[4789] = Vxlan``).
UDP_PORTS: dict[int, type] = {}

_HDR = struct.Struct("!HHHH")


@dataclass(slots=True)
class Udp:
    """A UDP datagram.  ``payload`` is bytes, or an object with ``encode()``
    and ``wire_len()`` (an encapsulated frame)."""

    PSEUDO_HEADER: ClassVar[bool] = True

    sport: int
    dport: int
    payload: bytes | object = b""

    def encode(self, src: int = 0, dst: int = 0) -> bytes:
        p = self.payload
        body = p if isinstance(p, (bytes, bytearray)) else p.encode()  # type: ignore[attr-defined]
        ulen = 8 + len(body)
        seg = _HDR.pack(self.sport, self.dport, ulen, 0) + body
        csum = transport_checksum(src, dst, 17, seg) or 0xFFFF
        return seg[:6] + csum.to_bytes(2, "big") + seg[8:]

    @classmethod
    def decode(cls, data: bytes, src: int | None = None, dst: int | None = None) -> Udp:
        """Parse a datagram; ``src``/``dst`` are accepted for symmetry with
        ``encode`` (checksums are checked by ``verify``, not here)."""
        if len(data) < 8:
            raise ValueError(f"truncated UDP header ({len(data)} bytes)")
        sport, dport, ulen, _csum = _HDR.unpack_from(data)
        payload: object = data[8:ulen] if ulen >= 8 else data[8:]
        layer = UDP_PORTS.get(dport)
        if layer is not None:
            try:
                payload = layer.decode(payload)  # type: ignore[attr-defined]
            except ValueError:
                pass   # not what the port's protocol expects: the payload stays bytes
        return cls(sport, dport, payload)

    def wire_len(self) -> int:
        p = self.payload
        # bytes first and by exact class: this runs several times per packet-hop
        return 8 + (len(p) if p.__class__ is bytes or isinstance(p, bytearray) else p.wire_len())  # type: ignore[attr-defined]

    def copy(self) -> Udp:
        return Udp(self.sport, self.dport, self.payload)


def verify(data: bytes, src: int, dst: int) -> bool:
    """True if the UDP checksum of ``data`` is correct (or absent: 0)."""
    if len(data) < 8:
        return False
    if data[6] == 0 and data[7] == 0:
        return True
    return transport_checksum(src, dst, 17, data) == 0
