"""X2AP (TS 36.423) in ASN.1 aligned PER: the X2 Setup and the messages of an X2-based handover.

The X2 interface joins two eNodeBs over SCTP (port 36422, payload protocol
identifier 27). netplex produces and reads (procedure codes of §9.3.7, IEs and
criticalities as §9.1 lists them; the PER primitives and the PDU framing are
`netplex.packet.aper`'s, the IE types both protocols share are S1AP's):

    X2SetupRequest / X2SetupResponse (6)   GlobalENB-ID, ServedCells (PCI, ECGI, TAC, PLMNs, FDD EARFCNs)
    HandoverRequest (0)                    Old-eNB-UE-X2AP-ID, Cause, TargetCell-ID, GUMMEI,
                                           UE-ContextInformation (MME-UE-S1AP-ID, security capabilities,
                                           K_eNB* and NCC, UE-AMBR, the E-RABs with their uplink
                                           GTP tunnel endpoint at the SGW, the RRC context), UE-HistoryInformation
    HandoverRequestAcknowledge (0)         the E-RABs admitted with the target's downlink forwarding
                                           tunnel endpoint, the RRC HandoverCommand for the UE
    HandoverPreparationFailure (0)         Cause
    SNStatusTransfer (4)                   the E-RAB's uplink and downlink PDCP COUNTs
    UEContextRelease (5)                   the old and new eNB UE X2AP IDs

The RRC containers (RRC-Context, TargeteNBtoSource-eNBTransparentContainer)
carry TS 36.331 bytes in unaligned PER: `handover_preparation_information()`
and `handover_command()` build the smallest valid ones (netplex's radio itself
is modelled). Decoding refuses with X2apError what it cannot read.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.aper import (
    IGNORE,
    INITIATING,
    REJECT,
    SUCCESSFUL,
    UNSUCCESSFUL,
    ApMessage,
    ApProtocol,
    PerError,
    container_list,
    enumerated,
)
from netplex.packet.aper import PerReader as _R
from netplex.packet.aper import PerWriter as _W
from netplex.packet.s1ap import AMBR, ECGI, ERAB_ID, GLOBAL_ENB_ID, KEY, QOS, SECURITY_CAPS, TLA, plmn_digits
from netplex.packet.s1ap import _plmn as plmn_octets

__all__ = ["X2ap", "X2apError", "X2AP", "X2AP_PORT", "X2AP_PPID", "CAUSE_RADIO", "handover_command",
           "handover_preparation_information"]

X2AP_PORT = 36422
X2AP_PPID = 27
# CauseRadioNetwork's root values (§9.2.6)
CAUSE_RADIO = ["handover-desirable-for-radio-reasons", "time-critical-handover", "resource-optimisation-handover",
               "reduce-load-in-serving-cell", "partial-handover", "unknown-new-eNB-UE-X2AP-ID",
               "unknown-old-eNB-UE-X2AP-ID", "unknown-pair-of-UE-X2AP-ID", "ho-target-not-allowed",
               "tx2relocoverall-expiry", "trelocprep-expiry", "cell-not-available",
               "no-radio-resources-available-in-target-cell", "invalid-MME-GroupID", "unknown-MME-Code",
               "encryption-and-or-integrity-protection-algorithms-not-supported", "reportCharacteristicsEmpty",
               "noReportPeriodicity", "existingMeasurementID", "unknown-eNB-Measurement-ID",
               "measurement-temporarily-not-available", "unspecified"]
CAUSE_TRANSPORT = ["transport-resource-unavailable", "unspecified"]
CAUSE_PROTOCOL = ["transfer-syntax-error", "abstract-syntax-error-reject", "abstract-syntax-error-ignore-and-notify",
                  "message-not-compatible-with-receiver-state", "semantic-error", "unspecified",
                  "abstract-syntax-error-falsely-constructed-message"]
CAUSE_MISC = ["control-processing-overload", "hardware-failure", "om-intervention",
              "not-enough-user-plane-processing-resources", "unspecified"]
_CAUSES = {"radioNetwork": enumerated(CAUSE_RADIO), "transport": enumerated(CAUSE_TRANSPORT),
           "protocol": enumerated(CAUSE_PROTOCOL), "misc": enumerated(CAUSE_MISC)}
_CAUSE_GROUPS = list(_CAUSES)
BANDWIDTHS = ["bw6", "bw15", "bw25", "bw50", "bw75", "bw100"]
_e_bw, _d_bw = enumerated(BANDWIDTHS)
_e_cell_size, _d_cell_size = enumerated(["verysmall", "small", "medium", "large"])
_e_dl_fwd, _d_dl_fwd = enumerated(["dL-forwardingProposed"])


class X2apError(PerError):
    """Bytes that are not an X2AP message netplex reads (the receiver counts and drops it)."""


def _e_x2_id(w: _W, v: int) -> None:
    w.cint(v, 0, 4095)                           # UE-X2AP-ID ::= INTEGER (0..4095)


def _d_x2_id(r: _R) -> int:
    return r.cint(0, 4095)


def _e_cause(w: _W, v: dict[str, str]) -> None:
    (group, value), = v.items()
    w.bits(0, 1)
    w.bits(_CAUSE_GROUPS.index(group), 2)
    _CAUSES[group][0](w, value)


def _d_cause(r: _R) -> dict[str, str]:
    r.ext("Cause")
    group = _CAUSE_GROUPS[r.bits(2)]
    return {group: _CAUSES[group][1](r)}


def _e_gummei(w: _W, v: dict[str, Any]) -> None:
    """GUMMEI ::= SEQUENCE { gU-Group-ID { pLMN-Identity, mME-Group-ID OCTET STRING (2) }, mME-Code (1) }."""
    w.bits(0, 2)
    w.bits(0, 2)
    w.octets(plmn_octets(v["PLMN"]))
    w.bits(v["MME-Group-ID"], 16)
    w.bits(v["MME-Code"], 8)


def _d_gummei(r: _R) -> dict[str, Any]:
    r.ext("GUMMEI")
    r.bits(1)
    r.ext("GU-Group-ID")
    r.bits(1)
    plmn = plmn_digits(r.octets(3))
    return {"PLMN": plmn, "MME-Group-ID": r.bits(16), "MME-Code": r.bits(8)}


def _e_gtp_endpoint(w: _W, v: dict[str, Any]) -> None:
    """GTPtunnelEndpoint ::= SEQUENCE { transportLayerAddress, gTP-TEID OCTET STRING (4), iE-Extensions, ... }."""
    w.bits(0, 2)
    TLA[0](w, v["transportLayerAddress"])
    w.octets(v["GTP-TEID"].to_bytes(4, "big"))


def _d_gtp_endpoint(r: _R) -> dict[str, Any]:
    r.ext("GTPtunnelEndpoint")
    r.bits(1)
    return {"transportLayerAddress": TLA[1](r), "GTP-TEID": int.from_bytes(r.octets(4), "big")}


def _e_erab_setup_item(w: _W, v: dict[str, Any]) -> None:
    fwd = v.get("dL-Forwarding")
    w.bits(0, 1)
    w.bits(1 if fwd else 0, 1)
    w.bits(0, 1)
    ERAB_ID[0](w, v["E-RAB-ID"])
    QOS[0](w, v["E-RAB-Level-QoS-Parameters"])
    if fwd:
        _e_dl_fwd(w, fwd)
    _e_gtp_endpoint(w, v["uL-GTPtunnelEndpoint"])


def _d_erab_setup_item(r: _R) -> dict[str, Any]:
    r.ext("E-RABs-ToBeSetup-Item")
    has_fwd = r.bits(1)
    r.bits(1)
    out: dict[str, Any] = {"E-RAB-ID": ERAB_ID[1](r), "E-RAB-Level-QoS-Parameters": QOS[1](r)}
    if has_fwd:
        out["dL-Forwarding"] = _d_dl_fwd(r)
    out["uL-GTPtunnelEndpoint"] = _d_gtp_endpoint(r)
    return out


_e_erab_setup_list, _d_erab_setup_list = container_list(4, IGNORE, _e_erab_setup_item, _d_erab_setup_item)


def _e_octets(w: _W, v: bytes) -> None:
    w.length(len(v))
    w.octets(v)


def _d_octets(r: _R) -> bytes:
    return r.octets(r.length())


def _e_ue_context(w: _W, v: dict[str, Any]) -> None:
    """UE-ContextInformation: no subscriber profile, handover restriction or location reporting."""
    w.bits(0, 5)                                 # extension bit, four OPTIONAL members absent
    w.cint(v["MME-UE-S1AP-ID"], 0, 0xFFFFFFFF)
    SECURITY_CAPS[0](w, v["UESecurityCapabilities"])
    sec = v["AS-SecurityInformation"]
    w.bits(0, 2)
    KEY[0](w, sec["key-eNodeB-star"])
    w.bits(sec["nextHopChainingCount"], 3)
    AMBR[0](w, v["UEAggregateMaximumBitRate"])
    _e_erab_setup_list(w, v["E-RABs-ToBeSetup-List"])
    _e_octets(w, v["RRC-Context"])


def _d_ue_context(r: _R) -> dict[str, Any]:
    r.ext("UE-ContextInformation")
    if r.bits(4):
        raise X2apError("UE-ContextInformation: optional members are not read")
    out: dict[str, Any] = {"MME-UE-S1AP-ID": r.cint(0, 0xFFFFFFFF), "UESecurityCapabilities": SECURITY_CAPS[1](r)}
    r.ext("AS-SecurityInformation")
    r.bits(1)
    out["AS-SecurityInformation"] = {"key-eNodeB-star": KEY[1](r), "nextHopChainingCount": r.bits(3)}
    out["UEAggregateMaximumBitRate"] = AMBR[1](r)
    out["E-RABs-ToBeSetup-List"] = _d_erab_setup_list(r)
    out["RRC-Context"] = _d_octets(r)
    return out


def _e_history(w: _W, v: list[dict[str, Any]]) -> None:
    """UE-HistoryInformation: the E-UTRAN cells the UE was served by (LastVisitedEUTRANCellInformation)."""
    w.cint(len(v), 1, 16)
    for cell in v:
        w.bits(0, 3)                             # CHOICE: extension bit, e-UTRAN-Cell (2 bits)
        w.bits(0, 2)
        ECGI[0](w, cell["global-Cell-ID"])
        w.bits(0, 2)                             # CellType: extension, iE-Extensions absent
        _e_cell_size(w, cell.get("cell-Size", "small"))
        w.cint(min(cell["time-UE-StayedInCell"], 4095), 0, 4095)


def _d_history(r: _R) -> list[dict[str, Any]]:
    out = []
    for _ in range(r.cint(1, 16)):
        r.ext("LastVisitedCell-Item")
        if r.bits(2):
            raise X2apError("last visited UTRAN/GERAN cells are not read")
        r.ext("LastVisitedEUTRANCellInformation")
        r.bits(1)
        cgi = ECGI[1](r)
        r.ext("CellType")
        r.bits(1)
        out.append({"global-Cell-ID": cgi, "cell-Size": _d_cell_size(r), "time-UE-StayedInCell": r.cint(0, 4095)})
    return out


def _e_admitted_item(w: _W, v: dict[str, Any]) -> None:
    ul, dl = v.get("uL-GTP-TunnelEndpoint"), v.get("dL-GTP-TunnelEndpoint")
    w.bits(0, 1)
    w.bits(1 if ul else 0, 1)
    w.bits(1 if dl else 0, 1)
    w.bits(0, 1)
    ERAB_ID[0](w, v["E-RAB-ID"])
    if ul:
        _e_gtp_endpoint(w, ul)
    if dl:
        _e_gtp_endpoint(w, dl)


def _d_admitted_item(r: _R) -> dict[str, Any]:
    r.ext("E-RABs-Admitted-Item")
    has_ul, has_dl = r.bits(1), r.bits(1)
    r.bits(1)
    out: dict[str, Any] = {"E-RAB-ID": ERAB_ID[1](r)}
    if has_ul:
        out["uL-GTP-TunnelEndpoint"] = _d_gtp_endpoint(r)
    if has_dl:
        out["dL-GTP-TunnelEndpoint"] = _d_gtp_endpoint(r)
    return out


_e_admitted, _d_admitted = container_list(0, IGNORE, _e_admitted_item, _d_admitted_item)


def _e_count(w: _W, v: dict[str, int]) -> None:
    """COUNTvalue ::= SEQUENCE { pDCP-SN INTEGER (0..4095), hFN INTEGER (0..1048575), iE-Extensions, ... }."""
    w.bits(0, 2)
    w.cint(v["pDCP-SN"], 0, 4095)
    w.cint(v["hFN"], 0, 1048575)


def _d_count(r: _R) -> dict[str, int]:
    r.ext("COUNTvalue")
    r.bits(1)
    return {"pDCP-SN": r.cint(0, 4095), "hFN": r.cint(0, 1048575)}


def _e_status_item(w: _W, v: dict[str, Any]) -> None:
    w.bits(0, 3)                                 # extension; receiveStatusofULPDCPSDUs, iE-Extensions absent
    ERAB_ID[0](w, v["E-RAB-ID"])
    _e_count(w, v["uL-COUNTvalue"])
    _e_count(w, v["dL-COUNTvalue"])


def _d_status_item(r: _R) -> dict[str, Any]:
    r.ext("E-RABs-SubjectToStatusTransfer-Item")
    if r.bits(1):
        r.octets(512)                            # the 4096-bit receive status bitmap, skipped
    r.bits(1)
    return {"E-RAB-ID": ERAB_ID[1](r), "uL-COUNTvalue": _d_count(r), "dL-COUNTvalue": _d_count(r)}


_e_status_list, _d_status_list = container_list(19, IGNORE, _e_status_item, _d_status_item)


def _e_served_cells(w: _W, v: list[dict[str, Any]]) -> None:
    """ServedCells: each cell's PCI, ECGI, TAC, broadcast PLMNs and FDD carrier; no neighbour information."""
    w.cint(len(v), 1, 256)
    for c in v:
        w.bits(0, 3)                             # extension; neighbour-Info, iE-Extensions absent
        w.bits(0, 2)                             # ServedCell-Information: extension, iE-Extensions absent
        w.bits(0, 1)                             # PCI ::= INTEGER (0..503, ...)
        w.cint(c["pCI"], 0, 503)
        ECGI[0](w, c["cellId"])
        w.bits(c["tAC"], 16)                     # TAC ::= OCTET STRING (SIZE (2)): not aligned
        w.cint(len(c["broadcastPLMNs"]), 1, 6)
        for p in c["broadcastPLMNs"]:
            w.octets(plmn_octets(p))
        fdd = c["fDD"]
        w.bits(0, 2)                             # EUTRA-Mode-Info: extension, fDD
        w.bits(0, 2)                             # FDD-Info: extension, iE-Extensions absent
        w.cint(fdd["uL-EARFCN"], 0, 65535)
        w.cint(fdd["dL-EARFCN"], 0, 65535)
        _e_bw(w, fdd.get("uL-Transmission-Bandwidth", "bw50"))
        _e_bw(w, fdd.get("dL-Transmission-Bandwidth", "bw50"))


