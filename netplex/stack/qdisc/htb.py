"""htb: the hierarchical token bucket (net/sched/sch_htb.c, tc-htb(8)).

Every class has two buckets of nanoseconds: `tokens` refilled at `rate` up to
`burst`, `ctokens` at `ceil` up to `cburst`. A class whose ctokens are below
zero CAN'T SEND; one with tokens at or above zero CAN SEND on its own; in
between it MAY BORROW from its parent. A leaf with backlog is served at the
level of the first ancestor (itself included) that can send, walking up
through classes that may borrow: level 0 first (classes within their rate),
then higher levels (borrowing); within a level, lower `prio` first; among
equals, deficit round robin by `quantum` (rate / r2q unless given). Sending
charges the leaf and every ancestor (htb_charge_class): `lended` counts the
packets a class sent at its own level, `borrowed` those its descendants
borrowed through it. Unclassified packets go to the `default` class, or —
when that class does not exist — to the direct queue, sent unshaped.
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from heapq import heappop, heappush
from typing import Any, ClassVar

from netplex.packet.ethernet import ETH_P_IP
from netplex.packet.ipv4 import IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.qdisc.cls import ETH_P_ALL, IP_CSUM_OFF, TC_ACT_SHOT, U32Proto, header_word, tcf_classify
from netplex.stack.qdisc.core import (
    IP_TOS2PRIO,
    TC_H_ROOT,
    Qdisc,
    QdiscClass,
    psched_ratecfg,
    skb_priority,
    tc_h_maj,
    ticks2ns,
)
from netplex.stack.qdisc.fifo import PfifoQdisc
from netplex.stack.wmem import wmem_charge, wmem_release_dev

HTB_CANT_SEND, HTB_MAY_BORROW, HTB_CAN_SEND = 0, 1, 2
TC_HTB_MAXDEPTH = 8
MBUFFER_NS = 60 * 1_000_000_000
HTB_DIRECT = -1
# HtbQdisc.enqueue_xmit's answers to the device: dropped, queued (run the qdisc as usual), dequeued (send it now)
XMIT_DROPPED, XMIT_QUEUED, XMIT_SENT = -1, 0, 1


@dataclass(slots=True)
class HtbOpts:
    """struct tc_htb_glob and TCA_HTB_DIRECT_QLEN: each None when not given."""

    r2q: int | None = None
    default: int | None = None
    direct_qlen: int | None = None


@dataclass(slots=True)
class HtbClassOpts:
    """struct tc_htb_opt: rates in bytes/s, buckets in psched ticks."""

    rate: int
    ceil: int
    buffer_ticks: int
    cbuffer_ticks: int
    prio: int = 0
    quantum: int = 0
    overhead: int = 0
    mpu: int = 0
    linklayer: int = 1


class HtbClass(QdiscClass):
    # slots: more than 30 instance attributes would leave CPython's shared-key instance dict and
    # make every attribute read on the per-packet path (charge, the dequeue walk) a slow lookup
    __slots__ = ("parent", "children", "level", "prio", "quantum", "user_quantum", "rate", "ceil",
                 "buffer_ticks", "cbuffer_ticks", "buffer", "cbuffer", "tokens", "ctokens", "t_c",
                 "deficit", "lends", "borrows", "giants", "overhead", "mpu", "linklayer", "rate_mult",
                 "rate_shift", "ceil_mult", "ceil_shift", "wait_seq", "cost")

    def __init__(self, qdisc: HtbQdisc, classid: int, parent: HtbClass | None) -> None:
        super().__init__(qdisc, classid)
        self.parent = parent
        self.children: list[HtbClass] = []
        self.level = 0
        self.prio = 0
        self.quantum = 1000
        self.user_quantum = 0
        self.rate = 0
        self.ceil = 0
        self.buffer_ticks = 0
        self.cbuffer_ticks = 0
        self.buffer = 0
        self.cbuffer = 0
        self.tokens = 0
        self.ctokens = 0
        self.t_c = 0
        self.deficit = [0] * TC_HTB_MAXDEPTH
        self.lends = 0
        self.borrows = 0
        self.giants = 0
        self.overhead = 0
        self.mpu = 0
        self.linklayer = 1
        self.rate_mult = self.rate_shift = 0
        self.ceil_mult = self.ceil_shift = 0
        self.wait_seq = 0        # a backlogged leaf's entry in HtbQdisc.wait; -1: in HtbQdisc.ready instead
        self.cost: dict[int, tuple[int, int]] = {}   # a packet length's (rate, ceil) cost in ns, worked out once

    def configure(self, opts: HtbClassOpts) -> None:
        q = self.qdisc
        assert isinstance(q, HtbQdisc)
        rate, ceil, buffer_ticks, cbuffer_ticks = opts.rate, opts.ceil, opts.buffer_ticks, opts.cbuffer_ticks
        prio, quantum, overhead, mpu, linklayer = opts.prio, opts.quantum, opts.overhead, opts.mpu, opts.linklayer
        self.rate, self.ceil = rate, ceil
        # psched_ratecfg_precompute, once per configuration (l2t_ns is (len * mult) >> shift)
        self.rate_mult, self.rate_shift = psched_ratecfg(rate) if rate > 0 else (0, 0)
        self.ceil_mult, self.ceil_shift = psched_ratecfg(ceil) if ceil > 0 else (0, 0)
        self.buffer_ticks, self.cbuffer_ticks = buffer_ticks, cbuffer_ticks
        self.buffer, self.cbuffer = ticks2ns(buffer_ticks), ticks2ns(cbuffer_ticks)
        self.prio = min(prio, 7)
        self.user_quantum = quantum
        self.overhead, self.mpu, self.linklayer = overhead, mpu, linklayer
        self.cost = {}
        if quantum:
            self.quantum = quantum
        else:
            qt = rate // q.r2q
            self.quantum = 1000 if qt < 1000 else 200000 if qt > 200000 else qt

    def cost_of(self, nbytes: int) -> tuple[int, int]:
        """What a packet of `nbytes` costs this class's rate and ceil buckets, in ns: the length
        with the overhead and the minimum (mpu) applied, through l2t_ns's (len * mult) >> shift.
        Kept in `cost` (up to 4096 lengths) until the class is configured again."""
        ln = nbytes + self.overhead
        if ln < self.mpu:
            ln = self.mpu
        c = ((ln * self.rate_mult) >> self.rate_shift, (ln * self.ceil_mult) >> self.ceil_shift)
        if len(self.cost) < 4096:
            self.cost[nbytes] = c
        return c

    def tcm_parent(self) -> int:
        """htb_dump_class: the parent class, or TC_H_ROOT for a top class."""
        return self.parent.classid if self.parent is not None else TC_H_ROOT

    def mode_at(self, now: int) -> int:
        """htb_class_mode, with hysteresis off (the kernel's default)."""
        diff = now - self.t_c
        if diff > MBUFFER_NS:
            diff = MBUFFER_NS
        if self.ctokens + diff < 0:
            return HTB_CANT_SEND
        if self.tokens + diff >= 0:
            return HTB_CAN_SEND
        return HTB_MAY_BORROW


class HtbQdisc(Qdisc):
    kind: ClassVar[str] = "htb"
    classful = True
    has_class_change = True
    runs_on_enqueue = True   # off (on an instance): the device enqueues, then runs the qdisc
    level0_rows = True       # off: the dequeue walks every backlogged leaf instead of using `ready`
    flow_cache = True        # off: every packet is classified by the filters

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        super().__init__(dev, handle, parent)
        self.refcnt = 1 + dev.num_tx_queues
        self.r2q = 10
        self.defcls = 0
        self.direct_qlen = dev.txqueuelen
        self.direct: deque = deque()
        self.direct_pkts = 0
        self.cls: dict[int, HtbClass] = {}
        self.active: dict[int, HtbClass] = {}     # leaves with backlog, by classid
        self.drr_ptr: dict[int, int] = {}        # the round robin's next classid by level << 3 | prio
        # the flow cache (_flow_compile): valid for one tc_gen; the root's one indexed u32 word (offset, mask),
        # and by masked word the filter element that matched (None: none did) and the class it leads to
        self.flow_gen = -1
        self.flow_off = -1
        self.flow_mask = 0
        self.flow_table: dict[int, Any] = {}
        self.flow_cls: dict[int, tuple[Any, Any]] = {}
        # the backlogged leaves by when they can send at their own rate (the kernel's wait queue and
        # level-0 rows, htb_add_to_wait_tree / htb_activate_prios): `wait`, a heap of (the time the
        # leaf's tokens and ctokens both reach 0, sequence, classid), and `ready`, per prio the
        # sorted classids of those that can; rebuilt from `active` whenever ready_gen != tc_gen
        self.wait: list[tuple[int, int, int]] = []
        self.ready: list[list[int]] = [[] for _ in range(8)]
        self.nready = 0
        self.wait_ctr = 0
        self.ready_gen = -1

    def init(self, opts: HtbOpts | None) -> None:
        """htb_init: r2q 0 means the default 10."""
        if opts is not None:
            self.change(opts)
            self.r2q = self.r2q or 10

    def change(self, opts: HtbOpts | None) -> None:
        self.tc_gen += 1      # the default class may change
        if opts is None:
            return
        if opts.r2q is not None:
            self.r2q = opts.r2q
        if opts.default is not None:
            self.defcls = opts.default
        if opts.direct_qlen is not None:
            self.direct_qlen = opts.direct_qlen

    # -- classes ---------------------------------------------------------------
    def classes(self) -> list[Any]:
        return list(self.cls.values())

    def find_class(self, classid: int) -> Any:
        if tc_h_maj(classid) == 0:
            classid |= self.handle
        return self.cls.get(classid)

    def children(self) -> Any:
        for cl in self.cls.values():
            if cl.level == 0 and cl.leaf is not None and cl.leaf.handle:
                yield cl.leaf

    def change_class(self, cl: HtbClass, opts: HtbClassOpts | None) -> None:
        self.tc_gen += 1
        if opts is not None:
            cl.configure(opts)

    def add_class(self, classid: int, parent: HtbClass | None, opts: HtbClassOpts) -> HtbClass:
        self.tc_gen += 1
        cl = HtbClass(self, classid, parent)
        cl.configure(opts)
        now = self.dev.ns.sched.now
        cl.tokens, cl.ctokens, cl.t_c = cl.buffer, cl.cbuffer, now
        leaf = PfifoQdisc(self.dev, 0, classid)
        leaf.parent_q = self
        cl.leaf = leaf
        if parent is not None:
            if parent.level == 0:
                # a leaf becomes an inner class: its queue goes (qdisc_purge_queue)
                old = parent.leaf
                if old is not None and old.qlen:
                    self._purge(parent)
                parent.leaf = None
                self.active.pop(parent.classid, None)
                self.ready_gen = -1
                parent.level = (parent.parent.level if parent.parent else TC_HTB_MAXDEPTH) - 1
                parent.tokens, parent.ctokens = parent.buffer, parent.cbuffer
            parent.children.append(cl)
        self.cls[classid] = cl
        return cl

    def _purge(self, cl: HtbClass) -> None:
        q = cl.leaf
        if q is None:
            return
        n, b = q.qlen, q.backlog
        q.reset()
        if n and self.dev.ns.wmem_owned:
            wmem_release_dev(self.dev.ns, self.dev)   # their senders have room again (early for others)
        self.qlen -= n
        self.backlog -= b
        self.drops += n
        self.active.pop(cl.classid, None)
        self.ready_gen = -1

    def delete_class(self, cl: HtbClass) -> None:
        self.tc_gen += 1
        self._purge(cl)
        if cl.parent is not None:
            cl.parent.children.remove(cl)
            if not cl.parent.children:
                p = cl.parent
                p.level = 0
                leaf = PfifoQdisc(self.dev, 0, p.classid)
                leaf.parent_q = self
                p.leaf = leaf
                p.tokens, p.ctokens, p.t_c = p.buffer, p.cbuffer, self.dev.ns.sched.now
        del self.cls[cl.classid]

    def graft(self, cl: HtbClass, q: Qdisc | None) -> None:
        if q is None:
            q = PfifoQdisc(self.dev, 0, cl.classid)
        self._purge(cl)
        q.parent_q = self
        cl.leaf = q

    # -- enqueue ---------------------------------------------------------------
    def _flow_compile(self) -> None:
        """The flow cache for this tc_gen: usable when the root's filters are one u32 instance
        (chain 0, protocol ip or all) whose root bucket is one indexed word (U32Ht.lookup_index)
        that is not the IP checksum's, as the 100 port filters of `tc filter ... u32 match ip
        dport P 0xffff flowid C`; then a packet's class depends only on that word."""
        self.flow_gen = self.tc_gen
        self.flow_cls = {}
        self.flow_table = {}
        self.flow_off = -1
        filters = self.filters
        if len(filters) != 1 or not tc_h_maj(self.handle) or not self.flow_cache:
            return
        tp = filters[0]
        if tp.__class__ is not U32Proto or tp.chain != 0 or tp.protocol not in (ETH_P_ALL, ETH_P_IP):
            return
        fast = tp.root.lookup_index(0)
        if fast is None or (fast[0] < IP_CSUM_OFF + 2 and fast[0] + 4 > IP_CSUM_OFF):
            return
        self.flow_off, self.flow_mask, self.flow_table = fast

    def _flow_resolve(self, word: int) -> tuple[Any, Any] | None:
        """classify's answer for a packet whose indexed word (masked) is `word`, worked out once:
        the element that matches (its hit is counted per packet) and the leaf class, HTB_DIRECT
        or the default; None (not cached) when the element has actions (run per packet: police,
        drop) or leads to an inner class with filters of its own."""
        n = self.flow_table.get(word)
        classid = None
        if n is not None:
            if n.actions:
                return None
            classid = n.classid
        res: Any = None
        if classid is not None:
            if classid == self.handle:
                res = HTB_DIRECT
            else:
                cl = self.cls.get(classid if classid & 0xFFFF0000 else classid | self.handle)
                if cl is not None:
                    if cl.level == 0:
                        res = cl
                    elif cl.filters:
                        return None
        if res is None:
            cl = self.cls.get(self.handle | self.defcls)
            res = HTB_DIRECT if cl is None or cl.level else cl
        hit = (n, res)
        self.flow_cls[word] = hit
        return hit

    def classify(self, frame: Any, nbytes: int) -> HtbClass | int | None:
        m = frame.meta
        p = frame.payload
        if m is None and p.__class__ is IPv4 and frame.type == ETH_P_IP:
            # the flow cache: a TOS priority (0..6) names neither this qdisc nor one of its classes
            # (a handle's major is never 0), so the root's filters decide
            if self.flow_gen != self.tc_gen:
                self._flow_compile()
            off = self.flow_off
            if off >= 0:
                l4 = p.payload
                if off == 20 and (l4.__class__ is Udp or l4.__class__ is Tcp) and not p.options:
                    word: int | None = (l4.sport << 16) | l4.dport     # header_word's ports, inline
                else:
                    word = header_word(frame, off)
                if word is not None:
                    word &= self.flow_mask
                    hit = self.flow_cls.get(word)
                    if hit is None:
                        hit = self._flow_resolve(word)
                    if hit is not None:
                        n = hit[0]
                        if n is not None:
                            n.hits += 1    # _act: the element's hit counter
                        return hit[1]
            prio = IP_TOS2PRIO[(p.tos & 0x1E) >> 1]      # skb_priority, the common case inline
        else:
            prio = skb_priority(frame)
        if prio == self.handle:
            return HTB_DIRECT
        cl = self.cls.get(prio) if tc_h_maj(prio) == self.handle else None
        if cl is not None and cl.level == 0:
            return cl
        filters = cl.filters if cl is not None else self.filters
        while filters:
            verdict, classid = tcf_classify(filters, frame, nbytes)
            if verdict == TC_ACT_SHOT:
                return None
            if classid is None:
                break
            if classid == self.handle:
                return HTB_DIRECT
            cl = self.cls.get(classid if classid & 0xFFFF0000 else classid | self.handle)   # find_class
            if cl is None:
                break
            if cl.level == 0:
                return cl
            filters = cl.filters
        cl = self.cls.get(self.handle | self.defcls)
        if cl is None or cl.level:
            return HTB_DIRECT
        return cl

    def enqueue(self, frame: Any, nbytes: int) -> bool:
        """Qdisc.enqueue with htb_enqueue inlined, and a pfifo leaf's enqueue too (the default
        leaf): the same counters and drops as the templates, in one call a packet."""
        return self._enqueue_to(self.classify(frame, nbytes), frame, nbytes)

    def _enqueue_to(self, cl: Any, frame: Any, nbytes: int) -> bool:
        """htb_enqueue once the packet is classified: to the class's leaf, the direct queue, or dropped."""
        if cl is None:
            self.trace_drop(frame, SkbDropReason.TC_CLASSIFY_DROP)
            self.drops += 1
            return False
        if cl.__class__ is not HtbClass:   # HTB_DIRECT
            if len(self.direct) < self.direct_qlen:
                self.direct.append((frame, nbytes))
                self.direct_pkts += 1
                self.qlen += 1
                self.backlog += nbytes
                return True
            self.trace_drop(frame, SkbDropReason.HTB_DIRECT_FULL)
            self.drops += 1
            return False
        q: Any = cl.leaf
        if q.__class__ is PfifoQdisc:
            fifo = q.q
            if len(fifo) < q.limit:
                fifo.append((frame, nbytes))
                q.qlen += 1
                q.backlog += nbytes
            else:
                q.trace_drop(frame, SkbDropReason.QDISC_DROP)
                q.drops += 1
                cl.drops += 1
                self.drops += 1
                return False
        elif not q.enqueue(frame, nbytes):
            cl.drops += 1
            self.drops += 1
            return False
        active = self.active
        if cl.classid not in active:
            active[cl.classid] = cl
            self._wait_push(cl)
        self.qlen += 1
        self.backlog += nbytes
        return True

    def enqueue_xmit(self, frame: Any, nbytes: int, dev: Any, charge: bool) -> int:
        """The device's enqueue (__dev_xmit_skb: q->enqueue, then __qdisc_run at once when the
        link is free and no run is pending) for the root qdisc, with the dequeue that run makes
        first done here when it is sure to give this very packet: the qdisc was empty, the link
        is free, and the packet's class can send now (at its own level or borrowing). HTB has
        no TCQ_F_CAN_BYPASS, so the packet still passes through the queue in the kernel:
        every counter (the leaf's and the qdisc's sent bytes and packets, the class's, the
        round robin's deficit and pointer, the three levels' tokens, lends and borrows,
        overlimits) moves exactly as the enqueue and dequeue would move it. XMIT_SENT: the
        device sends it now; XMIT_QUEUED: it is queued, run the qdisc as usual (a class that
        cannot send: the dequeue gives nothing and the watchdog is set); XMIT_DROPPED.
        With `charge`, the sending socket is charged for the packet (skb_set_owner_w) before it
        is queued, unless it goes straight through (charged and released in one instant)."""
        cl: Any = None
        p = frame.payload
        if self.flow_off == 20 and self.flow_gen == self.tc_gen and p.__class__ is IPv4 and frame.meta is None:
            # classify's flow cache hit, inline (its conditions, in another order)
            l4 = p.payload
            if (l4.__class__ is Udp or l4.__class__ is Tcp) and not p.options and frame.type == ETH_P_IP:
                hit = self.flow_cls.get(((l4.sport << 16) | l4.dport) & self.flow_mask)
                if hit is not None:
                    n = hit[0]
                    if n is not None:
                        n.hits += 1
                    cl = hit[1]
        if cl is None:
            cl = self.classify(frame, nbytes)
        if cl is None or self.qlen or dev.run_at >= 0:
            return self._enqueue_owned(cl, frame, nbytes, dev, charge)
        now = dev.ns.sched.now
        if now < dev.busy_until:
            return self._enqueue_owned(cl, frame, nbytes, dev, charge)
        if cl.__class__ is not HtbClass:   # HTB_DIRECT: queued and dequeued first (an empty direct queue)
            if self.direct_qlen <= 0:
                return self._enqueue_owned(cl, frame, nbytes, dev, charge)
            self.direct_pkts += 1
            self.packets += 1
            self.bytes += nbytes
            return XMIT_SENT
        q: Any = cl.leaf
        if self.active or q.__class__ is not PfifoQdisc or q.limit <= 0:
            return self._enqueue_owned(cl, frame, nbytes, dev, charge)
        # the dequeue's choice with this leaf the only one backlogged: the level it is served at
        # (_service_level; the leaf's own test inline)
        diff = now - cl.t_c
        if diff > MBUFFER_NS:
            diff = MBUFFER_NS
        if cl.ctokens + diff < 0:
            return self._enqueue_owned(cl, frame, nbytes, dev, charge)
        level = 0
        if cl.tokens + diff < 0:
            served = self._service_level(cl, now)
            if served is None:
                return self._enqueue_owned(cl, frame, nbytes, dev, charge)
            level = served
        q.packets += 1          # the pfifo leaf's dequeue (its qlen and backlog, and the qdisc's, are back to 0)
        q.bytes += nbytes
        self.packets += 1
        self.bytes += nbytes
        cl.packets += 1
        cl.bytes += nbytes
        key = (level << 3) | cl.prio
        deficit = cl.deficit
        d = deficit[level] - nbytes
        if d < 0:
            deficit[level] = d + cl.quantum
            self.drr_ptr[key] = cl.classid + 1
        else:
            deficit[level] = d
            self.drr_ptr[key] = cl.classid
        self.charge(cl, level, nbytes, now)
        return XMIT_SENT

    def _enqueue_owned(self, cl: Any, frame: Any, nbytes: int, dev: Any, charge: bool) -> int:
        """enqueue_xmit's packet queued as the device's enqueue queues it: charged first."""
        if charge:
            wmem_charge(dev.ns, frame, dev, nbytes - 14)
        return XMIT_QUEUED if self._enqueue_to(cl, frame, nbytes) else XMIT_DROPPED

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        """htb_enqueue without the qdisc's own counters (Qdisc.enqueue's part)."""
        qlen, backlog, drops = self.qlen, self.backlog, self.drops
        ok = self.enqueue(frame, nbytes)
        self.qlen, self.backlog, self.drops = qlen, backlog, drops
        return ok

    # -- dequeue ---------------------------------------------------------------
    def _service_level(self, leaf: HtbClass, now: int) -> int | None:
        """The level a backlogged leaf is served at now (None: it cannot send): the first
        ancestor, itself included, that CAN SEND, through ancestors that MAY BORROW
        (htb_class_mode inlined)."""
        c: HtbClass | None = leaf
        while c is not None:
            diff = now - c.t_c
            if diff > MBUFFER_NS:
                diff = MBUFFER_NS
            if c.ctokens + diff < 0:
                return None
            if c.tokens + diff >= 0:
                return c.level
            c = c.parent
        return None

    def dequeue(self, now: int) -> tuple[Any, int] | None:
        """Qdisc.dequeue with htb_dequeue inlined (the same counters, one call a packet)."""
        direct = self.direct
        item = direct.popleft() if direct else self._dequeue_tree(now)
        if item is not None:
            nbytes = item[1]
            self.qlen -= 1
            self.backlog -= nbytes
            self.packets += 1
            self.bytes += nbytes
        return item

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        if self.direct:
            return self.direct.popleft()
        return self._dequeue_tree(now)

    def _wait_push(self, cl: HtbClass) -> None:
        """A backlogged leaf waits until its tokens and ctokens both reach 0 (it can send at its
        own rate from then on, htb_class_mode's CAN_SEND, until it is charged again)."""
        self.wait_ctr += 1
        cl.wait_seq = self.wait_ctr
        tokens, ctokens = cl.tokens, cl.ctokens
        heappush(self.wait, (cl.t_c - (tokens if tokens < ctokens else ctokens), self.wait_ctr, cl.classid))

    def _ready_rebuild(self) -> None:
        self.ready_gen = self.tc_gen
        self.wait = []
        self.ready = [[] for _ in range(8)]
        self.nready = 0
        for cl in self.active.values():
            self._wait_push(cl)

    def _unready(self, cl: HtbClass) -> None:
        if cl.wait_seq == -1:
            cl.wait_seq = 0
            self.ready[cl.prio].remove(cl.classid)
            self.nready -= 1

    def _dequeue_tree(self, now: int) -> tuple[Any, int] | None:
        """htb_dequeue_tree over the backlogged leaves: the lowest (level, prio) any of them can be
        served at, the round robin among its leaves (the lowest classid at or after the level and
        prio's pointer, else the lowest), then the leaf's packet and the charge.

        Leaves that can send at their own rate (level 0, the lowest levels) are kept per prio in
        `ready`, fed from the `wait` heap as their time comes, so the round robin among them is a
        bisection; only when none can (every candidate would borrow, or none can send) are the
        backlogged leaves walked up their ancestors to find the level each is served at."""
        active = self.active
        if self.ready_gen != self.tc_gen:
            self._ready_rebuild()
        ready = self.ready
        wait = self.wait
        while wait and wait[0][0] <= now:
            _, seq, cid = heappop(wait)
            w = active.get(cid)
            if w is not None and w.wait_seq == seq:
                w.wait_seq = -1
                insort(ready[w.prio], cid)
                self.nready += 1
        drr_ptr = self.drr_ptr
        passed: set[int] | None = None   # leaves whose qdisc gave nothing this time (netem: head not yet due)
        while active:
            cl: Any = None
            best = -1
            if self.nready and self.level0_rows:
                for prio in range(8):
                    row = ready[prio]
                    if not row:
                        continue
                    i = bisect_left(row, drr_ptr.get(prio, 0))
                    if passed is None:
                        cid = row[i] if i < len(row) else row[0]
                    else:
                        cid = next((c for c in row[i:] + row[:i] if c not in passed), -1)
                        if cid < 0:
                            continue
                    cl, best = active[cid], prio
                    break
            if cl is None:
                # (level, prio) as one int, level << 3 | prio (prio is at most 7)
                chosen: HtbClass | None = None
                group: list[HtbClass] | None = None
                for leaf_cl in active.values():
                    if passed is not None and leaf_cl.classid in passed:
                        continue
                    c: HtbClass | None = leaf_cl
                    lvl = -1
                    while c is not None:   # _service_level, inline
                        diff = now - c.t_c
                        if diff > MBUFFER_NS:
                            diff = MBUFFER_NS
                        if c.ctokens + diff < 0:
                            break
                        if c.tokens + diff >= 0:
                            lvl = c.level
                            break
                        c = c.parent
                    if lvl < 0:
                        continue
                    key = (lvl << 3) | leaf_cl.prio
                    if best < 0 or key < best:
                        best, chosen, group = key, leaf_cl, None
                    elif key == best:
                        if group is None:
                            group = [chosen]   # type: ignore[list-item]
                        group.append(leaf_cl)
                if chosen is None:
                    return None
                # the round robin: the lowest classid at or after the pointer, else the lowest
                cl = chosen
                if group is not None:
                    ptr = drr_ptr.get(best, 0)
                    first = group[0]
                    found = cl.classid >= ptr
                    for c in group:
                        cid = c.classid
                        if cid < first.classid:
                            first = c
                        if cid >= ptr and (not found or cid < cl.classid):
                            cl, found = c, True
                    if not found:
                        cl = first
            level = best >> 3
            leaf: Any = cl.leaf
            if leaf.__class__ is PfifoQdisc:     # a pfifo leaf's dequeue, inline
                fifo = leaf.q
                item = fifo.popleft()            # backlogged: never empty
                nbytes = item[1]
                leaf.qlen -= 1
                leaf.backlog -= nbytes
                leaf.packets += 1
                leaf.bytes += nbytes
                backlogged = bool(fifo)
            else:
                item = leaf.dequeue(now)
                if item is None:
                    if not leaf.qlen:
                        del active[cl.classid]
                        self._unready(cl)
                        continue
                    # htb_dequeue_tree: a backlogged leaf that gives nothing (netem holding its head
                    # packet) is passed over, the round moving on (htb_next_rcu_descendant); the next
                    # leaf, prio or level is tried, and the leaf's watchdog (next_wakeup) brings it back
                    drr_ptr[best] = cl.classid + 1
                    if passed is None:
                        passed = set()
                    passed.add(cl.classid)
                    continue
                backlogged = leaf.qlen > 0
                nbytes = item[1]
            cl.packets += 1
            cl.bytes += nbytes
            deficit = cl.deficit
            d = deficit[level] - nbytes
            if d < 0:
                deficit[level] = d + cl.quantum
                drr_ptr[best] = cl.classid + 1
            else:
                deficit[level] = d
                drr_ptr[best] = cl.classid
            self.charge(cl, level, nbytes, now)
            if not backlogged:
                del active[cl.classid]
                self._unready(cl)
            elif cl.t_c - min(cl.tokens, cl.ctokens) > now:   # charged: it waits for its tokens again
                self._unready(cl)
                self._wait_push(cl)
            elif cl.wait_seq != -1:                           # it can still send at its rate
                cl.wait_seq = -1
                insort(ready[cl.prio], cl.classid)
                self.nready += 1
            return item
        return None

    def charge(self, cl: HtbClass | None, level: int, nbytes: int, now: int) -> None:
        """htb_charge_class: the leaf and every ancestor pay for the packet. A class left over
        its rate or ceil (htb_class_mode after the charge, not CAN_SEND) counts an overlimit:
        Linux 6.x does (measured on the kernel twin: about one per borrowed packet). The mode
        itself is not kept: the dequeue works it out from the buckets when it needs it."""
        mbuffer = MBUFFER_NS
        floor = 1 - mbuffer     # tokens are kept above -mbuffer
        while cl is not None:
            try:
                rcost, ccost = cl.cost[nbytes]
            except KeyError:
                rcost, ccost = cl.cost_of(nbytes)
            diff = now - cl.t_c
            if diff > mbuffer:
                diff = mbuffer
            clevel = cl.level
            if clevel >= level:
                if clevel == level:
                    cl.lends += 1
                toks = diff + cl.tokens
                buf = cl.buffer
                toks = (buf if toks > buf else toks) - rcost
                if toks < floor:
                    toks = floor
            else:
                cl.borrows += 1
                toks = cl.tokens + diff
            cl.tokens = toks
            ctoks = diff + cl.ctokens
            buf = cl.cbuffer
            ctoks = (buf if ctoks > buf else ctoks) - ccost
            if ctoks < floor:
                ctoks = floor
            cl.ctokens = ctoks
            cl.t_c = now
            if ctoks < 0 or toks < 0:
                cl.overlimits += 1
                self.overlimits += 1
            if clevel:
                cl.packets += 1
                cl.bytes += nbytes
            cl = cl.parent

    def next_wakeup(self, now: int) -> int | None:
        """The earliest time a backlogged leaf can be served (htb's wait queue)."""
        if self.direct:
            return now
        best: int | None = None
        for leaf in self.active.values():
            c: HtbClass | None = leaf
            cant = 0
            mine: int | None = None
            while c is not None:
                t_ct = c.t_c - c.ctokens          # ctokens reach 0
                if t_ct > cant:
                    cant = t_ct
                t = max(cant, c.t_c - c.tokens)   # this class can send at its own rate
                if mine is None or t < mine:
                    mine = t
                c = c.parent
            q = leaf.leaf
            held = q.next_wakeup(now) if q is not None else None   # a leaf that holds packets back (netem)
            if mine is not None and held is not None and held > mine:
                mine = held
            if mine is not None and (best is None or mine < best):
                best = mine
        if best is None:
            return None
        return best if best > now else now + 1

    def reset(self) -> None:
        super().reset()
        self.direct.clear()
        for cl in self.cls.values():
            if cl.leaf is not None:
                cl.leaf.reset()
        self.active.clear()
        self.ready_gen = -1
