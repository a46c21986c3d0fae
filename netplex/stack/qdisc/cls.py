"""Classifiers (net/sched/cls_*.c): u32, fw, matchall and cgroup, and tcf_classify.

A qdisc (or an HTB class) holds a list of filter instances (`tcf_proto`), one
per (chain, prio, protocol), sorted by prio. Classification walks chain 0 in
order; a filter that matches yields its class id and runs its actions:
`pass` keeps the class id, `drop` drops, `continue` goes on to the next
filter, `reclassify` restarts, `goto chain N` jumps.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from netplex.packet.ipv4 import IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.qdisc.act import (
    TC_ACT_EXT_MASK,
    TC_ACT_EXT_VAL_MASK,
    TC_ACT_GOTO_CHAIN,
    TC_ACT_OK,
    TC_ACT_RECLASSIFY,
    TC_ACT_SHOT,
    TC_ACT_UNSPEC,
    Action,
    run_actions,
    tcf_action_release,
)
from netplex.stack.qdisc.act import TC_ACT_SHOT as _SHOT  # noqa: F401  (re-exported)
from netplex.stack.qdisc.core import EEXIST, EINVAL, ENOENT, NLM_F_CREATE, NLM_F_EXCL, TcError

# tcf_exts_validate: binds the filter's actions (creating them in the namespace's table);
# called only once a change is accepted, so a refused request binds nothing.
BindActions = Callable[[], list[Action]]

__all__ = ["TC_ACT_SHOT", "TC_ACT_OK", "TcfProto", "U32Proto", "FwProto", "MatchallProto", "CgroupProto", "tcf_classify",
           "FILTER_KINDS", "ETH_P_ALL", "ETH_P_IP"]

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
TCA_CLS_FLAGS_SKIP_HW = 1
TCA_CLS_FLAGS_SKIP_SW = 2
TCA_CLS_FLAGS_NOT_IN_HW = 8
MAX_REC_LOOP = 4
IP_CSUM_OFF = 10          # offsetof(struct iphdr, check)

_TCP_HDR = struct.Struct("!HHIIBBHHH")
_UDP_HDR = struct.Struct("!HHHH")


def network_header(frame: Any, csum: bool = True) -> bytes:
    """The bytes from the network header on, as far as filters look (header + transport header).

    Without `csum` an IPv4 header's checksum field is left zero (IP_CSUM_OFF): for a
    reader that looks only at other bytes, which saves the checksum."""
    p = frame.payload
    if isinstance(p, (bytes, bytearray)):
        return bytes(p)
    if frame.type != ETH_P_IP:
        return p.encode()
    hdr = p._header(p.wire_len(), csum)
    l4 = p.payload
    cls = l4.__class__.__name__
    if cls == "Tcp":
        off = 5 + (l4.options_len() >> 2)
        return hdr + _TCP_HDR.pack(l4.sport, l4.dport, l4.seq, l4.ack, off << 4, l4.flags, l4.window, 0, l4.urgent)
    if cls == "Udp":
        return hdr + _UDP_HDR.pack(l4.sport, l4.dport, l4.wire_len(), 0)
    if isinstance(l4, (bytes, bytearray)):
        return hdr + bytes(l4[:64])
    try:
        return hdr + l4.encode()[:64]
    except Exception:  # noqa: BLE001 — a payload that cannot encode alone: header only
        return hdr


def header_word(frame: Any, off: int) -> int | None:
    """The 32-bit word at `off` of `network_header(frame, csum=False)`, read from the header
    objects' fields without building the bytes (u32's indexed lookup, once per packet).

    Only for an aligned word of an IPv4 header without options, or of the UDP or TCP header
    behind it, that is not the checksum word; None for anything else — the caller then reads
    the bytes — so the answer is always the bytes' own."""
    if off & 3 or frame.type != ETH_P_IP:
        return None
    p: Any = frame.payload
    if p.__class__ is not IPv4 or p.options:
        return None
    if off < 20:
        if off == 12:
            return p.src
        if off == 16:
            return p.dst
        if off == 0:
            total = p.wire_len()
            return None if total > 0xFFFF or p.tos > 0xFF else 0x45000000 | (p.tos << 16) | total
        if off == 4:
            return (p.id << 16) | (p.flags << 13) | p.frag
        return None
    l4: Any = p.payload
    c = l4.__class__
    if c is Udp:
        if off == 20:
            return (l4.sport << 16) | l4.dport
        if off == 24:
            ulen = l4.wire_len()
            return None if ulen > 0xFFFF else ulen << 16
        return None
    if c is Tcp:
        if off == 20:
            return (l4.sport << 16) | l4.dport
        if off == 24:
            return l4.seq
        if off == 28:
            return l4.ack
        if off == 32:
            return ((5 + (l4.options_len() >> 2)) << 28) | (l4.flags << 16) | l4.window
        if off == 36:
            return l4.urgent
    return None