def _d_served_cells(r: _R) -> list[dict[str, Any]]:
    out = []
    for _ in range(r.cint(1, 256)):
        r.ext("ServedCells")
        if r.bits(2) & 0b10:
            raise X2apError("neighbour information is not read")
        r.ext("ServedCell-Information")
        r.bits(1)
        r.ext("PCI")
        c: dict[str, Any] = {"pCI": r.cint(0, 503), "cellId": ECGI[1](r), "tAC": r.bits(16)}
        c["broadcastPLMNs"] = [plmn_digits(r.octets(3)) for _ in range(r.cint(1, 6))]
        r.ext("EUTRA-Mode-Info")
        if r.bits(1):
            raise X2apError("TDD cells are not read")
        r.ext("FDD-Info")
        r.bits(1)
        c["fDD"] = {"uL-EARFCN": r.cint(0, 65535), "dL-EARFCN": r.cint(0, 65535),
                    "uL-Transmission-Bandwidth": _d_bw(r), "dL-Transmission-Bandwidth": _d_bw(r)}
        out.append(c)
    return out


IES: dict[str, tuple[int, Any, Any]] = {
    "E-RABs-Admitted-List": (1, _e_admitted, _d_admitted),
    "Cause": (5, _e_cause, _d_cause),
    "New-eNB-UE-X2AP-ID": (9, _e_x2_id, _d_x2_id),
    "Old-eNB-UE-X2AP-ID": (10, _e_x2_id, _d_x2_id),
    "TargetCell-ID": (11, *ECGI),
    "TargeteNBtoSource-eNBTransparentContainer": (12, _e_octets, _d_octets),
    "UE-ContextInformation": (14, _e_ue_context, _d_ue_context),
    "UE-HistoryInformation": (15, _e_history, _d_history),
    "E-RABs-SubjectToStatusTransfer-List": (18, _e_status_list, _d_status_list),
    "ServedCells": (20, _e_served_cells, _d_served_cells),
    "GlobalENB-ID": (21, *GLOBAL_ENB_ID),
    "GUMMEI-ID": (23, _e_gummei, _d_gummei),
}

