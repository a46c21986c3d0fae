"""GTPv1-C (3GPP TS 29.060): the 2.5G/3G packet core's control tunnels on UDP port 2123 (Gn/Gp).

Header (§6): flags (8): version 1 (3 bits) | PT 1 | spare | E | S | PN; message
type (8); length (16: the octets after the first 8); TEID (32). Control plane
messages always carry a sequence number (§9.1: S is 1), so the header is 12
octets: ... | sequence (16) | N-PDU number (8) | next extension header type (8).

IEs (§7.7): a type below 128 is TV with a fixed length (Table 37 gives it),
128 and above is TLV with a 16-bit length. A message's IEs come in ascending
type order (§7.7.0); two IEs of one type (the SGSN's two GSN Addresses) keep
their order. A message that cannot be read raises `Gtpv1Error` with the cause
a receiver answers with (§7.7.1 and §11.1: Invalid message format, Mandatory
IE missing, Mandatory IE incorrect).
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from netplex.errors import NetplexError

__all__ = [
    "GTPV1C_PORT", "MSG", "IE", "CAUSE", "TV_LENGTH", "Ie", "Gtpv1", "Gtpv1Error", "RAT_UTRAN", "RAT_GERAN",
    "end_user_address", "read_end_user_address", "gsn_address", "read_gsn_address", "qos_profile", "msisdn",
]

GTPV1C_PORT = 2123
HLEN = 12

# §7.1 Table 1, the messages netplex sends and answers
MSG = {
    "Echo Request": 1, "Echo Response": 2,
    "Create PDP Context Request": 16, "Create PDP Context Response": 17,
    "Update PDP Context Request": 18, "Update PDP Context Response": 19,
    "Delete PDP Context Request": 20, "Delete PDP Context Response": 21,
}
MSG_NAME = {v: k for k, v in MSG.items()}
REQUESTS = {MSG[n]: MSG[n] + 1 for n in MSG if n.endswith("Request")}

# §7.7 Table 37, information element types
IE = {
    "Cause": 1, "IMSI": 2, "RAI": 3, "Reordering Required": 8, "Recovery": 14, "Selection Mode": 15,
    "TEID Data I": 16, "TEID Control Plane": 17, "Teardown Ind": 19, "NSAPI": 20,
    "Charging Characteristics": 26, "Charging ID": 127, "End User Address": 128, "APN": 131,
    "Protocol Configuration Options": 132, "GSN Address": 133, "MSISDN": 134, "QoS Profile": 135,
    "RAT Type": 151,
}
IE_NAME = {v: k for k, v in IE.items()}

# §7.7 Table 37: the value length of every TV IE (types 1..127) a receiver may meet
TV_LENGTH = {
    1: 1, 2: 8, 3: 6, 4: 4, 5: 4, 8: 1, 9: 28, 11: 1, 12: 3, 13: 1, 14: 1, 15: 1, 16: 4, 17: 4, 18: 5,
    19: 1, 20: 1, 21: 1, 22: 9, 23: 1, 24: 1, 25: 2, 26: 2, 27: 2, 28: 2, 29: 1, 127: 4,
}

# §7.7.1 Cause values netplex gives
CAUSE = {
    "Request accepted": 128,
    "Non-existent": 192,
    "Invalid message format": 193,
    "Version not supported": 198,
    "No resources available": 199,
    "Service not supported": 200,
    "Mandatory IE incorrect": 201,
    "Mandatory IE missing": 202,
    "System failure": 204,
    "User authentication failed": 209,
    "Context not found": 210,
    "All dynamic PDP addresses are occupied": 211,
    "Missing or unknown APN": 219,
}
CAUSE_NAME = {v: k for k, v in CAUSE.items()}

RAT_UTRAN = 1   # §7.7.50 RAT Type
RAT_GERAN = 2
PDP_ORG_IETF, PDP_TYPE_IPV4 = 1, 0x21   # §7.7.27 End User Address

_HDR = struct.Struct("!BBHIHBB")


class Gtpv1Error(NetplexError, ValueError):
    """A datagram on port 2123 that is not a GTPv1-C message netplex can read; `cause` answers it."""

    def __init__(self, message: str, cause: int = CAUSE["Invalid message format"]) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(slots=True)
class Ie:
    """One IE: its type and its value (without the type, and for a TLV without the length)."""

    type: int
    value: bytes

    def encode(self) -> bytes:
        if self.type < 128:
            want = TV_LENGTH.get(self.type)
            if want != len(self.value):
                raise ValueError(f"TV IE {self.type} takes {want} octets, not {len(self.value)}")
            return bytes((self.type,)) + self.value
        return struct.pack("!BH", self.type, len(self.value)) + self.value


def _decode_ies(data: bytes) -> list[Ie]:
    out: list[Ie] = []
    pos, last = 0, 0
    while pos < len(data):
        t = data[pos]
        if t < 128:
            n = TV_LENGTH.get(t)
            if n is None:   # §11.1.4: an unknown TV IE's length cannot be known: the rest is unreadable
                raise Gtpv1Error(f"unknown TV IE type {t}")
            start = pos + 1
        else:
            if pos + 3 > len(data):
                raise Gtpv1Error("truncated TLV IE header")
            n = struct.unpack_from("!H", data, pos + 1)[0]
            start = pos + 3
        if start + n > len(data):
            raise Gtpv1Error(f"IE {t} length {n} runs past the message")
        if t < last:
            raise Gtpv1Error(f"IE {t} out of order after IE {last}")   # §7.7.0: ascending order
        last = t
        out.append(Ie(t, bytes(data[start:start + n])))
        pos = start + n
    return out


@dataclass(slots=True)
class Gtpv1:
    """One GTPv1-C message: type, the receiver's TEID (0 for a Create PDP Context Request), sequence, IEs."""

    type: int
    seq: int
    teid: int = 0
    ies: list[Ie] = field(default_factory=list)

    @property
    def name(self) -> str:
        return MSG_NAME.get(self.type, f"message type {self.type}")

    def find(self, type_name: str, nth: int = 0) -> Ie | None:
        found = [ie for ie in self.ies if ie.type == IE[type_name]]
        return found[nth] if nth < len(found) else None

    def need(self, type_name: str, nth: int = 0, size: int | None = None) -> bytes:
        """The IE's value; Gtpv1Error with Mandatory IE missing (absent) or incorrect (wrong size)."""
        ie = self.find(type_name, nth)
        if ie is None:
            raise Gtpv1Error(f"{self.name}: mandatory IE {type_name} missing", CAUSE["Mandatory IE missing"])
        if size is not None and len(ie.value) != size:
            raise Gtpv1Error(f"{self.name}: IE {type_name} of {len(ie.value)} octets", CAUSE["Mandatory IE incorrect"])
        return ie.value

    def need_u32(self, type_name: str) -> int:
        return int.from_bytes(self.need(type_name, size=4), "big")

    def encode(self) -> bytes:
        ies = sorted(self.ies, key=lambda ie: ie.type)   # stable: two GSN Addresses keep their order
        body = b"".join(ie.encode() for ie in ies)
        return _HDR.pack(0x32, self.type, 4 + len(body), self.teid & 0xFFFFFFFF, self.seq & 0xFFFF, 0, 0) + body

    @classmethod
    def decode(cls, data: bytes) -> Gtpv1:
        if len(data) < 8:
            raise Gtpv1Error(f"truncated GTPv1-C header ({len(data)} bytes)")
        flags, mtype, length, teid = struct.unpack_from("!BBHI", data)
        if flags >> 5 != 1:
            raise Gtpv1Error(f"GTP version {flags >> 5} is not GTPv1", CAUSE["Version not supported"])
        if not flags & 0x10:
            raise Gtpv1Error("GTP' (protocol type 0) is not GTP")
        if 8 + length != len(data):
            raise Gtpv1Error(f"length {length} does not match the datagram ({len(data) - 8} octets follow)")
        if not flags & 0x02:
            raise Gtpv1Error("a GTPv1-C message without a sequence number (§9.1)")
        if len(data) < HLEN:
            raise Gtpv1Error("truncated optional header fields")
        seq = struct.unpack_from("!H", data, 8)[0]
        pos = HLEN
        if flags & 0x04:   # §6.1: extension headers, length in 4-octet units, the last octet names the next
            nxt = data[11]
            while nxt:
                if pos >= len(data) or data[pos] == 0 or pos + 4 * data[pos] > len(data):
                    raise Gtpv1Error("malformed extension header")
                pos += 4 * data[pos]
                nxt = data[pos - 1]
        return cls(mtype, seq, teid, _decode_ies(bytes(data[pos:])))