class Filter:
    """One filter element (a u32 key node, one fw handle, the matchall rule)."""

    def __init__(self, handle: int) -> None:
        self.handle = handle
        self.classid: int | None = None
        self.actions: list[Action] = []
        self.flags = 0
        self.hits = 0


class TcfProto:
    """A filter instance of one kind at (chain, prio, protocol)."""

    kind: ClassVar[str] = ""

    def __init__(self, owner: Any, chain: int, prio: int, protocol: int) -> None:
        self.owner = owner
        self.chain = chain
        self.prio = prio
        self.protocol = protocol

    def classify(self, frame: Any, nbytes: int, now: int) -> tuple[int, int | None] | None:
        raise NotImplementedError

    def elements(self) -> list[Any]:
        raise NotImplementedError

    def empty(self) -> bool:
        return not self.elements()

    def change(self, opts: Any, nl_flags: int) -> None:
        """tcf_proto_ops.change: add or replace an element from the kind's typed options."""
        raise NotImplementedError

    def get(self, handle: int) -> Any:
        """tcf_proto_ops.get: the element with `handle`, or None."""
        raise NotImplementedError

    def delete(self, el: Any) -> None:
        """tcf_proto_ops.delete: remove one element, releasing its actions."""
        raise NotImplementedError

    def destroy(self) -> None:
        """tcf_proto_ops.destroy: the instance goes; its elements let their actions go."""
        for el in self.elements():
            tcf_action_release(el.actions)


def _act(f: Filter, frame: Any, nbytes: int, now: int) -> tuple[int, int | None]:
    f.hits += 1
    if f.actions:
        v = run_actions(f.actions, frame, nbytes, now)
        return v, f.classid
    return TC_ACT_OK, f.classid


# --- u32 ---------------------------------------------------------------------------


class U32Key:
    __slots__ = ("val", "mask", "off", "offmask")

    def __init__(self, val: int, mask: int, off: int, offmask: int = 0) -> None:
        self.val, self.mask, self.off, self.offmask = val & mask, mask, off, offmask


class U32Knode(Filter):
    def __init__(self, handle: int) -> None:
        super().__init__(handle)
        self.keys: list[U32Key] = []
        self.terminal = False
        self.link = 0
        self.hmask = 0
        self.hoff = 0
        self.indev = ""
        self.police: Action | None = None


class U32Ht:
    def __init__(self, handle: int, divisor: int, prio: int = 0) -> None:
        self.handle = handle
        self.divisor = divisor
        self.prio = prio
        self.actions: list[Action] = []                # a hash table has no actions and no class,
        self.classid: int | None = None                # as any other element may
        self.buckets: list[list[U32Knode]] = [[] for _ in range(divisor)]
        self.gen = 0                                   # bumped on every change to a bucket
        self.index: dict[int, tuple[int, Any]] = {}    # bucket -> (gen, fast lookup or None)

    def lookup_index(self, bucket: int) -> Any:
        """For a bucket of many single-key terminal nodes on one word and mask (100 port
        filters), a dict from the masked word to the first such node: the same answer as
        trying them in order, in one lookup. None when the bucket is not like that."""
        hit = self.index.get(bucket)
        if hit is not None and hit[0] == self.gen:
            return hit[1]
        nodes = self.buckets[bucket]
        idx: Any = None
        if len(nodes) >= 8 and all(len(n.keys) == 1 and n.terminal and not n.link and not n.indev
                                   for n in nodes):
            k0 = nodes[0].keys[0]
            if all(n.keys[0].off == k0.off and n.keys[0].mask == k0.mask and not n.keys[0].offmask
                   for n in nodes):
                table: dict[int, U32Knode] = {}
                for n in nodes:
                    table.setdefault(n.keys[0].val, n)
                idx = (k0.off, k0.mask, table)
        self.index[bucket] = (self.gen, idx)
        return idx