_OLD, _NEW = ("Old-eNB-UE-X2AP-ID", REJECT), ("New-eNB-UE-X2AP-ID", REJECT)
MESSAGES: dict[str, tuple[int, int, int, list[tuple[str, int, bool]]]] = {
    "HandoverRequest": (0, INITIATING, REJECT, [
        (*_OLD, True), ("Cause", IGNORE, True), ("TargetCell-ID", REJECT, True), ("GUMMEI-ID", REJECT, True),
        ("UE-ContextInformation", REJECT, True), ("UE-HistoryInformation", IGNORE, True)]),
    "HandoverRequestAcknowledge": (0, SUCCESSFUL, REJECT, [
        ("Old-eNB-UE-X2AP-ID", IGNORE, True), ("New-eNB-UE-X2AP-ID", IGNORE, True),
        ("E-RABs-Admitted-List", IGNORE, True), ("TargeteNBtoSource-eNBTransparentContainer", IGNORE, True)]),
    "HandoverPreparationFailure": (0, UNSUCCESSFUL, REJECT, [
        ("Old-eNB-UE-X2AP-ID", IGNORE, True), ("Cause", IGNORE, True)]),
    "SNStatusTransfer": (4, INITIATING, IGNORE, [
        (*_OLD, True), (*_NEW, True), ("E-RABs-SubjectToStatusTransfer-List", IGNORE, True)]),
    "UEContextRelease": (5, INITIATING, IGNORE, [(*_OLD, True), (*_NEW, True)]),
    "X2SetupRequest": (6, INITIATING, REJECT, [("GlobalENB-ID", REJECT, True), ("ServedCells", REJECT, True)]),
    "X2SetupResponse": (6, SUCCESSFUL, REJECT, [("GlobalENB-ID", REJECT, True), ("ServedCells", REJECT, True)]),
}
X2AP = ApProtocol("X2AP", IES, MESSAGES)


