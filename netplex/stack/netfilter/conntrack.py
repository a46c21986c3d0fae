"""Connection tracking (net/netfilter/nf_conntrack_core.c, nf_conntrack_proto_{tcp,udp,icmp,generic}.c).

One `ConntrackTable` per namespace, created when something in that namespace
needs it (`nf_ct_netns_get`: a nat chain, a state/conntrack/connmark match, a
CT target) — as the kernel registers its conntrack hooks per netns only
then, so a namespace without such rules keeps the one-dict-test fast path.

Hooks (include/uapi/linux/netfilter_ipv4.h priorities):

    PREROUTING -200  ipv4_conntrack_in     find or create the entry, set meta.ct / meta.ctinfo
    OUTPUT     -200  ipv4_conntrack_local  the same for locally generated packets
    INPUT      INT_MAX  ipv4_confirm       put a new entry in the table (and emit [NEW])
    POSTROUTING INT_MAX ipv4_confirm

Tuples are `(src, dst, proto, sport, dport)` (core.ConnTrack): TCP/UDP ports,
ICMP the echo id as `sport` and `(type << 8) | code` as `dport` (the reply
tuple carries the reply type, as `conntrack -L` prints it), other protocols
0/0 (nf_conntrack_proto_generic). An ICMP error whose quoted packet belongs
to a tracked flow is RELATED (icmp_error_message). TCP follows the kernel's
state table (tcp_conntracks[2][6][10]) with its default timeouts and
tcp_in_window's window tracking (`TcpSeen` per direction: the highest
sequence sent, the window edge, the largest window, the scale): a segment
beyond the receiver's window, or acknowledging data never sent, is INVALID;
a retransmission of data already acknowledged passes but changes nothing
(NFCT_TCP_IGNORE). net.netfilter.nf_conntrack_tcp_be_liberal=1 lets every
segment through (as do connections picked up mid-stream); with
nf_conntrack_tcp_loose=0 a connection is only tracked from its SYN. UDP is
30 s until a reply, then 120 s and ASSURED once the flow is older than 2 s
(the "stream" rule of nf_conntrack_udp_packet); ICMP 30 s; generic 600 s.

Expiry runs on the simulated clock, lazily: an entry whose timeout has
passed is destroyed when a lookup, a listing or a NAT clash check meets
it — what a user can observe is the same as with the kernel's GC worker.

Events (`conntrack -E` style) go to the trace when tracing is on:
`[NEW] tcp      6 120 SYN_SENT src=… [UNREPLIED] src=…`. Each carries the
event bits of nf_conntrack_ecache (IPCT_NEW, IPCT_REPLY, …); a connection
made through a `CT --ctevents/--expevents` template reports only the events
in its masks (nf_ct_ecache_ext_add: with only --expevents set, none).

Helpers and expectations (nf_conntrack_helper.c, nf_conntrack_expect.c,
nf_conntrack_seqadj.c). A connection gets a helper from its CT template
(`-j CT --helper ftp`; never by port: nf_conntrack_helper=0). At the confirm
hook (nf_confirm) the helper reads the packet and may add an `Expectation`
(netplex.stack.netfilter.helpers); a new connection whose tuple an
expectation covers is RELATED to its master (init_conntrack), runs the
expectation's `expectfn` (NAT: nf_nat_follow_master) and consumes it. After
the helper, a connection whose payload NAT resized has its sequence numbers
shifted (nf_ct_seq_adjust), also in SACK blocks.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IP_MF, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP
from netplex.packet.tcp import ACK, FIN, PSH, RST, SYN, URG
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.netfilter.core import (
    IP_CT_ESTABLISHED,
    IP_CT_ESTABLISHED_REPLY,
    IP_CT_IS_REPLY,
    IP_CT_NEW,
    IP_CT_RELATED,
    IP_CT_RELATED_REPLY,
    IP_CT_UNTRACKED,
    IPS_ASSURED,
    IPS_CONFIRMED,
    IPS_DST_NAT,
    IPS_DYING,
    IPS_EXPECTED,
    IPS_SEEN_REPLY,
    IPS_SRC_NAT,
    NF_ACCEPT,
    NF_IP_PRI_CONNTRACK,
    NF_IP_PRI_CONNTRACK_CONFIRM,
    TABLE_INIT,
    PacketCtx,
    netfilter_of,
)

__all__ = ["Conn", "ConntrackTable", "CtTemplate", "conntrack_of", "nf_ct_netns_get", "invert",
           "DIR_ORIGINAL", "DIR_REPLY", "TCP_STATE_NAMES", "format_conn", "packet_tuple", "SeqAdj",
           "IPCT_NEW", "IPCT_RELATED", "IPCT_DESTROY", "IPCT_REPLY", "IPCT_ASSURED", "IPCT_PROTOINFO",
           "IPCT_HELPER", "IPCT_MARK", "IPCT_SEQADJ", "IPCT_SECMARK", "IPEXP_NEW", "IPEXP_DESTROY"]

NSEC_PER_SEC = 1_000_000_000
DIR_ORIGINAL, DIR_REPLY = 0, 1

# -- TCP (nf_conntrack_proto_tcp.c) ------------------------------------------
(sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2) = range(10)
sIV = 10   # TCP_CONNTRACK_MAX: invalid
sIG = 11   # TCP_CONNTRACK_IGNORE
TCP_STATE_NAMES = ("NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
                   "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2")
TCP_SYN_SET, TCP_SYNACK_SET, TCP_FIN_SET, TCP_ACK_SET, TCP_RST_SET, TCP_NONE_SET = range(6)

# tcp_conntracks[dir][index][old state]; columns sNO sSS sSR sES sFW sCW sLA sTW sCL sS2
TCP_CONNTRACKS = (
    (   # ORIGINAL
        (sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2),   # syn
        (sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR),   # synack
        (sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV),   # fin
        (sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV),   # ack
        (sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL),   # rst
        (sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV),   # none
    ),
    (   # REPLY
        (sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2),   # syn
        (sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR),   # synack
        (sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV),   # fin
        (sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG),   # ack
        (sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL),   # rst
        (sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV),   # none
    ),
)
# Default timeouts, seconds (tcp_timeouts[]), then RETRANS and UNACK.
TCP_TIMEOUTS = (0, 120, 60, 432000, 120, 60, 30, 120, 10, 120)
TCP_TIMEOUT_UNACK = 300
# tcp_valid_flags: the flag combinations tcp_error accepts (others are INVALID).
_TH = FIN | SYN | RST | PSH | ACK | URG
TCP_VALID_FLAGS = frozenset((
    SYN, SYN | URG, SYN | ACK, RST, RST | ACK, RST | ACK | PSH, FIN | ACK, FIN | ACK | URG, ACK,
    ACK | URG, ACK | PSH, ACK | PSH | URG, FIN | ACK | PSH, FIN | ACK | PSH | URG,
))

UDP_TIMEOUT, UDP_TIMEOUT_STREAM, UDP_STREAM_AFTER = 30, 120, 2
ICMP_TIMEOUT = 30
GENERIC_TIMEOUT = 600

# ICMP: the reply type of each query type (invmap in nf_conntrack_proto_icmp.c)
ICMP_INVMAP = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}
ICMP_VALID_NEW = frozenset((8, 13, 15, 17))
ICMP_ERRORS = frozenset((3, 4, 5, 11, 12))

# conntrack event bits (include/uapi/linux/netfilter/nf_conntrack_common.h, enum ip_conntrack_events)
(IPCT_NEW, IPCT_RELATED, IPCT_DESTROY, IPCT_REPLY, IPCT_ASSURED, IPCT_PROTOINFO, IPCT_HELPER, IPCT_MARK,
 IPCT_SEQADJ, IPCT_SECMARK) = (1 << i for i in range(10))
IPEXP_NEW, IPEXP_DESTROY = 1 << 0, 1 << 1    # enum ip_conntrack_expect_events
CT_EVENTS_ALL = 0xFFFF
IPS_SEQ_ADJUST = 1 << 6    # ct->status: the payload was resized, sequence numbers are shifted

PROTO_NAMES = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_ICMP: "icmp", 47: "gre", 132: "sctp",
               33: "dccp", 136: "udplite"}

Tuple = tuple[int, int, int, int, int]


# ip_ct_tcp_state.flags (include/uapi/linux/netfilter/nf_conntrack_tcp.h)
IP_CT_TCP_FLAG_WINDOW_SCALE = 0x01
IP_CT_TCP_FLAG_SACK_PERM = 0x02
IP_CT_TCP_FLAG_CLOSE_INIT = 0x04
IP_CT_TCP_FLAG_BE_LIBERAL = 0x08
IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED = 0x10
IP_CT_TCP_FLAG_MAXACK_SET = 0x20
MAXACKWINCONST = 66000
_WIN_ACCEPT, _WIN_IGNORE, _WIN_INVALID = 0, 1, 2    # enum nf_ct_tcp_action


class TcpSeen:
    """struct ip_ct_tcp_state: what one direction of a TCP connection has shown."""

    __slots__ = ("td_end", "td_maxend", "td_maxwin", "td_maxack", "td_scale", "flags")

    def __init__(self) -> None:
        self.td_end = 0        # the highest sequence number sent (+ its length)
        self.td_maxend = 0     # the highest the receiver's window allowed
        self.td_maxwin = 0     # the largest window (plus SACKed ranges) sent; 0: not seen yet
        self.td_maxack = 0     # the highest ACK sent
        self.td_scale = 0      # the window scale this direction announced
        self.flags = 0

    def init_sender(self, receiver: TcpSeen, seg: Any, end: int, d: int) -> None:
        """tcp_init_sender: a SYN or SYN-ACK sets the direction's window and options (tcp_options)."""
        win = seg.window
        self.td_end = self.td_maxend = end
        self.td_maxwin = win or 1
        if seg.wscale is not None:
            self.flags |= IP_CT_TCP_FLAG_WINDOW_SCALE
            self.td_scale = min(seg.wscale, 14)
        if seg.sack_perm:
            self.flags |= IP_CT_TCP_FLAG_SACK_PERM
        # RFC 1323: window scaling only if both sides sent the option
        if d == DIR_REPLY and not (self.flags & receiver.flags & IP_CT_TCP_FLAG_WINDOW_SCALE):
            self.td_scale = receiver.td_scale = 0


