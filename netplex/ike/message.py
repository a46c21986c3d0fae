"""IKEv2 messages on the wire (RFC 7296 §3): the header, the payload chain and
the payloads netplex's IKE speaks (SA, KE, IDi/IDr, AUTH, Nonce, Notify,
Delete, TSi/TSr, SK). Payloads are (type, body) pairs; the builders and
parsers below turn bodies into fields. Errors in received bytes raise
`IkeDecodeError` (the daemon then ignores the message, as §2.21 allows for an
unprotected one it cannot parse).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["HDR_LEN", "IkeDecodeError", "IkeHeader", "Proposal", "TrafficSelector", "build_chain", "parse_chain"]

HDR_LEN = 28
IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL = 34, 35, 36, 37
FLAG_I, FLAG_R = 0x08, 0x20
PT_SA, PT_KE, PT_IDI, PT_IDR, PT_CERT, PT_CERTREQ, PT_AUTH, PT_NONCE, PT_NOTIFY, PT_DELETE = (33, 34, 35, 36, 37, 38,
                                                                                           39, 40, 41, 42)
PT_VENDOR, PT_TSI, PT_TSR, PT_SK = 43, 44, 45, 46
PROTO_IKE, PROTO_AH, PROTO_ESP = 1, 2, 3
TT_ENCR, TT_PRF, TT_INTEG, TT_DH, TT_ESN = 1, 2, 3, 4, 5
ID_IPV4_ADDR, ID_FQDN, ID_RFC822_ADDR, ID_DER_ASN1_DN, ID_KEY_ID = 1, 2, 3, 9, 11
AUTH_PSK = 2
CERT_X509_SIGNATURE = 4      # the Cert Encoding of CERT and CERTREQ payloads (§3.6)
# notify types (§3.10.1)
N_UNSUPPORTED_CRITICAL_PAYLOAD, N_INVALID_SYNTAX, N_NO_PROPOSAL_CHOSEN = 1, 7, 14
N_INVALID_KE_PAYLOAD, N_AUTHENTICATION_FAILED, N_TS_UNACCEPTABLE = 17, 24, 38
N_CHILD_SA_NOT_FOUND, N_INITIAL_CONTACT, N_NAT_DETECTION_SOURCE_IP, N_NAT_DETECTION_DESTINATION_IP = 44, 16384, 16388, 16389
N_USE_TRANSPORT_MODE, N_REKEY_SA, N_SIGNATURE_HASH_ALGORITHMS = 16391, 16393, 16431
N_COOKIE = 16390

_HDR = struct.Struct("!8s8sBBBBII")


class IkeDecodeError(ValueError):
    """Bytes that are not a well-formed IKEv2 message."""


@dataclass(slots=True)
class IkeHeader:
    spii: bytes
    spir: bytes
    next: int
    exch: int
    flags: int
    mid: int
    length: int = 0

    def pack(self, length: int) -> bytes:
        return _HDR.pack(self.spii, self.spir, self.next, 0x20, self.exch, self.flags, self.mid, length)

    @classmethod
    def unpack(cls, data: bytes) -> IkeHeader:
        if len(data) < HDR_LEN:
            raise IkeDecodeError("short IKE header")
        spii, spir, nxt, ver, exch, flags, mid, length = _HDR.unpack_from(data)
        if ver >> 4 != 2:
            raise IkeDecodeError(f"IKE version {ver >> 4}")
        if length != len(data):
            raise IkeDecodeError("IKE length mismatch")
        return cls(spii, spir, nxt, exch, flags, mid, length)


def build_chain(payloads: list[tuple[int, bytes]]) -> tuple[int, bytes]:
    """The payload chain: each generic header names the next payload's type."""
    out = b""
    for i, (_pt, body) in enumerate(payloads):
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += struct.pack("!BBH", nxt, 0, 4 + len(body)) + body
    return (payloads[0][0] if payloads else 0), out


def parse_chain(first: int, data: bytes) -> list[tuple[int, bytes]]:
    """(type, body) for each payload; the SK payload, when present, ends the chain (§3.14)."""
    out = []
    pt = first
    o = 0
    while pt:
        if o + 4 > len(data):
            raise IkeDecodeError("truncated payload")
        nxt, crit, ln = struct.unpack_from("!BBH", data, o)
        if ln < 4 or o + ln > len(data):
            raise IkeDecodeError("bad payload length")
        out.append((pt, data[o + 4:o + ln]))
        if pt == PT_SK:
            out[-1] = (pt, data[o:o + ln])   # the SK payload keeps its generic header (the AAD needs it)
            out.append((-1, bytes((nxt,))))  # the first inner payload's type
            break
        o += ln
        pt = nxt
    return out


# ---- SA --------------------------------------------------------------------

