"""The gateways: the SGW (S11, S1-U, S5/S8) and the PGW (S5/S8, Gx, SGi) — TS 23.401 §4.4.3.

SGW, steps 4-7 and 10: a Create Session Request from the MME (t1) makes a
session; the SGW allocates t2/t3 (its S5/S8 control and user TEIDs) and asks
the PGW; the PGW's answer (to t2) brings t4/t5; the SGW allocates t6/t7 (S11
and S1-U) and answers the MME (to t1). Modify Bearer (to t6) brings the
eNodeB's t8. Its user plane relays GTP-U: t7 (from the eNodeB) out to the
PGW's t5, t3 (from the PGW) out to the eNodeB's t8.

PGW, steps 5-6: it allocates the UE's address from its pool and t4/t5, asks
its PCRF over Gx for the PCC rules, and answers. Its user plane is the SGi
side, a TUN device as Open5GS's UPF has: the operator makes `ogstun`
(`ip tuntap add name ogstun mode tun`, the pool's first address, up,
forwarding, MASQUERADE), the daemon opens /dev/net/tun with TUNSETIFF
IFF_TUN|IFF_NO_PI on it (`open_tun`: stack/tun.py's `TunFile` in the
simulator, realnet's `RealTun` on the kernel twin). A decapsulated uplink
packet is written to the fd and the kernel routes it on; what the kernel
routes to the pool (`POOL dev ogstun`, the address's prefix route) is read
from the fd and encapsulated toward the UE's SGW. A packet a closed gate (a
PCC rule with Flow-Status DISABLED) matches is dropped and counted.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from netplex.mobile.daemon import EpcDaemon, hex_teid, table
from netplex.mobile.diameter_link import DiameterClient, realm
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.diameter import APP_GX, CMD, Avp, Diameter, DiameterError
from netplex.packet.gtpu import (
    GTPU_END_MARKER,
    GTPU_PORT,
    GtpU,
)
from netplex.packet.gtpv2c import (
    CAUSE,
    GTPV2C_PORT,
    IE,
    MSG,
    Gtpv2,
    Gtpv2Error,
    Ie,
    apn_decode,
    cause,
    fteid,
    paa,
    read_fteid,
    read_paa,
    untbcd,
)

__all__ = ["Sgw", "SgwSession", "Pgw", "PgwBearer", "TokenBucket", "TunPort", "UPF_DEV"]

CC_INITIAL_REQUEST, END_USER_IMSI = 1, 1   # RFC 4006 §8.3 CC-Request-Type, §8.47 Subscription-Id-Type
FLOW_STATUS_DISABLED = 3                   # TS 29.212 §5.3.11
UPF_DEV = "ogstun"   # the SGi TUN device (Open5GS's name): the pool's gateway address, the route to the UEs
EBI = 5


@dataclass(slots=True)
class SgwSession:
    imsi: str
    mme: int
    t1: int                  # the MME's S11 TEID
    t6: int                  # ours, S11
    t2: int                  # ours, S5/S8-C
    t3: int                  # ours, S5/S8-U (downlink from the PGW)
    t7: int                  # ours, S1-U (uplink from the eNodeB)
    pgw: int
    mme_seq: int
    t4: int | None = None    # the PGW's S5/S8-C TEID
    t5: int | None = None    # the PGW's S5/S8-U TEID
    pgw_u: int | None = None
    t8: int | None = None    # the eNodeB's S1-U TEID
    enb_u: int | None = None
    ip: str | None = None
    up: int = 0
    down: int = 0
    buffered: list[bytes] = field(default_factory=list)   # downlink packets while the UE is in ECM-IDLE
    ddn_sent: bool = False
    end_markers: int = 0     # End Markers sent on an old path (handovers)


class TunPort(Protocol):
    """The PGW's fd on its TUN device: `on_recv(packet)` for each read(2), `write(packet)`, `close()`."""

    on_recv: Callable[[bytes], None] | None

    def write(self, data: bytes) -> int: ...

    def close(self) -> None: ...


DDN_BUFFER = 16   # downlink packets an idle session keeps until the UE answers the paging


