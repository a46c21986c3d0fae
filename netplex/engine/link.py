"""Links: the cable between two device ends (a veth pair's wire, a TAP's fd).

A link has, per direction, a serialiser of `rate_bps` (None: infinitely fast,
as a veth is), a propagation `delay_ns`, and a `loss` probability drawn from a
seeded RNG. The transmitting device owns the busy-until time of its direction;
the link only computes arrival times and schedules the peer's receive — one
event per hop when the sender's queue is empty.
"""
from __future__ import annotations

import random
from typing import Any

from netplex.engine.scheduler import Scheduler


class Link:
    """A point-to-point cable with rate, delay and loss, the same in both directions."""

    __slots__ = ("sched", "_rate_bps", "delay_ns", "loss", "seed", "_rng", "lost", "ser_ns")

    def __init__(
        self,
        sched: Scheduler,
        rate_bps: int | None = None,
        delay_ns: int = 0,
        loss: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.sched = sched
        self._rate_bps = rate_bps
        # nbytes -> serialisation ns at this rate: the division is on integers past 2**30 (slow
        # in CPython), and a flow's frames have few lengths; emptied if the rate changes
        self.ser_ns: dict[int, int] = {}
        self.delay_ns = delay_ns
        self.loss = loss
        self.seed = seed
        self._rng: random.Random | None = None   # made on first use: 2.5 kB a link saved while lossless
        self.lost = 0

    @property
    def rate_bps(self) -> int | None:
        return self._rate_bps

    @rate_bps.setter
    def rate_bps(self, rate: int | None) -> None:
        self._rate_bps = rate
        self.ser_ns.clear()

    @property
    def rng(self) -> random.Random:
        """The link's loss RNG, seeded from the world's seed and the link's number."""
        r = self._rng
        if r is None:
            r = self._rng = random.Random(self.seed)
        return r

    def serialisation_ns(self, nbytes: int) -> int:
        """Time to put `nbytes` on the wire at this link's rate (rounded up to the nanosecond)."""
        t = self.ser_ns.get(nbytes)
        if t is None:
            rate = self._rate_bps
            t = (nbytes * 8_000_000_000 + rate - 1) // rate if rate else 0
            if len(self.ser_ns) < 4096:
                self.ser_ns[nbytes] = t
        return t

    def deliver(self, start: int, nbytes: int, rx: Any, frame: Any) -> int:
        """Send a frame whose serialisation starts at `start`; returns when it ends.

        The receiver's `rx(frame, nbytes)` runs at end-of-serialisation plus delay,
        unless the frame is lost.
        """
        t = self.ser_ns.get(nbytes)
        done = start + (t if t is not None else self.serialisation_ns(nbytes))
        if self.loss and self.rng.random() < self.loss:
            self.lost += 1
            return done
        self.sched.at(done + self.delay_ns, rx, frame, nbytes)
        return done
