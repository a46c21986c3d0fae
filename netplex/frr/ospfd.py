"""ospfd (FRR 8.4's OSPFv2, RFC 2328) for one area: hellos, neighbours, DR election,
database exchange, flooding, SPF, and the routes it gives zebra.

An interface runs OSPF when one of its addresses is inside a `network ... area` prefix
(or it has `ip ospf area`), as ospf_network_run_interface decides. Per interface: one raw
socket of protocol 89 bound to it (SO_BINDTODEVICE), AllSPFRouters joined (AllDRouters too
while it is DR or Backup); hellos every hello-interval to 224.0.0.5 (none when passive);
network type broadcast (a DR and a Backup elected as RFC 2328 9.4 says, after the Waiting
state of one dead interval) or point-to-point (`ip ospf network point-to-point`); a
loopback is a host route of cost 0. Cost: `ip ospf cost`, else 10 (FRR: reference
bandwidth 100 Mbit/s over an interface with no known speed).

Neighbours follow RFC 2328 10.3's machine: Init, 2-Way (a broadcast network's DROthers stay
there), ExStart (the higher router ID is master), Exchange (the DD packets: all of the
database's headers in one, which holds 72 LSAs at MTU 1500: netplex's labs are smaller),
Loading (LSRs), Full. The inactivity timer is the dead interval; a neighbour that falls
below 2-Way is forgotten. LSAs: this router's router-LSA (13.4: a point-to-point link and
the link's stub network per Full p2p neighbour, a transit link for a broadcast network with
a DR that it is Full with, a stub otherwise) and, as DR with a Full neighbour, the
network-LSA. Flooding sends an LSA to every adjacent neighbour but the one it came from
(unicast, kept on the neighbour's retransmission list until acknowledged, resent every 5 s);
an LSA of ours that comes back newer is originated again with a higher sequence number. SPF
(16.1) runs 50 ms after a change (FRR's spf holdtime) and gives intra-area routes with every
equal-cost nexthop; zebra installs them as `proto ospf metric 20`, distance 110, and shows
the router's own networks as `O   ... is directly connected` (not selected: the connected
route wins). Not modelled, refused in frr.conf by name: several areas (ABR, summary LSAs),
virtual links, NSSA/stub areas, redistribution (type-5 LSAs), authentication, NBMA.
LSA ageing and the 30-minute refresh are not run (an LSA is removed by MaxAge when its
originator flushes it).
"""
from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.frr.config import FrrConfig
from netplex.packet import ospf as op
from netplex.packet.ipv4 import IPv4
from netplex.packet.ospf import Lsa, LsaHeader, OspfPacket, RouterLink
from netplex.stack.device import Loopback
from netplex.stack.igmp import ip_mc_join_group, ip_mc_leave_group
from netplex.stack.netns import IfAddr

__all__ = ["MAX_AGE", "OspfIf", "OspfNbr", "OspfRoute", "Ospfd"]

NSEC = 1_000_000_000
IPTOS_PREC_INTERNETCONTROL = 0xC0
MAX_AGE = 3600
INITIAL_SEQ = -0x7FFFFFFF          # 0x80000001
DEFAULT_COST = 10
RXMT_INTERVAL = 5 * NSEC
SPF_DELAY = 50_000_000
NBR_STATES = ("Down", "Attempt", "Init", "2-Way", "ExStart", "Exchange", "Loading", "Full")
DOWN, INIT, TWO_WAY, EXSTART, EXCHANGE, LOADING, FULL = 0, 2, 3, 4, 5, 6, 7


@dataclass(eq=False)
class OspfNbr:
    rid: int
    addr: int
    priority: int = 1
    dr: int = 0
    bdr: int = 0
    state: int = DOWN
    since: int = 0                         # ts_last_progress: the last state change
    dead_at: int = 0
    master: bool = False                   # the neighbour is master of the exchange
    dd_seq: int = 0
    exchange_sent_last: bool = False       # our last DD had M clear
    exchange_got_last: bool = False
    last_dd: OspfPacket | None = None      # the slave's last DD (resent on a duplicate)
    requests: dict[tuple[int, int, int], LsaHeader] = field(default_factory=dict)
    rxmt: dict[tuple[int, int, int], Lsa] = field(default_factory=dict)


@dataclass(eq=False)
class OspfIf:
    dev: Any
    addr: int
    plen: int
    area: int
    cost: int
    hello: int
    dead: int
    priority: int
    ptype: str                             # "broadcast" | "point-to-point" | "loopback"
    passive: bool
    sock: Any = None
    state: str = "Down"
    dr: int = 0                            # interface addresses, as hellos carry them
    bdr: int = 0
    wait_until: int = 0
    nbrs: dict[int, OspfNbr] = field(default_factory=dict)

    @property
    def mask(self) -> int:
        return ((1 << self.plen) - 1) << (32 - self.plen) if self.plen else 0

    @property
    def name(self) -> str:
        return str(self.dev.name)


