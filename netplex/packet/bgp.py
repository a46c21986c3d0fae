"""BGP-4 messages (RFC 4271 §4), as they go over a TCP connection to port 179.

Every message starts with the 19-byte header: a 16-byte marker of all ones, the
message's total length (19..4096) and its type (1 OPEN, 2 UPDATE, 3 NOTIFICATION,
4 KEEPALIVE, 5 ROUTE-REFRESH, RFC 2918). An OPEN carries version 4, My AS (AS_TRANS
23456 for a four-octet AS, RFC 6793 §4.1), the hold time, the BGP identifier and
optional parameters; capabilities (RFC 5492) are parameter type 2: multiprotocol
(code 1, RFC 4760), route refresh (2), four-octet AS (65) and FRR's hostname (73,
draft-walton-bgp-hostname-capability: name and domain, each length-prefixed) are
the ones this model reads, any other is kept as raw bytes. An UPDATE carries withdrawn prefixes, path
attributes (ORIGIN, AS_PATH, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF; others kept
raw, with their flags) and NLRI prefixes (length in bits, then as few octets as
the length needs). AS_PATH segments hold two-octet ASNs unless both speakers
announced the four-octet AS capability (`as4`).

`split_messages` cuts a TCP byte stream into whole messages, leaving a partial
tail for the next read; `BgpError` carries the NOTIFICATION code/subcode a
malformed message earns (RFC 4271 §6.1, §6.3). FRR's bgpd builds the same bytes
(bgp_packet.c, bgp_attr.c); scapy's contrib `bgp` layer decodes them in the tests.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from netplex.errors import NetplexError

__all__ = [
    "AS_SEQUENCE", "AS_SET", "AS_TRANS", "BGP_PORT", "KEEPALIVE", "MARKER", "NOTIFICATION", "OPEN",
    "ORIGIN_EGP", "ORIGIN_IGP", "ORIGIN_INCOMPLETE", "ROUTE_REFRESH", "UPDATE",
    "Attributes", "BgpError", "Notification", "Open", "Update",
    "decode", "encode_keepalive", "encode_notification", "encode_open", "encode_update", "split_messages",
]

BGP_PORT = 179
MARKER = b"\xff" * 16
HEADER = struct.Struct("!16sHB")
HEADER_LEN = 19
MAX_LEN = 4096
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5
AS_TRANS = 23456

# path attribute type codes and flags (RFC 4271 §4.3, §5)
ATTR_ORIGIN, ATTR_AS_PATH, ATTR_NEXT_HOP, ATTR_MED, ATTR_LOCAL_PREF = 1, 2, 3, 4, 5
FLAG_OPTIONAL, FLAG_TRANSITIVE, FLAG_PARTIAL, FLAG_EXTENDED = 0x80, 0x40, 0x20, 0x10
ORIGIN_IGP, ORIGIN_EGP, ORIGIN_INCOMPLETE = 0, 1, 2
AS_SET, AS_SEQUENCE = 1, 2

# capability codes (IANA "Capability Codes")
CAP_MP, CAP_ROUTE_REFRESH, CAP_AS4, CAP_FQDN = 1, 2, 65, 73

# NOTIFICATION error codes (RFC 4271 §4.5) and the subcodes this model sends
ERR_HEADER, ERR_OPEN, ERR_UPDATE, ERR_HOLD, ERR_FSM, ERR_CEASE = 1, 2, 3, 4, 5, 6
HDR_BAD_LENGTH, HDR_BAD_TYPE = 2, 3
OPEN_BAD_VERSION, OPEN_BAD_PEER_AS, OPEN_BAD_ID, OPEN_BAD_HOLD = 1, 2, 3, 6
UPD_MALFORMED_ATTRS, UPD_MISSING_ATTR, UPD_MALFORMED_ASPATH = 1, 3, 11
CEASE_ADMIN_SHUTDOWN, CEASE_PEER_UNCONFIG, CEASE_ADMIN_RESET, CEASE_COLLISION = 2, 3, 4, 7


class BgpError(NetplexError):
    """A message that earns a NOTIFICATION (RFC 4271 §6): its code and subcode."""

    def __init__(self, code: int, subcode: int, data: bytes = b"") -> None:
        super().__init__(f"BGP error {code}/{subcode}")
        self.code = code
        self.subcode = subcode
        self.data = data


@dataclass(slots=True)
class Open:
    """An OPEN: `asn` is the speaker's real AS (the four-octet capability's, if sent)."""

    asn: int
    hold_time: int
    router_id: int
    version: int = 4
    as4: bool = True                      # announces the four-octet AS capability
    route_refresh: bool = True
    afi_safis: tuple[tuple[int, int], ...] = ((1, 1),)
    hostname: str | None = None           # the FQDN capability (draft-walton-bgp-hostname-capability)
    other_caps: tuple[tuple[int, bytes], ...] = ()


@dataclass(slots=True)
class Attributes:
    """The path attributes of one UPDATE (None: absent)."""

    origin: int | None = None
    as_path: tuple[tuple[int, tuple[int, ...]], ...] = ()   # (segment type, ASNs)
    next_hop: int | None = None
    med: int | None = None
    local_pref: int | None = None
    other: tuple[tuple[int, int, bytes], ...] = ()           # (flags, type, value) kept as received


@dataclass(slots=True)
class Update:
    withdrawn: list[tuple[int, int]] = field(default_factory=list)   # (prefix, length)
    attrs: Attributes | None = None
    nlri: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Notification:
    code: int
    subcode: int
    data: bytes = b""


def _message(mtype: int, body: bytes) -> bytes:
    return HEADER.pack(MARKER, HEADER_LEN + len(body), mtype) + body


def encode_keepalive() -> bytes:
    return _message(KEEPALIVE, b"")


def encode_notification(code: int, subcode: int, data: bytes = b"") -> bytes:
    return _message(NOTIFICATION, bytes((code, subcode)) + data)


def encode_open(o: Open) -> bytes:
    """Each capability in its own optional parameter of type 2, as FRR's bgp_open_capability
    writes them (RFC 5492 allows one parameter holding several as well; the decoder takes both)."""
    caps: list[bytes] = []
    for afi, safi in o.afi_safis:
        caps.append(struct.pack("!BBHBB", CAP_MP, 4, afi, 0, safi))
    if o.route_refresh:
        caps.append(bytes((CAP_ROUTE_REFRESH, 0)))
    if o.as4:
        caps.append(struct.pack("!BBI", CAP_AS4, 4, o.asn))
    if o.hostname is not None:
        name = o.hostname.encode()[:64]
        caps.append(bytes((CAP_FQDN, len(name) + 2, len(name))) + name + b"\x00")
    for code, value in o.other_caps:
        caps.append(bytes((code, len(value))) + value)
    params = b"".join(bytes((2, len(c))) + c for c in caps)
    my_as = o.asn if o.asn <= 0xFFFF else AS_TRANS
    return _message(OPEN, struct.pack("!BHHIB", o.version, my_as, o.hold_time, o.router_id, len(params)) + params)


def _prefixes(items: list[tuple[int, int]]) -> bytes:
    out = bytearray()
    for prefix, plen in items:
        n = (plen + 7) // 8
        out.append(plen)
        out += prefix.to_bytes(4, "big")[:n]
    return bytes(out)


def _attr(flags: int, code: int, value: bytes) -> bytes:
    if len(value) > 255:
        return struct.pack("!BBH", flags | FLAG_EXTENDED, code, len(value)) + value
    return struct.pack("!BBB", flags & ~FLAG_EXTENDED, code, len(value)) + value


def encode_update(u: Update, as4: bool = True) -> bytes:
    attrs = b""
    a = u.attrs
    if a is not None:
        if a.origin is not None:
            attrs += _attr(FLAG_TRANSITIVE, ATTR_ORIGIN, bytes((a.origin,)))
        seg = b""
        for stype, asns in a.as_path:
            fmt = f"!{len(asns)}{'I' if as4 else 'H'}"
            vals = asns if as4 else tuple(x if x <= 0xFFFF else AS_TRANS for x in asns)
            seg += bytes((stype, len(asns))) + struct.pack(fmt, *vals)
        if a.origin is not None:      # AS_PATH is well-known mandatory: present (maybe empty) with ORIGIN
            attrs += _attr(FLAG_TRANSITIVE, ATTR_AS_PATH, seg)
        if a.next_hop is not None:
            attrs += _attr(FLAG_TRANSITIVE, ATTR_NEXT_HOP, a.next_hop.to_bytes(4, "big"))
        if a.med is not None:
            attrs += _attr(FLAG_OPTIONAL, ATTR_MED, a.med.to_bytes(4, "big"))
        if a.local_pref is not None:
            attrs += _attr(FLAG_TRANSITIVE, ATTR_LOCAL_PREF, a.local_pref.to_bytes(4, "big"))
        for flags, code, value in a.other:
            attrs += _attr(flags, code, value)
    wd = _prefixes(u.withdrawn)
    body = struct.pack("!H", len(wd)) + wd + struct.pack("!H", len(attrs)) + attrs + _prefixes(u.nlri)
    return _message(UPDATE, body)


def split_messages(buf: bytearray) -> list[tuple[int, bytes]]:
    """Take whole messages off the front of `buf`: (type, body) each. BgpError for a
    bad marker (1/1), length (1/2) or type (1/3), as bgp_packet.c's bgp_read checks."""
    out: list[tuple[int, bytes]] = []
    while len(buf) >= HEADER_LEN:
        marker, length, mtype = HEADER.unpack_from(buf)
        if marker != MARKER:
            raise BgpError(ERR_HEADER, 1)
        if length < HEADER_LEN or length > MAX_LEN:
            raise BgpError(ERR_HEADER, HDR_BAD_LENGTH, struct.pack("!H", length))
        if mtype not in (OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH):
            raise BgpError(ERR_HEADER, HDR_BAD_TYPE, bytes((mtype,)))
        if len(buf) < length:
            break
        out.append((mtype, bytes(buf[HEADER_LEN:length])))
        del buf[:length]
    return out


