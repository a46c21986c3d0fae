"""SCTP associations for S1-MME (RFC 9260), run by the daemon over a raw IP socket of protocol 132.

TS 36.412 carries S1AP over SCTP (port 36412, payload protocol identifier 18).
Neither this simulator's stack nor this machine's kernel has an SCTP module
(no `INET_PROTOS` entry for 132; `socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP)`
fails with ESOCKTNOSUPPORT), so the daemon runs the association itself, as
usrsctp does over raw sockets: `socket(AF_INET, SOCK_RAW, 132)` on both
backends, so the same code crosses the simulator's links and the twin's
namespaces, and the capture is SCTP that tshark reads.

What the association does (RFC 9260 section numbers):
  - the four-way handshake (§5.1): INIT, INIT ACK with a State Cookie signed
    with this endpoint's secret (HMAC-SHA256, §5.1.3; the listener keeps no
    state until the COOKIE ECHO comes back), COOKIE ECHO, COOKIE ACK;
    T1-init retransmits INIT / COOKIE ECHO (1 s, doubling, 8 tries);
  - verification tags (§8.5): a packet whose tag is not the association's is
    dropped; an out-of-the-blue packet (§8.4) is answered with ABORT (T bit);
  - DATA (§6): one unfragmented message per chunk, TSNs, per-stream sequence
    numbers, in-order delivery, a SACK for every packet with DATA (no delayed
    ack), duplicates dropped; T3-rtx (RTO 1 s, doubling) retransmits what is
    not acked, and 10 unanswered retransmissions abort the association;
  - HEARTBEAT is answered; ABORT and SHUTDOWN end the association (§9).
Not done: multi-homing, fragmentation (a message larger than one chunk is
refused), congestion control beyond the retransmission timer, PR-SCTP.
"""
from __future__ import annotations

import hashlib
import hmac
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.mobile.daemon import EpcDaemon
from netplex.packet.sctp import (
    IPPROTO_SCTP,
    PARAM_STATE_COOKIE,
    SCTP_ABORT,
    SCTP_COOKIE_ACK,
    SCTP_COOKIE_ECHO,
    SCTP_DATA,
    SCTP_HEARTBEAT,
    SCTP_HEARTBEAT_ACK,
    SCTP_INIT,
    SCTP_INIT_ACK,
    SCTP_SACK,
    SCTP_SHUTDOWN,
    SCTP_SHUTDOWN_ACK,
    SCTP_SHUTDOWN_COMPLETE,
    Chunk,
    Data,
    Init,
    Sack,
    Sctp,
    SctpError,
)

__all__ = ["Association", "SctpEndpoint", "PPID_S1AP", "MAX_MESSAGE"]

PPID_S1AP = 18                 # TS 36.412 §7
NSEC = 1_000_000_000
RTO_INITIAL = NSEC             # RFC 9260 §16: RTO.Initial 1 s
RTO_MAX = 60 * NSEC
MAX_INIT_RETRANS = 8
MAX_RETRANS = 10               # Association.Max.Retrans
A_RWND = 106496
STREAMS = 2                    # S1AP: stream 0 for non-UE signalling, the others for UEs
MAX_MESSAGE = 1400 - 20 - 12 - 16   # one DATA chunk in one packet of a 1400-octet path

MessageHandler = Callable[["Association", bytes], None]


def _after(tsn: int, than: int) -> bool:
    """Serial number arithmetic (RFC 1982) on 32-bit TSNs: `tsn` comes after `than`."""
    return 0 < (tsn - than) & 0xFFFFFFFF < 0x80000000


@dataclass(slots=True)
class Association:
    """One association with a peer address and port."""

    peer: int
    port: int
    my_tag: int
    peer_tag: int = 0
    state: str = "CLOSED"              # COOKIE-WAIT, COOKIE-ECHOED, ESTABLISHED, CLOSED
    next_tsn: int = 0
    peer_cum: int = 0                  # the last in-order TSN received
    ssn: dict[int, int] = field(default_factory=dict)
    outstanding: dict[int, bytes] = field(default_factory=dict)   # TSN -> the DATA chunk encoded
    pending: list[tuple[int, int, bytes]] = field(default_factory=list)   # before ESTABLISHED
    early: dict[int, Data] = field(default_factory=dict)   # received out of order
    rto: int = RTO_INITIAL
    retries: int = 0
    timer_gen: int = 0
    handshake: Chunk | None = None     # the INIT or COOKIE ECHO to retransmit
    sent: int = 0
    received: int = 0


