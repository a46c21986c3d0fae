"""BOOTP/DHCP messages (RFC 951, RFC 2131 section 2, options RFC 2132 and RFC 3442).

The fixed BOOTP header (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr,
siaddr, giaddr, chaddr[16], sname[64], file[128]), the magic cookie 99.130.83.99
and the options as (code, value bytes) in the order they are sent; Pad (0) and End
(255) are not kept. Values of the options netplex's server and client speak are
built and read by the helpers below (addresses, 16/32-bit numbers, RFC 3442
classless static routes). A message is padded to the 300-byte BOOTP minimum, as
ISC dhclient and dnsmasq send it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = [
    "BOOTREPLY", "BOOTREQUEST", "DHCPACK", "DHCPDECLINE", "DHCPDISCOVER", "DHCPINFORM", "DHCPNAK", "DHCPOFFER",
    "DHCPRELEASE", "DHCPREQUEST", "DHCP_CLIENT_PORT", "DHCP_SERVER_PORT", "FLAG_BROADCAST", "MESSAGE_NAMES",
    "OPT_BROADCAST", "OPT_CLASSLESS_ROUTES", "OPT_DNS", "OPT_DOMAIN_NAME", "OPT_HOSTNAME", "OPT_LEASE_TIME",
    "OPT_MESSAGE", "OPT_MESSAGE_TYPE", "OPT_MTU", "OPT_PARAMS", "OPT_REBINDING_TIME", "OPT_RENEWAL_TIME",
    "OPT_REQUESTED_IP", "OPT_ROUTER", "OPT_SERVER_ID", "OPT_SUBNET_MASK", "Dhcp", "addrs", "decode_routes",
    "encode_routes", "u16", "u32",
]

BOOTREQUEST, BOOTREPLY = 1, 2
DHCP_SERVER_PORT, DHCP_CLIENT_PORT = 67, 68
FLAG_BROADCAST = 0x8000
MAGIC = b"\x63\x82\x53\x63"

# message types (option 53), RFC 2132 section 9.6
DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE, DHCPINFORM = range(1, 9)
MESSAGE_NAMES = {DHCPDISCOVER: "DHCPDISCOVER", DHCPOFFER: "DHCPOFFER", DHCPREQUEST: "DHCPREQUEST",
                 DHCPDECLINE: "DHCPDECLINE", DHCPACK: "DHCPACK", DHCPNAK: "DHCPNAK", DHCPRELEASE: "DHCPRELEASE",
                 DHCPINFORM: "DHCPINFORM"}

# option codes, RFC 2132 (and RFC 3442 for 121)
OPT_SUBNET_MASK = 1
OPT_ROUTER = 3
OPT_DNS = 6
OPT_HOSTNAME = 12
OPT_DOMAIN_NAME = 15
OPT_MTU = 26
OPT_BROADCAST = 28
OPT_REQUESTED_IP = 50
OPT_LEASE_TIME = 51
OPT_MESSAGE_TYPE = 53
OPT_SERVER_ID = 54
OPT_PARAMS = 55
OPT_MESSAGE = 56
OPT_RENEWAL_TIME = 58
OPT_REBINDING_TIME = 59
OPT_CLASSLESS_ROUTES = 121

_HDR = struct.Struct("!BBBBIHHIIII16s64s128s")
MIN_LEN = 300


@dataclass(slots=True)
class Dhcp:
    """One BOOTP/DHCP message; addresses are integers, `chaddr` the 6-byte MAC."""

    op: int
    xid: int
    chaddr: bytes
    options: list[tuple[int, bytes]] = field(default_factory=list)
    secs: int = 0
    flags: int = 0
    ciaddr: int = 0
    yiaddr: int = 0
    siaddr: int = 0
    giaddr: int = 0
    hops: int = 0
    htype: int = 1
    hlen: int = 6
    sname: bytes = b""
    file: bytes = b""

    def option(self, code: int) -> bytes | None:
        """The first value of option `code`, or None."""
        for c, v in self.options:
            if c == code:
                return v
        return None

    @property
    def message_type(self) -> int | None:
        v = self.option(OPT_MESSAGE_TYPE)
        return v[0] if v else None

    def encode(self) -> bytes:
        out = bytearray(_HDR.pack(self.op, self.htype, self.hlen, self.hops, self.xid, self.secs, self.flags,
                                  self.ciaddr, self.yiaddr, self.siaddr, self.giaddr, self.chaddr.ljust(16, b"\0"),
                                  self.sname.ljust(64, b"\0"), self.file.ljust(128, b"\0")))
        out += MAGIC
        for code, value in self.options:
            while True:   # a value longer than 255 bytes is split over several instances (RFC 3396)
                out += bytes((code, min(len(value), 255))) + value[:255]
                value = value[255:]
                if not value:
                    break
        out.append(255)
        if len(out) < MIN_LEN:
            out += bytes(MIN_LEN - len(out))
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> Dhcp:
        if len(data) < _HDR.size + 4:
            raise ValueError(f"truncated BOOTP message ({len(data)} bytes)")
        (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname,
         file) = _HDR.unpack_from(data)
        if data[_HDR.size:_HDR.size + 4] != MAGIC:
            raise ValueError("no DHCP magic cookie")
        options: list[tuple[int, bytes]] = []
        i = _HDR.size + 4
        while i < len(data):
            code = data[i]
            if code == 0:
                i += 1
                continue
            if code == 255:
                break
            if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
                raise ValueError(f"truncated DHCP option {code}")
            n = data[i + 1]
            value = data[i + 2:i + 2 + n]
            if options and options[-1][0] == code:   # RFC 3396: concatenate a split option
                options[-1] = (code, options[-1][1] + value)
            else:
                options.append((code, value))
            i += 2 + n
        return cls(op, xid, chaddr[:hlen] if hlen <= 16 else chaddr, options, secs, flags, ciaddr, yiaddr, siaddr,
                   giaddr, hops, htype, hlen, sname.rstrip(b"\0"), file.rstrip(b"\0"))

    def wire_len(self) -> int:
        return len(self.encode())


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def u32(v: int) -> bytes:
    return v.to_bytes(4, "big")


def addrs(*ips: int) -> bytes:
    return b"".join(ip.to_bytes(4, "big") for ip in ips)


def encode_routes(routes: list[tuple[int, int, int]]) -> bytes:
    """RFC 3442: each (destination, prefix length, router) as width, significant octets, router."""
    out = bytearray()
    for dst, plen, gw in routes:
        out.append(plen)
        out += dst.to_bytes(4, "big")[:(plen + 7) // 8]
        out += gw.to_bytes(4, "big")
    return bytes(out)


def decode_routes(data: bytes) -> list[tuple[int, int, int]]:
    routes = []
    i = 0
    while i < len(data):
        plen = data[i]
        n = (plen + 7) // 8
        if plen > 32 or i + 1 + n + 4 > len(data):
            raise ValueError("bad classless static route option")
        dst = int.from_bytes(data[i + 1:i + 1 + n].ljust(4, b"\0"), "big")
        gw = int.from_bytes(data[i + 1 + n:i + 5 + n], "big")
        routes.append((dst, plen, gw))
        i += 5 + n
    return routes
