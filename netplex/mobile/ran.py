"""The radio side: the UE's modem and the eNodeB (TS 36.300; NAS TS 24.301, S1AP TS 36.413).

The radio is the link between a UE and its eNodeB. RRC and NAS travel on it
as Ethernet frames of type 0x88B5 (`messages.ETH_P_UU`); the UE's IP packets
travel on it as plain IPv4 frames, the way an LTE modem in Ethernet mode
hands them to the host. The eNodeB answers the UE's ARP requests with a MAC
of its own radio function (`RADIO_MAC`), so the UE's packets are not for the
eNodeB's kernel (PACKET_OTHERHOST) and reach only its user plane: an AF_PACKET
socket that puts each into GTP-U toward the SGW (S1-U, TEID t7), and writes
each G-PDU from the SGW (TEID t8) back onto the radio.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.mobile.daemon import EpcDaemon, hex_teid
from netplex.mobile.messages import EMM_CAUSE, ETH_P_UU, S1AP_PORT, MessageError, Msg
from netplex.mobile.milenage import Milenage, kasme, xor
from netplex.mobile.sctp_link import Association, SctpEndpoint
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, ETH_P_IP
from netplex.packet.gtpu import (
    GTPU_PORT,
    GtpU,
)
from netplex.packet.nas_eps import Nas, NasError
from netplex.packet.nas_security import INTEGRITY_CIPHERED, INTEGRITY_CIPHERED_NEW, INTEGRITY_NEW, PLAIN, NasSecurity
from netplex.packet.s1ap import CAUSE_RADIO_USER_INACTIVITY, RRC_CAUSES, S1ap, S1apError
from netplex.stack.af_packet import ETH_P_ALL, PACKET_OUTGOING, SOCK_DGRAM, PacketSocket, SockaddrLl

__all__ = ["UeModem", "Enodeb", "RADIO_MAC", "radio_socket", "radio_ports", "answer_arp", "RadioSide"]

TAC = 1                                    # the tracking area of every cell
T3417_NS = 5_000_000_000                   # TS 24.301 §10.2: the UE's Service Request supervision
RADIO_MAC = b"\x02\x4c\x54\x45\x00\x01"   # "LTE": the MAC the eNodeB's radio answers ARP with


def radio_socket(prog: Program, ifindex: int, proto: int, handler: Any) -> PacketSocket:
    """An AF_PACKET SOCK_DGRAM socket of `prog` on the radio `ifindex` for `proto`, receiving into `handler`."""
    sk: PacketSocket = prog.own(prog.ns.sockets.packet_socket(SOCK_DGRAM, proto))
    sk.bind(ifindex, proto)
    sk.on_recv = handler
    return sk


def radio_ports(prog: Program, ifindex: int, on_control: Any, on_ip: Any, on_arp: Any) -> tuple[PacketSocket, PacketSocket]:
    """A base station's three sockets on one radio: control (0x88B5), the users' IP packets, their ARP."""
    radio_socket(prog, ifindex, ETH_P_ARP, on_arp)
    return radio_socket(prog, ifindex, ETH_P_UU, on_control), radio_socket(prog, ifindex, ETH_P_IP, on_ip)


def answer_arp(sk: PacketSocket, data: bytes, sll: SockaddrLl, mac: bytes) -> None:
    """The radio answers a terminal's ARP request with `mac`: all its traffic goes to the bearer."""
    try:
        arp = Arp.decode(data)
    except ValueError:
        return
    if arp.op == ARPOP_REQUEST and arp.tpa != arp.spa:
        sk.sendto(Arp(ARPOP_REPLY, mac, arp.tpa, arp.sha, arp.spa).encode(), sll.ifindex, sll.addr, ETH_P_ARP)


class RadioSide(EpcDaemon):
    """A base station's downlink: a G-PDU for one of its TEIDs goes to its terminal on the radio."""

    def __init__(self, node: str, addr: int, names: Mapping[int, str]) -> None:
        super().__init__(node, addr, names)
        self.by_teid: dict[int, Any] = {}       # our TEID -> the terminal (ifindex, mac, down)
        self.ipsk: dict[int, PacketSocket] = {}  # radio ifindex -> its IP socket

    def downlink(self, sk: Any, data: bytes, src: int, sport: int) -> None:
        g = self.gtpu_rx(sk, data, src, sport)
        if g is None:
            return
        ue = self.by_teid.get(g.teid)
        if ue is None:
            self.gtpu_unknown(sk, g, src)
            return
        ue.down += 1
        self.ipsk[ue.ifindex].sendto(g.payload, ue.ifindex, ue.mac, ETH_P_IP)


