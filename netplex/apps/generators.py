"""Traffic generators and receivers on simulated sockets (what `apps.iperf`'s programs run).

`UdpCbr` sends `size`-byte datagrams at `rate` bits/s of payload (iperf3 -u
-b counts payload), optionally on/off (`on_ns`/`off_ns` periods). `TcpBulk`
keeps a connection's send buffer full for its whole life, so the congestion
control and the qdiscs on the path decide the rate. Receivers count, per
one-second interval, application bytes and the Ethernet frame bytes that
carried them (what tc rates measure: headers included, no FCS).
"""
from __future__ import annotations

from typing import Any

from netplex.stack.sockets import EAGAIN
from netplex.stack.tcp import TcpSocket

NSEC_PER_SEC = 1_000_000_000
TRANSIENT_ERRORS = frozenset({100, 101, 113})   # ENETDOWN, ENETUNREACH, EHOSTUNREACH
ETH_IP_UDP = 14 + 20 + 8
ETH_IP_TCP = 14 + 20 + 20


class FlowStats:
    """What a receiver saw: totals and per-second figures from `start`."""

    def __init__(self, start: int, interval_ns: int = NSEC_PER_SEC, gap_ns: int = 0) -> None:
        self.start = start
        # pauses between two arrivals longer than gap_ns (0: not recorded), for a scenario's
        # events: (last arrival before, first arrival after)
        self.gap_ns = gap_ns
        self.gaps: list[tuple[int, int]] = []
        self.interval_ns = interval_ns
        self.goodput_bytes = 0
        self.wire_bytes = 0
        self.packets = 0
        self.per_interval: list[list[int]] = []   # [goodput bytes, wire bytes] per interval
        self.last = start

    def add(self, now: int, payload: int, wire: int) -> None:
        i = (now - self.start) // self.interval_ns
        if i < 0:
            return
        while len(self.per_interval) <= i:
            self.per_interval.append([0, 0])
        self.per_interval[i][0] += payload
        self.per_interval[i][1] += wire
        self.goodput_bytes += payload
        self.wire_bytes += wire
        if self.gap_ns and self.packets and now - self.last > self.gap_ns:
            self.gaps.append((self.last, now))
        self.packets += 1
        self.last = now


class UdpSink:
    """A UDP receiver on `port`: counts what arrives."""

    def __init__(self, ns: Any, port: int, stats: FlowStats) -> None:
        self.stats = stats
        self.sk = ns.sockets.udp_socket()
        self.err = self.sk.bind(0, port)
        self.ns = ns

        def on_recv(data: bytes, src: int, sport: int) -> None:
            self.stats.add(self.ns.sched.now, len(data), len(data) + ETH_IP_UDP)

        self.sk.on_recv = on_recv

    def close(self) -> None:
        self.sk.close()


class UdpCbr:
    """Constant-rate (or on/off) UDP datagrams from `ns` to dst:port between start and stop."""

    def __init__(self, ns: Any, dst: int, port: int, rate_bps: int, size: int, start: int, stop: int,
                 tos: int = 0, on_ns: int = 0, off_ns: int = 0) -> None:
        self.ns = ns
        self.sk = ns.sockets.udp_socket()
        self.dst, self.port = dst, port
        self.size = size
        self.payload = b"\x00" * size
        self.gap = max(1, size * 8 * NSEC_PER_SEC // max(rate_bps, 1))
        self.stop = stop
        self.tos = tos
        self.on_ns, self.off_ns = on_ns, off_ns
        self.start = start
        self.next_t = start            # when the next datagram is due (the twin's `t += gap`)
        self.sent = 0
        self.error = 0
        self.closed = False
        self.sk.connect(dst, port)
        ns.sched.at(start, self._tick)

    def _tick(self) -> None:
        now = self.ns.sched.now
        if now >= self.stop or self.closed:
            return
        if self.on_ns and self.off_ns:
            phase = (now - self.start) % (self.on_ns + self.off_ns)
            if phase >= self.on_ns:
                self.next_t = now + (self.on_ns + self.off_ns - phase)
                self.ns.sched.at(self.next_t, self._tick)
                return
        err = self.sk.sendto(self.payload, self.dst, self.port, tos=self.tos)
        if err == EAGAIN:
            # a blocking sendto: wait until the socket has room, then send this datagram
            self.sk.on_writable = self._tick
            return
        if err in TRANSIENT_ERRORS:
            # no route or no carrier for now (an outage): the datagram is lost, the flow goes
            # on; the error is the flow's only if no datagram ever left
            if not self.sent and not self.error:
                self.error = err
        elif err:
            self.error = err
        else:
            if self.error in TRANSIENT_ERRORS:
                self.error = 0
            self.sent += 1
        # late after blocking: the next ones go back to back until the schedule is caught up
        self.next_t += self.gap
        self.ns.sched.at(max(now, self.next_t), self._tick)

    def close(self) -> None:
        self.closed = True
        self.sk.close()


class TcpSink:
    """A TCP listener on `port`: counts every connection's bytes (one flow per port)."""

    def __init__(self, ns: Any, port: int, stats: FlowStats) -> None:
        self.stats = stats
        self.ns = ns
        self.lst = TcpSocket(ns.sockets)
        self.err = self.lst.listen(port)
        self.conns: list[TcpSocket] = []

        def on_data(sk: TcpSocket, data: bytes) -> None:
            opts = 12 if sk.ts_ok else 0
            segs = max(1, -(-len(data) // max(sk.mss, 1)))
            self.stats.add(self.ns.sched.now, len(data), len(data) + segs * (ETH_IP_TCP + opts))

        def on_accept(sk: TcpSocket) -> None:
            sk.on_data = on_data
            self.conns.append(sk)

        self.lst.on_accept = on_accept

    def close(self) -> None:
        self.lst.close()


class TcpBulk:
    """A bulk transfer: connect at `start`, keep the send buffer topped up until `stop`."""

    CHUNK = 64 * 1024
    TOPUP_NS = 1_000_000

    def __init__(self, ns: Any, dst: int, port: int, start: int, stop: int, tos: int = 0) -> None:
        self.ns = ns
        self.dst, self.port = dst, port
        self.stop = stop
        self.tos = tos
        self.sk: TcpSocket | None = None
        self.error = 0
        self.closed = False
        ns.sched.at(start, self._connect)

    def _connect(self) -> None:
        if self.closed:
            return
        sk = self.sk = TcpSocket(self.ns.sockets)
        sk.tos = self.tos
        sk.on_connect = lambda s: self._topup()
        sk.on_error = lambda s, e: setattr(self, "error", e)
        err = sk.connect(self.dst, self.port)
        if err:
            self.error = err

    def _topup(self) -> None:
        sk = self.sk
        if sk is None or self.ns.sched.now >= self.stop or sk.error or self.closed:
            return
        if len(sk.sndbuf) < 2 * self.CHUNK:
            sk.send(b"\x00" * self.CHUNK)
        self.ns.sched.after(self.TOPUP_NS, self._topup)

    def close(self) -> None:
        self.closed = True
        if self.sk is not None:
            self.sk.sndbuf.clear() if self.sk.state != 4 else None
            self.sk.close()
