"""Traffic generators and receivers on simulated sockets (what `apps.iperf`'s programs run).

`UdpCbr` sends `size`-byte datagrams at `rate` bits/s of payload (iperf3 -u
-b counts payload), optionally on/off (`on_ns`/`off_ns` periods). `TcpBulk`
writes as iperf3 does, whenever the socket has room (tcp_wmem's autotuned send
buffer), so the congestion control, the receive window and the qdiscs on the path
decide the rate. Receivers count, per
one-second interval, application bytes and the Ethernet frame bytes that
carried them (what tc rates measure: headers included, no FCS).
"""
from __future__ import annotations

from typing import Any

from netplex.stack.skb import Task
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
                 tos: int = 0, on_ns: int = 0, off_ns: int = 0, task: Task | None = None) -> None:
        self.ns = ns
        self.sk = ns.sockets.udp_socket()
        self.sk.sk_task = task          # the task that opened it (its net_cls classid)
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
    """A bulk transfer as iperf3 -c makes it: connect at `start`, then write blocks of
    `size` bytes (iperf3 -l; 128 KiB by default) for as long as the socket takes them,
    waiting for write space when the send buffer is full, until `stop`. Without a rate
    the sender never limits: the congestion control, the receive window and the qdiscs
    do. With `rate_bps` (iperf3 -b on TCP) it throttles as iperf_check_throttle does:
    after each block, and on its pacing timer every PACING_NS (--pacing-timer, 1 ms),
    it may write while the average rate since the start is below `rate_bps`."""

    BLOCK = 128 * 1024            # iperf3's DEFAULT_TCP_BLKSIZE
    PACING_NS = 1_000_000         # iperf3's --pacing-timer default, 1000 µs

    def __init__(self, ns: Any, dst: int, port: int, start: int, stop: int, tos: int = 0,
                 rate_bps: int = 0, size: int = 0, task: Task | None = None) -> None:
        self.ns = ns
        self.task = task                # the task that opens the socket (its net_cls classid)
        self.dst, self.port = dst, port
        self.stop = stop
        self.tos = tos
        self.rate_bps = rate_bps
        self.sk: TcpSocket | None = None
        self.error = 0
        self.closed = False
        self.block = bytes(size or self.BLOCK)
        self.pending = 0            # what is left of the block a blocked write is writing
        self.bytes_sent = 0
        self.started = 0            # when the stream began (iperf3's start_time_fixed)
        self.green = True           # iperf3's green_light
        self.waiting = False        # blocked on write space
        ns.sched.at(start, self._connect)

    def _connect(self) -> None:
        if self.closed:
            return
        sk = self.sk = TcpSocket(self.ns.sockets)
        sk.sk_task = self.task
        sk.tos = self.tos
        sk.on_connect = self._connected
        sk.on_error = self._error
        err = sk.connect(self.dst, self.port)
        if err:
            self.error = err

    def _error(self, sk: TcpSocket, err: int) -> None:
        self.error = err

    def _connected(self, sk: TcpSocket) -> None:
        self.started = self.ns.sched.now
        self._writable(sk)
        if self.rate_bps:
            self.ns.sched.after(self.PACING_NS, self._pacing_timer)

    def _throttle(self) -> None:
        """iperf_check_throttle: green while bytes_sent * 8 / elapsed is below the rate (no
        time elapsed yet: an infinite average, red)."""
        elapsed = self.ns.sched.now - self.started
        self.green = elapsed > 0 and self.bytes_sent * 8 * NSEC_PER_SEC < self.rate_bps * elapsed

    def _pacing_timer(self) -> None:
        sk = self.sk
        if sk is None or self.ns.sched.now >= self.stop or sk.error or self.closed:
            return
        self._throttle()
        if self.green and not self.waiting:
            self._writable(sk)
        self.ns.sched.after(self.PACING_NS, self._pacing_timer)

    def _writable(self, sk: TcpSocket) -> None:
        """Write blocks until the socket is full (then sleep until it has room) or, paced,
        until the average rate reaches the target."""
        self.waiting = False
        if self.ns.sched.now >= self.stop or sk.error or self.closed:
            return
        block = self.block
        while self.green:
            if not self.pending:
                self.pending = len(block)
            n = sk.write(block[:self.pending] if self.pending < len(block) else block)
            self.pending -= n
            self.bytes_sent += n
            if self.pending:
                self.waiting = True
                sk.on_writable = self._writable
                return
            if self.rate_bps:
                self._throttle()

    def close(self) -> None:
        self.closed = True
        if self.sk is not None:
            self.sk.sndbuf.clear() if self.sk.state != 4 else None
            self.sk.close()
