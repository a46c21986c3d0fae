"""AH, the IP Authentication Header (RFC 4302 §2), as it is on the wire.

    Next Header (8) | Payload Len (8) | Reserved (16)
    Security Parameters Index (32)
    Sequence Number (32)
    Integrity Check Value (variable, padded to 4 or 8 bytes) ...

Payload Len is the header's length in 32-bit words minus 2. The payload
after the header is clear text; the xfrm layer (`netplex.stack.xfrm.path`)
computes and checks the ICV over the whole IP packet.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["AH_HDR_LEN", "Ah"]

AH_HDR_LEN = 12          # sizeof(struct ip_auth_hdr) without auth_data
_HDR = struct.Struct("!BBHII")


@dataclass(slots=True)
class Ah:
    """An AH header: next header, SPI, sequence number, the ICV field (ICV and padding), the payload."""

    nexthdr: int
    spi: int
    seq: int
    icv: bytes
    payload: bytes = b""

    def header(self) -> bytes:
        return _HDR.pack(self.nexthdr, (AH_HDR_LEN + len(self.icv)) // 4 - 2, 0, self.spi, self.seq) + self.icv

    def encode(self) -> bytes:
        return self.header() + self.payload

    @classmethod
    def decode(cls, data: bytes) -> Ah:
        if len(data) < AH_HDR_LEN:
            raise ValueError("AH header truncated")
        nh, plen, _res, spi, seq = _HDR.unpack_from(data)
        hlen = (plen + 2) * 4
        if hlen < AH_HDR_LEN or len(data) < hlen:
            raise ValueError("AH header length beyond the packet")
        return cls(nh, spi, seq, bytes(data[AH_HDR_LEN:hlen]), bytes(data[hlen:]))

    def wire_len(self) -> int:
        return AH_HDR_LEN + len(self.icv) + len(self.payload)
