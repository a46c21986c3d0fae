"""S1AP (TS 36.413) in ASN.1 aligned PER (X.691): the messages of an attach, a detach and the S1 Setup.

No ASN.1 compiler: each IE's type is encoded by hand from TS 36.413 §9.3
(ASN.1) with X.691's aligned rules — constrained whole numbers as bit-fields
(range < 256), one aligned octet (256), two aligned octets (<= 64K) or an
aligned length-prefixed octet string (larger ranges: MME-UE-S1AP-ID, BitRate);
fixed OCTET/BIT STRINGs of more than 16 bits aligned, of 16 or fewer not;
extension bits in front of every extensible SEQUENCE, CHOICE, ENUMERATED and
INTEGER; open types with their unconstrained length determinant.

    S1AP-PDU ::= CHOICE { initiatingMessage, successfulOutcome, unsuccessfulOutcome, ... }
        each: SEQUENCE { procedureCode (0..255), criticality, value (open type) }
    value: SEQUENCE { protocolIEs ProtocolIE-Container (SIZE(0..65535)), ... }
        each IE: { id (0..65535), criticality, value (open type) }

The messages (procedure code, IEs with their ids and criticalities as §9.1 lists them):
S1SetupRequest / S1SetupResponse (17), InitialUEMessage (12),
DownlinkNASTransport (11), UplinkNASTransport (13),
InitialContextSetupRequest / Response (9), UEContextReleaseCommand / Complete
(23), Paging (10). A message is a name and its IEs as Python values
(`S1ap.ies`), the IE names those of §9.1 (`MME-UE-S1AP-ID`, `NAS-PDU`, `TAI`,
`E-RABToBeSetupListCtxtSUReq`, ...). Decoding refuses with S1apError what it
cannot read (a truncated open type, a mandatory IE missing, a value out of
range); an IE it does not know is skipped, as criticality "ignore" asks.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError
from netplex.packet.gtpv2c import plmn_digits as _plmn_digits
from netplex.packet.gtpv2c import plmn_id

__all__ = ["S1ap", "S1apError", "MESSAGES", "plmn_digits"]


class S1apError(NetplexError, ValueError):
    """Bytes that are not an S1AP message netplex reads (the receiver counts and drops it)."""


def plmn_digits(octets: bytes) -> str:
    """TS 24.008 Figure 10.5.13's three octets as MCC+MNC digits ("00f110" -> "00101")."""
    try:
        return _plmn_digits(octets)
    except ValueError as e:
        raise S1apError(str(e)) from None


def _plmn(plmn: str) -> bytes:
    return plmn_id(plmn[:3], plmn[3:])