@dataclass(slots=True)
class U32Opts:
    """The attributes of a u32 request (TCA_U32_*): a hash table when `divisor` is set, else a key node."""

    handle: int | None = None
    divisor: int | None = None
    ht: int | None = None
    link: int | None = None
    keys: list[U32Key] = field(default_factory=list)
    classid: int | None = None
    terminal: bool = False
    hmask: int = 0
    hoff: int = 0
    indev: str = ""
    actions: BindActions = list


class U32Proto(TcfProto):
    """cls_u32: hash tables of key nodes; the root table is `800:` for the first u32 prio."""

    kind: ClassVar[str] = "u32"

    def __init__(self, owner: Any, chain: int, prio: int, protocol: int) -> None:
        super().__init__(owner, chain, prio, protocol)
        # hash tables are shared by every u32 instance of the qdisc (tc_u_common)
        self.shared: dict[int, U32Ht] = owner.u32_hts
        self.root = U32Ht(self.gen_new_htid(), 1, prio)
        self.shared[self.root.handle] = self.root

    def gen_new_htid(self) -> int:
        """gen_new_htid: the first free hash-table id from 800: up."""
        h = 0x800
        while (h << 20) in self.shared:
            h += 1
        return h << 20

    @property
    def hts(self) -> dict[int, U32Ht]:
        return {h: t for h, t in self.shared.items() if t.prio == self.prio}

    def add_ht(self, ht: U32Ht) -> None:
        ht.prio = self.prio
        self.shared[ht.handle] = ht

    def destroy(self) -> None:
        super().destroy()
        for h in list(self.hts):
            del self.shared[h]

    def change(self, opts: U32Opts, nl_flags: int) -> None:
        """u32_change: a new hash table, or a key node in one (node ids from 800 up per bucket)."""
        handle, divisor, ht, link = opts.handle, opts.divisor, opts.ht, opts.link
        if divisor is not None:
            # a hash table
            h = handle if handle is not None else 0
            if h & 0xFFFFF:
                raise TcError(EINVAL, "Divisor can only be used on a hash table")
            if h and h in self.shared:
                if not nl_flags & NLM_F_EXCL:
                    raise TcError(EINVAL, "u32 Link handle must be a hash table")
                raise TcError(EEXIST, "Hash table already exists")
            if not h:
                h = self.gen_new_htid()
            self.add_ht(U32Ht(h, divisor))
            return
        target_ht = ht if ht is not None else (handle & 0xFFF00000 if handle else self.root.handle)
        if target_ht == 0:
            target_ht = self.root.handle
        tbl = self.shared.get(target_ht & 0xFFF00000)
        if tbl is None:
            raise TcError(EINVAL, "Specified hash table not found")
        bkt = (target_ht >> 12) & 0xFF
        if bkt >= tbl.divisor:
            raise TcError(EINVAL, "Invalid argument")
        if link is not None and link and (link & 0xFFF00000) not in self.shared:
            raise TcError(EINVAL, "Link hash table not found")
        if handle is not None and handle & 0xFFF:
            if handle & 0xFFF00000 and handle & 0xFFF00000 != tbl.handle:
                raise TcError(EINVAL, "Handle specified hash table address mismatch")
            existing = self.get(tbl.handle | (bkt << 12) | (handle & 0xFFF))
            if existing is not None:
                if nl_flags & NLM_F_EXCL:
                    raise TcError(EINVAL, "Key node flags do not match passed flags")
                self.delete(existing)
            node_id = handle & 0xFFF
        else:
            if not nl_flags & NLM_F_CREATE:
                raise TcError(ENOENT, "Specified filter handle not found")
            ids = [n.handle & 0xFFF for b in tbl.buckets for n in b
                   if (n.handle >> 12) & 0xFF == bkt]
            node_id = (max(ids) + 1) if ids else 0x800
        n = U32Knode(tbl.handle | (bkt << 12) | node_id)
        n.keys = opts.keys
        n.classid = opts.classid
        n.terminal = opts.terminal
        n.link = link or 0
        n.hmask = opts.hmask
        n.hoff = opts.hoff
        n.indev = opts.indev
        n.flags = TCA_CLS_FLAGS_NOT_IN_HW
        n.actions = opts.actions()
        lst = tbl.buckets[bkt]
        lst.append(n)
        lst.sort(key=lambda x: x.handle & 0xFFF)
        tbl.gen += 1

    def get(self, handle: int) -> Any:
        for ht in self.hts.values():
            if ht.handle == handle:
                return ht
            for b in ht.buckets:
                for n in b:
                    if n.handle == handle:
                        return n
        return None

    def delete(self, el: Any) -> None:
        if isinstance(el, U32Ht):
            if el is self.root:
                raise TcError(EINVAL, "Not allowed to delete root node")
            del self.shared[el.handle]
            return
        for ht in self.hts.values():
            for b in ht.buckets:
                if el in b:
                    b.remove(el)
                    ht.gen += 1
                    tcf_action_release(el.actions)

    def elements(self) -> list[Any]:
        out: list[Any] = []
        for ht in self._hts_in_order():
            out.append(ht)
            for b in ht.buckets:
                out.extend(b)
        return out

    def _hts_in_order(self) -> list[U32Ht]:
        # the kernel lists hash tables newest first, the root last
        others = [h for h in self.hts.values() if h is not self.root]
        return list(reversed(others)) + [self.root]

    def empty(self) -> bool:
        return False

    def classify(self, frame: Any, nbytes: int, now: int) -> tuple[int, int | None] | None:
        ht = self.root
        fast = ht.lookup_index(0)
        if fast is not None and not (fast[0] < IP_CSUM_OFF + 2 and fast[0] + 4 > IP_CSUM_OFF):
            # the root bucket is one indexed word: read it from the header's fields
            word = header_word(frame, fast[0])
            if word is not None:
                n = fast[2].get(word & fast[1])
                return None if n is None else _act(n, frame, nbytes, now)
        data = network_header(frame, csum=False)
        full = frame.type != ETH_P_IP     # the checksum field is filled in
        bucket = 0
        depth = 0
        while ht is not None and depth < 8:
            depth += 1
            nxt = None
            fast = ht.lookup_index(bucket)
            if not full and (fast is None or fast[0] < IP_CSUM_OFF + 2 and fast[0] + 4 > IP_CSUM_OFF):
                data = network_header(frame)
                full = True
            if fast is not None:
                off, mask, table = fast
                if off + 4 > len(data):
                    return None
                n = table.get(int.from_bytes(data[off:off + 4], "big") & mask)
                return None if n is None else _act(n, frame, nbytes, now)
            for n in ht.buckets[bucket]:
                if n.indev and n.indev != getattr(getattr(frame, "meta", None), "iif_name", ""):
                    continue
                ok = True
                for k in n.keys:
                    off = k.off
                    if off < 0 or off + 4 > len(data):
                        ok = False
                        break
                    word = (data[off] << 24) | (data[off + 1] << 16) | (data[off + 2] << 8) | data[off + 3]
                    if (word ^ k.val) & k.mask:
                        ok = False
                        break
                if not ok:
                    continue
                if n.link:
                    target = self.shared.get(n.link & 0xFFF00000)
                    if target is None:
                        continue
                    b = 0
                    if n.hmask and n.hoff + 4 <= len(data):
                        w = int.from_bytes(data[n.hoff:n.hoff + 4], "big") & n.hmask
                        shift = (n.hmask & -n.hmask).bit_length() - 1
                        b = (w >> shift) % target.divisor
                    nxt = (target, b)
                    break
                if n.terminal:
                    return _act(n, frame, nbytes, now)
                if n.actions:
                    v = run_actions(n.actions, frame, nbytes, now)
                    if v != TC_ACT_UNSPEC:
                        return v, n.classid
            if nxt is None:
                return None
            ht, bucket = nxt
        return None


