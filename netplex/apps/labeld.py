"""labeld: netplex's label distribution daemon — LDP's behaviour (RFC 5036) on the kernel's
MPLS tables, so that a label-switched path follows the routing table and is rebuilt when the
routes change. This is netplex's own daemon, not FRR's ldpd (whose vtysh configuration is
not modelled); what it sends are LDP messages (`packet/ldp.py`, UDP port 646).

Each LSR runs one, given the addresses of its neighbours (targeted peers, RFC 5036
§2.4.2). The modes are LDP's usual ones: downstream unsolicited advertisement
(§2.6.3: every LSR tells every peer its label for each FEC without being asked),
ordered control (§2.6.1.2: an LSR advertises a FEC only when it is the egress, or once
its next hop for the FEC advertised a label) and liberal label retention (§2.6.2.2:
every peer's labels are kept, so a new next hop's label is at hand when the route
moves). FECs are the IPv4 prefixes of the main routing table (no default route); the
routing table stands in for the IGP (its shortest paths: static routes with metrics; a
route through a nexthop object, as zebra installs ospfd's and bgpd's, is left alone). For a directly connected prefix the LSR is the egress and
advertises the implicit null label 3 (penultimate-hop popping); for another it
allocates a label from 16 up (below net.mpls.platform_labels) and advertises it once
the route's gateway (a peer, known by any address of its Address message) advertised
one. It then installs what `ip` would:

- `ip -f mpls route replace LOCAL as OUT via inet GW dev DEV` (swap; without `as` when
  OUT is implicit null: pop), and
- the IPv4 route's `encap mpls OUT` (ingress: `ip route replace PREFIX encap mpls OUT via
  GW dev DEV`, the route otherwise unchanged; no encap for implicit null).

Every `--interval` seconds (and at once when a route or link changes) it sends each
peer one PDU: a targeted Hello with the hold time, an Address message with its
addresses and one Label Mapping per advertised FEC (its whole state, so a FEC it no
longer advertises is withdrawn by omission: netplex's simplification of LDP's TCP
session with Label Withdraw messages). A peer silent for the hold time is gone: its
labels are forgotten and the paths through it are taken down (the routes lose their
encap, the swaps go). Ending the daemon removes everything it installed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netplex.apps.process import ProcessTable, Program, ProgramExit
from netplex.packet.ldp import LDP_PORT, LdpPdu
from netplex.packet.mpls import MPLS_LABEL_FIRST_UNRESERVED, MPLS_LABEL_IMPLNULL
from netplex.stack.mpls import MplsRoute
from netplex.stack.route import RT_TABLE_MAIN, Route

__all__ = ["Labeld", "LdpPeer", "find_labeld"]

NSEC = 1_000_000_000


@dataclass(slots=True)
class LdpPeer:
    """A targeted peer: its LSR ID, addresses and the labels it advertised, and when it was last heard."""

    addr: int
    lsr_id: int = 0
    addresses: set[int] = field(default_factory=set)
    labels: dict[tuple[int, int], int] = field(default_factory=dict)
    seen_ns: int | None = None
    hold_s: int = 0


class Labeld(Program):
    comm = "labeld"
    vsz_kib, rss_kib = 24180, 9312

    def __init__(self, peers: list[int], interval_s: int, hold_s: int) -> None:
        super().__init__()
        self.peers = {a: LdpPeer(a) for a in peers}
        self.interval_s = interval_s
        self.hold_s = hold_s
        self.local: dict[tuple[int, int], int] = {}       # FEC → the label this LSR allocated
        self.advertised: dict[tuple[int, int], int] = {}  # FEC → label, as sent
        self.swaps: set[int] = set()                       # the local labels of the label routes installed
        self.encaps: dict[tuple[int, int, int], tuple[int, ...]] = {}   # (dst, plen, metric) → labels set
        self.next_label = MPLS_LABEL_FIRST_UNRESERVED
        self.sock: Any = None
        self.msg_id = 0
        self.sent = self.received = 0

    # -- life ----------------------------------------------------------------------------
    def start(self) -> None:
        ns = self.ns
        if "mpls_router" not in ns.world.kmods:
            raise ProgramExit(1, "labeld: the mpls_router module is not loaded (modprobe mpls_iptunnel)\n")
        sk = self.own(ns.sockets.udp_socket())
        if sk.bind(0, LDP_PORT):
            raise ProgramExit(1, f"labeld: bind to port {LDP_PORT}: Address already in use\n")
        sk.on_recv = self._recv
        self.sock = sk
        ns.rtnl_listeners.append(self._rtnl)
        self._tick()

    def close_owned(self) -> None:
        ns = self.ns
        if self._rtnl in ns.rtnl_listeners:
            ns.rtnl_listeners.remove(self._rtnl)
        for label in sorted(self.swaps):
            ns.mpls_routes.pop(label, None)
        self.swaps.clear()
        for key in list(self.encaps):
            self._set_encap(key, ())
        ns.config_changed()
        super().close_owned()

    # -- timers and events --------------------------------------------------------------
    def _tick(self) -> None:
        now = self.ns.sched.now
        for p in self.peers.values():
            if p.seen_ns is not None and now - p.seen_ns >= p.hold_s * NSEC:
                p.seen_ns, p.labels, p.addresses = None, {}, set()
        self._apply()
        self._send()
        self.after(self.interval_s * NSEC, self._tick)

    def _rtnl(self) -> None:
        """A route or link changed (rtnetlink): recompute and tell the peers at once."""
        self.soon(self._changed)

    def _changed(self) -> None:
        if self._apply():
            self._send()

    def _recv(self, data: bytes, src: int, sport: int) -> None:
        peer = self.peers.get(src)
        if peer is None:
            return
        try:
            pdu = LdpPdu.decode(data)
        except ValueError:
            return
        self.received += 1
        peer.lsr_id = pdu.lsr_id
        peer.hold_s = pdu.hold_time or self.hold_s
        peer.seen_ns = self.ns.sched.now
        peer.addresses = set(pdu.addresses) | {src}
        labels = {(d, n): lab for d, n, lab in pdu.mappings}
        if labels != peer.labels:
            peer.labels = labels
            if self._apply():
                self._send()

    # -- the label tables -----------------------------------------------------------------
    def _peer_of(self, gw: int) -> LdpPeer | None:
        for p in self.peers.values():
            if p.seen_ns is not None and gw in p.addresses:
                return p
        return None

    def _label_for(self, fec: tuple[int, int]) -> int | None:
        label = self.local.get(fec)
        if label is None:
            limit = int(self.ns.sysctl.values.get("net.mpls.platform_labels", "0"))
            if self.next_label >= limit:
                return None
            label = self.local[fec] = self.next_label
            self.next_label += 1
        return label

    def _apply(self) -> bool:
        """Recompute what to advertise and install from the routes and the peers' labels; True when
        the advertisement changed."""
        ns = self.ns
        table = ns.fib.tables.get(RT_TABLE_MAIN)
        fecs = sorted({(r.dst, r.plen) for r in (table.routes() if table is not None else [])
                       if r.type == "unicast" and r.plen and not r.nhs and r.nhid is None})
        adv: dict[tuple[int, int], int] = {}
        swaps: dict[int, tuple[tuple[int, ...], int, Any]] = {}
        encaps: dict[tuple[int, int, int], tuple[int, ...]] = {}
        for fec in fecs:
            rt = ns.ip_route_output(fec[0])
            if isinstance(rt, int) or rt.route is None or rt.type != "unicast":
                continue
            r: Route = rt.route
            if (r.dst, r.plen) != fec:
                continue                       # a more specific prefix decides: not this FEC's route
            if r.gw is None:
                adv[fec] = MPLS_LABEL_IMPLNULL          # connected: the egress asks for PHP
                continue
            peer = self._peer_of(r.gw)
            out = peer.labels.get(fec) if peer is not None else None
            if out is None:
                continue                       # ordered control: nothing downstream yet
            local = self._label_for(fec)
            if local is not None:
                adv[fec] = local
                swaps[local] = (() if out == MPLS_LABEL_IMPLNULL else (out,), r.gw, r.dev)
            encaps[(r.dst, r.plen, r.metric)] = () if out == MPLS_LABEL_IMPLNULL else (out,)
        changed_tables = False
        for label in sorted(self.swaps - swaps.keys()):
            ns.mpls_routes.pop(label, None)
            changed_tables = True
        for label, (newdst, gw, dev) in swaps.items():
            cur = ns.mpls_routes.get(label)
            if cur is None or (cur.newdst, cur.via, cur.dev) != (newdst, gw, dev):
                ns.mpls_routes[label] = MplsRoute(label, newdst, gw, dev)   # ip -f mpls route replace
                changed_tables = True
        self.swaps = set(swaps)
        for key in [k for k in self.encaps if k not in encaps]:
            self._set_encap(key, ())
        for key, labels in encaps.items():
            self._set_encap(key, labels)
        if changed_tables:
            ns.config_changed()
        changed = adv != self.advertised
        self.advertised = adv
        return changed

    def _set_encap(self, key: tuple[int, int, int], labels: tuple[int, ...]) -> None:
        """`ip route replace` of the route with `encap mpls LABELS` (or none), the rest unchanged."""
        ns = self.ns
        table = ns.fib.tables.get(RT_TABLE_MAIN)
        dst, plen, metric = key
        old = next((r for r in (table.find(dst, plen) if table is not None else []) if r.metric == metric
                    and not r.tos), None)
        if labels:
            self.encaps[key] = labels
        else:
            self.encaps.pop(key, None)
        if old is None or old.encap == labels:
            return
        new = Route(old.dst, old.plen, table=old.table, type=old.type, dev=old.dev, gw=old.gw, src=old.src,
                    metric=old.metric, proto=old.proto, scope=old.scope, onlink=old.onlink, mtu=old.mtu,
                    mtu_lock=old.mtu_lock, advmss=old.advmss, advmss_lock=old.advmss_lock)
        new.encap = labels
        ns.add_route(new, replace=True)

    def _send(self) -> None:
        if self.sock is None:
            return
        ns = self.ns
        addrs = sorted({a.addr for lst in ns.addrs.values() for a in lst if a.scope == 0 and a.addr >> 24 != 127})
        lsr_id = max(addrs) if addrs else 0
        maps = [(d, n, lab) for (d, n), lab in sorted(self.advertised.items())]
        for peer in self.peers:
            pdu = LdpPdu(lsr_id, 0, self.hold_s, True, 0, addrs, maps)
            data = pdu.encode(self.msg_id + 1)
            self.msg_id += 2 + len(maps)
            self.sock.sendto(data, peer, LDP_PORT)
            self.sent += 1

    def status(self) -> str:
        """What `labelctl` prints: the peers, then the bindings (FEC, local label, the next hop's)."""
        now = self.ns.sched.now
        out = []
        fmt = self.ns.fmt_ip
        for p in self.peers.values():
            state = "up" if p.seen_ns is not None else "down"
            age = f", heard {(now - p.seen_ns) // 1_000_000} ms ago" if p.seen_ns is not None else ""
            out.append(f"peer {fmt(p.addr)}: {state}{age}, {len(p.labels)} labels")
        for (d, n), lab in sorted(self.advertised.items()):
            local = "imp-null" if lab == MPLS_LABEL_IMPLNULL else str(lab)
            out.append(f"{fmt(d)}/{n} local {local}")
        return "".join(line + "\n" for line in out)


def find_labeld(procs: ProcessTable, ns: Any) -> Labeld | None:
    """The running labeld of network namespace `ns` on this machine."""
    for p in procs.by_program(Labeld):
        if isinstance(p.program, Labeld) and p.program.alive and p.netns is ns:
            return p.program
    return None
