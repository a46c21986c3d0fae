"""DNS messages (RFC 1035 section 4: header, question, resource records; name compression 4.1.4).

A message is a `DnsMessage`: the header's fields (id, QR, opcode, AA, TC, RD, RA,
AD, CD, rcode), the questions and the answer, authority and additional records in
the order they travel. A record's data is kept as bytes on the wire (an A record's
four bytes, an OPT record's options) except that names inside the data of CNAME,
NS and PTR records are decoded so they can be compressed again. `encode`
writes RFC 1035's format and compresses every owner name and name in data against
the names already written (4.1.4: a pointer to the longest suffix seen);
`decode` follows pointers (backwards only, as resolvers require, so a loop cannot
hang it) and raises `DnsError` on a truncated or malformed message. Names are
text without the trailing dot, labels of up to 63 bytes, names up to 255 bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from netplex.errors import NetplexError

__all__ = [
    "CLASS_IN", "DNS_PORT", "DnsError", "DnsMessage", "DnsQuestion", "DnsRecord", "RCODE_NAMES", "RCODE_NOERROR",
    "RCODE_NOTIMP", "RCODE_NXDOMAIN", "RCODE_REFUSED", "RCODE_SERVFAIL", "RCODE_FORMERR", "TYPE_A", "TYPE_AAAA",
    "TYPE_CNAME", "TYPE_NS", "TYPE_OPT", "TYPE_PTR", "TYPE_SOA", "a_record",
]

DNS_PORT = 53
CLASS_IN = 1
TYPE_A, TYPE_NS, TYPE_CNAME, TYPE_SOA, TYPE_PTR, TYPE_MX, TYPE_AAAA, TYPE_OPT = 1, 2, 5, 6, 12, 15, 28, 41
RCODE_NOERROR, RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_NOTIMP, RCODE_REFUSED = range(6)
RCODE_NAMES = {RCODE_NOERROR: "NOERROR", RCODE_FORMERR: "FORMERR", RCODE_SERVFAIL: "SERVFAIL",
               RCODE_NXDOMAIN: "NXDOMAIN", RCODE_NOTIMP: "NOTIMP", RCODE_REFUSED: "REFUSED"}
# types whose data holds domain names (RFC 1035 3.3): those names may be compressed
_NAME_DATA = {TYPE_NS, TYPE_CNAME, TYPE_PTR}
_HEADER = struct.Struct("!HHHHHH")
_MAX_LABEL, _MAX_NAME = 63, 255


class DnsError(NetplexError, ValueError):
    """A message that cannot be decoded or a name that cannot be encoded."""


@dataclass(slots=True)
class DnsQuestion:
    name: str
    qtype: int = TYPE_A
    qclass: int = CLASS_IN


@dataclass(slots=True)
class DnsRecord:
    """A resource record; `data` is RDATA, or for CNAME/NS/PTR the name it holds (text)."""

    name: str
    rtype: int
    rclass: int
    ttl: int
    data: bytes | str

    def address(self) -> str | None:
        """An A record's address in dotted quad; None for other records."""
        if self.rtype != TYPE_A or not isinstance(self.data, bytes) or len(self.data) != 4:
            return None
        return ".".join(str(b) for b in self.data)


def a_record(name: str, addr: str, ttl: int) -> DnsRecord:
    """An IN A record for dotted-quad `addr`."""
    return DnsRecord(name, TYPE_A, CLASS_IN, ttl, bytes(int(x) for x in addr.split(".")))