class SctpEndpoint:
    """An SCTP endpoint of `prog` on its address and `port`: associations to peers, messages to `on_message`."""

    def __init__(self, prog: EpcDaemon, addr: int, port: int, on_message: MessageHandler,
                 on_up: Callable[[Association], None] | None = None,
                 on_down: Callable[[Association], None] | None = None,
                 count: Callable[[str], None] | None = None, share: SctpEndpoint | None = None) -> None:
        self.prog = prog
        self.addr = addr
        self.port = port
        self.on_message = on_message
        self.on_up = on_up
        self.on_down = on_down
        self._count = count or (lambda what: None)
        self.rng = random.Random(f"{prog.ns.world.seed}-{prog.node}-sctp-{port}")   # tags, the cookie secret
        if share is None:
            # one raw IP-132 socket per daemon: the endpoints of its other ports (`share`) take theirs
            # from it by destination port, as the kernel's SCTP demultiplexes by port
            self.sk: Any = prog.own(prog.ns.sockets.raw_socket(IPPROTO_SCTP))
            self.sk.bind(addr)
            self.sk.on_recv = self._demux
            self.by_port: dict[int, SctpEndpoint] = {}
        else:
            self.sk, self.by_port = share.sk, share.by_port
        self.by_port[port] = self
        self.assocs: dict[tuple[int, int], Association] = {}
        self.secret = self._rand(32)

    def _rand(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    # -- sending ---------------------------------------------------------------------
    def _tx(self, a: Association, chunks: list[Chunk], tag: int | None = None) -> None:
        pkt = Sctp(self.port, a.port, a.peer_tag if tag is None else tag, chunks).encode()
        if self.sk.sendto(pkt, a.peer):
            self._count("sctp_tx_error")

    def connect(self, peer: int, port: int) -> Association:
        """Start an association (§5.1 step A): INIT, then COOKIE-WAIT."""
        a = Association(peer, port, self._tag())
        a.next_tsn = a.my_tag   # the initial TSN may equal the initiate tag (§5.3.1)
        a.state = "COOKIE-WAIT"
        self.assocs[(peer, port)] = a
        a.handshake = Init(a.my_tag, A_RWND, STREAMS, STREAMS, a.next_tsn).chunk()
        self._tx(a, [a.handshake], tag=0)
        self._arm(a)
        return a

    def send(self, a: Association, data: bytes, stream: int = 0, ppid: int = PPID_S1AP) -> None:
        """One message on `stream`; queued until the association is up."""
        if len(data) > MAX_MESSAGE or not data:
            self._count("sctp_message_too_big" if data else "sctp_empty_message")   # §6.2: no empty DATA
            return
        if a.state != "ESTABLISHED":
            a.pending.append((stream, ppid, data))
            return
        ssn = a.ssn.get(stream, 0)
        a.ssn[stream] = (ssn + 1) & 0xFFFF
        tsn, a.next_tsn = a.next_tsn, (a.next_tsn + 1) & 0xFFFFFFFF
        chunk = Data(tsn, stream, ssn, ppid, data).chunk()
        a.outstanding[tsn] = chunk.encode()
        a.sent += 1
        self._tx(a, [chunk])
        if len(a.outstanding) == 1:
            self._arm(a)

    def _tag(self) -> int:
        while True:
            t = int.from_bytes(self._rand(4), "big")
            if t:
                return t

    # -- timers ----------------------------------------------------------------------
    def _arm(self, a: Association) -> None:
        a.timer_gen += 1
        self.prog.ns.sched.after(a.rto, self._expire, a, a.timer_gen)

    def _expire(self, a: Association, gen: int) -> None:
        if gen != a.timer_gen or a.state == "CLOSED" or self.assocs.get((a.peer, a.port)) is not a:
            return
        a.retries += 1
        a.rto = min(a.rto * 2, RTO_MAX)
        if a.state in ("COOKIE-WAIT", "COOKIE-ECHOED"):
            if a.retries > MAX_INIT_RETRANS or a.handshake is None:
                self._close(a)
                return
            self._count("sctp_t1_expired")
            self._tx(a, [a.handshake], tag=0 if a.state == "COOKIE-WAIT" else None)
        elif a.outstanding:
            if a.retries > MAX_RETRANS:
                self._tx(a, [Chunk(SCTP_ABORT)])
                self._close(a)
                return
            self._count("sctp_t3_expired")
            first = min(a.outstanding, key=lambda t: (t - a.next_tsn) & 0xFFFFFFFF)
            self._tx_raw(a, a.outstanding[first])
        else:
            return
        self._arm(a)

    def _tx_raw(self, a: Association, chunk: bytes) -> None:
        t, f, n = struct.unpack_from("!BBH", chunk)
        self._tx(a, [Chunk(t, f, chunk[4:n])])

    def _close(self, a: Association) -> None:
        if a.state == "CLOSED":
            return
        a.state = "CLOSED"
        a.timer_gen += 1
        if self.assocs.get((a.peer, a.port)) is a:
            del self.assocs[(a.peer, a.port)]
        if self.on_down is not None:
            self.on_down(a)

    # -- receiving ---------------------------------------------------------------------
    def _demux(self, data: bytes, src: int) -> None:
        ihl = (data[0] & 0x0F) * 4 if data else 0
        ep = self.by_port.get(int.from_bytes(data[ihl + 2:ihl + 4], "big"))
        if ep is not None:
            ep._on_recv(data, src)

    def _on_recv(self, data: bytes, src: int) -> None:
        ihl = (data[0] & 0x0F) * 4 if data else 0
        try:
            pkt = Sctp.decode(data[ihl:])
        except SctpError:
            self._count("sctp_malformed")
            return
        a = self.assocs.get((src, pkt.sport))
        first = pkt.chunks[0]
        try:
            if first.type == SCTP_INIT:
                self._on_init(src, pkt, first)
                return
            if first.type == SCTP_COOKIE_ECHO:
                a = self._on_cookie(src, pkt, first) or a
                if a is None:
                    return
            elif a is None:
                self._out_of_the_blue(src, pkt)
                return
            elif pkt.tag != a.my_tag and not (first.type == SCTP_ABORT and first.flags & 1 and pkt.tag == a.peer_tag):
                self._count("sctp_bad_tag")   # §8.5: silently discard
                return
            for c in pkt.chunks:
                if a.state == "CLOSED":
                    return
                self._chunk(a, c)
        except SctpError:
            self._count("sctp_malformed")

    def _out_of_the_blue(self, src: int, pkt: Sctp) -> None:
        """§8.4: answer with ABORT, the T bit set and the packet's own tag, unless it is an ABORT,
        a SHUTDOWN COMPLETE or a COOKIE ACK; a SHUTDOWN ACK gets a SHUTDOWN COMPLETE."""
        self._count("sctp_out_of_the_blue")
        types = {c.type for c in pkt.chunks}
        if types & {SCTP_ABORT, SCTP_SHUTDOWN_COMPLETE, SCTP_COOKIE_ACK}:
            return
        reply = Chunk(SCTP_SHUTDOWN_COMPLETE, 1) if SCTP_SHUTDOWN_ACK in types else Chunk(SCTP_ABORT, 1)
        if self.sk.sendto(Sctp(self.port, pkt.sport, pkt.tag, [reply]).encode(), src):
            self._count("sctp_tx_error")

    def _on_init(self, src: int, pkt: Sctp, c: Chunk) -> None:
        """§5.1 step B: answer INIT with INIT ACK and a signed State Cookie; keep no state."""
        if pkt.tag != 0:
            return
        init = Init.of(c)
        tag = self._tag()
        body = struct.pack("!IIIIHH", init.tag, tag, init.tsn, tag, pkt.sport, min(init.outbound, STREAMS))
        cookie = body + hmac.new(self.secret, body, hashlib.sha256).digest()
        ack = Init(tag, A_RWND, min(init.inbound, STREAMS), STREAMS, tag, [(PARAM_STATE_COOKIE, cookie)])
        if self.sk.sendto(Sctp(self.port, pkt.sport, init.tag, [ack.chunk(ack=True)]).encode(), src):
            self._count("sctp_tx_error")

    def _on_cookie(self, src: int, pkt: Sctp, c: Chunk) -> Association | None:
        """§5.1 step D: a valid cookie makes the association; answer COOKIE ACK."""
        body, mac = c.value[:20], c.value[20:]
        if len(body) != 20 or not hmac.compare_digest(mac, hmac.new(self.secret, body, hashlib.sha256).digest()):
            self._count("sctp_bad_cookie")
            return None
        peer_tag, my_tag, peer_tsn, my_tsn, sport, _ = struct.unpack("!IIIIHH", body)
        if pkt.tag != my_tag or sport != pkt.sport:
            self._count("sctp_bad_cookie")
            return None
        old = self.assocs.get((src, sport))
        if old is not None and old.my_tag == my_tag and old.state == "ESTABLISHED":
            self._tx(old, [Chunk(SCTP_COOKIE_ACK)])   # a retransmitted COOKIE ECHO (§5.2.4 case D)
            return old
        if old is not None:
            self._close(old)
        a = Association(src, sport, my_tag, peer_tag, "ESTABLISHED", my_tsn, (peer_tsn - 1) & 0xFFFFFFFF)
        self.assocs[(src, sport)] = a
        self._tx(a, [Chunk(SCTP_COOKIE_ACK)])
        if self.on_up is not None:
            self.on_up(a)
        return a

    def _chunk(self, a: Association, c: Chunk) -> None:
        if c.type == SCTP_DATA:
            if len(c.value) <= 12:
                # §6.2: a DATA chunk with no user data: ABORT with the "No User Data" cause (9)
                self._count("sctp_no_user_data")
                self._tx(a, [Chunk(SCTP_ABORT, 0, struct.pack("!HHI", 9, 8, int.from_bytes(c.value[:4], "big")))])
                self._close(a)
                return
            self._on_data(a, Data.of(c))
        elif c.type == SCTP_SACK:
            sack = Sack.of(c)
            acked = [t for t in a.outstanding if not _after(t, sack.cum_tsn)]
            for t in acked:
                del a.outstanding[t]
            if acked:
                a.retries, a.rto = 0, RTO_INITIAL
                a.timer_gen += 1
                if a.outstanding:
                    self._arm(a)
        elif c.type == SCTP_INIT_ACK and a.state == "COOKIE-WAIT":
            init = Init.of(c)
            cookie = init.param(PARAM_STATE_COOKIE)
            if cookie is None:
                raise SctpError("INIT ACK without a State Cookie")
            a.peer_tag, a.peer_cum, a.state = init.tag, (init.tsn - 1) & 0xFFFFFFFF, "COOKIE-ECHOED"
            a.handshake, a.retries, a.rto = Chunk(SCTP_COOKIE_ECHO, 0, cookie), 0, RTO_INITIAL
            self._tx(a, [a.handshake])
            self._arm(a)
        elif c.type == SCTP_COOKIE_ACK and a.state == "COOKIE-ECHOED":
            a.state, a.handshake, a.retries = "ESTABLISHED", None, 0
            a.timer_gen += 1
            pending, a.pending = a.pending, []
            if self.on_up is not None:
                self.on_up(a)
            for stream, ppid, data in pending:
                self.send(a, data, stream, ppid)
        elif c.type == SCTP_HEARTBEAT:
            self._tx(a, [Chunk(SCTP_HEARTBEAT_ACK, 0, c.value)])
        elif c.type == SCTP_ABORT:
            self._close(a)
        elif c.type == SCTP_SHUTDOWN:
            self._tx(a, [Chunk(SCTP_SHUTDOWN_ACK)])
            self._close(a)
        elif c.type == SCTP_SHUTDOWN_ACK:
            self._tx(a, [Chunk(SCTP_SHUTDOWN_COMPLETE)])
            self._close(a)

    def _on_data(self, a: Association, d: Data) -> None:
        """§6.2: deliver in TSN order, keep what came early, drop duplicates; SACK the cumulative TSN."""
        if _after(d.tsn, a.peer_cum):
            a.early[d.tsn] = d
            while (nxt := (a.peer_cum + 1) & 0xFFFFFFFF) in a.early:
                a.peer_cum = nxt
                msg = a.early.pop(nxt)
                a.received += 1
                self.on_message(a, msg.payload)
                if a.state == "CLOSED":
                    return
        else:
            self._count("sctp_duplicate_tsn")
        self._tx(a, [Sack(a.peer_cum, A_RWND).chunk()])

    def close(self, a: Association) -> None:
        """ABORT the association (the daemon is going away)."""
        if a.state != "CLOSED":
            self._tx(a, [Chunk(SCTP_ABORT)])
            self._close(a)