def _decode_open(b: bytes) -> Open:
    if len(b) < 10:
        raise BgpError(ERR_HEADER, HDR_BAD_LENGTH)
    version, my_as, hold, rid, plen = struct.unpack_from("!BHHIB", b)
    if version != 4:
        raise BgpError(ERR_OPEN, OPEN_BAD_VERSION, struct.pack("!H", 4))
    o = Open(asn=my_as, hold_time=hold, router_id=rid, version=version, as4=False, route_refresh=False,
             afi_safis=())
    params, i = b[10:10 + plen], 0
    afs: list[tuple[int, int]] = []
    other: list[tuple[int, bytes]] = []
    while i + 2 <= len(params):
        ptype, pl = params[i], params[i + 1]
        pv = params[i + 2:i + 2 + pl]
        i += 2 + pl
        if ptype != 2:
            raise BgpError(ERR_OPEN, 4)          # Unsupported Optional Parameter
        j = 0
        while j + 2 <= len(pv):
            code, cl = pv[j], pv[j + 1]
            cv = pv[j + 2:j + 2 + cl]
            j += 2 + cl
            if code == CAP_MP and cl == 4:
                afi, _, safi = struct.unpack("!HBB", cv)
                afs.append((afi, safi))
            elif code == CAP_ROUTE_REFRESH:
                o.route_refresh = True
            elif code == CAP_AS4 and cl == 4:
                o.as4 = True
                o.asn = struct.unpack("!I", cv)[0]
            elif code == CAP_FQDN and cl >= 1 and 1 + cv[0] <= cl:
                o.hostname = bytes(cv[1:1 + cv[0]]).decode(errors="replace")
            else:
                other.append((code, bytes(cv)))
    o.afi_safis = tuple(afs)
    o.other_caps = tuple(other)
    return o


