"""Diameter (RFC 6733) and the AVPs of S6a (3GPP TS 29.272) and Gx (TS 29.212): exact bytes.

Header (§3): version 1 (8) | message length (24) | flags R P E T (8) | command
code (24) | Application-ID (32) | Hop-by-Hop Identifier (32) | End-to-End
Identifier (32). An AVP (§4.1): code (32) | flags V M P (8) | length (24) |
[Vendor-ID (32) when V] | data, padded to a multiple of four octets. A
Grouped AVP's data is AVPs. `AVP` names every AVP netplex sends with its code,
vendor (0 or 3GPP's 10415) and type; `Avp.make(name, value)` builds one from a
Python value, `Diameter.get(name)` reads one back.

A message that cannot be read raises `DiameterError` with the Result-Code an
answer carries (§7.1: DIAMETER_INVALID_HDR_BITS 3008, DIAMETER_INVALID_AVP_BITS
3009, DIAMETER_MISSING_AVP 5005, DIAMETER_UNSUPPORTED_VERSION 5011,
DIAMETER_INVALID_AVP_LENGTH 5014, DIAMETER_INVALID_MESSAGE_LENGTH 5015).
`Framer` cuts a TCP byte stream into messages (§2.1: Diameter over TCP keeps
message boundaries only by the length field).
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError

__all__ = [
    "DIAMETER_PORT", "VENDOR_3GPP", "APP_S6A", "APP_GX", "CMD", "CMD_NAME", "AVP", "RESULT", "RESULT_NAME", "Avp", "Diameter",
    "DiameterError", "Framer", "HEADER_LEN",
]

DIAMETER_PORT = 3868
VENDOR_3GPP = 10415
APP_S6A = 16777251
APP_GX = 16777238
HEADER_LEN = 20
MAX_MESSAGE = 1 << 16   # what netplex's peers accept; larger is refused as an invalid length

FLAG_R, FLAG_P, FLAG_E, FLAG_T = 0x80, 0x40, 0x20, 0x10
AVP_V, AVP_M, AVP_P = 0x80, 0x40, 0x20

# command codes: RFC 6733 §3.1, TS 29.272 §7.2.2, TS 29.212 (Credit-Control, RFC 4006)
CMD = {
    "Capabilities-Exchange": 257, "Device-Watchdog": 280, "Credit-Control": 272,
    "Update-Location": 316, "Authentication-Information": 318,
}
CMD_NAME = {v: k for k, v in CMD.items()}

# RFC 6733 §7.1 and TS 29.272 §7.4.3 (experimental, vendor 10415)
RESULT = {
    "DIAMETER_SUCCESS": 2001,
    "DIAMETER_COMMAND_UNSUPPORTED": 3001,
    "DIAMETER_APPLICATION_UNSUPPORTED": 3007,
    "DIAMETER_INVALID_HDR_BITS": 3008,
    "DIAMETER_INVALID_AVP_BITS": 3009,
    "DIAMETER_MISSING_AVP": 5005,
    "DIAMETER_UNSUPPORTED_VERSION": 5011,
    "DIAMETER_UNABLE_TO_COMPLY": 5012,
    "DIAMETER_INVALID_AVP_LENGTH": 5014,
    "DIAMETER_INVALID_MESSAGE_LENGTH": 5015,
    "DIAMETER_ERROR_USER_UNKNOWN": 5001,
    "DIAMETER_ERROR_ROAMING_NOT_ALLOWED": 5004,
}
RESULT_NAME = {v: k for k, v in RESULT.items()}

G = VENDOR_3GPP
# name -> (code, vendor, type); type: utf8, octets, u32, enum, address, grouped
AVP: dict[str, tuple[int, int, str]] = {
    "User-Name": (1, 0, "utf8"), "Framed-IP-Address": (8, 0, "octets"), "Called-Station-Id": (30, 0, "utf8"),
    "Host-IP-Address": (257, 0, "address"), "Auth-Application-Id": (258, 0, "u32"),
    "Vendor-Specific-Application-Id": (260, 0, "grouped"), "Session-Id": (263, 0, "utf8"),
    "Origin-Host": (264, 0, "utf8"), "Vendor-Id": (266, 0, "u32"), "Result-Code": (268, 0, "u32"),
    "Product-Name": (269, 0, "utf8"), "Auth-Session-State": (277, 0, "enum"), "Destination-Realm": (283, 0, "utf8"),
    "Destination-Host": (293, 0, "utf8"), "Origin-Realm": (296, 0, "utf8"), "Experimental-Result": (297, 0, "grouped"),
    "Experimental-Result-Code": (298, 0, "u32"), "MIP-Home-Agent-Address": (334, 0, "address"),
    "CC-Request-Number": (415, 0, "u32"), "CC-Request-Type": (416, 0, "enum"), "Subscription-Id": (443, 0, "grouped"),
    "Subscription-Id-Data": (444, 0, "utf8"), "Subscription-Id-Type": (450, 0, "enum"),
    "MIP6-Agent-Info": (486, 0, "grouped"), "Service-Selection": (493, 0, "utf8"),
    "Flow-Description": (507, G, "octets"), "Flow-Status": (511, G, "enum"),
    "Max-Requested-Bandwidth-DL": (515, G, "u32"), "Max-Requested-Bandwidth-UL": (516, G, "u32"),
    "MSISDN": (701, G, "octets"), "Charging-Rule-Install": (1001, G, "grouped"),
    "Charging-Rule-Definition": (1003, G, "grouped"), "Charging-Rule-Name": (1005, G, "octets"),
    "Precedence": (1010, G, "u32"), "QoS-Class-Identifier": (1028, G, "enum"), "RAT-Type": (1032, G, "enum"),
    "Allocation-Retention-Priority": (1034, G, "grouped"), "Priority-Level": (1046, G, "u32"),
    "Flow-Information": (1058, G, "grouped"), "Flow-Direction": (1080, G, "enum"),
    "Subscription-Data": (1400, G, "grouped"), "ULR-Flags": (1405, G, "u32"), "ULA-Flags": (1406, G, "u32"),
    "Visited-PLMN-Id": (1407, G, "octets"), "Requested-EUTRAN-Authentication-Info": (1408, G, "grouped"),
    "Number-Of-Requested-Vectors": (1410, G, "u32"), "Immediate-Response-Preferred": (1412, G, "u32"),
    "Authentication-Info": (1413, G, "grouped"), "E-UTRAN-Vector": (1414, G, "grouped"),
    "Network-Access-Mode": (1417, G, "enum"), "Item-Number": (1419, G, "u32"), "Context-Identifier": (1423, G, "u32"),
    "Subscriber-Status": (1424, G, "enum"), "All-APN-Configurations-Included-Indicator": (1428, G, "enum"),
    "APN-Configuration-Profile": (1429, G, "grouped"), "APN-Configuration": (1430, G, "grouped"),
    "EPS-Subscribed-QoS-Profile": (1431, G, "grouped"), "AMBR": (1435, G, "grouped"), "RAND": (1447, G, "octets"),
    "XRES": (1448, G, "octets"), "AUTN": (1449, G, "octets"), "KASME": (1450, G, "octets"),
    "PDN-Type": (1456, G, "enum"),
}
BY_CODE = {(code, vendor): (name, kind) for name, (code, vendor, kind) in AVP.items()}
NOT_MANDATORY = {"Product-Name"}   # RFC 6733 §5.3.7: its M bit MUST NOT be set
_HDR = struct.Struct("!B3sB3sIII")


class DiameterError(NetplexError, ValueError):
    """A message that cannot be read; `result` is the Result-Code to answer with (§7.1)."""

    def __init__(self, message: str, result: int = RESULT["DIAMETER_UNABLE_TO_COMPLY"]) -> None:
        super().__init__(message)
        self.result = result


def _u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


@dataclass(slots=True)
class Avp:
    """One AVP: code, vendor (0: no Vendor-ID), the M bit, and bytes (or, grouped, a list of AVPs)."""

    code: int
    value: bytes | list[Avp]
    vendor: int = 0
    mandatory: bool = True

    @classmethod
    def make(cls, name: str, value: Any) -> Avp:
        """The AVP `name` holding `value`: str for UTF8String, bytes for OctetString, int for
        Unsigned32/Enumerated, an IPv4 address string for Address, a list of AVPs for Grouped."""
        code, vendor, kind = AVP[name]
        if kind == "grouped":
            data: bytes | list[Avp] = list(value)
        elif kind == "utf8":
            data = str(value).encode()
        elif kind in ("u32", "enum"):
            data = struct.pack("!I", value)
        elif kind == "address":   # RFC 6733 §4.3.1: AddressType 1 (IPv4), the address
            data = b"\x00\x01" + ipaddress.IPv4Address(value).packed
        else:
            data = bytes(value)
        return cls(code, data, vendor, name not in NOT_MANDATORY)

    @property
    def name(self) -> str:
        return BY_CODE.get((self.code, self.vendor), (f"AVP {self.code}", ""))[0]

    def encode(self) -> bytes:
        v = self.value
        data = b"".join(a.encode() for a in v) if isinstance(v, list) else bytes(v)
        flags = (AVP_V if self.vendor else 0) | (AVP_M if self.mandatory else 0)
        head = struct.pack("!IB", self.code, flags)
        vend = struct.pack("!I", self.vendor) if self.vendor else b""
        length = 8 + len(vend) + len(data)
        return head + _u24(length) + vend + data + b"\0" * (-length % 4)

    def find(self, name: str) -> Avp | None:
        return _find(self.value, name) if isinstance(self.value, list) else None

    def need(self, name: str) -> Avp:
        return _need(self.value if isinstance(self.value, list) else [], name, self.name)

    def get(self, name: str) -> Any:
        return self.need(name).py()

    def py(self) -> Any:
        """The value as Python (the inverse of `make`)."""
        kind = BY_CODE.get((self.code, self.vendor), ("", "octets"))[1]
        v = self.value
        if isinstance(v, list):
            return v
        try:
            if kind == "utf8":
                return v.decode()
            if kind in ("u32", "enum"):
                if len(v) != 4:
                    raise DiameterError(f"{self.name}: {len(v)} octets", RESULT["DIAMETER_INVALID_AVP_LENGTH"])
                return struct.unpack("!I", v)[0]
            if kind == "address":
                if len(v) != 6 or v[:2] != b"\x00\x01":
                    raise DiameterError(f"{self.name}: not an IPv4 address", RESULT["DIAMETER_INVALID_AVP_LENGTH"])
                return str(ipaddress.IPv4Address(v[2:]))
        except UnicodeDecodeError:
            raise DiameterError(f"{self.name}: not UTF-8", RESULT["DIAMETER_UNABLE_TO_COMPLY"]) from None
        return v


def _find(avps: list[Avp], name: str) -> Avp | None:
    code, vendor, _ = AVP[name]
    return next((a for a in avps if a.code == code and a.vendor == vendor), None)


def _need(avps: list[Avp], name: str, where: str) -> Avp:
    a = _find(avps, name)
    if a is None:
        raise DiameterError(f"{where}: AVP {name} missing", RESULT["DIAMETER_MISSING_AVP"])
    return a


def _decode_avps(data: bytes, depth: int = 0) -> list[Avp]:
    out: list[Avp] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 8:
            raise DiameterError("truncated AVP header", RESULT["DIAMETER_INVALID_AVP_LENGTH"])
        code, flags = struct.unpack_from("!IB", data, pos)
        length = int.from_bytes(data[pos + 5:pos + 8], "big")
        if flags & 0x1F:
            raise DiameterError(f"AVP {code}: reserved flag bits set", RESULT["DIAMETER_INVALID_AVP_BITS"])
        head = 12 if flags & AVP_V else 8
        if length < head or pos + length > len(data):
            raise DiameterError(f"AVP {code}: length {length}", RESULT["DIAMETER_INVALID_AVP_LENGTH"])
        vendor = struct.unpack_from("!I", data, pos + 8)[0] if flags & AVP_V else 0
        raw = bytes(data[pos + head:pos + length])
        kind = BY_CODE.get((code, vendor), ("", "octets"))[1]
        if kind == "grouped":
            if depth > 6:
                raise DiameterError("Grouped AVPs nested too deeply")
            out.append(Avp(code, _decode_avps(raw, depth + 1), vendor, bool(flags & AVP_M)))
        else:
            out.append(Avp(code, raw, vendor, bool(flags & AVP_M)))
        pos += length + (-length % 4)
    return out


@dataclass(slots=True)
class Diameter:
    """One Diameter message."""

    code: int
    app: int
    request: bool
    avps: list[Avp] = field(default_factory=list)
    hop: int = 0
    end: int = 0
    error: bool = False
    proxiable: bool = True

    @property
    def name(self) -> str:
        base = CMD_NAME.get(self.code, f"command {self.code}")
        return f"{base}-{'Request' if self.request else 'Answer'}"

    def find(self, name: str) -> Avp | None:
        return _find(self.avps, name)

    def need(self, name: str) -> Avp:
        return _need(self.avps, name, self.name)

    def get(self, name: str) -> Any:
        return self.need(name).py()

    def result(self) -> int:
        """Result-Code, or the Experimental-Result-Code (TS 29.272 §7.4.3), or DIAMETER_MISSING_AVP."""
        rc = self.find("Result-Code")
        if rc is not None:
            return int(rc.py())
        exp = self.find("Experimental-Result")
        if exp is not None:
            return int(exp.get("Experimental-Result-Code"))
        return RESULT["DIAMETER_MISSING_AVP"]

    def encode(self) -> bytes:
        body = b"".join(a.encode() for a in self.avps)
        flags = (FLAG_R if self.request else 0) | (FLAG_P if self.proxiable else 0) | (FLAG_E if self.error else 0)
        return _HDR.pack(1, _u24(HEADER_LEN + len(body)), flags, _u24(self.code), self.app, self.hop, self.end) + body

    @classmethod
    def decode(cls, data: bytes) -> Diameter:
        if len(data) < HEADER_LEN:
            raise DiameterError(f"truncated header ({len(data)} octets)", RESULT["DIAMETER_INVALID_MESSAGE_LENGTH"])
        version, length, flags, code, app, hop, end = _HDR.unpack_from(data)
        if version != 1:
            raise DiameterError(f"version {version}", RESULT["DIAMETER_UNSUPPORTED_VERSION"])
        if int.from_bytes(length, "big") != len(data) or len(data) % 4:
            raise DiameterError(f"length {int.from_bytes(length, 'big')} of a {len(data)}-octet message",
                                RESULT["DIAMETER_INVALID_MESSAGE_LENGTH"])
        if flags & 0x0F or (flags & FLAG_R and flags & FLAG_E):
            raise DiameterError("reserved or contradictory header bits", RESULT["DIAMETER_INVALID_HDR_BITS"])
        return cls(int.from_bytes(code, "big"), app, bool(flags & FLAG_R), _decode_avps(bytes(data[HEADER_LEN:])),
                   hop, end, bool(flags & FLAG_E), bool(flags & FLAG_P))

    @staticmethod
    def header(data: bytes) -> tuple[int, int, bool, int, int] | None:
        """(command code, application, request?, hop-by-hop, end-to-end) of a message whose header can be
        read, for answering one whose AVPs cannot."""
        if len(data) < HEADER_LEN or data[0] != 1:
            return None
        _, _, flags, code, app, hop, end = _HDR.unpack_from(data)
        return int.from_bytes(code, "big"), app, bool(flags & FLAG_R), hop, end


class Framer:
    """A TCP stream cut into Diameter messages by their length fields (RFC 6733 §2.1)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The complete messages `data` finishes; DiameterError when the stream cannot be followed (the
        connection must then be closed: a wrong length leaves no way to find the next message)."""
        self.buf += data
        out: list[bytes] = []
        while len(self.buf) >= 4:
            if self.buf[0] != 1:
                raise DiameterError(f"version {self.buf[0]}", RESULT["DIAMETER_UNSUPPORTED_VERSION"])
            n = int.from_bytes(self.buf[1:4], "big")
            if n < HEADER_LEN or n > MAX_MESSAGE or n % 4:
                raise DiameterError(f"message length {n}", RESULT["DIAMETER_INVALID_MESSAGE_LENGTH"])
            if len(self.buf) < n:
                break
            out.append(bytes(self.buf[:n]))
            del self.buf[:n]
        return out
