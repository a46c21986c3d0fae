"""bgpd: a BGP-4 speaker (RFC 4271) for IPv4 unicast, configured from FRR's configuration.

Sessions (RFC 4271 §8): each neighbor's finite state machine — Idle, Connect,
Active, OpenSent, OpenConfirm, Established — over real TCP connections to port
179 in the simulated stack: the speaker listens and connects, sends OPEN on a
connected socket (four-octet AS, route refresh and IPv4 unicast capabilities),
checks the peer's (version, AS, hold time, identifier: NOTIFICATION 2/1, 2/2,
2/6, 2/3), resolves a connection collision by BGP identifier (§6.8, Cease 6/7),
negotiates the hold time (the smaller; keepalive = hold/3 or the configured
keepalive when smaller), sends KEEPALIVEs, and drops the session when the hold
timer expires (NOTIFICATION 4/0), the peer closes or notifies, or — FRR's
`fast-external-failover` — the interface toward a directly connected eBGP
peer stops being operative. An eBGP neighbor not on a connected subnet stays
Idle (FRR's nexthop tracking of the peer, no `ebgp-multihop`).

Routes: UPDATEs fill each peer's Adj-RIB-In (a path with our own AS in AS_PATH
is denied; with `bgp ebgp-requires-policy` and no policy — no route-maps are
modelled — an eBGP peer's routes are neither accepted nor sent, FRR's
"(Policy)"). `network` (with `bgp network import-check`: only while zebra's
RIB holds the exact prefix) and `redistribute connected|kernel` originate
local paths. The decision process is FRR's bgp_path_info_cmp: weight,
LOCAL_PREF, local route, AS_PATH length, origin, MED (same neighbouring AS),
eBGP over iBGP, then — multipath — paths equal so far are siblings when from
the same neighbouring AS (eBGP; any AS with `bgp bestpath as-path
multipath-relax`) or with the same AS_PATH (iBGP), up to `maximum-paths`; the
tie-break is the older eBGP path, the lower router ID, the lower neighbor
address. The best path and its siblings go to zebra (netplex.frr.zebra),
which installs one kernel route (multipath for siblings). Advertisements:
eBGP gets our AS prepended, NEXT_HOP self, MED only for our own routes;
iBGP gets LOCAL_PREF, NEXT_HOP unchanged unless `next-hop-self`, and nothing
learned from iBGP. Sources: RFC 4271, RFC 6793, RFC 7938 §5 (the leaf-spine
use), FRR's bgpd/bgp_fsm.c, bgp_route.c, bgp_packet.c.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.frr.config import FrrConfig, Neighbor
from netplex.frr.zebra import NSEC, RibEntry, Zebra, rib
from netplex.packet import bgp
from netplex.packet.addr import ip_to_int
from netplex.packet.bgp import Attributes, BgpError, Notification, Open, Update
from netplex.stack.tcp import TcpSocket

__all__ = ["IDLE", "CONNECT", "ACTIVE", "OPENSENT", "OPENCONFIRM", "ESTABLISHED", "Bgpd", "Path", "Peer"]

IDLE, CONNECT, ACTIVE, OPENSENT, OPENCONFIRM, ESTABLISHED = (
    "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")
START_TIMER = 1 * NSEC        # BGP_INIT_START_TIMER: Idle -> Connect after a drop
DEFAULT_WEIGHT_LOCAL = 32768
DISTANCE_EBGP, DISTANCE_IBGP = 20, 200


@dataclass(slots=True, eq=False)
class Path:
    """One bgp_path_info: a way to `prefix`, from `peer` (None: originated here)."""

    prefix: tuple[int, int]
    peer: Peer | None
    origin: int
    as_path: tuple[tuple[int, tuple[int, ...]], ...]
    next_hop: int
    med: int | None
    local_pref: int | None
    weight: int
    since: int
    source: str = ""               # "network" | "connected" | "kernel" for local paths
    valid: bool = True
    resolved: tuple[int, Any] | None = None    # (gateway, device) toward next_hop

    def path_len(self) -> int:
        return sum(len(a) if t == bgp.AS_SEQUENCE else 1 for t, a in self.as_path)

    def neighbor_as(self) -> int | None:
        for t, seg in self.as_path:
            if t == bgp.AS_SEQUENCE and seg:
                return seg[0]
        return None

    def as_text(self) -> str:
        parts: list[str] = []
        for t, seg in self.as_path:
            if t == bgp.AS_SEQUENCE:
                parts += [str(a) for a in seg]
            else:
                parts.append("{" + ",".join(str(a) for a in seg) + "}")
        return " ".join(parts)


@dataclass(slots=True, eq=False)
class Conn:
    """One TCP connection toward a peer and where it is in the FSM."""

    sk: TcpSocket
    initiated: bool                # we connected (not accepted)
    state: str = CONNECT
    buf: bytearray = field(default_factory=bytearray)
    open: Open | None = None
    hold: int = 0
    keepalive: int = 0
    as4: bool = True
    timer_gen: int = 0
    last_read: int = 0


@dataclass(slots=True, eq=False)
class Peer:
    """One configured neighbor: its session and what it told us."""

    cfg: Neighbor
    state: str = IDLE
    conns: list[Conn] = field(default_factory=list)
    conn: Conn | None = None       # the Established one
    remote_id: int = 0
    remote_as: int = 0
    hostname: str | None = None    # what the peer's hostname capability said
    msg_rcvd: int = 0
    msg_sent: int = 0
    updates_rcvd: int = 0
    updates_sent: int = 0
    since: int | None = None       # Up/Down: when the state last changed to or from Established
    established_count: int = 0
    dropped_count: int = 0
    last_reset: str = ""
    adj_in: dict[tuple[int, int], Path] = field(default_factory=dict)
    adj_out: dict[tuple[int, int], Attributes] = field(default_factory=dict)
    gen: int = 0                   # cancels the peer's start/connect-retry timers
    start_pending: bool = False    # Idle, the start timer running

    @property
    def addr(self) -> int:
        return self.cfg.addr


class Bgpd(Program):
    """The BGP daemon of one namespace, running `conf` (its `router bgp`)."""

    comm = "bgpd"
    vsz_kib, rss_kib = 179844, 14856

    def __init__(self, conf: FrrConfig, zebra: Callable[[], Zebra | None]) -> None:
        super().__init__()
        self.conf = conf
        self.zebra = zebra
        self.peers: dict[int, Peer] = {}
        self.local: dict[tuple[int, int], Path] = {}
        self.best: dict[tuple[int, int], Path] = {}
        self.multipath: dict[tuple[int, int], list[Path]] = {}
        self.reason: dict[tuple[int, int], str] = {}
        self.dmed: dict[tuple[int, int], list[Path]] = {}
        self.version: dict[tuple[int, int], int] = {}       # the table version a prefix last changed at     # deterministic-med: each AS's best
        self.table_version = 0
        self.listener: TcpSocket | None = None
        self.dirty_out = False
        self.pending: set[tuple[int, int]] = set()
        self.resync_pending = False
        self.started = 0

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self.started = self.ns.sched.now
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(bgp.BGP_PORT):
            raise ProgramExit(1, "bgpd: bind: Address already in use\n")
        lst.on_accept = self._accept
        self.listener = lst
        self.ns.rtnl_listeners.append(self._rtnl)
        self.reconfigure()

    def stop(self) -> None:
        for p in self.peers.values():
            if p.conn is not None:
                self._send(p.conn, bgp.encode_notification(bgp.ERR_CEASE, bgp.CEASE_ADMIN_SHUTDOWN), p)
        z = self.zebra()
        for prefix in list(self.best):
            if z is not None:
                z.withdraw(*prefix)

    def close_owned(self) -> None:
        if self._rtnl in self.ns.rtnl_listeners:
            self.ns.rtnl_listeners.remove(self._rtnl)
        super().close_owned()

    @property
    def asn(self) -> int:
        assert self.conf.bgp is not None
        return self.conf.bgp.asn

    def router_id(self) -> int:
        """`bgp router-id`, else zebra's: the highest loopback address, else the highest address."""
        b = self.conf.bgp
        if b is not None and b.router_id is not None:
            return b.router_id
        lo = [a.addr for a in self.ns.addrs.get(self.ns.lo.ifindex, []) if a.addr >> 24 != 127]
        if lo:
            return max(lo)
        other = [a.addr for a in self.ns.all_addrs() if a.addr >> 24 != 127]
        return max(other, default=0)

    # -- configuration ---------------------------------------------------------------
    def reconfigure(self) -> None:
        """Bring peers and originated routes in line with `self.conf` (after a `conf t` line)."""
        b = self.conf.bgp
        wanted = {a: b.effective(n) for a, n in b.neighbors.items()} if b is not None else {}
        for addr in list(self.peers):
            p = self.peers[addr]
            if addr not in wanted:
                self._peer_stop(p, bgp.CEASE_PEER_UNCONFIG, "Peer Unconfigured")
                del self.peers[addr]
            else:
                p.cfg = wanted[addr]
                if p.cfg.shutdown and p.state != IDLE:
                    self._peer_stop(p, bgp.CEASE_ADMIN_SHUTDOWN, "Admin. shutdown")
        for addr, n in wanted.items():
            if addr not in self.peers:
                self.peers[addr] = Peer(n)
        self._resync()

    def _rtnl(self) -> None:
        """An interface, address or route changed (zebra's notification): coalesced."""
        if not self.resync_pending:
            self.resync_pending = True
            self.after(0, self._resync)

    def _resync(self) -> None:
        self.resync_pending = False
        if not self.alive:
            return
        ns = self.ns
        entries = rib(ns, self.started)
        connected = [e for e in entries if e.kind == "C"]
        for p in self.peers.values():
            ebgp = self._is_ebgp(p)
            if ebgp and p.conn is not None and not _on_connected(connected, p.addr):
                self._peer_down(p, "Interface down")     # fast-external-failover
                continue
            if p.state == IDLE and not p.start_pending and not p.cfg.shutdown and self._reachable(p, connected):
                self._connect(p)
        self._originate(entries)
        self._queue(set(self.local) | set(self.best) | {k for p in self.peers.values() for k in p.adj_in})

    def _reachable(self, p: Peer, connected: list[RibEntry]) -> bool:
        if self._is_ebgp(p):
            return _on_connected(connected, p.addr)
        return self.ns.fib.lookup(p.addr) is not None

    def _is_ebgp(self, p: Peer) -> bool:
        if p.cfg.kind == "internal":
            return False
        if p.cfg.kind == "external":
            return True
        return p.cfg.remote_as != self.asn

    def _originate(self, entries: list[RibEntry]) -> None:
        b = self.conf.bgp
        if b is None:
            return
        now = self.ns.sched.now
        want: dict[tuple[int, int], tuple[str, int, int]] = {}
        by_prefix = {(e.dst, e.plen): e for e in entries}
        for prefix in b.networks:
            e = by_prefix.get(prefix)
            valid = e is not None or not b.import_check
            want[prefix] = ("network", bgp.ORIGIN_IGP, e.metric if e is not None else 0) if valid else \
                ("network-invalid", bgp.ORIGIN_IGP, 0)
        for e in entries:
            src = {"C": "connected", "K": "kernel"}[e.kind]
            if src in b.redistribute and (e.dst, e.plen) not in want:
                want[(e.dst, e.plen)] = (src, bgp.ORIGIN_INCOMPLETE, e.metric)
        for prefix in list(self.local):
            if prefix not in want:
                del self.local[prefix]
        for prefix, (src, origin, metric) in want.items():
            old = self.local.get(prefix)
            valid = src != "network-invalid"
            src = src.removesuffix("-invalid")
            if old is not None and old.source == src and old.valid == valid and old.med == metric:
                continue
            self.local[prefix] = Path(prefix, None, origin, (), 0, metric, None, DEFAULT_WEIGHT_LOCAL,
                                      old.since if old is not None else now, src, valid)

    # -- sessions ----------------------------------------------------------------------
    def _connect(self, p: Peer) -> None:
        """ConnectRetry expired / ManualStart: open a TCP connection (Connect), or wait (Active)."""
        p.gen += 1
        if p.cfg.shutdown or not self.alive:
            return
        if p.cfg.passive:
            p.state = ACTIVE
            return
        sk = self.own(TcpSocket(self.ns.sockets))
        c = Conn(sk, initiated=True)
        sk.on_connect = lambda s: self._connected(p, c)
        sk.on_error = lambda s, err: self._conn_failed(p, c)
        sk.on_data = lambda s, data: self._data(p, c, data)
        sk.on_close = lambda s: self._closed(p, c)
        if sk.connect(p.addr, bgp.BGP_PORT, self._source(p)):
            p.state = ACTIVE
            self._arm_retry(p)
            return
        p.conns.append(c)
        if p.state in (IDLE, ACTIVE):
            p.state = CONNECT
        self._arm_retry(p)

    def _source(self, p: Peer) -> int | None:
        """`update-source`: an address as given, an interface's first address; None: the route's."""
        src = p.cfg.update_source
        if src is None:
            return None
        if src.count(".") == 3:
            try:
                return ip_to_int(src)
            except ValueError:
                return None
        dev = self.ns.devices.get(src)
        addrs = [a.addr for a in self.ns.addrs.get(dev.ifindex, []) if a.addr >> 24 != 127] if dev else []
        return addrs[0] if addrs else None

    def _retry_ns(self, p: Peer) -> int:
        return (p.cfg.connect_retry or self.conf.connect_retry()) * NSEC

    def _arm_retry(self, p: Peer) -> None:
        gen = p.gen
        self.after(self._retry_ns(p), self._retry, p, gen)

    def _retry(self, p: Peer, gen: int) -> None:
        if gen != p.gen or p.conn is not None or p.cfg.shutdown or self.peers.get(p.addr) is not p:
            return
        if any(c.state in (OPENSENT, OPENCONFIRM) for c in p.conns):
            return
        for c in [c for c in p.conns if c.initiated]:
            self._drop_conn(p, c)
        self._connect(p)

    def _accept(self, sk: TcpSocket) -> None:
        p = self.peers.get(sk.raddr)
        if p is None or p.cfg.shutdown or p.conn is not None or p.state == IDLE:
            sk.close()          # not a configured, startable neighbor: FRR closes at once
            return
        self.own(sk)
        c = Conn(sk, initiated=False)
        sk.on_data = lambda s, data: self._data(p, c, data)
        sk.on_close = lambda s: self._closed(p, c)
        sk.on_error = lambda s, err: self._closed(p, c)
        p.conns.append(c)
        self._connected(p, c)

    def _connected(self, p: Peer, c: Conn) -> None:
        """TCP up: send OPEN, go to OpenSent."""
        c.state = OPENSENT
        c.last_read = self.ns.sched.now
        ka, hold = self._timers(p)
        o = Open(asn=self.asn, hold_time=hold, router_id=self.router_id(), hostname=self.ns.name)
        self._send(c, bgp.encode_open(o), p)
        self._peer_state(p)

    def _timers(self, p: Peer) -> tuple[int, int]:
        if p.cfg.keepalive is not None and p.cfg.holdtime is not None:
            return p.cfg.keepalive, p.cfg.holdtime
        return self.conf.keepalive_holdtime()

    def _conn_failed(self, p: Peer, c: Conn) -> None:
        if c in p.conns:
            p.conns.remove(c)
        if p.conn is None and not p.conns:
            p.state = ACTIVE

    def _closed(self, p: Peer, c: Conn, why: str = "Peer closed the session") -> None:
        """The connection ended (closed, or a NOTIFICATION came): the session, or only this try."""
        if c is p.conn:
            self._peer_down(p, why)
        else:
            self._drop_conn(p, c)
            if p.conn is None and not p.conns:
                p.state = ACTIVE

    def _send(self, c: Conn, data: bytes, p: Peer) -> None:
        p.msg_sent += 1
        c.sk.send(data)

    def _notify(self, p: Peer, c: Conn, code: int, subcode: int, data: bytes = b"") -> None:
        self._send(c, bgp.encode_notification(code, subcode, data), p)
        if c is p.conn:
            self._peer_down(p, "Notification sent")
        else:
            self._drop_conn(p, c)
            if p.conn is None and not p.conns:
                p.state = ACTIVE if not p.cfg.shutdown else IDLE

    def _drop_conn(self, p: Peer, c: Conn) -> None:
        c.timer_gen += 1
        c.sk.on_data = c.sk.on_close = c.sk.on_connect = None
        c.sk.on_error = None
        c.sk.close()
        if c in p.conns:
            p.conns.remove(c)

    def _peer_state(self, p: Peer) -> None:
        if p.conn is not None:
            p.state = ESTABLISHED
            return
        order = (OPENCONFIRM, OPENSENT)
        for s in order:
            if any(c.state == s for c in p.conns):
                p.state = s
                return

    def _data(self, p: Peer, c: Conn, data: bytes) -> None:
        c.buf += data
        try:
            msgs = bgp.split_messages(c.buf)
        except BgpError as e:
            self._notify(p, c, e.code, e.subcode, e.data)
            return
        for mtype, body in msgs:
            if c not in p.conns and c is not p.conn:
                return
            p.msg_rcvd += 1
            c.last_read = self.ns.sched.now
            try:
                msg = bgp.decode(mtype, body, c.as4)
            except BgpError as e:
                self._notify(p, c, e.code, e.subcode, e.data)
                return
            self._event(p, c, mtype, msg)

    def _event(self, p: Peer, c: Conn, mtype: int, msg: Any) -> None:
        if isinstance(msg, Notification):
            self._closed(p, c, "Notification received")
            return
        if c.state == OPENSENT:
            if mtype != bgp.OPEN:
                self._notify(p, c, bgp.ERR_FSM, 1)
                return
            self._open(p, c, msg)
        elif c.state == OPENCONFIRM:
            if mtype != bgp.KEEPALIVE:
                self._notify(p, c, bgp.ERR_FSM, 2)
                return
            self._established(p, c)
        elif c.state == ESTABLISHED:
            if mtype == bgp.UPDATE:
                p.updates_rcvd += 1
                self._update(p, msg)
            elif mtype == bgp.OPEN:
                self._notify(p, c, bgp.ERR_FSM, 3)

    def _open(self, p: Peer, c: Conn, o: Open) -> None:
        expect = p.cfg.remote_as
        ebgp_kind = p.cfg.kind
        if ebgp_kind == "as" and o.asn != expect or ebgp_kind == "internal" and o.asn != self.asn \
                or ebgp_kind == "external" and o.asn == self.asn:
            self._notify(p, c, bgp.ERR_OPEN, bgp.OPEN_BAD_PEER_AS, (o.asn if o.asn <= 0xFFFF else bgp.AS_TRANS)
                         .to_bytes(2, "big"))
            return
        if o.hold_time in (1, 2):
            self._notify(p, c, bgp.ERR_OPEN, bgp.OPEN_BAD_HOLD)
            return
        if o.router_id == 0 or o.router_id == self.router_id() and not self._is_ebgp(p):
            self._notify(p, c, bgp.ERR_OPEN, bgp.OPEN_BAD_ID)
            return
        # connection collision (RFC 4271 §6.8): keep the one the higher identifier opened
        for other in list(p.conns):
            if other is c or other.state != OPENCONFIRM:
                continue
            keep_ours = self.router_id() > o.router_id
            loser = c if (c.initiated != keep_ours) else other
            self._notify(p, loser, bgp.ERR_CEASE, bgp.CEASE_COLLISION)
            if loser is c:
                return
        c.open = o
        c.as4 = o.as4
        ka, hold = self._timers(p)
        c.hold = min(hold, o.hold_time)
        c.keepalive = min(ka, c.hold // 3) if c.hold else 0
        p.remote_id, p.remote_as, p.hostname = o.router_id, o.asn, o.hostname
        c.state = OPENCONFIRM
        self._send(c, bgp.encode_keepalive(), p)
        self._arm_hold(p, c)
        self._peer_state(p)

    def _arm_hold(self, p: Peer, c: Conn) -> None:
        if not c.hold:
            return
        c.timer_gen += 1
        gen = c.timer_gen
        self.after(c.hold * NSEC, self._hold_check, p, c, gen)

    def _hold_check(self, p: Peer, c: Conn, gen: int) -> None:
        if gen != c.timer_gen or (c not in p.conns and c is not p.conn):
            return
        expire = c.last_read + c.hold * NSEC
        now = self.ns.sched.now
        if now < expire:
            self.after(expire - now, self._hold_check, p, c, gen)
            return
        self._notify(p, c, bgp.ERR_HOLD, 0)
        if p.conn is None and p.last_reset == "":
            p.last_reset = "BGP Notification send"

    def _keepalive(self, p: Peer, c: Conn, gen: int) -> None:
        if c is not p.conn or gen != p.gen:
            return
        self._send(c, bgp.encode_keepalive(), p)
        self.after(c.keepalive * NSEC, self._keepalive, p, c, gen)

    def _established(self, p: Peer, c: Conn) -> None:
        for other in list(p.conns):
            if other is not c:
                self._drop_conn(p, other)
        p.conns = []
        p.conn = c
        c.state = ESTABLISHED
        p.state = ESTABLISHED
        p.gen += 1
        p.since = self.ns.sched.now
        p.established_count += 1
        if c.keepalive:
            self.after(c.keepalive * NSEC, self._keepalive, p, c, p.gen)
        p.adj_out = {}
        self._schedule_out()

    def _peer_stop(self, p: Peer, subcode: int, why: str) -> None:
        for c in list(p.conns):
            self._drop_conn(p, c)
        if p.conn is not None:
            self._send(p.conn, bgp.encode_notification(bgp.ERR_CEASE, subcode), p)
            self._peer_down(p, why, restart=False)
        p.state = IDLE
        p.gen += 1

    def clear(self, addr: int | None) -> bool:
        """`clear ip bgp *|A.B.C.D`: a hard reset — Cease/Administrative Reset (6/4) to each
        established session, which starts over after the start timer. False: no such neighbor."""
        if addr is not None and addr not in self.peers:
            return False
        for p in self.peers.values():
            if addr is not None and p.addr != addr:
                continue
            if p.conn is not None:
                self._send(p.conn, bgp.encode_notification(bgp.ERR_CEASE, bgp.CEASE_ADMIN_RESET), p)
                self._peer_down(p, "User reset")
        return True

    def _peer_down(self, p: Peer, why: str, restart: bool = True) -> None:
        """The session ends: its routes go, and the peer starts over after the start timer."""
        c = p.conn
        p.conn = None
        if c is not None:
            c.timer_gen += 1
            c.sk.on_data = c.sk.on_close = c.sk.on_connect = None
            c.sk.on_error = None
            c.sk.close()
            p.dropped_count += 1
            p.since = self.ns.sched.now
        for x in list(p.conns):
            self._drop_conn(p, x)
        p.state = IDLE
        p.last_reset = why
        p.gen += 1
        gone = list(p.adj_in)
        p.adj_in.clear()
        p.adj_out.clear()
        self._queue(gone)
        if restart and not p.cfg.shutdown:
            p.start_pending = True
            self.after(START_TIMER, self._start_timer, p, p.gen)

    def _start_timer(self, p: Peer, gen: int) -> None:
        p.start_pending = False
        if gen != p.gen or self.peers.get(p.addr) is not p:
            return
        connected = [e for e in rib(self.ns, self.started) if e.kind == "C"]
        if self._reachable(p, connected):
            self._connect(p)
        else:
            p.gen += 1          # stays Idle; the next interface change starts it

    # -- UPDATE in --------------------------------------------------------------------
    def _policy_blocks(self, p: Peer) -> bool:
        b = self.conf.bgp
        return b is not None and b.ebgp_requires_policy and self._is_ebgp(p)

    def _update(self, p: Peer, u: Update) -> None:
        touched: set[tuple[int, int]] = set()
        for prefix in u.withdrawn:
            if p.adj_in.pop(prefix, None) is not None:
                touched.add(prefix)
        if u.nlri and u.attrs is not None:
            a = u.attrs
            loop = any(asn == self.asn for _, seg in a.as_path for asn in seg)
            ebgp = self._is_ebgp(p)
            now = self.ns.sched.now
            for prefix in u.nlri:
                old = p.adj_in.pop(prefix, None)
                if old is not None:
                    touched.add(prefix)
                if loop or self._policy_blocks(p) or not p.cfg.activated:
                    continue
                p.adj_in[prefix] = Path(prefix, p, a.origin or 0, a.as_path, a.next_hop or 0, a.med,
                                        None if ebgp else a.local_pref, 0, now)
                touched.add(prefix)
        self._queue(touched)

    def _queue(self, prefixes: set[tuple[int, int]] | list[tuple[int, int]]) -> None:
        """bgp_process: the prefixes wait on the work queue, which runs once the messages that
        arrived at this instant are read, so paths arriving together are compared together."""
        if not prefixes:
            return
        if not self.pending:
            self.after(0, self._run_queue)
        self.pending.update(prefixes)

    def _run_queue(self) -> None:
        todo, self.pending = sorted(self.pending), set()
        for prefix in todo:
            self._decide(prefix)
        self._schedule_out()

    # -- decision process -------------------------------------------------------------
    def _resolve(self, path: Path) -> tuple[int, Any] | None:
        """Nexthop tracking: where the path's NEXT_HOP is reached (a connected route for a
        directly connected eBGP peer; any route but the default one otherwise)."""
        nh = path.next_hop
        entries = rib(self.ns, self.started)
        best: RibEntry | None = None
        for e in entries:
            mask = ((1 << e.plen) - 1) << (32 - e.plen) if e.plen else 0
            if e.plen and nh & mask == e.dst and (best is None or e.plen > best.plen):
                best = e
        if best is None:
            return None
        assert path.peer is not None
        if self._is_ebgp(path.peer) and best.kind != "C":
            return None
        gw, devname = best.nexthops[0]
        dev = self.ns.devices.get(devname)
        if dev is None:
            return None
        return (nh if gw is None else gw, dev)

    def _candidates(self, prefix: tuple[int, int]) -> list[Path]:
        out: list[Path] = []
        lp = self.local.get(prefix)
        for p in self.peers.values():
            path = p.adj_in.get(prefix)
            if path is not None:
                path.resolved = self._resolve(path)
                path.valid = path.resolved is not None
                out.append(path)
        out.sort(key=lambda x: -x.since)          # FRR keeps the newest path first
        if lp is not None:
            out.insert(0, lp)
        return out

    def _lp(self, x: Path) -> int:
        b = self.conf.bgp
        default = b.local_pref if b is not None else 100
        return x.local_pref if x.local_pref is not None else default

    def _cmp(self, new: Path, exist: Path) -> tuple[int, str, bool]:
        """bgp_path_info_cmp: (>0 new better, <0 exist better, reason, paths equal for multipath)."""
        if new.weight != exist.weight:
            return (1 if new.weight > exist.weight else -1), "Weight", False
        if self._lp(new) != self._lp(exist):
            return (1 if self._lp(new) > self._lp(exist) else -1), "Local Pref", False
        if (new.peer is None) != (exist.peer is None):
            return (1 if new.peer is None else -1), "Local Route", False
        if new.path_len() != exist.path_len():
            return (1 if new.path_len() < exist.path_len() else -1), "AS Path", False
        if new.origin != exist.origin:
            return (1 if new.origin < exist.origin else -1), "Origin", False
        if new.neighbor_as() == exist.neighbor_as():
            nm, em = new.med or 0, exist.med or 0
            if nm != em:
                return (1 if nm < em else -1), "MED", False
        new_e = new.peer is not None and self._is_ebgp(new.peer)
        exist_e = exist.peer is not None and self._is_ebgp(exist.peer)
        if new_e != exist_e:
            return (1 if new_e else -1), ("eBGP peer" if new_e else "iBGP peer"), False
        b = self.conf.bgp
        eq = False
        if new.peer is not None and exist.peer is not None:
            if b is not None and b.multipath_relax:
                eq = True
            elif not new_e:
                eq = new.as_path == exist.as_path
            else:
                eq = new.peer.remote_as == exist.peer.remote_as
        if new_e and exist_e and not (b is not None and b.compare_routerid):
            if self.best.get(new.prefix) is new:
                return 1, "Older Path", eq
            if self.best.get(exist.prefix) is exist:
                return -1, "Older Path", eq
        nid = new.peer.remote_id if new.peer is not None else self.router_id()
        eid = exist.peer.remote_id if exist.peer is not None else self.router_id()
        if nid != eid:
            return (1 if nid < eid else -1), "Router ID", eq
        na = new.peer.addr if new.peer is not None else 0
        ea = exist.peer.addr if exist.peer is not None else 0
        if na != ea:
            return (1 if na < ea else -1), "Neighbor IP", eq
        return -1, "", eq

    def _select(self, paths: list[Path]) -> tuple[Path, str]:
        """The best of `paths` by comparing each with the best so far; the last comparison's reason."""
        best = paths[0]
        reason = "First path received" if len(paths) == 1 else ""
        for x in paths[1:]:
            r, why, _ = self._cmp(x, best)
            if r > 0:
                best = x
            reason = why
        return best, reason

    def _decide(self, prefix: tuple[int, int]) -> None:
        paths = [x for x in self._candidates(prefix) if x.valid]
        old = self.best.get(prefix)
        if not paths:
            self.best.pop(prefix, None)
            self.dmed.pop(prefix, None)
            self.multipath.pop(prefix, None)
            self.reason.pop(prefix, None)
            if old is not None:
                self.table_version += 1
                self.version[prefix] = self.table_version
            self._zebra(prefix)
            return
        b = self.conf.bgp
        if b is not None and b.deterministic_med:
            # bgp deterministic-med: the best of each neighbouring AS first (BGP_PATH_DMED_SELECTED),
            # then the best of those
            groups: dict[int | None, list[Path]] = {}
            for x in paths:
                groups.setdefault(x.neighbor_as(), []).append(x)
            chosen = [self._select(g) for g in groups.values()]
            self.dmed[prefix] = [c[0] for c in chosen]
            # one AS: the reason is its group's comparison (FRR keeps dest->reason from the dmed pass)
            best, reason = chosen[0] if len(chosen) == 1 else self._select(self.dmed[prefix])
        else:
            self.dmed.pop(prefix, None)
            best, reason = self._select(paths)
        mp = [best]
        limit = 1
        if best.peer is not None and b is not None:
            limit = b.maximum_paths if self._is_ebgp(best.peer) else b.maximum_paths_ibgp
        for x in paths:
            if x is best or len(mp) >= limit:
                continue
            r, _, eq = self._cmp(x, best)
            if eq and r != 0:
                mp.append(x)
        self.best[prefix] = best
        self.reason[prefix] = reason
        self.multipath[prefix] = mp
        if old is not best:
            self.table_version += 1
            self.version[prefix] = self.table_version
        self._zebra(prefix)

    def _zebra(self, prefix: tuple[int, int]) -> None:
        z = self.zebra()
        if z is None:
            return
        best = self.best.get(prefix)
        if best is None or best.peer is None:
            z.withdraw(*prefix)
            return
        hops: list[tuple[int, int, Any]] = []
        for x in self.multipath.get(prefix, [best]):
            if x.resolved is not None and (x.next_hop, *x.resolved) not in hops:
                hops.append((x.next_hop, *x.resolved))
        distance = DISTANCE_EBGP if self._is_ebgp(best.peer) else DISTANCE_IBGP
        z.install(prefix[0], prefix[1], distance, hops)

    def installed(self, prefix: tuple[int, int]) -> bool:
        z = self.zebra()
        return z is not None and prefix in z.installed

    # -- UPDATE out ---------------------------------------------------------------------
    def _schedule_out(self) -> None:
        if not self.dirty_out:
            self.dirty_out = True
            self.after(0, self._flush_out)

    def _out_attrs(self, p: Peer, best: Path) -> Attributes | None:
        assert p.conn is not None
        if not p.cfg.activated or self._policy_blocks(p):
            return None
        ebgp = self._is_ebgp(p)
        src = best.peer
        if src is not None and not self._is_ebgp(src) and not ebgp:
            return None                      # iBGP-learned to an iBGP peer
        local = p.conn.sk.laddr
        if ebgp:
            segs = list(best.as_path)
            if segs and segs[0][0] == bgp.AS_SEQUENCE and len(segs[0][1]) < 255:
                segs[0] = (bgp.AS_SEQUENCE, (self.asn, *segs[0][1]))
            else:
                segs.insert(0, (bgp.AS_SEQUENCE, (self.asn,)))
            return Attributes(origin=best.origin, as_path=tuple(segs), next_hop=local,
                              med=best.med if src is None else None)
        nh = local if src is None or p.cfg.next_hop_self else best.next_hop
        return Attributes(origin=best.origin, as_path=best.as_path, next_hop=nh, med=best.med,
                          local_pref=self._lp(best))

    def _flush_out(self) -> None:
        self.dirty_out = False
        if not self.alive:
            return
        for p in self.peers.values():
            c = p.conn
            if c is None:
                continue
            want: dict[tuple[int, int], Attributes] = {}
            for prefix, best in self.best.items():
                a = self._out_attrs(p, best)
                if a is not None:
                    want[prefix] = a
            withdrawn = sorted(k for k in p.adj_out if k not in want)
            groups: dict[Any, list[tuple[int, int]]] = {}
            for prefix in sorted(want):
                if p.adj_out.get(prefix) != want[prefix]:
                    key = repr(want[prefix])
                    groups.setdefault(key, []).append(prefix)
            if withdrawn:
                for i in range(0, len(withdrawn), 800):
                    self._send(c, bgp.encode_update(Update(withdrawn=withdrawn[i:i + 800]), c.as4), p)
                    p.updates_sent += 1
            for prefixes in groups.values():
                a = want[prefixes[0]]
                for i in range(0, len(prefixes), 800):
                    self._send(c, bgp.encode_update(Update(attrs=a, nlri=prefixes[i:i + 800]), c.as4), p)
                    p.updates_sent += 1
            p.adj_out = want

    # -- what vtysh shows ---------------------------------------------------------------
    def paths(self, prefix: tuple[int, int]) -> list[Path]:
        return self._candidates(prefix)

    def prefixes(self) -> list[tuple[int, int]]:
        return sorted(set(self.local) | {k for p in self.peers.values() for k in p.adj_in})

    def pfx_rcvd(self, p: Peer) -> int:
        return len(p.adj_in)

    def is_ebgp(self, p: Peer) -> bool:
        return self._is_ebgp(p)

    def policy_blocks(self, p: Peer) -> bool:
        return self._policy_blocks(p)


def _on_connected(connected: list[RibEntry], addr: int) -> bool:
    for e in connected:
        mask = ((1 << e.plen) - 1) << (32 - e.plen) if e.plen else 0
        if addr & mask == e.dst:
            return True
    return False
