"""The 2.5G/3G radio side: the mobile station's modem and the RAN controller (PCU or RNC), TS 23.060.

The MS runs GMM and SM (TS 24.008 §4.7, §6.1): the GPRS attach (with
authentication: UMTS AKA when its cell is a Node B, a GSM triplet's SRES by
GSM-Milenage when it is a BTS), then the PDP context activation that gives it
an address. Its radio is its link to a BTS or a Node B; those relay (a bridge
each, the Abis / Iub transport) to the controller:

    2.5G  MS -Um- BTS -Abis- BSC -- PCU -Gb- SGSN    LLC on the radio, BSSGP on Gb
    3G    MS -Uu- Node B -Iub- RNC -Iu-PS- SGSN      RRC on the radio, RANAP on Iu-PS, GTP-U on Iu-U

Modelled (netplex's JSON `Msg`, the specifications' message and IE names,
docs/mobile.md): LLC/RRC with GMM/SM on the radio (Ethernet type 0x88B5),
BSSGP on UDP 23000 (NS-IP's port), RANAP on UDP 2905 (M3UA's SCTP port).
Real bytes: GTP-U on Iu-U (3G: the RNC and the SGSN exchange G-PDUs with the
TEIDs of the RAB assignment). On Gb the user's packets travel inside BSSGP
UL-UNITDATA/DL-UNITDATA as hex (SNDCP/LLC framing is not modelled).

As the eNodeB does, the controller answers an attached MS's ARP with its
radio MAC and takes every IP frame the MS sends into the PDP context.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.mobile.daemon import hex_teid
from netplex.mobile.messages import ETH_P_UU, MessageError, Msg
from netplex.mobile.milenage import Milenage, xor
from netplex.mobile.ran import RadioSide, answer_arp, radio_ports, radio_socket
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.ethernet import ETH_P_IP
from netplex.packet.gtpu import GTPU_PORT, GtpU
from netplex.stack.af_packet import PacketSocket, SockaddrLl

__all__ = ["MsModem", "RanController", "GENERATIONS", "GB_PORT", "IU_PORT", "GMM_CAUSE", "SM_CAUSE"]

GB_PORT = 23000   # NS over IP (TS 48.016 §4.2: UDP), the port operators use
IU_PORT = 2905    # RANAP over M3UA (the SCTP port, RFC 4666); UDP here

# generation -> (radio interface, radio protocol, RAN-core interface, its protocol, the UE id IE)
GENERATIONS = {
    "2.5G": ("Um", "LLC", "Gb", "BSSGP", "TLLI"),
    "3G": ("Uu", "RRC", "Iu-PS", "RANAP", "Iu-Signalling-Connection-Identifier"),
}

# TS 24.008 Annex G (GMM) and Annex I (SM), the causes netplex gives
GMM_CAUSE = {3: "Illegal MS", 7: "GPRS services not allowed", 8: "GPRS services and non-GPRS services not allowed",
             11: "PLMN not allowed", 20: "MAC failure", 111: "Protocol error, unspecified"}
SM_CAUSE = {26: "Insufficient resources", 27: "Missing or unknown APN", 31: "Activation rejected, unspecified",
            33: "Requested service option not subscribed"}

RADIO_MAC = b"\x02\x47\x50\x52\x53\x01"   # "GPRS": what the controller's radio answers ARP with


class MsModem(Program):
    """The MS: its (U)SIM and GMM/SM states (TS 24.008 §4.1.3: GMM-DEREGISTERED, GMM-REGISTERED; the PDP
    context INACTIVE/ACTIVE)."""

    comm = "ms-modem"

    def __init__(self, node: str, imsi: str, key: bytes, opc: bytes, apn: str, radio_ifindex: int,
                 generation: str, ran: str) -> None:
        super().__init__()
        self.node, self.imsi, self.apn, self.ifindex = node, imsi, apn, radio_ifindex
        self.usim = Milenage(key, opc)
        self.generation = generation
        self.radio_if, self.radio_proto = GENERATIONS[generation][:2]
        self.ran = ran
        self.state = "GMM-DEREGISTERED"
        self.pdp = "INACTIVE"
        self.error: str | None = None
        self.ip: str | None = None
        self.ptmsi: str | None = None
        self.ran_mac: bytes | None = None

    def start(self) -> None:
        self.uu = radio_socket(self, self.ifindex, ETH_P_UU, self._on_radio)

    def note(self, step: int, text: str) -> None:
        if self.ns.world.tracer.on:
            self.ns.trace("attach", f"[{step:>2}] {self.radio_if:<7} {self.node} → {self.ran}: {text}")

    def _send(self, nas: Msg) -> None:
        data = Msg(self.radio_proto, "UL", {"NAS-PDU": nas.as_ie()}).encode()
        self.uu.sendto(data, self.ifindex, self.ran_mac or b"\xff" * 6, ETH_P_UU)

    def attach(self) -> None:
        """TS 24.008 §4.7.3.1: GPRS Attach Request (attach type GPRS attach, the IMSI as identity)."""
        self.state, self.pdp, self.error, self.ip = "GMM-REGISTERED-INITIATED", "INACTIVE", None, None
        self.note(1, f"GMM Attach Request (GPRS attach, IMSI {self.imsi})")
        self._send(Msg("NAS", "Attach Request", {"Attach type": "GPRS attach", "Mobile identity": {"IMSI": self.imsi},
                                                 "MS network capability": "GEA/1"}))

    def _fail(self, why: str) -> None:
        self.state, self.error = "GMM-DEREGISTERED", why

    def _on_radio(self, data: bytes, sll: SockaddrLl) -> None:
        try:
            nas = Msg.decode(data, self.radio_proto).nas()
        except MessageError:
            return
        if self.state == "GMM-DEREGISTERED" or self.pdp == "ACTIVE":
            return
        self.ran_mac = sll.addr
        if nas.name == "Authentication and Ciphering Request":
            self._authenticate(nas)
        elif nas.name == "Attach Accept":
            self.state, self.ptmsi = "GMM-REGISTERED", str(nas.ies.get("Allocated P-TMSI"))
            self.note(5, "GMM Attach Complete")
            self._send(Msg("NAS", "Attach Complete"))
            self.pdp = "ACTIVE-PENDING"
            self.note(6, f"SM Activate PDP Context Request (NSAPI 5, APN {self.apn}, PDP type IPv4, dynamic address)")
            self._send(Msg("NAS", "Activate PDP Context Request", {
                "Requested NSAPI": 5, "Requested LLC SAPI": 3, "Requested QoS": "subscribed",
                "Requested PDP address": {"PDP type": "IPv4"}, "Access point name": self.apn}))
        elif nas.name == "Activate PDP Context Accept":
            self.ip, self.pdp = nas.ies.get("PDP address"), "ACTIVE"
        elif nas.name == "Activate PDP Context Reject":
            c = nas.ies.get("SM cause")
            self.pdp = "INACTIVE"
            self.error = f"Activate PDP Context Reject: SM cause #{c} ({SM_CAUSE.get(c, 'unknown')})"
        elif nas.name in ("Attach Reject", "Authentication and Ciphering Reject"):
            c = nas.ies.get("GMM cause")
            self._fail(nas.name + (f": GMM cause #{c} ({GMM_CAUSE.get(c, 'unknown')})" if c else ""))

    def _authenticate(self, nas: Msg) -> None:
        """3G: UMTS AKA (TS 33.102 §6.3.3): AUTN's MAC checked with the USIM's K, RES answered.
        2.5G: a GSM triplet's RAND, SRES answered (GSM-Milenage, TS 55.205: c2)."""
        try:
            rand = bytes.fromhex(nas.ie("RAND"))
            autn = bytes.fromhex(nas.ies["AUTN"]) if self.generation == "3G" else b""
        except (MessageError, ValueError, KeyError, TypeError):
            return
        if len(rand) != 16:
            return
        if self.generation == "3G":
            res, _ck, _ik, ak, _ = self.usim.f2345(rand)
            sqn = xor(autn[:6], ak)
            if len(autn) != 16 or self.usim.f1(rand, sqn, autn[6:8])[0] != autn[8:]:
                self.note(3, "GMM Authentication and Ciphering Failure (GMM cause #20 MAC failure)")
                self._send(Msg("NAS", "Authentication and Ciphering Failure", {"GMM cause": 20}))
                self._fail("Authentication and Ciphering Failure: GMM cause #20 (MAC failure): the network's "
                           "AUTN does not match this USIM's key")
                return
            answer = {"Authentication Response parameter": res[:4].hex(),
                      "Authentication Response parameter (extension)": res[4:].hex()}
        else:
            sres, _kc = self.usim.gsm(rand)
            answer = {"Authentication Response parameter": sres.hex()}
        self.note(3, "GMM Authentication and Ciphering Response (" + ("RES" if autn else "SRES") + ")")
        self._send(Msg("NAS", "Authentication and Ciphering Response", answer))


