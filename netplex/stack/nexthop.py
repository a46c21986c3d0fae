"""Nexthop objects: the kernel's `ip nexthop` table of a namespace (net/ipv4/nexthop.c).

A nexthop object is one path (`via A dev D`, `dev D`, `blackhole`) or a hash-threshold group
of other objects with weights (`group A[,W]/B[,W]`). A route added with `nhid N` uses the
object: the route's gateway, device and multipath nexthops are the object's, and follow it when
it changes (`ip nexthop replace`, a member leaving a group). Removing an object removes it from
the groups holding it; a group losing its last member goes too (remove_nh_grp_entry), and
the routes using a removed object go with it (__remove_nexthop_fib). A device going down
removes the objects through it (nexthop_flush_dev on NETDEV_DOWN / NETDEV_UNREGISTER). Ids
the user leaves out are allocated after the last one allocated (nh_find_unused_id).

The routes keep their own copy of the object's paths (`Route.gw/dev/nhs`), so forwarding reads
them as it reads any route; `sync_routes` rewrites that copy after a change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netplex.stack.route import Fib, Nexthop, Route

NH_ID_MAX = 0xFFFFFFFF
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST = 0, 253, 254


@dataclass(slots=True)
class NhObject:
    """struct nexthop: one path (nh_info) or a group (nh_group of (member id, weight))."""

    id: int
    gw: int | None = None
    dev: Any = None
    blackhole: bool = False
    onlink: bool = False
    proto: int = 0
    group: tuple[tuple[int, int], ...] = ()
    used_by: set[int] = field(default_factory=set)     # the groups holding this object

    @property
    def is_group(self) -> bool:
        return bool(self.group)

    @property
    def scope(self) -> int:
        """nh_info's scope: link through a gateway, host for a device alone, universe for a blackhole."""
        if self.blackhole or self.is_group:
            return RT_SCOPE_UNIVERSE
        return RT_SCOPE_LINK if self.gw is not None else RT_SCOPE_HOST


class NexthopTable:
    """net->nexthop: the objects of one namespace by id."""

    def __init__(self) -> None:
        self.objs: dict[int, NhObject] = {}
        self.last_id_allocated = 0

    def __len__(self) -> int:
        return len(self.objs)

    def __contains__(self, nh_id: int) -> bool:
        return nh_id in self.objs

    def get(self, nh_id: int) -> NhObject | None:
        return self.objs.get(nh_id)

    def sorted(self) -> list[NhObject]:
        return [self.objs[k] for k in sorted(self.objs)]

    def unused_id(self) -> int:
        """nh_find_unused_id: the next id after the last one allocated that no object holds."""
        start = self.last_id_allocated
        while True:
            self.last_id_allocated = (self.last_id_allocated + 1) & NH_ID_MAX
            if self.last_id_allocated == start:
                return 0
            if self.last_id_allocated and self.last_id_allocated not in self.objs:
                return self.last_id_allocated

    def insert(self, obj: NhObject) -> None:
        """insert_nexthop / replace_nexthop: the caller validated `obj`; an object of the same id
        is replaced in place, the groups holding it keep holding it."""
        old = self.objs.get(obj.id)
        if old is not None:
            obj.used_by = old.used_by
            for mid, _w in old.group:
                self.objs[mid].used_by.discard(old.id)
        for mid, _w in obj.group:
            self.objs[mid].used_by.add(obj.id)
        self.objs[obj.id] = obj

    def remove(self, nh_id: int) -> tuple[list[int], set[int]]:
        """remove_nexthop: the object, then the groups it empties; returns every id removed and
        the groups that lost a member but live on."""
        removed: list[int] = []
        changed: set[int] = set()
        todo = [nh_id]
        while todo:
            obj = self.objs.pop(todo.pop(0), None)
            if obj is None:
                continue
            removed.append(obj.id)
            for mid, _w in obj.group:
                member = self.objs.get(mid)
                if member is not None:
                    member.used_by.discard(obj.id)
            for gid in sorted(obj.used_by):
                grp = self.objs.get(gid)
                if grp is None:
                    continue
                grp.group = tuple(m for m in grp.group if m[0] != obj.id)
                changed.add(gid)
                if not grp.group:
                    todo.append(gid)
        return removed, changed - set(removed)

    def on_dev(self, dev: Any) -> list[int]:
        """The ids of the single-path objects through `dev` (nexthop_flush_dev's list)."""
        return [o.id for o in self.sorted() if not o.is_group and not o.blackhole and o.dev is dev]

    def paths(self, obj: NhObject) -> list[tuple[NhObject, int]]:
        """The single-path objects a route through `obj` uses, with their weights."""
        if not obj.is_group:
            return [(obj, 1)]
        return [(self.objs[mid], w) for mid, w in obj.group]

    def apply(self, route: Route, obj: NhObject, lo: Any) -> None:
        """fib_create_info with fc_nh_id: the route takes the object's paths (a blackhole: dev lo)."""
        route.nhid = obj.id
        paths = self.paths(obj)
        route.nhs = ()
        if paths[0][0].blackhole:
            route.type, route.gw, route.dev, route.onlink = "blackhole", None, lo, False
            return
        first = paths[0][0]
        route.gw, route.dev, route.onlink = first.gw, first.dev, first.onlink
        if len(paths) > 1:
            route.nhs = tuple(Nexthop(p.gw, p.dev, w, p.onlink) for p, w in paths)


def sync_routes(fib: Fib, table: NexthopTable, removed: list[int], changed: set[int], lo: Any) -> bool:
    """After objects changed: routes through a removed object go, routes through a changed one
    (or a group holding it) take its new paths. True when a route changed."""
    gone = set(removed)
    touched = set(changed)
    for nh_id in changed:
        obj = table.get(nh_id)
        if obj is not None:
            touched |= obj.used_by
    hit = False
    for t in fib.tables.values():
        for r in t.routes():
            if r.nhid is None:
                continue
            if r.nhid in gone:
                t.remove(r)
                hit = True
            elif r.nhid in touched:
                obj = table.get(r.nhid)
                if obj is not None:
                    table.apply(r, obj, lo)
                    hit = True
    return hit
