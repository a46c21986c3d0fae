"""FIFO qdiscs: pfifo and bfifo (sch_fifo.c), pfifo_fast (sch_generic.c) and prio (sch_prio.c).

pfifo's `limit` counts packets, bfifo's bytes; both drop the arriving packet
when full (tail drop). pfifo_fast has three bands chosen by skb->priority
through the kernel's fixed priomap; prio is the configurable version with
classes `handle:1..bands`, each holding a pfifo, and filters.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from netplex.stack.dropreason import SkbDropReason
from netplex.stack.qdisc.core import Qdisc, QdiscClass, skb_priority, tc_h_maj, tc_h_min

PRIO2BAND = (1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
TC_PRIO_MAX = 15


@dataclass(slots=True)
class FifoOpts:
    """struct tc_fifo_qopt: pfifo's limit in packets, bfifo's in bytes (None: the default)."""

    limit: int | None = None


@dataclass(slots=True)
class PrioOpts:
    """struct tc_prio_qopt."""

    bands: int = 3
    priomap: tuple[int, ...] = PRIO2BAND


class PfifoQdisc(Qdisc):
    """pfifo: at most `limit` packets."""

    kind: ClassVar[str] = "pfifo"

    def __init__(self, dev: Any, handle: int, parent: int, limit: int | None = None) -> None:
        super().__init__(dev, handle, parent)
        self.limit = limit if limit is not None else max(dev.txqueuelen, 1)
        self.q: deque = deque()

    def init(self, opts: FifoOpts | None) -> None:
        if opts is not None and opts.limit is not None:
            self.limit = opts.limit

    def change(self, opts: FifoOpts | None) -> None:
        self.init(opts)

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        if len(self.q) < self.limit:
            self.q.append((frame, nbytes))
            return True
        self.trace_drop(frame, SkbDropReason.QDISC_DROP)
        return False

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        return self.q.popleft() if self.q else None

    def peek(self, now: int) -> tuple[Any, int] | None:
        """qdisc_peek_head: the head, left in the queue."""
        return self.q[0] if self.q else None

    def reset(self) -> None:
        super().reset()
        self.q.clear()


class BfifoQdisc(PfifoQdisc):
    """bfifo: at most `limit` bytes of backlog (default txqueuelen x mtu)."""

    kind: ClassVar[str] = "bfifo"

    def __init__(self, dev: Any, handle: int, parent: int, limit: int | None = None) -> None:
        super().__init__(dev, handle, parent, 1)
        self.limit = limit if limit is not None else max(dev.txqueuelen, 1) * (dev.mtu + 14)

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        if self.backlog + nbytes <= self.limit:
            self.q.append((frame, nbytes))
            return True
        self.trace_drop(frame, SkbDropReason.QDISC_DROP)
        return False


class PfifoFastQdisc(Qdisc):
    """pfifo_fast: three FIFO bands, band 0 first; band from skb->priority."""

    kind: ClassVar[str] = "pfifo_fast"

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        super().__init__(dev, handle, parent)
        self.bands = 3
        self.priomap = PRIO2BAND
        self.q: tuple[deque[tuple[Any, int]], ...] = (deque(), deque(), deque())

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        if self.qlen >= max(self.dev.txqueuelen, 1):
            self.trace_drop(frame, SkbDropReason.QDISC_DROP)
            return False
        self.q[PRIO2BAND[skb_priority(frame) & TC_PRIO_MAX]].append((frame, nbytes))
        return True

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        for band in self.q:
            if band:
                return band.popleft()
        return None

    def peek(self, now: int) -> tuple[Any, int] | None:
        """pfifo_fast_peek: the head of the first non-empty band."""
        for band in self.q:
            if band:
                return band[0]
        return None

    def reset(self) -> None:
        super().reset()
        for b in self.q:
            b.clear()


class PrioClass(QdiscClass):
    pass


class PrioQdisc(Qdisc):
    """prio: `bands` classes served strictly in order; filters, else the priomap."""

    kind: ClassVar[str] = "prio"
    classful = True

    def __init__(self, dev: Any, handle: int, parent: int, bands: int = 3,
                 priomap: tuple[int, ...] = PRIO2BAND) -> None:
        super().__init__(dev, handle, parent)
        self.bands = bands
        self.priomap = priomap
        self.cls: list[PrioClass] = []
        for i in range(bands):
            c = PrioClass(self, handle | (i + 1))
            leaf = PfifoQdisc(dev, 0, c.classid)
            leaf.parent_q = self
            c.leaf = leaf
            self.cls.append(c)

    def init(self, opts: PrioOpts | None) -> None:
        if opts is not None:
            self.tune(opts.bands, opts.priomap)

    def change(self, opts: PrioOpts | None) -> None:
        self.init(opts)

    def tune(self, bands: int, priomap: tuple[int, ...]) -> None:
        """prio_tune: more bands get fresh pfifos; dropped bands lose their queue."""
        while len(self.cls) > bands:
            c = self.cls.pop()
            assert c.leaf is not None
            self.qlen -= c.leaf.qlen
            self.backlog -= c.leaf.backlog
        while len(self.cls) < bands:
            c = PrioClass(self, self.handle | (len(self.cls) + 1))
            leaf = PfifoQdisc(self.dev, 0, c.classid)
            leaf.parent_q = self
            c.leaf = leaf
            self.cls.append(c)
        self.bands = bands
        self.priomap = priomap

    def classes(self) -> list[Any]:
        return self.cls

    def find_class(self, classid: int) -> Any:
        if tc_h_maj(classid) in (0, self.handle):
            m = tc_h_min(classid)
            if 1 <= m <= self.bands:
                return self.cls[m - 1]
        return None

    def graft(self, cl: PrioClass, q: Qdisc | None) -> None:
        if q is None:
            q = PfifoQdisc(self.dev, 0, cl.classid)
        q.parent_q = self
        old = cl.leaf
        if old is not None:
            self.qlen -= old.qlen
            self.backlog -= old.backlog
        cl.leaf = q

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        from netplex.stack.qdisc.cls import TC_ACT_SHOT, tcf_classify

        band = None
        prio = skb_priority(frame)
        if tc_h_maj(prio) == self.handle:
            band = self.find_class(prio)
        if band is None:
            verdict, classid = tcf_classify(self.filters, frame, nbytes)
            if verdict == TC_ACT_SHOT:
                return False
            if classid is not None:
                band = self.find_class(classid)
                if band is None:
                    band = self.cls[0]
            else:
                band = self.cls[self.priomap[prio & TC_PRIO_MAX] if tc_h_maj(prio) == 0 else 0]
        q = band.leaf
        assert q is not None
        if q.enqueue(frame, nbytes):
            return True
        band.drops += 1
        return False

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        """prio_dequeue: the first band whose qdisc gives a packet (qdisc_dequeue_peeked: a
        band a parent peeked gives the peeked packet); a band holding its head back (netem
        not yet due) is passed over."""
        for c in self.cls:
            q = c.leaf
            if q is not None and q.qlen:
                item = q.dequeue_peeked(now)
                if item is not None:
                    c.packets += 1
                    c.bytes += item[1]
                    return item
        return None

    def peek(self, now: int) -> tuple[Any, int] | None:
        """prio_peek: the first band whose qdisc's peek gives a packet."""
        for c in self.cls:
            q = c.leaf
            if q is not None and q.qlen:
                item = q.peek(now)
                if item is not None:
                    return item
        return None

    def next_wakeup(self, now: int) -> int | None:
        best = None
        for c in self.cls:
            q = c.leaf
            if q is not None and q.qlen:
                t = q.next_wakeup(now)
                if t is not None and (best is None or t < best):
                    best = t
        return best
