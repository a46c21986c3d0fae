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

Nexthop objects (zebra/zebra_nhg.c, rt_netlink.c's netlink_nexthop_msg_encode): on a kernel
with `ip nexthop`, zebra installs every nexthop group entry it resolves as a kernel object of
`proto zebra` from its own id space (nhg_get_next_id: 1, 2, ...): one `dev IF` object per
interface holding a connected route, one `via GW dev IF` object per BGP path, and for a
multipath route a group of those (the group's id is taken before its members', as
zebra_nhg_find does). A BGP route is installed as `nhid N proto bgp metric 20`. An object no
route uses any more stays for zebra's keep time (ZEBRA_DEFAULT_NHE_KEEP_TIME, 180 s) before
zebra deletes it; the kernel removes those through a device that goes down itself, and zebra
installs a path's entry again (same id) when it needs it, an interface's under a new id; a group
the kernel shrank is not pushed again (FRR 8.4 thinks it installed), and when zebra stops the
BGP paths' entries stay in the kernel: both as the twin shows. Real zebra also burns ids on lookups it
discards, so its numbers depend on the order of kernel events at start-up: a comparison with
the twin reads the ids as `<id>` (tests/frr/test_bgp_twin.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netplex.apps.process import Program
from netplex.errors import NetplexError
from netplex.frr.config import FrrConfig
from netplex.packet.addr import int_to_ip
from netplex.stack.netns import IfAddr
from netplex.stack.nexthop import NhObject
from netplex.stack.route import RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, Route

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["RibEntry", "Zebra", "fmt_uptime", "rib", "zebra_of"]

RTPROT_KERNEL, RTPROT_BOOT, RTPROT_ZEBRA, RTPROT_BGP = 2, 3, 11, 186
RTPROT_OSPF = 188
PROTOS = {"bgp": RTPROT_BGP, "ospf": RTPROT_OSPF}     # the daemons whose routes zebra installs
ZEBRA_DEFAULT_NHE_KEEP_TIME = 180     # zebra_router.h: seconds an unused nexthop group entry stays
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
        if r.proto in (RTPROT_KERNEL, RTPROT_BGP, RTPROT_OSPF) or r.type != "unicast" or (r.dst, r.plen) in out:
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
        # zebra's nexthop group entries: key ("if", ifindex) | ("via", gw, ifindex) | ("grp", member ids)
        self.nhe_ids: dict[tuple[Any, ...], int] = {}
        self.id_counter = 0
        self.protos: dict[tuple[int, int], str] = {}    # an installed route's daemon: "bgp" | "ospf"

    def start(self) -> None:
        self.started = self.ns.sched.now
        self._interface_addresses()
        self.ns.rtnl_listeners.append(self._rtnl)
        self._connected_nhes()

    def stop(self) -> None:
        """zebra_finalize: its routes go, and the interface entries with the connected routes; the
        entries of BGP paths stay in the kernel (FRR 8.4 leaves them, as the twin shows)."""
        self.withdraw_all()
        ours = [v for k, v in self.nhe_ids.items() if k[0] == "if" and self._in_kernel(v)]
        self.ns.remove_nexthops(sorted(ours))
        self.nhe_ids.clear()

    def close_owned(self) -> None:
        if self._rtnl in self.ns.rtnl_listeners:
            self.ns.rtnl_listeners.remove(self._rtnl)
        super().close_owned()

    # -- nexthop group entries -------------------------------------------------------
    def _in_kernel(self, nh_id: int) -> bool:
        obj = self.ns.nexthops.get(nh_id)
        return obj is not None and obj.proto == RTPROT_ZEBRA

    def _nhe(self, key: tuple[Any, ...], make: Any) -> int:
        """zebra_nhg_find + zebra_nhg_install_kernel: the entry's id (a new one from zebra's counter
        the first time), its kernel object (re)installed when the kernel does not hold it."""
        nh_id = self.nhe_ids.get(key)
        if nh_id is None:
            self.id_counter += 1          # nhg_get_next_id
            nh_id = self.nhe_ids[key] = self.id_counter
        if not self._in_kernel(nh_id):
            # only an entry the kernel dropped is installed again: a group the kernel shrank (its
            # member's device went down) keeps its kernel object as it is, as FRR 8.4's zebra does
            # (its entry is still "installed"), so an ECMP route back after a flap uses one path
            self.ns.replace_nexthop(make(nh_id))
        return nh_id

    def _path(self, gw: int | None, dev: Any) -> int:
        if gw is None:
            return self._nhe(("if", dev.ifindex), lambda i: NhObject(i, dev=dev, proto=RTPROT_ZEBRA))
        return self._nhe(("via", gw, dev.ifindex), lambda i: NhObject(i, gw=gw, dev=dev, proto=RTPROT_ZEBRA))

    def _connected_nhes(self) -> None:
        """The interface entry of each connected route (zebra installs those objects too)."""
        for e in rib(self.ns, self.started):
            if e.kind == "C":
                dev = self.ns.devices[e.nexthops[0][1]]
                nh_id = self.nhe_ids.get(("if", dev.ifindex))
                if nh_id is not None and not self._in_kernel(nh_id):
                    del self.nhe_ids[("if", dev.ifindex)]   # freed with the interface: a new id
                self._path(None, dev)

    def _rtnl(self) -> None:
        if self.alive:
            self.after(0, self._connected_nhes)

    def _unused(self, nh_id: int) -> bool:
        table = self.ns.fib.tables.get(RT_TABLE_MAIN)
        if table is not None and any(r.nhid == nh_id for r in table.routes()):
            return False
        obj = self.ns.nexthops.get(nh_id)
        return obj is None or not obj.used_by

    def _release(self, nh_id: int) -> None:
        """An entry no route uses: deleted from the kernel after the keep time, unless used again."""
        self.after(ZEBRA_DEFAULT_NHE_KEEP_TIME * NSEC, self._expire, nh_id)

    def _expire(self, nh_id: int) -> None:
        if not self._unused(nh_id) or not self._in_kernel(nh_id):
            return
        obj = self.ns.nexthops.get(nh_id)
        members = [m for m, _w in obj.group] if obj is not None else []
        if any(k[0] == "if" and v == nh_id for k, v in self.nhe_ids.items()):
            return                        # a connected route's entry lives with the interface
        self.ns.remove_nexthops([nh_id])
        for key in [k for k, v in self.nhe_ids.items() if v == nh_id]:
            del self.nhe_ids[key]
        for m in members:
            if self._unused(m):
                self._release(m)

    def _interface_addresses(self) -> None:
        """frr.conf's `interface IF` / `ip address A.B.C.D/M`: zebra adds them to the kernel
        (if_addr_add; a broadcast address below /31, as zebra's netlink request carries)."""
        ns = self.ns
        for name, ic in self.conf.interfaces.items():
            dev = ns.devices.get(name)
            if dev is None:
                continue
            for addr, plen in ic.addresses:
                if any(a.addr == addr and a.plen == plen for a in ns.addrs.get(dev.ifindex, [])):
                    continue
                mask = ((1 << plen) - 1) << (32 - plen) if plen else 0
                brd = (addr & mask) | (~mask & 0xFFFFFFFF) if plen < 31 else None
                try:
                    ns.add_addr(IfAddr(addr, plen, dev, brd=brd))
                except NetplexError:
                    pass

    def has_route(self, dst: int, plen: int) -> bool:
        table = self.ns.fib.tables.get(RT_TABLE_MAIN)
        old = self.installed.get((dst, plen))
        return old is not None and table is not None and old in table.find(dst, plen)

    def withdraw_proto(self, dst: int, plen: int, proto: str) -> None:
        """A daemon's withdrawal: only the route that daemon installed goes."""
        if self.protos.get((dst, plen)) == proto:
            self.withdraw(dst, plen)

    def install(self, dst: int, plen: int, distance: int, nexthops: list[tuple[int, int, Any]],
                proto: str = "bgp") -> bool:
        """Put a BGP route in the kernel (replacing the one installed before); False when a
        route of a lower distance holds the prefix in zebra's RIB. `nexthops`: (NEXT_HOP,
        gateway, device) each; the kernel gets the gateways, metric 20 whatever the distance."""
        ns = self.ns
        table = ns.fib.tables.get(RT_TABLE_MAIN)
        if table is not None and any(r.proto not in PROTOS.values() for r in table.find(dst, plen)):
            self.withdraw(dst, plen)
            return False
        held = self.protos.get((dst, plen))
        if held is not None and held != proto and self.rib_info.get((dst, plen), (256,))[0] < distance:
            return False              # another daemon's route of a lower distance holds the prefix
        self.rib_info[(dst, plen)] = (distance, sorted(nexthops, key=lambda h: (h[0], h[1])))
        hops = sorted({(g, d) for _, g, d in nexthops}, key=lambda h: (h[0], h[1].ifindex))
        if len(hops) > 1:
            key = ("grp", tuple((g, d.ifindex) for g, d in hops))
            nh_id = self.nhe_ids.get(key)
            if nh_id is None:             # the group's id first, then its members' (zebra_nhg_find)
                self.id_counter += 1
                nh_id = self.nhe_ids[key] = self.id_counter
            members = tuple((self._path(g, d), 1) for g, d in hops)
            nh_id = self._nhe(key, lambda i: NhObject(i, group=members, proto=RTPROT_ZEBRA))
        else:
            nh_id = self._path(*hops[0])
        route = Route(dst, plen, metric=ROUTE_INSTALLATION_METRIC, proto=PROTOS[proto], scope=RT_SCOPE_UNIVERSE)
        obj = ns.nexthops.get(nh_id)
        assert obj is not None
        ns.nexthops.apply(route, obj, ns.lo)
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
        self.protos[(dst, plen)] = proto
        return True

    def withdraw(self, dst: int, plen: int) -> None:
        self.rib_info.pop((dst, plen), None)
        self.protos.pop((dst, plen), None)
        old = self.installed.pop((dst, plen), None)
        if old is None:
            return
        try:
            self.ns.del_route(old)
        except NetplexError:
            pass          # the kernel flushed it already (its device went down)
        if old.nhid is not None and self._unused(old.nhid):
            self._release(old.nhid)

    def withdraw_all(self) -> None:
        for dst, plen in list(self.installed):
            self.withdraw(dst, plen)


def _same(a: Route, b: Route) -> bool:
    def hops(r: Route) -> list[tuple[int | None, Any]]:
        return [(nh.gw, nh.dev) for nh in r.nhs] if r.nhs else [(r.gw, r.dev)]
    return a.metric == b.metric and a.nhid == b.nhid and hops(a) == hops(b)


def zebra_of(machine_procs: Any, ns: Namespace) -> Zebra | None:
    """The running zebra of `ns`, if any."""
    for p in machine_procs.in_netns(ns):
        if isinstance(p.program, Zebra) and p.alive:
            return p.program
    return None


def nexthop_text(gw: int | None, dev: str) -> str:
    return f"via {int_to_ip(gw)}, {dev}" if gw is not None else f"is directly connected, {dev}"
