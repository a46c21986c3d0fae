"""The IPv4 forwarding information base: routing tables, rules, longest-prefix match.

Mirrors net/ipv4/fib_*.c: tables `local` (255) and `main` (254) and `default`
(253), looked up in the order of the default rules (0: local, 32766: main,
32767: default); within a table, the longest prefix wins, then the lowest
metric. Route types are the kernel's (unicast, local, broadcast, blackhole,
unreachable, prohibit, throw). Routes whose device goes down are flushed, as
fib_sync_down_dev does; connected and local routes come from addresses.
"""
from __future__ import annotations

from typing import Any

RT_TABLE_DEFAULT = 253
RT_TABLE_MAIN = 254
RT_TABLE_LOCAL = 255
TABLE_NAMES = {RT_TABLE_LOCAL: "local", RT_TABLE_MAIN: "main", RT_TABLE_DEFAULT: "default"}
TABLE_IDS = {v: k for k, v in TABLE_NAMES.items()}

SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
SCOPE_IDS = {v: k for k, v in SCOPE_NAMES.items()}
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST = 0, 253, 254

PROTO_NAMES = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static"}

ROUTE_TYPES = ("unicast", "local", "broadcast", "multicast", "blackhole", "unreachable",
               "prohibit", "throw", "nat", "anycast")


class Route:
    """One fib_info + fib_alias: a destination and how to reach it."""

    __slots__ = ("table", "type", "dst", "plen", "dev", "gw", "src", "metric", "proto", "scope",
                 "onlink", "tos", "mtu", "mtu_lock")

    def __init__(self, dst: int, plen: int, *, table: int = RT_TABLE_MAIN, type: str = "unicast",
                 dev: Any = None, gw: int | None = None, src: int | None = None, metric: int = 0,
                 proto: int = 3, scope: int | None = None, onlink: bool = False, tos: int = 0,
                 mtu: int | None = None, mtu_lock: bool = False) -> None:
        self.table = table
        self.type = type
        self.dst = dst
        self.plen = plen
        self.dev = dev
        self.gw = gw
        self.src = src
        self.metric = metric
        self.proto = proto
        if scope is None:
            if type in ("local", "nat"):
                scope = RT_SCOPE_HOST
            elif type in ("broadcast", "multicast", "anycast"):
                scope = RT_SCOPE_LINK
            elif type == "unicast" and gw is None:
                scope = RT_SCOPE_LINK
            else:
                scope = RT_SCOPE_UNIVERSE
        self.scope = scope
        self.onlink = onlink
        self.tos = tos
        self.mtu = mtu            # RTAX_MTU: the route's own path MTU
        self.mtu_lock = mtu_lock

    def key(self) -> tuple:
        """What makes two routes the same entry (fib_table_insert's duplicate check)."""
        return (self.table, self.dst, self.plen, self.tos, self.metric)

    def same_entry(self, other: Route) -> bool:
        return (self.key() == other.key() and self.type == other.type and self.dev is other.dev
                and self.gw == other.gw)


class FibTable:
    """One routing table, indexed by prefix length for longest-prefix match."""

    __slots__ = ("id", "by_plen", "plens")

    def __init__(self, table_id: int) -> None:
        self.id = table_id
        self.by_plen: dict[int, dict[int, list[Route]]] = {}
        self.plens: list[int] = []  # non-empty prefix lengths, longest first

    def routes(self) -> list[Route]:
        out: list[Route] = []
        for plen in sorted(self.by_plen):
            for dst in sorted(self.by_plen[plen]):
                out.extend(self.by_plen[plen][dst])
        return out

    def find(self, dst: int, plen: int) -> list[Route]:
        return self.by_plen.get(plen, {}).get(dst, [])

    def insert(self, route: Route) -> None:
        bucket = self.by_plen.setdefault(route.plen, {})
        lst = bucket.setdefault(route.dst, [])
        lst.append(route)
        lst.sort(key=lambda r: (r.tos, r.metric))
        if route.plen not in self.plens:
            self.plens.append(route.plen)
            self.plens.sort(reverse=True)

    def remove(self, route: Route) -> None:
        bucket = self.by_plen.get(route.plen)
        if bucket is None:
            return
        lst = bucket.get(route.dst)
        if not lst or route not in lst:
            return
        lst.remove(route)
        if not lst:
            del bucket[route.dst]
        if not bucket:
            del self.by_plen[route.plen]
            self.plens.remove(route.plen)

    def lookup(self, addr: int) -> Route | None:
        """Longest prefix match; the first live route of the best prefix wins."""
        by_plen = self.by_plen
        for plen in self.plens:
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0
            lst = by_plen[plen].get(addr & mask)
            if lst:
                for r in lst:
                    if r.dev is None or r.dev.up:
                        return r
        return None


class Fib:
    """All tables of a namespace plus the default rules."""

    __slots__ = ("tables",)

    def __init__(self) -> None:
        self.tables: dict[int, FibTable] = {
            RT_TABLE_LOCAL: FibTable(RT_TABLE_LOCAL),
            RT_TABLE_MAIN: FibTable(RT_TABLE_MAIN),
            RT_TABLE_DEFAULT: FibTable(RT_TABLE_DEFAULT),
        }

    def table(self, table_id: int, create: bool = False) -> FibTable | None:
        t = self.tables.get(table_id)
        if t is None and create:
            t = self.tables[table_id] = FibTable(table_id)
        return t

    def lookup(self, addr: int) -> Route | None:
        """fib_lookup with the default rules: local, then main, then default."""
        for tid in (RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT):
            r = self.tables[tid].lookup(addr)
            if r is not None:
                if r.type == "throw":
                    continue
                return r
        return None

    def all_routes(self) -> list[Route]:
        out: list[Route] = []
        for tid in sorted(self.tables):
            out.extend(self.tables[tid].routes())
        return out

    def flush_dev(self, dev: Any, kernel_only: bool = False) -> None:
        """Remove every route through `dev` (fib_sync_down_dev + fib_flush)."""
        for t in self.tables.values():
            for r in t.routes():
                if r.dev is dev and (not kernel_only or r.proto == 2):
                    t.remove(r)
