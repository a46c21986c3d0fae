"""ovs-vswitchd's exact-match flow cache: a packet whose flow fields were translated
before takes the datapath actions that translation produced, without walking the
OpenFlow tables again.

In the spirit of OVS's exact match cache and microflows (lib/dpif-netdev-private-dfc.h,
the EMC; ofproto/ofproto-dpif-upcall.c's ukeys and revalidation): the key is every field
`flow_extract` read from the packet, the in_port and the tunnel key it came with, so a
hit is a packet the slow path would translate identically — provided nothing the
translation read has changed. Invalidation is exact and coarse, as OVS's revalidators
are driven by `seq` objects (lib/seq.h): one `Seq` per ovs-vswitchd, changed by every
flow, group and meter modification, every table expiry, every database reconfiguration
(ports, VLANs, fail mode, controllers, bonds), every controller connection going up or
down and every change of a bridge's MAC table (a MAC learned or moved, aged out,
flushed); an entry records the value it was made under and is used only while the
value is the same.

A hit does what the slow path does besides choosing the actions: each rule's counters
(`n_packets`, `n_bytes`, the `used` time idle timeouts read), each table's lookup and
match counts, the counters of all/indirect groups, the MAC learning of NORMAL (an
already known MAC refreshed; a new or moved one invalidates, and the packet takes the
slow path). A rule with a timeout is checked for expiry on every hit, and a NORMAL
decision's MAC entries for ageing. Translations that read anything else that can
change without a configuration change are not cached: conntrack (ct), select and
fast-failover groups (bucket liveness follows port carriers), bonds (member state),
and `netplex trace` (the slow path reports each table) bypasses the cache.
`NETPLEX_FASTPATH=0` (`World.fastpath`) turns it off with the other fast paths;
tests/ovs/test_flow_cache.py runs the same traffic both ways and compares every counter.
"""
from __future__ import annotations

from typing import Any

__all__ = ["CacheEntry", "FlowCache", "Seq"]

MAX_ENTRIES = 8192      # EM_FLOW_HASH_ENTRIES: a full cache is emptied (a scan must not grow it forever)


class Seq:
    """lib/seq.h: a number that changes whenever something a translation read may have changed."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def change(self) -> None:
        self.value += 1


class CacheEntry:
    """One translated flow: its datapath actions and what the slow path's walk touched."""

    __slots__ = ("seq", "odp", "lookups", "groups", "learns", "timed")

    def __init__(self, seq: int, odp: list[tuple[Any, ...]], lookups: list[tuple[Any, int, Any]],
                 groups: list[Any], learns: list[tuple[Any, int, int, int]]) -> None:
        self.seq = seq
        self.odp = odp
        self.lookups = lookups      # (OFProto, table, Rule or None) per table looked up
        self.groups = groups        # the all/indirect groups whose counters the packet adds to
        self.learns = learns        # NORMAL's (XBridge, vlan, source MAC to learn or -1, in ofport)
        self.timed = [r for _o, _t, r in lookups if r is not None and (r.idle_timeout or r.hard_timeout)]


class FlowCache:
    """The cache of one ovs-vswitchd: flow key → `CacheEntry`."""

    __slots__ = ("seq", "entries", "hits", "misses")

    def __init__(self, seq: Seq) -> None:
        self.seq = seq
        self.entries: dict[tuple[Any, ...], CacheEntry] = {}
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...], now: int, nbytes: int) -> list[tuple[Any, ...]] | None:
        """The datapath actions for `key` with the slow path's side effects done, or None
        (a miss: nothing was changed)."""
        e = self.entries.get(key)
        if e is None or e.seq != self.seq.value:
            self.misses += 1
            return None
        for r in e.timed:
            if r.expired(now):
                self.misses += 1
                return None
        seq = self.seq
        for xb, vlan, src, port in e.learns:
            xb.mac_expire(now)                 # ageing changes the MAC table: the seq moves
            if seq.value != e.seq:
                self.misses += 1
                return None
            if src >= 0:
                xb.mac_learn(vlan, src, port, now)
                if seq.value != e.seq:          # learned or moved: the slow path decides (its learning is now a refresh)
                    self.misses += 1
                    return None
        self.hits += 1
        for ofproto, table, rule in e.lookups:
            ofproto.lookups[table] += 1
            if rule is not None:
                ofproto.matched[table] += 1
                rule.n_packets += 1
                rule.n_bytes += nbytes
                rule.used = now
        for g in e.groups:
            g.packets += 1
            g.bytes += nbytes
        return e.odp

    def put(self, key: tuple[Any, ...], seq: int, odp: list[tuple[Any, ...]], lookups: list[tuple[Any, int, Any]],
            groups: list[Any], learns: list[tuple[Any, int, int, int]]) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        self.entries[key] = CacheEntry(seq, odp, lookups, groups, learns)
