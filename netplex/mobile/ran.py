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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.mobile.daemon import EpcDaemon, hex_teid, table
from netplex.mobile.messages import EMM_CAUSE, ETH_P_UU, S1AP_PORT, MessageError, Msg
from netplex.mobile.milenage import Milenage, kasme, xor
from netplex.mobile.sctp_link import Association, SctpEndpoint
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, ETH_P_IP
from netplex.packet.gtpu import (
    GTPU_END_MARKER,
    GTPU_PORT,
    GtpU,
)
from netplex.packet.nas_eps import Nas, NasError
from netplex.packet.nas_security import (
    INTEGRITY,
    INTEGRITY_CIPHERED,
    INTEGRITY_CIPHERED_NEW,
    INTEGRITY_NEW,
    PLAIN,
    NasSecurity,
    kenb_star,
)
from netplex.packet.s1ap import CAUSE_RADIO_USER_INACTIVITY, RRC_CAUSES, S1ap, S1apError
from netplex.packet.x2ap import (
    X2AP_PORT,
    X2AP_PPID,
    X2ap,
    X2apError,
    handover_command,
    handover_preparation_information,
)
from netplex.stack.af_packet import ETH_P_ALL, PACKET_OUTGOING, SOCK_DGRAM, PacketSocket, SockaddrLl

__all__ = ["UeModem", "Enodeb", "RADIO_MAC", "radio_socket", "radio_ports", "answer_arp", "RadioSide"]

TAC = 1                                    # a cell's tracking area unless its eNodeB says `tac:`
EARFCN_DL, EARFCN_UL = 1850, 19850         # every cell's FDD carrier (band 3)
FORWARDING_GUARD_NS = 1_000_000_000        # how long a target waits for the End Marker on the forwarding tunnel
T3417_NS = 5_000_000_000                   # TS 24.301 §10.2: the UE's Service Request supervision
RADIO_MAC = b"\x02\x4c\x54\x45\x00\x01"   # "LTE": the MAC the eNodeB's radio answers ARP with


