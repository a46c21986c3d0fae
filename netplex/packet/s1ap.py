"""S1AP (TS 36.413) in ASN.1 aligned PER (X.691): the messages of an attach, a detach, the S1 Setup, paging
and the X2 handover's Path Switch.

No ASN.1 compiler: each IE's type is encoded by hand from TS 36.413 §9.3
(ASN.1) with X.691's aligned rules (the primitives and the PDU framing are
`netplex.packet.aper`'s, shared with X2AP) — constrained whole numbers as bit-fields
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
(23), Paging (10), PathSwitchRequest / Acknowledge (3). A message is a name and its IEs as Python values
(`S1ap.ies`), the IE names those of §9.1 (`MME-UE-S1AP-ID`, `NAS-PDU`, `TAI`,
`E-RABToBeSetupListCtxtSUReq`, ...). Decoding refuses with S1apError what it
cannot read (a truncated open type, a mandatory IE missing, a value out of
range); an IE it does not know is skipped, as criticality "ignore" asks.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from netplex.packet.aper import (
    IGNORE,
    INITIATING,
    REJECT,
    SUCCESSFUL,
    ApMessage,
    ApProtocol,
    Dec,
    Enc,
    PerError,
    container_list,
    enumerated,
)
from netplex.packet.aper import PerReader as _R
from netplex.packet.aper import PerWriter as _W
from netplex.packet.aper import field as _field
from netplex.packet.aper import read_field as _read_field
from netplex.packet.aper import sub as _sub
from netplex.packet.gtpv2c import plmn_digits as _plmn_digits
from netplex.packet.gtpv2c import plmn_id

__all__ = ["S1ap", "S1apError", "MESSAGES", "plmn_digits", "S1AP", "ECGI", "TAI_TYPE", "GLOBAL_ENB_ID", "AMBR",
           "SECURITY_CAPS", "TLA", "ERAB_ID", "QOS", "CAUSE_RADIO_USER_INACTIVITY", "RRC_CAUSES", "enb_id_of"]


class S1apError(PerError):
    """Bytes that are not an S1AP message netplex reads (the receiver counts and drops it)."""


def plmn_digits(octets: bytes) -> str:
    """TS 24.008 Figure 10.5.13's three octets as MCC+MNC digits ("00f110" -> "00101")."""
    try:
        return _plmn_digits(octets)
    except ValueError as e:
        raise S1apError(str(e)) from None


def _plmn(plmn: str) -> bytes:
    return plmn_id(plmn[:3], plmn[3:])


# -- IE types (TS 36.413 §9.2) --------------------------------------------------------------
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


_e_rrc, _d_rrc = enumerated(RRC_CAUSES)
_e_drx, _d_drx = enumerated(PAGING_DRX)


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
    _e_qos(w, v["E-RABLevelQoSParameters"])
    _e_tla(w, v["transportLayerAddress"])
    w.octets(v["GTP-TEID"].to_bytes(4, "big"))
    if nas is not None:
        _e_octets(w, nas)


def _d_setup_item_req(r: _R) -> dict[str, Any]:
    r.ext("E-RABToBeSetupItemCtxtSUReq")
    has_nas = r.bits(1)
    r.bits(1)
    erab = _d_erab_id(r)
    qos = _d_qos(r)
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


def _e_security_context(w: _W, v: dict[str, Any]) -> None:
    """SecurityContext ::= SEQUENCE { nextHopChainingCount INTEGER (0..7), nextHopParameter SecurityKey, ... }."""
    w.bits(0, 2)
    w.bits(v["nextHopChainingCount"], 3)
    _e_key(w, v["nextHopParameter"])


def _d_security_context(r: _R) -> dict[str, Any]:
    r.ext("SecurityContext")
    r.bits(1)
    return {"nextHopChainingCount": r.bits(3), "nextHopParameter": _d_key(r)}


# E-RABToBeSwitchedDLItem has E-RABSetupItemCtxtSURes's members: e-RAB-ID, transportLayerAddress, gTP-TEID
_e_switched_dl, _d_switched_dl = container_list(23, REJECT, _e_setup_item_res, _d_setup_item_res)
_e_setup_list_req, _d_setup_list_req = container_list(52, 0, _e_setup_item_req, _d_setup_item_req)
_e_setup_list_res, _d_setup_list_res = container_list(50, 1, _e_setup_item_res, _d_setup_item_res)

