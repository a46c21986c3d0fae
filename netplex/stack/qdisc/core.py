"""The traffic-control core: handles, tc's time/size arithmetic, the Qdisc and class bases.

Mirrors net/sched/sch_api.c and sch_generic.c: a qdisc has a handle
(major:0), a parent (TC_H_ROOT, TC_H_INGRESS or a class id), statistics
(`Sent N bytes M pkt (dropped D, overlimits O requeues R)`, backlog) and
template methods — subclasses fill `do_enqueue` / `do_dequeue`; the base
does the counters, drop tracing and the tree's backlog. Times are integer
nanoseconds; tc's "ticks" (psched ticks of 64 ns, /proc/net/psched) only
appear where tc(8) converts sizes to times and back (tc_core.c).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from netplex.engine.compiled import mypyc_attr
from netplex.errors import NetplexError
from netplex.stack.dropreason import SkbDropReason

ENOENT, EEXIST, EINVAL, ELOOP, EBUSY, EOPNOTSUPP = 2, 17, 22, 40, 16, 95
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400   # a request's netlink flags
_STRERROR = {ENOENT: "No such file or directory", EEXIST: "File exists", EINVAL: "Invalid argument",
             ELOOP: "Too many levels of symbolic links", EBUSY: "Device or resource busy",
             EOPNOTSUPP: "Operation not supported"}


class TcError(NetplexError):
    """The kernel refused a traffic-control request: `errno`, and the extack text when
    the kernel sets one (tc prints `Error: EXTACK.`, else `RTNETLINK answers: STRERROR`)."""

    def __init__(self, errno: int, extack: str = "") -> None:
        super().__init__(f"Error: {extack}." if extack else f"RTNETLINK answers: {_STRERROR[errno]}", errno,
                         status=2)
        self.extack = extack

TC_H_ROOT = 0xFFFFFFFF
TC_H_INGRESS = 0xFFFFFFF1
TC_H_UNSPEC = 0
INGRESS_HANDLE = 0xFFFF0000

# /proc/net/psched on Linux: 000003e8 00000040 000f4240 3b9aca00 — a tick is 64 ns,
# tc's TIME_UNITS_PER_SEC is 1e6, so tick_in_usec = 1000 / 64.
TICK_IN_USEC = 1000 / 64
TIME_UNITS_PER_SEC = 1_000_000
PSCHED_SHIFT = 6
NSEC_PER_SEC = 1_000_000_000


def tc_h_maj(h: int) -> int:
    return h & 0xFFFF0000


def tc_h_min(h: int) -> int:
    return h & 0xFFFF


def xmittime(rate_Bps: int, size: float) -> int:
    """tc_calc_xmittime: ticks to send `size` bytes at `rate_Bps` (truncations as tc's C)."""
    if rate_Bps <= 0:
        return 0
    usec = int(TIME_UNITS_PER_SEC * (size / rate_Bps)) & 0xFFFFFFFF
    return int(usec * TICK_IN_USEC) & 0xFFFFFFFF


def xmitsize(rate_Bps: int, ticks: int) -> int:
    """tc_calc_xmitsize: bytes sent at `rate_Bps` during `ticks`."""
    usec = int(ticks / TICK_IN_USEC)
    return int(rate_Bps * usec / TIME_UNITS_PER_SEC) & 0xFFFFFFFF


def ticks2ns(ticks: int) -> int:
    return ticks << PSCHED_SHIFT


def ns2ticks(ns: int) -> int:
    return ns >> PSCHED_SHIFT


_RATECFG: dict[int, tuple[int, int]] = {}


def psched_ratecfg(rate_Bps: int) -> tuple[int, int]:
    """psched_ratecfg_precompute: (mult, shift) so that ns = (len * mult) >> shift."""
    mult_shift = _RATECFG.get(rate_Bps)
    if mult_shift is None:
        factor, shift = NSEC_PER_SEC, 0
        while True:
            mult = factor // rate_Bps
            if mult & (1 << 31) or factor & (1 << 63):
                break
            factor <<= 1
            shift += 1
        mult_shift = _RATECFG[rate_Bps] = (mult, shift)
    return mult_shift


def l2t_ns(rate_Bps: int, nbytes: int) -> int:
    """psched_l2t_ns: time to send `nbytes` at `rate_Bps`, with the kernel's reciprocal."""
    if rate_Bps <= 0:
        return 0
    mult, shift = psched_ratecfg(rate_Bps)
    return (nbytes * mult) >> shift


# ip_tos2prio (net/ipv4/route.c): skb->priority of a packet from its TOS.
IP_TOS2PRIO = (0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4)


def rt_tos2priority(tos: int) -> int:
    return IP_TOS2PRIO[(tos & 0x1E) >> 1]


def skb_priority(frame: Any) -> int:
    """skb->priority: set by CLASSIFY / SO_PRIORITY (meta), else from the IP TOS byte."""
    m = frame.meta
    if m is not None and m.priority:
        return m.priority
    if frame.type == 0x0800:
        return rt_tos2priority(getattr(frame.payload, "tos", 0))
    return 0


@mypyc_attr(allow_interpreted_subclasses=True)   # new qdisc kinds subclass it (api.py: register_qdisc)
class Qdisc:
    """struct Qdisc: counters and the enqueue/dequeue templates."""

    kind: ClassVar[str] = ""   # ClassVar: read through the class (register_qdisc), also when compiled (netplex/build.py)
    classful = False
    has_class_change = False     # Qdisc_class_ops.change: `tc class add/change` works on it
    runs_on_enqueue = False      # has enqueue_xmit: the enqueue and an idle device's first dequeue in one call (htb)

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        self.dev = dev
        self.handle = handle
        self.parent = parent
        self.parent_q: Qdisc | None = None      # the qdisc whose class holds this one
        self.bytes = 0
        self.packets = 0
        self.drops = 0
        self.overlimits = 0
        self.requeues = 0
        self.qlen = 0
        self.backlog = 0
        self.gso: tuple[Any, int] | None = None  # sch->gso_skb: the packet a parent's peek dequeued
        self.filters: list[Any] = []            # tcf_proto list, kept sorted by prio
        self.u32_hts: dict[int, Any] = {}       # tc_u_common: the u32 hash tables of this block
        self.refcnt = 2
        self.tc_gen = 0                         # bumped by every tc change to its classes and filters (api.py)

    # -- Qdisc_ops ------------------------------------------------------------
    def init(self, opts: Any) -> None:
        """Qdisc_ops.init: configure a new qdisc from its typed options (None: the defaults)."""

    def change(self, opts: Any) -> None:
        """Qdisc_ops.change: `tc qdisc change/replace` on this qdisc; the default keeps it as is."""

    # -- templates -----------------------------------------------------------
    def enqueue(self, frame: Any, nbytes: int) -> bool:
        """qdisc_enqueue: True when the packet was queued; a refusal is a counted drop."""
        if self.do_enqueue(frame, nbytes):
            self.qlen += 1
            self.backlog += nbytes
            return True
        self.drops += 1
        return False

    def dequeue(self, now: int) -> tuple[Any, int] | None:
        item = self.do_dequeue(now)
        if item is not None:
            self.qlen -= 1
            self.backlog -= item[1]
            self.packets += 1
            self.bytes += item[1]
        return item

    def peek(self, now: int) -> tuple[Any, int] | None:
        """Qdisc_ops.peek as qdisc_peek_dequeued (include/net/sch_generic.h), the peek of a
        non-work-conserving qdisc (netem, tbf, htb): the packet its dequeue gives now, dequeued
        (counted as sent by this qdisc) and kept in `gso` — still part of the queue (qlen and
        backlog count it again) — for the parent's `dequeue_peeked`. A qdisc that holds its
        head back (netem's packet not yet due) gives None, exactly as its dequeue would.
        Work-conserving qdiscs override it with qdisc_peek_head (fifo) or their own (prio, sfq)."""
        item = self.gso
        if item is None:
            item = self.dequeue(now)
            if item is not None:
                self.gso = item
                self.qlen += 1
                self.backlog += item[1]
        return item

    def dequeue_peeked(self, now: int) -> tuple[Any, int] | None:
        """qdisc_dequeue_peeked: what a parent that peeked must dequeue with — the peeked
        packet (its counters were taken when it was dequeued into `gso`), else a dequeue."""
        item = self.gso
        if item is None:
            return self.dequeue(now)
        self.gso = None
        self.qlen -= 1
        self.backlog -= item[1]
        return item

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        raise NotImplementedError

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        raise NotImplementedError

    def next_wakeup(self, now: int) -> int | None:
        """When a throttled qdisc can send again (qdisc_watchdog); None if never/now."""
        return None

    def reset(self) -> None:
        """qdisc_reset: the queue, the peeked packet (gso_skb) and the backlog go."""
        self.qlen = self.backlog = 0
        self.gso = None

    def drop_queued(self, nbytes: int) -> None:
        """A queued packet was dropped inside (sfq's longest-flow drop): qdisc_tree_reduce_backlog."""
        q: Qdisc | None = self
        while q is not None:
            q.qlen -= 1
            q.backlog -= nbytes
            q.drops += 1
            q = q.parent_q

    # -- classes -------------------------------------------------------------
    def classes(self) -> list[Any]:
        return []

    def find_class(self, classid: int) -> Any:
        return None

    def graft(self, cl: Any, q: Qdisc | None) -> None:
        """Qdisc_class_ops.graft: `q` becomes the leaf of class `cl` (None: the default leaf)."""
        raise TcError(EOPNOTSUPP)

    def add_class(self, classid: int, parent: Any, opts: Any) -> Any:
        """Qdisc_class_ops.change for a new class (only when `has_class_change`)."""
        raise TcError(EOPNOTSUPP)

    def change_class(self, cl: Any, opts: Any) -> None:
        """Qdisc_class_ops.change for an existing class (only when `has_class_change`)."""
        raise TcError(EOPNOTSUPP)

    def delete_class(self, cl: Any) -> None:
        """Qdisc_class_ops.delete (only when `has_class_change`)."""
        raise TcError(EOPNOTSUPP)

    def children(self) -> Iterator[Qdisc]:
        """Qdiscs attached to this one's classes."""
        for cl in self.classes():
            q = cl.leaf
            if q is not None:
                yield q

    def trace_drop(self, frame: Any, reason: SkbDropReason) -> None:
        """qdisc_drop: a counted drop; its trace event names this qdisc (kind and handle)."""
        self.dev.ns.drop(frame, self.dev, reason, self.kind, self.handle)


class QdiscClass:
    """A class of a classful qdisc: id, parent, leaf qdisc, statistics."""

    level = 0          # height in the class tree: only HTB has inner classes (level > 0)
    lends = 0          # HTB's `lended` and `borrowed` counters (htb_charge_class); 0 for other kinds
    borrows = 0

    def __init__(self, qdisc: Qdisc, classid: int) -> None:
        self.qdisc = qdisc
        self.classid = classid
        self.leaf: Qdisc | None = None
        self.bytes = 0
        self.packets = 0
        self.drops = 0
        self.overlimits = 0
        self.filters: list[Any] = []

    def tcm_parent(self) -> int:
        """Qdisc_class_ops.dump's tcm_parent: the class's qdisc."""
        return self.qdisc.handle


def walk(q: Qdisc | None) -> Iterator[Qdisc]:
    """The qdisc and every qdisc below it."""
    if q is None:
        return
    yield q
    for c in q.children():
        yield from walk(c)


def hash32(val: int, bits: int = 4) -> int:
    """hash_32 (include/linux/hash.h): the bucket of dev->qdisc_hash."""
    return ((val * 0x61C88647) & 0xFFFFFFFF) >> (32 - bits)
