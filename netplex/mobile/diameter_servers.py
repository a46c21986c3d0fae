"""The Diameter servers: the HSS (S6a, TS 29.272) and the PCRF (Gx, TS 29.212).

HSS: Authentication-Information-Request -> an EPS vector from Milenage (RAND
from the node's seeded generator, SQN stepped per vector, AMF 8000 — the
separation bit TS 33.401 §6.1.1 requires); Update-Location-Request -> the
subscription (APN configuration with its PGW in MIP6-Agent-Info, AMBR), after
checking the visited PLMN against the subscriber's roaming permission.
PCRF: Credit-Control-Request (INITIAL_REQUEST) -> Charging-Rule-Install with
one rule per denied network: Flow-Information both ways, Flow-Status DISABLED.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netplex.mobile.daemon import EpcDaemon, table
from netplex.mobile.diameter_link import DiameterServer, plmn_digits, realm
from netplex.mobile.milenage import AuthVector, Milenage
from netplex.packet.addr import int_to_ip
from netplex.packet.diameter import APP_GX, APP_S6A, CMD, RESULT, Avp, Diameter, DiameterError

__all__ = ["Hss", "HssSubscriber", "Pcrf"]

AMF = bytes.fromhex("8000")
FLOW_STATUS_DISABLED = 3                                 # TS 29.212 §5.3.11
FLOW_DOWNLINK, FLOW_UPLINK = 1, 2                        # TS 29.212 §5.3.65 Flow-Direction
SERVICE_GRANTED, ONLY_PACKET, PDN_TYPE_IPV4 = 0, 2, 0   # TS 29.272 §7.3.29, §7.3.21, §7.3.62
ULA_SEPARATION_INDICATION = 1                            # TS 29.272 §7.3.8


@dataclass(slots=True)
class HssSubscriber:
    imsi: str
    key: bytes
    opc: bytes
    apn: str
    ambr_ul_kbps: int
    ambr_dl_kbps: int
    pgw: int
    roaming: bool
    sqn: int
    mme: str | None = None
    visited_plmn: str | None = None


class Hss(EpcDaemon):
    """The HSS: S6a over Diameter on TCP 3868 (real bytes, `diameter_link.DiameterServer`)."""

    comm = "hss"
    role = "HSS"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], subscribers: list[HssSubscriber]) -> None:
        super().__init__(node, addr, names)
        self.subscribers = {s.imsi: s for s in subscribers}
        first = next(iter(self.subscribers), "00101")
        self.home = realm(first[:5])

    def start(self) -> None:
        self.s6a = DiameterServer(self, APP_S6A, self.home, self._answer)

    def _answer(self, req: Diameter, src: int) -> Diameter | None:
        imsi = req.get("User-Name")
        sub = self.subscribers.get(imsi)
        visited = plmn_digits(req.get("Visited-PLMN-Id"))
        srv = self.s6a
        if req.code == CMD["Authentication-Information"]:
            name = "Authentication-Information-Answer"
            if sub is None:
                self.note(3, "S6a", src, f"Diameter {name}: DIAMETER_ERROR_USER_UNKNOWN ({imsi})")
                return srv.answer(req, RESULT["DIAMETER_ERROR_USER_UNKNOWN"], [])
            sub.sqn = (sub.sqn + 32) % 2**48   # TS 33.102 C.3.2: SEQ steps, IND in the low 5 bits
            rand = self.rng.getrandbits(128).to_bytes(16, "big")
            vec = AuthVector.generate(Milenage(sub.key, sub.opc), rand, sub.sqn.to_bytes(6, "big"), AMF, visited)
            self.note(3, "S6a", src, f"Diameter {name} (E-UTRAN vector: RAND, XRES, AUTN, KASME)")
            return srv.answer(req, RESULT["DIAMETER_SUCCESS"], [Avp.make("Authentication-Info", [
                Avp.make("E-UTRAN-Vector", [Avp.make("Item-Number", 1), Avp.make("RAND", vec.rand),
                                            Avp.make("XRES", vec.xres), Avp.make("AUTN", vec.autn),
                                            Avp.make("KASME", vec.kasme)])])])
        if req.code == CMD["Update-Location"]:
            name = "Update-Location-Answer"
            if sub is None:
                return srv.answer(req, RESULT["DIAMETER_ERROR_USER_UNKNOWN"], [])
            if visited != sub.imsi[:len(visited)] and not sub.roaming:
                self.note(3, "S6a", src, f"Diameter {name}: DIAMETER_ERROR_ROAMING_NOT_ALLOWED (PLMN {visited})")
                return srv.answer(req, RESULT["DIAMETER_ERROR_ROAMING_NOT_ALLOWED"], [])
            sub.mme, sub.visited_plmn = self.name_of(src), visited
            self.note(3, "S6a", src, f"Diameter {name} (APN {sub.apn}, PGW {self.name_of(sub.pgw)}, "
                                     f"AMBR {sub.ambr_ul_kbps}/{sub.ambr_dl_kbps} kbit/s)")
            ambr = [Avp.make("Max-Requested-Bandwidth-UL", sub.ambr_ul_kbps * 1000),
                    Avp.make("Max-Requested-Bandwidth-DL", sub.ambr_dl_kbps * 1000)]
            return srv.answer(req, RESULT["DIAMETER_SUCCESS"], [
                Avp.make("ULA-Flags", ULA_SEPARATION_INDICATION), Avp.make("Subscription-Data", [
                    Avp.make("Subscriber-Status", SERVICE_GRANTED), Avp.make("Network-Access-Mode", ONLY_PACKET),
                    Avp.make("AMBR", ambr),
                    Avp.make("APN-Configuration-Profile", [
                        Avp.make("Context-Identifier", 1), Avp.make("All-APN-Configurations-Included-Indicator", 0),
                        Avp.make("APN-Configuration", [
                            Avp.make("Context-Identifier", 1), Avp.make("PDN-Type", PDN_TYPE_IPV4),
                            Avp.make("Service-Selection", sub.apn),
                            Avp.make("EPS-Subscribed-QoS-Profile", [
                                Avp.make("QoS-Class-Identifier", 9),
                                Avp.make("Allocation-Retention-Priority", [Avp.make("Priority-Level", 8)])]),
                            Avp.make("MIP6-Agent-Info", [Avp.make("MIP-Home-Agent-Address", int_to_ip(sub.pgw))]),
                            Avp.make("AMBR", ambr)])])])])
        return None

    def show_subscriber(self, imsi: str) -> str | None:
        s = self.subscribers.get(imsi)
        if s is None:
            return None
        rows = [("IMSI", s.imsi), ("APN", s.apn), ("AMBR-UL", f"{s.ambr_ul_kbps} kbit/s"),
                ("AMBR-DL", f"{s.ambr_dl_kbps} kbit/s"), ("PGW", self.name_of(s.pgw)),
                ("ROAMING", "allowed" if s.roaming else "not allowed"), ("SQN", f"0x{s.sqn:012x}"),
                ("MME", s.mme or "-"), ("VISITED-PLMN", s.visited_plmn or "-")]
        return "".join(f"{k + ':':<14}{v}\n" for k, v in rows)

    def show_subscribers(self) -> str:
        rows = [("IMSI", "APN", "PGW", "MME")]
        rows += [(s.imsi, s.apn, self.name_of(s.pgw), s.mme or "-") for s in self.subscribers.values()]
        return table(rows)


class Pcrf(EpcDaemon):
    """The PCRF: Gx over Diameter on TCP 3868 (TS 29.212 §4.5.1: the PCC rules at the IP-CAN session's
    establishment, in the Credit-Control-Answer to the PGW's INITIAL_REQUEST)."""

    comm = "pcrf"
    role = "PCRF"

    def __init__(self, node: str, addr: int, names: Mapping[int, str], rules: list[tuple[str, list[str]]],
                 home: str = realm("00101")) -> None:
        super().__init__(node, addr, names)
        self.rules = rules
        self.home = home
        self.sessions: dict[str, tuple[str, str]] = {}

    def start(self) -> None:
        self.gx = DiameterServer(self, APP_GX, self.home, self._answer)

    def _answer(self, req: Diameter, src: int) -> Diameter | None:
        if req.code != CMD["Credit-Control"]:
            return None
        apn, framed = req.get("Called-Station-Id"), req.get("Framed-IP-Address")
        if len(framed) != 4:
            raise DiameterError("Framed-IP-Address is not IPv4", RESULT["DIAMETER_INVALID_AVP_LENGTH"])
        ue_ip = int_to_ip(int.from_bytes(framed, "big"))
        self.sessions[req.get("Session-Id")] = (apn, ue_ip)
        rules: list[Avp] = []
        closed: list[str] = []
        for i, (rule_apn, nets) in enumerate(self.rules):
            if rule_apn != apn:
                continue
            for j, net in enumerate(nets):
                closed.append(net)
                flows = [Avp.make("Flow-Information", [
                    Avp.make("Flow-Description", f"permit out ip from {net} to {ue_ip}".encode()),
                    Avp.make("Flow-Direction", direction)]) for direction in (FLOW_DOWNLINK, FLOW_UPLINK)]
                rules.append(Avp.make("Charging-Rule-Definition", [
                    Avp.make("Charging-Rule-Name", f"deny-{i}-{j}".encode()), *flows,
                    Avp.make("Flow-Status", FLOW_STATUS_DISABLED), Avp.make("Precedence", 10 + j)]))
        self.note(5, "Gx", src, f"Diameter Credit-Control-Answer: {len(rules)} PCC rule(s) installed for APN {apn}"
                  + "".join(f", gate closed to {net}" for net in closed))
        install = [Avp.make("Charging-Rule-Install", rules)] if rules else []
        return self.gx.answer(req, RESULT["DIAMETER_SUCCESS"], [
            Avp.make("CC-Request-Type", req.get("CC-Request-Type")),
            Avp.make("CC-Request-Number", req.get("CC-Request-Number")), *install], session_state=False)
