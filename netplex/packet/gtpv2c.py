"""GTPv2-C (3GPP TS 29.274): the EPC's control tunnels on UDP port 2123 (S11, S5/S8).

Header (§5.1):

    flags (8): version 2 (3 bits) | P | T | spare (3)
    message type (8) | length (16: octets after the first 4)
    [TEID (32)]  when T is set
    sequence number (24) | spare (8)

An IE (§8.2) is type (8) | length (16: of the value) | spare (4) | instance (4)
| value; a grouped IE (Bearer Context, 93) holds IEs as its value. `Ie.value`
is bytes, or a list of `Ie` for a grouped one. The typed helpers below build
and read the IEs the attach uses (§8.3 IMSI … §8.28 Bearer Context); others
travel as bytes. A message that cannot be read raises `Gtpv2Error` with the
cause a receiver answers with (§7.7: Invalid Length, Mandatory IE missing, ...).
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from netplex.errors import NetplexError

__all__ = [
    "GTPV2C_PORT", "MSG", "IE", "CAUSE", "FTEID_IF", "Ie", "Gtpv2", "Gtpv2Error",
    "tbcd", "untbcd", "apn_encode", "apn_decode", "fteid", "read_fteid", "paa", "read_paa",
    "cause", "bearer_qos", "ambr", "serving_network", "plmn_id",
]

GTPV2C_PORT = 2123

# §6.1 Table 6.1-1, the messages netplex sends
MSG = {
    "Echo Request": 1, "Echo Response": 2,
    "Create Session Request": 32, "Create Session Response": 33,
    "Modify Bearer Request": 34, "Modify Bearer Response": 35,
    "Delete Session Request": 36, "Delete Session Response": 37,
    "Release Access Bearers Request": 170, "Release Access Bearers Response": 171,
    "Downlink Data Notification": 176, "Downlink Data Notification Acknowledge": 177,
}
MSG_NAME = {v: k for k, v in MSG.items()}

# §8.1 Table 8.1-1, information element types
IE = {
    "IMSI": 1, "Cause": 2, "Recovery": 3, "APN": 71, "AMBR": 72, "EBI": 73, "MEI": 75, "MSISDN": 76,
    "Indication": 77, "PAA": 79, "Bearer QoS": 80, "RAT Type": 82, "Serving Network": 83,
    "F-TEID": 87, "Bearer Context": 93, "PDN Type": 99, "APN Restriction": 127, "Selection Mode": 128,
}
GROUPED = {IE["Bearer Context"]}

# §8.4 Table 8.4-1, the causes netplex gives
CAUSE = {
    "Request accepted": 16,
    "Context Not Found": 64,
    "Invalid Message Format": 65,
    "Invalid length": 67,
    "Mandatory IE incorrect": 69,
    "Mandatory IE missing": 70,
    "System failure": 72,
    "All dynamic addresses are occupied": 84,
    "User authentication failed": 92,
    "Request rejected (reason not specified)": 94,
}

# §8.22 F-TEID interface types
FTEID_IF = {
    "S1-U eNodeB GTP-U": 0, "S1-U SGW GTP-U": 1, "S5/S8 SGW GTP-U": 4, "S5/S8 PGW GTP-U": 5,
    "S5/S8 SGW GTP-C": 6, "S5/S8 PGW GTP-C": 7, "S11 MME GTP-C": 10, "S11/S4 SGW GTP-C": 11,
}
FTEID_IF_NAME = {v: k for k, v in FTEID_IF.items()}

RAT_EUTRAN = 6
PDN_TYPE_IPV4 = 1

_IE_HDR = struct.Struct("!BHB")


class Gtpv2Error(NetplexError, ValueError):
    """A datagram on port 2123 that cannot be read; `cause` is the §8.4 value to answer with."""

    def __init__(self, message: str, cause: int = CAUSE["Invalid Message Format"]) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(slots=True)
class Ie:
    """One information element: type, instance, and bytes (or, grouped, a list of IEs)."""

    type: int
    value: bytes | list[Ie]
    instance: int = 0

    def encode(self) -> bytes:
        v = self.value
        body = b"".join(ie.encode() for ie in v) if isinstance(v, list) else bytes(v)
        return _IE_HDR.pack(self.type, len(body), self.instance & 0x0F) + body

    def find(self, type_name: str, instance: int = 0) -> Ie | None:
        """The grouped IE's member of that type and instance."""
        if not isinstance(self.value, list):
            return None
        return _find(self.value, IE[type_name], instance)

    def need(self, type_name: str, instance: int = 0) -> Ie:
        """The grouped IE's member, or Gtpv2Error with cause Mandatory IE missing."""
        ie = self.find(type_name, instance)
        if ie is None:
            raise Gtpv2Error(f"Bearer Context: mandatory IE {type_name} missing", CAUSE["Mandatory IE missing"])
        return ie

    @property
    def octets(self) -> bytes:
        """The value of a non-grouped IE (Gtpv2Error with cause Mandatory IE incorrect for a grouped one)."""
        if isinstance(self.value, list):
            raise Gtpv2Error(f"IE {self.type} is grouped here", CAUSE["Mandatory IE incorrect"])
        return self.value


