"""Diameter peers over TCP (RFC 6733 §2.1, §5): the connection, the capabilities exchange, requests and answers.

A client (the MME toward its HSS on S6a) connects on its first request, sends a
Capabilities-Exchange-Request (Origin-Host, Origin-Realm, Host-IP-Address,
Vendor-Id, Product-Name, the application as Vendor-Specific-Application-Id),
and sends its queued requests once the Capabilities-Exchange-Answer says
DIAMETER_SUCCESS; answers are handed to `on_answer`. A server (the HSS)
listens on TCP 3868, answers CER and Device-Watchdog-Request itself and every
other request with what `handle` returns. A request whose AVPs cannot be read
is answered with the RFC 6733 §7.1 Result-Code (the E bit set for a protocol
error, 3xxx); a stream that cannot be followed (a wrong version or length) is
closed, as nothing tells where the next message starts. Identities: the node's
name in its PLMN's EPC realm (TS 23.003 §19.2: epc.mncMNC.mccMCC.3gppnetwork.org).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.mobile.daemon import EpcDaemon
from netplex.packet.addr import int_to_ip
from netplex.packet.diameter import (
    CMD,
    DIAMETER_PORT,
    RESULT,
    VENDOR_3GPP,
    Avp,
    Diameter,
    DiameterError,
    Framer,
)

__all__ = ["DiameterClient", "DiameterServer", "realm", "plmn_octets", "plmn_digits"]

PRODUCT = "netplex"


def realm(plmn: str) -> str:
    """TS 23.003 §19.2: the EPC's home network realm of a PLMN ("00101" -> epc.mnc001.mcc001.3gppnetwork.org)."""
    return f"epc.mnc{plmn[3:].rjust(3, '0')}.mcc{plmn[:3]}.3gppnetwork.org"


def plmn_octets(plmn: str) -> bytes:
    """TS 29.272 §7.3.9 Visited-PLMN-Id: MCC and MNC in three TBCD octets (TS 24.008 Figure 10.5.13)."""
    mcc, mnc = plmn[:3], plmn[3:]
    m3 = int(mnc[2]) if len(mnc) == 3 else 0x0F
    return bytes((int(mcc[1]) << 4 | int(mcc[0]), m3 << 4 | int(mcc[2]), int(mnc[1]) << 4 | int(mnc[0])))


def plmn_digits(octets: bytes) -> str:
    """The inverse of `plmn_octets`; DiameterError (DIAMETER_INVALID_AVP_VALUE's neighbour: unable to
    comply) when the octets are not a PLMN."""
    if len(octets) != 3:
        raise DiameterError("Visited-PLMN-Id is not three octets", RESULT["DIAMETER_INVALID_AVP_LENGTH"])
    nib = [octets[0] & 15, octets[0] >> 4, octets[1] & 15, octets[2] & 15, octets[2] >> 4, octets[1] >> 4]
    if any(n > 9 for n in nib[:5]) or nib[5] not in (*range(10), 15):
        raise DiameterError("Visited-PLMN-Id is not TBCD digits")
    return "".join(str(n) for n in nib if n != 15)


def _identity(d: EpcDaemon, home: str) -> list[Avp]:
    return [Avp.make("Origin-Host", f"{d.node}.{home}"), Avp.make("Origin-Realm", home)]


def _answer_to(req: Diameter, d: EpcDaemon, home: str, result: int, avps: list[Avp] | None = None) -> Diameter:
    """An answer to `req` with `result` (E bit for a protocol error), its identifiers copied (§6.2)."""
    session = [a for a in req.avps[:1] if a.name == "Session-Id"]
    return Diameter(req.code, req.app, False, [*session, Avp.make("Result-Code", result), *_identity(d, home),
                                                 *(avps or [])], req.hop, req.end, error=3000 <= result < 4000,
                    proxiable=req.proxiable)


def _capabilities(d: EpcDaemon, home: str, app: int) -> list[Avp]:
    return [*_identity(d, home), Avp.make("Host-IP-Address", int_to_ip(d.addr)), Avp.make("Vendor-Id", 0),
            Avp.make("Product-Name", PRODUCT), Avp.make("Vendor-Specific-Application-Id", [
                Avp.make("Vendor-Id", VENDOR_3GPP), Avp.make("Auth-Application-Id", app)])]


