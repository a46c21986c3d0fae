"""OSPFv2 packets and LSAs (RFC 2328 appendix A), IP protocol 89.

Every packet has the 24-byte header (A.3.1): version 2, type (1 Hello, 2 Database
Description, 3 Link State Request, 4 Link State Update, 5 Link State Acknowledgment),
packet length, router ID, area ID, checksum (the IP checksum over the packet with the
8-byte authentication field left out, AuType 0 here: null authentication), AuType and
authentication. The bodies: Hello (A.3.2), DD (A.3.3: interface MTU, options, I/M/MS
bits, DD sequence number, LSA headers), LSR (A.3.4: type, ID, advertising router
triples), LSU (A.3.5: a count, then whole LSAs), LSAck (A.3.6: LSA headers).

LSAs (A.4): the 20-byte header (age, options, type, link state ID, advertising router,
sequence number, the Fletcher checksum of 12.1.7 over everything but the age, length);
router-LSAs (A.4.2: V/E/B flags, links of type 1 point-to-point, 2 transit, 3 stub,
4 virtual, each with link ID, link data and a TOS-0 metric) and network-LSAs (A.4.3:
network mask, attached routers) are decoded; other types keep their body as bytes.
FRR's ospfd (ospf_packet.c, ospf_lsa.c) builds the same bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from netplex.packet.checksum import inet_checksum

__all__ = ["ALL_DROUTERS", "ALL_SPF_ROUTERS", "DBD_I", "DBD_M", "DBD_MS", "IPPROTO_OSPF", "LSA_NETWORK",
           "LSA_ROUTER", "LINK_P2P", "LINK_STUB", "LINK_TRANSIT", "Lsa", "LsaHeader", "OspfPacket", "RouterLink",
           "decode", "encode", "fletcher_checksum"]

IPPROTO_OSPF = 89
ALL_SPF_ROUTERS = 0xE0000005       # 224.0.0.5
ALL_DROUTERS = 0xE0000006          # 224.0.0.6
HELLO, DBD, LSR, LSU, LSACK = 1, 2, 3, 4, 5
DBD_I, DBD_M, DBD_MS = 4, 2, 1
LSA_ROUTER, LSA_NETWORK = 1, 2
LINK_P2P, LINK_TRANSIT, LINK_STUB = 1, 2, 3
OPTION_E = 0x02

_HDR = struct.Struct("!BBHIIHH8s")
_LSA_HDR = struct.Struct("!HBBIIiHH")
_HELLO = struct.Struct("!IHBBIII")
_DBD = struct.Struct("!HBBI")


def fletcher_checksum(data: bytes, offset: int) -> int:
    """The ISO 8473 Fletcher checksum RFC 2328 12.1.7 puts at `offset` (zero there on input)."""
    c0 = c1 = 0
    for b in data:
        c0 = (c0 + b) % 255
        c1 = (c1 + c0) % 255
    n = len(data)
    x = ((n - offset - 1) * c0 - c1) % 255
    if x <= 0:
        x += 255
    y = 510 - c0 - x
    if y > 255:
        y -= 255
    return (x << 8) | y


@dataclass(slots=True)
class LsaHeader:
    age: int
    options: int
    type: int
    id: int
    adv: int
    seq: int
    checksum: int = 0
    length: int = 20

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.type, self.id, self.adv)

    def encode(self) -> bytes:
        return _LSA_HDR.pack(self.age, self.options, self.type, self.id, self.adv, self.seq, self.checksum,
                             self.length)


@dataclass(slots=True)
class RouterLink:
    id: int
    data: int
    type: int
    metric: int


@dataclass(slots=True)
class Lsa:
    """A whole LSA: its header and body (router links, or a network's mask and routers)."""

    header: LsaHeader
    flags: int = 0
    links: list[RouterLink] = field(default_factory=list)
    mask: int = 0
    routers: list[int] = field(default_factory=list)
    raw: bytes = b""

    def body(self) -> bytes:
        h = self.header
        if h.type == LSA_ROUTER:
            out = struct.pack("!BBH", self.flags, 0, len(self.links))
            for ln in self.links:
                out += struct.pack("!IIBBH", ln.id, ln.data, ln.type, 0, ln.metric)
            return out
        if h.type == LSA_NETWORK:
            return struct.pack("!I", self.mask) + b"".join(struct.pack("!I", r) for r in self.routers)
        return self.raw

    def encode(self) -> bytes:
        """The LSA with its length and Fletcher checksum filled in (the header is updated)."""
        h = self.header
        body = self.body()
        h.length = 20 + len(body)
        h.checksum = 0
        data = h.encode() + body
        h.checksum = fletcher_checksum(data[2:], 14)
        return h.encode() + body


def _decode_lsa_header(data: bytes, off: int) -> LsaHeader:
    return LsaHeader(*_LSA_HDR.unpack_from(data, off))


def _decode_lsa(data: bytes, off: int) -> tuple[Lsa, int]:
    h = _decode_lsa_header(data, off)
    if h.length < 20 or off + h.length > len(data):
        raise ValueError("OSPF: truncated LSA")
    body = data[off + 20: off + h.length]
    lsa = Lsa(h)
    if h.type == LSA_ROUTER:
        lsa.flags, _, n = struct.unpack_from("!BBH", body)
        for i in range(n):
            lid, ldata, ltype, _tos, metric = struct.unpack_from("!IIBBH", body, 4 + 12 * i)
            lsa.links.append(RouterLink(lid, ldata, ltype, metric))
    elif h.type == LSA_NETWORK:
        lsa.mask = struct.unpack_from("!I", body)[0]
        lsa.routers = [struct.unpack_from("!I", body, 4 + 4 * i)[0] for i in range((len(body) - 4) // 4)]
    else:
        lsa.raw = body
    return lsa, off + h.length


@dataclass(slots=True)
class OspfPacket:
    """One OSPFv2 packet: the header's router and area, and the body of its type."""

    type: int
    router_id: int
    area: int
    # Hello
    mask: int = 0
    hello_interval: int = 10
    options: int = OPTION_E
    priority: int = 1
    dead_interval: int = 40
    dr: int = 0
    bdr: int = 0
    neighbors: list[int] = field(default_factory=list)
    # DD
    mtu: int = 1500
    dd_flags: int = 0
    dd_seq: int = 0
    headers: list[LsaHeader] = field(default_factory=list)    # DD and LSAck
    requests: list[tuple[int, int, int]] = field(default_factory=list)   # LSR: (type, id, adv)
    lsas: list[Lsa] = field(default_factory=list)             # LSU


def encode(p: OspfPacket) -> bytes:
    if p.type == HELLO:
        body = _HELLO.pack(p.mask, p.hello_interval, p.options, p.priority, p.dead_interval, p.dr, p.bdr)
        body += b"".join(struct.pack("!I", n) for n in p.neighbors)
    elif p.type == DBD:
        body = _DBD.pack(p.mtu, p.options, p.dd_flags, p.dd_seq) + b"".join(h.encode() for h in p.headers)
    elif p.type == LSR:
        body = b"".join(struct.pack("!III", t, i, a) for t, i, a in p.requests)
    elif p.type == LSU:
        body = struct.pack("!I", len(p.lsas)) + b"".join(lsa.encode() for lsa in p.lsas)
    elif p.type == LSACK:
        body = b"".join(h.encode() for h in p.headers)
    else:
        raise ValueError(f"OSPF: unknown packet type {p.type}")
    length = 24 + len(body)
    hdr = _HDR.pack(2, p.type, length, p.router_id, p.area, 0, 0, bytes(8))
    csum = inet_checksum(hdr[:16] + body)
    return _HDR.pack(2, p.type, length, p.router_id, p.area, csum, 0, bytes(8)) + body


def decode(data: bytes) -> OspfPacket:
    """An OSPF packet (the IP payload); ValueError when it is not a well-formed OSPFv2 packet."""
    if len(data) < 24:
        raise ValueError("OSPF: short packet")
    version, ptype, length, rid, area, csum, autype, _auth = _HDR.unpack_from(data)
    if version != 2 or length < 24 or length > len(data) or autype != 0:
        raise ValueError("OSPF: bad header")
    data = data[:length]
    if inet_checksum(data[:16] + data[24:]) != 0:
        raise ValueError("OSPF: bad checksum")
    p = OspfPacket(ptype, rid, area)
    body = data[24:]
    if ptype == HELLO:
        p.mask, p.hello_interval, p.options, p.priority, p.dead_interval, p.dr, p.bdr = _HELLO.unpack_from(body)
        p.neighbors = [struct.unpack_from("!I", body, 20 + 4 * i)[0] for i in range((len(body) - 20) // 4)]
    elif ptype == DBD:
        p.mtu, p.options, p.dd_flags, p.dd_seq = _DBD.unpack_from(body)
        p.headers = [_decode_lsa_header(body, 8 + 20 * i) for i in range((len(body) - 8) // 20)]
    elif ptype == LSR:
        p.requests = [struct.unpack_from("!III", body, 12 * i) for i in range(len(body) // 12)]
    elif ptype == LSU:
        n = struct.unpack_from("!I", body)[0]
        off = 4
        for _ in range(n):
            lsa, off = _decode_lsa(body, off)
            p.lsas.append(lsa)
    elif ptype == LSACK:
        p.headers = [_decode_lsa_header(body, 20 * i) for i in range(len(body) // 20)]
    else:
        raise ValueError(f"OSPF: unknown packet type {ptype}")
    return p