def _decode_prefixes(b: bytes) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(b):
        plen = b[i]
        n = (plen + 7) // 8
        if plen > 32 or i + 1 + n > len(b):
            raise BgpError(ERR_UPDATE, 10)   # Invalid Network Field
        raw = bytes(b[i + 1:i + 1 + n]) + b"\x00" * (4 - n)
        prefix = int.from_bytes(raw, "big") & (((1 << plen) - 1) << (32 - plen) if plen else 0)
        out.append((prefix, plen))
        i += 1 + n
    return out


def _decode_as_path(v: bytes, as4: bool) -> tuple[tuple[int, tuple[int, ...]], ...]:
    size = 4 if as4 else 2
    segs: list[tuple[int, tuple[int, ...]]] = []
    i = 0
    while i < len(v):
        if i + 2 > len(v):
            raise BgpError(ERR_UPDATE, UPD_MALFORMED_ASPATH)
        stype, count = v[i], v[i + 1]
        end = i + 2 + count * size
        if stype not in (AS_SET, AS_SEQUENCE) or end > len(v):
            raise BgpError(ERR_UPDATE, UPD_MALFORMED_ASPATH)
        segs.append((stype, struct.unpack(f"!{count}{'I' if as4 else 'H'}", v[i + 2:end])))
        i = end
    return tuple(segs)