class DiameterClient:
    """The client end of one Diameter connection from daemon `d` to `peer`, for application `app`."""

    def __init__(self, d: EpcDaemon, peer: int, app: int, home: str, on_answer: Callable[[Diameter], None]) -> None:
        self.d, self.peer, self.app, self.home, self.on_answer = d, peer, app, home, on_answer
        self.sk: Any = None
        self.ready = False
        self.queue: list[Diameter] = []
        self.framer = Framer()
        self._ids = 0

    def request(self, msg: Diameter) -> None:
        """Send `msg` (its Hop-by-Hop and End-to-End identifiers are set here), connecting first if need be."""
        self._ids += 1
        msg.hop, msg.end = self._ids, (self.d.rng.getrandbits(20) << 12) | (self._ids & 0xFFF)
        if self.ready:
            self.sk.send(msg.encode())
            return
        self.queue.append(msg)
        if self.sk is None:
            self._connect()

    def _connect(self) -> None:
        sk = self.d.own(self.d.ns.sockets.tcp_socket())
        self.sk, self.framer = sk, Framer()
        sk.on_connect, sk.on_data = self._connected, self._data
        sk.on_close = sk.on_error = self._lost
        err = sk.connect(self.peer, DIAMETER_PORT, self.d.addr)
        if err:
            self._lost(sk)

    def _connected(self, sk: Any) -> None:
        self._ids += 1
        cer = Diameter(CMD["Capabilities-Exchange"], 0, True, _capabilities(self.d, self.home, self.app),
                       self._ids, self._ids, proxiable=False)
        sk.send(cer.encode())

    def _lost(self, sk: Any, *_err: Any) -> None:
        if sk is not self.sk:
            return
        self.d.count("diameter_connection_lost")
        self.d.count("diameter_dropped", len(self.queue))
        self.sk, self.ready, self.queue = None, False, []
        sk.close()

    def _data(self, sk: Any, data: bytes) -> None:
        try:
            for raw in self.framer.feed(data):
                self._message(sk, raw)
        except DiameterError:
            self.d.count("diameter_malformed")
            self._lost(sk)

    def _message(self, sk: Any, raw: bytes) -> None:
        try:
            msg = Diameter.decode(raw)
        except DiameterError:
            self.d.count("diameter_malformed")
            return
        if msg.code == CMD["Capabilities-Exchange"] and not msg.request:
            if msg.result() != RESULT["DIAMETER_SUCCESS"]:
                self._lost(sk)
                return
            self.ready = True
            for queued in self.queue:
                sk.send(queued.encode())
            self.queue = []
        elif msg.code == CMD["Device-Watchdog"] and msg.request:
            sk.send(_answer_to(msg, self.d, self.home, RESULT["DIAMETER_SUCCESS"]).encode())
        elif not msg.request:
            self.on_answer(msg)


class DiameterServer:
    """The server end: daemon `d` listens on TCP 3868; `handle(request, peer address)` gives the answer
    (built with `answer`; None: the command is not supported)."""

    def __init__(self, d: EpcDaemon, app: int, home: str, handle: Callable[[Diameter, int], Diameter | None]) -> None:
        self.d, self.app, self.home, self.handle = d, app, home, handle
        lst = d.own(d.ns.sockets.tcp_socket())
        err = lst.listen(DIAMETER_PORT, d.addr)
        if err:
            d.count("diameter_listen_failed")
        lst.on_accept = self._accept

    def _accept(self, sk: Any) -> None:
        framer = Framer()
        sk.on_data = lambda s, data: self._data(s, framer, data)
        sk.on_close = sk.on_error = lambda s, *_: s.close()

    def _data(self, sk: Any, framer: Framer, data: bytes) -> None:
        try:
            raws = framer.feed(data)
        except DiameterError:
            self.d.count("diameter_malformed")
            sk.close()
            return
        for raw in raws:
            answer = self._message(raw, sk.raddr)
            if answer is not None:
                sk.send(answer.encode())

    def _message(self, raw: bytes, peer: int) -> Diameter | None:
        try:
            msg = Diameter.decode(raw)
        except DiameterError as e:
            self.d.count("diameter_malformed")
            head = Diameter.header(raw)
            if head is None or not head[2]:
                return None
            code, app, _, hop, end = head
            return _answer_to(Diameter(code, app, True, [], hop, end), self.d, self.home, e.result)
        if not msg.request:
            return None
        if msg.code == CMD["Capabilities-Exchange"]:
            return Diameter(msg.code, 0, False, [Avp.make("Result-Code", RESULT["DIAMETER_SUCCESS"]),
                                                 *_capabilities(self.d, self.home, self.app)], msg.hop, msg.end,
                            proxiable=False)
        if msg.code == CMD["Device-Watchdog"]:
            return _answer_to(msg, self.d, self.home, RESULT["DIAMETER_SUCCESS"])
        if msg.app != self.app:
            return _answer_to(msg, self.d, self.home, RESULT["DIAMETER_APPLICATION_UNSUPPORTED"])
        try:
            answer = self.handle(msg, peer)
        except DiameterError as e:
            self.d.count("diameter_malformed")
            return _answer_to(msg, self.d, self.home, e.result)
        if answer is None:
            return _answer_to(msg, self.d, self.home, RESULT["DIAMETER_COMMAND_UNSUPPORTED"])
        answer.hop, answer.end = msg.hop, msg.end
        return answer

    def answer(self, req: Diameter, result: int, avps: list[Avp], session_state: bool = True) -> Diameter:
        """The answer to `req`: Session-Id, Result-Code (or, for a TS 29.272 §7.4.3 code, Experimental-Result),
        Auth-Session-State (S6a) or Auth-Application-Id (Gx, `session_state` False), Origin-Host,
        Origin-Realm, then `avps`."""
        base = _answer_to(req, self.d, self.home, result)
        if result in (RESULT["DIAMETER_ERROR_USER_UNKNOWN"], RESULT["DIAMETER_ERROR_ROAMING_NOT_ALLOWED"]):
            base.avps[1] = Avp.make("Experimental-Result", [Avp.make("Vendor-Id", VENDOR_3GPP),
                                                           Avp.make("Experimental-Result-Code", result)])
        base.avps[1:1] = [Avp.make("Auth-Session-State", 1) if session_state
                          else Avp.make("Auth-Application-Id", self.app)]
        base.avps += avps
        return base
