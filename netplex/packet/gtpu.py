"""GTPv1-U (3GPP TS 29.281): the user-plane tunnel header on UDP port 2152.

    flags (8): version 1 (3 bits) | PT 1 | spare | E | S | PN
    message type (8) | length (16: octets after the first 8) | TEID (32)
    [sequence (16) | N-PDU number (8) | next extension header type (8)]   when E, S or PN is set

A G-PDU (type 255) carries one user IP packet addressed by the receiver's
TEID; Echo Request/Response (1/2, §7.2) keep a path alive and carry the
Recovery IE (type 14) in the response; End Marker (254, §7.3.2) closes a
path during a handover; Error Indication (26, §7.3.1) answers a G-PDU for an
unknown TEID with the TEID Data I (16) and GTP-U Peer Address (133) IEs.
Extension headers are not produced; a received one is skipped by its length.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from netplex.errors import NetplexError

__all__ = [
    "GTPU_PORT", "GTPU_ECHO_REQUEST", "GTPU_ECHO_RESPONSE", "GTPU_ERROR_INDICATION", "GTPU_END_MARKER",
    "GTPU_G_PDU", "GTPU_HLEN", "GtpU", "GtpUError", "error_indication", "echo_response",
]

GTPU_PORT = 2152
GTPU_ECHO_REQUEST = 1
GTPU_ECHO_RESPONSE = 2
GTPU_ERROR_INDICATION = 26
GTPU_END_MARKER = 254
GTPU_G_PDU = 255
GTPU_HLEN = 8
# What the tunnel adds in front of the user's packet on the wire: outer IPv4 + UDP + GTP-U.
GTPU_OVERHEAD = 20 + 8 + GTPU_HLEN

IE_RECOVERY = 14
IE_TEID_DATA_I = 16
IE_PEER_ADDRESS = 133

_FLAG_VERSION1_PT = 0x30   # version 1, protocol type GTP
_FLAG_E, _FLAG_S, _FLAG_PN = 0x04, 0x02, 0x01
_HDR = struct.Struct("!BBHI")
_OPT = struct.Struct("!HBB")


class GtpUError(NetplexError, ValueError):
    """A datagram on port 2152 that is not a GTPv1-U message netplex can read."""


@dataclass(slots=True)
class GtpU:
    """One GTPv1-U message: its type, the receiver's TEID, the optional sequence number and the payload."""

    teid: int
    payload: bytes = b""
    type: int = GTPU_G_PDU
    seq: int | None = None

    def encode(self) -> bytes:
        flags = _FLAG_VERSION1_PT
        opt = b""
        if self.seq is not None:
            flags |= _FLAG_S
            opt = _OPT.pack(self.seq & 0xFFFF, 0, 0)
        body = opt + self.payload
        return _HDR.pack(flags, self.type, len(body), self.teid & 0xFFFFFFFF) + body

    @classmethod
    def decode(cls, data: bytes) -> GtpU:
        if len(data) < GTPU_HLEN:
            raise GtpUError(f"truncated GTP-U header ({len(data)} bytes)")
        flags, mtype, length, teid = _HDR.unpack_from(data)
        if flags >> 5 != 1:
            raise GtpUError(f"GTP version {flags >> 5} is not GTPv1")
        if not flags & 0x10:
            raise GtpUError("GTP' (protocol type 0) is not GTP-U")
        if GTPU_HLEN + length > len(data):
            raise GtpUError(f"length {length} runs past the datagram ({len(data) - GTPU_HLEN} octets follow)")
        body = bytes(data[GTPU_HLEN:GTPU_HLEN + length])
        seq = None
        if flags & (_FLAG_E | _FLAG_S | _FLAG_PN):
            if len(body) < 4:
                raise GtpUError("optional fields announced but missing")
            s, _npdu, nxt = _OPT.unpack_from(body)
            seq = s if flags & _FLAG_S else None
            pos = 4
            while flags & _FLAG_E and nxt:   # §5.2: length in 4-octet units, last octet names the next
                if pos >= len(body) or body[pos] == 0:
                    raise GtpUError("malformed extension header")
                end = pos + 4 * body[pos]
                if end > len(body):
                    raise GtpUError("extension header runs past the message")
                nxt = body[end - 1]
                pos = end
            body = body[pos:]
        return cls(teid, body, mtype, seq)


def echo_response(request: GtpU, restart_counter: int = 0) -> GtpU:
    """§7.2.2: the answer to an Echo Request, same sequence number, TEID 0, Recovery IE."""
    return GtpU(0, bytes((IE_RECOVERY, restart_counter & 0xFF)), GTPU_ECHO_RESPONSE,
                request.seq if request.seq is not None else 0)


def error_indication(teid: int, local_addr: int) -> GtpU:
    """§7.3.1: a G-PDU came for `teid`, which this node does not know; TEID 0, sequence 0."""
    ies = struct.pack("!BI", IE_TEID_DATA_I, teid) + struct.pack("!BHI", IE_PEER_ADDRESS, 4, local_addr)
    return GtpU(0, ies, GTPU_ERROR_INDICATION, 0)