# IE name -> (id, encoder, decoder)
IES: dict[str, tuple[int, Enc, Dec]] = {
    "MME-UE-S1AP-ID": (0, _e_mme_id, _d_mme_id),
    "Cause": (2, _e_cause, _d_cause),
    "ENB-UE-S1AP-ID": (8, _e_enb_id, _d_enb_id),
    "E-RABToBeSwitchedDLList": (22, _e_switched_dl, _d_switched_dl),
    "E-RABToBeSetupListCtxtSUReq": (24, _e_setup_list_req, _d_setup_list_req),
    "NAS-PDU": (26, _e_octets, _d_octets),
    "UEPagingID": (43, _e_paging_id, _d_paging_id),
    "SecurityContext": (40, _e_security_context, _d_security_context),
    "TAIList": (46, _e_tai_list, _d_tai_list),
    "E-RABSetupListCtxtSURes": (51, _e_setup_list_res, _d_setup_list_res),
    "Global-ENB-ID": (59, _e_global_enb, _d_global_enb),
    "SupportedTAs": (64, _e_supported_tas, _d_supported_tas),
    "uEaggregateMaximumBitrate": (66, _e_ambr, _d_ambr),
    "TAI": (67, _e_tai, _d_tai),
    "SecurityKey": (73, _e_key, _d_key),
    "UEIdentityIndexValue": (80, _e_index, _d_index),
    "RelativeMMECapacity": (87, _e_capacity, _d_capacity),
    "SourceMME-UE-S1AP-ID": (88, _e_mme_id, _d_mme_id),
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

_MME, _ENB = ("MME-UE-S1AP-ID", REJECT), ("ENB-UE-S1AP-ID", REJECT)
# name -> (procedure code, PDU kind, criticality, [(IE, criticality, mandatory)]) as TS 36.413 §9.1 lists them
MESSAGES: dict[str, tuple[int, int, int, list[tuple[str, int, bool]]]] = {
    "InitialContextSetupRequest": (9, INITIATING, REJECT, [
        (*_MME, True), (*_ENB, True), ("uEaggregateMaximumBitrate", REJECT, True),
        ("E-RABToBeSetupListCtxtSUReq", REJECT, True), ("UESecurityCapabilities", REJECT, True),
        ("SecurityKey", REJECT, True)]),
    "InitialContextSetupResponse": (9, SUCCESSFUL, REJECT, [
        ("MME-UE-S1AP-ID", IGNORE, True), ("ENB-UE-S1AP-ID", IGNORE, True), ("E-RABSetupListCtxtSURes", IGNORE, True)]),
    "PathSwitchRequest": (3, INITIATING, REJECT, [
        (*_ENB, True), ("E-RABToBeSwitchedDLList", REJECT, True), ("SourceMME-UE-S1AP-ID", REJECT, True),
        ("EUTRAN-CGI", IGNORE, True), ("TAI", IGNORE, True), ("UESecurityCapabilities", IGNORE, True)]),
    "PathSwitchRequestAcknowledge": (3, SUCCESSFUL, REJECT, [
        ("MME-UE-S1AP-ID", IGNORE, True), ("ENB-UE-S1AP-ID", IGNORE, True), ("SecurityContext", REJECT, True)]),
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
S1AP = ApProtocol("S1AP", IES, MESSAGES)


def enb_id_of(addr: int) -> int:
    """A macro eNB ID (20 bits) from an eNodeB's IPv4 address, as netplex numbers them."""
    return addr & 0xFFFFF


class S1ap(ApMessage):
    """One S1AP message: its name (`MESSAGES`) and IEs."""

    __slots__ = ()
    protocol = S1AP
    error = S1apError


# the IE types X2AP (TS 36.423 §9.2) shares with S1AP, as (encoder, decoder) pairs
ECGI = (_e_cgi, _d_cgi)
TAI_TYPE = (_e_tai, _d_tai)
GLOBAL_ENB_ID = (_e_global_enb, _d_global_enb)
AMBR = (_e_ambr, _d_ambr)
SECURITY_CAPS = (_e_security_caps, _d_security_caps)
TLA = (_e_tla, _d_tla)
ERAB_ID = (_e_erab_id, _d_erab_id)
KEY = (_e_key, _d_key)


def _e_qos(w: _W, qos: dict[str, int]) -> None:
    """E-RAB-Level-QoS-Parameters (the same type in both protocols): QCI and ARP, no GBR information."""
    w.bits(0, 3)                                 # extension, gbrQosInformation and iE-Extensions absent
    w.cint(qos["qCI"], 0, 255)
    w.bits(0, 2)                                 # ARP: extension, iE-Extensions absent
    w.bits(qos.get("priorityLevel", 9), 4)
    w.bits(qos.get("pre-emptionCapability", 1), 1)
    w.bits(qos.get("pre-emptionVulnerability", 1), 1)


def _d_qos(r: _R) -> dict[str, int]:
    r.ext("E-RABLevelQoSParameters")
    if r.bits(2):
        raise S1apError("GBR QoS information is not read")
    qci = r.cint(0, 255)
    r.ext("AllocationAndRetentionPriority")
    r.bits(1)
    return {"qCI": qci, "priorityLevel": r.bits(4), "pre-emptionCapability": r.bits(1),
            "pre-emptionVulnerability": r.bits(1)}


QOS = (_e_qos, _d_qos)
