"""The 2.5G/3G packet core: the SGSN, the GGSN and the HLR (TS 23.060; GTPv1 TS 29.060; MAP TS 29.002).

The GPRS attach (TS 23.060 §6.5.3) and the PDP context activation (§9.2.2.1),
numbered as the narration (`netplex trace --attach MS`) prints them:

     1  MS -> SGSN  GMM Attach Request (over Gb's BSSGP or Iu-PS's RANAP)
     2  SGSN -> HLR MAP Send Authentication Info; the HLR answers with one vector:
                    a UMTS quintuplet (3G) or a GSM triplet (2.5G), Milenage (TS 35.206 / 55.205)
     3  SGSN -> MS  GMM Authentication and Ciphering Request (RAND[, AUTN]); the MS answers RES or SRES
     4  SGSN -> HLR MAP Update GPRS Location; the HLR sends Insert Subscriber Data (the APN, its GGSN)
     5  SGSN -> MS  GMM Attach Accept (a P-TMSI); Attach Complete
     6  MS -> SGSN  SM Activate PDP Context Request (NSAPI 5, the APN)
     7  SGSN -> GGSN GTPv1-C Create PDP Context Request: the SGSN's TEID-C and TEID-U (Gn)
     8  GGSN -> SGSN Create PDP Context Response: the GGSN's TEID-C and TEID-U, the PDP address
     9  (3G) SGSN -> RNC RANAP RAB Assignment Request: the SGSN's Iu-U TEID; the RNC's in the response
    10  SGSN -> MS  SM Activate PDP Context Accept (the PDP address)

GTPv1-C (Gn, UDP 2123) and GTP-U (Gn and Iu-U, UDP 2152) are real bytes; MAP on
Gr travels as netplex's JSON `Msg` over UDP 2905 (its real transport is
TCAP/SCCP over SIGTRAN). The GGSN is the PGW's user plane and Gx client
(`Pgw`) with a GTPv1-C control plane: the same SGi side (`upf0`), gates, NAT.
A GTPv1-C request that cannot be read is answered with the TS 29.060 §7.7.1
cause when its header can be read, dropped otherwise (§11.1).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netplex.mobile.daemon import EpcDaemon, hex_teid, table
from netplex.mobile.gateways import Pgw, PgwBearer
from netplex.mobile.gprs_ran import GB_PORT, GENERATIONS, IU_PORT
from netplex.mobile.messages import MessageError, Msg
from netplex.mobile.milenage import Milenage, xor
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.gtpu import GTPU_PORT, GtpU
from netplex.packet.gtpv1c import (
    CAUSE,
    CAUSE_NAME,
    GTPV1C_PORT,
    IE,
    MSG,
    RAT_GERAN,
    RAT_UTRAN,
    REQUESTS,
    Gtpv1,
    Gtpv1Error,
    Ie,
    end_user_address,
    gsn_address,
    msisdn,
    qos_profile,
    read_end_user_address,
    read_gsn_address,
)
from netplex.packet.gtpv2c import Gtpv2Error, apn_decode, apn_encode, tbcd, untbcd
from netplex.stack.sockets import UdpSocket

__all__ = ["Sgsn", "SgsnMs", "Ggsn", "Hlr", "HlrSubscriber", "MAP_PORT", "gtpv1_rx"]

MAP_PORT = IU_PORT   # MAP over M3UA (SIGTRAN), UDP here
NSAPI = 5
AMF = bytes.fromhex("8000")
SELECTION_MODE_SUBSCRIBED = b"\xfc"   # §7.7.12: MS or network provided APN, subscribed verified
REORDERING_NOT_REQUIRED = b"\xfe"


def gtpv1_rx(d: EpcDaemon, sk: UdpSocket, data: bytes, addr: int, port: int) -> Gtpv1 | None:
    """A received GTPv1-C message; an Echo Request is answered (§7.2.1); a request that cannot be read
    but whose header can is answered with its cause (§11.1.2), anything else is counted and dropped."""
    try:
        msg = Gtpv1.decode(data)
    except Gtpv1Error as e:
        d.count("gtpv1_malformed")
        if len(data) >= 12 and data[0] & 0xF2 == 0x32 and data[1] in REQUESTS and data[1] != MSG["Echo Request"] \
                and int.from_bytes(data[2:4], "big") + 8 == len(data):
            seq = int.from_bytes(data[8:10], "big")
            d.send(sk, Gtpv1(REQUESTS[data[1]], seq, 0, [Ie(IE["Cause"], bytes((e.cause,)))]).encode(), addr, port)
        return None
    if msg.type == MSG["Echo Request"]:
        d.send(sk, Gtpv1(MSG["Echo Response"], msg.seq, 0, [Ie(IE["Recovery"], b"\x00")]).encode(), addr, port)
        return None
    return msg


def _u32(v: int) -> bytes:
    return v.to_bytes(4, "big")


@dataclass(slots=True)
class SgsnMs:
    """One MS's MM and PDP context at the SGSN (TS 23.060 §13.2)."""

    imsi: str
    ran: int                       # the PCU's or the RNC's address
    ue_id: int                     # its TLLI (Gb) or Iu signalling connection id
    generation: str
    state: str = "AUTHENTICATING"
    xres: bytes = b""              # XRES (3G) or SRES (2.5G)
    apn: str | None = None         # the subscribed APN (Insert Subscriber Data)
    ggsn: int | None = None
    msisdn: str | None = None
    ptmsi: int = 0
    teid_c: int | None = None      # ours, Gn control
    teid_u: int | None = None      # ours, Gn user (downlink from the GGSN)
    ggsn_teid_c: int | None = None
    ggsn_teid_u: int | None = None
    ggsn_u: int | None = None
    iu_teid: int | None = None     # ours, Iu-U (uplink from the RNC), 3G
    rnc_teid: int | None = None
    rnc_u: int | None = None
    ip: str | None = None
    cause: str | None = None
    up: int = 0
    down: int = 0