class Sgw(EpcDaemon):
    comm = "sgw"
    role = "SGW"

    def __init__(self, node: str, addr: int, names: Mapping[int, str]) -> None:
        super().__init__(node, addr, names)
        self.sessions: list[SgwSession] = []
        self.by_t6: dict[int, SgwSession] = {}
        self.by_t2: dict[int, SgwSession] = {}
        self.up: dict[int, SgwSession] = {}     # t7 -> session
        self.down: dict[int, SgwSession] = {}   # t3 -> session
        self.newest: dict[str, SgwSession] = {}   # IMSI -> its newest session

    def start(self) -> None:
        self.gtpc = self.udp(GTPV2C_PORT, self._on_gtpc)
        self.gtpu = self.udp(GTPU_PORT, self._on_gtpu)

    def by_imsi(self, imsi: str) -> SgwSession | None:
        return self.newest.get(imsi)

    def _on_gtpc(self, data: bytes, src: int, sport: int) -> None:
        msg = self.gtpv2_rx(self.gtpc, data, src, sport)
        if msg is None:
            return
        try:
            if msg.type == MSG["Create Session Request"] and not msg.teid:
                self._create(msg, src)
            elif msg.type == MSG["Create Session Response"]:
                self._created(msg)
            elif msg.type == MSG["Modify Bearer Request"]:
                self._modify(msg, src, sport)
            elif msg.type == MSG["Delete Session Request"]:
                self._delete(msg, src, sport)
            elif msg.type == MSG["Release Access Bearers Request"]:
                self._release(msg, src, sport)
        except Gtpv2Error as e:
            self.count("gtpv2_malformed")
            peer = self.by_t6.get(msg.teid or 0)
            self.gtpv2_reject(self.gtpc, msg, e, src, sport, peer.t1 if peer else 0)

    def _create(self, msg: Gtpv2, src: int) -> None:
        """Steps 4 -> 5: a session for the MME's t1; t2/t3 go to the PGW."""
        imsi = untbcd(msg.need("IMSI").octets)
        t1 = read_fteid(msg.need("F-TEID"))[1]
        pgw = ip_to_int(read_fteid(msg.need("F-TEID", 1))[2])
        s = SgwSession(imsi, src, t1, self.new_teid(), self.new_teid(), self.new_teid(), self.new_teid(), pgw, msg.seq)
        self.sessions.append(s)
        self.newest[imsi] = s
        self.by_t6[s.t6], self.by_t2[s.t2], self.up[s.t7], self.down[s.t3] = s, s, s, s
        keep = [ie for ie in msg.ies if ie.type not in (IE["F-TEID"], IE["Bearer Context"])]
        bearer = msg.need("Bearer Context")
        members = [ie for ie in bearer.value if ie.type != IE["F-TEID"]] if isinstance(bearer.value, list) else []
        fwd = Gtpv2(MSG["Create Session Request"], self.next_seq(), 0, [
            *keep, fteid("S5/S8 SGW GTP-C", s.t2, int_to_ip(self.addr)),
            Ie(IE["Bearer Context"], [*members, fteid("S5/S8 SGW GTP-U", s.t3, int_to_ip(self.addr), instance=2)])])
        self.note(5, "S5/S8", pgw, f"GTPv2-C Create Session Request: SGW allocated t2={hex_teid(s.t2)} "
                                   f"(S5/S8 SGW GTP-C), t3={hex_teid(s.t3)} (S5/S8 SGW GTP-U)")
        self.send(self.gtpc, fwd.encode(), pgw, GTPV2C_PORT)

    def _created(self, msg: Gtpv2) -> None:
        """Steps 6 -> 7: the PGW's t4/t5 and the UE's address; t6/t7 go to the MME (to its t1)."""
        s = self.by_t2.get(msg.teid or 0)
        if s is None:
            self.count("gtpv2_unknown_teid")
            return
        c = self.accepted(msg)
        if c != CAUSE["Request accepted"]:
            self.send(self.gtpc, Gtpv2(MSG["Create Session Response"], s.mme_seq, s.t1, [cause(c)]).encode(),
                      s.mme, GTPV2C_PORT)
            return
        s.t4 = read_fteid(msg.need("F-TEID"))[1]
        bearer = msg.need("Bearer Context")
        _, s.t5, pgw_u = read_fteid(bearer.need("F-TEID", 2))
        s.pgw_u = ip_to_int(pgw_u)
        s.ip = read_paa(msg.need("PAA"))
        rsp = Gtpv2(MSG["Create Session Response"], s.mme_seq, s.t1, [
            cause(CAUSE["Request accepted"]),
            fteid("S11/S4 SGW GTP-C", s.t6, int_to_ip(self.addr)),
            fteid("S5/S8 PGW GTP-C", s.t4, int_to_ip(s.pgw), instance=1),
            paa(s.ip),
            Ie(IE["APN Restriction"], b"\x00"),
            Ie(IE["Bearer Context"], [Ie(IE["EBI"], bytes((EBI,))), cause(CAUSE["Request accepted"]),
                                      fteid("S1-U SGW GTP-U", s.t7, int_to_ip(self.addr)),
                                      fteid("S5/S8 PGW GTP-U", s.t5, pgw_u, instance=2)])])
        self.note(7, "S11", s.mme, f"GTPv2-C Create Session Response to t1={hex_teid(s.t1)}: SGW allocated "
                                   f"t6={hex_teid(s.t6)} (S11/S4 SGW GTP-C), t7={hex_teid(s.t7)} (S1-U SGW GTP-U)")
        self.send(self.gtpc, rsp.encode(), s.mme, GTPV2C_PORT)

    def _modify(self, msg: Gtpv2, src: int, sport: int) -> None:
        """Step 10: the eNodeB's t8; the downlink path is complete."""
        s = self.by_t6.get(msg.teid or 0)
        if s is None:
            self.send(self.gtpc, Gtpv2(MSG["Modify Bearer Response"], msg.seq, 0,
                                       [cause(CAUSE["Context Not Found"])]).encode(), src, sport)
            return
        _, t8, enb = read_fteid(msg.need("Bearer Context").need("F-TEID", 0))
        if s.t8 is not None and s.enb_u is not None and (s.t8, s.enb_u) != (t8, ip_to_int(enb)):
            # the path switch of a handover (TS 23.401 §5.5.1.1.2 step 5a, TS 29.281 §7.3.2): an End
            # Marker on the old path, after the last packet sent there, tells the source eNodeB it is over
            self.note(0, "S1-U", s.enb_u, f"GTP-U End Marker to the old eNodeB's t8={hex_teid(s.t8)}")
            self.send(self.gtpu, GtpU(s.t8, b"", GTPU_END_MARKER).encode(), s.enb_u, GTPU_PORT)
            s.end_markers += 1
        s.t8, s.enb_u = t8, ip_to_int(enb)
        held, s.buffered, s.ddn_sent = s.buffered, [], False
        for payload in held:   # what came while the UE was paged (TS 23.401 §5.3.4.3 step 17)
            s.down += 1
            self.send(self.gtpu, GtpU(s.t8, payload).encode(), s.enb_u, GTPU_PORT)
        self.note(10, "S11", s.mme, f"GTPv2-C Modify Bearer Response to t1={hex_teid(s.t1)}: "
                                    f"downlink to the eNodeB's t8={hex_teid(s.t8)}")
        self.send(self.gtpc, Gtpv2(MSG["Modify Bearer Response"], msg.seq, s.t1, [
            cause(CAUSE["Request accepted"]),
            Ie(IE["Bearer Context"], [Ie(IE["EBI"], bytes((EBI,))), cause(CAUSE["Request accepted"])])]).encode(),
            src, sport)

    def _release(self, msg: Gtpv2, src: int, sport: int) -> None:
        """TS 23.401 §5.3.5 S1 release: forget the eNodeB's t8; downlink packets now wait for paging."""
        s = self.by_t6.get(msg.teid or 0)
        if s is None:
            self.send(self.gtpc, Gtpv2(MSG["Release Access Bearers Response"], msg.seq, 0,
                                       [cause(CAUSE["Context Not Found"])]).encode(), src, sport)
            return
        s.t8 = s.enb_u = None
        self.note(0, "S11", s.mme, f"GTPv2-C Release Access Bearers Response to t1={hex_teid(s.t1)}: "
                                   "the eNodeB's t8 released")
        self.send(self.gtpc, Gtpv2(MSG["Release Access Bearers Response"], msg.seq, s.t1,
                                   [cause(CAUSE["Request accepted"])]).encode(), src, sport)

    def _delete(self, msg: Gtpv2, src: int, sport: int) -> None:
        s = self.by_t6.pop(msg.teid or 0, None)
        if s is None:
            self.send(self.gtpc, Gtpv2(MSG["Delete Session Response"], msg.seq, 0,
                                       [cause(CAUSE["Context Not Found"])]).encode(), src, sport)
            return
        self.by_t2.pop(s.t2, None)
        self.up.pop(s.t7, None)
        self.down.pop(s.t3, None)
        self.sessions.remove(s)
        if self.newest.get(s.imsi) is s:
            del self.newest[s.imsi]
        self.send(self.gtpc, Gtpv2(MSG["Delete Session Response"], msg.seq, s.t1,
                                   [cause(CAUSE["Request accepted"])]).encode(), src, sport)
        if s.t4 is not None:
            self.send(self.gtpc, Gtpv2(MSG["Delete Session Request"], self.next_seq(), s.t4,
                                       [Ie(IE["EBI"], bytes((EBI,)))]).encode(), s.pgw, GTPV2C_PORT)

    def _on_gtpu(self, data: bytes, src: int, sport: int) -> None:
        g = self.gtpu_rx(self.gtpu, data, src, sport)
        if g is None:
            return
        s = self.up.get(g.teid)
        if s is not None and s.t5 is not None and s.pgw_u is not None:
            s.up += 1
            self.send(self.gtpu, GtpU(s.t5, g.payload).encode(), s.pgw_u, GTPU_PORT)
            return
        s = self.down.get(g.teid)
        if s is not None and s.t8 is not None and s.enb_u is not None:
            s.down += 1
            self.send(self.gtpu, GtpU(s.t8, g.payload).encode(), s.enb_u, GTPU_PORT)
            return
        if s is not None and s.t5 is not None:
            self._idle_downlink(s, g.payload)
            return
        self.gtpu_unknown(self.gtpu, g, src)

    def _idle_downlink(self, s: SgwSession, payload: bytes) -> None:
        """TS 23.401 §5.3.4.3: a packet for a UE in ECM-IDLE is kept, and the MME told once
        (Downlink Data Notification, to t1) so that it pages the UE."""
        if len(s.buffered) < DDN_BUFFER:
            s.buffered.append(payload)
        else:
            self.count("ddn_buffer_full")
        if not s.ddn_sent:
            s.ddn_sent = True
            self.note(0, "S11", s.mme, f"GTPv2-C Downlink Data Notification to t1={hex_teid(s.t1)} (EBI {EBI})")
            self.send(self.gtpc, Gtpv2(MSG["Downlink Data Notification"], self.next_seq(), s.t1,
                                       [Ie(IE["EBI"], bytes((EBI,)))]).encode(), s.mme, GTPV2C_PORT)

    def show_sessions(self) -> str:
        rows = [("IMSI", "UE-IP", "MME", "PGW", "t1(MME-S11)", "t6(SGW-S11)", "t2(SGW-S5C)", "t3(SGW-S5U)",
                 "t4(PGW-S5C)", "t5(PGW-S5U)", "t7(SGW-S1U)", "t8(ENB-S1U)", "UP", "DOWN")]
        for s in self.sessions:
            rows.append((s.imsi, s.ip or "-", self.name_of(s.mme), self.name_of(s.pgw), hex_teid(s.t1),
                         hex_teid(s.t6), hex_teid(s.t2), hex_teid(s.t3), hex_teid(s.t4), hex_teid(s.t5),
                         hex_teid(s.t7), hex_teid(s.t8), str(s.up), str(s.down)))
        return table(rows)


