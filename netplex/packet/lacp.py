"""LACPDUs: the Link Aggregation Control Protocol's frames (IEEE 802.1AX-2008 §5.4.2,
formerly 802.3ad clause 43.4.2), carried in the Slow Protocols (EtherType 0x8809,
subtype 1) to the Slow_Protocols_Multicast address 01:80:C2:00:00:02.

A LACPDU is 110 bytes after the Ethernet header: subtype, version, the Actor and
Partner information TLVs (type 1 and 2, length 20: system priority, system MAC,
key, port priority, port number, state), the Collector TLV (type 3, length 16:
maximum delay), the Terminator TLV (type 0, length 0) and 50 reserved bytes.
Linux builds the same frame in drivers/net/bonding/bond_3ad.c (`struct lacpdu`).

The Marker protocol (802.1AX §6.5, subtype 2, `struct bond_marker`): a Marker Information
TLV (type 1, length 16: requester port, system, transaction id) that a receiver answers
with the same PDU as a Marker Response (type 2); also 110 bytes with its terminator.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["ETH_P_SLOW", "LACPDU_LEN", "LACP_MAC", "LacpInfo", "Lacpdu", "Marker", "MARKER_INFORMATION",
           "MARKER_RESPONSE",
           "LACP_ACTIVITY", "LACP_TIMEOUT", "LACP_AGGREGATION", "LACP_SYNCHRONIZATION", "LACP_COLLECTING",
           "LACP_DISTRIBUTING", "LACP_DEFAULTED", "LACP_EXPIRED", "state_names"]

ETH_P_SLOW = 0x8809
LACP_MAC = bytes.fromhex("0180c2000002")
SUBTYPE_LACP = 1
SUBTYPE_MARKER = 2
MARKER_INFORMATION, MARKER_RESPONSE = 1, 2
LACPDU_LEN = 110

# the actor/partner state bits (802.1AX §5.4.2.2 item m)
LACP_ACTIVITY, LACP_TIMEOUT, LACP_AGGREGATION, LACP_SYNCHRONIZATION = 0x01, 0x02, 0x04, 0x08
LACP_COLLECTING, LACP_DISTRIBUTING, LACP_DEFAULTED, LACP_EXPIRED = 0x10, 0x20, 0x40, 0x80
_STATE_NAMES = ("active", "short_timeout", "aggregating", "in_sync", "collecting", "distributing",
                "defaulted", "expired")

_INFO = struct.Struct("!BBH6sHHHB3x")       # type, length, sys prio, system, key, port prio, port, state
_HEAD = struct.Struct("!BB")
_COLLECTOR = struct.Struct("!BBH12x")
_TERM = struct.Struct("!BB50x")
_MARKER = struct.Struct("!BBBBH6sIHBB90x")   # subtype, version, TLV type, length 16, port, system, id, pad, term


def state_names(state: int) -> str:
    """iproute2's `ad_actor_oper_port_state_str`: the set bits by name, comma-separated."""
    return ",".join(n for i, n in enumerate(_STATE_NAMES) if state & (1 << i))


@dataclass(slots=True)
class LacpInfo:
    """One side's information: what an Actor or Partner TLV carries."""

    system_priority: int = 0
    system: bytes = b"\x00" * 6
    key: int = 0
    port_priority: int = 0
    port: int = 0
    state: int = 0


@dataclass(slots=True)
class Lacpdu:
    """A LACPDU (the Slow Protocols payload, from the subtype on)."""

    actor: LacpInfo
    partner: LacpInfo
    collector_max_delay: int = 0
    version: int = 1

    def encode(self) -> bytes:
        a, p = self.actor, self.partner
        return (_HEAD.pack(SUBTYPE_LACP, self.version)
                + _INFO.pack(1, 20, a.system_priority, a.system, a.key, a.port_priority, a.port, a.state)
                + _INFO.pack(2, 20, p.system_priority, p.system, p.key, p.port_priority, p.port, p.state)
                + _COLLECTOR.pack(3, 16, self.collector_max_delay) + _TERM.pack(0, 0))

    def wire_len(self) -> int:
        return LACPDU_LEN

    def copy(self) -> Lacpdu:
        return self

    @classmethod
    def decode(cls, data: bytes) -> Lacpdu | Marker | bytes:
        """A LACPDU, or a Marker PDU; other Slow Protocols (OAM) stay bytes."""
        if len(data) >= LACPDU_LEN and data[0] == SUBTYPE_MARKER:
            return Marker.decode(data)
        if len(data) < LACPDU_LEN or data[0] != SUBTYPE_LACP:
            return bytes(data)
        infos = []
        for off, want in ((2, 1), (22, 2)):
            t, ln, prio, system, key, pprio, port, state = _INFO.unpack_from(data, off)
            if t != want or ln != 20:
                return bytes(data)
            infos.append(LacpInfo(prio, system, key, pprio, port, state))
        _t, _l, delay = _COLLECTOR.unpack_from(data, 42)
        return cls(infos[0], infos[1], delay, data[1])


@dataclass(slots=True)
class Marker:
    """A Marker PDU: Marker Information (`tlv_type` 1) or Marker Response (2)."""

    tlv_type: int
    requester_port: int
    requester_system: bytes
    transaction_id: int
    version: int = 1

    def encode(self) -> bytes:
        return _MARKER.pack(SUBTYPE_MARKER, self.version, self.tlv_type, 16, self.requester_port,
                            self.requester_system, self.transaction_id, 0, 0, 0)

    def wire_len(self) -> int:
        return LACPDU_LEN

    def copy(self) -> Marker:
        return self

    @classmethod
    def decode(cls, data: bytes) -> Marker | bytes:
        """A Marker PDU (its TLV of length 16), else the bytes as they came."""
        if len(data) < LACPDU_LEN or data[0] != SUBTYPE_MARKER:
            return bytes(data)
        _sub, version, tlv_type, length, port, system, tid, _pad, _t, _tl = _MARKER.unpack_from(data)
        if length != 16:
            return bytes(data)
        return cls(tlv_type, port, system, tid, version)