# --- fw ----------------------------------------------------------------------------


class FwFilter(Filter):
    def __init__(self, handle: int, mask: int = 0xFFFFFFFF) -> None:
        super().__init__(handle)
        self.mask = mask
        self.has_mask = False      # the handle was given with a /mask (printed back)
        self.indev = ""


@dataclass(slots=True)
class FwOpts:
    """The attributes of a fw request: the mark (handle), its optional mask, class, indev, actions."""

    handle: int
    mask: int | None = None
    classid: int | None = None
    indev: str = ""
    actions: BindActions = list


class FwProto(TcfProto):
    """cls_fw: the packet's firewall mark (skb->mark, iptables MARK) selects the filter."""

    kind: ClassVar[str] = "fw"

    def __init__(self, owner: Any, chain: int, prio: int, protocol: int) -> None:
        super().__init__(owner, chain, prio, protocol)
        self.filters: dict[int, FwFilter] = {}
        self.mask = 0xFFFFFFFF

    def elements(self) -> list[Any]:
        return [self.filters[h] for h in sorted(self.filters)]

    def change(self, opts: FwOpts, nl_flags: int) -> None:
        """fw_change: one filter per mark; all of an instance's filters share one mask."""
        handle, mask = opts.handle, opts.mask
        if handle in self.filters and nl_flags & NLM_F_EXCL:
            raise TcError(EEXIST)
        if handle not in self.filters and not nl_flags & NLM_F_CREATE:
            raise TcError(ENOENT, "Specified filter handle not found")
        if mask is not None and self.filters and mask != self.mask:
            raise TcError(EINVAL)
        acts = opts.actions()
        old = self.filters.get(handle)
        if old is not None:
            tcf_action_release(old.actions)
        el = FwFilter(handle, mask if mask is not None else 0xFFFFFFFF)
        el.classid = opts.classid
        el.indev = opts.indev
        el.actions = acts
        el.has_mask = mask is not None
        if mask is not None:
            self.mask = mask
        self.filters[handle] = el

    def get(self, handle: int) -> Any:
        return self.filters.get(handle)

    def delete(self, el: Any) -> None:
        del self.filters[el.handle]
        tcf_action_release(el.actions)

    def classify(self, frame: Any, nbytes: int, now: int) -> tuple[int, int | None] | None:
        m = frame.meta
        mark = m.mark if m is not None else 0
        if not self.filters:
            # no filters: the mark itself is the class id (fw_classify's legacy case)
            if mark and (mark >> 16) == 0:
                return TC_ACT_OK, (self.owner_handle() | mark)
            return None
        f = self.filters.get(mark & self.mask)
        if f is None:
            return None
        return _act(f, frame, nbytes, now)

    def owner_handle(self) -> int:
        return int(self.owner.handle) & 0xFFFF0000