class Sgsn(EpcDaemon):
    comm = "sgsn"
    role = "SGSN"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], hlr: int, plmn: str) -> None:
        super().__init__(node, addr, names)
        self.hlr = hlr
        self.plmn = plmn
        self.contexts: list[SgsnMs] = []
        self.by_ue: dict[tuple[int, int], SgsnMs] = {}
        self.newest: dict[str, SgsnMs] = {}
        self.by_teid_c: dict[int, SgsnMs] = {}
        self.down: dict[int, SgsnMs] = {}   # our Gn TEID-U -> context
        self.up: dict[int, SgsnMs] = {}     # our Iu-U TEID -> context (3G)

    def start(self) -> None:
        self.gb = self.udp(GB_PORT, lambda d, a, p: self._on_ran(d, a, "2.5G"))
        self.iu = self.udp(IU_PORT, lambda d, a, p: self._on_ran(d, a, "3G"))
        self.gn = self.udp(GTPV1C_PORT, self._on_gn)
        self.gtpu = self.udp(GTPU_PORT, self._on_gtpu)
        self.gr = self.udp(0, self._on_gr)

    def by_imsi(self, imsi: str) -> SgsnMs | None:
        return self.newest.get(imsi)

    # -- toward the MS ------------------------------------------------------------------
    def _to_ms(self, ms: SgsnMs, nas: Msg, step: int) -> None:
        _, _, iface, proto, id_ie = GENERATIONS[ms.generation]
        if ms.generation == "2.5G":
            self.note(step, iface, ms.ran, f"BSSGP DL-UNITDATA (LLC: GMM/SM {nas.name})")
            msg = Msg(proto, "DL-UNITDATA", {id_ie: ms.ue_id, "LLC-PDU": {"NAS-PDU": nas.as_ie()}})
        else:
            self.note(step, iface, ms.ran, f"RANAP DirectTransfer (NAS {nas.name})")
            msg = Msg(proto, "DirectTransfer", {id_ie: ms.ue_id, "NAS-PDU": nas.as_ie()})
        self.send(self.gb if ms.generation == "2.5G" else self.iu, msg.encode(), ms.ran,
                  GB_PORT if ms.generation == "2.5G" else IU_PORT)

    def _reject(self, ms: SgsnMs, name: str, cause_ie: str | None, value: int, why: str) -> None:
        ms.state, ms.cause = "REJECTED", why
        self._to_ms(ms, Msg("NAS", name, {} if cause_ie is None else {cause_ie: value}), 5)

    def _map(self, name: str, ies: dict[str, Any], step: int, text: str) -> None:
        self.note(step, "Gr", self.hlr, f"MAP {name}{text}")
        self.send(self.gr, Msg("MAP", name, ies).encode(), self.hlr, MAP_PORT)

    def _on_ran(self, data: bytes, src: int, generation: str) -> None:
        _, _, _, proto, id_ie = GENERATIONS[generation]
        try:
            msg = Msg.decode(data, proto)
            ue_id = msg.ie(id_ie, int)
            if generation == "3G" and msg.name == "RAB-AssignmentResponse":
                self._rab_done(self.by_ue.get((src, ue_id)), msg)
                return
            if "N-PDU" in msg.ies:
                self._gb_uplink(self.by_ue.get((src, ue_id)), bytes.fromhex(msg.ie("N-PDU")))
                return
            pdu = msg.ie("LLC-PDU", dict) if generation == "2.5G" else msg.ies
            nas = Msg(proto, msg.name, pdu).nas()
            self._on_nas(src, ue_id, generation, nas)
        except (MessageError, LookupError, TypeError, ValueError):
            self.count(f"{proto.lower()}_malformed")

    def _on_nas(self, src: int, ue_id: int, generation: str, nas: Msg) -> None:
        if nas.name == "Attach Request":
            imsi = nas.ie("Mobile identity", dict).get("IMSI")
            if not isinstance(imsi, str) or not imsi.isdigit():
                raise MessageError("Attach Request without an IMSI")
            ms = SgsnMs(imsi, src, ue_id, generation)
            self.contexts.append(ms)
            self.by_ue[(src, ue_id)], self.newest[imsi] = ms, ms
            kind = "UMTS quintuplet" if generation == "3G" else "GSM triplet"
            self._map("SendAuthenticationInfo", {"IMSI": imsi, "numberOfRequestedVectors": 1,
                                                 "requestingNodeType": "sgsn", "generation": generation},
                      2, f" (IMSI {imsi}, one {kind})")
            return
        ms = self.by_ue.get((src, ue_id))
        if ms is None:
            self.count("unknown_ms")
            return
        if nas.name == "Authentication and Ciphering Response" and ms.state == "AUTHENTICATING":
            res = bytes.fromhex(nas.ie("Authentication Response parameter")
                                + str(nas.ies.get("Authentication Response parameter (extension)", "")))
            if res != ms.xres:
                # TS 24.008 §4.7.7.5: the network aborts with Authentication and Ciphering Reject (no cause IE)
                what = "RES" if ms.generation == "3G" else "SRES"
                self._reject(ms, "Authentication and Ciphering Reject", None, 0,
                             f"the MS's {what} does not match the HLR's vector")
                return
            ms.state = "UPDATING-LOCATION"
            self._map("UpdateGprsLocation", {"IMSI": ms.imsi, "SGSN-Number": self.node, "SGSN-Address": int_to_ip(self.addr)},
                      4, f" (IMSI {ms.imsi}, SGSN {int_to_ip(self.addr)})")
        elif nas.name == "Authentication and Ciphering Failure":
            c = nas.ies.get("GMM cause")
            ms.state, ms.cause = "REJECTED", f"Authentication and Ciphering Failure from the MS (GMM cause #{c})"
        elif nas.name == "Attach Complete" and ms.state == "ATTACHING":
            ms.state = "ATTACHED"
        elif nas.name == "Activate PDP Context Request" and ms.state == "ATTACHED":
            self._activate(ms, str(nas.ies.get("Access point name", "")))

    def _on_gr(self, data: bytes, src: int, sport: int) -> None:
        try:
            msg = Msg.decode(data, "MAP")
            ms = self.newest.get(msg.ie("IMSI"))
            if ms is None:
                self.count("map_unknown_imsi")
                return
            if msg.name == "SendAuthenticationInfo-Ack":
                self._challenge(ms, msg)
            elif msg.name == "InsertSubscriberData":
                data_ = msg.ie("GPRSSubscriptionData", dict)
                pdp = data_["PDP-Contexts"][0]
                ms.apn, ms.ggsn, ms.msisdn = str(pdp["apn"]), ip_to_int(pdp["GGSN-Address"]), msg.ies.get("MSISDN")
                self._map("InsertSubscriberData-Ack", {"IMSI": ms.imsi}, 4, "")
            elif msg.name == "UpdateGprsLocation-Ack" and ms.state == "UPDATING-LOCATION":
                ms.state, ms.ptmsi = "ATTACHING", 0xC0000000 | self.rng.getrandbits(30)
                self._to_ms(ms, Msg("NAS", "Attach Accept", {"Attach result": "GPRS only attached",
                                                             "Allocated P-TMSI": f"{ms.ptmsi:#010x}",
                                                             "Routing area identification": {"PLMN": self.plmn,
                                                                                             "LAC": 1, "RAC": 1}}), 5)
            elif msg.name.endswith("-Error"):
                # TS 29.010 §4: MAP unknownSubscriber -> GMM cause #8, roamingNotAllowed -> #11
                c = 11 if msg.ies.get("error") == "roamingNotAllowed" else 8
                self._reject(ms, "Attach Reject", "GMM cause", c, f"HLR: MAP {msg.ies.get('error')}")
        except (MessageError, LookupError, TypeError, ValueError):
            self.count("map_malformed")

    def _challenge(self, ms: SgsnMs, msg: Msg) -> None:
        sets = msg.ie("AuthenticationSetList", dict)
        if ms.generation == "3G":
            q = sets["QuintupletList"][0]
            ms.xres = bytes.fromhex(q["xres"])
            ies = {"RAND": q["rand"], "AUTN": q["autn"], "Ciphering algorithm": "UEA1", "A&C reference number": 0}
        else:
            t = sets["TripletList"][0]
            ms.xres = bytes.fromhex(t["sres"])
            ies = {"RAND": t["rand"], "Ciphering algorithm": "GEA/1", "A&C reference number": 0}
        self._to_ms(ms, Msg("NAS", "Authentication and Ciphering Request", ies), 3)

    # -- PDP context activation -------------------------------------------------------------
    def _activate(self, ms: SgsnMs, apn: str) -> None:
        """Steps 6 -> 7: the APN must be the subscribed one; the SGSN's Gn TEIDs go to the GGSN."""
        if not apn or apn != ms.apn or ms.ggsn is None:
            self._reject(ms, "Activate PDP Context Reject", "SM cause", 33,
                         f'APN "{apn}" is not subscribed (the subscription has "{ms.apn}")')
            ms.state = "ATTACHED"
            return
        for table_, t in ((self.by_teid_c, ms.teid_c), (self.down, ms.teid_u), (self.up, ms.iu_teid)):
            table_.pop(t or 0, None)   # a new activation replaces the old one
        ms.teid_c, ms.teid_u = self.new_teid(), self.new_teid()
        self.by_teid_c[ms.teid_c], self.down[ms.teid_u] = ms, ms
        me = int_to_ip(self.addr)
        ies = [Ie(IE["IMSI"], tbcd(ms.imsi)), Ie(IE["Recovery"], b"\x00"), Ie(IE["Selection Mode"], SELECTION_MODE_SUBSCRIBED),
               Ie(IE["TEID Data I"], _u32(ms.teid_u)), Ie(IE["TEID Control Plane"], _u32(ms.teid_c)),
               Ie(IE["NSAPI"], bytes((NSAPI,))), end_user_address(None), Ie(IE["APN"], apn_encode(apn)),
               gsn_address(me), gsn_address(me), qos_profile(),
               Ie(IE["RAT Type"], bytes((RAT_UTRAN if ms.generation == "3G" else RAT_GERAN,)))]
        if ms.msisdn:
            ies.append(msisdn(ms.msisdn))
        self.note(7, "Gn", ms.ggsn, f"GTPv1-C Create PDP Context Request (APN {apn}): SGSN allocated "
                                    f"TEID-C {hex_teid(ms.teid_c)}, TEID-U {hex_teid(ms.teid_u)}")
        self.send(self.gn, Gtpv1(MSG["Create PDP Context Request"], self.next_seq() & 0xFFFF, 0, ies).encode(),
                  ms.ggsn, GTPV1C_PORT)

    def _on_gn(self, data: bytes, src: int, sport: int) -> None:
        msg = gtpv1_rx(self, self.gn, data, src, sport)
        if msg is None:
            return
        ms = self.by_teid_c.get(msg.teid)
        if msg.type in REQUESTS:   # the GGSN's requests (Update/Delete PDP Context) are not modelled
            c = CAUSE["Context not found"] if ms is None else CAUSE["Service not supported"]
            self.send(self.gn, Gtpv1(REQUESTS[msg.type], msg.seq, 0, [Ie(IE["Cause"], bytes((c,)))]).encode(), src, sport)
            return
        if msg.type != MSG["Create PDP Context Response"] or ms is None:
            self.count("gtpv1_unexpected")
            return
        try:
            c = msg.need("Cause", size=1)[0]
            if c != CAUSE["Request accepted"]:
                sm = {CAUSE["All dynamic PDP addresses are occupied"]: 26, CAUSE["No resources available"]: 26,
                      CAUSE["Missing or unknown APN"]: 27}.get(c, 31)
                self._reject(ms, "Activate PDP Context Reject", "SM cause", sm,
                             f"GGSN: cause {c} ({CAUSE_NAME.get(c, 'unknown')})")
                ms.state = "ATTACHED"
                return
            ms.ggsn_teid_u, ms.ggsn_teid_c = msg.need_u32("TEID Data I"), msg.need_u32("TEID Control Plane")
            ms.ip = read_end_user_address(msg)
            ms.ggsn_u = ip_to_int(read_gsn_address(msg, 1) if msg.find("GSN Address", 1) else read_gsn_address(msg, 0))
        except Gtpv1Error:
            self.count("gtpv1_malformed")
            return
        if ms.generation == "3G":
            ms.iu_teid = self.new_teid()
            self.up[ms.iu_teid] = ms
            self.note(9, "Iu-PS", ms.ran, f"RANAP RAB-AssignmentRequest: SGSN allocated Iu-U TEID {hex_teid(ms.iu_teid)}")
            _, _, _, proto, id_ie = GENERATIONS["3G"]
            self.send(self.iu, Msg(proto, "RAB-AssignmentRequest", {id_ie: ms.ue_id, "RAB-SetupOrModifyList": [{
                "RAB-ID": NSAPI, "transportLayerAddress": int_to_ip(self.addr), "GTP-TEID": hex_teid(ms.iu_teid)}]}).encode(),
                ms.ran, IU_PORT)
            return
        self._accept(ms)

    def _rab_done(self, ms: SgsnMs | None, msg: Msg) -> None:
        if ms is None or ms.iu_teid is None:
            self.count("unknown_ms")
            return
        rab = msg.ie("RAB-SetupOrModifiedList", list)[0]
        ms.rnc_teid, ms.rnc_u = int(rab["GTP-TEID"], 16), ip_to_int(rab["transportLayerAddress"])
        self._accept(ms)

    def _accept(self, ms: SgsnMs) -> None:
        ms.state = "PDP-ACTIVE"
        self._to_ms(ms, Msg("NAS", "Activate PDP Context Accept", {
            "Negotiated LLC SAPI": 3, "Negotiated QoS": "interactive, 8640 kbit/s", "Radio priority": 1,
            "PDP address": ms.ip, "NSAPI": NSAPI}), 10)

    # -- user plane ----------------------------------------------------------------------------
    def _gb_uplink(self, ms: SgsnMs | None, packet: bytes) -> None:
        if ms is None or ms.ggsn_teid_u is None or ms.ggsn_u is None:
            self.count("gb_no_context")
            return
        ms.up += 1
        self.send(self.gtpu, GtpU(ms.ggsn_teid_u, packet).encode(), ms.ggsn_u, GTPU_PORT)

    def _on_gtpu(self, data: bytes, src: int, sport: int) -> None:
        g = self.gtpu_rx(self.gtpu, data, src, sport)
        if g is None:
            return
        ms = self.up.get(g.teid)
        if ms is not None and ms.ggsn_teid_u is not None and ms.ggsn_u is not None:
            ms.up += 1
            self.send(self.gtpu, GtpU(ms.ggsn_teid_u, g.payload).encode(), ms.ggsn_u, GTPU_PORT)
            return
        ms = self.down.get(g.teid)
        if ms is not None and ms.generation == "2.5G":
            ms.down += 1
            _, _, _, proto, id_ie = GENERATIONS["2.5G"]
            self.send(self.gb, Msg(proto, "DL-UNITDATA", {id_ie: ms.ue_id, "N-PDU": g.payload.hex()}).encode(),
                      ms.ran, GB_PORT)
            return
        if ms is not None and ms.rnc_teid is not None and ms.rnc_u is not None:
            ms.down += 1
            self.send(self.gtpu, GtpU(ms.rnc_teid, g.payload).encode(), ms.rnc_u, GTPU_PORT)
            return
        self.gtpu_unknown(self.gtpu, g, src)

    def show_pdp(self) -> str:
        rows = [("IMSI", "GEN", "STATE", "APN", "PDP-ADDR", "RAN", "GGSN", "TEID-C", "TEID-U", "GGSN-TEID-C",
                 "GGSN-TEID-U", "IU-TEID", "RNC-TEID", "UP", "DOWN")]
        for m in self.contexts:
            rows.append((m.imsi, m.generation, m.state, m.apn or "-", m.ip or "-", self.name_of(m.ran),
                         self.name_of(m.ggsn) if m.ggsn else "-", hex_teid(m.teid_c), hex_teid(m.teid_u),
                         hex_teid(m.ggsn_teid_c), hex_teid(m.ggsn_teid_u), hex_teid(m.iu_teid), hex_teid(m.rnc_teid),
                         str(m.up), str(m.down)))
        return table(rows)