def crnti(x2_id: int) -> int:
    """The C-RNTI a target gives an arriving UE (TS 36.331 newUE-Identity): netplex's targets derive it from
    their New-eNB-UE-X2AP-ID, so the source can tell the UE (the HandoverCommand's RRC is the minimal one,
    the modelled radio carries the identity)."""
    return 0x1000 + x2_id


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
                 enb: str = "eNodeB", cells: Mapping[int, str] | None = None,
                 on_cell_change: Callable[[int, int, str | None], None] | None = None) -> None:
        super().__init__()
        self.node = node
        self.enb = enb
        self.cells = dict(cells or {radio_ifindex: enb})   # radio ifindex -> the eNodeB at its far end
        self.on_cell_change = on_cell_change   # (old radio, new radio, UE IP) after a handover: the host's routes move
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
        self.uus: dict[int, PacketSocket] = {}
        self.guti: dict[str, Any] | None = None
        self.tai_list: list[dict[str, Any]] = []   # the TAs the MME gave (Attach / TAU Accept)
        self.tac: int | None = None              # the serving cell's tracking area (its broadcast)
        self.last_tai: dict[str, Any] | None = None
        self.t3412_ns = 0
        self.taus = 0                            # Tracking Area Update Requests sent
        self.tau_pending = False
        self.handovers = 0
        self._idle_gen = 0

    def start(self) -> None:
        for ifx in self.cells:
            self.uus[ifx] = radio_socket(self, ifx, ETH_P_UU, self._on_uu)
            radio_socket(self, ifx, ETH_P_ALL, self._on_host_frame)   # outgoing frames: ptype_all only
        self.uu = self.uus[self.ifindex]

    def _on_host_frame(self, data: bytes, sll: SockaddrLl) -> None:
        """The host sends an IP packet (or the ARP request before it) while the modem is in ECM-IDLE:
        a Service Request (TS 23.401 §5.3.4.1, cause mo-Data). That frame itself is lost: the eNodeB
        holds no bearer for it yet; the host's retransmission goes through."""
        if sll.pkttype == PACKET_OUTGOING and sll.protocol in (ETH_P_IP, ETH_P_ARP) and self.ecm == "ECM-IDLE" \
                and sll.ifindex == self.ifindex:
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
        if sll.ifindex != self.ifindex:
            return                               # a cell this UE does not camp on
        try:
            rrc = Msg.decode(data, "RRC")
            tac = rrc.ies.get("TAC")             # what the cell broadcasts (SIB1): its tracking area
            if isinstance(tac, int):
                self.tac = tac
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
        if nas.name in ("Tracking Area Update Accept", "Tracking Area Update Reject") and self.state == "EMM-REGISTERED":
            self._tau_answer(nas)
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
                self.guti = guti
                self.stmsi = {"MMEC": guti["MME code"], "M-TMSI": int(guti["M-TMSI"], 16)}
            self.tai_list = list(nas.ies.get("TAI list", []))
            self.t3412_ns = nas.ies.get("T3412 value", 0) * 1_000_000_000
            self.last_tai = {"PLMN": self.plmn, "TAC": self.tac} if self.tac is not None else None
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
            self.tau_pending = False
            self._idle_gen += 1
            if self.t3412_ns and self.state == "EMM-REGISTERED":
                self.ns.sched.after(self.t3412_ns, self._t3412, self._idle_gen)
            return True
        if rrc.name == "RRCConnectionReconfiguration" and "mobilityControlInfo" in rrc.ies:
            self._handover(rrc.ies["mobilityControlInfo"])
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

    # -- mobility (TS 36.331 §5.3.5.4, TS 24.301 §5.5.3) -------------------------------------
    def _handover(self, info: dict[str, Any]) -> None:
        """RRCConnectionReconfiguration with mobilityControlInfo: leave the cell, synchronise to the target
        (its radio) and say RRCConnectionReconfigurationComplete there with the C-RNTI it gave; the host's
        address and routes follow the radio; a target cell outside the TAI list asks for a TA update."""
        target = info.get("targetCell")
        ifx = next((i for i, name in self.cells.items() if name == target), None)
        if ifx is None or self.state != "EMM-REGISTERED":
            return
        old, self.ifindex, self.enb, self.enb_mac = self.ifindex, ifx, str(target), None
        self.uu = self.uus[ifx]
        self.tac = info.get("TAC", self.tac)
        self.handovers += 1
        self.note(0, f"RRCConnectionReconfigurationComplete to {target} (handover, C-RNTI {info.get('newUE-Identity')})")
        data = Msg("RRC", "RRCConnectionReconfigurationComplete", {"c-RNTI": info.get("newUE-Identity")}).encode()
        self.uu.sendto(data, ifx, b"\xff" * 6, ETH_P_UU)
        if self.on_cell_change is not None:
            self.on_cell_change(old, ifx, self.ip)
        if self.tac is not None and all(t["TAC"] != self.tac for t in self.tai_list):
            self.tracking_area_update("TA updating")

    def tracking_area_update(self, kind: str) -> bool:
        """TS 24.301 §5.5.3.2: a TRACKING AREA UPDATE REQUEST (integrity protected; ciphered too in
        ECM-CONNECTED, in ECM-IDLE the initial NAS message of a new RRC connection). False when the UE
        is not registered."""
        if self.sec is None or self.guti is None or self.state != "EMM-REGISTERED" or self.uu is None:
            return False
        ies: dict[str, Any] = {"EPS update type": kind, "NAS key set identifier": 0, "Old GUTI": self.guti}
        if self.last_tai is not None:
            ies["Last visited registered TAI"] = self.last_tai
        self.taus += 1
        self.tau_pending = True
        nas = Nas("Tracking Area Update Request", ies)
        if self.ecm == "ECM-CONNECTED":
            self.note(0, f"ULInformationTransfer (NAS Tracking Area Update Request, {kind})")
            self._send("ULInformationTransfer", nas)
            return True
        self.ecm = "ECM-CONNECTING"
        self.note(0, f"RRCConnectionSetupComplete (NAS Tracking Area Update Request, {kind})")
        data = Msg("RRC", "RRCConnectionSetupComplete", {
            "NAS-PDU": self.sec.protect(nas.encode(), INTEGRITY).hex(), "s-TMSI": self.stmsi,
            "establishmentCause": "mo-Signalling"}).encode()
        self.uu.sendto(data, self.ifindex, self.enb_mac or b"\xff" * 6, ETH_P_UU)
        return True

    def _tau_answer(self, nas: Nas) -> None:
        self.tau_pending = False
        if nas.name == "Tracking Area Update Reject":
            c = nas.ies.get("EMM cause")
            self.state, self.ip = "EMM-DEREGISTERED", None
            self.error = f"Tracking Area Update Reject: EMM cause #{c} ({EMM_CAUSE.get(c, 'unknown')})"
            return
        if "TAI list" in nas.ies:
            self.tai_list = list(nas.ies["TAI list"])
        if "T3412 value" in nas.ies:
            self.t3412_ns = nas.ies["T3412 value"] * 1_000_000_000
        if self.tac is not None:
            self.last_tai = {"PLMN": self.plmn, "TAC": self.tac}

    def _t3412(self, gen: int) -> None:
        """T3412 expired in ECM-IDLE: the periodic tracking area update (TS 24.301 §5.3.5)."""
        if gen == self._idle_gen and self.ecm == "ECM-IDLE":
            self.tracking_area_update("periodic updating")

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
    since: int = 0               # when the UE came to this cell (ns): UE-HistoryInformation
    caps: dict[str, int] = field(default_factory=dict)    # UESecurityCapabilities
    ambr: dict[str, int] = field(default_factory=dict)    # uEaggregateMaximumBitrate
    kenb: bytes = b""
    # X2 handover (TS 36.300 §10.1.2.1): at the source, the target and the forwarding tunnel;
    # at the target, the source's ids and what waits for the UE or for the End Marker
    ho: str | None = None        # PREPARING, EXECUTING (source); ARRIVING, SWITCHING (target)
    peer: int | None = None      # the other eNodeB's address
    x2_old: int | None = None    # Old-eNB-UE-X2AP-ID (the source's)
    x2_new: int | None = None    # New-eNB-UE-X2AP-ID (the target's)
    fwd_teid: int | None = None  # the target's DL forwarding TEID (X2-U)
    crnti: int | None = None
    fwd_open: bool = False       # the target still expects forwarded packets (no End Marker yet)
    held_fwd: list[bytes] = field(default_factory=list)   # forwarded before the UE arrived
    held_new: list[bytes] = field(default_factory=list)   # from the SGW before the End Marker
    forwarded: int = 0