def _nas_name(pdu: bytes) -> str:
    """The name of a plain NAS message, for the narration."""
    try:
        return Nas.decode(pdu).name
    except NasError:
        return "security protected: the eNodeB cannot read it"


# TS 24.301 §4.4.4.2: what a UE reads without integrity protection once it has a security context
UNPROTECTED_DOWNLINK = ("Authentication Request", "Authentication Reject", "Attach Reject", "Detach Accept")


class UeModem(Program):
    """The UE: its USIM (IMSI, K, OPc) and the EMM/ESM state machine of an attach (TS 24.301 §5.5.1)."""

    comm = "ue-modem"

    def __init__(self, node: str, imsi: str, key: bytes, opc: bytes, apn: str, radio_ifindex: int,
                 enb: str = "eNodeB") -> None:
        super().__init__()
        self.node = node
        self.enb = enb
        self.imsi = imsi
        self.usim = Milenage(key, opc)
        self.apn = apn
        self.ifindex = radio_ifindex
        self.state = "EMM-DEREGISTERED"
        self.error: str | None = None
        self.ip: str | None = None
        self.plmn: str | None = None
        self.kasme: bytes | None = None
        self.sec: NasSecurity | None = None      # the EPS NAS security context, once the SMC verified
        self.ecm = "ECM-IDLE"                    # ECM-CONNECTED while the eNodeB holds a context for it
        self.stmsi: dict[str, int] | None = None   # MMEC and M-TMSI of the GUTI the attach gave
        self.service_requests = 0
        self.nas_dropped = 0                     # protected messages whose MAC did not verify, and the like
        self.enb_mac: bytes | None = None
        self.uu: PacketSocket | None = None

    def start(self) -> None:
        self.uu = radio_socket(self, self.ifindex, ETH_P_UU, self._on_uu)
        radio_socket(self, self.ifindex, ETH_P_ALL, self._on_host_frame)   # outgoing frames: ptype_all only

    def _on_host_frame(self, data: bytes, sll: SockaddrLl) -> None:
        """The host sends an IP packet (or the ARP request before it) while the modem is in ECM-IDLE:
        a Service Request (TS 23.401 §5.3.4.1, cause mo-Data). That frame itself is lost: the eNodeB
        holds no bearer for it yet; the host's retransmission goes through."""
        if sll.pkttype == PACKET_OUTGOING and sll.protocol in (ETH_P_IP, ETH_P_ARP) and self.ecm == "ECM-IDLE":
            self.service_request("mo-Data")

    def note(self, step: int, text: str) -> None:
        if self.ns.world.tracer.on:
            self.ns.trace("attach", f"[{step:>2}] Uu      {self.node} → {self.enb}: {text}")

    def _send(self, rrc: str, nas: Nas, header: int = INTEGRITY_CIPHERED) -> None:
        """Send `nas` on the radio, security protected (`header`) once there is a context (§4.4.5)."""
        assert self.uu is not None
        pdu = nas.encode()
        if self.sec is not None:
            pdu = self.sec.protect(pdu, header)
        data = Msg("RRC", rrc, {"NAS-PDU": pdu.hex()}).encode()
        self.uu.sendto(data, self.ifindex, self.enb_mac or b"\xff" * 6, ETH_P_UU)

    def attach(self) -> None:
        """Step 1: RRC connection and NAS Attach Request with a PDN Connectivity Request."""
        self.state, self.error, self.ip = "EMM-REGISTERED-INITIATED", None, None
        self.sec = None
        nas = Nas("Attach Request", {
            "EPS attach type": "EPS attach", "EPS mobile identity": {"IMSI": self.imsi},
            "ESM message container": {"name": "PDN Connectivity Request",
                                      "ies": {"PTI": 1, "Access point name": self.apn, "PDN type": "IPv4"}}})
        self.note(1, f"RRCConnectionSetupComplete (NAS Attach Request, IMSI {self.imsi}, APN {self.apn})")
        self._send("RRCConnectionSetupComplete", nas)

    def _fail(self, why: str) -> None:
        self.state, self.error = "EMM-DEREGISTERED", why

    def _on_uu(self, data: bytes, sll: SockaddrLl) -> None:
        try:
            rrc = Msg.decode(data, "RRC")
            if self._rrc_only(rrc):
                return
            nas = self._unprotect(bytes.fromhex(rrc.ie("NAS-PDU")))
        except (MessageError, NasError, ValueError):
            return
        if nas is None:
            self.nas_dropped += 1
            return
        if nas.name == "Detach Request" and self.state == "EMM-REGISTERED":
            # TS 24.301 §5.5.2.3.2: network-initiated detach, "re-attach not required"
            self.state, self.ip = "EMM-DEREGISTERED", None
            self._send("ULInformationTransfer", Nas("Detach Accept"))
            return
        if self.state != "EMM-REGISTERED-INITIATED":
            return
        self.enb_mac = sll.addr
        plmn = rrc.ies.get("PLMN-Identity")   # what the cell broadcasts (SIB1): the serving network
        if isinstance(plmn, str):
            self.plmn = plmn
        if nas.name == "Authentication Request":
            self._authenticate(nas)
        elif nas.name == "Security Mode Command":
            self.note(3, "ULInformationTransfer (NAS Security Mode Complete)")
            self._send("ULInformationTransfer", Nas("Security Mode Complete"), INTEGRITY_CIPHERED_NEW)
        elif nas.name == "Attach Accept":
            bearer = nas.ies.get("ESM message container", {}).get("ies", {})
            self.ip = bearer.get("PDN address")
            self.state, self.ecm = "EMM-REGISTERED", "ECM-CONNECTED"
            guti = nas.ies.get("GUTI", {})
            if "M-TMSI" in guti:
                self.stmsi = {"MMEC": guti["MME code"], "M-TMSI": int(guti["M-TMSI"], 16)}
            self.note(9, "ULInformationTransfer (NAS Attach Complete, Activate Default EPS Bearer Context Accept)")
            self._send("ULInformationTransfer", Nas("Attach Complete", {
                "ESM message container": {"name": "Activate Default EPS Bearer Context Accept",
                                          "ies": {"EPS bearer identity": bearer.get("EPS bearer identity", 5)}}}))
        elif nas.name in ("Attach Reject", "Authentication Reject"):
            c = nas.ies.get("EMM cause")
            self._fail(nas.name + (f": EMM cause #{c} ({EMM_CAUSE.get(c, 'unknown')})" if c else ""))

    def _rrc_only(self, rrc: Msg) -> bool:
        """The RRC messages without NAS (TS 36.331): Paging, RRCConnectionRelease, and the
        RRCConnectionReconfiguration that follows a Service Request. True when `rrc` was one."""
        if rrc.name == "RRCConnectionRelease":
            self.ecm = "ECM-IDLE"
            return True
        if rrc.name == "Paging":
            if rrc.ies.get("s-TMSI") == self.stmsi and self.state == "EMM-REGISTERED":
                self.service_request("mt-Access")
            return True
        if rrc.name == "RRCConnectionReconfiguration" and "NAS-PDU" not in rrc.ies:
            if self.state == "EMM-REGISTERED":
                self.ecm = "ECM-CONNECTED"
            return True
        return False

    def service_request(self, cause: str = "mo-Data") -> bool:
        """TS 24.301 §5.6.1: from ECM-IDLE, a SERVICE REQUEST (paged: cause mt-Access); False when the
        UE is not registered and idle."""
        if self.sec is None or self.stmsi is None or self.ecm != "ECM-IDLE" or self.state != "EMM-REGISTERED":
            return False
        assert self.uu is not None
        self.service_requests += 1
        self.ecm = "ECM-CONNECTING"
        self.ns.sched.after(T3417_NS, self._t3417, self.service_requests)
        self.note(0, f"RRCConnectionSetupComplete (NAS Service Request, {cause})")
        data = Msg("RRC", "RRCConnectionSetupComplete", {
            "NAS-PDU": self.sec.service_request().hex(), "s-TMSI": self.stmsi, "establishmentCause": cause}).encode()
        self.uu.sendto(data, self.ifindex, self.enb_mac or b"\xff" * 6, ETH_P_UU)
        return True

    def _t3417(self, which: int) -> None:
        """T3417 (TS 24.301 §10.2): no bearer 5 s after the Service Request: back to ECM-IDLE."""
        if which == self.service_requests and self.ecm == "ECM-CONNECTING":
            self.ecm = "ECM-IDLE"

    def _unprotect(self, pdu: bytes) -> Nas | None:
        """TS 24.301 §4.4.4.2: a protected message is read once its MAC verifies (a Security Mode
        Command's with the new context it brings); a plain one only before there is a context, or
        when it is one of those the network may send unprotected. None: discarded."""
        header = pdu[0] >> 4 if pdu and pdu[0] & 0x0F == 7 else PLAIN
        if header == PLAIN:
            nas = Nas.decode(pdu)
            if self.sec is not None and nas.name not in UNPROTECTED_DOWNLINK:
                return None
            return nas
        if header == INTEGRITY_NEW and self.kasme is not None:
            ctx = NasSecurity(self.kasme, downlink=False)
            try:
                nas = Nas.decode(ctx.unprotect(pdu))
            except NasError:
                return None
            self.sec = ctx
            return nas
        if self.sec is None:
            return None
        try:
            return Nas.decode(self.sec.unprotect(pdu))
        except NasError:
            return None

    def _authenticate(self, nas: Nas) -> None:
        """TS 33.401 §6.1.1 / TS 33.102 §6.3.3: verify AUTN's MAC with the USIM's K, answer RES."""
        rand, autn = bytes.fromhex(nas.ies["RAND"]), bytes.fromhex(nas.ies["AUTN"])
        if len(rand) != 16 or len(autn) != 16 or self.plmn is None:
            return
        res, ck, ik, ak, _ = self.usim.f2345(rand)
        sqn, amf, mac = xor(autn[:6], ak), autn[6:8], autn[8:]
        if self.usim.f1(rand, sqn, amf)[0] != mac:
            self.note(3, "ULInformationTransfer (NAS Authentication Failure, EMM cause #20 MAC failure)")
            self._send("ULInformationTransfer", Nas("Authentication Failure", {"EMM cause": 20}))
            self._fail("Authentication Failure: EMM cause #20 (MAC failure): the network's AUTN does not "
                       "match this USIM's key")
            return
        self.kasme = kasme(ck, ik, self.plmn, autn[:6])
        self.note(3, "ULInformationTransfer (NAS Authentication Response, RES)")
        self._send("ULInformationTransfer", Nas("Authentication Response", {"RES": res.hex()}))


