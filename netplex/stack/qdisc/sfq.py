"""sfq: stochastic fairness queueing (net/sched/sch_sfq.c, tc-sfq(8)).

Packets are hashed by flow (addresses, protocol, ports, plus a perturbation
drawn from the network's seeded RNG, re-drawn every `perturb` seconds) into
`divisor` buckets; active flows are served round robin, `quantum` bytes per
turn (deficit round robin). When `limit` packets are queued the longest
flow loses its last packet; a flow longer than `depth` drops arrivals.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from netplex.stack.dropreason import SkbDropReason
from netplex.stack.qdisc.core import Qdisc


@dataclass(slots=True)
class SfqOpts:
    """struct tc_sfq_qopt_v1: each field None when not given (the current value stays)."""

    limit: int | None = None
    quantum: int | None = None
    perturb: int | None = None
    divisor: int | None = None
    depth: int | None = None
    flows: int | None = None
    headdrop: bool | None = None
    red: dict[str, Any] | None = None


class _Slot:
    __slots__ = ("q", "allot", "backlog")

    def __init__(self, allot: int) -> None:
        self.q: deque = deque()
        self.allot = allot
        self.backlog = 0


class SfqQdisc(Qdisc):
    kind: ClassVar[str] = "sfq"

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        super().__init__(dev, handle, parent)
        self.limit = 127
        self.quantum = dev.mtu + 14
        self.perturb = 0
        self.divisor = 1024
        self.depth = 127
        self.flows = 128
        self.headdrop = False
        self.red: dict[str, Any] | None = None
        self.slots: dict[int, _Slot] = {}
        self.ring: deque[int] = deque()
        self.rng = dev.ns.world.rng
        self.salt = self.rng.getrandbits(32)
        self.perturb_gen = 0

    def init(self, opts: SfqOpts | None) -> None:
        """sfq_init: the defaults, then the given options; the perturbation timer starts."""
        if opts is not None:
            self.change(opts)
            if opts.quantum is not None and not opts.quantum:
                self.quantum = self.dev.mtu + 14
        if self.perturb:
            self._arm_perturb()

    def change(self, opts: SfqOpts | None) -> None:
        """sfq_change: each option given replaces the current value."""
        if opts is None:
            return
        if opts.limit is not None:
            self.limit = opts.limit
        if opts.quantum is not None:
            self.quantum = opts.quantum
        if opts.perturb is not None:
            self.perturb = opts.perturb
        if opts.divisor is not None:
            self.divisor = opts.divisor
        if opts.depth is not None:
            self.depth = opts.depth
        if opts.flows is not None:
            self.flows = opts.flows
        if opts.headdrop is not None:
            self.headdrop = opts.headdrop
        if opts.red is not None:
            self.red = opts.red

    def _arm_perturb(self) -> None:
        self.perturb_gen += 1
        self.dev.ns.sched.after(self.perturb * 1_000_000_000, self._perturbation, self.perturb_gen)

    def _perturbation(self, gen: int) -> None:
        if gen != self.perturb_gen or self.dev.qdisc is None:
            return
        self.salt = self.rng.getrandbits(32)
        self._rehash()
        self._arm_perturb()

    def _rehash(self) -> None:
        """sfq_rehash: queued packets move to their flows' new buckets, in order."""
        old_ring, old_slots = list(self.ring), self.slots
        self.slots, self.ring = {}, deque()
        for h in old_ring:
            slot = old_slots[h]
            for frame, nbytes in slot.q:
                nh = self.hash(frame)
                ns = self.slots.get(nh)
                if ns is None:
                    ns = self.slots[nh] = _Slot(self.quantum)
                    self.ring.append(nh)
                ns.q.append((frame, nbytes))
                ns.backlog += nbytes

    def hash(self, frame: Any) -> int:
        ip = frame.payload
        if frame.type != 0x0800:
            return (frame.type * 2654435761 ^ self.salt) % self.divisor
        l4 = ip.payload
        sport = getattr(l4, "sport", 0)
        dport = getattr(l4, "dport", 0)
        h = (ip.src * 0x9E3779B1) ^ (ip.dst * 0x85EBCA77) ^ (ip.proto << 16) ^ (sport << 16 | dport) ^ self.salt
        h = ((h ^ (h >> 15)) * 0x2C1B3C6D) & 0xFFFFFFFF
        return (h ^ (h >> 12)) % self.divisor

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        h = self.hash(frame)
        slot = self.slots.get(h)
        if slot is None:
            if len(self.slots) >= self.flows:
                self.trace_drop(frame, SkbDropReason.SFQ_NO_SLOT)
                return False
            slot = self.slots[h] = _Slot(self.quantum)
        if len(slot.q) >= self.depth:
            if not self.headdrop:
                self.trace_drop(frame, SkbDropReason.SFQ_FLOW_DEPTH)
                if not slot.q:
                    del self.slots[h]
                return False
            _, old = slot.q.popleft()
            slot.backlog -= old
            self.drop_queued(old)
        if not slot.q:
            slot.allot = self.quantum
            self.ring.append(h)
        slot.q.append((frame, nbytes))
        slot.backlog += nbytes
        if self.qlen + 1 > self.limit:
            # sfq_drop: the longest flow loses a packet (the arriving one counts as queued)
            self.qlen += 1
            self.backlog += nbytes
            victim_h = max(self.slots, key=lambda k: (len(self.slots[k].q), -k))
            v = self.slots[victim_h]
            _, dropped = v.q.popleft() if self.headdrop else v.q.pop()
            v.backlog -= dropped
            if not v.q:
                self.ring.remove(victim_h)
                del self.slots[victim_h]
            self.drop_queued(dropped)
            self.trace_drop(frame, SkbDropReason.SFQ_OVERLIMIT)
            self.qlen -= 1
            self.backlog -= nbytes
            return True
        return True

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        ring = self.ring
        while ring:
            h = ring[0]
            slot = self.slots[h]
            if slot.allot <= 0:
                slot.allot += self.quantum
                ring.rotate(-1)
                continue
            item = slot.q.popleft()
            slot.backlog -= item[1]
            slot.allot -= item[1]
            if not slot.q:
                ring.popleft()
                del self.slots[h]
            return item
        return None

    def peek(self, now: int) -> tuple[Any, int] | None:
        """sfq_peek: the head of the slot the round robin stands on (q->tail->next), whatever
        its allotment — sfq_dequeue may then serve the next slot's packet instead, and a
        tbf parent charges the peeked length (as the kernel does)."""
        ring = self.ring
        return self.slots[ring[0]].q[0] if ring else None

    def reset(self) -> None:
        super().reset()
        self.slots.clear()
        self.ring.clear()