# --- typed IEs -------------------------------------------------------------------------


def end_user_address(ipv4: str | None) -> Ie:
    """§7.7.27: PDP type IETF IPv4, with the address (a GGSN's answer) or without (a dynamic request)."""
    addr = b"" if ipv4 is None else ipaddress.IPv4Address(ipv4).packed
    return Ie(IE["End User Address"], bytes((0xF0 | PDP_ORG_IETF, PDP_TYPE_IPV4)) + addr)


def read_end_user_address(msg: Gtpv1) -> str | None:
    v = msg.need("End User Address")
    if len(v) not in (2, 6) or v[0] & 0x0F != PDP_ORG_IETF or v[1] != PDP_TYPE_IPV4:
        raise Gtpv1Error("End User Address is not IETF IPv4", CAUSE["Mandatory IE incorrect"])
    return str(ipaddress.IPv4Address(v[2:6])) if len(v) == 6 else None


def gsn_address(ipv4: str) -> Ie:
    """§7.7.32: an IPv4 GSN Address."""
    return Ie(IE["GSN Address"], ipaddress.IPv4Address(ipv4).packed)


def read_gsn_address(msg: Gtpv1, nth: int) -> str:
    v = msg.need("GSN Address", nth)
    if len(v) != 4:
        raise Gtpv1Error("GSN Address is not IPv4", CAUSE["Mandatory IE incorrect"])
    return str(ipaddress.IPv4Address(v))


def qos_profile() -> Ie:
    """§7.7.34: Allocation/Retention Priority 2, then TS 24.008 §10.5.6.5 octets 3-13 (R99): delay class 4,
    reliability class 3, peak throughput class 1, precedence 2, best-effort mean throughput, the interactive
    traffic class, 1500-octet SDUs, 8640 kbit/s maximum bit rates up and down, no guaranteed rate."""
    return Ie(IE["QoS Profile"], bytes((0x02, 0x23, 0x12, 0x1F, 0x72, 0x96, 0xFE, 0xFE, 0x74, 0x43, 0xFF, 0xFF)))


def msisdn(digits: str) -> Ie:
    """§7.7.33: a TS 29.002 AddressString: international E.164, then the digits in TBCD."""
    d = digits + ("f" if len(digits) % 2 else "")
    return Ie(IE["MSISDN"], b"\x91" + bytes(int(d[i + 1], 16) << 4 | int(d[i]) for i in range(0, len(d), 2)))