def _decode_update(b: bytes, as4: bool) -> Update:
    if len(b) < 4:
        raise BgpError(ERR_UPDATE, UPD_MALFORMED_ATTRS)
    wlen = struct.unpack_from("!H", b)[0]
    if 2 + wlen + 2 > len(b):
        raise BgpError(ERR_UPDATE, UPD_MALFORMED_ATTRS)
    u = Update(withdrawn=_decode_prefixes(b[2:2 + wlen]))
    alen = struct.unpack_from("!H", b, 2 + wlen)[0]
    start = 4 + wlen
    if start + alen > len(b):
        raise BgpError(ERR_UPDATE, UPD_MALFORMED_ATTRS)
    attrs_raw = b[start:start + alen]
    u.nlri = _decode_prefixes(b[start + alen:])
    if alen:
        a = Attributes()
        other: list[tuple[int, int, bytes]] = []
        i = 0
        while i < len(attrs_raw):
            if i + 3 > len(attrs_raw):
                raise BgpError(ERR_UPDATE, UPD_MALFORMED_ATTRS)
            flags, code = attrs_raw[i], attrs_raw[i + 1]
            if flags & FLAG_EXTENDED:
                if i + 4 > len(attrs_raw):
                    raise BgpError(ERR_UPDATE, UPD_MALFORMED_ATTRS)
                length = struct.unpack_from("!H", attrs_raw, i + 2)[0]
                i += 4
            else:
                length = attrs_raw[i + 2]
                i += 3
            v = bytes(attrs_raw[i:i + length])
            if len(v) != length:
                raise BgpError(ERR_UPDATE, UPD_MALFORMED_ATTRS)
            i += length
            if code == ATTR_ORIGIN and length == 1:
                a.origin = v[0]
            elif code == ATTR_AS_PATH:
                a.as_path = _decode_as_path(v, as4)
            elif code == ATTR_NEXT_HOP and length == 4:
                a.next_hop = int.from_bytes(v, "big")
            elif code == ATTR_MED and length == 4:
                a.med = int.from_bytes(v, "big")
            elif code == ATTR_LOCAL_PREF and length == 4:
                a.local_pref = int.from_bytes(v, "big")
            else:
                other.append((flags, code, v))
        a.other = tuple(other)
        u.attrs = a
    if u.nlri and (u.attrs is None or u.attrs.origin is None or u.attrs.next_hop is None):
        missing = ATTR_ORIGIN if u.attrs is None or u.attrs.origin is None else ATTR_NEXT_HOP
        raise BgpError(ERR_UPDATE, UPD_MISSING_ATTR, bytes((missing,)))
    return u


def decode(mtype: int, body: bytes, as4: bool = True) -> Open | Update | Notification | None:
    """One message's body (after the header), by type; None for KEEPALIVE and ROUTE-REFRESH."""
    if mtype == OPEN:
        return _decode_open(body)
    if mtype == UPDATE:
        return _decode_update(body, as4)
    if mtype == NOTIFICATION:
        if len(body) < 2:
            raise BgpError(ERR_HEADER, HDR_BAD_LENGTH)
        return Notification(body[0], body[1], bytes(body[2:]))
    if mtype == KEEPALIVE and body:
        raise BgpError(ERR_HEADER, HDR_BAD_LENGTH, struct.pack("!H", HEADER_LEN + len(body)))
    return None