@dataclass(slots=True)
class Proposal:
    num: int
    proto: int
    spi: bytes
    transforms: list[tuple[int, int, int | None]] = field(default_factory=list)   # (type, id, keylen bits)

    def of(self, ttype: int) -> list[tuple[int, int | None]]:
        return [(i, k) for t, i, k in self.transforms if t == ttype]


def build_sa(proposals: list[Proposal]) -> bytes:
    out = b""
    for n, p in enumerate(proposals):
        tb = b""
        for m, (t, i, k) in enumerate(p.transforms):
            attrs = struct.pack("!HH", 0x800E, k) if k else b""
            tb += struct.pack("!BBHBBH", 0 if m == len(p.transforms) - 1 else 3, 0, 8 + len(attrs), t, 0, i) + attrs
        body = struct.pack("!BBBB", p.num, p.proto, len(p.spi), len(p.transforms)) + p.spi + tb
        out += struct.pack("!BBH", 0 if n == len(proposals) - 1 else 2, 0, 4 + len(body)) + body
    return out


def parse_sa(data: bytes) -> list[Proposal]:
    out = []
    o = 0
    try:
        while o < len(data):
            last, _r, ln = struct.unpack_from("!BBH", data, o)
            num, proto, spisz, nt = struct.unpack_from("!BBBB", data, o + 4)
            spi = data[o + 8:o + 8 + spisz]
            to = o + 8 + spisz
            p = Proposal(num, proto, spi)
            for _ in range(nt):
                _l, _r2, tl, t, _r3, i = struct.unpack_from("!BBHBBH", data, to)
                k = None
                ao = to + 8
                while ao < to + tl:
                    af, av = struct.unpack_from("!HH", data, ao)
                    if af == 0x800E:
                        k = av
                    ao += 4
                p.transforms.append((t, i, k))
                to += tl
            out.append(p)
            o += ln
            if last == 0:
                break
    except struct.error:
        raise IkeDecodeError("malformed SA payload") from None
    return out


# ---- the others ------------------------------------------------------------

def build_ke(group: int, data: bytes) -> bytes:
    return struct.pack("!HH", group, 0) + data


def parse_ke(body: bytes) -> tuple[int, bytes]:
    if len(body) < 4:
        raise IkeDecodeError("short KE")
    return struct.unpack_from("!H", body)[0], body[4:]


def build_notify(ntype: int, data: bytes = b"", proto: int = 0, spi: bytes = b"") -> bytes:
    return struct.pack("!BBH", proto, len(spi), ntype) + spi + data


def parse_notify(body: bytes) -> tuple[int, int, bytes, bytes]:
    """(type, protocol, spi, data)."""
    if len(body) < 4:
        raise IkeDecodeError("short Notify")
    proto, spisz, ntype = struct.unpack_from("!BBH", body)
    return ntype, proto, body[4:4 + spisz], body[4 + spisz:]


def build_id(idtype: int, data: bytes) -> bytes:
    return bytes((idtype, 0, 0, 0)) + data


def build_auth(method: int, data: bytes) -> bytes:
    return bytes((method, 0, 0, 0)) + data


def build_delete(proto: int, spis: list[bytes]) -> bytes:
    size = len(spis[0]) if spis else 0
    return struct.pack("!BBH", proto, size, len(spis)) + b"".join(spis)


def parse_delete(body: bytes) -> tuple[int, list[bytes]]:
    proto, size, n = struct.unpack_from("!BBH", body)
    return proto, [body[4 + i * size:4 + (i + 1) * size] for i in range(n)]


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    """An IPv4 traffic selector (TS_IPV4_ADDR_RANGE, §3.13.1)."""

    start: int
    end: int
    proto: int = 0
    sport: int = 0
    eport: int = 65535

    def prefix(self) -> tuple[int, int] | None:
        """(address, prefix length) when the range is one subnet."""
        size = self.end - self.start + 1
        if size & (size - 1) or self.start & (size - 1):
            return None
        return self.start, 32 - (size.bit_length() - 1)


def build_ts(tss: list[TrafficSelector]) -> bytes:
    out = struct.pack("!BBH", len(tss), 0, 0)
    for t in tss:
        out += struct.pack("!BBHHHII", 7, t.proto, 16, t.sport, t.eport, t.start, t.end)
    return out


def parse_ts(body: bytes) -> list[TrafficSelector]:
    n = body[0] if body else 0
    out = []
    o = 4
    for _ in range(n):
        if o + 4 > len(body):
            raise IkeDecodeError("short TS")
        tstype, proto, ln = struct.unpack_from("!BBH", body, o)
        if tstype == 7 and ln == 16:
            _t, _p, _l, sp, ep, s, e = struct.unpack_from("!BBHHHII", body, o)
            out.append(TrafficSelector(s, e, proto, sp, ep))
        o += ln
    return out