@dataclass(slots=True)
class PgwBearer:
    imsi: str
    apn: str
    ip: str
    sgw: int
    t2: int                  # the SGW's S5/S8-C TEID
    t3: int                  # the SGW's S5/S8-U TEID
    t4: int                  # ours, S5/S8-C
    t5: int                  # ours, S5/S8-U
    sgw_u: int
    seq: int
    ambr_ul: TokenBucket | None = None
    ambr_dl: TokenBucket | None = None
    deny: list[ipaddress.IPv4Network] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    up: int = 0
    down: int = 0
    gated: int = 0
    policed: int = 0


@dataclass(slots=True)
class TokenBucket:
    """APN-AMBR policing (TS 23.401 §4.7.3: the PGW enforces the APN-AMBR in both directions):
    a packet passes while the bucket holds its size; the bucket refills at the rate, up to `depth`."""

    rate_bps: int
    depth: int          # bytes
    tokens: float
    last_ns: int = 0

    @classmethod
    def for_kbps(cls, kbps: int) -> TokenBucket:
        depth = max(3000, kbps * 1000 // 8 // 20)   # 50 ms of the rate, at least two full-size packets
        return cls(kbps * 1000, depth, float(depth))

    def admit(self, size: int, now_ns: int) -> bool:
        self.tokens = min(self.depth, self.tokens + (now_ns - self.last_ns) * self.rate_bps / 8e9)
        self.last_ns = now_ns
        if self.tokens < size:
            return False
        self.tokens -= size
        return True


class Pgw(EpcDaemon):
    comm = "pgw"
    role = "PGW"
    gx_step = 5   # the narration's step of the Gx exchange

    def __init__(self, node: str, addr: int, names: Mapping[int, str], pool: str, pcrf: int | None,
                 open_tun: Callable[[], TunPort]) -> None:
        super().__init__(node, addr, names)
        net = ipaddress.IPv4Network(pool)
        self.pool = net
        self.next_ip = int(net.network_address) + 2
        self.pcrf = pcrf
        self.open_tun = open_tun
        self.bearers: list[PgwBearer] = []
        self.by_t4: dict[int, PgwBearer] = {}
        self.by_t5: dict[int, PgwBearer] = {}
        self.by_ip: dict[int, PgwBearer] = {}
        self.by_session: dict[str, PgwBearer] = {}
        self.ips: dict[str, int] = {}   # IMSI -> its address, kept across attaches

    def start(self) -> None:
        self.gtpc = self.udp(GTPV2C_PORT, self._on_gtpc)
        self.gtpu = self.udp(GTPU_PORT, self._on_gtpu)
        self.gx = None if self.pcrf is None else DiameterClient(self, self.pcrf, APP_GX, realm("00101"), self._on_gx)
        self.sgi: TunPort = self.own(self.open_tun())
        self.sgi.on_recv = self._on_sgi

    def _allocate(self, imsi: str) -> int | None:
        if imsi in self.ips:
            return self.ips[imsi]
        if self.next_ip >= int(self.pool.broadcast_address):
            return None
        ip, self.next_ip = self.next_ip, self.next_ip + 1
        self.ips[imsi] = ip
        return ip

    def _on_gtpc(self, data: bytes, src: int, sport: int) -> None:
        msg = self.gtpv2_rx(self.gtpc, data, src, sport)
        if msg is None:
            return
        try:
            if msg.type == MSG["Create Session Request"] and not msg.teid:
                self._create(msg, src)
            elif msg.type == MSG["Delete Session Request"]:
                b = self.by_t4.pop(msg.teid or 0, None)
                if b is not None:
                    self.bearers.remove(b)
                    self.by_t5.pop(b.t5, None)
                    self.by_ip.pop(ip_to_int(b.ip), None)
                c = CAUSE["Request accepted"] if b is not None else CAUSE["Context Not Found"]
                self.send(self.gtpc, Gtpv2(MSG["Delete Session Response"], msg.seq, b.t2 if b else 0,
                                           [cause(c)]).encode(), src, sport)
        except Gtpv2Error as e:
            self.count("gtpv2_malformed")
            self.gtpv2_reject(self.gtpc, msg, e, src, sport, 0)

    def _create(self, msg: Gtpv2, src: int) -> None:
        """Step 5 at the PGW: an address, t4/t5, then Gx before answering."""
        imsi = untbcd(msg.need("IMSI").octets)
        _, t2, _ = read_fteid(msg.need("F-TEID"))
        bearer = msg.need("Bearer Context")
        _, t3, sgw_u = read_fteid(bearer.need("F-TEID", 2))
        apn = apn_decode(msg.need("APN").octets)
        ip = self._allocate(imsi)
        if ip is None:
            self.send(self.gtpc, Gtpv2(MSG["Create Session Response"], msg.seq, t2,
                                       [cause(CAUSE["All dynamic addresses are occupied"])]).encode(), src, GTPV2C_PORT)
            return
        b = PgwBearer(imsi, apn, int_to_ip(ip), src, t2, t3, self.new_teid(), self.new_teid(), ip_to_int(sgw_u), msg.seq)
        rates = msg.find("AMBR")
        if rates is not None and len(rates.octets) == 8:
            ul, dl = int.from_bytes(rates.octets[:4], "big"), int.from_bytes(rates.octets[4:], "big")
            b.ambr_ul = TokenBucket.for_kbps(ul) if ul else None
            b.ambr_dl = TokenBucket.for_kbps(dl) if dl else None
        self._admit(b)

    def _admit(self, b: PgwBearer) -> None:
        """The PCC rules for the bearer from the PCRF (Gx), then the answer (`_answer`)."""
        if self.pcrf is None:
            self._answer(b)
            return
        assert self.gx is not None
        imsi, apn, home = b.imsi, b.apn, self.gx.home
        session = f"{self.node}.{home};{b.t4};gx"   # RFC 6733 §8.8
        self.by_session[session] = b
        self.note(self.gx_step, "Gx", self.pcrf, f"Diameter Credit-Control-Request INITIAL_REQUEST (IMSI {imsi}, "
                                                 f"UE IP {b.ip}, APN {apn})")
        self.gx.request(Diameter(CMD["Credit-Control"], APP_GX, True, [
            Avp.make("Session-Id", session), Avp.make("Auth-Application-Id", APP_GX),
            Avp.make("Origin-Host", f"{self.node}.{home}"), Avp.make("Origin-Realm", home),
            Avp.make("Destination-Realm", home), Avp.make("CC-Request-Type", CC_INITIAL_REQUEST),
            Avp.make("CC-Request-Number", 0),
            Avp.make("Subscription-Id", [Avp.make("Subscription-Id-Type", END_USER_IMSI),
                                         Avp.make("Subscription-Id-Data", imsi)]),
            Avp.make("Framed-IP-Address", ipaddress.IPv4Address(b.ip).packed), Avp.make("Called-Station-Id", apn)]))

    def _on_gx(self, cca: Diameter) -> None:
        """The PCC rules (TS 29.212 §4.5.2): each rule whose Flow-Status is DISABLED closes a gate."""
        try:
            b = self.by_session.pop(cca.get("Session-Id"), None)
            if b is None:
                return
            install = cca.find("Charging-Rule-Install")
            for rule in install.value if install is not None and isinstance(install.value, list) else []:
                if rule.name != "Charging-Rule-Definition" or rule.get("Flow-Status") != FLOW_STATUS_DISABLED:
                    continue
                b.rules.append(rule.get("Charging-Rule-Name").decode())
                words = rule.need("Flow-Information").get("Flow-Description").decode().split()
                b.deny.append(ipaddress.IPv4Network(words[4]))
        except (DiameterError, LookupError, TypeError, ValueError, UnicodeDecodeError):
            self.count("diameter_malformed")
            return
        self._answer(b)

    def _answer(self, b: PgwBearer) -> None:
        """Step 6: the UE's address, t4 (control) and t5 (user), to the SGW's t2."""
        self.bearers.append(b)
        self.by_t4[b.t4], self.by_t5[b.t5], self.by_ip[ip_to_int(b.ip)] = b, b, b
        rsp = Gtpv2(MSG["Create Session Response"], b.seq, b.t2, [
            cause(CAUSE["Request accepted"]),
            fteid("S5/S8 PGW GTP-C", b.t4, int_to_ip(self.addr)),   # the sender's F-TEID, instance 0
            paa(b.ip),
            Ie(IE["APN Restriction"], b"\x00"),
            Ie(IE["Bearer Context"], [Ie(IE["EBI"], bytes((EBI,))), cause(CAUSE["Request accepted"]),
                                      fteid("S5/S8 PGW GTP-U", b.t5, int_to_ip(self.addr), instance=2)])])
        self.note(6, "S5/S8", b.sgw, f"GTPv2-C Create Session Response to t2={hex_teid(b.t2)}: PGW allocated "
                                     f"t4={hex_teid(b.t4)} (S5/S8 PGW GTP-C), t5={hex_teid(b.t5)} (S5/S8 PGW GTP-U); "
                                     f"UE IP {b.ip} from {self.pool}")
        self.send(self.gtpc, rsp.encode(), b.sgw, GTPV2C_PORT)

    # -- user plane ------------------------------------------------------------------------
    @staticmethod
    def _gate(b: PgwBearer, data: bytes, remote_at: int) -> bool:
        """True when a closed gate (a DISABLED PCC rule) matches the packet's remote address."""
        if not b.deny or len(data) < 20:
            return False
        remote = int.from_bytes(data[remote_at:remote_at + 4], "big")
        return any(remote & int(n.netmask) == int(n.network_address) for n in b.deny)

    def _on_gtpu(self, data: bytes, src: int, sport: int) -> None:
        g = self.gtpu_rx(self.gtpu, data, src, sport)
        if g is None:
            return
        b = self.by_t5.get(g.teid)
        if b is None:
            self.gtpu_unknown(self.gtpu, g, src)
            return
        if self._gate(b, g.payload, 16):
            b.gated += 1
            return
        if b.ambr_ul is not None and not b.ambr_ul.admit(len(g.payload), self.ns.sched.now):
            b.policed += 1
            return
        b.up += 1
        self.sgi.write(g.payload)

    def _on_sgi(self, data: bytes) -> None:
        if len(data) < 20:
            return
        b = self.by_ip.get(int.from_bytes(data[16:20], "big"))
        if b is None:
            self.count("sgi_no_bearer")
            return
        if self._gate(b, data, 12):
            b.gated += 1
            return
        if b.ambr_dl is not None and not b.ambr_dl.admit(len(data), self.ns.sched.now):
            b.policed += 1
            return
        b.down += 1
        self.send(self.gtpu, GtpU(b.t3, data).encode(), b.sgw_u, GTPU_PORT)

    def show_bearers(self) -> str:
        rows = [("IMSI", "APN", "UE-IP", "EBI", "SGW", "t2(SGW-S5C)", "t3(SGW-S5U)", "t4(PGW-S5C)", "t5(PGW-S5U)",
                 "AMBR-UL/DL(kbit/s)", "UP", "DOWN", "GATED", "POLICED", "RULES")]
        for b in self.bearers:
            rows.append((b.imsi, b.apn, b.ip, str(EBI), self.name_of(b.sgw), hex_teid(b.t2), hex_teid(b.t3),
                         hex_teid(b.t4), hex_teid(b.t5), _ambr(b), str(b.up), str(b.down), str(b.gated), str(b.policed),
                         ",".join(f"deny {n}" for n in b.deny) or "-"))
        return table(rows)


def _ambr(b: PgwBearer) -> str:
    ul = b.ambr_ul.rate_bps // 1000 if b.ambr_ul else 0
    dl = b.ambr_dl.rate_bps // 1000 if b.ambr_dl else 0
    return f"{ul or '-'}/{dl or '-'}"