@dataclass(slots=True)
class DnsMessage:
    id: int = 0
    qr: bool = False
    opcode: int = 0
    aa: bool = False
    tc: bool = False
    rd: bool = True
    ra: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = RCODE_NOERROR
    questions: list[DnsQuestion] = field(default_factory=list)
    answers: list[DnsRecord] = field(default_factory=list)
    authority: list[DnsRecord] = field(default_factory=list)
    additional: list[DnsRecord] = field(default_factory=list)

    def reply(self, rcode: int = RCODE_NOERROR) -> DnsMessage:
        """A response to this query (miekg/dns SetReply / SetRcode): same id, opcode, RD, CD and question."""
        return DnsMessage(id=self.id, qr=True, opcode=self.opcode, rd=self.rd, cd=self.cd, rcode=rcode,
                          questions=[DnsQuestion(q.name, q.qtype, q.qclass) for q in self.questions[:1]])

    def flags(self) -> int:
        return (self.qr << 15 | (self.opcode & 15) << 11 | self.aa << 10 | self.tc << 9 | self.rd << 8
                | self.ra << 7 | self.ad << 5 | self.cd << 4 | (self.rcode & 15))

    def encode(self) -> bytes:
        out = bytearray(_HEADER.pack(self.id, self.flags(), len(self.questions), len(self.answers),
                                     len(self.authority), len(self.additional)))
        seen: dict[str, int] = {}
        for q in self.questions:
            _put_name(out, q.name, seen)
            out += struct.pack("!HH", q.qtype, q.qclass)
        for rr in (*self.answers, *self.authority, *self.additional):
            _put_name(out, rr.name, seen)
            out += struct.pack("!HHI", rr.rtype, rr.rclass, rr.ttl & 0xFFFFFFFF)
            at = len(out)
            out += b"\0\0"
            if isinstance(rr.data, str):
                _put_name(out, rr.data, seen)
            else:
                out += rr.data
            struct.pack_into("!H", out, at, len(out) - at - 2)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> DnsMessage:
        if len(data) < _HEADER.size:
            raise DnsError(f"DNS message of {len(data)} bytes is shorter than its header")
        ident, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
        m = cls(id=ident, qr=bool(flags >> 15), opcode=flags >> 11 & 15, aa=bool(flags >> 10 & 1),
                tc=bool(flags >> 9 & 1), rd=bool(flags >> 8 & 1), ra=bool(flags >> 7 & 1), ad=bool(flags >> 5 & 1),
                cd=bool(flags >> 4 & 1), rcode=flags & 15)
        off = _HEADER.size
        for _ in range(qd):
            name, off = _get_name(data, off)
            if off + 4 > len(data):
                raise DnsError("DNS question truncated")
            qtype, qclass = struct.unpack_from("!HH", data, off)
            off += 4
            m.questions.append(DnsQuestion(name, qtype, qclass))
        for count, section in ((an, m.answers), (ns, m.authority), (ar, m.additional)):
            for _ in range(count):
                rr, off = _get_record(data, off)
                section.append(rr)
        return m


def _labels(name: str) -> list[bytes]:
    name = name.rstrip(".") if name != "." else ""
    if not name:
        return []
    labels = [p.encode("ascii") for p in name.split(".")]
    if any(not lab or len(lab) > _MAX_LABEL for lab in labels):
        raise DnsError(f"bad DNS name {name!r}: a label is empty or longer than {_MAX_LABEL} bytes")
    if sum(len(lab) + 1 for lab in labels) + 1 > _MAX_NAME:
        raise DnsError(f"DNS name {name[:40]!r}... is longer than {_MAX_NAME} bytes")
    return labels


def _put_name(out: bytearray, name: str, seen: dict[str, int]) -> None:
    """Write `name`, ending in a pointer to the longest suffix already in the message (RFC 1035 4.1.4);
    suffixes are matched case-insensitively, as name comparisons are (RFC 4343)."""
    labels = _labels(name)
    for i in range(len(labels)):
        suffix = b".".join(labels[i:]).decode().lower()
        ptr = seen.get(suffix)
        if ptr is not None:
            out += struct.pack("!H", 0xC000 | ptr)
            return
        if len(out) < 0x4000:
            seen[suffix] = len(out)
        out.append(len(labels[i]))
        out += labels[i]
    out.append(0)


def _get_name(data: bytes, off: int) -> tuple[str, int]:
    """A (possibly compressed) name at `off`, and the offset after it where it started."""
    labels: list[str] = []
    end: int | None = None
    limit = off          # a pointer must point before the name that uses it: no loops
    total = 0
    while True:
        if off >= len(data):
            raise DnsError("DNS name runs past the end of the message")
        n = data[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(data):
                raise DnsError("DNS compression pointer truncated")
            ptr = (n & 0x3F) << 8 | data[off + 1]
            if ptr >= limit:
                raise DnsError(f"DNS compression pointer {ptr} does not point backwards")
            if end is None:
                end = off + 2
            off = limit = ptr
            continue
        if n & 0xC0:
            raise DnsError(f"DNS label type 0x{n & 0xC0:02x} is not supported")
        off += 1
        if n == 0:
            break
        if off + n > len(data):
            raise DnsError("DNS label runs past the end of the message")
        total += n + 1
        if total + 1 > _MAX_NAME:
            raise DnsError(f"DNS name longer than {_MAX_NAME} bytes")
        labels.append(data[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), end if end is not None else off


def _get_record(data: bytes, off: int) -> tuple[DnsRecord, int]:
    name, off = _get_name(data, off)
    if off + 10 > len(data):
        raise DnsError("DNS resource record truncated")
    rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", data, off)
    off += 10
    if off + rdlen > len(data):
        raise DnsError("DNS record data runs past the end of the message")
    rdata: bytes | str = data[off:off + rdlen]
    if rtype in _NAME_DATA:
        rdata, after = _get_name(data, off)
        if after != off + rdlen:
            raise DnsError("DNS record data length does not match its name")
    return DnsRecord(name, rtype, rclass, ttl, rdata), off + rdlen
