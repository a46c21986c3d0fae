"""zebra (FRR 8.4's RIB manager) as far as bgpd needs it: the RIB it builds from the
kernel (connected routes of operative interfaces, routes other programs added), the
BGP routes it installs in the kernel's main table, and `show ip route`.

zebra learns interfaces, addresses and foreign routes over rtnetlink; here it
reads the namespace (`rib`). A route bgpd selects is installed as zebra does it
(zebra/rt_netlink.c): `proto bgp`, kernel metric 20 (ROUTE_INSTALLATION_METRIC,
whatever the distance: 20 eBGP, 200 iBGP, which `show ip route` shows), one nexthop or a multipath route whose nexthops are
in FRR's nexthop order (nexthop_group_add_sorted: by gateway address). A route
of a lower distance for the same prefix (a connected or kernel route, distance 0)
keeps the BGP route out of the kernel, as zebra's rib_process selects. Connected
routes skip 127.0.0.0/8 (zebra's connected_add_ipv4: martians). When zebra stops,
it removes what it installed (rib_sweep / zebra_finalize without -r); when bgpd
goes, zebra removes bgpd's routes (zebra_client_close).

The kernel twin installs routes with nexthop objects (`nhid N` in `ip route`);
netplex installs plain routes, so a comparison leaves `nhid N` out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netplex.apps.process import Program
from netplex.errors import NetplexError
from netplex.frr.config import FrrConfig
from netplex.packet.addr import int_to_ip
from netplex.stack.route import RT_TABLE_MAIN, Nexthop, Route

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["RibEntry", "Zebra", "fmt_uptime", "rib", "zebra_of"]

RTPROT_KERNEL, RTPROT_BOOT, RTPROT_BGP = 2, 3, 186
ROUTE_INSTALLATION_METRIC = 20     # zebra/rt.h: every route zebra installs has this kernel metric
NSEC = 1_000_000_000


def fmt_uptime(ns: int) -> str:
    """FRR's peer_uptime / zebra's uptime text: HH:MM:SS below a day, then 1d02h03m, 01w2d03h."""
    s = max(0, ns // NSEC)
    days, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if days == 0:
        return f"{h:02d}:{m:02d}:{sec:02d}"
    if days < 7:
        return f"{days}d{h:02d}h{m:02d}m"
    return f"{days // 7:02d}w{days % 7}d{h:02d}h"


@dataclass(slots=True)
class RibEntry:
    """One route of zebra's RIB: type letter (C, K, B), prefix, distance/metric, nexthops."""

    kind: str
    dst: int
    plen: int
    distance: int
    metric: int
    nexthops: list[tuple[int | None, str]]   # (gateway, device name)
    since: int


def _operative(dev: Any) -> bool:
    return bool(dev.up and dev.has_carrier())


def rib(ns: Namespace, since: int) -> list[RibEntry]:
    """The connected and kernel routes zebra holds for `ns` (BGP routes come from bgpd)."""
    out: dict[tuple[int, int], RibEntry] = {}
    for idx in sorted(ns.addrs):
        for a in ns.addrs[idx]:
            if not _operative(a.dev) or a.addr >> 24 == 127:
                continue
            mask = ((1 << a.plen) - 1) << (32 - a.plen) if a.plen else 0
            key = (a.addr & mask, a.plen)
            if key not in out:
                out[key] = RibEntry("C", key[0], key[1], 0, 0, [(None, a.dev.name)], since)
    table = ns.fib.tables.get(RT_TABLE_MAIN)
    for r in table.routes() if table is not None else []:
        if r.proto in (RTPROT_KERNEL, RTPROT_BGP) or r.type != "unicast" or (r.dst, r.plen) in out:
            continue
        nhs = [(nh.gw, nh.dev.name) for nh in r.nhs] if r.nhs else [(r.gw, r.dev.name if r.dev else "")]
        out[(r.dst, r.plen)] = RibEntry("K", r.dst, r.plen, 0, r.metric, nhs, since)
    return [out[k] for k in sorted(out)]


class Zebra(Program):
    """The zebra daemon of one namespace: installs and removes bgpd's routes."""

    comm = "zebra"
    vsz_kib, rss_kib = 394780, 11976

    def __init__(self, conf: FrrConfig) -> None:
        super().__init__()
        self.conf = conf               # the integrated configuration vtysh shows and changes
        self.installed: dict[tuple[int, int], Route] = {}
        # what `show ip route` shows of each: the distance and each nexthop as bgpd gave it
        # (its NEXT_HOP, then the gateway and device it resolved to; recursive when they differ)
        self.rib_info: dict[tuple[int, int], tuple[int, list[tuple[int, int, Any]]]] = {}
        self.started = 0

    def start(self) -> None:
        self.started = self.ns.sched.now

    def stop(self) -> None:
        self.withdraw_all()

    def install(self, dst: int, plen: int, distance: int, nexthops: list[tuple[int, int, Any]]) -> bool:
        """Put a BGP route in the kernel (replacing the one installed before); False when a
        route of a lower distance holds the prefix in zebra's RIB. `nexthops`: (NEXT_HOP,
        gateway, device) each; the kernel gets the gateways, metric 20 whatever the distance."""
        ns = self.ns
        table = ns.fib.tables.get(RT_TABLE_MAIN)
        if table is not None and any(r.proto != RTPROT_BGP for r in table.find(dst, plen)):
            self.withdraw(dst, plen)
            return False
        self.rib_info[(dst, plen)] = (distance, sorted(nexthops, key=lambda h: (h[0], h[1])))
        hops = sorted({(g, d) for _, g, d in nexthops}, key=lambda h: (h[0], h[1].ifindex))
        gw, dev = hops[0]
        route = Route(dst, plen, dev=dev, gw=gw, metric=ROUTE_INSTALLATION_METRIC, proto=RTPROT_BGP)
        if len(hops) > 1:
            route.nhs = tuple(Nexthop(g, d) for g, d in hops)
        old = self.installed.get((dst, plen))
        if old is not None and _same(old, route) and table is not None and old in table.find(dst, plen):
            return True
        info = self.rib_info[(dst, plen)]
        self.withdraw(dst, plen)
        self.rib_info[(dst, plen)] = info
        try:
            ns.add_route(route, replace=True)
        except NetplexError:
            return False
        self.installed[(dst, plen)] = route
        return True

    def withdraw(self, dst: int, plen: int) -> None:
        self.rib_info.pop((dst, plen), None)
        old = self.installed.pop((dst, plen), None)
        if old is None:
            return
        try:
            self.ns.del_route(old)
        except NetplexError:
            pass          # the kernel flushed it already (its device went down)

    def withdraw_all(self) -> None:
        for dst, plen in list(self.installed):
            self.withdraw(dst, plen)


def _same(a: Route, b: Route) -> bool:
    def hops(r: Route) -> list[tuple[int | None, Any]]:
        return [(nh.gw, nh.dev) for nh in r.nhs] if r.nhs else [(r.gw, r.dev)]
    return a.metric == b.metric and hops(a) == hops(b)


def zebra_of(machine_procs: Any, ns: Namespace) -> Zebra | None:
    """The running zebra of `ns`, if any."""
    for p in machine_procs.in_netns(ns):
        if isinstance(p.program, Zebra) and p.alive:
            return p.program
    return None


def nexthop_text(gw: int | None, dev: str) -> str:
    return f"via {int_to_ip(gw)}, {dev}" if gw is not None else f"is directly connected, {dev}"