class X2ap(ApMessage):
    """One X2AP message: its name (`MESSAGES`) and IEs."""

    __slots__ = ()
    protocol = X2AP
    error = X2apError


# -- the RRC containers (TS 36.331, unaligned PER) ----------------------------------------------
class _UperBits:
    """A few unaligned PER bits (TS 36.331's encoding): no alignment anywhere."""

    def __init__(self) -> None:
        self.v = 0
        self.n = 0

    def bits(self, value: int, n: int) -> None:
        self.v = self.v << n | value
        self.n += n

    def data(self) -> bytes:
        pad = -self.n % 8
        return (self.v << pad).to_bytes((self.n + pad) // 8, "big")


def _rrc_connection_reconfiguration() -> bytes:
    """DL-DCCH-Message: c1 rrcConnectionReconfiguration (transaction 0, r8, no optional member)."""
    u = _UperBits()
    u.bits(0, 1)                                 # DL-DCCH-MessageType: c1
    u.bits(4, 4)                                 # rrcConnectionReconfiguration
    u.bits(0, 2)                                 # rrc-TransactionIdentifier
    u.bits(0, 4)                                 # criticalExtensions c1, rrcConnectionReconfiguration-r8
    u.bits(0, 6)                                 # measConfig ... nonCriticalExtension absent
    return u.data()


def handover_command() -> bytes:
    """HandoverCommand (TS 36.331 §10.2.2): the target's RRCConnectionReconfiguration for the UE."""
    inner = _rrc_connection_reconfiguration()
    u = _UperBits()
    u.bits(0, 4)                                 # criticalExtensions c1, handoverCommand-r8
    u.bits(0, 1)                                 # nonCriticalExtension absent
    u.bits(len(inner), 8)                        # handoverCommandMessage: length, octets
    for b in inner:
        u.bits(b, 8)
    return u.data()


def handover_preparation_information() -> bytes:
    """HandoverPreparationInformation (TS 36.331 §10.2.2): r8, no UE capability container, no AS context."""
    u = _UperBits()
    u.bits(0, 4)                                 # criticalExtensions c1, handoverPreparationInformation-r8
    u.bits(0, 4)                                 # as-Config, rrm-Config, as-Context, nonCriticalExtension absent
    u.bits(0, 4)                                 # ue-RadioAccessCapabilityInfo: SIZE(0..8), empty
    return u.data()
