"""The MME (TS 23.401 §4.4.2): the attach's conductor — S1AP to the eNodeB, S6a to the HSS, S11 to the SGW.

Steps it drives (the seed's numbering, TS 23.401 §5.3.2.1):

    2  InitialUEMessage arrives (NAS Attach Request)
    3  S6a Authentication-Information-Request to the HSS; NAS Authentication Request
       (RAND, AUTN) to the UE; check RES against XRES; NAS Security Mode Command;
       S6a Update-Location-Request (the subscription: APN, AMBR, the PGW)
    4  GTPv2-C Create Session Request on S11, allocating t1 (S11 MME GTP-C)
    7  Create Session Response from the SGW (to t1) with t6 and t7
    8  S1AP InitialContextSetupRequest: the E-RAB toward t7, NAS Attach Accept
    9  InitialContextSetupResponse with the eNodeB's t8; NAS Attach Complete
   10  Modify Bearer Request on S11 (to t6) with t8; Modify Bearer Response

The MME-initiated detach (TS 23.401 §5.3.8.3, `mme detach IMSI`): NAS Detach Request to
the UE, GTPv2-C Delete Session Request on S11 (to t6; the SGW deletes toward the PGW),
Delete Session Response; on the UE's Detach Accept, S1AP UEContextReleaseCommand.

A failure answers the UE with the NAS cause TS 29.272 Annex A and TS 24.301 give.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netplex.mobile.daemon import EpcDaemon, hex_teid, table
from netplex.mobile.diameter_link import DiameterClient, plmn_octets, realm
from netplex.mobile.messages import EMM_CAUSE, S1AP_PORT
from netplex.mobile.sctp_link import Association, SctpEndpoint
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.diameter import APP_S6A, CMD, RESULT, RESULT_NAME, Avp, Diameter, DiameterError
from netplex.packet.gtpv2c import (
    CAUSE,
    GTPV2C_PORT,
    IE,
    MSG,
    Gtpv2,
    Gtpv2Error,
    Ie,
    ambr,
    apn_encode,
    bearer_qos,
    fteid,
    paa,
    read_fteid,
    read_paa,
    serving_network,
    tbcd,
)
from netplex.packet.gtpv2c import cause as cause_ie
from netplex.packet.nas_eps import Nas, NasError
from netplex.packet.nas_security import (
    INTEGRITY,
    INTEGRITY_CIPHERED,
    INTEGRITY_CIPHERED_NEW,
    INTEGRITY_NEW,
    PLAIN,
    SERVICE_REQUEST,
    NasSecurity,
    kenb,
    next_hop,
)
from netplex.packet.s1ap import S1ap, S1apError

__all__ = ["Mme", "MmeUe"]

CAUSE_NAME = {v: k for k, v in CAUSE.items()}
EBI = 5   # the default bearer's EPS bearer identity
CAUSE_USER_INACTIVITY = 20   # S1AP CauseRadioNetwork user-inactivity (TS 36.413 §9.2.1.3)
# TS 24.301 §4.4.4.3: what the MME takes without integrity protection (before the security mode control)
UNPROTECTED_UPLINK = ("Attach Request", "Authentication Response", "Authentication Failure", "Detach Request")
MME_GROUP, MME_CODE = 1, 1                      # this MME's GUMMEI (TS 23.003 §2.8)
UE_ALGS = 0xC000                                 # TS 36.413 §9.2.1.40: 128-EEA1/EIA1 and 128-EEA2/EIA2
NO_STATE_MAINTAINED = 1                          # RFC 6733 §8.11 Auth-Session-State
RAT_TYPE_EUTRAN = 1004                           # TS 29.212 §5.3.31
ULR_S6A_INDICATOR, ULR_INITIAL_ATTACH = 0x02, 0x20   # TS 29.272 §7.3.7 ULR-Flags


@dataclass(slots=True)
class MmeUe:
    """One UE context (TS 23.401 §5.7.2)."""

    mme_ue_id: int
    enb_ue_id: int
    enb: int
    imsi: str
    apn: str
    state: str = "AUTHENTICATING"
    xres: bytes = b""
    kasme: bytes = b""
    kenb: bytes = b""
    sec: NasSecurity | None = None     # the EPS NAS security context (TS 24.301 §4.4.2)
    secured: bool = False              # the UE's Security Mode Complete verified: protect everything
    ambr_ul: int = 0
    ambr_dl: int = 0
    pgw: int | None = None
    sgw: int | None = None
    t1: int | None = None
    t6: int | None = None
    t7: int | None = None
    sgw_u: int | None = None
    t8: int | None = None
    enb_u: int | None = None
    ip: str | None = None
    attach_complete: bool = False
    cause: str | None = None
    seq: int = 0
    tai: dict[str, Any] | None = None            # where the UE last was (the eNodeB's TAI in S1AP)
    tai_list: list[dict[str, Any]] = field(default_factory=list)   # the TAs it may move in without a TAU
    ncc: int = 0                                 # next hop chaining count (TS 33.401 §7.2.8)
    nh: bytes = b""
    handovers: int = 0
    taus: int = 0


class Mme(EpcDaemon):
    comm = "mme"
    role = "MME"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], hss: int, sgw: int, plmn: str,
                 t3412: int = 3240) -> None:
        super().__init__(node, addr, names)
        self.t3412 = t3412                  # the periodic TAU timer given to UEs (seconds, a GPRS timer value)
        self.enb_tacs: dict[int, set[int]] = {}   # eNodeB address -> the TACs of its S1 Setup
        self.hss = hss
        self.sgw = sgw
        self.plmn = plmn
        self.ues: dict[int, MmeUe] = {}
        self.by_t1: dict[int, MmeUe] = {}
        self.by_session: dict[str, MmeUe] = {}
        self.newest: dict[str, MmeUe] = {}   # IMSI -> its newest context
        self._next_id = 1
        self._sessions = 0

    def start(self) -> None:
        self.s1 = SctpEndpoint(self, self.addr, S1AP_PORT, self._on_s1ap, count=self.count)
        self.enbs: dict[int, Association] = {}   # eNodeB address -> its S1-MME association
        self.s11 = self.udp(GTPV2C_PORT, self._on_s11)
        self.s6a = DiameterClient(self, self.hss, APP_S6A, realm(self.plmn), self._on_s6a)

    def by_imsi(self, imsi: str) -> MmeUe | None:
        """The newest context of `imsi`."""
        return self.newest.get(imsi)

    # -- S1AP / NAS ---------------------------------------------------------------------
    def _s1ap(self, ue: MmeUe, name: str, ies: dict[str, Any]) -> None:
        ids = {"MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id}
        assoc = self.enbs.get(ue.enb)
        if assoc is None:
            self.count("s1ap_no_association")
            return
        body = {"UE-S1AP-IDs": ids, **ies} if name == "UEContextReleaseCommand" else {**ids, **ies}
        self.s1.send(assoc, S1ap(name, body).encode(), 1)

    def _nas(self, ue: MmeUe, nas: Nas, step: int = 3, header: int | None = None) -> None:
        """A downlink NAS message: integrity protected and ciphered with EIA2/EEA2 once the UE completed
        the security mode control (TS 24.301 §4.4.5); `header` chooses another security header type."""
        pdu = nas.encode()
        header = (INTEGRITY_CIPHERED if ue.secured else PLAIN) if header is None else header
        if header != PLAIN and ue.sec is not None:
            pdu = ue.sec.protect(pdu, header)
        how = "" if header == PLAIN else ", integrity protected" if header == INTEGRITY_NEW else ", ciphered"
        self.note(step, "S1-MME", ue.enb, f"S1AP DownlinkNASTransport (NAS {nas.name}{how})")
        self._s1ap(ue, "DownlinkNASTransport", {"NAS-PDU": pdu})

    def _protect(self, ue: MmeUe, nas: Nas) -> bytes:
        return ue.sec.protect(nas.encode()) if ue.sec is not None and ue.secured else nas.encode()

    def _uplink_pdu(self, ue: MmeUe, pdu: bytes) -> Nas | None:
        """TS 24.301 §4.4.4.3: the plain NAS message of an uplink PDU, or None when it is to be
        discarded (a MAC that does not verify, a replayed COUNT, an unprotected message the MME
        takes only before the security mode control)."""
        header = pdu[0] >> 4 if pdu and pdu[0] & 0x0F == 7 else PLAIN
        if header == PLAIN:
            nas = Nas.decode(pdu)
            if ue.secured and nas.name not in UNPROTECTED_UPLINK:
                self.count("nas_unprotected_dropped")
                return None
            return nas
        if ue.sec is None:
            self.count("nas_no_security_context")
            return None
        try:
            nas = Nas.decode(ue.sec.unprotect(pdu))
        except NasError as e:
            if e.cause == 24:
                self.count("nas_mac_failure")
                return None
            raise
        if nas.name == "Security Mode Complete" and header == INTEGRITY_CIPHERED_NEW:
            ue.secured = True
        return nas

    def _reject(self, ue: MmeUe, name: str, emm_cause: int | None, why: str) -> None:
        ue.state, ue.cause = "REJECTED", why
        self._nas(ue, Nas(name, {} if emm_cause is None else {"EMM cause": emm_cause}))

    def _on_s1ap(self, assoc: Association, data: bytes) -> None:
        src = assoc.peer
        try:
            msg = S1ap.decode(data)
        except S1apError:
            self.count("s1ap_malformed")
            return
        self.enbs[src] = assoc
        if msg.name == "S1SetupRequest":
            # TS 36.413 §8.7.3: the MME answers with its GUMMEIs; it keeps the eNodeB's TAs for paging
            self.enb_tacs[src] = {ta["TAC"] for ta in msg.ies["SupportedTAs"]}
            self.s1.send(assoc, S1ap("S1SetupResponse", {
                "ServedGUMMEIs": [{"PLMNs": [self.plmn], "MME-Group-IDs": [MME_GROUP], "MME-Codes": [MME_CODE]}],
                "RelativeMMECapacity": 255}).encode(), 0)
            return
        try:
            if msg.name == "InitialUEMessage":
                pdu = msg.ies["NAS-PDU"]
                if pdu[:1] == bytes((SERVICE_REQUEST << 4 | 7,)):
                    self._service_request(msg, src)
                elif pdu[:1] in (bytes((INTEGRITY << 4 | 7,)), bytes((INTEGRITY_CIPHERED << 4 | 7,))):
                    self._initial_protected(msg, src)
                else:
                    self._initial_ue(msg, src)
                return
            if msg.name == "PathSwitchRequest":
                self._path_switch(msg, src)
                return
            ue = self.ues.get(msg.ies.get("MME-UE-S1AP-ID", -1))
            if ue is None:
                self.count("s1ap_unknown_ue")
                return
            if "TAI" in msg.ies:
                ue.tai = msg.ies["TAI"]
            if msg.name == "UEContextReleaseRequest" and ue.state == "ATTACHED":
                self._release_access_bearers(ue)
            elif msg.name == "UplinkNASTransport":
                nas = self._uplink_pdu(ue, msg.ies["NAS-PDU"])
                if nas is not None:
                    self._uplink_nas(ue, nas)
            elif msg.name == "InitialContextSetupResponse":
                erab = msg.ies["E-RABSetupListCtxtSURes"][0]
                ue.t8 = erab["GTP-TEID"]
                ue.enb_u = ip_to_int(erab["transportLayerAddress"])
                self._modify_bearer(ue)
        except NasError as e:
            # TS 24.301 §7: an EMM STATUS with the cause of what could not be read
            self.count("nas_malformed")
            ue = self.ues.get(msg.ies.get("MME-UE-S1AP-ID", -1))
            if ue is not None:
                self.count(f"emm_status_cause_{e.cause}")
                self._nas(ue, Nas("EMM Status", {"EMM cause": e.cause}), step=0)

    def _initial_ue(self, msg: S1ap, src: int) -> None:
        nas = Nas.decode(msg.ies["NAS-PDU"])
        if nas.name != "Attach Request":
            self.count("s1ap_unexpected")
            return
        imsi = nas.ies["EPS mobile identity"].get("IMSI")
        pdn = nas.ies["ESM message container"]["ies"]
        if imsi is None:
            self.count("nas_attach_without_imsi")   # a GUTI attach: netplex keeps no GUTIs
            return
        ue = MmeUe(self._next_id, msg.ies["ENB-UE-S1AP-ID"], src, imsi, str(pdn.get("Access point name", "")))
        ue.tai = msg.ies["TAI"]
        self._next_id += 1
        self.ues[ue.mme_ue_id] = ue
        self.newest[imsi] = ue
        self._diameter(ue, "Authentication-Information", "AIR", [
            Avp.make("Visited-PLMN-Id", plmn_octets(self.plmn)),
            Avp.make("Requested-EUTRAN-Authentication-Info", [Avp.make("Number-Of-Requested-Vectors", 1),
                                                              Avp.make("Immediate-Response-Preferred", 1)])])

    def _uplink_nas(self, ue: MmeUe, nas: Nas) -> None:
        if nas.name == "Authentication Response" and ue.state == "AUTHENTICATING":
            if bytes.fromhex(nas.ies["RES"]) != ue.xres:
                self._reject(ue, "Authentication Reject", None, "Authentication Reject: RES does not match XRES")
                return
            ue.state = "SECURITY"
            ue.sec = NasSecurity(ue.kasme, downlink=True)
            self._nas(ue, Nas("Security Mode Command", {
                "Selected NAS security algorithms": {"ciphering": "EEA2", "integrity": "EIA2"}}),
                header=INTEGRITY_NEW)
        elif nas.name == "Authentication Failure" and ue.state == "AUTHENTICATING":
            c = nas.ies.get("EMM cause")
            self._reject(ue, "Authentication Reject", None,
                         f"Authentication Failure from the UE: EMM cause #{c} ({EMM_CAUSE.get(c, 'unknown')})")
        elif nas.name == "Security Mode Complete" and ue.state == "SECURITY" and ue.secured:
            ue.state = "UPDATING-LOCATION"
            self._diameter(ue, "Update-Location", "ULR", [
                Avp.make("RAT-Type", RAT_TYPE_EUTRAN), Avp.make("ULR-Flags", ULR_S6A_INDICATOR | ULR_INITIAL_ATTACH),
                Avp.make("Visited-PLMN-Id", plmn_octets(self.plmn))])
        elif nas.name == "Attach Complete" and ue.state == "CONTEXT-SETUP":
            ue.attach_complete = True
            self._modify_bearer(ue)
        elif nas.name == "Tracking Area Update Request" and ue.state in ("ATTACHED", "SWITCHING"):
            self._tau(ue, nas, initial=False)
        elif nas.name == "Detach Accept" and ue.state in ("DETACHING", "DEREGISTERED"):
            self.note(0, "S1-MME", ue.enb, "S1AP UEContextReleaseCommand (Cause nas: detach)")
            self._s1ap(ue, "UEContextReleaseCommand", {"Cause": {"nas": "detach"}})

    # -- S6a -------------------------------------------------------------------------------
    def _diameter(self, ue: MmeUe, command: str, short: str, avps: list[Avp]) -> None:
        """An S6a request (TS 29.272 §7.2.3, §7.2.5) for `ue` over the Diameter connection to the HSS."""
        home = realm(self.plmn)
        self._sessions += 1
        session = f"{self.node}.{home};{self._sessions};{ue.mme_ue_id};{short}"   # RFC 6733 §8.8
        self.by_session[session] = ue
        self.note(3, "S6a", self.hss, f"Diameter {command}-Request ({short}, User-Name {ue.imsi})")
        self.s6a.request(Diameter(CMD[command], APP_S6A, True, [
            Avp.make("Session-Id", session), Avp.make("Auth-Session-State", NO_STATE_MAINTAINED),
            Avp.make("Origin-Host", f"{self.node}.{home}"), Avp.make("Origin-Realm", home),
            Avp.make("Destination-Realm", realm(ue.imsi[:5])), Avp.make("User-Name", ue.imsi), *avps]))

    def _on_s6a(self, msg: Diameter) -> None:
        try:
            ue = self.by_session.pop(msg.get("Session-Id"), None)
            if ue is None:
                return
            code = msg.result()
            if code != RESULT["DIAMETER_SUCCESS"]:
                emm = 8 if code == 5001 else 11 if code == 5004 else 111
                self._reject(ue, "Attach Reject", emm,
                             f"Attach Reject: EMM cause #{emm} ({EMM_CAUSE[emm]}); the HSS answered "
                             f"{RESULT_NAME.get(code, code)}")
                return
            if msg.code == CMD["Authentication-Information"]:
                vec = msg.need("Authentication-Info").need("E-UTRAN-Vector")
                ue.xres, ue.kasme = vec.get("XRES"), vec.get("KASME")
                self._nas(ue, Nas("Authentication Request", {
                    "RAND": vec.get("RAND").hex(), "AUTN": vec.get("AUTN").hex(), "NAS key set identifier": 0}))
            elif msg.code == CMD["Update-Location"]:
                self._subscribed(ue, msg.need("Subscription-Data"))
        except (DiameterError, LookupError, TypeError, ValueError, AttributeError):
            self.count("diameter_malformed")

    def _subscribed(self, ue: MmeUe, sub: Avp) -> None:
        """ULA: the APN must be subscribed; its PGW (MIP6-Agent-Info) and the APN-AMBR come with it."""
        profile = sub.need("APN-Configuration-Profile").value
        apns = [a for a in profile if isinstance(a, Avp) and a.name == "APN-Configuration"] \
            if isinstance(profile, list) else []
        conf = next((c for c in apns if c.get("Service-Selection") == (ue.apn or c.get("Service-Selection"))), None)
        if conf is None:
            self._reject(ue, "Attach Reject", 19, f"Attach Reject: ESM cause #27 (Missing or unknown APN {ue.apn})")
            return
        ue.apn = conf.get("Service-Selection")
        ue.pgw = ip_to_int(conf.need("MIP6-Agent-Info").get("MIP-Home-Agent-Address"))
        bw = sub.need("AMBR")
        ue.ambr_ul = bw.get("Max-Requested-Bandwidth-UL") // 1000
        ue.ambr_dl = bw.get("Max-Requested-Bandwidth-DL") // 1000
        self._create_session(ue)

    # -- S11 -------------------------------------------------------------------------------
    def _create_session(self, ue: MmeUe) -> None:
        """Step 4: t1, this MME's S11 TEID, and the PGW the SGW is to reach over S5/S8."""
        ue.state, ue.sgw = "CREATING-SESSION", self.sgw
        ue.t1 = self.new_teid()
        self.by_t1[ue.t1] = ue
        ue.seq = self.next_seq()
        msg = Gtpv2(MSG["Create Session Request"], ue.seq, 0, [
            Ie(IE["IMSI"], tbcd(ue.imsi)),
            Ie(IE["RAT Type"], bytes((6,))),
            serving_network(self.plmn[:3], self.plmn[3:]),
            fteid("S11 MME GTP-C", ue.t1, int_to_ip(self.addr)),
            fteid("S5/S8 PGW GTP-C", 0, int_to_ip(ue.pgw or 0), instance=1),
            Ie(IE["APN"], apn_encode(ue.apn)),
            Ie(IE["Selection Mode"], b"\x00"),
            Ie(IE["PDN Type"], b"\x01"),
            paa("0.0.0.0"),
            ambr(ue.ambr_ul, ue.ambr_dl),
            Ie(IE["Bearer Context"], [Ie(IE["EBI"], bytes((EBI,))), bearer_qos()]),
        ])
        self.note(4, "S11", self.sgw, f"GTPv2-C Create Session Request: MME allocated t1={hex_teid(ue.t1)} "
                                      f"(S11 MME GTP-C); PGW {self.name_of(ue.pgw or 0)}")
        self.send(self.s11, msg.encode(), self.sgw, GTPV2C_PORT)

    def _on_s11(self, data: bytes, src: int, sport: int) -> None:
        msg = self.gtpv2_rx(self.s11, data, src, sport)
        if msg is None:
            return
        ue = self.by_t1.get(msg.teid or 0)
        if ue is None:
            self.count("gtpv2_unknown_teid")
            return
        try:
            c = self.accepted(msg)
            if msg.type == MSG["Create Session Response"]:
                if c != CAUSE["Request accepted"]:
                    self._reject(ue, "Attach Reject", 19, f"Attach Reject: EMM cause #19 (ESM failure); "
                                                          f"Create Session Response cause {c} ({CAUSE_NAME.get(c, '?')})")
                    return
                ue.t6 = read_fteid(msg.need("F-TEID"))[1]
                ue.ip = read_paa(msg.need("PAA"))
                _, ue.t7, sgw_u = read_fteid(msg.need("Bearer Context").need("F-TEID"))
                ue.sgw_u = ip_to_int(sgw_u)
                self._context_setup(ue)
            elif msg.type == MSG["Release Access Bearers Response"] and ue.state == "RELEASING":
                # TS 23.401 §5.3.5 step 5: the eNodeB releases the UE; it is in ECM-IDLE
                ue.state = "IDLE"
                self.note(0, "S1-MME", ue.enb, "S1AP UEContextReleaseCommand (Cause radioNetwork: user-inactivity)")
                self._s1ap(ue, "UEContextReleaseCommand", {"Cause": {"radioNetwork": CAUSE_USER_INACTIVITY}})
            elif msg.type == MSG["Downlink Data Notification"]:
                self.send(self.s11, Gtpv2(MSG["Downlink Data Notification Acknowledge"], msg.seq, ue.t6,
                                          [cause_ie(CAUSE["Request accepted"])]).encode(), src, sport)
                if ue.state == "IDLE":
                    self._page(ue)
            elif msg.type == MSG["Modify Bearer Response"] and ue.state == "MODIFYING-BEARER":
                ue.state = "ATTACHED" if c == CAUSE["Request accepted"] else "REJECTED"
            elif msg.type == MSG["Modify Bearer Response"] and ue.state == "SWITCHING":
                self._path_switched(ue, c)
            elif msg.type == MSG["Delete Session Response"] and ue.state == "DETACHING":
                self.by_t1.pop(ue.t1 or 0, None)
                ue.state = "DEREGISTERED"
                if c != CAUSE["Request accepted"]:
                    ue.cause = f"Delete Session Response cause {c} ({CAUSE_NAME.get(c, '?')})"
        except Gtpv2Error as e:
            self.count("gtpv2_malformed")
            ue.state, ue.cause = "REJECTED", f"{msg.name}: {e}"

    # -- ECM-IDLE and paging (TS 23.401 §5.3.5, §5.3.4) ----------------------------------------
    def _release_access_bearers(self, ue: MmeUe) -> None:
        """The eNodeB asks to release an inactive UE: the SGW forgets t8 first (§5.3.5 steps 2-3)."""
        ue.state = "RELEASING"
        self.note(0, "S11", ue.sgw or 0, f"GTPv2-C Release Access Bearers Request to t6={hex_teid(ue.t6)}")
        self.send(self.s11, Gtpv2(MSG["Release Access Bearers Request"], self.next_seq(), ue.t6, []).encode(),
                  ue.sgw or 0, GTPV2C_PORT)

    def _page(self, ue: MmeUe) -> None:
        """§5.3.4.3 step 4: S1AP Paging with the UE's S-TMSI to every eNodeB of its tracking area."""
        ue.state = "PAGING"
        tacs = {t["TAC"] for t in ue.tai_list}
        for addr, assoc in self.enbs.items():
            if not tacs & self.enb_tacs.get(addr, set()):
                continue                     # a cell of no TA of the UE's list: it is not there
            self.note(0, "S1-MME", addr, f"S1AP Paging (S-TMSI M-TMSI 0x{ue.mme_ue_id:08x})")
            self.count("paging_sent")
            self.s1.send(assoc, S1ap("Paging", {
                "UEIdentityIndexValue": int(ue.imsi) % 1024,
                "UEPagingID": {"MMEC": MME_CODE, "M-TMSI": ue.mme_ue_id}, "CNDomain": "ps",
                "TAIList": ue.tai_list}).encode(), 0)

    def _service_request(self, msg: S1ap, src: int) -> None:
        """§5.3.4.1: a SERVICE REQUEST from a UE in ECM-IDLE (found by its S-TMSI): its short MAC must
        verify; then the bearer is set up again, to a new t8, without a NAS message."""
        stmsi = msg.ies.get("S-TMSI")
        ue = self.ues.get(stmsi["M-TMSI"]) if stmsi is not None else None
        if ue is None or ue.state not in ("IDLE", "PAGING") or ue.sec is None:
            self.count("nas_service_request_unknown_ue")
            return
        if not ue.sec.check_service_request(msg.ies["NAS-PDU"]):
            self.count("nas_mac_failure")
            return
        ue.enb_ue_id, ue.enb, ue.t8, ue.tai = msg.ies["ENB-UE-S1AP-ID"], src, None, msg.ies["TAI"]
        self.note(0, "S1-MME", src, f"S1AP InitialContextSetupRequest (Service Request): E-RAB to t7={hex_teid(ue.t7)}")
        self._context_setup(ue, nas=False)

    def _context_setup(self, ue: MmeUe, nas: bool = True) -> None:
        """Step 8: tell the eNodeB the SGW's t7 and hand the UE its Attach Accept (none after a
        Service Request)."""
        ue.state = "CONTEXT-SETUP"
        ue.kenb = kenb(ue.kasme, max(ue.sec.rx_count, 0) if ue.sec is not None else 0)
        ue.nh, ue.ncc = ue.kenb, 0              # TS 33.401 §7.2.8.1: the NH chain starts from the new K_eNB
        if nas:
            ue.tai_list = [ue.tai or {"PLMN": self.plmn, "TAC": 1}]
        accept = Nas("Attach Accept", {
            "EPS attach result": "EPS only", "T3412 value": self.t3412, "TAI list": ue.tai_list,
            "GUTI": {"PLMN": self.plmn, "MME group ID": MME_GROUP, "MME code": MME_CODE,
                     "M-TMSI": f"0x{ue.mme_ue_id:08x}"},
            "ESM message container": {"name": "Activate Default EPS Bearer Context Request", "ies": {
                "EPS bearer identity": EBI, "PTI": 1, "Access point name": ue.apn, "PDN address": ue.ip,
                "APN-AMBR": {"UL kbps": ue.ambr_ul, "DL kbps": ue.ambr_dl}}}})
        if nas:
            self.note(8, "S1-MME", ue.enb, f"S1AP InitialContextSetupRequest: E-RAB to t7={hex_teid(ue.t7)} at "
                                           f"{int_to_ip(ue.sgw_u or 0)}, NAS Attach Accept (UE IP {ue.ip})")
        self._s1ap(ue, "InitialContextSetupRequest", {
            "uEaggregateMaximumBitrate": {"uEaggregateMaximumBitRateDL": ue.ambr_dl * 1000,
                                          "uEaggregateMaximumBitRateUL": ue.ambr_ul * 1000},
            "E-RABToBeSetupListCtxtSUReq": [{"E-RAB-ID": EBI, "E-RABLevelQoSParameters": {"qCI": 9},
                                             "transportLayerAddress": int_to_ip(ue.sgw_u or 0), "GTP-TEID": ue.t7,
                                             **({"NAS-PDU": self._protect(ue, accept)} if nas else {})}],
            "UESecurityCapabilities": {"encryptionAlgorithms": UE_ALGS, "integrityProtectionAlgorithms": UE_ALGS},
            "SecurityKey": ue.kenb or bytes(32)})

    def _modify_bearer(self, ue: MmeUe) -> None:
        """Step 10, once both the eNodeB's t8 and the UE's Attach Complete are in."""
        if ue.t8 is None or not ue.attach_complete or ue.state != "CONTEXT-SETUP":
            return
        ue.state = "MODIFYING-BEARER"
        msg = Gtpv2(MSG["Modify Bearer Request"], self.next_seq(), ue.t6, [
            Ie(IE["Bearer Context"], [Ie(IE["EBI"], bytes((EBI,))),
                                      fteid("S1-U eNodeB GTP-U", ue.t8, int_to_ip(ue.enb_u or 0))])])
        self.note(10, "S11", ue.sgw or 0, f"GTPv2-C Modify Bearer Request to t6={hex_teid(ue.t6)}: "
                                          f"the eNodeB's t8={hex_teid(ue.t8)} (S1-U eNodeB GTP-U)")
        self.send(self.s11, msg.encode(), ue.sgw or 0, GTPV2C_PORT)

    # -- mobility: X2 handover's path switch, tracking area updates (TS 23.401 §5.5.1.1.2, §5.3.3) ----
    def _path_switch(self, msg: S1ap, src: int) -> None:
        """S1AP PathSwitchRequest from the target eNodeB: the UE's S1 connection moves there and the SGW is
        told the target's t8 (Modify Bearer); the answer waits for the SGW's."""
        ue = self.ues.get(msg.ies["SourceMME-UE-S1AP-ID"])
        if ue is None or ue.state != "ATTACHED":
            self.count("s1ap_path_switch_unknown_ue")
            return
        erab = msg.ies["E-RABToBeSwitchedDLList"][0]
        ue.enb, ue.enb_ue_id, ue.tai = src, msg.ies["ENB-UE-S1AP-ID"], msg.ies["TAI"]
        ue.t8, ue.enb_u = erab["GTP-TEID"], ip_to_int(erab["transportLayerAddress"])
        ue.state, ue.handovers = "SWITCHING", ue.handovers + 1
        self.note(0, "S11", ue.sgw or 0, f"GTPv2-C Modify Bearer Request to t6={hex_teid(ue.t6)}: the target "
                                         f"eNodeB's t8={hex_teid(ue.t8)} (path switch)")
        self.send(self.s11, Gtpv2(MSG["Modify Bearer Request"], self.next_seq(), ue.t6, [
            Ie(IE["Bearer Context"], [Ie(IE["EBI"], bytes((EBI,))),
                                      fteid("S1-U eNodeB GTP-U", ue.t8, int_to_ip(ue.enb_u))])]).encode(),
            ue.sgw or 0, GTPV2C_PORT)

    def _path_switched(self, ue: MmeUe, c: int) -> None:
        """The SGW switched (it sent the End Marker on the old path): PathSwitchRequestAcknowledge with the
        next {NH, NCC} pair for the target's next handover (TS 33.401 §7.2.8.4.2)."""
        ue.state = "ATTACHED"
        if c != CAUSE["Request accepted"]:
            ue.cause = f"Modify Bearer Response cause {c} ({CAUSE_NAME.get(c, '?')}) on the path switch"
            return
        ue.nh, ue.ncc = next_hop(ue.kasme, ue.nh), (ue.ncc + 1) % 8
        self.note(0, "S1-MME", ue.enb, f"S1AP PathSwitchRequestAcknowledge (NCC {ue.ncc})")
        self._s1ap(ue, "PathSwitchRequestAcknowledge", {
            "SecurityContext": {"nextHopChainingCount": ue.ncc, "nextHopParameter": ue.nh}})

    def _initial_protected(self, msg: S1ap, src: int) -> None:
        """An initial NAS message integrity protected by a UE in ECM-IDLE (a periodic or idle-mode TRACKING
        AREA UPDATE REQUEST, TS 24.301 §5.5.3.2.2), found by its S-TMSI."""
        stmsi = msg.ies.get("S-TMSI")
        ue = self.ues.get(stmsi["M-TMSI"]) if stmsi is not None else None
        if ue is None or ue.state not in ("IDLE", "PAGING") or ue.sec is None:
            self.count("nas_initial_unknown_ue")
            return
        nas = self._uplink_pdu(ue, msg.ies["NAS-PDU"])
        if nas is None or nas.name != "Tracking Area Update Request":
            self.count("s1ap_unexpected")
            return
        ue.enb_ue_id, ue.enb, ue.tai = msg.ies["ENB-UE-S1AP-ID"], src, msg.ies["TAI"]
        self._tau(ue, nas, initial=True)

    def _tau(self, ue: MmeUe, nas: Nas, initial: bool) -> None:
        """TS 23.401 §5.3.3.2 (intra-MME): the UE's current TA joins its TAI list when it is not in it;
        TRACKING AREA UPDATE ACCEPT; a UE that came from ECM-IDLE without the active flag is released."""
        ue.taus += 1
        kind = nas.ies.get("EPS update type", "TA updating")
        if ue.tai is not None and ue.tai not in ue.tai_list:
            ue.tai_list = [ue.tai]
        self.count("tau_periodic" if kind == "periodic updating" else "tau")
        self._nas(ue, Nas("Tracking Area Update Accept", {
            "EPS update result": "TA updated", "T3412 value": self.t3412, "TAI list": ue.tai_list}), step=0)
        if initial and not nas.ies.get("Active flag"):
            self.note(0, "S1-MME", ue.enb, "S1AP UEContextReleaseCommand (Cause nas: normal-release)")
            self._s1ap(ue, "UEContextReleaseCommand", {"Cause": {"nas": "normal-release"}})

    def detach(self, imsi: str) -> str | None:
        """`mme detach IMSI`: the MME-initiated detach of an attached UE; None when there is none."""
        ue = self.newest.get(imsi)
        if ue is None or ue.state != "ATTACHED":
            return None
        ue.state = "DETACHING"
        self._nas(ue, Nas("Detach Request", {"Detach type": "re-attach not required"}), step=0)
        msg = Gtpv2(MSG["Delete Session Request"], self.next_seq(), ue.t6, [
            Ie(IE["EBI"], bytes((EBI,))),
            Ie(IE["Indication"], b"\x08\x00\x00")])   # OI: the SGW forwards the deletion to the PGW
        self.note(0, "S11", ue.sgw or 0, f"GTPv2-C Delete Session Request to t6={hex_teid(ue.t6)} (EBI {EBI})")
        self.send(self.s11, msg.encode(), ue.sgw or 0, GTPV2C_PORT)
        return ""

    # -- show -------------------------------------------------------------------------------
    def show_ue(self) -> str:
        rows = [("IMSI", "MME-UE-ID", "ENB-UE-ID", "STATE", "APN", "UE-IP", "t1(MME-S11)", "t6(SGW-S11)",
                 "t7(SGW-S1U)", "t8(ENB-S1U)", "ENB", "TAI", "TAI-LIST")]
        for u in self.ues.values():
            rows.append((u.imsi, str(u.mme_ue_id), str(u.enb_ue_id), u.state, u.apn or "-", u.ip or "-",
                         hex_teid(u.t1), hex_teid(u.t6), hex_teid(u.t7), hex_teid(u.t8), self.name_of(u.enb),
                         _tai(u.tai), ",".join(_tai(t) for t in u.tai_list) or "-"))
        return table(rows)



def _tai(tai: dict[str, Any] | None) -> str:
    """A TAI as `MCCMNC-TAC` (TS 23.003 §19.4.2.3)."""
    return "-" if tai is None else f"{tai['PLMN']}-{tai['TAC']}"