@dataclass(slots=True)
class EnbUe:
    """One UE at the eNodeB (TS 36.413 §9.2.3.4 eNB UE S1AP ID ...)."""

    enb_ue_id: int
    mac: bytes
    ifindex: int
    mme_ue_id: int | None = None
    t7: int | None = None        # the SGW's S1-U TEID (uplink G-PDUs carry it)
    sgw_u: int | None = None
    t8: int | None = None        # this eNodeB's S1-U TEID (downlink)
    ip: str | None = None
    up: int = 0
    down: int = 0


class Enodeb(RadioSide):
    """The eNodeB: RRC toward its UEs, S1AP toward its MME, GTP-U on S1-U toward the SGW."""

    comm = "enodeb"
    role = "eNodeB"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], mme: int, plmn: str,
                 radios: Mapping[int, str], inactivity: int = 0) -> None:
        super().__init__(node, addr, names)
        self.inactivity_ns = inactivity * 1_000_000_000   # the user inactivity timer (0: none)
        self.mme = mme
        self.plmn = plmn
        self.radios = dict(radios)   # radio ifindex -> the UE node at its far end (for the narration)
        self.ues: dict[bytes, EnbUe] = {}
        self.by_id: dict[int, EnbUe] = {}
        self._next_id = 1

    def start(self) -> None:
        self.s1 = SctpEndpoint(self, self.addr, S1AP_PORT, self._on_s1ap, on_down=self._s1_down, count=self.count)
        self.s1u = self.udp(GTPU_PORT, self._on_gtpu)
        self.uu: dict[int, PacketSocket] = {}
        for ifx in self.radios:
            self.uu[ifx], self.ipsk[ifx] = radio_ports(self, ifx, self._on_uu, self._on_uplink, self._on_arp)
        if not self.radios:
            raise ProgramExit(1, f"{self.comm}: no radio link to a UE\n")
        self._s1_connect()

    def _s1_connect(self) -> None:
        """TS 36.413 §8.7.3: an association to the MME, the S1 Setup its first message."""
        self.assoc = self.s1.connect(self.mme, S1AP_PORT)
        self.s1_setup = False
        self._s1ap("S1SetupRequest", {
            "Global-ENB-ID": {"PLMN": self.plmn, "eNB-ID": self.enb_id},
            "SupportedTAs": [{"TAC": TAC, "PLMNs": [self.plmn]}], "DefaultPagingDRX": "v128"}, stream=0)

    def _s1_down(self, assoc: Association) -> None:
        """The association to the MME ended (ABORT, too many retransmissions): its UEs' contexts go
        (TS 36.413 §8.7.1.2 as after a Reset) and the eNodeB connects again a second later."""
        if assoc is not self.assoc:
            return
        self.count("s1_association_lost")
        for ue in self.by_id.values():
            if ue.t8 is not None:
                self.by_teid.pop(ue.t8, None)
        self.ues.clear()
        self.by_id.clear()
        self.ns.sched.after(1_000_000_000, self._s1_connect)

    @property
    def enb_id(self) -> int:
        """A macro eNB ID (20 bits) from this eNodeB's address."""
        return self.addr & 0xFFFFF

    def _where(self) -> dict[str, Any]:
        return {"TAI": {"PLMN": self.plmn, "TAC": TAC}, "EUTRAN-CGI": {"PLMN": self.plmn, "cell-ID": self.enb_id << 8 | 1}}

    # -- RRC / S1AP ---------------------------------------------------------------------
    def _s1ap(self, name: str, ies: dict[str, Any], stream: int = 1) -> None:
        try:
            data = S1ap(name, ies).encode()
        except S1apError:
            self.count("s1ap_encode_error")
            return
        self.s1.send(self.assoc, data, stream)

    def _on_uu(self, data: bytes, sll: SockaddrLl) -> None:
        try:
            rrc = Msg.decode(data, "RRC")
            pdu = bytes.fromhex(rrc.ie("NAS-PDU"))
            nas = _nas_name(pdu)
        except (MessageError, ValueError):
            self.count("rrc_malformed")
            return
        ue = self.ues.get(sll.addr)
        if rrc.name == "RRCConnectionSetupComplete":
            ue = EnbUe(self._next_id, sll.addr, sll.ifindex)
            self._next_id += 1
            self.ues[sll.addr] = ue
            self.by_id[ue.enb_ue_id] = ue
            stmsi = rrc.ies.get("s-TMSI")
            extra = {"S-TMSI": stmsi} if isinstance(stmsi, dict) else {}
            cause = rrc.ies.get("establishmentCause", "mo-Signalling")
            step = 0 if extra else 2
            self.note(step, "S1-MME", self.mme, f"S1AP InitialUEMessage (NAS {nas}, eNB-UE-S1AP-ID {ue.enb_ue_id})")
            self._s1ap("InitialUEMessage", {"ENB-UE-S1AP-ID": ue.enb_ue_id, "NAS-PDU": pdu, **self._where(),
                                            "RRC-Establishment-Cause": cause if cause in RRC_CAUSES else "mo-Signalling",
                                            **extra})
        elif ue is not None and ue.mme_ue_id is not None:
            step = 9 if nas == "Attach Complete" or ue.t8 is not None else 3
            self.note(step, "S1-MME", self.mme, f"S1AP UplinkNASTransport (NAS {nas})")
            self._s1ap("UplinkNASTransport", {"MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id,
                                              "NAS-PDU": pdu, **self._where()})

    def _to_ue(self, ue: EnbUe, rrc: str, nas: bytes) -> None:
        ies: dict[str, Any] = {"PLMN-Identity": self.plmn}
        if nas:
            ies["NAS-PDU"] = nas.hex()
        data = Msg("RRC", rrc, ies).encode()
        self.uu[ue.ifindex].sendto(data, ue.ifindex, ue.mac, ETH_P_UU)

    def _on_s1ap(self, assoc: Association, data: bytes) -> None:
        try:
            msg = S1ap.decode(data)
        except S1apError:
            self.count("s1ap_malformed")
            return
        if msg.name == "S1SetupResponse":
            self.s1_setup = True
            return
        if msg.name == "Paging":
            # TS 36.413 §8.5: page the S-TMSI on every cell (RRC Paging, TS 36.331 §5.3.2)
            frame = Msg("RRC", "Paging", {"s-TMSI": msg.ies["UEPagingID"], "PLMN-Identity": self.plmn}).encode()
            for ifx, sk in self.uu.items():
                sk.sendto(frame, ifx, b"\xff" * 6, ETH_P_UU)
            return
        ids = msg.ies.get("UE-S1AP-IDs", msg.ies)
        ue = self.by_id.get(ids.get("ENB-UE-S1AP-ID", -1))
        if ue is None:
            self.count("s1ap_unknown_ue")
            return
        ue.mme_ue_id = ids.get("MME-UE-S1AP-ID")
        if msg.name == "DownlinkNASTransport":
            nas = _nas_name(msg.ies["NAS-PDU"])
            self.note(3, "Uu", self.radios[ue.ifindex], f"RRC DLInformationTransfer (NAS {nas})")
            self._to_ue(ue, "DLInformationTransfer", msg.ies["NAS-PDU"])
        elif msg.name == "InitialContextSetupRequest":
            self._context_setup(ue, msg)
        elif msg.name == "UEContextReleaseCommand":
            # TS 36.413 §8.3.3: the UE's radio and S1-U state go; the MME is told it is done
            del self.ues[ue.mac], self.by_id[ue.enb_ue_id]
            if ue.t8 is not None:
                self.by_teid.pop(ue.t8, None)
            self._to_ue(ue, "RRCConnectionRelease", b"")
            self._s1ap("UEContextReleaseComplete", {"MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id})

    def _context_setup(self, ue: EnbUe, msg: S1ap) -> None:
        """Steps 8-9: the E-RAB toward the SGW's t7; this eNodeB allocates t8 and answers."""
        erab = msg.ies["E-RABToBeSetupListCtxtSUReq"][0]
        ue.t7 = erab["GTP-TEID"]
        ue.sgw_u = ip_to_int(erab["transportLayerAddress"])
        nas = erab.get("NAS-PDU", b"")
        ue.t8 = self.new_teid()
        self.by_teid[ue.t8] = ue
        if self.inactivity_ns:
            self.ns.sched.after(self.inactivity_ns, self._inactive, ue, -1)
        self.note(8, "Uu", self.radios[ue.ifindex], "RRC RRCConnectionReconfiguration (NAS Attach Accept, "
                                 "Activate Default EPS Bearer Context Request)")
        self._to_ue(ue, "RRCConnectionReconfiguration", nas)
        self.note(9, "S1-MME", self.mme, f"S1AP InitialContextSetupResponse: eNodeB allocated t8={hex_teid(ue.t8)} "
                                         f"(S1-U eNodeB GTP-U, {int_to_ip(self.addr)})")
        self._s1ap("InitialContextSetupResponse", {
            "MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id,
            "E-RABSetupListCtxtSURes": [{"E-RAB-ID": erab["E-RAB-ID"], "transportLayerAddress": int_to_ip(self.addr),
                                         "GTP-TEID": ue.t8}]})

    def _inactive(self, ue: EnbUe, seen: int) -> None:
        """The user inactivity timer: no packet either way for a whole period -> UEContextReleaseRequest
        (TS 23.401 §5.3.5 step 1, cause user-inactivity); the MME answers with the release."""
        if self.by_id.get(ue.enb_ue_id) is not ue or ue.mme_ue_id is None:
            return
        if ue.up + ue.down != seen:
            self.ns.sched.after(self.inactivity_ns, self._inactive, ue, ue.up + ue.down)
            return
        self.note(0, "S1-MME", self.mme, "S1AP UEContextReleaseRequest (Cause radioNetwork: user-inactivity)")
        self._s1ap("UEContextReleaseRequest", {"MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id,
                                               "Cause": {"radioNetwork": CAUSE_RADIO_USER_INACTIVITY}})

    # -- user plane -------------------------------------------------------------------------
    def _on_arp(self, data: bytes, sll: SockaddrLl) -> None:
        ue = self.ues.get(sll.addr)
        if ue is not None and ue.t7 is not None:
            answer_arp(self.uu[sll.ifindex], data, sll, RADIO_MAC)

    def _on_uplink(self, data: bytes, sll: SockaddrLl) -> None:
        ue = self.ues.get(sll.addr)
        if ue is None or ue.t7 is None or ue.sgw_u is None:
            return
        ue.up += 1
        self.send(self.s1u, GtpU(ue.t7, data).encode(), ue.sgw_u, GTPU_PORT)

    def _on_gtpu(self, data: bytes, src: int, sport: int) -> None:
        self.downlink(self.s1u, data, src, sport)