def _before(a: int, b: int) -> bool:
    return ((a - b) & 0xFFFFFFFF) >= 0x80000000


def invert(t: Tuple) -> Tuple:
    """nf_ct_invert_tuple."""
    src, dst, proto, sport, dport = t
    if proto == IPPROTO_ICMP:
        ty = dport >> 8
        return (dst, src, proto, sport, (ICMP_INVMAP.get(ty, ty) << 8) | (dport & 0xFF))
    return (dst, src, proto, dport, sport)


def packet_tuple(ip: Any) -> Tuple | None:
    """nf_ct_get_tuple for the packet's own header; None when it cannot be tracked as is."""
    proto = ip.proto
    p = ip.payload
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        if ip.frag or ip.flags & IP_MF or isinstance(p, (bytes, bytearray)):
            return None
        return (ip.src, ip.dst, proto, p.sport, p.dport)
    if proto == IPPROTO_ICMP:
        if not isinstance(p, Icmp):
            return None
        return (ip.src, ip.dst, proto, p.id, (p.type << 8) | p.code)
    return (ip.src, ip.dst, proto, 0, 0)


def quoted_tuple(data: bytes) -> Tuple | None:
    """The tuple of the datagram an ICMP error quotes (icmp_error_message's inner tuple)."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 15) * 4
    src = int.from_bytes(data[12:16], "big")
    dst = int.from_bytes(data[16:20], "big")
    proto = data[9]
    l4 = data[ihl:]
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        if len(l4) < 4:
            return None
        return (src, dst, proto, int.from_bytes(l4[0:2], "big"), int.from_bytes(l4[2:4], "big"))
    if proto == IPPROTO_ICMP:
        if len(l4) < 8 or l4[0] in ICMP_ERRORS:
            return None
        return (src, dst, proto, int.from_bytes(l4[4:6], "big"), (l4[0] << 8) | l4[1])
    return (src, dst, proto, 0, 0)


class CtTemplate:
    """What the CT target attaches in the raw table (nf_ct_tmpl): a zone, or notrack; a helper
    (`helper`, a helpers.Helper) and event masks (`ctmask`/`expmask`, 0/0: not set) for the
    connection it starts."""

    __slots__ = ("table", "zone", "notrack", "helper", "ctmask", "expmask")

    def __init__(self, table: ConntrackTable | None, zone: int, notrack: bool, helper: Any = None,
                 ctmask: int = 0, expmask: int = 0) -> None:
        self.table = table
        self.zone = zone
        self.notrack = notrack
        self.helper = helper
        self.ctmask = ctmask
        self.expmask = expmask


class SeqAdj:
    """struct nf_ct_seqadj, one per direction: from `correction_pos` on, sequence numbers
    move by `offset_after` (before it by `offset_before`)."""

    __slots__ = ("correction_pos", "offset_after", "offset_before")

    def __init__(self) -> None:
        self.correction_pos = 0
        self.offset_before = 0
        self.offset_after = 0

    def offset(self, seq: int) -> int:
        """The offset for a segment starting at `seq` (nf_ct_seq_adjust's choice)."""
        if _seq_after(seq, self.correction_pos):
            return self.offset_after
        return self.offset_before


def _seq_after(a: int, b: int) -> bool:
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


class Conn:
    """struct nf_conn: one tracked connection (follows core.ConnTrack)."""

    __slots__ = ("table", "tuple_orig", "tuple_reply", "status", "mark", "zone", "timeout", "proto",
                 "tcp_state", "created", "unacked", "nat_masq_index", "secmark", "helper",
                 "help", "master", "expecting", "ctmask", "expmask", "seqadj", "children", "seen",
                 "last_index", "last_dir", "last_seq", "last_ack", "last_end", "last_win")

    def __init__(self, table: ConntrackTable, orig: Tuple, zone: int, now: int) -> None:
        self.table = table
        self.tuple_orig = orig
        self.tuple_reply = invert(orig)
        self.status = 0
        self.mark = 0
        self.zone = zone
        self.timeout = now
        self.proto = orig[2]
        self.tcp_state = sNO
        self.created = now
        self.unacked = [False, False]
        self.nat_masq_index = 0
        self.secmark = 0
        self.helper: Any = None         # nf_conn_help->helper (helpers.Helper)
        self.help: Any = None           # the helper's per-connection state (nf_ct_ftp_master, …)
        self.master: Conn | None = None  # the connection whose expectation this one fulfilled
        self.expecting = 0              # expectations this connection has pending
        self.ctmask = CT_EVENTS_ALL      # nf_conntrack_ecache ctmask / expmask
        self.expmask = CT_EVENTS_ALL
        self.seqadj: tuple[SeqAdj, SeqAdj] | None = None
        self.children = 0               # tracked connections whose master this is (each holds a use)
        self.seen: tuple[TcpSeen, TcpSeen] | None = None   # TCP window tracking, per direction
        # the last segment in the window (ip_ct_tcp last_*): its flags' index, direction and edges
        self.last_index = TCP_NONE_SET
        self.last_dir = 0
        self.last_seq = self.last_ack = self.last_end = self.last_win = 0

    @property
    def proto_state(self) -> str:
        return TCP_STATE_NAMES[self.tcp_state] if self.proto == IPPROTO_TCP else ""

    def tuple(self, d: int) -> Tuple:
        return self.tuple_orig if d == DIR_ORIGINAL else self.tuple_reply

    def __repr__(self) -> str:
        return f"<Conn {format_conn(self, self.table.ns.sched.now)}>"


def _ip(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def _tuple_text(t: Tuple) -> str:
    src, dst, proto, sport, dport = t
    s = f"src={_ip(src)} dst={_ip(dst)} "
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        s += f"sport={sport} dport={dport} "
    elif proto == IPPROTO_ICMP:
        s += f"type={dport >> 8} code={dport & 0xFF} id={sport} "
    return s


def format_conn(ct: Conn, now: int, event: str = "") -> str:
    """One line as conntrack-tools 1.4.7 prints it (`-L`, or `-E` with an event name)."""
    proto = ct.proto
    name = PROTO_NAMES.get(proto, "unknown")
    remaining = max(0, ct.timeout - now) // NSEC_PER_SEC
    out = f"{name:<8} {proto} "
    if event:
        out = f"{'[' + event + ']':>9} " + out
    if not event or event != "DESTROY":
        out += f"{remaining} "
    if proto == IPPROTO_TCP:
        out += TCP_STATE_NAMES[ct.tcp_state] + " "
    out += _tuple_text(ct.tuple_orig)
    if not ct.status & IPS_SEEN_REPLY:
        out += "[UNREPLIED] "
    out += _tuple_text(ct.tuple_reply)
    if ct.status & IPS_ASSURED:
        out += "[ASSURED] "
    if not event:
        out += f"mark={ct.mark} "
    elif ct.mark:
        out += f"mark={ct.mark} "   # an event carries the mark only when one is set
    if ct.zone:
        out += f"zone={ct.zone} "
    if ct.helper is not None:
        out += f"helper={ct.helper.name} "
    if event:
        return out.rstrip()
    return out + f"use={1 + ct.children}"


class ConntrackTable:
    """The conntrack hash of one namespace (net->ct)."""

    def __init__(self, ns: Any) -> None:
        self.ns = ns
        self.hash: dict[tuple[int, Tuple], tuple[Conn, int]] = {}
        self.conns: dict[Conn, None] = {}      # confirmed entries, in creation order
        self.users = 0
        self.hooked = False
        self.on_destroy: list[Callable[[Conn], None]] = []
        self.expects: list[Any] = []           # pending expectations (helpers.Expectation), oldest first
        self._gen = -1
        self._rules_use = False

    # -- lifecycle -----------------------------------------------------------------
    def now(self) -> int:
        return self.ns.sched.now

    def lookup(self, zone: int, t: Tuple) -> tuple[Conn, int] | None:
        """__nf_conntrack_find_get: the entry holding tuple `t` and which direction; expired ones go."""
        hit = self.hash.get((zone, t))
        if hit is not None and hit[0].timeout <= self.ns.sched.now:
            self.destroy(hit[0])
            return None
        return hit

    def insert(self, ct: Conn) -> None:
        """__nf_conntrack_confirm: both directions into the hash."""
        ct.status |= IPS_CONFIRMED
        self.hash[(ct.zone, ct.tuple_orig)] = (ct, DIR_ORIGINAL)
        self.hash[(ct.zone, ct.tuple_reply)] = (ct, DIR_REPLY)
        self.conns[ct] = None
        if ct.master is not None:
            ct.master.children += 1
        self.event(ct, "NEW", IPCT_RELATED if ct.master is not None else IPCT_NEW)

    def destroy(self, ct: Conn, event: bool = True) -> None:
        """nf_ct_delete: out of the hash, [DESTROY] event."""
        if ct not in self.conns:
            ct.status |= IPS_DYING
            return
        del self.conns[ct]
        for key in ((ct.zone, ct.tuple_orig), (ct.zone, ct.tuple_reply)):
            hit = self.hash.get(key)
            if hit is not None and hit[0] is ct:
                del self.hash[key]
        ct.status |= IPS_DYING
        if ct.master is not None:
            ct.master.children -= 1
        if ct.expecting:
            for exp in [e for e in self.expects if e.master is ct]:
                self.unexpect(exp)       # nf_ct_remove_expectations
        if event:
            self.event(ct, "DESTROY", IPCT_DESTROY)
        for fn in self.on_destroy:
            fn(ct)

    def gc(self) -> None:
        """gc_worker: drop every expired entry."""
        now = self.ns.sched.now
        for ct in [c for c in self.conns if c.timeout <= now]:
            self.destroy(ct)

    def entries(self) -> list[Conn]:
        self.gc()
        return list(self.conns)

    def flush(self) -> int:
        n = 0
        for ct in list(self.conns):
            self.destroy(ct)
            n += 1
        return n

    def tuple_taken(self, t: Tuple, zone: int, ignored: Conn) -> bool:
        """nf_conntrack_tuple_taken: is `t` already some other entry's tuple (either direction)?"""
        hit = self.lookup(zone, t)
        if hit is None:
            return False
        ct = hit[0]
        if ct is ignored:
            return False
        return True

    def event(self, ct: Conn, name: str, bits: int) -> None:
        """Report an event (IPCT_* `bits`) unless the connection's ctmask leaves all of them out."""
        ns = self.ns
        if ns.world.tracer.on and bits & ct.ctmask:
            ns.trace("conntrack", format_conn(ct, ns.sched.now, name), verdict=name)

    # -- expectations (nf_conntrack_expect.c) ------------------------------------------
    def expect_event(self, exp: Any, name: str, bit: int) -> None:
        ns = self.ns
        if ns.world.tracer.on and bit & exp.master.expmask:
            ns.trace("conntrack", exp.format(ns.sched.now, name), table="expect", verdict=name)

    def expectations(self) -> list[Any]:
        """The pending expectations; expired ones go first (nf_ct_expectation_timed_out)."""
        now = self.ns.sched.now
        for exp in [e for e in self.expects if e.timeout <= now]:
            self.unexpect(exp)
        return list(self.expects)

    def expect_related(self, exp: Any) -> int:
        """nf_ct_expect_related: add `exp` unless it clashes (EBUSY) or is one too many (EMFILE);
        an identical expectation of the same master is replaced, and over the helper's
        max_expected the master's oldest expectation makes room."""
        now = self.ns.sched.now
        for other in self.expectations():
            if other.same_as(exp):
                if other.master is not exp.master or other.cls != exp.cls:
                    return EALREADY
                self.unexpect(other)
            elif other.clashes(exp):
                return EBUSY
        master = exp.master
        limit = exp.helper_policy_max()
        if limit and master.expecting >= limit:
            mine = [e for e in self.expects if e.master is master and e.cls == exp.cls]
            if mine:
                self.unexpect(mine[0])     # evict_oldest_expect
            if master.expecting >= limit:
                return EMFILE
        exp.timeout = now + exp.timeout_s * NSEC_PER_SEC
        self.expects.append(exp)
        master.expecting += 1
        self.expect_event(exp, "NEW", IPEXP_NEW)
        return 0

    def unexpect(self, exp: Any) -> None:
        """nf_ct_unlink_expect: out of the list, [DESTROY] event."""
        if exp in self.expects:
            self.expects.remove(exp)
            exp.master.expecting -= 1
            self.expect_event(exp, "DESTROY", IPEXP_DESTROY)

    def find_expectation(self, zone: int, t: Tuple) -> Any:
        """nf_ct_find_expectation: the expectation covering `t` whose master is confirmed; consumed."""
        if not self.expects:
            return None
        for exp in self.expectations():
            if exp.zone == zone and exp.covers(t) and exp.master.status & IPS_CONFIRMED \
                    and not exp.master.status & IPS_DYING:
                if not exp.permanent:
                    self.unexpect(exp)
                return exp
        return None

    def flush_expectations(self) -> int:
        n = 0
        for exp in list(self.expects):
            self.unexpect(exp)
            n += 1
        return n

    def refresh(self, ct: Conn, seconds: int) -> None:
        ct.timeout = self.ns.sched.now + seconds * NSEC_PER_SEC

    # -- the hooks -------------------------------------------------------------------
    def in_use(self) -> bool:
        nf = self.ns.netfilter
        if nf.generation != self._gen:
            self._gen = nf.generation
            self._rules_use = _rules_need_conntrack(nf)
        return self._rules_use or self.users > 0

    def hook_in(self, ctx: PacketCtx) -> int:
        if not self.in_use():
            return NF_ACCEPT
        return self.conntrack_in(ctx)

    def hook_confirm(self, ctx: PacketCtx) -> int:
        if ctx.meta.ct is None:
            return NF_ACCEPT
        return self.confirm(ctx)

    def conntrack_in(self, ctx: PacketCtx) -> int:
        """nf_conntrack_in at PREROUTING / OUTPUT."""
        meta = ctx.meta
        zone = 0
        ct0 = meta.ct
        tmpl: CtTemplate | None = None
        local = ctx.hook == "OUTPUT" or (ctx.in_dev is not None and ctx.in_dev.kind == "loopback")
        if ct0 is not None:
            if ct0.__class__ is CtTemplate and ct0.table is self:
                if ct0.notrack:
                    meta.ct = None
                    meta.ctinfo = IP_CT_UNTRACKED
                    return NF_ACCEPT
                zone = ct0.zone
                tmpl = ct0
            elif ct0.__class__ is Conn and ct0.table is self and local:
                return NF_ACCEPT       # seen on the way out, looped back: already tracked
            # else: a stale entry from another namespace (the kernel scrubs it on veth)
            meta.ct = None
            meta.ctinfo = 0
        elif meta.ctinfo == IP_CT_UNTRACKED:
            if local:
                return NF_ACCEPT
            meta.ctinfo = 0
        ip = ctx.ip
        proto = ip.proto
        if proto == IPPROTO_ICMP:
            icmp = ip.payload
            if isinstance(icmp, Icmp) and icmp.type in ICMP_ERRORS:
                return self.icmp_error(ctx, zone, icmp)
        t = packet_tuple(ip)
        if t is None:
            return NF_ACCEPT            # INVALID: untrackable as is
        for _ in range(2):
            hit = self.lookup(zone, t)
            if hit is None:
                ct = self.new_conn(t, zone, ip)
                if ct is None:
                    return NF_ACCEPT    # INVALID (not a valid first packet)
                self.init_conntrack(ct, tmpl)
                d = DIR_ORIGINAL
            else:
                ct, d = hit
            if d == DIR_REPLY:
                ctinfo = IP_CT_ESTABLISHED_REPLY
            elif ct.status & IPS_SEEN_REPLY:
                ctinfo = IP_CT_ESTABLISHED
            elif ct.status & IPS_EXPECTED:
                ctinfo = IP_CT_RELATED
            else:
                ctinfo = IP_CT_NEW
            verdict = self.l4_packet(ct, d, ip)
            if verdict == _REPEAT:
                continue
            if verdict == _INVALID:
                return NF_ACCEPT
            if d == DIR_REPLY and not ct.status & IPS_SEEN_REPLY:
                ct.status |= IPS_SEEN_REPLY
                if ct.status & IPS_CONFIRMED:
                    self.event(ct, "UPDATE", IPCT_REPLY)
            meta.ct = ct
            meta.ctinfo = ctinfo
            return NF_ACCEPT
        return NF_ACCEPT

    def icmp_error(self, ctx: PacketCtx, zone: int, icmp: Icmp) -> int:
        """icmp_error_message: an error about a tracked flow is RELATED to it."""
        inner = quoted_tuple(icmp.payload)
        if inner is None:
            return NF_ACCEPT
        hit = self.lookup(zone, invert(inner))
        if hit is None:
            return NF_ACCEPT            # INVALID
        ct, d = hit
        meta = ctx.meta
        meta.ct = ct
        meta.ctinfo = IP_CT_RELATED + (IP_CT_IS_REPLY if d == DIR_REPLY else 0)
        return NF_ACCEPT

    def init_conntrack(self, ct: Conn, tmpl: CtTemplate | None) -> None:
        """init_conntrack's extensions: event masks from the template, then either the
        expectation the tuple fulfils (RELATED to its master) or the template's helper."""
        if tmpl is not None and (tmpl.ctmask or tmpl.expmask):
            ct.ctmask, ct.expmask = tmpl.ctmask, tmpl.expmask
        exp = self.find_expectation(ct.zone, ct.tuple_orig)
        if exp is not None:
            ct.status |= IPS_EXPECTED
            ct.master = exp.master
            if exp.helper is not None:
                ct.helper = exp.helper
                ct.help = exp.helper.new_info()
            if exp.expectfn is not None:
                exp.expectfn(ct, exp)
        elif tmpl is not None and tmpl.helper is not None:
            ct.helper = tmpl.helper      # __nf_ct_try_assign_helper
            ct.help = tmpl.helper.new_info()

    def confirm(self, ctx: PacketCtx) -> int:
        """nf_confirm: the helper, the sequence adjustment, then __nf_conntrack_confirm."""
        ct = ctx.meta.ct
        if ct is None or ct.__class__ is not Conn or ct.table is not self:
            return NF_ACCEPT
        if (ct.helper is not None or ct.seqadj is not None) and ctx.meta.ctinfo != IP_CT_RELATED_REPLY:
            loop = ctx.in_dev is not None and ctx.in_dev.kind == "loopback"
            if ct.helper is not None and not loop:   # a looped-back packet was helped on its way out
                v = ct.helper.help(ct, ctx.meta.ctinfo, ctx)
                if v != NF_ACCEPT:
                    return v
            if ct.seqadj is not None and not loop:
                nf_ct_seq_adjust(ctx.frame, ct, ctx.meta.ctinfo)
        if ct.status & IPS_CONFIRMED or ct.status & IPS_DYING:
            return NF_ACCEPT
        if ctx.meta.ctinfo >= IP_CT_IS_REPLY:
            # only a packet in the original direction confirms (a reset REJECT
            # made for an unconfirmed connection is RELATED_REPLY and does not)
            return NF_ACCEPT
        hit = self.hash.get((ct.zone, ct.tuple_orig)) or self.hash.get((ct.zone, ct.tuple_reply))
        if hit is not None and hit[0].timeout > self.ns.sched.now:
            # a clash (nf_ct_resolve_clash): the same flow already confirmed — use that entry
            if hit[0].tuple_orig == ct.tuple_orig and hit[0].tuple_reply == ct.tuple_reply:
                ctx.meta.ct = hit[0]
                return NF_ACCEPT
            self.ns.drop(ctx.frame, ctx.out_dev, SkbDropReason.NF_CONNTRACK_CLASH)
            return 0
        if hit is not None:
            self.destroy(hit[0])
        self.insert(ct)
        return NF_ACCEPT

    # -- protocols ---------------------------------------------------------------------
    def new_conn(self, t: Tuple, zone: int, ip: Any) -> Conn | None:
        """init_conntrack + the protocol's `new` check."""
        proto = t[2]
        now = self.ns.sched.now
        if proto == IPPROTO_TCP:
            flags = ip.payload.flags & _TH
            if flags not in TCP_VALID_FLAGS:
                return None
            st = TCP_CONNTRACKS[0][_tcp_index(flags)][sNO]
            if st >= sIV:
                return None
            seg = ip.payload
            seen = (TcpSeen(), TcpSeen())
            if st == sSS:
                seen[0].init_sender(seen[1], seg, _seg_end(seg), DIR_ORIGINAL)
            elif self.ns.sysctl.values["net.netfilter.nf_conntrack_tcp_loose"] == "0":
                return None             # don't try to pick up connections
            else:
                # tcp_new: in the middle of a connection, its history lost: take what the
                # segment shows, and be liberal (its window scale is unknown)
                s0 = seen[0]
                s0.td_end = _seg_end(seg)
                s0.td_maxwin = seg.window or 1
                s0.td_maxend = (s0.td_end + s0.td_maxwin) & 0xFFFFFFFF
                s0.flags = seen[1].flags = IP_CT_TCP_FLAG_SACK_PERM | IP_CT_TCP_FLAG_BE_LIBERAL
            ct = Conn(self, t, zone, now)
            ct.tcp_state = sNO
            ct.seen = seen
            return ct
        if proto == IPPROTO_ICMP:
            if (t[4] >> 8) not in ICMP_VALID_NEW:
                return None
        return Conn(self, t, zone, now)

    def l4_packet(self, ct: Conn, d: int, ip: Any) -> int:
        proto = ct.proto
        if proto == IPPROTO_TCP:
            return self.tcp_packet(ct, d, ip.payload)
        if proto == IPPROTO_UDP:
            if ct.status & IPS_SEEN_REPLY or d == DIR_REPLY:
                now = self.ns.sched.now
                if now > ct.created + UDP_STREAM_AFTER * NSEC_PER_SEC:
                    self.refresh(ct, UDP_TIMEOUT_STREAM)
                    if d == DIR_REPLY or ct.status & IPS_SEEN_REPLY:
                        if not ct.status & IPS_ASSURED:
                            ct.status |= IPS_ASSURED
                            if ct.status & IPS_CONFIRMED:
                                self.event(ct, "UPDATE", IPCT_ASSURED)
                else:
                    self.refresh(ct, UDP_TIMEOUT)
            else:
                self.refresh(ct, UDP_TIMEOUT)
            return _OK
        if proto == IPPROTO_ICMP:
            self.refresh(ct, ICMP_TIMEOUT)
            return _OK
        self.refresh(ct, GENERIC_TIMEOUT)
        return _OK

    def tcp_packet(self, ct: Conn, d: int, seg: Any) -> int:
        """nf_conntrack_tcp_packet: the state table, ASSURED, the timeout."""
        flags = seg.flags & _TH
        if flags not in TCP_VALID_FLAGS:
            return _INVALID
        index = _tcp_index(flags)
        old = ct.tcp_state
        new = TCP_CONNTRACKS[d][index][old]
        if new == sSS and d == DIR_ORIGINAL and old >= sTW and ct.status & IPS_CONFIRMED:
            # a new SYN on a closed connection's tuple: kill the old entry, look up again
            self.destroy(ct)
            return _REPEAT
        if new == sIG:
            return _OK
        if new >= sIV:
            return _INVALID
        seen = ct.seen
        if seen is None:                # tracked before window tracking existed: be liberal
            seen = ct.seen = (TcpSeen(), TcpSeen())
            seen[0].flags = seen[1].flags = IP_CT_TCP_FLAG_BE_LIBERAL
        if new == sCL and index == TCP_RST_SET and old not in (sFW, sLA, sTW, sCL, sCW):
            other = seen[1 - d]
            if other.flags & IP_CT_TCP_FLAG_MAXACK_SET and ct.last_index != TCP_SYN_SET:
                seq = seg.seq
                established = old == sES and ct.status & IPS_ASSURED
                if not (seq == 0 and not established):
                    if (_before(seq, other.td_maxack)
                            and self.ns.sysctl.values["net.netfilter.nf_conntrack_tcp_ignore_invalid_rst"] == "0"):
                        return _INVALID  # a RST before what the peer acknowledged: invalid rst
                    if (established and seq != other.td_maxack
                            and not (ct.last_index == TCP_ACK_SET and ct.last_dir == d and seq == ct.last_end)):
                        new = old        # not exactly in sequence: keep the state for a challenge ACK
        res = self.tcp_in_window(ct, d, index, seg)
        if res == _WIN_IGNORE:
            return _OK
        if res == _WIN_INVALID:
            return _INVALID
        ct.last_index = index
        ct.last_dir = d
        ct.unacked[0] = bool(seen[0].flags & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED)
        ct.unacked[1] = bool(seen[1].flags & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED)
        ct.tcp_state = new
        if old != new and ct.status & IPS_CONFIRMED:
            self.event(ct, "UPDATE", IPCT_PROTOINFO)
        if index == TCP_RST_SET:
            timeout = TCP_TIMEOUTS[sCL]
        elif (ct.unacked[0] or ct.unacked[1]) and TCP_TIMEOUTS[new] > TCP_TIMEOUT_UNACK:
            timeout = TCP_TIMEOUT_UNACK
        else:
            timeout = TCP_TIMEOUTS[new]
        if not ct.status & IPS_SEEN_REPLY:
            if flags & RST:
                # "If only reply is a RST, we can consider ourselves not to have an
                # established connection": the entry goes at once
                self.destroy(ct)
                return _OK
        elif not ct.status & IPS_ASSURED and old in (sSR, sES) and new == sES:
            ct.status |= IPS_ASSURED
            if ct.status & IPS_CONFIRMED:
                self.event(ct, "UPDATE", IPCT_ASSURED)
        self.refresh(ct, timeout)
        return _OK


    def tcp_in_window(self, ct: Conn, d: int, index: int, seg: Any) -> int:
        """tcp_in_window: is the segment within what the receiver's window allows, and does
        it acknowledge only data sent? Updates both directions' TcpSeen when it is."""
        seen = ct.seen
        assert seen is not None
        sender, receiver = seen[d], seen[1 - d]
        flags = seg.flags
        seq = seg.seq
        ack = sack = seg.ack
        win = seg.window
        end = _seg_end(seg)
        if receiver.flags & IP_CT_TCP_FLAG_SACK_PERM:
            for _left, right in seg.sack:
                if _seq_after(right, sack):
                    sack = right
        if ct.seqadj is not None:       # NAT's sequence mangling
            off = ct.seqadj[1 - d].offset((ack - 1) & 0xFFFFFFFF)
            ack = (ack - off) & 0xFFFFFFFF
            sack = (sack - off) & 0xFFFFFFFF
        state = ct.tcp_state
        if sender.td_maxwin == 0:
            if flags & SYN:
                sender.init_sender(receiver, seg, end, d)
                if not flags & ACK:
                    return _WIN_ACCEPT    # simultaneous open
            else:
                # in the middle of a connection: use what the packet shows
                sender.td_end = end
                swin = (win << sender.td_scale) or 1
                sender.td_maxwin = swin
                sender.td_maxend = (end + swin) & 0xFFFFFFFF
                if receiver.td_maxwin == 0:
                    receiver.td_end = receiver.td_maxend = sack
                elif sack == (receiver.td_end + 1) & 0xFFFFFFFF:
                    receiver.td_end = (receiver.td_end + 1) & 0xFFFFFFFF   # a keepalive's reply
        elif flags & SYN and _seq_after(end, sender.td_end) and state in (sSS, sSR):
            # a SYN (or SYN-ACK) sent again with a new sequence: start this direction over
            sender.init_sender(receiver, seg, end, d)
            if d == DIR_REPLY and not flags & ACK:
                return _WIN_ACCEPT
        if not flags & ACK:
            ack = sack = receiver.td_end
        elif flags & (ACK | RST) == ACK | RST and ack == 0:
            ack = sack = receiver.td_end          # broken stacks: RST+ACK with a zero ACK
        if flags & RST and seq == 0 and state == sSS:
            seq = end = sender.td_end            # a RST answering a SYN
        liberal = (sender.flags & IP_CT_TCP_FLAG_BE_LIBERAL
                   or self.ns.sysctl.values["net.netfilter.nf_conntrack_tcp_be_liberal"] == "1")
        if not _before(seq, (sender.td_maxend + 1) & 0xFFFFFFFF):
            # SEQ is over the upper bound (over the window of the receiver)
            overshot = (end - sender.td_maxend + 1) & 0xFFFFFFFF
            if (receiver.td_maxwin
                    and _seq_after(end, (sender.td_end - receiver.td_maxwin - 1) & 0xFFFFFFFF)
                    and _seq_after(sack, (receiver.td_end - 1) & 0xFFFFFFFF)
                    and overshot <= receiver.td_maxwin
                    and _before(sack, (receiver.td_end + 1) & 0xFFFFFFFF)):
                # a few bytes more than the window allowed: remember them, let the ruleset decide
                sender.td_end = end
                sender.flags |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED
                return _WIN_ACCEPT if liberal else _WIN_IGNORE
            return _WIN_ACCEPT if liberal else _WIN_INVALID
        if not _before(sack, (receiver.td_end + 1) & 0xFFFFFFFF):
            return _WIN_ACCEPT if liberal else _WIN_INVALID   # ACK over upper bound (data not seen yet)
        if receiver.td_maxwin and not _seq_after(end, (sender.td_end - receiver.td_maxwin - 1) & 0xFFFFFFFF):
            return _WIN_ACCEPT if liberal else _WIN_IGNORE    # SEQ under lower bound (retransmitted)
        maxackwin = max(sender.td_maxwin, MAXACKWINCONST)
        if not _seq_after(sack, (receiver.td_end - maxackwin - 1) & 0xFFFFFFFF):
            return _WIN_ACCEPT if liberal else _WIN_IGNORE    # ACK under lower bound (overly delayed)
        if not flags & SYN:
            win <<= sender.td_scale
        swin = win + ((sack - ack) & 0xFFFFFFFF)
        if sender.td_maxwin < swin:
            sender.td_maxwin = swin
        if _seq_after(end, sender.td_end):
            sender.td_end = end
            sender.flags |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED
        if flags & ACK:
            if not sender.flags & IP_CT_TCP_FLAG_MAXACK_SET:
                sender.td_maxack = ack
                sender.flags |= IP_CT_TCP_FLAG_MAXACK_SET
            elif _seq_after(ack, sender.td_maxack):
                sender.td_maxack = ack
        if receiver.td_maxwin and _seq_after(end, sender.td_maxend):
            receiver.td_maxwin += (end - sender.td_maxend) & 0xFFFFFFFF
        if _seq_after((sack + win) & 0xFFFFFFFF, (receiver.td_maxend - 1) & 0xFFFFFFFF):
            receiver.td_maxend = (sack + win + (1 if win == 0 else 0)) & 0xFFFFFFFF
        if ack == receiver.td_end:
            receiver.flags &= ~IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED
        if index == TCP_ACK_SET:
            ct.last_seq, ct.last_ack, ct.last_end, ct.last_win = seq, ack, end, seg.window
        return _WIN_ACCEPT


def _seg_end(seg: Any) -> int:
    """segment_seq_plus_len: the sequence after the segment (SYN and FIN count one)."""
    plen = len(seg.payload) if isinstance(seg.payload, (bytes, bytearray)) else 0
    return (seg.seq + plen + (1 if seg.flags & SYN else 0) + (1 if seg.flags & FIN else 0)) & 0xFFFFFFFF


_OK, _INVALID, _REPEAT = 0, 1, 2
EALREADY, EBUSY, EMFILE = 114, 16, 24


# -- sequence adjustment (nf_conntrack_seqadj.c) -------------------------------------------
def nf_ct_seqadj_set(ct: Conn, ctinfo: int, seq: int, off: int) -> None:
    """Payload of the segment at `seq` grew by `off` bytes: later segments in this direction move."""
    if off == 0:
        return
    if ct.seqadj is None:
        ct.seqadj = (SeqAdj(), SeqAdj())
    ct.status |= IPS_SEQ_ADJUST
    way = ct.seqadj[DIR_REPLY if ctinfo >= IP_CT_IS_REPLY else DIR_ORIGINAL]
    if way.offset_before == way.offset_after or _seq_after(seq, way.correction_pos):
        way.correction_pos = seq
        way.offset_before = way.offset_after
        way.offset_after += off


def nf_ct_seq_adjust(frame: Any, ct: Conn, ctinfo: int) -> None:
    """Shift this segment's seq by its direction's offset and its ack (and SACK edges) back by the
    other direction's."""
    ip = frame.payload
    seg = ip.payload
    if ip.proto != IPPROTO_TCP or isinstance(seg, (bytes, bytearray)) or ct.seqadj is None:
        return
    d = DIR_REPLY if ctinfo >= IP_CT_IS_REPLY else DIR_ORIGINAL
    this_way, other_way = ct.seqadj[d], ct.seqadj[1 - d]
    newseq = (seg.seq + this_way.offset(seg.seq)) & 0xFFFFFFFF
    newack = seg.ack
    sack = seg.sack
    if seg.flags & ACK:
        newack = (seg.ack - _ack_offset(other_way, seg.ack)) & 0xFFFFFFFF
        if sack:
            sack = tuple(((left - _ack_offset(other_way, left)) & 0xFFFFFFFF,
                          (right - _ack_offset(other_way, right)) & 0xFFFFFFFF)
                         for left, right in sack)     # nf_ct_sack_adjust
    if newseq == seg.seq and newack == seg.ack and sack == seg.sack:
        return
    ip = ip.copy()
    seg = seg.copy()
    seg.seq, seg.ack, seg.sack = newseq, newack, sack
    ip.payload = seg
    frame.payload = ip


def _ack_offset(way: SeqAdj, ack: int) -> int:
    if _seq_after((ack - way.offset_before) & 0xFFFFFFFF, way.correction_pos):
        return way.offset_after
    return way.offset_before


def _tcp_index(flags: int) -> int:
    """get_conntrack_index."""
    if flags & RST:
        return TCP_RST_SET
    if flags & SYN:
        return TCP_SYNACK_SET if flags & ACK else TCP_SYN_SET
    if flags & FIN:
        return TCP_FIN_SET
    if flags & ACK:
        return TCP_ACK_SET
    return TCP_NONE_SET


# -- per-namespace activation --------------------------------------------------------------
# Extensions whose kernel checkentry calls nf_ct_netns_get: a rule using one makes the
# namespace track connections. (An extension class may also say `needs_conntrack = True`.)
CT_MATCHES = frozenset(("state", "conntrack", "connmark", "helper", "connbytes", "connlimit", "cluster"))
CT_TARGETS = frozenset(("SNAT", "DNAT", "MASQUERADE", "REDIRECT", "NETMAP", "CT", "NOTRACK", "CONNMARK",
                        "CONNSECMARK"))


def _rules_need_conntrack(nf: Any) -> bool:
    for t in nf.tables.values():
        for ch in t.chains.values():
            for r in ch.rules:
                tobj = r.tobj
                if tobj is not None and (tobj.name in CT_TARGETS or tobj.needs_conntrack):
                    # xt_CT: --notrack (and NOTRACK) needs no conntrack (no nf_ct_netns_get)
                    if not tobj.notrack:
                        return True
                for m in r.matches:
                    if m.name in CT_MATCHES or m.needs_conntrack:
                        return True
    return False


def conntrack_of(ns: Any) -> ConntrackTable | None:
    """The namespace's conntrack table, or None while conntrack was never in use there."""
    nf = ns.netfilter
    if nf is None:
        return None
    return nf.state.get("conntrack")


def _table_of(ns: Any) -> ConntrackTable:
    nf = netfilter_of(ns)
    table = nf.state.get("conntrack")
    if table is None:
        table = ConntrackTable(ns)
        nf.state["conntrack"] = table
    return table


def _hook(ns: Any) -> ConntrackTable:
    """Put the conntrack functions on the namespace's hooks (once); they act only while in use."""
    table = _table_of(ns)
    if not table.hooked:
        table.hooked = True
        nf = netfilter_of(ns)
        nf.register("PREROUTING", NF_IP_PRI_CONNTRACK, table.hook_in, "conntrack")
        nf.register("OUTPUT", NF_IP_PRI_CONNTRACK, table.hook_in, "conntrack")
        nf.register("INPUT", NF_IP_PRI_CONNTRACK_CONFIRM, table.hook_confirm, "conntrack_confirm")
        nf.register("POSTROUTING", NF_IP_PRI_CONNTRACK_CONFIRM, table.hook_confirm, "conntrack_confirm")
    return table


def nf_ct_netns_get(ns: Any) -> ConntrackTable:
    """nf_ct_netns_get: something outside the rules needs conntrack in this namespace."""
    table = _hook(ns)
    table.users += 1
    return table


def nf_ct_netns_put(ns: Any) -> None:
    table = conntrack_of(ns)
    if table is not None and table.users:
        table.users -= 1


def _watch_table_init() -> None:
    """Once a namespace has any iptables table, its conntrack functions sit on the hooks and
    follow the rules: they track while a rule uses conntrack (the kernel's per-rule
    nf_ct_netns_get / nf_ct_netns_put), found by a scan cached on the rule generation."""
    for name in ("filter", "mangle", "raw", "security", "nat"):
        inner = TABLE_INIT.get(name)

        def init(nf: Any, t: Any, _inner: Any = inner) -> None:
            if _inner is not None:
                _inner(nf, t)
            _hook(nf.ns)

        TABLE_INIT[name] = init


def ct_flags_text(ct: Conn) -> str:
    """Status bits by name (for traces and tests)."""
    names = [(IPS_SEEN_REPLY, "SEEN_REPLY"), (IPS_ASSURED, "ASSURED"), (IPS_CONFIRMED, "CONFIRMED"),
             (IPS_SRC_NAT, "SRC_NAT"), (IPS_DST_NAT, "DST_NAT")]
    return ",".join(n for bit, n in names if ct.status & bit)


_watch_table_init()


def nf_ct_attach(new_frame: Any, old_frame: Any) -> None:
    """nf_ct_attach: a packet the stack makes in answer to another (REJECT's TCP reset)
    carries the other's connection, as RELATED in the opposite direction, so NAT
    translates it back on its way out (nf_send_reset does this)."""
    m = ct_attach_meta(old_frame)
    if m is not None:
        new_frame.meta = m


def ct_attach_meta(old_frame: Any) -> Any:
    """The metadata an answer to `old_frame` starts with (see nf_ct_attach), or None."""
    old = old_frame.meta
    if old is None or old.ct is None or old.ct.__class__ is not Conn:
        return None
    from netplex.stack.skb import SkbMeta
    m = SkbMeta()
    m.ct = old.ct
    m.ctinfo = IP_CT_RELATED + (IP_CT_IS_REPLY if old.ctinfo < IP_CT_IS_REPLY else 0)
    return m
