"""ESP, the IP Encapsulating Security Payload (RFC 4303 §2), as it is on the wire.

    Security Parameters Index (32) | Sequence Number (32)
    IV (per algorithm) | ciphertext (payload, padding, pad length, next header) | ICV

Only the SPI and the sequence number are clear text; what follows them is
`data` here (IV, ciphertext and ICV as one opaque string), which the xfrm
layer (`netplex.stack.xfrm.esp`) seals and opens with the SA's keys.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["IPPROTO_AH", "IPPROTO_ESP", "Esp"]

IPPROTO_ESP = 50
IPPROTO_AH = 51

_HDR = struct.Struct("!II")


@dataclass(slots=True)
class Esp:
    """An ESP packet: SPI and sequence number, then the sealed rest."""

    spi: int
    seq: int
    data: bytes = b""

    def encode(self) -> bytes:
        return _HDR.pack(self.spi, self.seq) + self.data

    @classmethod
    def decode(cls, data: bytes) -> Esp:
        if len(data) < 8:
            raise ValueError("ESP header truncated")
        spi, seq = _HDR.unpack_from(data)
        return cls(spi, seq, bytes(data[8:]))

    def wire_len(self) -> int:
        return 8 + len(self.data)

    def copy(self) -> Esp:
        return Esp(self.spi, self.seq, self.data)
