"""IGMP: version 2 (RFC 2236 §2) and version 3 membership reports (RFC 3376 §4.2).

Linux hosts send IGMPv3 reports by default (net.ipv4.conf.*.force_igmp_version
= 0): to 224.0.0.22, TTL 1, with the IP Router Alert option (RFC 2113) and
TOS 0xc0. A join is a CHANGE_TO_EXCLUDE_MODE record with no sources, a leave
a CHANGE_TO_INCLUDE_MODE record with no sources.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .checksum import inet_checksum

__all__ = ["IGMP_HOST_MEMBERSHIP_QUERY", "IGMPV2_HOST_MEMBERSHIP_REPORT", "IGMP_HOST_LEAVE_MESSAGE",
           "IGMPV3_HOST_MEMBERSHIP_REPORT", "IGMPV3_CHANGE_TO_EXCLUDE", "IGMPV3_CHANGE_TO_INCLUDE",
           "IGMPV3_ALL_MCR", "IPOPT_RA", "Igmp", "IgmpGroupRecord"]

IGMP_HOST_MEMBERSHIP_QUERY = 0x11
IGMPV2_HOST_MEMBERSHIP_REPORT = 0x16
IGMP_HOST_LEAVE_MESSAGE = 0x17
IGMPV3_HOST_MEMBERSHIP_REPORT = 0x22
IGMPV3_MODE_IS_INCLUDE, IGMPV3_MODE_IS_EXCLUDE = 1, 2
IGMPV3_CHANGE_TO_INCLUDE, IGMPV3_CHANGE_TO_EXCLUDE = 3, 4
IGMPV3_ALL_MCR = 0xE0000016          # 224.0.0.22, where v3 reports go
IPOPT_RA = b"\x94\x04\x00\x00"        # IP Router Alert, value 0

_V2 = struct.Struct("!BBHI")
_V3 = struct.Struct("!BBHHH")
_REC = struct.Struct("!BBHI")


@dataclass(slots=True)
class IgmpGroupRecord:
    """One group record of a v3 report."""

    type: int
    group: int
    sources: tuple[int, ...] = ()
    aux: bytes = b""

    def encode(self) -> bytes:
        return (_REC.pack(self.type, len(self.aux) // 4, len(self.sources), self.group)
                + b"".join(s.to_bytes(4, "big") for s in self.sources) + self.aux)


@dataclass(slots=True)
class Igmp:
    """An IGMP message. v1/v2 messages use ``group`` and ``max_resp``; a v3
    report (type 0x22) uses ``records``."""

    type: int
    group: int = 0
    max_resp: int = 0
    records: list[IgmpGroupRecord] = field(default_factory=list)
    query_extra: bytes = b""   # a v3 query's fields after the group address, kept verbatim

    def encode(self) -> bytes:
        if self.type == IGMPV3_HOST_MEMBERSHIP_REPORT:
            body = b"".join(r.encode() for r in self.records)
            raw = _V3.pack(self.type, 0, 0, 0, len(self.records)) + body
        else:
            raw = _V2.pack(self.type, self.max_resp, 0, self.group) + self.query_extra
        csum = inet_checksum(raw)
        return raw[:2] + csum.to_bytes(2, "big") + raw[4:]

    @classmethod
    def decode(cls, data: bytes) -> Igmp:
        if len(data) < 8:
            raise ValueError(f"truncated IGMP message ({len(data)} bytes)")
        t = data[0]
        if t == IGMPV3_HOST_MEMBERSHIP_REPORT:
            _, _, _, _, n = _V3.unpack_from(data)
            off = 8
            recs = []
            for _ in range(n):
                if len(data) < off + 8:
                    raise ValueError("truncated IGMPv3 group record")
                rtype, auxlen, nsrc, group = _REC.unpack_from(data, off)
                off += 8
                srcs = tuple(int.from_bytes(data[off + 4 * i:off + 4 * i + 4], "big") for i in range(nsrc))
                off += 4 * nsrc
                aux = bytes(data[off:off + 4 * auxlen])
                off += 4 * auxlen
                recs.append(IgmpGroupRecord(rtype, group, srcs, aux))
            return cls(t, records=recs)
        _, mr, _, group = _V2.unpack_from(data)
        return cls(t, group, mr, query_extra=bytes(data[8:]))

    def wire_len(self) -> int:
        if self.type == IGMPV3_HOST_MEMBERSHIP_REPORT:
            return 8 + sum(8 + 4 * len(r.sources) + len(r.aux) for r in self.records)
        return 8 + len(self.query_extra)

    def copy(self) -> Igmp:
        return Igmp(self.type, self.group, self.max_resp, list(self.records), self.query_extra)