class Ggsn(Pgw):
    """The GGSN: the PGW's SGi user plane, gates and Gx, with a GTPv1-C Gn control plane (TS 29.060 §7.3)."""

    comm = "ggsn"
    role = "GGSN"
    gx_step = 7

    def _on_gtpc(self, data: bytes, src: int, sport: int) -> None:
        msg = gtpv1_rx(self, self.gtpc, data, src, sport)
        if msg is None:
            return
        try:
            if msg.type == MSG["Create PDP Context Request"]:
                self._create_pdp(msg, src, sport)
            elif msg.type == MSG["Delete PDP Context Request"]:
                b = self.by_t4.pop(msg.teid, None)
                if b is not None:
                    self.bearers.remove(b)
                    self.by_t5.pop(b.t5, None)
                    self.by_ip.pop(ip_to_int(b.ip), None)
                c = CAUSE["Request accepted"] if b is not None else CAUSE["Non-existent"]
                self.send(self.gtpc, Gtpv1(MSG["Delete PDP Context Response"], msg.seq, b.t2 if b else 0,
                                           [Ie(IE["Cause"], bytes((c,)))]).encode(), src, sport)
            elif msg.type in REQUESTS:
                self.send(self.gtpc, Gtpv1(REQUESTS[msg.type], msg.seq, 0,
                                           [Ie(IE["Cause"], bytes((CAUSE["Service not supported"],)))]).encode(),
                          src, sport)
        except Gtpv1Error as e:
            self.count("gtpv1_malformed")
            self.send(self.gtpc, Gtpv1(REQUESTS[msg.type], msg.seq, 0, [Ie(IE["Cause"], bytes((e.cause,)))]).encode(),
                      src, sport)

    def _create_pdp(self, msg: Gtpv1, src: int, sport: int) -> None:
        """Steps 7 -> 8 at the GGSN: a PDP address, its TEID-C and TEID-U, then Gx before answering."""
        try:
            imsi = untbcd(msg.need("IMSI", size=8))
            apn = apn_decode(msg.need("APN"))
        except Gtpv2Error as e:   # the TBCD/APN readers are GTPv2-C's
            raise Gtpv1Error(str(e), CAUSE["Mandatory IE incorrect"]) from None
        teid_u, teid_c = msg.need_u32("TEID Data I"), msg.need_u32("TEID Control Plane")
        msg.need("NSAPI", size=1)
        read_end_user_address(msg)
        sgsn_u = read_gsn_address(msg, 1) if msg.find("GSN Address", 1) else read_gsn_address(msg, 0)
        ip = self._allocate(imsi)
        if ip is None:
            self.send(self.gtpc, Gtpv1(MSG["Create PDP Context Response"], msg.seq, teid_c, [
                Ie(IE["Cause"], bytes((CAUSE["All dynamic PDP addresses are occupied"],)))]).encode(), src, sport)
            return
        b = PgwBearer(imsi, apn, int_to_ip(ip), src, teid_c, teid_u, self.new_teid(), self.new_teid(),
                      ip_to_int(sgsn_u), msg.seq)
        self._admit(b)

    def _answer(self, b: PgwBearer) -> None:
        """Step 8: the PDP address, our TEID-C (t4) and TEID-U (t5), to the SGSN's TEID-C."""
        self.bearers.append(b)
        self.by_t4[b.t4], self.by_t5[b.t5], self.by_ip[ip_to_int(b.ip)] = b, b, b
        me = int_to_ip(self.addr)
        rsp = Gtpv1(MSG["Create PDP Context Response"], b.seq, b.t2, [
            Ie(IE["Cause"], bytes((CAUSE["Request accepted"],))), Ie(IE["Reordering Required"], REORDERING_NOT_REQUIRED),
            Ie(IE["Recovery"], b"\x00"), Ie(IE["TEID Data I"], _u32(b.t5)), Ie(IE["TEID Control Plane"], _u32(b.t4)),
            Ie(IE["Charging ID"], _u32(b.t4)), end_user_address(b.ip), gsn_address(me), gsn_address(me),
            qos_profile()])
        self.note(8, "Gn", b.sgw, f"GTPv1-C Create PDP Context Response: GGSN allocated TEID-C {hex_teid(b.t4)}, "
                                  f"TEID-U {hex_teid(b.t5)}; PDP address {b.ip} from {self.pool}")
        self.send(self.gtpc, rsp.encode(), b.sgw, GTPV1C_PORT)

    def show_pdp(self) -> str:
        rows = [("IMSI", "APN", "PDP-ADDR", "NSAPI", "SGSN", "SGSN-TEID-C", "SGSN-TEID-U", "TEID-C", "TEID-U",
                 "UP", "DOWN", "GATED", "RULES")]
        for b in self.bearers:
            rows.append((b.imsi, b.apn, b.ip, str(NSAPI), self.name_of(b.sgw), hex_teid(b.t2), hex_teid(b.t3),
                         hex_teid(b.t4), hex_teid(b.t5), str(b.up), str(b.down), str(b.gated),
                         ",".join(f"deny {n}" for n in b.deny) or "-"))
        return table(rows)