# --- matchall ----------------------------------------------------------------------


@dataclass(slots=True)
class MatchallOpts:
    """The attributes of a matchall request."""

    handle: int = 0
    classid: int | None = None
    flags: int = 0                  # TCA_CLS_FLAGS_SKIP_HW / SKIP_SW
    actions: BindActions = list


class _OneFilterProto(TcfProto):
    """A classifier that holds at most one filter (cls_matchall's and cls_cgroup's `head`)."""

    def __init__(self, owner: Any, chain: int, prio: int, protocol: int) -> None:
        super().__init__(owner, chain, prio, protocol)
        self.f: Filter | None = None

    def elements(self) -> list[Any]:
        return [self.f] if self.f is not None else []

    def get(self, handle: int) -> Any:
        return self.f if self.f is not None and self.f.handle == handle else None

    def delete(self, el: Any) -> None:
        self.f = None
        tcf_action_release(el.actions)


class MatchallProto(_OneFilterProto):
    kind: ClassVar[str] = "matchall"

    def change(self, opts: MatchallOpts, nl_flags: int) -> None:
        """mall_change: the one rule (handle 1 unless given); not offloaded, so NOT_IN_HW."""
        if self.f is not None and nl_flags & NLM_F_EXCL:
            raise TcError(EEXIST)
        el = Filter(opts.handle or 1)
        el.classid = opts.classid
        el.flags = opts.flags | (0 if opts.flags & TCA_CLS_FLAGS_SKIP_SW else TCA_CLS_FLAGS_NOT_IN_HW)
        el.actions = opts.actions()
        if self.f is not None:
            tcf_action_release(self.f.actions)
        self.f = el

    def classify(self, frame: Any, nbytes: int, now: int) -> tuple[int, int | None] | None:
        if self.f is None or self.f.flags & TCA_CLS_FLAGS_SKIP_SW:
            return None
        return _act(self.f, frame, nbytes, now)


