"""netem: the network emulator qdisc (net/sched/sch_netem.c, tc-netem(8)).

What Linux 6.1's sch_netem does with the options netplex models:

- `limit`: at most this many packets queued (default 1000); one more is dropped
  (qdisc_drop_all).
- loss (random, with correlation): netem_enqueue's `loss_event` — a lost packet is a
  counted drop of the qdisc while the sender sees success (`__NET_XMIT_BYPASS`).
- delay TIME [JITTER [CORRELATION]]: each packet gets `time_to_send = now + tabledist(latency,
  jitter)`; without a distribution table tabledist is uniform in [latency-jitter,
  latency+jitter). Packets wait in the "tfifo", ordered by time_to_send (the kernel's
  rbtree: equal times keep their arrival order), so jitter reorders as it does on Linux.
- reorder P [CORR] [gap N]: every packet after gap-1 delayed ones is sent at once with
  probability P (queued at the head, `__qdisc_enqueue_head`), the rest are delayed.
- rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]: a packet's time to send also
  counts its serialisation time at `rate` after the last queued packet (packet_time_ns).

Randomness is get_crandom's correlated generator fed from the world's seeded RNG, so
a run is deterministic. Not modelled (the shell refuses them): duplicate, corrupt,
distribution tables, slot, ecn and the Gilbert-Elliott/4-state loss models.
"""
from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from netplex.stack.dropreason import SkbDropReason
from netplex.stack.qdisc.core import EINVAL, NSEC_PER_SEC, Qdisc, TcError, ticks2ns

U32_MAX = 0xFFFFFFFF


@dataclass(slots=True)
class NetemOpts:
    """struct tc_netem_qopt with TCA_NETEM_CORR / REORDER / RATE: probabilities scaled to
    0..U32_MAX (tc's set_percent), times in psched ticks, the rate in bytes/s."""

    limit: int = 1000
    latency_ticks: int = 0
    jitter_ticks: int = 0
    loss: int = 0
    gap: int = 0
    delay_corr: int = 0
    loss_corr: int = 0
    reorder: int = 0
    reorder_corr: int = 0
    rate: int = 0
    packet_overhead: int = 0
    cell_size: int = 0
    cell_overhead: int = 0


class CrndState:
    """struct crndstate: a correlated random u32 (get_crandom)."""

    __slots__ = ("last", "rho")

    def __init__(self, rho: int = 0) -> None:
        self.rho = rho
        self.last = 0

    def init(self, rho: int, rng: Any) -> None:
        """init_crandom: the new correlation; the last value starts random."""
        self.rho = rho
        self.last = rng.getrandbits(32)

    def get(self, rng: Any) -> int:
        value = rng.getrandbits(32)
        if self.rho == 0:
            return value
        rho = self.rho + 1
        answer = (value * ((1 << 32) - rho) + self.last * rho) >> 32
        self.last = answer
        return answer


class NetemQdisc(Qdisc):
    kind: ClassVar[str] = "netem"

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        super().__init__(dev, handle, parent)
        self.opts = NetemOpts()
        self.latency = self.jitter = 0                   # ns
        self.counter = 0
        self.delay_cor, self.loss_cor, self.reorder_cor = CrndState(), CrndState(), CrndState()
        self.tfifo: list[tuple[int, int, Any, int]] = []  # (time_to_send, seq, frame, nbytes)
        self.head: deque[tuple[Any, int]] = deque()      # sch->q: the reordered packets
        self.seq = 0
        self.rng = dev.ns.world.rng

    def init(self, opts: NetemOpts | None) -> None:
        """netem_init: netem_change with the options (tc always sends them)."""
        self.change(opts if opts is not None else NetemOpts())

    def change(self, opts: NetemOpts | None) -> None:
        """netem_change: the new parameters apply to packets enqueued from now on."""
        if opts is None:
            raise TcError(EINVAL)
        self.opts = opts
        self.latency = ticks2ns(opts.latency_ticks)
        self.jitter = ticks2ns(opts.jitter_ticks)
        self.delay_cor.init(opts.delay_corr, self.rng)
        self.loss_cor.init(opts.loss_corr, self.rng)
        self.reorder_cor.init(opts.reorder_corr, self.rng)
        # netem_change: a gap without reorder means "reorder every gap'th packet"
        self.reorder_p = opts.reorder if opts.reorder or not opts.gap else U32_MAX

    @property
    def limit(self) -> int:
        return self.opts.limit

    def _tabledist(self) -> int:
        """tabledist without a table: uniform in [mu - sigma, mu + sigma)."""
        sigma = self.jitter
        if sigma == 0:
            return self.latency
        rnd = self.delay_cor.get(self.rng)
        return (rnd % (2 * sigma)) + self.latency - sigma

    def _packet_time_ns(self, nbytes: int) -> int:
        """packet_time_ns: serialisation time at the emulated rate, with overhead and cells."""
        o = self.opts
        ln = nbytes + o.packet_overhead
        if o.cell_size:
            cells = -(-ln // o.cell_size)
            ln = cells * (o.cell_size + o.cell_overhead)
        return ln * NSEC_PER_SEC // o.rate

    def _last_time(self) -> int | None:
        return self.tfifo[-1][0] if self.tfifo else None

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        o = self.opts
        if o.loss and o.loss >= self.loss_cor.get(self.rng):
            self.trace_drop(frame, SkbDropReason.NETEM_LOSS)
            return False
        if self.qlen >= o.limit:
            self.trace_drop(frame, SkbDropReason.QDISC_DROP)
            return False
        now = self.dev.ns.sched.now
        if (o.gap == 0 or self.counter < o.gap - 1
                or self.reorder_p < self.reorder_cor.get(self.rng)):
            delay = self._tabledist()
            if o.rate:
                last = self._last_time()
                if last is not None:
                    delay = max(0, delay - (last - now))
                    now = last
                delay += self._packet_time_ns(nbytes)
            tts = now + delay
            self.seq += 1
            bisect.insort(self.tfifo, (tts, self.seq, frame, nbytes), key=lambda e: (e[0], e[1]))
            self.counter += 1
        else:
            # the packet jumps the queue: sent now, ahead of the delayed ones
            self.counter = 0
            self.requeues += 1
            self.head.appendleft((frame, nbytes))
        return True

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        if self.head:
            return self.head.popleft()
        if self.tfifo and self.tfifo[0][0] <= now:
            _, _, frame, nbytes = self.tfifo.pop(0)
            return frame, nbytes
        return None

    def next_wakeup(self, now: int) -> int | None:
        """qdisc_watchdog_schedule_ns: when the earliest delayed packet is due (None: one is
        ready now, or nothing is queued). netem's peek is qdisc_peek_dequeued (the base's):
        a parent sees nothing until the head is due, and this is when it must look again."""
        if self.head or self.gso is not None or not self.tfifo:
            return None
        return max(self.tfifo[0][0], now + 1)

    def reset(self) -> None:
        super().reset()
        self.tfifo.clear()
        self.head.clear()