def _find(ies: list[Ie], type_: int, instance: int) -> Ie | None:
    return next((ie for ie in ies if ie.type == type_ and ie.instance == instance), None)


def _decode_ies(data: bytes, depth: int = 0) -> list[Ie]:
    out: list[Ie] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            raise Gtpv2Error("truncated IE header", CAUSE["Invalid length"])
        t, length, inst = _IE_HDR.unpack_from(data, pos)
        pos += 4
        if pos + length > len(data):
            raise Gtpv2Error(f"IE {t} length {length} runs past the message", CAUSE["Invalid length"])
        raw = bytes(data[pos:pos + length])
        pos += length
        if t in GROUPED:
            if depth > 2:
                raise Gtpv2Error("grouped IEs nested too deeply")
            out.append(Ie(t, _decode_ies(raw, depth + 1), inst & 0x0F))
        else:
            out.append(Ie(t, raw, inst & 0x0F))
    return out


@dataclass(slots=True)
class Gtpv2:
    """One GTPv2-C message. `teid` None: no TEID field (Echo, §5.5.1); 0: the initial request's."""

    type: int
    seq: int
    teid: int | None = 0
    ies: list[Ie] = field(default_factory=list)

    @property
    def name(self) -> str:
        return MSG_NAME.get(self.type, f"message type {self.type}")

    def find(self, type_name: str, instance: int = 0) -> Ie | None:
        return _find(self.ies, IE[type_name], instance)

    def need(self, type_name: str, instance: int = 0) -> Ie:
        """The IE, or Gtpv2Error with cause Mandatory IE missing (§7.7.4)."""
        ie = self.find(type_name, instance)
        if ie is None:
            raise Gtpv2Error(f"{self.name}: mandatory IE {type_name} missing", CAUSE["Mandatory IE missing"])
        return ie

    def encode(self) -> bytes:
        body = b"".join(ie.encode() for ie in self.ies)
        if self.teid is None:
            head = struct.pack("!I", (self.seq & 0xFFFFFF) << 8)
            flags = 0x40
        else:
            head = struct.pack("!II", self.teid & 0xFFFFFFFF, (self.seq & 0xFFFFFF) << 8)
            flags = 0x48
        rest = head + body
        return struct.pack("!BBH", flags, self.type, len(rest)) + rest

    @classmethod
    def decode(cls, data: bytes) -> Gtpv2:
        if len(data) < 8:
            raise Gtpv2Error(f"truncated GTPv2-C header ({len(data)} bytes)", CAUSE["Invalid length"])
        flags, mtype, length = struct.unpack_from("!BBH", data)
        if flags >> 5 != 2:
            raise Gtpv2Error(f"GTP version {flags >> 5} is not GTPv2")
        if flags & 0x10:
            raise Gtpv2Error("piggybacked messages are not supported")
        if 4 + length != len(data):
            raise Gtpv2Error(f"length {length} does not match the datagram ({len(data) - 4} octets follow)",
                             CAUSE["Invalid length"])
        if flags & 0x08:
            if len(data) < 12:
                raise Gtpv2Error("truncated GTPv2-C header with TEID", CAUSE["Invalid length"])
            teid, word = struct.unpack_from("!II", data, 4)
            pos: int = 12
        else:
            teid, (word,), pos = None, struct.unpack_from("!I", data, 4), 8
        return cls(mtype, word >> 8, teid, _decode_ies(bytes(data[pos:])))


# --- typed IEs -------------------------------------------------------------------------


def tbcd(digits: str) -> bytes:
    """TS 29.274 §8.3 / TS 24.008 §10.5.1.4: two digits an octet, low nibble first, 0xF pads."""
    if not digits.isdigit():
        raise ValueError(f'"{digits}" is not a string of digits')
    d = digits + ("f" if len(digits) % 2 else "")
    return bytes(int(d[i + 1], 16) << 4 | int(d[i]) for i in range(0, len(d), 2))