@dataclass(slots=True)
class OspfRoute:
    dst: int
    plen: int
    cost: int
    nexthops: list[tuple[int | None, Any]]     # (gateway or None: directly connected, device)
    since: int


class Ospfd(Program):
    """The ospfd daemon of one namespace."""

    comm = "ospfd"
    vsz_kib, rss_kib = 27904, 9144

    def __init__(self, conf: FrrConfig, zebra: Callable[[], Any]) -> None:
        super().__init__()
        self.conf = conf
        self.zebra = zebra
        self.rid = 0
        self.area = 0
        self.ifs: dict[str, OspfIf] = {}
        self.lsdb: dict[tuple[int, int, int], Lsa] = {}
        self.routes: dict[tuple[int, int], OspfRoute] = {}
        self.spf_pending = False
        self.started = 0
        self.generation = 0

    # -- life -------------------------------------------------------------------------
    def start(self) -> None:
        oc = self.conf.ospf
        areas = {n[2] for n in oc.networks} if oc is not None else set()
        areas |= {ic.ospf.area[0] for ic in self.conf.interfaces.values() if ic.ospf.area is not None}
        if len(areas) > 1:
            raise ProgramExit(1, "netplex: ospfd: more than one area (an area border router) is not supported\n")
        self.area = areas.pop() if areas else 0
        self.started = self.ns.sched.now
        self.ns.rtnl_listeners.append(self._rtnl)
        self._sync_interfaces()

    def stop(self) -> None:
        z = self.zebra()
        if z is not None:
            for key in list(self.routes):
                z.withdraw_proto(*key, proto="ospf")
        self.routes.clear()

    def close_owned(self) -> None:
        if self._rtnl in self.ns.rtnl_listeners:
            self.ns.rtnl_listeners.remove(self._rtnl)
        super().close_owned()

    def _rtnl(self) -> None:
        if self.alive:
            self.after(0, self._sync_interfaces)

    def router_id(self) -> int:
        """`ospf router-id`, else zebra's: the highest address on a loopback, else the highest
        address of any interface (zebra/router-id.c router_id_get; 127/8 is not one)."""
        oc = self.conf.ospf
        if oc is not None and oc.router_id is not None:
            return oc.router_id
        loop = other = 0
        for addrs in self.ns.addrs.values():
            for a in addrs:
                if a.addr >> 24 == 127:
                    continue
                if isinstance(a.dev, Loopback):
                    loop = max(loop, a.addr)
                else:
                    other = max(other, a.addr)
        return loop or other

    # -- interfaces -----------------------------------------------------------------------
    def _wanted(self) -> dict[str, tuple[IfAddr, int]]:
        oc = self.conf.ospf
        out: dict[str, tuple[IfAddr, int]] = {}
        for idx in sorted(self.ns.addrs):
            for a in self.ns.addrs[idx]:
                dev = a.dev
                if a.secondary or a.addr >> 24 == 127 or not (dev.up and dev.has_carrier()) or dev.name in out:
                    continue
                ic = self.conf.interfaces.get(dev.name)
                if ic is not None and ic.ospf.area is not None:
                    out[dev.name] = (a, ic.ospf.area[0])
                    continue
                for dst, plen, area, _t in (oc.networks if oc is not None else []):
                    mask = ((1 << plen) - 1) << (32 - plen) if plen else 0
                    if a.addr & mask == dst and a.plen >= plen:
                        out[dev.name] = (a, area)
                        break
        return out

    def _sync_interfaces(self) -> None:
        if not self.alive:
            return
        if not self.rid:
            self.rid = self.router_id()
        wanted = self._wanted()
        changed = False
        for name in [n for n in self.ifs if n not in wanted or wanted[n][0].addr != self.ifs[n].addr]:
            self._if_down(self.ifs.pop(name))
            changed = True
        for name, (a, area) in wanted.items():
            if name in self.ifs:
                continue
            ic = self.conf.interfaces.get(name)
            p = ic.ospf if ic is not None else None
            loop = isinstance(a.dev, Loopback)
            ptype = "loopback" if loop else (p.network if p is not None and p.network else "broadcast")
            oi = OspfIf(a.dev, a.addr, a.plen, area,
                        cost=p.cost if p is not None and p.cost is not None else (0 if loop else DEFAULT_COST),
                        hello=p.hello if p is not None and p.hello else 10,
                        dead=p.dead if p is not None and p.dead else 4 * (p.hello if p is not None and p.hello else 10),
                        priority=p.priority if p is not None and p.priority is not None else 1,
                        ptype=ptype, passive=bool(p is not None and p.passive) or loop)
            self.ifs[name] = oi
            self._if_up(oi)
            changed = True
        if changed:
            self._originate()

    def _if_up(self, oi: OspfIf) -> None:
        if oi.ptype == "loopback":
            oi.state = "Loopback"
            return
        sk = oi.sock = self.own(self.ns.sockets.raw_socket(op.IPPROTO_OSPF))
        sk.bound_dev = oi.dev
        sk.hdrincl = True
        sk.on_recv = lambda data, src, oi=oi: self._recv(oi, data, src)
        if oi.passive:
            oi.state = "DROther" if oi.ptype == "broadcast" else "Point-To-Point"
            return
        ip_mc_join_group(self.ns, oi.dev, op.ALL_SPF_ROUTERS)
        if oi.ptype == "point-to-point":
            oi.state = "Point-To-Point"
        elif oi.priority == 0:
            oi.state = "DROther"
        else:
            oi.state = "Waiting"
            oi.wait_until = self.ns.sched.now + oi.dead * NSEC
            self.after(oi.dead * NSEC, self._wait_timer, oi)
        self.generation += 1
        self._hello_timer(oi, self.generation)

    def _if_down(self, oi: OspfIf) -> None:
        for nbr in list(oi.nbrs.values()):
            self._nbr_kill(oi, nbr, originate=False)
        if oi.sock is not None:
            if oi.dev.ifindex in self.ns.by_index:
                ip_mc_leave_group(self.ns, oi.dev, op.ALL_SPF_ROUTERS)
                ip_mc_leave_group(self.ns, oi.dev, op.ALL_DROUTERS)
            oi.sock.close()
            if oi.sock in self.owned:
                self.owned.remove(oi.sock)
            oi.sock = None
        oi.state = "Down"

    def _send(self, oi: OspfIf, p: OspfPacket, dst: int) -> None:
        """As ospf_write does: IP_HDRINCL, TTL 1 (OSPF_IP_TTL), TOS precedence internetwork control."""
        if oi.sock is not None and not oi.sock.closed:
            ip = IPv4(oi.addr, dst, op.IPPROTO_OSPF, op.encode(p), ttl=1, tos=IPTOS_PREC_INTERNETCONTROL)
            oi.sock.sendto(ip.encode())

    def _packet(self, ptype: int, oi: OspfIf) -> OspfPacket:
        return OspfPacket(ptype, self.rid, oi.area)

    # -- hellos ---------------------------------------------------------------------------
    def _hello_timer(self, oi: OspfIf, gen: int) -> None:
        if oi.sock is None or self.ifs.get(oi.name) is not oi:
            return
        p = self._packet(op.HELLO, oi)
        p.mask = oi.mask if oi.ptype == "broadcast" else 0
        p.hello_interval, p.dead_interval, p.priority = oi.hello, oi.dead, oi.priority
        p.dr, p.bdr = oi.dr, oi.bdr
        p.neighbors = sorted(n.rid for n in oi.nbrs.values() if n.state >= INIT)
        self._send(oi, p, op.ALL_SPF_ROUTERS)
        self.after(oi.hello * NSEC, self._hello_timer, oi, gen)

    def _recv(self, oi: OspfIf, data: bytes, src: int) -> None:
        if not self.alive or self.ifs.get(oi.name) is not oi:
            return
        ihl = (data[0] & 0x0F) * 4
        dst = int.from_bytes(data[16:20], "big")
        try:
            p = op.decode(data[ihl:])
        except (ValueError, IndexError):
            return
        if p.router_id == self.rid or p.area != oi.area:
            return
        if dst == op.ALL_DROUTERS and oi.state not in ("DR", "Backup"):
            return
        if p.type == op.HELLO:
            self._hello(oi, p, src)
            return
        nbr = oi.nbrs.get(p.router_id)
        if nbr is None:
            return
        if p.type == op.DBD:
            self._dbd(oi, nbr, p)
        elif p.type == op.LSR:
            self._lsr(oi, nbr, p)
        elif p.type == op.LSU:
            self._lsu(oi, nbr, p)
        elif p.type == op.LSACK:
            for h in p.headers:
                held = nbr.rxmt.get(h.key)
                if held is not None and held.header.seq == h.seq:
                    del nbr.rxmt[h.key]

    def _hello(self, oi: OspfIf, p: OspfPacket, src: int) -> None:
        """RFC 2328 10.5: the parameters must match, then the neighbour's state machine."""
        if p.hello_interval != oi.hello or p.dead_interval != oi.dead:
            return
        if oi.ptype == "broadcast" and p.mask != oi.mask:
            return
        if oi.passive:
            return
        now = self.ns.sched.now
        nbr = oi.nbrs.get(p.router_id)
        if nbr is None:
            nbr = oi.nbrs[p.router_id] = OspfNbr(p.router_id, src, since=now)
            self._set_state(oi, nbr, INIT)
            self.after(oi.dead * NSEC, self._inactivity, oi, nbr)
        nbr.addr = src
        nbr.dead_at = now + oi.dead * NSEC
        changed = (nbr.priority, nbr.dr, nbr.bdr) != (p.priority, p.dr, p.bdr)
        old_dr, old_bdr = nbr.dr, nbr.bdr
        nbr.priority, nbr.dr, nbr.bdr = p.priority, p.dr, p.bdr
        if self.rid in p.neighbors:
            if nbr.state == INIT:
                self._set_state(oi, nbr, TWO_WAY)
                self._adjacency_ok(oi, nbr)
        elif nbr.state >= TWO_WAY:
            self._nbr_reset(oi, nbr, INIT)
            changed = True
        if oi.ptype != "broadcast":
            return
        if oi.state == "Waiting" and ((p.dr == src and p.bdr == 0) or p.bdr == src):
            self._election(oi)             # BackupSeen
        elif oi.state != "Waiting" and (changed or (old_dr, old_bdr) != (p.dr, p.bdr)):
            self._election(oi)             # NeighborChange

    def _inactivity(self, oi: OspfIf, nbr: OspfNbr) -> None:
        if oi.nbrs.get(nbr.rid) is not nbr:
            return
        now = self.ns.sched.now
        if now < nbr.dead_at:
            self.after(nbr.dead_at - now, self._inactivity, oi, nbr)
            return
        self._nbr_kill(oi, nbr)

    def _nbr_kill(self, oi: OspfIf, nbr: OspfNbr, originate: bool = True) -> None:
        was_full = nbr.state == FULL
        del oi.nbrs[nbr.rid]
        nbr.state = DOWN
        if oi.ptype == "broadcast" and oi.state not in ("Waiting", "Down"):
            self._election(oi)
        if was_full and originate:
            self._originate()

    def _wait_timer(self, oi: OspfIf) -> None:
        if self.ifs.get(oi.name) is oi and oi.state == "Waiting":
            self._election(oi)

    def _set_state(self, oi: OspfIf, nbr: OspfNbr, state: int) -> None:
        if nbr.state != state:
            nbr.state = state
            nbr.since = self.ns.sched.now

    # -- DR election (RFC 2328 9.4) ---------------------------------------------------------
    def _election(self, oi: OspfIf) -> None:
        was, old_role = (oi.dr, oi.bdr), oi.state
        oi.dr, oi.bdr = self._elect(oi)
        role = _role_of(oi)
        if role != (old_role if old_role != "Waiting" else "DROther"):
            oi.dr, oi.bdr = self._elect(oi)          # step 4: again, with this router's new declaration
            role = _role_of(oi)
        oi.state = role
        if role in ("DR", "Backup"):
            ip_mc_join_group(self.ns, oi.dev, op.ALL_DROUTERS)
        else:
            ip_mc_leave_group(self.ns, oi.dev, op.ALL_DROUTERS)
        if (oi.dr, oi.bdr) != was or role != old_role:
            for nbr in list(oi.nbrs.values()):
                if nbr.state == TWO_WAY:
                    self._adjacency_ok(oi, nbr)
                elif nbr.state >= EXSTART and not self._should_adjacent(oi, nbr):
                    self._nbr_reset(oi, nbr, TWO_WAY)
            self._originate()

    def _elect(self, oi: OspfIf) -> tuple[int, int]:
        """Steps 2 and 3: (DR, BDR) from the eligible routers' (priority, router ID) and declarations."""
        cands = [(oi.priority, self.rid, oi.addr, oi.dr, oi.bdr)] if oi.priority else []
        cands += [(n.priority, n.rid, n.addr, n.dr, n.bdr) for n in oi.nbrs.values()
                  if n.state >= TWO_WAY and n.priority]
        not_dr = [c for c in cands if c[3] != c[2]]
        pool = [c for c in not_dr if c[4] == c[2]] or not_dr
        bdr = max(pool)[2] if pool else 0
        declared_dr = [c for c in cands if c[3] == c[2]]
        return (max(declared_dr)[2] if declared_dr else bdr), bdr

    # -- adjacency and database exchange ------------------------------------------------------
    def _should_adjacent(self, oi: OspfIf, nbr: OspfNbr) -> bool:
        if oi.ptype == "point-to-point":
            return True
        return oi.state in ("DR", "Backup") or nbr.addr in (oi.dr, oi.bdr)

    def _adjacency_ok(self, oi: OspfIf, nbr: OspfNbr) -> None:
        if nbr.state != TWO_WAY or not self._should_adjacent(oi, nbr):
            return
        if oi.ptype == "broadcast" and oi.state == "Waiting":
            return
        self._set_state(oi, nbr, EXSTART)
        nbr.dd_seq = (self.ns.sched.now // 1_000_000 + self.rid) & 0x7FFFFFFF or 1
        nbr.master = False
        nbr.exchange_sent_last = nbr.exchange_got_last = False
        self._exstart_send(oi, nbr, nbr.dd_seq)

    def _nbr_reset(self, oi: OspfIf, nbr: OspfNbr, state: int) -> None:
        was_full = nbr.state == FULL
        nbr.requests.clear()
        nbr.rxmt.clear()
        nbr.last_dd = None
        self._set_state(oi, nbr, state)
        if was_full:
            self._originate()

    def _exstart_send(self, oi: OspfIf, nbr: OspfNbr, seq: int) -> None:
        if oi.nbrs.get(nbr.rid) is not nbr or nbr.state != EXSTART or nbr.dd_seq != seq:
            return
        p = self._packet(op.DBD, oi)
        p.mtu, p.dd_flags, p.dd_seq = oi.dev.mtu, op.DBD_I | op.DBD_M | op.DBD_MS, seq
        self._send(oi, p, self._nbr_dst(oi, nbr))
        self.after(RXMT_INTERVAL, self._exstart_send, oi, nbr, seq)

    @staticmethod
    def _nbr_dst(oi: OspfIf, nbr: OspfNbr) -> int:
        return op.ALL_SPF_ROUTERS if oi.ptype == "point-to-point" else nbr.addr

    def _headers(self) -> list[LsaHeader]:
        return [lsa.header for _k, lsa in sorted(self.lsdb.items())]

    def _dd(self, oi: OspfIf, nbr: OspfNbr, flags: int, headers: list[LsaHeader]) -> OspfPacket:
        p = self._packet(op.DBD, oi)
        p.mtu, p.dd_flags, p.dd_seq, p.headers = oi.dev.mtu, flags, nbr.dd_seq, headers
        return p

    def _dbd(self, oi: OspfIf, nbr: OspfNbr, p: OspfPacket) -> None:
        """RFC 2328 10.6, with every header of the database in one DD packet."""
        if nbr.state == INIT:
            self._set_state(oi, nbr, TWO_WAY)
            self._adjacency_ok(oi, nbr)
        if nbr.state < EXSTART:
            return
        init = p.dd_flags & op.DBD_I and p.dd_flags & op.DBD_MS and not p.headers
        if nbr.state == EXSTART:
            if init and p.router_id > self.rid:          # we are the slave
                nbr.master, nbr.dd_seq = True, p.dd_seq
                self._set_state(oi, nbr, EXCHANGE)
                nbr.last_dd = self._dd(oi, nbr, 0, self._headers())
                nbr.exchange_sent_last = True
                self._send(oi, nbr.last_dd, self._nbr_dst(oi, nbr))
                return
            if (not p.dd_flags & (op.DBD_I | op.DBD_MS) and p.dd_seq == nbr.dd_seq
                    and p.router_id < self.rid):          # we are the master
                self._set_state(oi, nbr, EXCHANGE)
                self._dd_headers(nbr, p)
                nbr.dd_seq += 1
                nbr.exchange_sent_last = True
                nbr.exchange_got_last = not p.dd_flags & op.DBD_M
                self._send(oi, self._dd(oi, nbr, op.DBD_MS, self._headers()), self._nbr_dst(oi, nbr))
            return
        if nbr.state == EXCHANGE:
            if nbr.master:
                if p.dd_seq == nbr.dd_seq and nbr.last_dd is not None:      # a duplicate: resend
                    self._send(oi, nbr.last_dd, self._nbr_dst(oi, nbr))
                    return
                if p.dd_seq != nbr.dd_seq + 1 or init:
                    return
                nbr.dd_seq = p.dd_seq
                self._dd_headers(nbr, p)
                nbr.last_dd = self._dd(oi, nbr, 0, [])
                self._send(oi, nbr.last_dd, self._nbr_dst(oi, nbr))
                if not p.dd_flags & op.DBD_M:
                    self._exchange_done(oi, nbr)
                return
            if p.dd_seq != nbr.dd_seq or init:
                return
            self._dd_headers(nbr, p)
            self._exchange_done(oi, nbr)
            return
        if init and nbr.state >= LOADING:                 # SeqNumberMismatch: start again
            self._nbr_reset(oi, nbr, TWO_WAY)
            self._adjacency_ok(oi, nbr)

    def _dd_headers(self, nbr: OspfNbr, p: OspfPacket) -> None:
        for h in p.headers:
            mine = self.lsdb.get(h.key)
            if mine is None or _newer(h, mine.header) > 0:
                nbr.requests[h.key] = h

    def _exchange_done(self, oi: OspfIf, nbr: OspfNbr) -> None:
        if not nbr.requests:
            self._full(oi, nbr)
            return
        self._set_state(oi, nbr, LOADING)
        self._send_lsr(oi, nbr)

    def _send_lsr(self, oi: OspfIf, nbr: OspfNbr) -> None:
        if oi.nbrs.get(nbr.rid) is not nbr or nbr.state != LOADING or not nbr.requests:
            return
        p = self._packet(op.LSR, oi)
        p.requests = sorted(nbr.requests)
        self._send(oi, p, self._nbr_dst(oi, nbr))
        self.after(RXMT_INTERVAL, self._send_lsr, oi, nbr)

    def _full(self, oi: OspfIf, nbr: OspfNbr) -> None:
        self._set_state(oi, nbr, FULL)
        self._originate()

    def _lsr(self, oi: OspfIf, nbr: OspfNbr, p: OspfPacket) -> None:
        if nbr.state < EXCHANGE:
            return
        lsas = [self.lsdb[k] for k in p.requests if k in self.lsdb]
        if len(lsas) != len(p.requests):                  # BadLSReq
            self._nbr_reset(oi, nbr, TWO_WAY)
            self._adjacency_ok(oi, nbr)
            return
        self._send_lsu(oi, nbr, lsas)

    # -- flooding (RFC 2328 13) -------------------------------------------------------------------
    def _send_lsu(self, oi: OspfIf, nbr: OspfNbr, lsas: list[Lsa]) -> None:
        p = self._packet(op.LSU, oi)
        p.lsas = lsas
        self._send(oi, p, self._nbr_dst(oi, nbr))

    def _flood(self, lsa: Lsa, skip: OspfNbr | None) -> None:
        for oi in self.ifs.values():
            for nbr in oi.nbrs.values():
                if nbr is skip or nbr.state < EXCHANGE:
                    continue
                if nbr.state < FULL:
                    req = nbr.requests.get(lsa.header.key)
                    if req is not None and _newer(req, lsa.header) >= 0:
                        if _newer(req, lsa.header) == 0:
                            del nbr.requests[lsa.header.key]
                        continue
                nbr.rxmt[lsa.header.key] = lsa
                self._send_lsu(oi, nbr, [lsa])
                self._arm_rxmt(oi, nbr)

    def _arm_rxmt(self, oi: OspfIf, nbr: OspfNbr) -> None:
        self.after(RXMT_INTERVAL, self._rxmt, oi, nbr)

    def _rxmt(self, oi: OspfIf, nbr: OspfNbr) -> None:
        if oi.nbrs.get(nbr.rid) is not nbr or not nbr.rxmt or nbr.state < EXCHANGE:
            return
        self._send_lsu(oi, nbr, list(nbr.rxmt.values()))
        self._arm_rxmt(oi, nbr)

    def _lsu(self, oi: OspfIf, nbr: OspfNbr, p: OspfPacket) -> None:
        if nbr.state < EXCHANGE:
            return
        acks: list[LsaHeader] = []
        for lsa in p.lsas:
            h = lsa.header
            if h.type not in (op.LSA_ROUTER, op.LSA_NETWORK):
                continue
            mine = self.lsdb.get(h.key)
            cmp = 1 if mine is None else _newer(h, mine.header)
            if cmp > 0:
                if h.adv == self.rid or (h.type == op.LSA_NETWORK and self._own_network_id(h.id)):
                    # 13.4: our own LSA, newer than ours: originate it again above its number
                    acks.append(h)
                    self._reoriginate_above(lsa)
                    continue
                self._install(lsa)
                self._flood(lsa, nbr)
                acks.append(h)
                req = nbr.requests.get(h.key)
                if req is not None and _newer(h, req) >= 0:
                    del nbr.requests[h.key]
            elif cmp == 0:
                if h.key in nbr.rxmt:
                    del nbr.rxmt[h.key]           # an implied acknowledgment
                else:
                    acks.append(h)
            elif mine is not None:
                self._send_lsu(oi, nbr, [mine])   # ours is newer: send it back
        if acks:
            ack = self._packet(op.LSACK, oi)
            ack.headers = acks
            self._send(oi, ack, self._nbr_dst(oi, nbr))
        if nbr.state == LOADING and not nbr.requests:
            self._full(oi, nbr)

    def _own_network_id(self, lsid: int) -> bool:
        return any(oi.addr == lsid for oi in self.ifs.values())

    def _install(self, lsa: Lsa) -> None:
        if lsa.header.age >= MAX_AGE:
            self.lsdb.pop(lsa.header.key, None)
        else:
            self.lsdb[lsa.header.key] = lsa
        self._schedule_spf()

    # -- origination (RFC 2328 12.4) ------------------------------------------------------------
    def _router_links(self) -> list[RouterLink]:
        links: list[RouterLink] = []
        for oi in sorted(self.ifs.values(), key=lambda o: o.dev.ifindex):
            if oi.state == "Down":
                continue
            net = oi.addr & oi.mask
            if oi.ptype == "loopback":
                links.append(RouterLink(oi.addr, 0xFFFFFFFF, op.LINK_STUB, 0))
                continue
            if oi.ptype == "point-to-point":
                for nbr in oi.nbrs.values():
                    if nbr.state == FULL:
                        links.append(RouterLink(nbr.rid, oi.addr, op.LINK_P2P, oi.cost))
                links.append(RouterLink(net, oi.mask, op.LINK_STUB, oi.cost))
                continue
            full_with_dr = (oi.state == "DR" and any(n.state == FULL for n in oi.nbrs.values())) or any(
                n.state == FULL and n.addr == oi.dr for n in oi.nbrs.values())
            if oi.state != "Waiting" and oi.dr and full_with_dr:
                links.append(RouterLink(oi.dr, oi.addr, op.LINK_TRANSIT, oi.cost))
            else:
                links.append(RouterLink(net, oi.mask, op.LINK_STUB, oi.cost))
        return links

    def _next_seq(self, key: tuple[int, int, int]) -> int:
        old = self.lsdb.get(key)
        return INITIAL_SEQ if old is None else old.header.seq + 1

    def _originate(self) -> None:
        if not self.alive or not self.rid:
            return
        key = (op.LSA_ROUTER, self.rid, self.rid)
        lsa = Lsa(LsaHeader(0, op.OPTION_E, op.LSA_ROUTER, self.rid, self.rid, self._next_seq(key)),
                  links=self._router_links())
        old = self.lsdb.get(key)
        if old is None or old.links != lsa.links:
            lsa.encode()
            self._install(lsa)
            self._flood(lsa, None)
        for oi in self.ifs.values():
            if oi.ptype != "broadcast":
                continue
            nkey = (op.LSA_NETWORK, oi.addr, self.rid)
            full = sorted(n.rid for n in oi.nbrs.values() if n.state == FULL)
            old = self.lsdb.get(nkey)
            if oi.state == "DR" and full:
                net = Lsa(LsaHeader(0, op.OPTION_E, op.LSA_NETWORK, oi.addr, self.rid, self._next_seq(nkey)),
                          mask=oi.mask, routers=[self.rid, *full])
                if old is None or old.routers != net.routers or old.mask != net.mask:
                    net.encode()
                    self._install(net)
                    self._flood(net, None)
            elif old is not None:
                self._flush(old)
        for k, old in list(self.lsdb.items()):          # a network-LSA of an interface gone
            if k[0] == op.LSA_NETWORK and k[2] == self.rid and not any(
                    oi.addr == k[1] and oi.state == "DR" for oi in self.ifs.values()):
                self._flush(old)

    def _flush(self, old: Lsa) -> None:
        gone = Lsa(LsaHeader(MAX_AGE, old.header.options, old.header.type, old.header.id, old.header.adv,
                             old.header.seq), old.flags, list(old.links), old.mask, list(old.routers), old.raw)
        gone.encode()
        self._install(gone)
        self._flood(gone, None)

    def _reoriginate_above(self, theirs: Lsa) -> None:
        h = theirs.header
        mine = self.lsdb.get(h.key)
        if mine is None:                                  # not ours any more: flush it
            self.lsdb[h.key] = theirs
            self._flush(theirs)
            return
        mine.header.seq = h.seq
        fresh = Lsa(LsaHeader(0, mine.header.options, h.type, h.id, h.adv, h.seq + 1), mine.flags,
                    list(mine.links), mine.mask, list(mine.routers))
        fresh.encode()
        self._install(fresh)
        self._flood(fresh, None)

    # -- SPF (RFC 2328 16.1) ------------------------------------------------------------------------
    def _schedule_spf(self) -> None:
        if not self.spf_pending:
            self.spf_pending = True
            self.after(SPF_DELAY, self._spf)

    def _spf(self) -> None:
        self.spf_pending = False
        routes = self.compute_routes()
        self._install_routes(routes)

    def compute_routes(self) -> dict[tuple[int, int], OspfRoute]:
        now = self.ns.sched.now
        root = (op.LSA_ROUTER, self.rid)
        db: dict[tuple[int, int], Lsa] = {}
        for (t, lid, _adv), lsa in self.lsdb.items():
            if lsa.header.age < MAX_AGE:
                db[(t, lid)] = lsa
        if root not in db:
            return {}
        dist: dict[tuple[int, int], int] = {root: 0}
        hops: dict[tuple[int, int], set[tuple[int | None, str]]] = {root: set()}
        done: set[tuple[int, int]] = set()
        heap: list[tuple[int, int, int, int]] = [(0, 0, root[0], root[1])]
        count = 0
        while heap:
            d, _, vt, vid = heapq.heappop(heap)
            v = (vt, vid)
            if v in done:
                continue
            done.add(v)
            vl = db[v]
            edges: list[tuple[tuple[int, int], int, RouterLink | None]] = []
            if vt == op.LSA_ROUTER:
                for ln in vl.links:
                    if ln.type == op.LINK_P2P:
                        edges.append(((op.LSA_ROUTER, ln.id), ln.metric, ln))
                    elif ln.type == op.LINK_TRANSIT:
                        edges.append(((op.LSA_NETWORK, ln.id), ln.metric, ln))
            else:
                edges = [((op.LSA_ROUTER, r), 0, None) for r in vl.routers]
            for w, cost, via in edges:
                wl = db.get(w)
                if wl is None or w in done or not _links_back(wl, v, vl):
                    continue
                nd = d + cost
                nh = self._nexthops(v, w, via, hops[v], db)
                if not nh:
                    continue
                if w not in dist or nd < dist[w]:
                    dist[w], hops[w] = nd, set(nh)
                    count += 1
                    heapq.heappush(heap, (nd, count, w[0], w[1]))
                elif nd == dist[w]:
                    hops[w] |= nh
        routes: dict[tuple[int, int], OspfRoute] = {}

        def add(dst: int, plen: int, cost: int, nhs: set[tuple[int | None, str]]) -> None:
            key = (dst, plen)
            old = routes.get(key)
            if old is None or cost < old.cost:
                routes[key] = OspfRoute(dst, plen, cost, sorted(nhs, key=_nh_order), now)
            elif cost == old.cost:
                routes[key] = OspfRoute(dst, plen, cost, sorted(set(old.nexthops) | nhs, key=_nh_order), now)

        for v in sorted(done):
            lsa = db[v]
            if v[0] == op.LSA_NETWORK:
                plen = bin(lsa.mask).count("1")
                add(v[1] & lsa.mask, plen, dist[v], hops[v])
                continue
            for ln in lsa.links:
                if ln.type == op.LINK_STUB:
                    plen = bin(ln.data).count("1")
                    own: set[tuple[int | None, str]] = {(None, self._stub_dev(ln))}
                    nhs = hops[v] if v != root else own
                    if v == root and (None, "") in nhs:
                        continue
                    add(ln.id & ln.data, plen, dist[v] + ln.metric, nhs)
        return routes

    def _stub_dev(self, ln: RouterLink) -> str:
        for oi in self.ifs.values():
            if oi.addr & oi.mask == ln.id and oi.mask == ln.data or (oi.ptype == "loopback" and oi.addr == ln.id):
                return oi.name
        return ""

    def _nexthops(self, v: tuple[int, int], w: tuple[int, int], ln: RouterLink | None,
                  parent: set[tuple[int | None, str]], db: dict[tuple[int, int], Lsa]) -> set[tuple[int | None, str]]:
        """RFC 2328 16.1.1: the next hops to w through v."""
        if v == (op.LSA_ROUTER, self.rid):
            assert ln is not None
            oi = next((o for o in self.ifs.values() if o.addr == ln.data), None)
            if oi is None:
                return set()
            if w[0] == op.LSA_NETWORK:
                return {(None, oi.name)}
            nbr = oi.nbrs.get(w[1])
            return {(nbr.addr, oi.name)} if nbr is not None else set()
        if v[0] == op.LSA_NETWORK and any(gw is None for gw, _ in parent):
            # the network is attached to this router: the next hop is w's address on it
            wl = db[w]
            out: set[tuple[int | None, str]] = set()
            for gw, dev in parent:
                if gw is None:
                    for wl_link in wl.links:
                        if wl_link.type == op.LINK_TRANSIT and wl_link.id == v[1]:
                            out.add((wl_link.data, dev))
            return out
        return set(parent)

    def _install_routes(self, routes: dict[tuple[int, int], OspfRoute]) -> None:
        z = self.zebra()
        old = self.routes
        for key, r in routes.items():
            prev = old.get(key)
            if prev is not None and (prev.cost, prev.nexthops) == (r.cost, r.nexthops):
                r.since = prev.since
        self.routes = routes
        if z is None:
            return
        for key in old:
            if key not in routes:
                z.withdraw_proto(*key, proto="ospf")
        for key, r in routes.items():
            if all(gw is None for gw, _ in r.nexthops):
                z.withdraw_proto(*key, proto="ospf")
                continue
            prev = old.get(key)
            if prev is not None and (prev.cost, prev.nexthops) == (r.cost, r.nexthops) and z.has_route(*key):
                continue
            devs = self.ns.devices
            nhs = [(gw, gw, devs[d]) for gw, d in r.nexthops if gw is not None and d in devs]
            if nhs:
                z.install(r.dst, r.plen, 110, nhs, proto="ospf")

    # -- what vtysh shows ------------------------------------------------------------------------
    def neighbors(self) -> list[tuple[OspfIf, OspfNbr]]:
        out = []
        for oi in sorted(self.ifs.values(), key=lambda o: o.dev.ifindex):
            for nbr in sorted(oi.nbrs.values(), key=lambda n: n.rid):
                out.append((oi, nbr))
        return out


def _role_of(oi: OspfIf) -> str:
    return "DR" if oi.dr == oi.addr else ("Backup" if oi.bdr == oi.addr else "DROther")


def _nh_order(nh: tuple[int | None, str]) -> tuple[int, str]:
    return (nh[0] or 0, nh[1])


def _newer(a: LsaHeader, b: LsaHeader) -> int:
    """RFC 2328 13.1: 1 when a is the newer instance, -1 when b is, 0 when the same."""
    if a.seq != b.seq:
        return 1 if a.seq > b.seq else -1
    if a.checksum != b.checksum:
        return 1 if a.checksum > b.checksum else -1
    if (a.age >= MAX_AGE) != (b.age >= MAX_AGE):
        return 1 if a.age >= MAX_AGE else -1
    return 0


def _links_back(wl: Lsa, v: tuple[int, int], vl: Lsa) -> bool:
    """16.1 (2b): w's LSA must have a link back to v."""
    if wl.header.type == op.LSA_NETWORK:
        return v[1] in wl.routers
    if v[0] == op.LSA_NETWORK:
        return any(ln.type == op.LINK_TRANSIT and ln.id == v[1] for ln in wl.links)
    return any(ln.type == op.LINK_P2P and ln.id == v[1] for ln in wl.links)