# -- the aligned PER bit stream -----------------------------------------------------------
class _W:
    def __init__(self) -> None:
        self.v = 0
        self.n = 0

    def bits(self, value: int, n: int) -> None:
        if not 0 <= value < 1 << n:
            raise S1apError(f"value {value} does not fit in {n} bits")
        self.v = self.v << n | value
        self.n += n

    def align(self) -> None:
        self.bits(0, -self.n % 8)

    def octets(self, data: bytes) -> None:
        self.align()
        self.bits(int.from_bytes(data, "big"), 8 * len(data))

    def length(self, n: int) -> None:
        """An unconstrained length determinant (X.691 §11.9.3.6-7), aligned."""
        self.align()
        if n < 128:
            self.bits(n, 8)
        elif n < 16384:
            self.bits(0x8000 | n, 16)
        else:
            raise S1apError("length over 16K is not produced")

    def cint(self, value: int, lb: int, ub: int) -> None:
        """A constrained whole number (X.691 §11.5.7, the aligned variant)."""
        if not lb <= value <= ub:
            raise S1apError(f"value {value} outside {lb}..{ub}")
        rng, v = ub - lb + 1, value - lb
        if rng == 1:
            return
        if rng <= 255:
            self.bits(v, (rng - 1).bit_length())
        elif rng == 256:
            self.align()
            self.bits(v, 8)
        elif rng <= 65536:
            self.align()
            self.bits(v, 16)
        else:
            octets = max(1, (v.bit_length() + 7) // 8)
            self.cint(octets, 1, ((rng - 1).bit_length() + 7) // 8)
            self.align()
            self.bits(v, 8 * octets)

    def data(self) -> bytes:
        self.align()
        return self.v.to_bytes(self.n // 8, "big")


class _R:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.v = int.from_bytes(data, "big")
        self.total = 8 * len(data)
        self.pos = 0

    def bits(self, n: int) -> int:
        if self.pos + n > self.total:
            raise S1apError("S1AP message truncated")
        self.pos += n
        return (self.v >> (self.total - self.pos)) & ((1 << n) - 1)

    def align(self) -> None:
        self.pos += -self.pos % 8

    def octets(self, n: int) -> bytes:
        self.align()
        if self.pos + 8 * n > self.total:
            raise S1apError("S1AP message truncated")
        start = self.pos // 8
        self.pos += 8 * n
        return self.data[start:start + n]

    def length(self) -> int:
        self.align()
        b = self.bits(8)
        if b & 0x80 == 0:
            return b
        if b & 0xC0 == 0x80:
            return (b & 0x3F) << 8 | self.bits(8)
        raise S1apError("fragmented length determinant")

    def cint(self, lb: int, ub: int) -> int:
        rng = ub - lb + 1
        if rng == 1:
            return lb
        if rng <= 255:
            return lb + self.bits((rng - 1).bit_length())
        if rng == 256:
            self.align()
            return lb + self.bits(8)
        if rng <= 65536:
            self.align()
            return lb + self.bits(16)
        octets = self.cint(1, ((rng - 1).bit_length() + 7) // 8)
        self.align()
        v = lb + self.bits(8 * octets)
        if v > ub:
            raise S1apError(f"value {v} above {ub}")
        return v

    def ext(self, what: str) -> None:
        """An extension bit: netplex reads no extension additions."""
        if self.bits(1):
            raise S1apError(f"{what}: extension additions are not read")


# -- IE types (TS 36.413 §9.2) --------------------------------------------------------------
Enc = Callable[[_W, Any], None]
Dec = Callable[[_R], Any]


def _e_mme_id(w: _W, v: int) -> None:
    w.cint(v, 0, 0xFFFFFFFF)


def _d_mme_id(r: _R) -> int:
    return r.cint(0, 0xFFFFFFFF)


def _e_enb_id(w: _W, v: int) -> None:
    w.cint(v, 0, 0xFFFFFF)


def _d_enb_id(r: _R) -> int:
    return r.cint(0, 0xFFFFFF)


def _e_octets(w: _W, v: bytes) -> None:
    w.length(len(v))
    w.octets(v)


def _d_octets(r: _R) -> bytes:
    return r.octets(r.length())


def _e_tai(w: _W, v: dict[str, Any]) -> None:
    w.bits(0, 2)                                 # extension bit, iE-Extensions absent
    w.octets(_plmn(v["PLMN"]))
    w.bits(v["TAC"], 16)


def _d_tai(r: _R) -> dict[str, Any]:
    r.ext("TAI")
    r.bits(1)
    return {"PLMN": plmn_digits(r.octets(3)), "TAC": r.bits(16)}


def _e_cgi(w: _W, v: dict[str, Any]) -> None:
    w.bits(0, 2)
    w.octets(_plmn(v["PLMN"]))
    w.align()
    w.bits(v["cell-ID"], 28)


def _d_cgi(r: _R) -> dict[str, Any]:
    r.ext("EUTRAN-CGI")
    r.bits(1)
    plmn = plmn_digits(r.octets(3))
    r.align()
    return {"PLMN": plmn, "cell-ID": r.bits(28)}


RRC_CAUSES = ["emergency", "highPriorityAccess", "mt-Access", "mo-Signalling", "mo-Data"]
PAGING_DRX = ["v32", "v64", "v128", "v256"]
CAUSE_GROUPS = ["radioNetwork", "transport", "nas", "protocol", "misc"]
CAUSE_NAS = ["normal-release", "authentication-failure", "detach", "unspecified"]
CAUSE_RADIO_USER_INACTIVITY = 20   # CauseRadioNetwork user-inactivity (§9.2.1.3)


def _enum(values: list[str], ext: bool = True) -> tuple[Enc, Dec]:
    n = (len(values) - 1).bit_length()

    def enc(w: _W, v: str) -> None:
        if ext:
            w.bits(0, 1)
        w.bits(values.index(v), n)

    def dec(r: _R) -> str:
        if ext:
            r.ext("ENUMERATED")
        i = r.bits(n)
        if i >= len(values):
            raise S1apError(f"enumeration index {i} out of range")
        return values[i]
    return enc, dec


_e_rrc, _d_rrc = _enum(RRC_CAUSES)
_e_drx, _d_drx = _enum(PAGING_DRX)


def _e_global_enb(w: _W, v: dict[str, Any]) -> None:
    w.bits(0, 2)
    w.octets(_plmn(v["PLMN"]))
    w.bits(0, 2)                                 # eNB-ID: extension bit, macroENB-ID
    w.align()
    w.bits(v["eNB-ID"], 20)


def _d_global_enb(r: _R) -> dict[str, Any]:
    r.ext("Global-ENB-ID")
    r.bits(1)
    plmn = plmn_digits(r.octets(3))
    r.ext("ENB-ID")
    if r.bits(1):
        r.align()
        return {"PLMN": plmn, "eNB-ID": r.bits(28), "home": True}
    r.align()
    return {"PLMN": plmn, "eNB-ID": r.bits(20)}


def _e_supported_tas(w: _W, v: list[dict[str, Any]]) -> None:
    w.cint(len(v), 1, 256)
    for ta in v:
        w.bits(0, 2)
        w.bits(ta["TAC"], 16)
        w.cint(len(ta["PLMNs"]), 1, 6)
        for p in ta["PLMNs"]:
            w.octets(_plmn(p))


def _d_supported_tas(r: _R) -> list[dict[str, Any]]:
    out = []
    for _ in range(r.cint(1, 256)):
        r.ext("SupportedTAs-Item")
        r.bits(1)
        tac = r.bits(16)
        out.append({"TAC": tac, "PLMNs": [plmn_digits(r.octets(3)) for _ in range(r.cint(1, 6))]})
    return out


def _e_gummeis(w: _W, v: list[dict[str, Any]]) -> None:
    w.cint(len(v), 1, 8)
    for g in v:
        w.bits(0, 2)
        w.cint(len(g["PLMNs"]), 1, 32)
        for p in g["PLMNs"]:
            w.octets(_plmn(p))
        w.cint(len(g["MME-Group-IDs"]), 1, 65535)
        for gid in g["MME-Group-IDs"]:
            w.bits(gid, 16)
        w.cint(len(g["MME-Codes"]), 1, 256)
        for code in g["MME-Codes"]:
            w.bits(code, 8)


def _d_gummeis(r: _R) -> list[dict[str, Any]]:
    out = []
    for _ in range(r.cint(1, 8)):
        r.ext("ServedGUMMEIsItem")
        r.bits(1)
        plmns = [plmn_digits(r.octets(3)) for _ in range(r.cint(1, 32))]
        gids = [r.bits(16) for _ in range(r.cint(1, 65535))]
        codes = [r.bits(8) for _ in range(r.cint(1, 256))]
        out.append({"PLMNs": plmns, "MME-Group-IDs": gids, "MME-Codes": codes})
    return out


def _e_capacity(w: _W, v: int) -> None:
    w.cint(v, 0, 255)


def _d_capacity(r: _R) -> int:
    return r.cint(0, 255)


BITRATE_MAX = 10_000_000_000


def _e_ambr(w: _W, v: dict[str, int]) -> None:
    w.bits(0, 2)
    w.cint(v["uEaggregateMaximumBitRateDL"], 0, BITRATE_MAX)
    w.cint(v["uEaggregateMaximumBitRateUL"], 0, BITRATE_MAX)


def _d_ambr(r: _R) -> dict[str, int]:
    r.ext("UEAggregateMaximumBitrate")
    r.bits(1)
    return {"uEaggregateMaximumBitRateDL": r.cint(0, BITRATE_MAX), "uEaggregateMaximumBitRateUL": r.cint(0, BITRATE_MAX)}


def _e_tla(w: _W, ip: str) -> None:
    """TransportLayerAddress ::= BIT STRING (SIZE(1..160, ...)): an IPv4 address, 32 bits."""
    w.bits(0, 1)
    w.cint(32, 1, 160)
    w.octets(ipaddress.IPv4Address(ip).packed)


def _d_tla(r: _R) -> str:
    r.ext("TransportLayerAddress")
    n = r.cint(1, 160)
    if n != 32:
        raise S1apError(f"transport layer address of {n} bits (netplex reads IPv4)")
    return str(ipaddress.IPv4Address(r.octets(4)))


def _e_erab_id(w: _W, v: int) -> None:
    w.bits(0, 1)
    w.bits(v, 4)


def _d_erab_id(r: _R) -> int:
    r.ext("E-RAB-ID")
    return r.bits(4)


def _e_setup_item_req(w: _W, v: dict[str, Any]) -> None:
    nas = v.get("NAS-PDU")
    w.bits(0, 1)
    w.bits(1 if nas is not None else 0, 1)
    w.bits(0, 1)
    _e_erab_id(w, v["E-RAB-ID"])
    qos = v["E-RABLevelQoSParameters"]
    w.bits(0, 3)                                 # extension, gbrQosInformation and iE-Extensions absent
    w.cint(qos["qCI"], 0, 255)
    w.bits(0, 2)                                 # ARP: extension, iE-Extensions absent
    w.bits(qos.get("priorityLevel", 9), 4)
    w.bits(qos.get("pre-emptionCapability", 1), 1)
    w.bits(qos.get("pre-emptionVulnerability", 1), 1)
    _e_tla(w, v["transportLayerAddress"])
    w.octets(v["GTP-TEID"].to_bytes(4, "big"))
    if nas is not None:
        _e_octets(w, nas)


def _d_setup_item_req(r: _R) -> dict[str, Any]:
    r.ext("E-RABToBeSetupItemCtxtSUReq")
    has_nas = r.bits(1)
    r.bits(1)
    erab = _d_erab_id(r)
    r.ext("E-RABLevelQoSParameters")
    if r.bits(2):
        raise S1apError("GBR QoS information is not read")
    qci = r.cint(0, 255)
    r.ext("AllocationAndRetentionPriority")
    r.bits(1)
    qos = {"qCI": qci, "priorityLevel": r.bits(4), "pre-emptionCapability": r.bits(1),
           "pre-emptionVulnerability": r.bits(1)}
    v: dict[str, Any] = {"E-RAB-ID": erab, "E-RABLevelQoSParameters": qos, "transportLayerAddress": _d_tla(r),
                         "GTP-TEID": int.from_bytes(r.octets(4), "big")}
    if has_nas:
        v["NAS-PDU"] = _d_octets(r)
    return v


def _e_setup_item_res(w: _W, v: dict[str, Any]) -> None:
    w.bits(0, 2)
    _e_erab_id(w, v["E-RAB-ID"])
    _e_tla(w, v["transportLayerAddress"])
    w.octets(v["GTP-TEID"].to_bytes(4, "big"))


def _d_setup_item_res(r: _R) -> dict[str, Any]:
    r.ext("E-RABSetupItemCtxtSURes")
    r.bits(1)
    return {"E-RAB-ID": _d_erab_id(r), "transportLayerAddress": _d_tla(r),
            "GTP-TEID": int.from_bytes(r.octets(4), "big")}


def _list(item_id: int, crit: int, enc: Enc, dec: Dec) -> tuple[Enc, Dec]:
    """E-RAB-IE-ContainerList (SIZE(1..maxNrOfE-RABs)): ProtocolIE-SingleContainers of one item type."""

    def e(w: _W, items: list[Any]) -> None:
        w.cint(len(items), 1, 256)
        for it in items:
            _field(w, item_id, crit, enc, it)

    def d(r: _R) -> list[Any]:
        out = []
        for _ in range(r.cint(1, 256)):
            ie_id, _crit, value = _read_field(r)
            if ie_id != item_id:
                raise S1apError(f"E-RAB list item with IE id {ie_id}, not {item_id}")
            out.append(_sub(value, dec))
        return out
    return e, d


def _e_security_caps(w: _W, v: dict[str, int]) -> None:
    w.bits(0, 2)
    w.bits(0, 1)
    w.bits(v["encryptionAlgorithms"], 16)
    w.bits(0, 1)
    w.bits(v["integrityProtectionAlgorithms"], 16)


def _d_security_caps(r: _R) -> dict[str, int]:
    r.ext("UESecurityCapabilities")
    r.bits(1)
    r.ext("EncryptionAlgorithms")
    enc = r.bits(16)
    r.ext("IntegrityProtectionAlgorithms")
    return {"encryptionAlgorithms": enc, "integrityProtectionAlgorithms": r.bits(16)}


def _e_key(w: _W, v: bytes) -> None:
    if len(v) != 32:
        raise S1apError("SecurityKey is 256 bits")
    w.octets(v)


def _d_key(r: _R) -> bytes:
    return r.octets(32)


def _e_ue_ids(w: _W, v: dict[str, int]) -> None:
    w.bits(0, 2)                                 # CHOICE: extension bit, uE-S1AP-ID-pair
    w.bits(0, 2)                                 # the pair: extension bit, iE-Extensions absent
    _e_mme_id(w, v["MME-UE-S1AP-ID"])
    _e_enb_id(w, v["ENB-UE-S1AP-ID"])


def _d_ue_ids(r: _R) -> dict[str, int]:
    r.ext("UE-S1AP-IDs")
    if r.bits(1):
        return {"MME-UE-S1AP-ID": _d_mme_id(r)}
    r.ext("UE-S1AP-ID-pair")
    r.bits(1)
    return {"MME-UE-S1AP-ID": _d_mme_id(r), "ENB-UE-S1AP-ID": _d_enb_id(r)}


def _e_cause(w: _W, v: dict[str, Any]) -> None:
    (group, value), = v.items()
    w.bits(0, 1)
    w.bits(CAUSE_GROUPS.index(group), 3)
    w.bits(0, 1)
    if group == "nas":
        w.bits(CAUSE_NAS.index(value), 2)
    elif group == "radioNetwork":
        w.bits(value, 6)                         # CauseRadioNetwork: 36 root values
    else:
        raise S1apError(f"cause group {group} is not produced")


def _d_cause(r: _R) -> dict[str, Any]:
    r.ext("Cause")
    g = r.bits(3)
    if g >= len(CAUSE_GROUPS):
        raise S1apError("cause group out of range")
    r.ext("Cause value")
    group = CAUSE_GROUPS[g]
    if group == "nas":
        return {"nas": CAUSE_NAS[r.bits(2)]}
    width = {"radioNetwork": 6, "transport": 1, "protocol": 3, "misc": 3}[group]
    return {group: r.bits(width)}


def _e_stmsi(w: _W, v: dict[str, Any]) -> None:
    """S-TMSI ::= SEQUENCE { mMEC MME-Code, m-TMSI M-TMSI, iE-Extensions OPTIONAL, ... }."""
    w.bits(0, 2)
    w.bits(v["MMEC"], 8)
    w.octets(v["M-TMSI"].to_bytes(4, "big"))


def _d_stmsi(r: _R) -> dict[str, Any]:
    r.ext("S-TMSI")
    r.bits(1)
    return {"MMEC": r.bits(8), "M-TMSI": int.from_bytes(r.octets(4), "big")}


def _e_paging_id(w: _W, v: dict[str, Any]) -> None:
    """UEPagingID ::= CHOICE { s-TMSI, iMSI, ... }: the S-TMSI."""
    w.bits(0, 2)
    _e_stmsi(w, v)


def _d_paging_id(r: _R) -> dict[str, Any]:
    r.ext("UEPagingID")
    if r.bits(1):
        raise S1apError("paging by IMSI is not read")
    return _d_stmsi(r)


def _e_index(w: _W, v: int) -> None:
    w.bits(v, 10)                                 # UEIdentityIndexValue ::= BIT STRING (SIZE(10))


def _d_index(r: _R) -> int:
    return r.bits(10)


def _e_domain(w: _W, v: str) -> None:
    w.bits(["ps", "cs"].index(v), 1)


def _d_domain(r: _R) -> str:
    return ["ps", "cs"][r.bits(1)]


def _e_tai_list(w: _W, v: list[dict[str, Any]]) -> None:
    w.cint(len(v), 1, 256)
    for tai in v:
        _field(w, 47, 1, _e_tai_item, tai)


def _e_tai_item(w: _W, v: dict[str, Any]) -> None:
    w.bits(0, 2)
    _e_tai(w, v)


def _d_tai_list(r: _R) -> list[dict[str, Any]]:
    out = []
    for _ in range(r.cint(1, 256)):
        _id, _c, value = _read_field(r)
        out.append(_sub(value, _d_tai_item))
    return out


def _d_tai_item(r: _R) -> dict[str, Any]:
    r.ext("TAIItem")
    r.bits(1)
    return _d_tai(r)


_e_setup_list_req, _d_setup_list_req = _list(52, 0, _e_setup_item_req, _d_setup_item_req)
_e_setup_list_res, _d_setup_list_res = _list(50, 1, _e_setup_item_res, _d_setup_item_res)

REJECT, IGNORE, NOTIFY = 0, 1, 2

# IE name -> (id, encoder, decoder)
IES: dict[str, tuple[int, Enc, Dec]] = {
    "MME-UE-S1AP-ID": (0, _e_mme_id, _d_mme_id),
    "Cause": (2, _e_cause, _d_cause),
    "ENB-UE-S1AP-ID": (8, _e_enb_id, _d_enb_id),
    "E-RABToBeSetupListCtxtSUReq": (24, _e_setup_list_req, _d_setup_list_req),
    "NAS-PDU": (26, _e_octets, _d_octets),
    "UEPagingID": (43, _e_paging_id, _d_paging_id),
    "TAIList": (46, _e_tai_list, _d_tai_list),
    "E-RABSetupListCtxtSURes": (51, _e_setup_list_res, _d_setup_list_res),
    "Global-ENB-ID": (59, _e_global_enb, _d_global_enb),
    "SupportedTAs": (64, _e_supported_tas, _d_supported_tas),
    "uEaggregateMaximumBitrate": (66, _e_ambr, _d_ambr),
    "TAI": (67, _e_tai, _d_tai),
    "SecurityKey": (73, _e_key, _d_key),
    "UEIdentityIndexValue": (80, _e_index, _d_index),
    "RelativeMMECapacity": (87, _e_capacity, _d_capacity),
    "UE-S1AP-IDs": (99, _e_ue_ids, _d_ue_ids),
    "S-TMSI": (96, _e_stmsi, _d_stmsi),
    "EUTRAN-CGI": (100, _e_cgi, _d_cgi),
    "ServedGUMMEIs": (105, _e_gummeis, _d_gummeis),
    "UESecurityCapabilities": (107, _e_security_caps, _d_security_caps),
    "CNDomain": (109, _e_domain, _d_domain),
    "RRC-Establishment-Cause": (134, _e_rrc, _d_rrc),
    "DefaultPagingDRX": (137, _e_drx, _d_drx),
}
IE_NAME = {v[0]: k for k, v in IES.items()}

INITIATING, SUCCESSFUL, UNSUCCESSFUL = 0, 1, 2
_MME, _ENB = ("MME-UE-S1AP-ID", REJECT), ("ENB-UE-S1AP-ID", REJECT)
# name -> (procedure code, PDU kind, criticality, [(IE, criticality, mandatory)]) as TS 36.413 §9.1 lists them
MESSAGES: dict[str, tuple[int, int, int, list[tuple[str, int, bool]]]] = {
    "InitialContextSetupRequest": (9, INITIATING, REJECT, [
        (*_MME, True), (*_ENB, True), ("uEaggregateMaximumBitrate", REJECT, True),
        ("E-RABToBeSetupListCtxtSUReq", REJECT, True), ("UESecurityCapabilities", REJECT, True),
        ("SecurityKey", REJECT, True)]),
    "InitialContextSetupResponse": (9, SUCCESSFUL, REJECT, [
        ("MME-UE-S1AP-ID", IGNORE, True), ("ENB-UE-S1AP-ID", IGNORE, True), ("E-RABSetupListCtxtSURes", IGNORE, True)]),
    "Paging": (10, INITIATING, IGNORE, [
        ("UEIdentityIndexValue", IGNORE, True), ("UEPagingID", IGNORE, True), ("CNDomain", IGNORE, True),
        ("TAIList", IGNORE, True)]),
    "DownlinkNASTransport": (11, INITIATING, IGNORE, [(*_MME, True), (*_ENB, True), ("NAS-PDU", REJECT, True)]),
    "InitialUEMessage": (12, INITIATING, IGNORE, [
        (*_ENB, True), ("NAS-PDU", REJECT, True), ("TAI", REJECT, True), ("EUTRAN-CGI", IGNORE, True),
        ("RRC-Establishment-Cause", IGNORE, True), ("S-TMSI", REJECT, False)]),
    "UplinkNASTransport": (13, INITIATING, IGNORE, [
        (*_MME, True), (*_ENB, True), ("NAS-PDU", REJECT, True), ("EUTRAN-CGI", IGNORE, True),
        ("TAI", IGNORE, True)]),
    "S1SetupRequest": (17, INITIATING, REJECT, [
        ("Global-ENB-ID", REJECT, True), ("SupportedTAs", REJECT, True), ("DefaultPagingDRX", IGNORE, True)]),
    "S1SetupResponse": (17, SUCCESSFUL, REJECT, [
        ("ServedGUMMEIs", REJECT, True), ("RelativeMMECapacity", IGNORE, True)]),
    "UEContextReleaseRequest": (18, INITIATING, IGNORE, [(*_MME, True), (*_ENB, True), ("Cause", IGNORE, True)]),
    "UEContextReleaseCommand": (23, INITIATING, REJECT, [("UE-S1AP-IDs", REJECT, True), ("Cause", IGNORE, True)]),
    "UEContextReleaseComplete": (23, SUCCESSFUL, REJECT, [
        ("MME-UE-S1AP-ID", IGNORE, True), ("ENB-UE-S1AP-ID", IGNORE, True)]),
}
_BY_CODE = {(v[0], v[1]): k for k, v in MESSAGES.items()}


def _open(w: _W, enc: Enc, value: Any) -> None:
    inner = _W()
    enc(inner, value)
    data = inner.data() or b"\0"
    w.length(len(data))
    w.octets(data)


def _field(w: _W, ie_id: int, crit: int, enc: Enc, value: Any) -> None:
    w.cint(ie_id, 0, 65535)
    w.bits(crit, 2)
    _open(w, enc, value)


def _read_field(r: _R) -> tuple[int, int, bytes]:
    ie_id = r.cint(0, 65535)
    crit = r.bits(2)
    if crit > NOTIFY:
        raise S1apError("criticality out of range")
    return ie_id, crit, r.octets(r.length())


def _sub(value: bytes, dec: Dec) -> Any:
    r = _R(value)
    out = dec(r)
    if (r.pos + 7) // 8 != len(value):
        raise S1apError("IE value longer than its type")
    return out


@dataclass(slots=True)
class S1ap:
    """One S1AP message: its name (`MESSAGES`) and IEs."""

    name: str
    ies: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        try:
            code, kind, crit, spec = MESSAGES[self.name]
        except KeyError:
            raise S1apError(f"S1AP message {self.name} is not produced") from None
        body = _W()
        present = [(n, c) for n, c, mand in spec if n in self.ies or mand]
        body.bits(0, 1)                          # the message SEQUENCE's extension bit
        body.cint(len(present), 0, 65535)
        for name, c in present:
            if name not in self.ies:
                raise S1apError(f"{self.name}: mandatory IE {name} missing")
            ie_id, enc, _ = IES[name]
            _field(body, ie_id, c, enc, self.ies[name])
        w = _W()
        w.bits(0, 1)                             # S1AP-PDU CHOICE: extension bit, then the alternative
        w.bits(kind, 2)
        w.cint(code, 0, 255)
        w.bits(crit, 2)
        w.length(len(body.data()))
        w.octets(body.data())
        return w.data()

    @classmethod
    def decode(cls, data: bytes) -> S1ap:
        r = _R(data)
        r.ext("S1AP-PDU")
        kind = r.bits(2)
        code = r.cint(0, 255)
        r.bits(2)
        body = r.octets(r.length())
        name = _BY_CODE.get((code, kind))
        if name is None:
            raise S1apError(f"S1AP procedure {code} ({['initiating', 'successful', 'unsuccessful', '?'][kind]}) "
                            "is not read")
        b = _R(body)
        b.ext(name)
        ies: dict[str, Any] = {}
        for _ in range(b.cint(0, 65535)):
            ie_id, _crit, value = _read_field(b)
            ie = IE_NAME.get(ie_id)
            if ie is None:
                continue                         # not understood: ignored (§10.3.4.1 treats "ignore" so)
            ies[ie] = _sub(value, IES[ie][2])
        for ie, _c, mandatory in MESSAGES[name][3]:
            if mandatory and ie not in ies:
                raise S1apError(f"{name}: mandatory IE {ie} missing")
        return cls(name, ies)
