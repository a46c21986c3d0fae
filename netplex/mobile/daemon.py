"""What every EPC daemon shares: its bind address, UDP endpoints, TEIDs, the attach narration, counters.

An EPC element is a userspace program (`netplex.apps.process.Program`) in its
node's process table, as Open5GS's `open5gs-mmed`, `-sgwd`, ... are: `ps`
lists it, `kill` ends it and its sockets. It talks to its peers through its
node's network stack only (UDP sockets, AF_PACKET sockets), so every message
crosses the scenario's links and shows in captures and traces.

`note(step, interface, text)` narrates one message of the attach (TS 23.401
§5.3.2 as the seed tells it in ten steps) as a trace event of stage
`attach`, emitted only while tracing is on.
"""
from __future__ import annotations

import errno
import os
import random
from collections.abc import Callable, Mapping

from netplex.apps.process import Program, ProgramExit
from netplex.packet.addr import int_to_ip
from netplex.packet.gtpu import (
    GTPU_ECHO_REQUEST,
    GTPU_END_MARKER,
    GTPU_G_PDU,
    GTPU_PORT,
    GtpU,
    GtpUError,
    echo_response,
    error_indication,
)
from netplex.packet.gtpv2c import CAUSE, IE, MSG, Gtpv2, Gtpv2Error, Ie, cause
from netplex.stack.sockets import UdpSocket

__all__ = ["EpcDaemon", "hex_teid", "table"]

UdpHandler = Callable[[bytes, int, int], None]


def hex_teid(teid: int | None) -> str:
    return "-" if teid is None else f"0x{teid:08x}"


def table(rows: list[tuple[str, ...]]) -> str:
    """Rows as left-aligned columns two spaces apart (the `show` commands' format)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows)


class EpcDaemon(Program):
    """One EPC element bound to `addr`; `names` maps the EPC's addresses to node names for the narration."""

    role = "EPC"

    def __init__(self, node: str, addr: int, names: Mapping[int, str]) -> None:
        super().__init__()
        self.node = node
        self.addr = addr
        self.names = dict(names)
        self.counters: dict[str, int] = {}
        self._teids: set[int] = set()
        self._seq = 0
        self._rng: random.Random | None = None

    # -- helpers ----------------------------------------------------------------------
    def udp(self, port: int, handler: UdpHandler) -> UdpSocket:
        """A UDP socket bound to this daemon's address and `port` (0: any), receiving into `handler`."""
        sk: UdpSocket = self.own(self.ns.sockets.udp_socket())
        err = sk.bind(self.addr, port)
        if err:
            raise ProgramExit(1, f"{self.comm}: bind {int_to_ip(self.addr)}:{port}: {os.strerror(err)}\n")
        sk.on_recv = handler
        return sk

    def send(self, sk: UdpSocket, data: bytes, addr: int, port: int) -> None:
        err = sk.sendto(data, addr, port)
        if err:
            self.count(f"tx_error_{errno.errorcode.get(err, err)}")

    def count(self, what: str, n: int = 1) -> None:
        self.counters[what] = self.counters.get(what, 0) + n

    @property
    def rng(self) -> random.Random:
        """This daemon's generator (TEIDs, RANDs): seeded by the run's seed and the node's name."""
        if self._rng is None:
            self._rng = random.Random(f"{self.ns.world.seed}-{self.node}")
        return self._rng

    def new_teid(self) -> int:
        """A fresh, non-zero TEID of this node (TS 29.274 §5.5.2: the receiver chooses it)."""
        while True:
            t = self.rng.getrandbits(32)
            if t and t not in self._teids:
                self._teids.add(t)
                return t

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFF
        return self._seq

    def name_of(self, addr: int) -> str:
        return self.names.get(addr, int_to_ip(addr))

    def note(self, step: int, iface: str, peer: int | str, text: str) -> None:
        """Narrate step `step` of the attach: this node sends `text` to `peer` over `iface`."""
        if self.ns.world.tracer.on:
            to = peer if isinstance(peer, str) else self.name_of(peer)
            self.ns.trace("attach", f"[{step:>2}] {iface:<7} {self.node} → {to}: {text}")

    def gtpu_rx(self, sk: UdpSocket, data: bytes, src: int, sport: int, markers: bool = False) -> GtpU | None:
        """A received GTP-U datagram (TS 29.281): a G-PDU is returned (an End Marker too with `markers`);
        an Echo Request is answered; anything unreadable is counted and dropped."""
        try:
            g = GtpU.decode(data)
        except GtpUError:
            self.count("gtpu_malformed")
            return None
        if g.type == GTPU_ECHO_REQUEST:
            self.send(sk, echo_response(g).encode(), src, sport)
            return None
        return g if g.type == GTPU_G_PDU or (markers and g.type == GTPU_END_MARKER) else None

    def gtpu_unknown(self, sk: UdpSocket, g: GtpU, src: int) -> None:
        """§7.3.1: a G-PDU for a TEID this node does not hold gets an Error Indication."""
        self.count("gtpu_unknown_teid")
        self.send(sk, error_indication(g.teid, self.addr).encode(), src, GTPU_PORT)

    def gtpv2_reject(self, sk: UdpSocket, req: Gtpv2, err: Gtpv2Error, addr: int, port: int, teid: int) -> None:
        """Answer a request that could not be read with its cause (TS 29.274 §7.7)."""
        rsp_type = req.type + 1 if req.type in MSG.values() and req.type % 2 == 0 else None
        if rsp_type is None:
            return
        self.send(sk, Gtpv2(rsp_type, req.seq, teid, [cause(err.cause)]).encode(), addr, port)

    def gtpv2_rx(self, sk: UdpSocket, data: bytes, addr: int, port: int) -> Gtpv2 | None:
        """A received GTPv2-C message; an Echo Request is answered (TS 29.274 §7.1.1) and an
        unreadable datagram counted and dropped (None for both)."""
        try:
            msg = Gtpv2.decode(data)
        except Gtpv2Error:
            self.count("gtpv2_malformed")
            return None
        if msg.type != MSG["Echo Request"]:
            return msg
        self.send(sk, Gtpv2(MSG["Echo Response"], msg.seq, None, [Ie(IE["Recovery"], b"\x00")]).encode(), addr, port)
        return None

    def accepted(self, msg: Gtpv2) -> int:
        """The Cause value of a response (Mandatory IE missing when it has none)."""
        ie = msg.find("Cause")
        if ie is None or not isinstance(ie.value, bytes) or not ie.value:
            return CAUSE["Mandatory IE missing"]
        return ie.value[0]

