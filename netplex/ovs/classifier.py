"""One OpenFlow table's classifier: tuple space search with staged lookup and prefix
tries, and the wildcards a lookup leaves for the megaflow (lib/classifier.c:
classifier_lookup__, find_match_wc, check_tries, trie_lookup_value; ofproto.c's default
prefix fields nw_dst and nw_src).

Rules with the same fields and masks share a subtable (one hash of the masked values).
Subtables are tried by their highest priority; one whose highest priority is not above the
best rule found is not looked at, and reads nothing (classifier_lookup__'s hard_pri: a rule
of equal priority in a later subtable never replaces the one found; seen on the real OVS 3.1
as `ct_state(+new+trk)` where a `+trk+est` rule of the same priority sits in another subtable). Inside a subtable the lookup goes
stage by stage (the flow's segments: metadata, L2, L3, L4, `FLOW_SEGMENT_*` in lib/flow.h;
tcp_flags sits with L3 there): a stage whose partial key no rule has ends the lookup,
and only the stages read so far are unwildcarded. Before the L3 stage the table-wide
prefix tries on nw_dst and nw_src may rule the subtable out having read only the
address's leading bits; a final L4 stage without a match unwildcards only the port bits
its rules' values needed (the ports trie). What the lookup read goes into `wc` (field
key → mask), which `ofproto/trace` prints as `Megaflow:` and the datapath flow matches.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netplex.ovs.ofproto import Rule

__all__ = ["Classifier"]

_L2 = frozenset({"dl_src", "dl_dst", "dl_type", "vlan_tci"})
_L3 = frozenset({"nw_src", "nw_dst", "nw_proto", "nw_tos", "nw_ttl", "nw_ecn", "arp_sha", "arp_tha", "tcp_flags"})
_L4 = frozenset({"tp_src", "tp_dst"})
TRIE_FIELDS = ("nw_dst", "nw_src")      # default_prefix_fields
ETH_P_IP = 0x0800


def _segment(key: str) -> int:
    if key in _L2:
        return 1
    if key in _L3:
        return 2
    if key in _L4:
        return 3
    return 0        # tunnel, metadata, registers, in_port, conntrack: the first segment


def _plen(mask: int, bits: int) -> int:
    """The prefix length of a CIDR mask, or 0 when it is not one."""
    n = bin(mask).count("1")
    return n if mask == ((1 << n) - 1) << (bits - n) else 0


def trie_lookup(prefixes: list[tuple[int, int]], value: int, bits: int) -> tuple[int, set[int]]:
    """trie_lookup_value over the prefixes (value, length): how many leading bits of `value`
    the walk had to read, and the lengths of the prefixes that match it."""
    best = 0
    common: list[tuple[int, int]] = []
    plens: set[int] = set()
    for v, plen in prefixes:
        diff = (v ^ value) & ((1 << bits) - 1)
        c = bits - diff.bit_length()
        common.append((c, plen))
        if c >= plen:
            plens.add(plen)
        best = max(best, min(c, plen))
    if best >= bits:
        return bits, plens
    # the walk stopped at depth `best`: one more bit was read if a longer prefix goes on from there
    return (best + 1 if any(plen > best and c == best for c, plen in common) else best), plens


class Subtable:
    """struct cls_subtable: the rules with one set of (field, mask)."""

    __slots__ = ("fields", "max_priority", "stages", "indices", "final", "rules", "plen", "ports_mask",
                 "ports_len", "ports_prefixes")

    def __init__(self, fields: tuple[tuple[str, int], ...]) -> None:
        self.fields = fields
        self.max_priority = 0
        segs: list[list[tuple[str, int]]] = [[], [], [], []]
        for k, m in fields:
            segs[_segment(k)].append((k, m))
        stages = [s for s in segs[:3] if s]
        final = segs[3]
        if not final and stages:
            final = stages.pop()
        self.stages = [tuple(s) for s in stages] + [tuple(final)]       # the last is the final stage
        self.indices: list[set[tuple[int, ...]]] = [set() for _ in stages]
        self.rules: dict[tuple[int, ...], list[Rule]] = {}
        masks = dict(fields)
        self.plen = {f: _plen(masks[f], 32) if f in masks else 0 for f in TRIE_FIELDS}
        self.ports_mask = (masks.get("tp_src", 0) << 16) | masks.get("tp_dst", 0)
        pm = self.ports_mask
        self.ports_len = 32 - ((pm & -pm).bit_length() - 1) if pm else 0
        self.ports_prefixes: list[tuple[int, int]] = []

    def insert(self, r: Rule) -> None:
        f = r.match.fields
        values = [f[k][0] for k, _m in self.fields]
        n = 0
        for i, stage in enumerate(self.stages[:-1]):
            n += len(stage)
            self.indices[i].add(tuple(values[:n]))
        self.rules.setdefault(tuple(values), []).append(r)
        if self.ports_mask:
            pv = (f["tp_src"][0] if "tp_src" in f else 0) << 16 | (f["tp_dst"][0] if "tp_dst" in f else 0)
            self.ports_prefixes.append((pv, self.ports_len))
        self.max_priority = max(self.max_priority, r.priority)


class Classifier:
    """struct classifier for one table."""

    __slots__ = ("subtables", "tries")

    def __init__(self, rules: list[Rule]) -> None:
        by_mask: dict[tuple[tuple[str, int], ...], Subtable] = {}
        self.tries: dict[str, list[tuple[int, int]]] = {f: [] for f in TRIE_FIELDS}
        for r in sorted(rules, key=lambda r: (-r.priority, r.seq)):
            fields = tuple(sorted(((k, m) for k, (_v, m) in r.match.fields.items()),
                                  key=lambda km: (_segment(km[0]), km[0])))
            st = by_mask.get(fields)
            if st is None:
                st = by_mask[fields] = Subtable(fields)
            st.insert(r)
            for f in TRIE_FIELDS:
                if st.plen[f]:
                    self.tries[f].append((r.match.fields[f][0], st.plen[f]))
        self.subtables = sorted(by_mask.values(), key=lambda s: -s.max_priority)

    def lookup(self, flow: dict[str, int], now: int, wc: dict[str, int] | None) -> Rule | None:
        """classifier_lookup: the highest-priority rule matching `flow` (the oldest among
        equals), not expired; the fields read are or-ed into `wc` when given."""
        best: Rule | None = None
        tries: dict[str, tuple[int, set[int]]] = {}
        for st in self.subtables:
            if best is not None and st.max_priority <= best.priority:
                break
            r = self._find(st, flow, now, wc, tries)
            if r is not None and (best is None or (r.priority, -r.seq) > (best.priority, -best.seq)):
                best = r
        return best

    def _check_tries(self, st: Subtable, stage: tuple[tuple[str, int], ...], flow: dict[str, int],
                     wc: dict[str, int] | None, tries: dict[str, tuple[int, set[int]]]) -> bool:
        """check_tries: True when a prefix trie shows no rule of this subtable can match."""
        for f in TRIE_FIELDS:
            plen = st.plen[f]
            if not plen or all(k != f for k, _m in stage):
                continue
            if f not in tries:
                if flow.get("dl_type") == ETH_P_IP:
                    tries[f] = trie_lookup(self.tries[f], flow.get(f, 0), 32)
                else:
                    tries[f] = (0, set(range(33)))      # prerequisites not met: all prefixes, no skipping
            maskbits, plens = tries[f]
            if plen in plens:
                continue
            bits = ((1 << maskbits) - 1) << (32 - maskbits)
            if maskbits <= plen:
                if wc is not None:
                    wc[f] = wc.get(f, 0) | bits
                return True
            if wc is not None and wc.get(f, 0) & bits == bits:
                return True
        return False

    def _find(self, st: Subtable, flow: dict[str, int], now: int, wc: dict[str, int] | None,
              tries: dict[str, tuple[int, set[int]]]) -> Rule | None:
        """find_match_wc."""
        if wc is None:      # the same answer without minding what was read
            for r in st.rules.get(tuple([flow.get(k, 0) & m for k, m in st.fields]), ()):
                if not ((r.idle_timeout or r.hard_timeout) and r.expired(now)):
                    return r
            return None
        values: list[int] = []
        read = 0        # how many of the subtable's fields the stages so far read
        for i, stage in enumerate(st.stages[:-1]):
            if self._check_tries(st, stage, flow, wc, tries):
                return self._no_match(st, read, wc)
            values += [flow.get(k, 0) & m for k, m in stage]
            read += len(stage)
            if tuple(values) not in st.indices[i]:
                return self._no_match(st, read, wc)
        final = st.stages[-1]
        if self._check_tries(st, final, flow, wc, tries):
            return self._no_match(st, read, wc)
        values += [flow.get(k, 0) & m for k, m in final]
        found = None
        for r in st.rules.get(tuple(values), ()):
            if (r.idle_timeout or r.hard_timeout) and r.expired(now):
                continue
            found = r
            break
        if found is None and st.ports_mask:
            if wc is not None:
                pv = ((flow.get("tp_src", 0) << 16) | flow.get("tp_dst", 0)) & st.ports_mask
                mbits, _plens = trie_lookup(st.ports_prefixes, pv, 32)
                bits = st.ports_mask & (((1 << mbits) - 1) << (32 - mbits))
                if bits >> 16:
                    wc["tp_src"] = wc.get("tp_src", 0) | bits >> 16
                if bits & 0xFFFF:
                    wc["tp_dst"] = wc.get("tp_dst", 0) | bits & 0xFFFF
            return self._no_match(st, read, wc)
        if wc is not None:
            for k, m in st.fields:
                wc[k] = wc.get(k, 0) | m
        return found

    @staticmethod
    def _no_match(st: Subtable, read: int, wc: dict[str, int] | None) -> None:
        """The stages read so far are unwildcarded: they decided there is no match."""
        if wc is not None:
            for k, m in st.fields[:read]:
                wc[k] = wc.get(k, 0) | m
        return None