@dataclass(slots=True)
class X2Peer:
    """A neighbour eNodeB over X2: its association and its served cell (from the X2 Setup)."""

    addr: int
    name: str
    assoc: Association | None = None
    cell: dict[str, Any] | None = None


class Enodeb(RadioSide):
    """The eNodeB: RRC toward its UEs, S1AP toward its MME, GTP-U on S1-U toward the SGW."""

    comm = "enodeb"
    role = "eNodeB"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], mme: int, plmn: str,
                 radios: Mapping[int, str], inactivity: int = 0, tac: int = TAC,
                 x2: Mapping[int, str] | None = None) -> None:
        super().__init__(node, addr, names)
        self.inactivity_ns = inactivity * 1_000_000_000   # the user inactivity timer (0: none)
        self.tac = tac
        self.x2_wanted = dict(x2 or {})   # neighbours this eNodeB sets X2 up with: address -> name
        self.x2_peers: dict[int, X2Peer] = {}
        self.by_x2: dict[int, EnbUe] = {}     # our UE X2AP id -> UE (handovers in progress)
        self.by_fwd: dict[int, EnbUe] = {}    # our DL forwarding TEID -> UE (target side)
        self._next_x2 = 1
        self.handovers = {"out": 0, "in": 0, "failed": 0}
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
        self.x2 = SctpEndpoint(self, self.addr, X2AP_PORT, self._on_x2ap, count=self.count, share=self.s1)
        self._s1_connect()
        for addr, name in self.x2_wanted.items():
            peer = self.x2_peers.setdefault(addr, X2Peer(addr, name))
            peer.assoc = self.x2.connect(addr, X2AP_PORT)
            self._x2ap(peer, "X2SetupRequest", self._x2_setup_ies(), stream=0)

    def _s1_connect(self) -> None:
        """TS 36.413 §8.7.3: an association to the MME, the S1 Setup its first message."""
        self.assoc = self.s1.connect(self.mme, S1AP_PORT)
        self.s1_setup = False
        self._s1ap("S1SetupRequest", {
            "Global-ENB-ID": {"PLMN": self.plmn, "eNB-ID": self.enb_id},
            "SupportedTAs": [{"TAC": self.tac, "PLMNs": [self.plmn]}], "DefaultPagingDRX": "v128"}, stream=0)

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
        return {"TAI": {"PLMN": self.plmn, "TAC": self.tac}, "EUTRAN-CGI": self.ecgi}

    @property
    def ecgi(self) -> dict[str, Any]:
        """This eNodeB's one cell: the eNB ID and cell 1."""
        return {"PLMN": self.plmn, "cell-ID": self.enb_id << 8 | 1}

    @property
    def pci(self) -> int:
        return self.enb_id % 504

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
            if rrc.name == "RRCConnectionReconfigurationComplete":
                self._ue_arrived(rrc, sll)
                return
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
        elif ue is not None and ue.mme_ue_id is not None and ue.ho not in ("PREPARING", "EXECUTING"):
            step = 9 if nas == "Attach Complete" or ue.t8 is not None else 3
            self.note(step, "S1-MME", self.mme, f"S1AP UplinkNASTransport (NAS {nas})")
            self._s1ap("UplinkNASTransport", {"MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id,
                                              "NAS-PDU": pdu, **self._where()})

    def _to_ue(self, ue: EnbUe, rrc: str, nas: bytes, extra: dict[str, Any] | None = None) -> None:
        ies: dict[str, Any] = {"PLMN-Identity": self.plmn, "TAC": self.tac, **(extra or {})}
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
        if msg.name == "PathSwitchRequestAcknowledge":
            self._path_switched(msg)
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
        ue.caps, ue.ambr = msg.ies["UESecurityCapabilities"], msg.ies["uEaggregateMaximumBitrate"]
        ue.kenb, ue.since = msg.ies["SecurityKey"], self.ns.sched.now
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
        if ue is None or ue.t7 is None or ue.sgw_u is None or ue.ho == "EXECUTING":
            return
        ue.up += 1
        self.send(self.s1u, GtpU(ue.t7, data).encode(), ue.sgw_u, GTPU_PORT)

    def _on_gtpu(self, data: bytes, src: int, sport: int) -> None:
        """S1-U and X2-U: a G-PDU for a UE here, for a UE that left (forwarded to the target), for a UE
        arriving (the forwarding tunnel); an End Marker on the old path (forwarded) or on the forwarding
        tunnel (the last forwarded packet is in)."""
        g = self.gtpu_rx(self.s1u, data, src, sport, markers=True)
        if g is None:
            return
        fwd = self.by_fwd.get(g.teid)
        if fwd is not None:
            self._from_source(fwd, g)
            return
        ue = self.by_teid.get(g.teid)
        if ue is None:
            if g.type != GTPU_END_MARKER:
                self.gtpu_unknown(self.s1u, g, src)
            return
        if ue.ho == "EXECUTING" and ue.fwd_teid is not None and ue.peer is not None:
            # TS 36.300 §10.1.2.1.1: the source forwards what still comes on the old path, End Marker included
            ue.forwarded += 1
            if g.type == GTPU_END_MARKER:
                self.note(0, "X2-U", ue.peer, f"GTP-U End Marker forwarded to TEID {hex_teid(ue.fwd_teid)}")
                self._forward_done(ue)
            self.send(self.s1u, GtpU(ue.fwd_teid, g.payload, g.type).encode(), ue.peer, GTPU_PORT)
            return
        if g.type == GTPU_END_MARKER:
            return
        if ue.fwd_open:                          # new path before the End Marker: after what is forwarded
            ue.held_new.append(g.payload)
            return
        ue.down += 1
        self.ipsk[ue.ifindex].sendto(g.payload, ue.ifindex, ue.mac, ETH_P_IP)

    # -- X2 (TS 36.423) ------------------------------------------------------------------------
    def _x2_setup_ies(self) -> dict[str, Any]:
        return {"GlobalENB-ID": {"PLMN": self.plmn, "eNB-ID": self.enb_id}, "ServedCells": [{
            "pCI": self.pci, "cellId": self.ecgi, "tAC": self.tac, "broadcastPLMNs": [self.plmn],
            "fDD": {"uL-EARFCN": EARFCN_UL, "dL-EARFCN": EARFCN_DL, "uL-Transmission-Bandwidth": "bw50",
                    "dL-Transmission-Bandwidth": "bw50"}}]}

    def _x2ap(self, peer: X2Peer, name: str, ies: dict[str, Any], stream: int = 1) -> None:
        try:
            data = X2ap(name, ies).encode()
        except X2apError:
            self.count("x2ap_encode_error")
            return
        if peer.assoc is None:
            self.count("x2ap_no_association")
            return
        self.x2.send(peer.assoc, data, stream, X2AP_PPID)

    def _on_x2ap(self, assoc: Association, data: bytes) -> None:
        try:
            msg = X2ap.decode(data)
        except X2apError:
            self.count("x2ap_malformed")
            return
        peer = self.x2_peers.get(assoc.peer)
        if peer is None:
            peer = self.x2_peers[assoc.peer] = X2Peer(assoc.peer, self.name_of(assoc.peer))
        peer.assoc = assoc
        handler = {"X2SetupRequest": self._x2_setup, "X2SetupResponse": self._x2_setup,
                   "HandoverRequest": self._handover_request, "HandoverRequestAcknowledge": self._handover_ack,
                   "HandoverPreparationFailure": self._handover_failed, "SNStatusTransfer": self._sn_status,
                   "UEContextRelease": self._x2_release}.get(msg.name)
        try:
            if handler is not None:
                handler(peer, msg)
        except (KeyError, IndexError, TypeError, ValueError):
            self.count("x2ap_unexpected")

    def _x2_setup(self, peer: X2Peer, msg: X2ap) -> None:
        """§8.3.3: each side learns the other's cells (ECGI, PCI, TAC); the request is answered."""
        peer.cell = msg.ies["ServedCells"][0]
        if msg.name == "X2SetupRequest":
            self._x2ap(peer, "X2SetupResponse", self._x2_setup_ies(), stream=0)

    def handover(self, ue_node: str, target: str) -> str | None:
        """`enb handover UE TARGET`: the source's decision (TS 23.401 §5.5.1.1.2 step 1): X2AP Handover
        Request to the target. An error message when it cannot start."""
        ue = next((u for u in self.by_id.values() if self.radios.get(u.ifindex) == ue_node), None)
        if ue is None or ue.t8 is None or ue.mme_ue_id is None:
            return f"enb: {ue_node} has no bearer at {self.node}"
        if ue.ho is not None:
            return f"enb: {ue_node}: a handover is in progress"
        peer = next((p for p in self.x2_peers.values() if p.name == target), None)
        if peer is None or peer.assoc is None or peer.cell is None:
            return f"enb: no X2 with {target}"
        ue.ho, ue.peer, ue.x2_old = "PREPARING", peer.addr, self._x2_id(ue)
        self.handovers["out"] += 1
        cell = peer.cell
        self.note(0, "X2-C", peer.addr, f"X2AP HandoverRequest (Old-eNB-UE-X2AP-ID {ue.x2_old}, target cell "
                                        f"{cell['cellId']['cell-ID']:#x}, TAC {cell['tAC']})")
        self._x2ap(peer, "HandoverRequest", {
            "Old-eNB-UE-X2AP-ID": ue.x2_old, "Cause": {"radioNetwork": "handover-desirable-for-radio-reasons"},
            "TargetCell-ID": cell["cellId"], "GUMMEI-ID": {"PLMN": self.plmn, "MME-Group-ID": 1, "MME-Code": 1},
            "UE-ContextInformation": {
                "MME-UE-S1AP-ID": ue.mme_ue_id, "UESecurityCapabilities": ue.caps,
                "AS-SecurityInformation": {"key-eNodeB-star": kenb_star(ue.kenb, cell["pCI"], EARFCN_DL),
                                           "nextHopChainingCount": 0},
                "UEAggregateMaximumBitRate": {"uEaggregateMaximumBitRateDL": ue.ambr["uEaggregateMaximumBitRateDL"],
                                              "uEaggregateMaximumBitRateUL": ue.ambr["uEaggregateMaximumBitRateUL"]},
                "E-RABs-ToBeSetup-List": [{
                    "E-RAB-ID": 5, "E-RAB-Level-QoS-Parameters": {"qCI": 9}, "dL-Forwarding": "dL-forwardingProposed",
                    "uL-GTPtunnelEndpoint": {"transportLayerAddress": int_to_ip(ue.sgw_u or 0), "GTP-TEID": ue.t7}}],
                "RRC-Context": handover_preparation_information()},
            "UE-HistoryInformation": [{"global-Cell-ID": self.ecgi, "cell-Size": "small",
                                       "time-UE-StayedInCell": (self.ns.sched.now - ue.since) // 1_000_000_000}]})
        return None

    def _x2_id(self, ue: EnbUe) -> int:
        x2 = self._next_x2
        self._next_x2 = self._next_x2 % 4095 + 1
        self.by_x2[x2] = ue
        return x2

    def _handover_request(self, peer: X2Peer, msg: X2ap) -> None:
        """At the target (§10.1.2.1.1 steps 4-6): admission, a context waiting for the UE with a new t8,
        a DL forwarding tunnel, a C-RNTI; the HandoverCommand goes back in the acknowledge."""
        ctx = msg.ies["UE-ContextInformation"]
        erab = ctx["E-RABs-ToBeSetup-List"][0]
        ul = erab["uL-GTPtunnelEndpoint"]
        ue = EnbUe(self._next_id, b"", -1, ctx["MME-UE-S1AP-ID"], ul["GTP-TEID"], ip_to_int(ul["transportLayerAddress"]))
        self._next_id += 1
        ue.caps, ue.ambr = ctx["UESecurityCapabilities"], ctx["UEAggregateMaximumBitRate"]
        ue.kenb = ctx["AS-SecurityInformation"]["key-eNodeB-star"]
        ue.ho, ue.peer, ue.x2_old, ue.x2_new = "ARRIVING", peer.addr, msg.ies["Old-eNB-UE-X2AP-ID"], self._x2_id(ue)
        ue.t8, ue.fwd_teid, ue.crnti, ue.fwd_open = self.new_teid(), self.new_teid(), crnti(ue.x2_new), True
        self.by_fwd[ue.fwd_teid] = ue
        self.by_id[ue.enb_ue_id] = ue
        self.handovers["in"] += 1
        self.note(0, "X2-C", peer.addr, f"X2AP HandoverRequestAcknowledge (New-eNB-UE-X2AP-ID {ue.x2_new}, DL "
                                        f"forwarding TEID {hex_teid(ue.fwd_teid)}, C-RNTI {ue.crnti:#x})")
        self._x2ap(peer, "HandoverRequestAcknowledge", {
            "Old-eNB-UE-X2AP-ID": ue.x2_old, "New-eNB-UE-X2AP-ID": ue.x2_new,
            "E-RABs-Admitted-List": [{"E-RAB-ID": erab["E-RAB-ID"], "dL-GTP-TunnelEndpoint": {
                "transportLayerAddress": int_to_ip(self.addr), "GTP-TEID": ue.fwd_teid}}],
            "TargeteNBtoSource-eNBTransparentContainer": handover_command()})

    def _handover_ack(self, peer: X2Peer, msg: X2ap) -> None:
        """At the source (steps 7-8): the HandoverCommand to the UE; from now on its downlink is forwarded
        to the target over X2-U, and the PDCP COUNTs go over in the SN Status Transfer."""
        ue = self.by_x2.get(msg.ies["Old-eNB-UE-X2AP-ID"])
        if ue is None or ue.ho != "PREPARING":
            self.count("x2ap_unknown_ue")
            return
        dl = msg.ies["E-RABs-Admitted-List"][0]["dL-GTP-TunnelEndpoint"]
        ue.ho, ue.x2_new, ue.fwd_teid = "EXECUTING", msg.ies["New-eNB-UE-X2AP-ID"], dl["GTP-TEID"]
        ue.peer = ip_to_int(dl["transportLayerAddress"])
        cell = peer.cell or {}
        self.note(0, "Uu", self.radios[ue.ifindex], f"RRC RRCConnectionReconfiguration (mobilityControlInfo: "
                                                   f"{peer.name}, C-RNTI {crnti(ue.x2_new):#x})")
        self._to_ue(ue, "RRCConnectionReconfiguration", b"", {"mobilityControlInfo": {
            "targetCell": peer.name, "targetPhysCellId": cell.get("pCI"), "TAC": cell.get("tAC"),
            "newUE-Identity": crnti(ue.x2_new)}})
        self.note(0, "X2-C", peer.addr, f"X2AP SNStatusTransfer (UL COUNT {ue.up}, DL COUNT {ue.down})")
        self._x2ap(peer, "SNStatusTransfer", {
            "Old-eNB-UE-X2AP-ID": ue.x2_old, "New-eNB-UE-X2AP-ID": ue.x2_new,
            "E-RABs-SubjectToStatusTransfer-List": [{
                "E-RAB-ID": 5, "uL-COUNTvalue": {"pDCP-SN": ue.up % 4096, "hFN": ue.up // 4096 % 1048576},
                "dL-COUNTvalue": {"pDCP-SN": ue.down % 4096, "hFN": ue.down // 4096 % 1048576}}]})

    def _handover_failed(self, peer: X2Peer, msg: X2ap) -> None:
        ue = self.by_x2.pop(msg.ies["Old-eNB-UE-X2AP-ID"], None)
        if ue is not None and ue.ho == "PREPARING":
            ue.ho = ue.peer = None
            self.handovers["failed"] += 1

    def _sn_status(self, peer: X2Peer, msg: X2ap) -> None:
        """At the target: the COUNTs the source reached (PDCP would continue from them)."""
        ue = self.by_x2.get(msg.ies["New-eNB-UE-X2AP-ID"])
        if ue is not None:
            item = msg.ies["E-RABs-SubjectToStatusTransfer-List"][0]
            ue.up = item["uL-COUNTvalue"]["hFN"] * 4096 + item["uL-COUNTvalue"]["pDCP-SN"]
            ue.down = item["dL-COUNTvalue"]["hFN"] * 4096 + item["dL-COUNTvalue"]["pDCP-SN"]

    def _from_source(self, ue: EnbUe, g: GtpU) -> None:
        """A packet on the forwarding tunnel: to the UE once it arrived, kept until then; the End Marker
        closes the tunnel and releases what came on the new path meanwhile."""
        if g.type == GTPU_END_MARKER:
            self._forwarding_ended(ue)
            return
        ue.forwarded += 1
        if ue.mac:
            ue.down += 1
            self.ipsk[ue.ifindex].sendto(g.payload, ue.ifindex, ue.mac, ETH_P_IP)
        else:
            ue.held_fwd.append(g.payload)

    def _forwarding_ended(self, ue: EnbUe, guard: bool = False) -> None:
        if not ue.fwd_open:
            return
        if guard:
            self.count("x2u_end_marker_missing")
        ue.fwd_open = False
        self.by_fwd.pop(ue.fwd_teid or 0, None)
        if ue.mac:
            self._flush(ue)

    def _flush(self, ue: EnbUe) -> None:
        held = ue.held_fwd + ([] if ue.fwd_open else ue.held_new)
        ue.held_fwd = []
        if not ue.fwd_open:
            ue.held_new = []
        for payload in held:
            ue.down += 1
            self.ipsk[ue.ifindex].sendto(payload, ue.ifindex, ue.mac, ETH_P_IP)

    def _ue_arrived(self, rrc: Msg, sll: SockaddrLl) -> None:
        """RRCConnectionReconfigurationComplete with the C-RNTI: the UE is here (step 11); what was
        forwarded goes to it, and the MME is asked to switch the downlink path (S1AP Path Switch)."""
        ue = next((u for u in self.by_id.values() if u.ho == "ARRIVING" and u.crnti == rrc.ies.get("c-RNTI")), None)
        if ue is None:
            self.count("rrc_unknown_crnti")
            return
        ue.mac, ue.ifindex, ue.ho, ue.since = sll.addr, sll.ifindex, "SWITCHING", self.ns.sched.now
        self.ues[ue.mac] = ue
        self.by_teid[ue.t8 or 0] = ue
        self._flush(ue)
        self.ns.sched.after(FORWARDING_GUARD_NS, self._forwarding_ended, ue, True)
        if self.inactivity_ns:
            self.ns.sched.after(self.inactivity_ns, self._inactive, ue, -1)
        self.note(0, "S1-MME", self.mme, f"S1AP PathSwitchRequest (E-RAB 5 to t8={hex_teid(ue.t8)} at "
                                         f"{int_to_ip(self.addr)}, TAC {self.tac})")
        self._s1ap("PathSwitchRequest", {
            "ENB-UE-S1AP-ID": ue.enb_ue_id, "E-RABToBeSwitchedDLList": [{
                "E-RAB-ID": 5, "transportLayerAddress": int_to_ip(self.addr), "GTP-TEID": ue.t8}],
            "SourceMME-UE-S1AP-ID": ue.mme_ue_id, "EUTRAN-CGI": self.ecgi,
            "TAI": {"PLMN": self.plmn, "TAC": self.tac}, "UESecurityCapabilities": ue.caps})

    def _path_switched(self, msg: S1ap) -> None:
        """PathSwitchRequestAcknowledge (step 17): the source may release the UE (X2AP UE Context Release)."""
        ue = self.by_id.get(msg.ies["ENB-UE-S1AP-ID"])
        if ue is None or ue.ho != "SWITCHING" or ue.peer is None:
            self.count("s1ap_unknown_ue")
            return
        ue.ho, ue.mme_ue_id = None, msg.ies["MME-UE-S1AP-ID"]
        peer = self.x2_peers.get(ue.peer)
        self.by_x2.pop(ue.x2_new or 0, None)
        if peer is not None:
            self.note(0, "X2-C", peer.addr, f"X2AP UEContextRelease (Old {ue.x2_old}, New {ue.x2_new})")
            self._x2ap(peer, "UEContextRelease", {"Old-eNB-UE-X2AP-ID": ue.x2_old, "New-eNB-UE-X2AP-ID": ue.x2_new})

    def _x2_release(self, peer: X2Peer, msg: X2ap) -> None:
        """At the source (step 18): the UE's radio and control resources go; its S1-U TEID forwards
        until the End Marker passed (or the guard timer)."""
        ue = self.by_x2.pop(msg.ies["Old-eNB-UE-X2AP-ID"], None)
        if ue is None or ue.ho != "EXECUTING":
            self.count("x2ap_unknown_ue")
            return
        self.ues.pop(ue.mac, None)
        self.by_id.pop(ue.enb_ue_id, None)
        self.ns.sched.after(FORWARDING_GUARD_NS, self._forward_done, ue)

    def _forward_done(self, ue: EnbUe) -> None:
        if ue.t8 is not None and self.by_teid.get(ue.t8) is ue and self.by_id.get(ue.enb_ue_id) is not ue:
            del self.by_teid[ue.t8]

    def show_ue(self) -> str:
        rows = [("UE", "ENB-UE-ID", "MME-UE-ID", "STATE", "t7(SGW-S1U)", "t8(ENB-S1U)", "UP", "DOWN", "FORWARDED")]
        for ue in self.by_id.values():
            name = self.radios.get(ue.ifindex, "-")
            rows.append((name, str(ue.enb_ue_id), str(ue.mme_ue_id), ue.ho or "CONNECTED", hex_teid(ue.t7),
                         hex_teid(ue.t8), str(ue.up), str(ue.down), str(ue.forwarded)))
        return table(rows)

    def show_x2(self) -> str:
        rows = [("NEIGHBOUR", "ADDRESS", "STATE", "CELL", "PCI", "TAC")]
        for p in self.x2_peers.values():
            c = p.cell or {}
            rows.append((p.name, int_to_ip(p.addr), "SETUP" if c else "CONNECTING",
                         f"{c['cellId']['cell-ID']:#09x}" if c else "-", str(c.get("pCI", "-")), str(c.get("tAC", "-"))))
        return table(rows)
