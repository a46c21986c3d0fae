"""TCP (RFC 9293) as net/ipv4/tcp*.c does it, for the simulator.

Handshake with MSS, SACK-permitted, timestamps and window scale in the SYN;
data segmented by MSS within the peer's window and a congestion window;
cumulative ACKs; retransmission on timeout with exponential backoff
(initial RTO 1 s, RFC 6298 estimation, minimum 200 ms as Linux); FIN in
both directions with the kernel's states (TIME_WAIT lasts 60 s); RST for a
segment no socket wants (tcp_v4_send_reset). Congestion control is a seam
(`self.cc`, netplex.stack.tcp_cc: Reno and CUBIC) on an initial window of
10 segments; three duplicate ACKs trigger fast retransmit and NewReno fast
recovery (RFC 6582), a timeout goes back to slow start from snd_una.

SACK (RFC 2018) when both SYNs carry SACK-permitted and net.ipv4.tcp_sack is
on: the receiver keeps Linux's selective_acks (tcp_sack_new_ofo_skb,
tcp_sack_remove: the most recent block first, at most 4, as many as fit in the
40 bytes of options) and sends them while it holds out-of-order data. The
sender keeps a scoreboard of SACKed ranges (tcp_sacktag_write_queue), counts
a hole lost once more than two segments' worth is SACKed above it
(tcp_mark_head_lost, RFC 6675 IsLost), and in recovery (cwnd = ssthresh,
RFC 6675) or after a timeout (slow start) sends while the pipe — bytes in
flight neither SACKed nor lost, plus retransmissions — is below the window:
the lost holes first, each once, never SACKed data, then new data.
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import TYPE_CHECKING, Any

from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IP_DF, IPPROTO_TCP, IPv4
from netplex.packet.tcp import ACK, FIN, PSH, RST, SYN, Tcp
from netplex.stack.fastpath import FAST_DEVICE_CLASSES, NUD_FAST, NUD_USED, fast_xmit, xmit_state
from netplex.stack.neigh import NUD_NOARP, NUD_PERMANENT, NUD_REACHABLE, NUD_VALID
from netplex.stack.skb import SockCgroupData
from netplex.stack.tcp_cc import new_cc
from netplex.stack.tcp_sendq import SendQueue
from netplex.stack.tcp_timer import LazyTimer

if TYPE_CHECKING:
    from netplex.stack.sockets import SocketTable

NSEC_PER_MSEC = 1_000_000
TCP_TIMEOUT_INIT = 1000 * NSEC_PER_MSEC
TCP_RTO_MIN = 200 * NSEC_PER_MSEC
TCP_RTO_MAX = 120_000 * NSEC_PER_MSEC
TCP_TIMEWAIT_LEN = 60_000 * NSEC_PER_MSEC
TCP_INIT_CWND = 10
TCP_DELACK_MIN = 40 * NSEC_PER_MSEC      # HZ/25
TCP_ATO_MIN = 40 * NSEC_PER_MSEC
TCP_MAX_QUICKACKS = 16
WSCALE = 7
SYN_WINDOW = 64240
TCP_NUM_SACKS = 4                        # selective_acks[] the receiver remembers
TCP_FASTRETRANS_THRESH = 3               # DupThresh
MAX_TCP_OPTION_SPACE = 40
_CTL = SYN | RST | FIN | ACK             # the flags header prediction looks at (ACK alone passes)
_PSH_ACK = PSH | ACK
_NUD_NOCONFIRM = NUD_PERMANENT | NUD_NOARP   # neigh_confirm leaves these entries alone
ECONNREFUSED, ETIMEDOUT, ECONNRESET = 111, 110, 104

CLOSED, LISTEN, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, CLOSING, \
    LAST_ACK, TIME_WAIT = range(11)
STATE_NAMES = ("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECV", "ESTAB", "FIN-WAIT-1", "FIN-WAIT-2",
               "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT")


_TCP_WMEM: dict[str, tuple[int, ...]] = {}   # tcp_wmem's text -> its three values (_tcp_wmem)


def seq_lt(a: int, b: int) -> bool:
    return ((a - b) & 0xFFFFFFFF) > 0x7FFFFFFF


def seq_le(a: int, b: int) -> bool:
    return a == b or seq_lt(a, b)


class TcpSocket(SockCgroupData):
    """One TCP endpoint (struct tcp_sock), listening or connected."""

    uid = 0   # the owner (-m owner): every netplex command runs as root
    gid = 0

    def __init__(self, table: SocketTable) -> None:
        self.table = table
        self.ns = table.ns
        self.state = CLOSED
        self.laddr = 0
        self.lport = 0
        self.raddr = 0
        self.rport = 0
        self.iss = 0
        self.snd_una = 0
        self.snd_nxt = 0
        self.snd_wnd = 0
        self.snd_wscale = 0
        self.rcv_nxt = 0
        self.rcv_wscale = WSCALE
        self.mss = 536
        self.sndbuf = SendQueue()      # bytes from snd_una on, not yet acknowledged (sk_write_queue)
        # sk_sndbuf (tcp_init_sock: tcp_wmem[1]; autotuned by tcp_sndbuf_expand) and the
        # writer waiting for room (SOCK_NOSPACE): `write` accepts what fits, `on_writable`
        # runs once acknowledged data has made the socket writeable again
        self.sk_sndbuf = self._tcp_wmem()[1]
        self.on_writable: Callable[[TcpSocket], None] | None = None
        self.queue_shrunk = False      # SOCK_QUEUE_SHRUNK: an ACK freed send-queue memory
        self.fin_queued = False
        self.fin_sent = False
        self.ooo: dict[int, bytes] = {}
        self.cwnd = TCP_INIT_CWND
        self.ssthresh = 1 << 30
        self.srtt = 0
        self.rttvar = 0
        self.rto = TCP_TIMEOUT_INIT
        self.backoff = 0
        self.retries = 0
        self.timer_gen = 0
        # the retransmission timer (_arm_rtx), armed with timer_gen: live while it is current
        self.rtx_timer = LazyTimer(self.ns.sched, self._rtx_timer, self._rtx_alive)
        self.rtt_probe: tuple[int, int] | None = None
        self.error = 0
        self.soft_error = 0              # sk_err_soft: the last ICMP error on an established connection
        self.ts_ok = False
        self.ts_recent = 0
        self.listener: TcpSocket | None = None
        self.accept_queue: list[TcpSocket] = []
        self.on_connect: Callable[[TcpSocket], None] | None = None
        self.on_accept: Callable[[TcpSocket], None] | None = None
        self.on_data: Callable[[TcpSocket, bytes], None] | None = None
        self.on_close: Callable[[TcpSocket], None] | None = None
        self.on_error: Callable[[TcpSocket, int], None] | None = None
        self.rcvbuf = bytearray()
        self.peer_closed = False
        self.cc: Any = new_cc(self.ns)
        self.tos = 0                   # IP_TOS of the socket
        self.dst_cache: tuple[int, int, int, int, Any, int] | None = None   # sk_dst_cache (_route), with the TTL
        # the neighbour entry's key neigh_confirm_for confirms, for the namespace's generation (_neigh_confirm)
        self.confirm_cache: tuple[int, tuple[int, int]] | None = None
        self.out_cache: tuple[Any, int, Any, tuple[int, int], bool] | None = None   # _out_cache
        self.dupacks = 0
        self.in_recovery = False
        self.recover = 0
        # delayed ACK (inet_connection_sock's icsk_ack): quick ACKs at the start,
        # then one ACK per two full segments or after TCP_DELACK_MIN
        self.quick = 0
        self.pingpong = False
        self.ato_started = False
        self.unacked = 0               # bytes received since the last ACK we sent
        self.delack_gen = 0
        self.delack_pending = False
        self.delack_timer = LazyTimer(self.ns.sched, self._delack_timer, self._delack_alive)
        self.last_rcv = -1
        # SACK (rx_opt.sack_ok): negotiated on the SYNs
        self.sack_ok = False
        self.rcv_sacks: list[list[int]] = []   # receiver: [start, end) seqs, the most recent first
        # sender's scoreboard, offsets from snd_una as sndbuf's: SACKed [start, end) sorted and
        # disjoint, how far the lost holes have been resent (RFC 6675 HighRxt) and where the
        # lost region ends (everything not SACKed below it is lost)
        self.sacked: list[list[int]] = []
        self.sacked_bytes = 0
        self.high_rxt = 0
        self.lost_hi = 0
        self.rto_loss = False          # recovering from a timeout (TCP_CA_Loss), not fast recovery

    # -- user calls --------------------------------------------------------
    def listen(self, port: int, addr: int = 0) -> int:
        if port in self.table.tcp_listen:
            return 98
        self.laddr, self.lport = addr, port
        self.state = LISTEN
        self.table.tcp_listen[port] = self
        return 0

    def connect(self, addr: int, port: int, src: int | None = None) -> int:
        ns = self.ns
        rt = ns.ip_route_output(addr, None, src, tos=self.tos)
        if isinstance(rt, int):
            return rt
        self.raddr, self.rport = addr, port
        self.laddr = src if src is not None else rt.src
        self.lport = self.table.ephemeral_port("tcp")
        self.mss = rt.dev.mtu - 40
        self.iss = ns.world.rng.getrandbits(32)
        self.sack_ok = self._sysctl_sack()
        self.snd_una = self.iss
        self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.state = SYN_SENT
        ns.mib.tcp["ActiveOpens"] += 1   # tcp_connect
        self.table.tcp_conns[self.key()] = self
        self._send(self.iss, SYN, syn_options=True)
        self._arm_rtx()
        return 0

    def send(self, data: bytes) -> None:
        """Queue all of `data` whatever the send buffer holds (a blocking write that
        has returned)."""
        self.sndbuf.append(data)
        self._push()

    def write(self, data: bytes) -> int:
        """tcp_sendmsg on a socket whose writer waits for room: queue what fits under
        sk_sndbuf (sk_stream_memory_free), return how many bytes were taken (0: full,
        wait for `on_writable`)."""
        n = min(len(data), self.sk_sndbuf - self.sndbuf.size)
        if n <= 0:
            return 0
        self.sndbuf.append(data if n == len(data) else data[:n])
        self._push()
        return n

    def writeable(self) -> bool:
        """sk_stream_is_writeable: free space at least half of what is queued."""
        queued = self.sndbuf.size
        return self.sk_sndbuf - queued >= queued >> 1

    def _tcp_wmem(self) -> tuple[int, ...]:
        """net.ipv4.tcp_wmem (min, default, max), its text parsed once per text (read per ACK
        while the buffer autotunes)."""
        text = self.ns.sysctl.values["net.ipv4.tcp_wmem"]
        v = _TCP_WMEM.get(text)
        if v is None:
            v = _TCP_WMEM[text] = tuple([int(x) for x in text.split()])
        return v

    def _sndbuf_expand(self) -> None:
        """tcp_sndbuf_expand: room for two congestion windows of full-sized skbs (per_mss:
        the MSS, MAX_TCP_HEADER and skb_shared_info rounded up to a power of two, plus
        struct sk_buff; x86_64 sizes), at most tcp_wmem[2]."""
        per_mss = (1 << (self.mss + 320 + 320 - 1).bit_length()) + 256
        sndmem = 2 * max(TCP_INIT_CWND, self.cwnd) * per_mss
        if self.sk_sndbuf < sndmem:
            self.sk_sndbuf = min(sndmem, self._tcp_wmem()[2])

    def _check_space(self) -> None:
        """tcp_check_space / tcp_new_space: after an ACK shrank the queue of a socket whose
        writer waits, grow the buffer unless the congestion window is full
        (tcp_should_expand_sndbuf), then wake the writer if it is writeable."""
        if not self.in_recovery and ((self.snd_nxt - self.snd_una) & 0xFFFFFFFF) < self.cwnd * self.mss:
            self._sndbuf_expand()
        cb = self.on_writable
        if cb is not None and self.writeable():
            self.on_writable = None
            self._wake(cb, self)

    def close(self) -> None:
        """close(2): FIN after the queued data; a listener just stops listening."""
        if self.state == LISTEN:
            self.table.tcp_listen.pop(self.lport, None)
            self.state = CLOSED
            return
        if self.state in (CLOSED, TIME_WAIT, FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK):
            return
        if self.state == SYN_SENT:
            self._done()
            return
        self.fin_queued = True
        self.state = FIN_WAIT1 if self.state in (ESTABLISHED, SYN_RECV) else LAST_ACK
        self._push()

    def key(self) -> tuple[int, int, int, int]:
        return (self.laddr, self.lport, self.raddr, self.rport)

    # -- output ------------------------------------------------------------
    def _resend(self, seq: int, flags: int, payload: bytes = b"", syn_options: bool = False) -> None:
        """tcp_retransmit_skb: a segment sent again (Tcp RetransSegs, then OutSegs as any)."""
        self.ns.mib.tcp["RetransSegs"] += 1
        self._send(seq, flags, payload, syn_options)

    def _send(self, seq: int, flags: int, payload: bytes = b"", syn_options: bool = False) -> None:
        """tcp_transmit_skb → ip_queue_xmit: one segment, its headers built once, out through
        sk_dst_cache (the route and ip_default_ttl kept for the namespace's generation)."""
        ns = self.ns
        if flags & ACK:
            # any segment carrying an ACK is the ACK the delayed-ACK timer was waiting for
            self.delack_pending = False
            self.unacked = 0
            if self.last_rcv >= 0 and (payload or flags & FIN) and ns.sched.now - self.last_rcv < TCP_ATO_MIN:
                self.pingpong = True   # tcp_event_data_sent: a reply within ato → interactive
        if syn_options:
            seg = Tcp(self.lport, self.rport, seq, self.rcv_nxt if flags & ACK else 0, flags,
                      SYN_WINDOW if flags & SYN else self._rcv_window(), payload)
            seg.mss = self.advmss()
            # tcp_syn_options offers SACK when the sysctl is on; tcp_synack_options when the SYN did too
            seg.sack_perm = self.sack_ok if flags & ACK else self._sysctl_sack()
            seg.wscale = WSCALE
            seg.timestamps = (self._tsval(), self.ts_recent if flags & ACK else 0)
            length = 0
        else:
            # the datagram's length, as IPv4.wire_len would measure it: the headers, the
            # options tcp_established_options writes, the data (carried down, measured once)
            length = 40 + len(payload)
            ts = None
            if self.ts_ok:
                ts = ((ns.sched.now // NSEC_PER_MSEC + 1) & 0xFFFFFFFF, self.ts_recent)
                length += 12
            blocks: tuple[tuple[int, int], ...] = ()
            if self.rcv_sacks:
                blocks = tuple([(a, b) for a, b in self.rcv_sacks[:self._sack_max_blocks()]])
                length += 4 + 8 * len(blocks)
            if flags & SYN:
                win = SYN_WINDOW
            else:   # (_rcv_window, inline)
                win = 0x100000 >> self.rcv_wscale
                if win > 0xFFFF:
                    win = 0xFFFF
            seg = Tcp(self.lport, self.rport, seq, self.rcv_nxt if flags & ACK else 0, flags, win, payload,
                      0, None, None, False, ts, blocks)
        c = self.dst_cache
        if (c is not None and c[0] == ns.generation and c[1] == self.raddr and c[2] == self.tos
                and c[3] == self.laddr and not ns.pmtu and not ns.fnhe):
            rt = c[4]                  # sk_dst_cache still valid (_route's test)
            ttl = c[5]
        else:
            rt = self._route()
            ttl = ns.default_ttl()
        if isinstance(rt, int):
            if self.state in (SYN_SENT, SYN_RECV):
                self._fail(rt)
            else:   # ip_queue_xmit: -EHOSTUNREACH, the segment is dropped; the retransmit timer goes on
                self.soft_error = rt
            return
        ip = IPv4(self.laddr, self.raddr, IPPROTO_TCP, seg, ttl, self.tos, 0, IP_DF)
        mib = ns.mib.tcp
        mib["OutSegs"] += 1   # __tcp_transmit_skb
        if flags & RST:
            mib["OutRsts"] += 1
        hooks = ns.hooks
        if not hooks and self.sk_task is None:
            # ip_local_out's own first steps for this datagram (DF: no IP ID; not ICMP) and its
            # test for the output fast path, done here
            world = ns.world
            if length and not world.tracer.on and world.fastpath and not ns.xfrm.spd_out:
                oc = self.out_cache
                if oc is None or oc[0] is not rt or oc[1] != ns.generation:
                    oc = self._out_cache(rt)
                out = oc[2]
                if out is not None:
                    # Ipv4Path._output_fast's steps for a route it takes (the route's tests kept in
                    # out_cache): the MTU, a neighbour it sends to at once, the counters, the frame
                    # to the device (fast_xmit on a pure one)
                    if length <= (rt.mtu or out.mtu):
                        n = ns.neigh.entries.get(oc[3])
                        if n is not None:
                            now = ns.sched.now
                            nud = n.state
                            lladdr = n.lladdr
                            if ((nud == NUD_REACHABLE and now - n.confirmed < n.reachable_ns or nud & NUD_FAST)
                                    and lladdr is not None):
                                if nud & NUD_USED:
                                    n.used = now
                                m = ns.mib
                                m.out_fast += 1
                                m.out_octets += length
                                frame = Ethernet(lladdr, out.mac, ETH_P_IP, ip, (), None)
                                if oc[4]:
                                    q = out.qdisc
                                    if q is None:
                                        busy = xmit_state(ns, out, now)
                                        if busy >= 0:
                                            fast_xmit(ns, out, frame, length + 14, now, busy)
                                            return
                                    elif out.up:
                                        out._qdisc_xmit(q, frame, length + 14)
                                        return
                                out.xmit(frame, length + 14)
                                return
                elif rt.type == "unicast" and ns._output_fast(ip, rt, None, length):
                    return
            ns.ip_local_out(ip, rt, None, length)
            return
        # owner_meta builds metadata only for OUTPUT's hooks or a net_cls classid (a task's)
        meta = self.table.owner_meta(self) if "OUTPUT" in hooks or self.sk_task is not None else None
        ns.ip_local_out(ip, rt, meta, length)

    def _out_cache(self, rt: Any) -> tuple[Any, int, Any, tuple[int, int], bool]:
        """The output route's part of Ipv4Path._output_fast's test, kept per socket for the route
        (sk_dst_cache's) and the namespace's generation: (route, generation, the device when the
        fast path may take the route — unicast, no encap, not loopback — else None, the
        neighbour's key, whether the device is of a declared-pure class)."""
        r = rt.route
        out = rt.dev
        ok = rt.type == "unicast" and not (r is not None and r.encap) and out.kind != "loopback"
        oc = self.out_cache = (rt, self.ns.generation, out if ok else None, (out.ifindex, rt.nexthop),
                               type(out) in FAST_DEVICE_CLASSES)
        return oc

    def _rcv_window(self) -> int:
        """The window a segment advertises: the 1 MiB receive buffer in units of our window
        scale (at most 0xFFFF)."""
        w = (1 << 20) >> self.rcv_wscale
        return w if w < 0xFFFF else 0xFFFF

    def _route(self) -> Any:
        """ip_route_output for the connection's segments, through sk_dst_cache as
        `UdpSocket.route`: kept while the namespace's configuration generation stays and no
        path MTU or redirect is learned (a route exception expires with time); an OutRoute or an errno."""
        ns = self.ns
        c = self.dst_cache
        if (c is not None and c[0] == ns.generation and c[1] == self.raddr and c[2] == self.tos
                and c[3] == self.laddr and not ns.pmtu and not ns.fnhe):
            return c[4]
        rt = ns.ip_route_output(self.raddr, None, self.laddr, tos=self.tos)
        # with ip_default_ttl, which a sysctl write (a configuration change) alone changes
        self.dst_cache = (None if ns.pmtu or ns.fnhe
                          else (ns.generation, self.raddr, self.tos, self.laddr, rt, ns.default_ttl()))
        return rt

    def advmss(self) -> int:
        """tcp_advertise_mss / the SYN-ACK's mss: the route's dst_metric_advmss."""
        rt = self.ns.ip_route_output(self.raddr, None, self.laddr)
        return rt.advmss() if not isinstance(rt, int) else 1460

    def ns_mss(self) -> int:
        rt = self.ns.ip_route_output(self.raddr, None, self.laddr)
        return (rt.dev.mtu - 40) if not isinstance(rt, int) else 1460

    def _sysctl_sack(self) -> bool:
        return str(self.ns.sysctl.values.get("net.ipv4.tcp_sack", "1")) != "0"

    def _sack_max_blocks(self) -> int:
        """tcp_established_options: the blocks that fit beside the timestamps (3 with, 4 without)."""
        return (MAX_TCP_OPTION_SPACE - (12 if self.ts_ok else 0) - 4) // 8

    def _mss_now(self) -> int:
        """tcp_current_mss: SACK blocks we send shrink the room for data."""
        if self.rcv_sacks:
            return self.mss - 4 - 8 * min(len(self.rcv_sacks), self._sack_max_blocks())
        return self.mss

    def _tsval(self) -> int:
        return (self.ns.sched.now // NSEC_PER_MSEC + 1) & 0xFFFFFFFF

    def _push(self) -> bool:
        """tcp_write_xmit: send what the windows allow; True when it sent and so (re)armed the
        retransmission timer."""
        if self.state not in (ESTABLISHED, CLOSE_WAIT, FIN_WAIT1, LAST_ACK):
            return False
        in_flight = (self.snd_nxt - self.snd_una) & 0xFFFFFFFF
        sent_any = False
        sack_recovery = self.in_recovery and self.sack_ok
        if sack_recovery:
            # tcp_xmit_retransmit_queue: the lost holes before new data
            self._sack_retransmit(0)
        # what the congestion window is measured against: all in flight, or with SACK
        # information the pipe (tcp_packets_in_flight: less what is SACKed or lost)
        pipe = self._pipe() if (self.sacked or sack_recovery) else in_flight
        cwnd_bytes = self.cwnd * self.mss
        mss = self._mss_now() if self.rcv_sacks else self.mss
        q = self.sndbuf
        fin = 1 if self.fin_sent else 0
        snd_wnd = self.snd_wnd
        while True:
            offset = in_flight - fin
            avail = q.size - offset
            if avail <= 0:
                break
            room = snd_wnd - in_flight
            if cwnd_bytes - pipe < room:
                room = cwnd_bytes - pipe
            if room <= 0:
                break
            n = avail if avail < mss else mss
            if room < n:
                n = room
            nxt = self.snd_nxt
            self._send(nxt, _PSH_ACK if n == avail else ACK, q.read(offset, n))
            if self.rtt_probe is None:
                self.rtt_probe = (nxt, self.ns.sched.now)
            self.snd_nxt = (nxt + n) & 0xFFFFFFFF
            in_flight += n
            pipe += n
            sent_any = True
        if self.fin_queued and not self.fin_sent and self.sndbuf.size == in_flight:
            self._send(self.snd_nxt, FIN | ACK)
            self.snd_nxt = (self.snd_nxt + 1) & 0xFFFFFFFF
            self.fin_sent = True
            sent_any = True
        if sent_any and not sack_recovery:
            # in SACK recovery the timer runs from the head's retransmission (tcp_rearm_rto):
            # new data must not put off the timeout a lost retransmission needs (_arm_rtx, inline)
            backoff = self.backoff
            self.timer_gen = gen = self.timer_gen + 1
            self.rtx_timer.arm(self.ns.sched.now + (self.rto << backoff if backoff < 16 else TCP_RTO_MAX), gen)
            return True
        return False

    # -- SACK scoreboard (sender) ------------------------------------------
    def _sacked_within(self, a: int, b: int) -> int:
        """SACKed bytes in [a, b) (offsets from snd_una)."""
        n = 0
        for s, e in self.sacked:
            if s >= b:
                break
            if e > a:
                n += min(e, b) - max(s, a)
        return n

    def _pipe(self) -> int:
        """RFC 6675 SetPipe: in flight, not SACKed, not lost-and-not-yet-resent."""
        pipe = ((self.snd_nxt - self.snd_una) & 0xFFFFFFFF) - self.sacked_bytes
        a, b = self.high_rxt, self.lost_hi
        if b > a:
            pipe -= (b - a) - self._sacked_within(a, b)
        return pipe

    def _sack_lost_boundary(self) -> int:
        """tcp_mark_head_lost: holes with more than DupThresh-1 segments SACKed above are lost;
        the offset below which that holds (0: none)."""
        above = 0
        limit = (TCP_FASTRETRANS_THRESH - 1) * self.mss
        for s, e in reversed(self.sacked):
            above += e - s
            if above > limit:
                return s
        return 0

    def _sacktag(self, blocks: tuple[tuple[int, int], ...]) -> None:
        """tcp_sacktag_write_queue: merge the ACK's valid SACK blocks into the scoreboard."""
        una = self.snd_una
        out = (self.snd_nxt - una) & 0xFFFFFFFF
        board = self.sacked
        changed = False
        for left, right in blocks:
            s, e = (left - una) & 0xFFFFFFFF, (right - una) & 0xFFFFFFFF
            if not 0 < s < e <= out:
                continue          # old (D-SACK), reversed or beyond snd_nxt: tcp_is_sackblock_valid
            i = 0
            while i < len(board) and board[i][1] < s:
                i += 1
            j = i
            while j < len(board) and board[j][0] <= e:
                s, e = min(s, board[j][0]), max(e, board[j][1])
                j += 1
            if j == i + 1 and board[i] == [s, e]:
                continue
            board[i:j] = [[s, e]]
            changed = True
        if changed:
            self.sacked_bytes = sum(e - s for s, e in board)
            self.lost_hi = max(self.lost_hi, self._sack_lost_boundary())

    def _sack_advance(self, acked: int) -> None:
        """The cumulative ACK moved by `acked`: the scoreboard's offsets follow snd_una."""
        if self.sacked:
            board = []
            for s, e in self.sacked:
                if e > acked:
                    board.append([max(0, s - acked), e - acked])
            self.sacked = board
            self.sacked_bytes = sum(e - s for s, e in board)
        self.high_rxt = max(0, self.high_rxt - acked)
        self.lost_hi = max(0, self.lost_hi - acked)

    def _sack_retransmit(self, limit: int) -> bool:
        """tcp_xmit_retransmit_queue: resend lost holes above HighRxt, skipping SACKed data,
        while the pipe is below cwnd (the first `limit` regardless of it)."""
        h = self.high_rxt
        if h >= self.lost_hi:
            return False
        board = self.sacked
        buflen = self.sndbuf.size
        mss = self._mss_now()
        pipe = self._pipe()
        wnd = self.cwnd * self.mss
        i = 0
        sent = False
        while h < self.lost_hi and (limit > 0 or pipe < wnd):
            while i < len(board) and board[i][1] <= h:
                i += 1
            if i < len(board) and board[i][0] <= h:
                h = board[i][1]
                continue
            if h >= buflen:
                if self.fin_sent and h == buflen:
                    self._resend((self.snd_una + h) & 0xFFFFFFFF, FIN | ACK)
                    h += 1
                    sent = True
                break
            end = min(self.lost_hi, board[i][0] if i < len(board) else buflen, buflen)
            n = min(mss, end - h)
            self._resend((self.snd_una + h) & 0xFFFFFFFF, ACK | (PSH if h + n == buflen else 0),
                       self.sndbuf.read(h, n))
            if h == 0:
                self._arm_rtx()
            h += n
            pipe += n
            limit -= 1
            sent = True
        self.high_rxt = max(self.high_rxt, h)
        return sent

    def _enter_sack_recovery(self) -> None:
        """tcp_enter_recovery with SACK: cwnd to ssthresh (RFC 6675), resend the first lost hole."""
        self.ssthresh = self.cc.ssthresh(self)
        self.cc.on_loss(self, self.ns.sched.now)
        self.cwnd = self.ssthresh
        self.in_recovery = True
        self.rto_loss = False
        self.recover = self.snd_nxt
        self.rtt_probe = None
        # high_rxt stays: a hole resent in an earlier recovery is not resent again (TCPCB_SACKED_RETRANS)
        if self.lost_hi == 0:
            # tcp_mark_head_lost(sk, 1, 1): three duplicate ACKs without enough SACKed
            first = self.sacked[0][0] if self.sacked else self.sndbuf.size
            self.lost_hi = max(1, min(self._mss_now(), first))
        self._sack_retransmit(1)
        self._arm_rtx()

    def _arm_rtx(self, delay: int = -1) -> None:
        """sk_reset_timer(icsk_retransmit_timer): (re)start the retransmission timer, `delay`
        from now (the RTO with its backoff by default). One timer moved by each arm (LazyTimer),
        as mod_timer moves it: no event per arm."""
        if delay < 0:
            delay = self.rto << self.backoff if self.backoff < 16 else TCP_RTO_MAX
        self.timer_gen += 1
        self.rtx_timer.arm(self.ns.sched.now + delay, self.timer_gen)

    def _rtx_alive(self, gen: int) -> bool:
        """The retransmission timer armed with `gen` is still the current one (not stopped or re-armed)."""
        return gen == self.timer_gen

    def _rtx_timer(self, gen: int) -> None:
        """tcp_retransmit_timer: resend the oldest unacknowledged segment, back off."""
        if gen != self.timer_gen or self.state in (CLOSED, LISTEN, TIME_WAIT):
            return
        if self.snd_una == self.snd_nxt:
            return
        self.retries += 1
        limit = int(self.ns.sysctl.values["net.ipv4.tcp_syn_retries"]) if self.state == SYN_SENT else 15
        if self.retries > limit:
            self._fail(ETIMEDOUT)
            return
        self.backoff += 1
        self.rtt_probe = None
        if self.state not in (SYN_SENT, SYN_RECV):
            # tcp_enter_loss: the window collapses; everything in flight is resent from snd_una
            self.ssthresh = self.cc.ssthresh(self)
            self.cc.on_rto(self, self.ns.sched.now)
            # what was in flight is presumed lost: each partial ACK resends the next hole
            self.in_recovery = self.sndbuf.size > self.mss
            self.recover = self.snd_nxt
            self.dupacks = 0
        else:
            self.ssthresh = max(2, self.cwnd // 2)
        self.cwnd = 1
        if self.state == SYN_SENT:
            self._resend(self.iss, SYN, syn_options=True)
        elif self.state == SYN_RECV:
            self._resend(self.iss, SYN | ACK, syn_options=True)
        elif self.sack_ok:
            # tcp_enter_loss keeps the SACKed marks; everything else in flight is lost and
            # goes again, holes only, in slow start
            self.in_recovery = True
            self.rto_loss = True
            self.high_rxt = 0
            self.lost_hi = (self.snd_nxt - self.snd_una) & 0xFFFFFFFF
            self._sack_retransmit(1)
        else:
            n = min(self.sndbuf.size, self.mss)
            if n:
                self._resend(self.snd_una, ACK | PSH, self.sndbuf.read(0, n))
            elif self.fin_sent:
                self._resend(self.snd_una, FIN | ACK)
        self._arm_rtx(min(self.rto << self.backoff, TCP_RTO_MAX))

    # -- input -------------------------------------------------------------
    def rcv_established(self, ip: IPv4, seg: Tcp) -> None:
        """tcp_rcv_established's fast path (header prediction): on an established connection,
        a segment with only ACK (and PSH) set and no SACK blocks that is either a pure ACK
        moving snd_una forward outside any recovery and SACK scoreboard, or in-order data
        acknowledging nothing new with nothing out of order held. It has exactly the effects
        `rcv` would have, in the same order, with fewer steps; any other segment goes to `rcv`."""
        if seg.flags & _CTL != ACK or seg.sack:
            self.rcv(ip, seg)
            return
        payload = seg.payload
        ack = seg.ack
        una = self.snd_una
        acked = (ack - una) & 0xFFFFFFFF
        if not payload:
            if not (0 < acked <= ((self.snd_nxt - una) & 0xFFFFFFFF) and not self.in_recovery
                    and not self.sacked and not self.lost_hi and not self.high_rxt and not self.fin_sent):
                self.rcv(ip, seg)
                return
            ts = seg.timestamps
            if ts is not None and self.ts_ok:
                self.ts_recent = ts[0]
            # `_ack_rcv` for an ACK that moves snd_una forward by `acked` (within snd_nxt) on a
            # connection outside recovery, with no SACK scoreboard, no FIN sent and no SACK blocks
            # on the ACK: the same effects in the same order, without the cases that cannot arise
            self.snd_wnd = seg.window << self.snd_wscale
            self.sndbuf.drop(acked)
            self.queue_shrunk = True
            self.snd_una = ack
            self.backoff = 0
            self.retries = 0
            ns = self.ns
            now = ns.sched.now
            probe = self.rtt_probe
            if probe is not None and ((probe[0] - ack) & 0xFFFFFFFF) > 0x7FFFFFFF:
                self._rtt_sample(now - probe[1])
                self.rtt_probe = None
            mss = self.mss
            segs = (acked + mss - 1) // mss if mss > 0 else acked + mss - 1   # (the divisor at least 1)
            if segs < 1:
                segs = 1
            self.dupacks = 0
            self.cc.cong_avoid(self, segs, now)
            nc = self.confirm_cache       # ns.neigh_confirm_for(self.raddr), cached per generation
            if nc is not None and nc[0] == ns.generation:
                nb = ns.neigh.entries.get(nc[1])
                if nb is not None:
                    nud = nb.state
                    if nud & NUD_VALID and not nud & _NUD_NOCONFIRM:
                        nb.confirmed = now
            else:
                self._neigh_confirm()
            # data still in flight: the retransmission timer is re-armed (`_arm_rtx`) unless
            # `_push` sends and re-arms it anyway (one arm, not two: the deadline, and its place
            # among equal-time events, are the second arm's either way)
            if ack == self.snd_nxt:
                self.timer_gen += 1
                rearm = False
            else:
                rearm = True
        else:
            if acked or seg.seq != self.rcv_nxt or self.ooo or payload.__class__ is not bytes:
                self.rcv(ip, seg)
                return
            rearm = False
            ts = seg.timestamps
            if ts is not None and self.ts_ok:
                self.ts_recent = ts[0]
            self.snd_wnd = seg.window << self.snd_wscale
            # (tcp_ack: a duplicate of snd_una that carries data is no duplicate ACK)
            if not self.ato_started:
                # tcp_event_data_recv: the first data opens quickack mode
                self.ato_started = True
                self.quick = TCP_MAX_QUICKACKS
            n = len(payload)
            self.rcv_nxt = (self.rcv_nxt + n) & 0xFFFFFFFF
            sched = self.ns.sched
            if self.on_data is not None:
                # _wake: the application runs after the kernel has finished with this segment; left
                # in the event's tail when one is open (ip_local_fast: run then if it is next anyway)
                sched.seq = wseq = sched.seq + 1
                if sched.tail_ok and sched.tail is None:
                    sched.tail = (sched.now, wseq, self.on_data, (self, payload))
                else:
                    heappush(sched.heap, (sched.now, wseq, self.on_data, (self, payload)))
            else:
                self.rcvbuf += payload
            self.last_rcv = sched.now
            self.unacked += n
            # _ack_snd_check(False), inline
            quick = self.quick > 0 and not self.pingpong
            if quick or self.unacked > self.mss:
                if quick:
                    self.quick -= 1
                self._send(self.snd_nxt, ACK)
            elif not self.delack_pending:
                self.delack_pending = True
                self.delack_gen = gen = self.delack_gen + 1
                self.delack_timer.arm(sched.now + TCP_DELACK_MIN, gen)
        if self.sndbuf.size or self.fin_queued or self.in_recovery:
            if not self._push() and rearm:
                self._arm_rtx()       # (_push sent nothing and changed nothing: as if armed before it)
        elif rearm:
            self._arm_rtx()
        if self.queue_shrunk:
            self.queue_shrunk = False
            if self.on_writable is not None:
                self._check_space()

    def rcv(self, ip: IPv4, seg: Tcp) -> None:
        """tcp_rcv_state_process."""
        st = self.state
        flags = seg.flags
        if seg.timestamps is not None and self.ts_ok:
            self.ts_recent = seg.timestamps[0]
        if st == SYN_SENT:
            if flags & ACK and seg.ack != self.snd_nxt:
                if not flags & RST:
                    self._reset_reply(ip, seg)
                return
            if flags & RST:
                if flags & ACK:
                    self._fail(ECONNREFUSED)
                return
            if flags & SYN:
                self.rcv_nxt = (seg.seq + 1) & 0xFFFFFFFF
                self._peer_options(seg)
                if flags & ACK:
                    self.snd_una = seg.ack
                    self.snd_wnd = seg.window   # a SYN's window is never scaled
                    self.state = ESTABLISHED
                    self.timer_gen += 1
                    self.backoff = 0
                    self.retries = 0
                    self._sndbuf_expand()          # tcp_init_buffer_space
                    self._send(self.snd_nxt, ACK)
                    self.ns.neigh_confirm_for(self.raddr)
                    if self.on_connect is not None:
                        self._wake(self.on_connect, self)
                    self._push()
            return
        # synchronized states
        if flags & RST:
            if seq_le(self.rcv_nxt, seg.seq) and seq_lt(seg.seq, (self.rcv_nxt + (1 << 20)) & 0xFFFFFFFF):
                self._fail(ECONNRESET if st != SYN_RECV else ECONNREFUSED)
            return
        if flags & SYN and st != SYN_RECV:
            self._send(self.snd_nxt, ACK)  # challenge ACK
            return
        if not flags & ACK:
            return
        if st == SYN_RECV:
            if seg.ack != self.snd_nxt:
                self._reset_reply(ip, seg)
                return
            self.snd_una = seg.ack
            self.snd_wnd = seg.window << self.snd_wscale
            self.state = ESTABLISHED
            self.ns.mib.tcp["PassiveOpens"] += 1   # tcp_check_req made the child socket
            self.timer_gen += 1
            self.backoff = 0
            self._sndbuf_expand()                  # tcp_init_buffer_space
            lst = self.listener
            if lst is not None and lst.on_accept is not None:
                self._wake(self._accepted, lst.on_accept)
            st = ESTABLISHED
        self._ack_rcv(seg)
        if self.state == CLOSED:
            return
        payload = seg.payload if isinstance(seg.payload, bytes) else bytes(seg.payload)
        if payload or flags & FIN:
            now = self.ns.sched.now
            in_order = seg.seq == self.rcv_nxt
            had_ooo = bool(self.ooo)   # filling a hole is ACKed at once, as is anything out of order
            state_before = self.state
            if in_order:
                if payload and not self.ato_started:
                    # tcp_event_data_recv: the first data opens quickack mode
                    self.ato_started = True
                    self.quick = TCP_MAX_QUICKACKS
                self._data_in(payload, bool(flags & FIN))
                if self.ooo:
                    self._ofo_queue()
            elif seq_lt(self.rcv_nxt, seg.seq) and payload:
                self.ooo[seg.seq] = payload
                if self.sack_ok:
                    self._sack_new_ofo(seg.seq, (seg.seq + len(payload)) & 0xFFFFFFFF)
            elif payload and seq_lt(self.rcv_nxt, (seg.seq + len(payload)) & 0xFFFFFFFF):
                # partly old (a resend cut on other boundaries): take what is new
                in_order = True
                self._data_in(payload[(self.rcv_nxt - seg.seq) & 0xFFFFFFFF:], bool(flags & FIN))
                if self.ooo:
                    self._ofo_queue()
            self.last_rcv = now
            self.unacked += len(payload)
            fin_closes_wait = flags & FIN and state_before in (FIN_WAIT1, FIN_WAIT2)
            if flags & FIN and state_before == ESTABLISHED:
                self.pingpong = True   # tcp_fin: entering CLOSE_WAIT means interactive mode
            self._ack_snd_check(not in_order or had_ooo or bool(fin_closes_wait))
        if self.sndbuf.size or self.fin_queued or self.in_recovery:
            self._push()   # (with nothing queued and no recovery, tcp_write_xmit has nothing to do)
        if self.queue_shrunk:
            self.queue_shrunk = False
            if self.on_writable is not None:
                self._check_space()

    def _ofo_queue(self) -> None:
        """tcp_ofo_queue: what the out-of-order queue now continues, then tcp_sack_remove."""
        ooo = self.ooo
        nxt = self.rcv_nxt
        for seq in sorted(ooo, key=lambda q: ((q - nxt + 0x80000000) & 0xFFFFFFFF)):
            skip = (self.rcv_nxt - seq) & 0xFFFFFFFF
            if skip >= 0x80000000:
                break                              # a hole remains before this one
            data = ooo.pop(seq)
            if skip < len(data):
                self._data_in(data if not skip else data[skip:], False)
        if self.rcv_sacks:
            if not ooo:
                self.rcv_sacks = []
            else:
                self.rcv_sacks = [b for b in self.rcv_sacks if seq_lt(self.rcv_nxt, b[0])]

    def _sack_new_ofo(self, seq: int, end: int) -> None:
        """tcp_sack_new_ofo_skb: extend the block this segment touches and move it first,
        or open a new first block, forgetting the oldest beyond TCP_NUM_SACKS."""
        sacks = self.rcv_sacks
        for i, sp in enumerate(sacks):
            if seq_le(seq, sp[1]) and seq_le(sp[0], end):       # tcp_sack_extend
                if seq_lt(seq, sp[0]):
                    sp[0] = seq
                if seq_lt(sp[1], end):
                    sp[1] = end
                if i:
                    del sacks[i]
                    sacks.insert(0, sp)
                # tcp_sack_maybe_coalesce: the grown block may now reach others
                j = 1
                while j < len(sacks):
                    o = sacks[j]
                    if seq_le(sp[0], o[1]) and seq_le(o[0], sp[1]):
                        if seq_lt(o[0], sp[0]):
                            sp[0] = o[0]
                        if seq_lt(sp[1], o[1]):
                            sp[1] = o[1]
                        del sacks[j]
                    else:
                        j += 1
                return
        if len(sacks) >= TCP_NUM_SACKS:
            del sacks[-1]
        sacks.insert(0, [seq, end])

    def _ack_snd_check(self, now_please: bool) -> None:
        """__tcp_ack_snd_check: ACK now (quickack, two full segments, out of order) or delay it."""
        quick = self.quick > 0 and not self.pingpong
        if now_please or quick or self.unacked > self.mss:
            if quick:
                self.quick -= 1
            self._send(self.snd_nxt, ACK)
            return
        if not self.delack_pending:
            self.delack_pending = True
            self.delack_gen += 1
            self.delack_timer.arm(self.ns.sched.now + TCP_DELACK_MIN, self.delack_gen)

    def _delack_timer(self, gen: int) -> None:
        """tcp_delack_timer: the ACK nothing else carried."""
        if gen != self.delack_gen or not self.delack_pending or self.state in (CLOSED, LISTEN):
            return
        self._send(self.snd_nxt, ACK)

    def _delack_alive(self, gen: int) -> bool:
        """The delayed-ACK timer armed with `gen` would still send (no ACK has gone since)."""
        return gen == self.delack_gen and self.delack_pending

    def _wake(self, fn: Callable[..., None], *args: Any) -> None:
        """Wake the application: it runs after the kernel has finished with this segment
        (an event now, pushed as Scheduler.at pushes it: left in the event's tail when one is open)."""
        sched = self.ns.sched
        sched.seq = seq = sched.seq + 1
        if sched.tail_ok and sched.tail is None:
            sched.tail = (sched.now, seq, fn, args)
            return
        heappush(sched.heap, (sched.now, seq, fn, args))

    def _accepted(self, on_accept: Callable[[TcpSocket], None]) -> None:
        """accept(2) returned this socket: the application installs its callbacks,
        then reads what the kernel queued meanwhile. Segments that arrive between
        the handshake's last ACK and accept() wait on the receive queue (the ACK
        and the first data often arrive together on a link without a rate), and
        a FIN already received reads as end of file, as tcp_recvmsg returns them."""
        on_accept(self)
        if self.rcvbuf and self.on_data is not None:
            data = bytes(self.rcvbuf)
            self.rcvbuf.clear()
            self.on_data(self, data)
        if self.peer_closed and self.on_close is not None:
            self.on_close(self)

    def _ack_rcv(self, seg: Tcp) -> None:
        """tcp_ack: advance snd_una, take an RTT sample, open the congestion window."""
        ack = seg.ack
        self.snd_wnd = seg.window << self.snd_wscale
        sack = self.sack_ok and seg.sack
        if ack == self.snd_una and self.state in (ESTABLISHED, CLOSE_WAIT, FIN_WAIT1, LAST_ACK):
            if sack:
                self._sacktag(seg.sack)
            self._dupack(seg)
        if seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_nxt):
            acked = (ack - self.snd_una) & 0xFFFFFFFF
            fin_acked = self.fin_sent and ack == self.snd_nxt
            data_acked = acked - (1 if fin_acked else 0)
            if data_acked > 0:
                self.sndbuf.drop(data_acked)
                self.queue_shrunk = True
            self.snd_una = ack
            sacked_before = self.sacked_bytes
            if self.sacked or self.lost_hi or self.high_rxt:
                self._sack_advance(acked)
            if sack:
                self._sacktag(seg.sack)
            # what this ACK delivered (tp->delivered): data SACKed earlier is not counted twice
            data_acked += self.sacked_bytes - sacked_before
            self.backoff = 0
            self.retries = 0
            if self.rtt_probe is not None and seq_lt(self.rtt_probe[0], ack):
                self._rtt_sample(self.ns.sched.now - self.rtt_probe[1])
                self.rtt_probe = None
            segs = max(1, (data_acked + self.mss - 1) // max(1, self.mss))
            self.dupacks = 0
            if self.in_recovery:
                if seq_le(self.recover, ack):
                    self.in_recovery = False          # full ACK: deflate the window
                    if not (self.sack_ok and self.rto_loss):
                        self.cwnd = max(self.ssthresh, 2)
                    if self.sack_ok:
                        # after a timeout, slow start just goes on (TCP_CA_Loss → Open)
                        self.rto_loss = False
                        self.lost_hi = self._sack_lost_boundary()
                        if self.lost_hi:
                            self._enter_sack_recovery()   # a new loss above the recovery point
                elif self.sack_ok:
                    # the pipe decides what goes next (_push); after a timeout, slow start
                    if self.rto_loss:
                        self.cc.cong_avoid(self, segs, self.ns.sched.now)
                else:
                    # NewReno partial ACK: the next hole is lost too; resend it at once
                    self.cwnd = max(self.cwnd - segs + 1, 1)
                    n = min(self.sndbuf.size, self.mss)
                    if n:
                        self._resend(self.snd_una, ACK, self.sndbuf.read(0, n))
            elif self.sack_ok and self.lost_hi and self.sndbuf.size:
                self._enter_sack_recovery()           # this ACK's SACK blocks reveal a loss
            else:
                self.cc.cong_avoid(self, segs, self.ns.sched.now)
            self.ns.neigh_confirm_for(self.raddr)
            if self.snd_una == self.snd_nxt:
                self.timer_gen += 1
            else:
                self._arm_rtx()
            if fin_acked:
                if self.state == FIN_WAIT1:
                    self.state = FIN_WAIT2
                elif self.state == CLOSING:
                    self._time_wait()
                elif self.state == LAST_ACK:
                    self._done()

    def _neigh_confirm(self) -> None:
        """dst_confirm_neigh for the connection's peer (`neigh_confirm_for`), and the neighbour key it
        confirms kept for the namespace's generation: the input route neigh_confirm_for finds (the one
        ip_rcv caches) stays while the generation does, unless policy routing looks at more than the
        destination (fib.flow_keys: nothing kept)."""
        ns = self.ns
        ns.neigh_confirm_for(self.raddr)
        r = ns.route_cache.get(self.raddr)
        if r and r.dev is not None and not ns.fib.flow_keys:
            self.confirm_cache = (ns.generation, (r.dev.ifindex, r.gw if r.gw is not None else self.raddr))
        else:
            self.confirm_cache = None

    def _dupack(self, seg: Tcp) -> None:
        """tcp_fastretrans_alert: three duplicate ACKs mean a lost segment (RFC 5681 3.2)."""
        if self.snd_una == self.snd_nxt or (seg.payload and len(seg.payload)) or seg.flags & (SYN | FIN):
            return
        self.dupacks += 1
        if self.sack_ok:
            # tcp_time_to_recover: enough SACKed above the head (or, SACK blocks missing,
            # three duplicates); in recovery the pipe, not inflation, releases segments
            if not self.in_recovery and (self.lost_hi or self.dupacks == TCP_FASTRETRANS_THRESH) \
                    and self.sndbuf.size:
                self._enter_sack_recovery()
            return
        if self.in_recovery:
            self.cwnd += 1                              # window inflation
            return
        if self.dupacks == 3 and self.sndbuf.size:
            self.ssthresh = self.cc.ssthresh(self)
            self.cc.on_loss(self, self.ns.sched.now)
            self.cwnd = self.ssthresh + 3
            self.in_recovery = True
            self.recover = self.snd_nxt
            self.rtt_probe = None
            n = min(self.sndbuf.size, self.mss)
            self._resend(self.snd_una, ACK, self.sndbuf.read(0, n))
            self._arm_rtx()

    def _rtt_sample(self, rtt: int) -> None:
        """tcp_rtt_estimator + tcp_set_rto (RFC 6298, Linux's 200 ms floor)."""
        if self.srtt == 0:
            self.srtt = rtt
            self.rttvar = rtt // 2
        else:
            self.rttvar = (3 * self.rttvar + abs(self.srtt - rtt)) // 4
            self.srtt = (7 * self.srtt + rtt) // 8
        self.rto = max(TCP_RTO_MIN, self.srtt + max(4 * self.rttvar, TCP_RTO_MIN))

    def _data_in(self, payload: bytes, fin: bool) -> None:
        if payload:
            self.rcv_nxt = (self.rcv_nxt + len(payload)) & 0xFFFFFFFF
            if self.on_data is not None:
                self._wake(self.on_data, self, payload)
            else:
                self.rcvbuf += payload
        if fin:
            self.rcv_nxt = (self.rcv_nxt + 1) & 0xFFFFFFFF
            self.peer_closed = True
            if self.state in (ESTABLISHED, SYN_RECV):
                self.state = CLOSE_WAIT
            elif self.state == FIN_WAIT1:
                self.state = CLOSING if self.snd_una != self.snd_nxt else TIME_WAIT
                if self.state == TIME_WAIT:
                    self._time_wait()
            elif self.state == FIN_WAIT2:
                self._time_wait()
            if self.on_close is not None:
                self._wake(self.on_close, self)

    def _peer_options(self, seg: Tcp) -> None:
        if seg.mss:
            self.mss = min(self.ns_mss(), seg.mss)
        if seg.wscale is not None:
            self.snd_wscale = min(seg.wscale, 14)
        else:
            self.snd_wscale = 0
            self.rcv_wscale = 0
        # tcp_parse_options takes SACK-permitted from a SYN only while the sysctl is on
        self.sack_ok = seg.sack_perm and self._sysctl_sack()
        ts = seg.timestamps
        self.ts_ok = ts is not None
        if ts is not None:
            self.ts_recent = ts[0]
            self.mss -= 12

    def _time_wait(self) -> None:
        self.state = TIME_WAIT
        self.timer_gen += 1
        self.ns.sched.after(TCP_TIMEWAIT_LEN, self._tw_expire, self.timer_gen)

    def _tw_expire(self, gen: int) -> None:
        if gen == self.timer_gen:
            self._done()

    def _done(self) -> None:
        """tcp_done: the socket leaves the tables (AttemptFails for a connect that never got there;
        tcp_set_state(TCP_CLOSE) from ESTABLISHED or CLOSE_WAIT: EstabResets)."""
        was = self.state
        if was == SYN_SENT or (was == SYN_RECV and self.listener is None):
            self.ns.mib.tcp["AttemptFails"] += 1
        elif was in (ESTABLISHED, CLOSE_WAIT):
            self.ns.mib.tcp["EstabResets"] += 1
        self.state = CLOSED
        self.timer_gen += 1
        if self.table.tcp_conns.get(self.key()) is self:
            del self.table.tcp_conns[self.key()]

    def _fail(self, err: int) -> None:
        self.error = err
        was = self.state
        self._done()
        if self.on_error is not None and was != CLOSED:
            self._wake(self.on_error, self, err)

    def icmp_error(self, err: int, hard: bool) -> None:
        """tcp_v4_err: during the handshake any destination-unreachable ends the connect; on a
        connection it is only sk_err_soft (without IP_RECVERR): the retransmit timer goes on,
        so the connection lives through an outage shorter than its retries."""
        if self.state in (SYN_SENT, SYN_RECV):
            self._fail(err)
        elif hard:
            self.soft_error = err

    def _reset_reply(self, ip: IPv4, seg: Tcp) -> None:
        send_reset(self.ns, ip, seg)


def send_reset(ns: Any, ip: IPv4, seg: Tcp, meta: Any = None, anysrc: bool = False) -> None:
    """tcp_v4_send_reset: answer a segment nobody wants (`meta`: what the reset starts with; `anysrc`:
    nf_send_reset's, from whatever address the segment was sent to, ip_route_me_harder's FLOWI_FLAG_ANYSRC)."""
    if seg.flags & RST:
        return
    if seg.flags & ACK:
        rst = Tcp(seg.dport, seg.sport, seg.ack, 0, RST, 0)
    else:
        plen = len(seg.payload) if isinstance(seg.payload, bytes) else 0
        ack = (seg.seq + plen + (1 if seg.flags & SYN else 0) + (1 if seg.flags & FIN else 0)) & 0xFFFFFFFF
        rst = Tcp(seg.dport, seg.sport, 0, ack, RST | ACK, 0)
    rt = ns.ip_route_output(ip.src, None, ip.dst, anysrc=anysrc)
    if isinstance(rt, int):
        return
    if ns.world.tracer.on:
        ns.trace("tcp_v4_send_reset", f"no socket for {ns.fmt_ip(ip.dst)}:{seg.dport}: RST to {ns.fmt_ip(ip.src)}:{seg.sport}",
                 out_dev=rt.dev.name)
    if not anysrc:   # tcp_v4_send_reset counts; netfilter's REJECT (nf_send_reset) does not
        mib = ns.mib.tcp
        mib["OutSegs"] += 1
        mib["OutRsts"] += 1
    ns.ip_local_out(IPv4(ip.dst, ip.src, IPPROTO_TCP, rst, ttl=ns.default_ttl(), flags=IP_DF), rt, meta)


def _tw_accepts_syn(sk: TcpSocket, seg: Tcp) -> bool:
    """A SYN to a TIME_WAIT socket starts a new connection when its sequence number
    is past what the old one received, or its timestamp is newer."""
    if seq_lt(sk.rcv_nxt, seg.seq):
        return True
    ts = seg.timestamps
    return ts is not None and sk.ts_ok and ((ts[0] - sk.ts_recent) & 0xFFFFFFFF) < 0x80000000 \
        and ts[0] != sk.ts_recent


def tcp_v4_rcv(ns: Any, dev: Any, ip: IPv4, rtype: str = "local") -> None:
    """tcp_v4_rcv, TCP's inet_protos handler (and ip_rcv's early demux): a segment to a local
    address (`rtype`; TCP takes no broadcast) goes to the established socket, else the listener,
    else it is answered with a RST."""
    if rtype != "local":
        return
    seg = ip.payload
    if not isinstance(seg, Tcp):
        return
    table: SocketTable = ns.sockets
    ns.mib.tcp["InSegs"] += 1
    sk = table.tcp_conns.get((ip.dst, seg.dport, ip.src, seg.sport))
    if sk is not None:
        st = sk.state
        if st == ESTABLISHED and ns.world.fastpath:
            sk.rcv_established(ip, seg)     # (off with NETPLEX_FASTPATH=0: the same, the long way)
            return
        if st == TIME_WAIT and seg.flags & (SYN | RST | ACK) == SYN and _tw_accepts_syn(sk, seg):
            # tcp_timewait_state_process → TCP_TW_SYN: a newer SYN ends TIME_WAIT
            # and goes to the listener as a new connection
            sk._done()
        else:
            sk.rcv(ip, seg)
            return
    lst = table.tcp_listen.get(seg.dport)
    if lst is not None and (not lst.laddr or lst.laddr == ip.dst):
        if seg.flags & RST:
            return
        if seg.flags & ACK:
            send_reset(ns, ip, seg)
            return
        if not seg.flags & SYN:
            return
        child = TcpSocket(table)
        child.listener = lst
        child.sk_task = lst.sk_task          # sk_clone_lock copies sk_cgrp_data
        child.laddr, child.lport, child.raddr, child.rport = ip.dst, seg.dport, ip.src, seg.sport
        child.on_data = None
        child.rcv_nxt = (seg.seq + 1) & 0xFFFFFFFF
        child.iss = ns.world.rng.getrandbits(32)
        child.snd_una = child.iss
        child.snd_nxt = (child.iss + 1) & 0xFFFFFFFF
        child.mss = 1460
        child._peer_options(seg)
        child.snd_wnd = seg.window
        child.state = SYN_RECV
        table.tcp_conns[child.key()] = child
        child._send(child.iss, SYN | ACK, syn_options=True)
        child._arm_rtx()
        return
    send_reset(ns, ip, seg)