def untbcd(data: bytes) -> str:
    out: list[str] = []
    for b in data:
        for nib in (b & 0x0F, b >> 4):
            if nib == 0x0F:
                return "".join(out)
            if nib > 9:
                raise Gtpv2Error(f"TBCD digit {nib:#x}", CAUSE["Mandatory IE incorrect"])
            out.append(str(nib))
    return "".join(out)


def apn_encode(apn: str) -> bytes:
    """§8.6: the APN as DNS labels, each prefixed with its length (TS 23.003 §9.1)."""
    return b"".join(bytes((len(lab),)) + lab.encode() for lab in apn.split(".") if lab)


def apn_decode(data: bytes) -> str:
    labels, pos = [], 0
    while pos < len(data):
        n = data[pos]
        if pos + 1 + n > len(data):
            raise Gtpv2Error("APN label runs past the IE", CAUSE["Mandatory IE incorrect"])
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels)


def fteid(interface: str, teid: int, ipv4: str, instance: int = 0) -> Ie:
    """§8.22 F-TEID: V4 flag + interface type, the TEID (or GRE key), the IPv4 address."""
    value = struct.pack("!BI", 0x80 | FTEID_IF[interface], teid) + ipaddress.IPv4Address(ipv4).packed
    return Ie(IE["F-TEID"], value, instance)


def read_fteid(ie: Ie) -> tuple[str, int, str]:
    """(interface name, TEID, IPv4 address) of an F-TEID IE."""
    v = ie.value
    if not isinstance(v, bytes) or len(v) < 9 or not v[0] & 0x80:
        raise Gtpv2Error("F-TEID without an IPv4 address", CAUSE["Mandatory IE incorrect"])
    iface = FTEID_IF_NAME.get(v[0] & 0x3F, f"interface type {v[0] & 0x3F}")
    return iface, struct.unpack_from("!I", v, 1)[0], str(ipaddress.IPv4Address(v[5:9]))


def paa(ipv4: str) -> Ie:
    """§8.14 PDN Address Allocation: PDN type IPv4 and the UE's address."""
    return Ie(IE["PAA"], bytes((PDN_TYPE_IPV4,)) + ipaddress.IPv4Address(ipv4).packed)


def read_paa(ie: Ie) -> str:
    v = ie.value
    if not isinstance(v, bytes) or len(v) != 5 or v[0] & 0x07 != PDN_TYPE_IPV4:
        raise Gtpv2Error("PAA is not an IPv4 allocation", CAUSE["Mandatory IE incorrect"])
    return str(ipaddress.IPv4Address(v[1:5]))


def cause(value: int) -> Ie:
    """§8.4 Cause: the value, then the flags octet (PCE, BCE, CS all 0)."""
    return Ie(IE["Cause"], bytes((value, 0)))


def bearer_qos(qci: int = 9, arp_priority: int = 9) -> Ie:
    """§8.15 Bearer QoS: ARP (PCI, PL, PVI), QCI, and four 40-bit bit rates (0 for a non-GBR bearer)."""
    arp = (arp_priority & 0x0F) << 2
    return Ie(IE["Bearer QoS"], bytes((arp, qci)) + bytes(20))


def ambr(uplink_kbps: int, downlink_kbps: int) -> Ie:
    """§8.7 APN-AMBR in kbit/s."""
    return Ie(IE["AMBR"], struct.pack("!II", uplink_kbps, downlink_kbps))


def plmn_id(mcc: str, mnc: str) -> bytes:
    """TS 24.008 Figure 10.5.13: MCC and MNC in three octets (MNC digit 3 = 0xF for two-digit MNCs)."""
    m3 = int(mnc[2]) if len(mnc) == 3 else 0x0F
    return bytes((int(mcc[1]) << 4 | int(mcc[0]), m3 << 4 | int(mcc[2]), int(mnc[1]) << 4 | int(mnc[0])))


def plmn_digits(octets: bytes) -> str:
    """The inverse of `plmn_id` ("00f110" -> "00101"); ValueError when the octets are not a PLMN."""
    if len(octets) != 3:
        raise ValueError("PLMN identity is not three octets")
    nib = [octets[0] & 15, octets[0] >> 4, octets[1] & 15, octets[2] & 15, octets[2] >> 4, octets[1] >> 4]
    if any(n > 9 for n in nib[:5]) or nib[5] not in (*range(10), 15):
        raise ValueError("PLMN identity is not TBCD digits")
    return "".join(str(n) for n in nib if n != 15)


def serving_network(mcc: str, mnc: str) -> Ie:
    """§8.18 Serving Network: the PLMN the UE is attached in."""
    return Ie(IE["Serving Network"], plmn_id(mcc, mnc))
