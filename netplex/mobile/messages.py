"""The modelled control messages: RRC (TS 36.331) on the radio, and the 2.5G/3G GMM/SM, BSSGP,
RANAP and MAP (netplex.mobile.gprs).

These travel as netplex's own encoding, not the real one: a JSON object
`{"proto": ..., "name": ..., "ies": {...}}` whose message and IE names are
the specifications' (`RRCConnectionSetupComplete`, `RAB-AssignmentRequest`).
The NAS message an RRC message carries is real TS 24.301 bytes
(`netplex.packet.nas_eps`), in its `NAS-PDU` IE as hex. Where they travel:

    Uu      UE <-> eNodeB   Ethernet frames of type 0x88B5 (IEEE 802 local experimental) on the radio link

S1-MME (eNodeB <-> MME) is real S1AP over SCTP port 36412 (`netplex.packet.s1ap`,
`sctp_link`); S6a (MME <-> HSS) and Gx (PGW <-> PCRF) are real Diameter over TCP 3868
(`netplex.packet.diameter`, `diameter_link`); GTPv2-C (S11, S5/S8), GTPv1-C (Gn) and GTP-U are real bytes
(`netplex.packet.gtpv2c`, `gtpv1c`, `gtpu`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError

__all__ = ["ETH_P_UU", "S1AP_PORT", "Msg", "MessageError", "EMM_CAUSE"]

ETH_P_UU = 0x88B5
S1AP_PORT = 36412   # SCTP (TS 36.412 §7)

# TS 24.301 Annex A, the EMM causes netplex gives
EMM_CAUSE = {
    3: "Illegal UE",
    8: "EPS services and non-EPS services not allowed",
    11: "PLMN not allowed",
    20: "MAC failure",
    111: "Protocol error, unspecified",
}

MAX_MESSAGE = 65535


class MessageError(NetplexError, ValueError):
    """A datagram that is not a modelled message (the receiver drops it and counts it)."""


@dataclass(slots=True)
class Msg:
    """One modelled message: protocol (RRC, NAS, S1AP, Diameter), name, IEs (JSON values)."""

    proto: str
    name: str
    ies: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps({"proto": self.proto, "name": self.name, "ies": self.ies},
                          separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes, proto: str) -> Msg:
        """The message, or MessageError when it is not a `proto` message."""
        if len(data) > MAX_MESSAGE:
            raise MessageError(f"{proto}: message of {len(data)} bytes")
        try:
            obj = json.loads(data.decode())
        except (UnicodeDecodeError, ValueError):
            raise MessageError(f"{proto}: not a modelled message") from None
        if not isinstance(obj, dict) or obj.get("proto") != proto or not isinstance(obj.get("name"), str) \
                or not isinstance(obj.get("ies"), dict):
            raise MessageError(f"{proto}: not a modelled {proto} message")
        return cls(proto, obj["name"], obj["ies"])

    def ie(self, name: str, kind: type = str) -> Any:
        """A mandatory IE of the expected JSON type, or MessageError naming it."""
        v = self.ies.get(name)
        if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
            raise MessageError(f"{self.proto} {self.name}: IE {name} missing or malformed")
        return v

    def nas(self) -> Msg:
        """The NAS message carried in this message's NAS-PDU IE."""
        pdu = self.ie("NAS-PDU", dict)
        if not isinstance(pdu.get("name"), str) or not isinstance(pdu.get("ies"), dict):
            raise MessageError(f"{self.proto} {self.name}: NAS-PDU is not a NAS message")
        return Msg("NAS", pdu["name"], pdu["ies"])

    def as_ie(self) -> dict[str, Any]:
        """This (NAS) message as the value of a NAS-PDU IE."""
        return {"name": self.name, "ies": self.ies}