@dataclass(slots=True)
class RanUe:
    """One MS at its controller: its radio MAC and the id the SGSN knows it by (TLLI or Iu signalling id)."""

    ue_id: int
    mac: bytes
    ifindex: int
    ip: str | None = None
    active: bool = False
    sgsn_teid: int | None = None   # 3G: the SGSN's Iu-U TEID (uplink G-PDUs carry it)
    sgsn_u: int | None = None
    teid: int | None = None        # 3G: this RNC's Iu-U TEID (downlink)
    up: int = 0
    down: int = 0


class RanController(RadioSide):
    """The PCU (2.5G) or the RNC (3G): the radio toward its MSs, Gb or Iu-PS toward the SGSN."""

    def __init__(self, node: str, addr: int, names: Mapping[int, str], sgsn: int, generation: str,
                 radios: list[int], stations: Mapping[bytes, str]) -> None:
        super().__init__(node, addr, names)
        self.comm = "pcu" if generation == "2.5G" else "rnc"
        self.role = self.comm.upper()
        self.sgsn = sgsn
        self.generation = generation
        self.radio_if, self.radio_proto, self.core_if, self.core_proto, self.id_ie = GENERATIONS[generation]
        self.port = GB_PORT if generation == "2.5G" else IU_PORT
        self.radios = radios
        self.stations = dict(stations)   # an MS's radio MAC -> its node, for the narration
        self.ues: dict[bytes, RanUe] = {}
        self.by_id: dict[int, RanUe] = {}

    def start(self) -> None:
        if not self.radios:
            raise ProgramExit(1, f"{self.comm}: no radio link toward a mobile station\n")
        self.core = self.udp(self.port, self._on_core)
        self.iu_u = self.udp(GTPU_PORT, self._on_gtpu) if self.generation == "3G" else None
        self.uu: dict[int, PacketSocket] = {}
        for ifx in self.radios:
            self.uu[ifx], self.ipsk[ifx] = radio_ports(self, ifx, self._on_radio, self._on_uplink, self._on_arp)

    def _to_sgsn(self, name: str, ue: RanUe, ies: dict[str, Any]) -> None:
        self.send(self.core, Msg(self.core_proto, name, {self.id_ie: ue.ue_id, **ies}).encode(), self.sgsn, self.port)

    def _on_radio(self, data: bytes, sll: SockaddrLl) -> None:
        try:
            nas = Msg.decode(data, self.radio_proto).nas()
        except MessageError:
            self.count("radio_malformed")
            return
        ue = self.ues.get(sll.addr)
        if ue is None or nas.name == "Attach Request":
            ue = RanUe(self.rng.getrandbits(31) | 1, sll.addr, sll.ifindex)
            self.ues[sll.addr], self.by_id[ue.ue_id] = ue, ue
        step = {"Attach Request": 1, "Attach Complete": 5, "Activate PDP Context Request": 6}.get(nas.name, 3)
        if self.generation == "2.5G":
            self.note(step, "Gb", self.sgsn, f"BSSGP UL-UNITDATA (TLLI {ue.ue_id:#010x}, LLC: {nas.name})")
            self._to_sgsn("UL-UNITDATA", ue, {"LLC-PDU": {"NAS-PDU": nas.as_ie()}})
        else:
            first = nas.name == "Attach Request"
            name = "InitialUE-Message" if first else "DirectTransfer"
            self.note(step, "Iu-PS", self.sgsn, f"RANAP {name} (NAS {nas.name})")
            self._to_sgsn(name, ue, {"NAS-PDU": nas.as_ie()})

    def _on_core(self, data: bytes, src: int, sport: int) -> None:
        try:
            msg = Msg.decode(data, self.core_proto)
            ue = self.by_id.get(msg.ie(self.id_ie, int))
        except MessageError:
            self.count(f"{self.core_proto.lower()}_malformed")
            return
        if ue is None:
            self.count("unknown_ue")
            return
        if msg.name == "RAB-AssignmentRequest":
            self._rab(ue, msg)
            return
        if msg.name == "DL-UNITDATA" and "N-PDU" in msg.ies:
            try:
                packet = bytes.fromhex(msg.ie("N-PDU"))
            except ValueError:
                self.count("bssgp_malformed")
                return
            ue.down += 1
            self.ipsk[ue.ifindex].sendto(packet, ue.ifindex, ue.mac, ETH_P_IP)
            return
        pdu = msg.ies.get("LLC-PDU", msg.ies)
        nas = pdu.get("NAS-PDU") if isinstance(pdu, dict) else None
        if not isinstance(nas, dict):
            self.count(f"{self.core_proto.lower()}_malformed")
            return
        if nas.get("name") == "Activate PDP Context Accept":
            ue.ip, ue.active = nas.get("ies", {}).get("PDP address"), True
        step = {"Attach Accept": 5, "Activate PDP Context Accept": 10, "Activate PDP Context Reject": 10}.get(
            str(nas.get("name")), 3)
        self.note(step, self.radio_if, self.stations.get(ue.mac, "MS"), f"{self.radio_proto} (NAS {nas.get('name')})")
        data = Msg(self.radio_proto, "DL", {"NAS-PDU": nas}).encode()
        self.uu[ue.ifindex].sendto(data, ue.ifindex, ue.mac, ETH_P_UU)

    def _rab(self, ue: RanUe, msg: Msg) -> None:
        """3G, TS 25.413 §8.2: the RAB toward the SGSN's Iu-U TEID; this RNC allocates its own and answers."""
        try:
            rab = msg.ie("RAB-SetupOrModifyList", list)[0]
            ue.sgsn_teid = int(rab["GTP-TEID"], 16)
            ue.sgsn_u = ip_to_int(rab["transportLayerAddress"])
        except (MessageError, LookupError, TypeError, ValueError):
            self.count("ranap_malformed")
            return
        ue.teid = self.new_teid()
        self.by_teid[ue.teid] = ue
        self.note(9, "Iu-PS", self.sgsn, f"RANAP RAB-AssignmentResponse: RNC allocated Iu-U TEID {hex_teid(ue.teid)}")
        self._to_sgsn("RAB-AssignmentResponse", ue, {"RAB-SetupOrModifiedList": [{
            "RAB-ID": rab.get("RAB-ID", 5), "transportLayerAddress": int_to_ip(self.addr), "GTP-TEID": hex_teid(ue.teid)}]})

    # -- user plane -------------------------------------------------------------------------
    def _on_arp(self, data: bytes, sll: SockaddrLl) -> None:
        ue = self.ues.get(sll.addr)
        if ue is not None and ue.active:
            answer_arp(self.uu[sll.ifindex], data, sll, RADIO_MAC)

    def _on_uplink(self, data: bytes, sll: SockaddrLl) -> None:
        ue = self.ues.get(sll.addr)
        if ue is None or not ue.active:
            return
        if self.generation == "2.5G":
            ue.up += 1
            self._to_sgsn("UL-UNITDATA", ue, {"N-PDU": data.hex()})
        elif ue.sgsn_teid is not None and ue.sgsn_u is not None and self.iu_u is not None:
            ue.up += 1
            self.send(self.iu_u, GtpU(ue.sgsn_teid, data).encode(), ue.sgsn_u, GTPU_PORT)

    def _on_gtpu(self, data: bytes, src: int, sport: int) -> None:
        assert self.iu_u is not None
        self.downlink(self.iu_u, data, src, sport)
