"""LDP PDUs (RFC 5036 §3): the header, and the messages netplex's label daemon sends.

A PDU is the version (1), the PDU length, the LDP identifier (LSR ID and label
space), then messages. Each message is its type (U bit clear), length,
message ID and TLVs; each TLV its type (U and F bits clear), length and value.
Modelled: Hello (0x0100) with Common Hello Parameters (hold time, the T bit
of a targeted Hello) and the IPv4 Transport Address; Address (0x0300) with an
IPv4 Address List; Label Mapping (0x0400) with a FEC TLV of one Prefix
element (IPv4) and a Generic Label TLV (the implicit null label 3 is how an
egress LSR asks for penultimate-hop popping, §3.5.7, RFC 3032 §2.1).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["LDP_PORT", "LdpPdu"]

LDP_PORT = 646
LDP_VERSION = 1
MSG_HELLO, MSG_ADDRESS, MSG_LABEL_MAPPING = 0x0100, 0x0300, 0x0400
TLV_FEC, TLV_ADDRESS_LIST, TLV_GENERIC_LABEL = 0x0100, 0x0101, 0x0200
TLV_COMMON_HELLO, TLV_IPV4_TRANSPORT = 0x0400, 0x0401
FEC_PREFIX, AF_IPV4 = 2, 1
HELLO_T, HELLO_R = 0x8000, 0x4000      # targeted Hello; request targeted Hellos back


def _tlv(t: int, value: bytes) -> bytes:
    return struct.pack("!HH", t & 0x3FFF, len(value)) + value


def _msg(t: int, msg_id: int, tlvs: bytes) -> bytes:
    return struct.pack("!HHI", t & 0x7FFF, 4 + len(tlvs), msg_id) + tlvs


def _tlvs(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    i = 0
    while i < len(data):
        if i + 4 > len(data):
            raise ValueError("truncated LDP TLV")
        t, n = struct.unpack_from("!HH", data, i)
        if i + 4 + n > len(data):
            raise ValueError("LDP TLV longer than its message")
        out.append((t & 0x3FFF, data[i + 4:i + 4 + n]))
        i += 4 + n
    return out


@dataclass(slots=True)
class LdpPdu:
    """One PDU: a Hello (when hold_time), an Address message (when addresses), a Label Mapping per
    (prefix, prefix length, label)."""

    lsr_id: int
    label_space: int = 0
    hold_time: int = 0
    targeted: bool = True
    transport: int = 0
    addresses: list[int] = field(default_factory=list)
    mappings: list[tuple[int, int, int]] = field(default_factory=list)

    def encode(self, msg_id: int = 1) -> bytes:
        msgs = b""
        if self.hold_time:
            flags = HELLO_T | HELLO_R if self.targeted else 0
            tlvs = _tlv(TLV_COMMON_HELLO, struct.pack("!HH", self.hold_time, flags))
            if self.transport:
                tlvs += _tlv(TLV_IPV4_TRANSPORT, self.transport.to_bytes(4, "big"))
            msgs += _msg(MSG_HELLO, msg_id, tlvs)
            msg_id += 1
        if self.addresses:
            body = struct.pack("!H", AF_IPV4) + b"".join(a.to_bytes(4, "big") for a in self.addresses)
            msgs += _msg(MSG_ADDRESS, msg_id, _tlv(TLV_ADDRESS_LIST, body))
            msg_id += 1
        for prefix, plen, label in self.mappings:
            nbytes = (plen + 7) // 8
            fec = struct.pack("!BHB", FEC_PREFIX, AF_IPV4, plen) + prefix.to_bytes(4, "big")[:nbytes]
            msgs += _msg(MSG_LABEL_MAPPING, msg_id,
                         _tlv(TLV_FEC, fec) + _tlv(TLV_GENERIC_LABEL, struct.pack("!I", label & 0xFFFFF)))
            msg_id += 1
        return struct.pack("!HHIH", LDP_VERSION, 6 + len(msgs), self.lsr_id, self.label_space) + msgs

    @classmethod
    def decode(cls, data: bytes) -> LdpPdu:
        """The PDU's messages; ValueError for what is not a well-formed LDP PDU."""
        if len(data) < 10:
            raise ValueError("short LDP PDU")
        version, length, lsr_id, space = struct.unpack_from("!HHIH", data)
        if version != LDP_VERSION or length + 4 != len(data):
            raise ValueError("bad LDP version or length")
        pdu = cls(lsr_id, space, targeted=False)
        i = 10
        while i < len(data):
            if i + 8 > len(data):
                raise ValueError("truncated LDP message")
            t, n, _mid = struct.unpack_from("!HHI", data, i)
            body = data[i + 8:i + 4 + n]
            if n < 4 or i + 4 + n > len(data):
                raise ValueError("bad LDP message length")
            tlvs = dict(_tlvs(body))
            t &= 0x7FFF
            if t == MSG_HELLO and TLV_COMMON_HELLO in tlvs and len(tlvs[TLV_COMMON_HELLO]) == 4:
                pdu.hold_time, flags = struct.unpack("!HH", tlvs[TLV_COMMON_HELLO])
                pdu.targeted = bool(flags & HELLO_T)
                tr = tlvs.get(TLV_IPV4_TRANSPORT)
                if tr is not None and len(tr) == 4:
                    pdu.transport = int.from_bytes(tr, "big")
            elif t == MSG_ADDRESS and TLV_ADDRESS_LIST in tlvs:
                v = tlvs[TLV_ADDRESS_LIST]
                if len(v) >= 2 and int.from_bytes(v[:2], "big") == AF_IPV4:
                    pdu.addresses += [int.from_bytes(v[k:k + 4], "big") for k in range(2, len(v) - 3, 4)]
            elif t == MSG_LABEL_MAPPING and TLV_FEC in tlvs and TLV_GENERIC_LABEL in tlvs:
                fec, lab = tlvs[TLV_FEC], tlvs[TLV_GENERIC_LABEL]
                if len(fec) >= 4 and fec[0] == FEC_PREFIX and int.from_bytes(fec[1:3], "big") == AF_IPV4 \
                        and fec[3] <= 32 and len(lab) == 4:
                    plen = fec[3]
                    raw = fec[4:4 + (plen + 7) // 8].ljust(4, b"\0")
                    pdu.mappings.append((int.from_bytes(raw, "big"), plen, int.from_bytes(lab, "big") & 0xFFFFF))
            i += 4 + n
        return pdu