@dataclass(slots=True)
class HlrSubscriber:
    imsi: str
    key: bytes
    opc: bytes
    apn: str
    msisdn: str | None
    ggsn: int
    sqn: int
    sgsn: str | None = None


class Hlr(EpcDaemon):
    """The HLR with its AuC (TS 23.002 §4.1.1): MAP on Gr (TS 29.002 §8.5 Send Authentication Info,
    §8.1.7 Update GPRS Location, §8.8.1 Insert Subscriber Data)."""

    comm = "hlr"
    role = "HLR"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], subscribers: list[HlrSubscriber]) -> None:
        super().__init__(node, addr, names)
        self.subscribers = {s.imsi: s for s in subscribers}
        self.pending: dict[str, int] = {}   # IMSI -> the SGSN's port, Update GPRS Location waiting for ISD's ack

    def start(self) -> None:
        self.sk = self.udp(MAP_PORT, self._on_map)

    def _answer(self, name: str, ies: dict[str, Any], src: int, sport: int, text: str, step: int) -> None:
        self.note(step, "Gr", src, f"MAP {name}{text}")
        self.send(self.sk, Msg("MAP", name, ies).encode(), src, sport)

    def _on_map(self, data: bytes, src: int, sport: int) -> None:
        try:
            req = Msg.decode(data, "MAP")
            imsi = req.ie("IMSI")
        except MessageError:
            self.count("map_malformed")
            return
        sub = self.subscribers.get(imsi)
        if sub is None:
            self._answer(f"{req.name}-Error", {"IMSI": imsi, "error": "unknownSubscriber"}, src, sport,
                         f" (unknownSubscriber: {imsi})", 2)
            return
        if req.name == "SendAuthenticationInfo":
            sub.sqn = (sub.sqn + 32) % 2**48
            rand = self.rng.getrandbits(128).to_bytes(16, "big")
            m = Milenage(sub.key, sub.opc)
            if req.ies.get("generation") == "3G":
                sqn = sub.sqn.to_bytes(6, "big")
                res, ck, ik, ak, _ = m.f2345(rand)
                autn = xor(sqn, ak) + AMF + m.f1(rand, sqn, AMF)[0]
                sets: dict[str, Any] = {"QuintupletList": [{"rand": rand.hex(), "xres": res.hex(), "ck": ck.hex(),
                                                            "ik": ik.hex(), "autn": autn.hex()}]}
                what = "a UMTS quintuplet (RAND, XRES, CK, IK, AUTN)"
            else:
                sres, kc = m.gsm(rand)
                sets = {"TripletList": [{"rand": rand.hex(), "sres": sres.hex(), "kc": kc.hex()}]}
                what = "a GSM triplet (RAND, SRES, Kc)"
            self._answer("SendAuthenticationInfo-Ack", {"IMSI": imsi, "AuthenticationSetList": sets}, src, sport,
                         f" ({what})", 2)
        elif req.name == "UpdateGprsLocation":
            sub.sgsn = self.name_of(src)
            self.pending[imsi] = sport
            self._answer("InsertSubscriberData", {"IMSI": imsi, "MSISDN": sub.msisdn, "GPRSSubscriptionData": {
                "PDP-Contexts": [{"pdp-ContextId": 1, "pdp-Type": "IPv4", "apn": sub.apn,
                                  "GGSN-Address": int_to_ip(sub.ggsn)}]}}, src, sport,
                         f" (APN {sub.apn}, GGSN {self.name_of(sub.ggsn)})", 4)
        elif req.name == "InsertSubscriberData-Ack" and imsi in self.pending:
            self._answer("UpdateGprsLocation-Ack", {"IMSI": imsi, "HLR-Number": self.node}, src,
                         self.pending.pop(imsi), "", 4)
        else:
            self.count("map_unexpected")

    def show_subscriber(self, imsi: str) -> str | None:
        s = self.subscribers.get(imsi)
        if s is None:
            return None
        rows = [("IMSI", s.imsi), ("MSISDN", s.msisdn or "-"), ("APN", s.apn), ("GGSN", self.name_of(s.ggsn)),
                ("SQN", f"0x{s.sqn:012x}"), ("SGSN", s.sgsn or "-")]
        return "".join(f"{k + ':':<8}{v}\n" for k, v in rows)

