"""tbf: the token bucket filter (net/sched/sch_tbf.c, tc-tbf(8)).

Tokens are nanoseconds of transmission time at `rate` (and `peakrate`),
capped at `buffer` (the burst) and `mtu` (the peak bucket). A packet leaves
when both buckets hold its cost; otherwise the qdisc sleeps until they do
(the watchdog), counting an overlimit. The inner qdisc (class 1) is a bfifo
of `limit` bytes unless one is grafted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from netplex.stack.dropreason import SkbDropReason
from netplex.stack.qdisc.core import EINVAL, Qdisc, QdiscClass, TcError, l2t_ns, ticks2ns
from netplex.stack.qdisc.fifo import BfifoQdisc


@dataclass(slots=True)
class TbfOpts:
    """struct tc_tbf_qopt with TCA_TBF_BURST/PBURST: rates in bytes/s, buckets in psched ticks."""

    rate: int
    buffer_ticks: int
    limit: int
    peakrate: int = 0
    mtu_ticks: int = 0
    overhead: int = 0
    linklayer: int = 1
    mpu: int = 0


class TbfQdisc(Qdisc):
    kind: ClassVar[str] = "tbf"
    classful = True

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        super().__init__(dev, handle, parent)
        self.cl = QdiscClass(self, handle | 1)
        self.rate = self.buffer_ticks = self.buffer = self.limit = 0
        self.peakrate = self.mtu_ticks = self.mtu = self.overhead = self.mpu = 0
        self.linklayer = 1
        self.tokens = self.ptokens = self.t_c = 0

    def init(self, opts: TbfOpts | None) -> None:
        """tbf_init: tbf has no defaults; the buckets start full."""
        if opts is None:
            raise TcError(EINVAL)
        self.configure(opts)
        self.tokens = self.buffer
        self.ptokens = self.mtu
        self.t_c = self.dev.ns.sched.now

    def change(self, opts: TbfOpts | None) -> None:
        if opts is None:
            raise TcError(EINVAL)
        self.configure(opts)

    def configure(self, opts: TbfOpts) -> None:
        """tbf_change: the new rates and buckets; the default inner bfifo follows `limit`."""
        self.rate = opts.rate               # bytes per second
        self.buffer_ticks = opts.buffer_ticks
        self.buffer = ticks2ns(opts.buffer_ticks)
        self.limit = opts.limit
        self.peakrate = opts.peakrate
        self.mtu_ticks = opts.mtu_ticks
        self.mtu = ticks2ns(opts.mtu_ticks)
        self.overhead = opts.overhead
        self.linklayer = opts.linklayer
        self.mpu = opts.mpu
        old = self.cl.leaf
        if old is None or isinstance(old, BfifoQdisc) and old.handle == 0:
            leaf = BfifoQdisc(self.dev, 0, self.cl.classid, opts.limit)
            leaf.parent_q = self
            if old is not None:
                leaf.q = old.q
                leaf.qlen, leaf.backlog = old.qlen, old.backlog
            self.cl.leaf = leaf

    def classes(self) -> list[Any]:
        return [self.cl]

    def find_class(self, classid: int) -> Any:
        return self.cl if classid & 0xFFFF == 1 else None

    def graft(self, cl: QdiscClass, q: Qdisc | None) -> None:
        if q is None:
            q = BfifoQdisc(self.dev, 0, cl.classid, self.limit)
        q.parent_q = self
        old = cl.leaf
        if old is not None:
            self.qlen -= old.qlen
            self.backlog -= old.backlog
        cl.leaf = q

    def children(self) -> Any:
        q = self.cl.leaf
        if q is not None and q.handle:
            yield q

    def _len(self, nbytes: int) -> int:
        n = nbytes + self.overhead
        return n if n > self.mpu else self.mpu

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        if self._len(nbytes) > self.buffer_bytes_max():
            self.trace_drop(frame, SkbDropReason.TBF_OVERSIZE)
            return False
        leaf = self.cl.leaf
        assert leaf is not None
        return leaf.enqueue(frame, nbytes)

    def buffer_bytes_max(self) -> int:
        return self.rate * self.buffer // 1_000_000_000 if self.rate else 1 << 62

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        """tbf_dequeue: peek the inner qdisc (a netem whose head is not yet due shows nothing:
        no tokens spent, no overlimit); send the head when both buckets hold its cost
        (qdisc_dequeue_peeked), else count an overlimit and sleep (next_wakeup)."""
        leaf = self.cl.leaf
        if leaf is None or not leaf.qlen:
            return None
        head = leaf.peek(now)
        if head is None:
            return None
        ln = self._len(head[1])
        toks = min(now - self.t_c, self.buffer)
        ptoks = 0
        if self.peakrate:
            ptoks = min(toks + self.ptokens, self.mtu) - l2t_ns(self.peakrate, ln)
        toks = min(toks + self.tokens, self.buffer) - l2t_ns(self.rate, ln)
        if (toks | ptoks) >= 0:
            item = leaf.dequeue_peeked(now)
            if item is None:
                return None
            self.t_c = now
            self.tokens = toks
            self.ptokens = ptoks
            self.cl.packets += 1
            self.cl.bytes += item[1]
            return item
        self.overlimits += 1
        return None

    def next_wakeup(self, now: int) -> int | None:
        """The watchdog: when the buckets will hold the peeked head's cost; when the inner
        qdisc shows nothing yet (netem holding its head), its own watchdog (netem's
        qdisc_watchdog_schedule_ns) is the one that fires."""
        leaf = self.cl.leaf
        if leaf is None or not leaf.qlen:
            return None
        head = leaf.peek(now)   # at this `now` the same answer dequeue just had (gso or None)
        if head is None:
            return leaf.next_wakeup(now)
        ln = self._len(head[1])
        wait = l2t_ns(self.rate, ln) - self.tokens
        if self.peakrate:
            wait = max(wait, l2t_ns(self.peakrate, ln) - self.ptokens)
        return max(self.t_c + wait, now + 1)
