"""The world a simulated stack lives in: clock, randomness, tracing, capture and cables.

Every namespace of a simulation holds one `World`; it is all the stack needs
from above. `netplex.network.Network` is the public facade over a world (nodes,
shells, scenario files); the stack never sees the facade, so `stack/`,
`engine/` and `packet/` import nothing above them.

    world = World(seed=0)
    link = world.connect(dev_a, dev_b, rate_bps=10**9, delay_ns=50_000)
    world.run_for(1_000_000)
"""
from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any, Protocol

from netplex.engine.link import Link
from netplex.engine.scheduler import Scheduler
from netplex.engine.trace import Tracer

__all__ = ["CableEnd", "Capture", "World"]


class CableEnd(Protocol):
    """A device end a cable can join: it learns its link and its peer."""

    link: Any
    peer: Any


Capture = Callable[[Any, Any], None]   # (device, frame) → None, called as a frame crosses a device


class World:
    """The shared clock (integer ns), seeded RNGs, tracer, packet capture and links."""

    # CLOCK_REALTIME at simulated time 0 (2027-01-01 00:00:00 UTC), fixed so that runs repeat: what
    # certificate validity, `date` or a timestamp on the wire read
    realtime_epoch_s = 1_798_761_600

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        # event elision (engine/scheduler.py: a hop run inline when it is due next anyway);
        # NETPLEX_ELIDE=0 turns it off, as NETPLEX_FASTPATH=0 does the fast path that uses it
        self.sched = Scheduler(elide=os.environ.get("NETPLEX_ELIDE", "1") != "0")
        self.rng = random.Random(seed)
        self.tracer = Tracer()
        self.links: list[tuple[Any, Any, Link]] = []
        self.capture: Capture | None = None
        self.config_generation = 0
        # the exact flow fast path (stack/fastpath.py); NETPLEX_FASTPATH=0 turns it off
        self.fastpath = os.environ.get("NETPLEX_FASTPATH", "1") != "0"
        # kernel modules `modprobe` loaded (one kernel for every namespace): mpls_router, mpls_iptunnel
        self.kmods: set[str] = set()
        self.tc_autohandle = 0x80000000    # sch_api.c's static autohandle: one per kernel, all namespaces
        self._mac_rng = random.Random(f"mac-{seed}")
        self._link_seq = 0

    @property
    def now(self) -> int:
        return self.sched.now

    def realtime_ns(self) -> int:
        """CLOCK_REALTIME in ns: the fixed epoch plus simulated time."""
        return self.realtime_epoch_s * 1_000_000_000 + self.sched.now

    def random_mac(self) -> bytes:
        """eth_random_addr: locally administered, unicast, from the seeded RNG."""
        b = bytearray(self._mac_rng.getrandbits(48).to_bytes(6, "big"))
        b[0] = (b[0] & 0xFE) | 0x02
        return bytes(b)

    def connect(self, a: CableEnd, b: CableEnd, rate_bps: int | None = None, delay_ns: int = 0,
                loss: float = 0.0) -> Link:
        """Join two devices with a cable."""
        self._link_seq += 1
        link = Link(self.sched, rate_bps, delay_ns, loss, seed=self.seed * 7919 + self._link_seq)
        a.link = b.link = link
        a.peer, b.peer = b, a
        self.links.append((a, b, link))
        return link

    # -- running -------------------------------------------------------------
    def run_for(self, ns: int) -> None:
        """Let simulated time pass."""
        sched = self.sched
        sched.advance(sched.now + ns)

    def run_until(self, stop: Callable[[], bool], timeout_ns: int) -> bool:
        """Run events until `stop()` is true or `timeout_ns` passes; returns stop()."""
        if stop():
            return True
        deadline = self.sched.now + timeout_ns
        self.sched.run(until=deadline, stop=stop)
        return stop()

    def settle(self) -> None:
        """Run every pending event that is due now (nothing in the future)."""
        self.sched.run(until=self.sched.now)