# --- cgroup ------------------------------------------------------------------------


@dataclass(slots=True)
class CgroupOpts:
    """The attributes of a cgroup request: the handle and its actions (no ematch tree)."""

    handle: int = 0
    actions: BindActions = list


class CgroupProto(_OneFilterProto):
    """cls_cgroup: the net_cls classid of the packet's socket (skb->sk's sk_cgrp_data) is the class.

    One filter per instance (cls_cgroup_change: a handle is needed for the first,
    the same handle to replace it). A packet without a socket, or whose socket's
    cgroup has classid 0, does not match (task_get_classid)."""

    kind: ClassVar[str] = "cgroup"

    def change(self, opts: CgroupOpts, nl_flags: int) -> None:
        if self.f is None and not opts.handle:
            raise TcError(EINVAL)
        if self.f is not None and opts.handle != self.f.handle:
            raise TcError(ENOENT)
        el = Filter(opts.handle)
        el.actions = opts.actions()
        if self.f is not None:
            tcf_action_release(self.f.actions)
        self.f = el

    def classify(self, frame: Any, nbytes: int, now: int) -> tuple[int, int | None] | None:
        f = self.f
        m = frame.meta
        if f is None or m is None or m.local_socket is None:
            return None
        classid = m.local_socket.sk_cgrp_classid
        if not classid:
            return None
        v, _ = _act(f, frame, nbytes, now)
        return v, classid


FILTER_KINDS: dict[str, type[TcfProto]] = {"u32": U32Proto, "fw": FwProto, "matchall": MatchallProto,
                                           "cgroup": CgroupProto}


def tcf_classify(filters: list[TcfProto], frame: Any, nbytes: int) -> tuple[int, int | None]:
    """Walk chain 0 (and the chains goto jumps to); (verdict, classid or None)."""
    if not filters:
        return TC_ACT_UNSPEC, None
    now = 0
    chain = 0
    loops = 0
    i = 0
    while i < len(filters):
        tp = filters[i]
        i += 1
        if tp.chain != chain:
            continue
        if tp.protocol != ETH_P_ALL and tp.protocol != frame.type:
            continue
        if not now:
            now = tp.owner.dev.ns.sched.now
        r = tp.classify(frame, nbytes, now)
        if r is None:
            continue
        verdict, classid = r
        if verdict == TC_ACT_UNSPEC:
            continue
        if verdict == TC_ACT_RECLASSIFY:
            loops += 1
            if loops > MAX_REC_LOOP:
                return TC_ACT_SHOT, None
            chain, i = 0, 0
            continue
        if verdict >= 0 and verdict & TC_ACT_EXT_MASK == TC_ACT_GOTO_CHAIN:
            loops += 1
            if loops > MAX_REC_LOOP:
                return TC_ACT_SHOT, None
            chain, i = verdict & TC_ACT_EXT_VAL_MASK, 0
            continue
        if verdict == TC_ACT_SHOT:
            return TC_ACT_SHOT, None
        return verdict, classid
    return TC_ACT_UNSPEC, None
