"""The datapath's megaflows: a packet matching a datapath flow (`match/mask -> actions`)
takes its actions without an upcall, and without walking the OpenFlow tables.

As dpif-netdev keeps them (lib/dpif-netdev.c: an exact match cache, the EMC, in front of
one `dpcls` per input port, a subtable per mask, one hash probe per subtable;
`dp_netdev_flow_used`), installed by the upcall
handler (ofproto/ofproto-dpif-upcall.c: `ukey_install`) with the match a translation
made: every field it read (`Xlate.wc`, the classifier's staged lookups included,
classifier.py), so every packet the flow matches would have been translated to the same
actions. What a translation did besides choosing the actions is replayed on each hit, as
the revalidator pushes a flow's statistics to the rules it went through (`xlate_push_stats`,
the xlate cache): each rule's n_packets/n_bytes and `used` time, each table's lookup and
match counts, all/indirect groups' counters, NORMAL's MAC learning (a refresh; a new or
moved MAC sends the packet to the slow path).

Revalidation (`revalidate_ukey`): every flow, group and meter change, table expiry,
database reconfiguration, controller connection change and MAC table change moves one
sequence number (lib/seq.h `Seq`); a flow made under an older value is translated again
(no side effects) before it is used or dumped, and kept only if its mask and actions are
the same; otherwise it is deleted and the next packet goes up. A flow unused for
`MAX_IDLE` (10 s, `other_config:max-idle`'s default) is deleted. Rules with timeouts are
checked on each hit. Translations that read what can change without a sequence change
are not installed: select and fast-failover groups (bucket liveness), bonds, learn
(conntrack is the datapath's: its recirculations are flows matching recirc_id and ct_state); `netplex trace` bypasses the datapath flows. The first packet (the upcall)
is not counted in a flow's statistics, as in OVS. `NETPLEX_FASTPATH=0` turns the flows off;
tests/ovs/test_flow_cache.py runs the same traffic both ways and compares every counter.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MAX_IDLE", "FlowCache", "Megaflow", "Seq"]

MAX_ENTRIES = 200_000   # ofproto_flow_limit's default: beyond it, all flows are flushed
MAX_IDLE = 10_000_000_000   # ns: ofproto_max_idle (10 s)
EMC_ENTRIES = 8192          # EM_FLOW_HASH_ENTRIES: a full exact match cache is emptied


class Seq:
    """lib/seq.h: a number that changes whenever something a translation read may have changed."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def change(self) -> None:
        self.value += 1


class Megaflow:
    """struct dp_netdev_flow with its ukey: the match, the actions, what the translation touched."""

    __slots__ = ("part", "fields", "key", "flow", "seq", "odp", "outs", "lookups", "pushes", "groups", "learns",
                 "timed", "guarded", "fast", "packets", "bytes", "used", "created", "tcp_flags", "alive")

    def __init__(self, part: tuple[Any, ...], fields: tuple[tuple[str, int], ...], flow: dict[str, int],
                 now: int) -> None:
        self.part = part            # (bridge name, in ofport): the dpcls it lives in
        self.fields = fields        # (field, mask), the mask of the megaflow
        self.key = tuple([flow.get(k, 0) & m for k, m in fields])
        self.flow = flow            # the packet that made it (revalidation translates it again)
        self.seq = 0
        self.odp: list[tuple[Any, ...]] = []
        self.outs: tuple[int, ...] | None = ()
        self.lookups: list[tuple[Any, int, Any]] = []
        self.pushes: list[tuple[list[int], list[int], int, Any]] = []
        self.groups: list[Any] = []
        self.learns: list[tuple[Any, int, int, int]] = []
        self.timed: list[Any] = []
        self.guarded = False        # timed rules or MAC learning: each hit checks them (FlowCache.admit)
        self.fast: tuple[list[int], list[int], int, Any, int] | None = None
        self.packets = self.bytes = self.tcp_flags = 0
        self.used: int | None = None    # None: never
        self.created = now
        self.alive = True           # False once deleted (an EMC entry pointing at it is then stale)

    def set_translation(self, seq: int, odp: list[tuple[Any, ...]], lookups: list[tuple[Any, int, Any]],
                        groups: list[Any], learns: list[tuple[Any, int, int, int]]) -> None:
        self.seq = seq
        self.odp = odp
        # the ports, when the actions are only outputs (the usual flow): executed without the
        # general interpreter (xlate.execute)
        self.outs = tuple([a[1] for a in odp]) if all(a[0] == "output" for a in odp) else None
        self.lookups = lookups      # (OFProto, table, Rule or None) per table looked up
        # the same, as the hit's statistics go: (the table lookup counts, match counts, table, rule)
        self.pushes = [(o.lookups, o.matched, t, r) for o, t, r in lookups]
        self.groups = groups        # the all/indirect groups whose counters the packet adds to
        self.learns = learns        # NORMAL's (XBridge, vlan, source MAC to learn or -1, in ofport)
        self.timed = [r for _o, _t, r in lookups if r is not None and (r.idle_timeout or r.hard_timeout)]
        self.guarded = bool(self.timed or learns)
        # the usual flow (one table's rule, one output port, nothing timed, learned or grouped), as
        # its hit takes it in one step (xlate.upcall_handler): (the table's lookup counts, its match
        # counts, the table, the rule, the port); None for any other
        outs = self.outs
        push = self.pushes[0] if len(self.pushes) == 1 else None
        self.fast = ((push[0], push[1], push[2], push[3], outs[0])
                     if push is not None and push[3] is not None and outs is not None and len(outs) == 1
                     and not groups and not self.guarded else None)

    def idle(self, now: int) -> bool:
        return now - (self.created if self.used is None else self.used) >= MAX_IDLE

    def mask(self) -> dict[str, int]:
        return dict(self.fields)


# revalidate(flow) -> (mask fields, odp, lookups, groups, learns) of a side-effect-free translation, or None
Revalidate = Callable[[Megaflow], "tuple[tuple[tuple[str, int], ...], list[tuple[Any, ...]], list[Any], list[Any], list[Any]] | None"]


class FlowCache:
    """The datapath flow table of one ovs-vswitchd: per input port, subtables by mask."""

    __slots__ = ("seq", "ports", "emc", "hits", "misses", "mask_hits", "n_flows")

    def __init__(self, seq: Seq) -> None:
        self.seq = seq
        self.ports: dict[tuple[Any, ...], dict[tuple[tuple[str, int], ...], dict[tuple[int, ...], Megaflow]]] = {}
        self.emc: dict[tuple[Any, ...], Megaflow] = {}
        self.hits = self.misses = 0
        self.mask_hits = 0          # subtables probed by the lookups that hit (dpctl/show's masks: hit)
        self.n_flows = 0

    def flows(self) -> list[Megaflow]:
        return [e for subtables in self.ports.values() for flows in subtables.values() for e in flows.values()]

    def remove(self, e: Megaflow) -> None:
        e.alive = False
        subtables = self.ports.get(e.part)
        if subtables is None:
            return
        flows = subtables.get(e.fields)
        if flows is not None and flows.get(e.key) is e:
            del flows[e.key]
            self.n_flows -= 1
            if not flows:
                del subtables[e.fields]

    def flush(self) -> None:
        for e in self.flows():
            e.alive = False
        self.ports.clear()
        self.emc.clear()
        self.n_flows = 0

    def _revalidate(self, e: Megaflow, revalidate: Revalidate) -> bool:
        """revalidate_ukey__: deleted when the translation now reads a bit the flow's mask
        does not match; otherwise kept, its actions replaced if they changed (UKEY_MODIFY,
        statistics kept)."""
        got = revalidate(e)
        mask = dict(e.fields)
        if got is None or any(m & ~mask.get(k, 0) for k, m in got[0]):
            self.remove(e)
            return False
        e.set_translation(self.seq.value, got[1], got[2], got[3], got[4])
        return True

    def sweep(self, now: int, revalidate: Revalidate) -> None:
        """The revalidator's round: idle flows deleted, flows made under an older seq checked."""
        for e in self.flows():
            if e.idle(now):
                self.remove(e)
            elif e.seq != self.seq.value:
                self._revalidate(e, revalidate)

    def classify(self, part: tuple[Any, ...], exact: tuple[Any, ...], flow: dict[str, int]) -> Megaflow | None:
        """dpcls_lookup after an EMC miss: one probe per subtable (mask) of the input port's
        flows, in the order they were made; a hit is remembered in the EMC under `exact`."""
        subtables = self.ports.get(part)
        if subtables:
            probes = 0
            for fields, flows in subtables.items():
                probes += 1
                e = flows.get(tuple([flow.get(k, 0) & m for k, m in fields]))
                if e is not None:
                    self.mask_hits += probes
                    emc = self.emc
                    if len(emc) >= EMC_ENTRIES:
                        emc.clear()
                    emc[exact] = e
                    return e
        return None

    def admit(self, e: Megaflow, now: int, revalidate: Revalidate) -> bool:
        """Whether `e` may take a packet now: False, the miss counted, when it is idle past MAX_IDLE
        (then deleted), stale and no longer right, has a timed-out rule or NORMAL's MAC table would
        now decide otherwise (its learning, a refresh, done). On True the caller (xlate.process)
        counts the hit: its statistics pushed to the rules, tables and groups the translation went
        through, and the flow's own."""
        used = e.used
        if now - (e.created if used is None else used) >= MAX_IDLE:
            self.remove(e)
            self.misses += 1
            return False
        seq = self.seq
        if e.seq != seq.value and not self._revalidate(e, revalidate):
            self.misses += 1
            return False
        if e.timed:
            for r in e.timed:
                if r.expired(now):
                    self.misses += 1
                    return False
        if e.learns:
            for xb, vlan, src, port in e.learns:
                xb.mac_expire(now)                 # ageing changes the MAC table: the seq moves
                if seq.value != e.seq:
                    self.misses += 1
                    return False
                if src >= 0:
                    xb.mac_learn(vlan, src, port, now)
                    if seq.value != e.seq:          # learned or moved: the slow path decides (its learning is now a refresh)
                        self.misses += 1
                        return False
        return True

    def put(self, part: tuple[Any, ...], fields: tuple[tuple[str, int], ...], flow: dict[str, int], now: int,
            odp: list[tuple[Any, ...]], lookups: list[tuple[Any, int, Any]], groups: list[Any],
            learns: list[tuple[Any, int, int, int]]) -> Megaflow:
        """ukey_install: the megaflow of one translation (replacing one with the same match)."""
        if self.n_flows >= MAX_ENTRIES:
            self.flush()
        e = Megaflow(part, fields, dict(flow), now)
        e.set_translation(self.seq.value, odp, lookups, groups, learns)
        flows = self.ports.setdefault(part, {}).setdefault(fields, {})
        old = flows.get(e.key)
        if old is None:
            self.n_flows += 1
        else:
            old.alive = False
        flows[e.key] = e
        return e
