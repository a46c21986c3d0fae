"""The simulated clock and event scheduler.

Time is an integer count of nanoseconds. Events are plain tuples on a heap —
(time, sequence, callable, args) — so that an event costs one tuple and one
heap operation; the sequence number makes ordering total and deterministic
(events at the same instant run in the order they were scheduled).
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

from netplex.errors import NetplexError

NSEC_PER_USEC = 1_000
NSEC_PER_MSEC = 1_000_000
NSEC_PER_SEC = 1_000_000_000
STORM_EVENTS = 1 << 18          # events in a row at one instant that mean a loop, not a burst
STORM_MASK = STORM_EVENTS - 1


class EventStorm(NetplexError):
    """The simulation stopped itself: events kept coming with no simulated time passing."""


class Scheduler:
    """A discrete-event loop over integer-nanosecond time."""

    # `heap` and `seq` are public for one caller: the flow fast path (stack/fastpath.py) pushes
    # its next hop's receive onto the heap itself, exactly as `at` would, to save a call a hop
    __slots__ = ("now", "heap", "seq", "events_run", "storms", "last_storm")

    def __init__(self) -> None:
        self.now = 0
        self.heap: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []
        self.seq = 0
        self.events_run = 0
        self.storms = 0                  # how many times the simulation stopped itself (EventStorm)
        self.last_storm: str | None = None   # the last storm's explanation: an aborted run says it

    def at(self, when: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` at absolute time `when` (never before now)."""
        if when < self.now:
            when = self.now
        self.seq += 1
        heappush(self.heap, (when, self.seq, fn, args))

    def after(self, delay: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` `delay` nanoseconds from now."""
        self.seq += 1
        heappush(self.heap, (self.now + delay, self.seq, fn, args))

    def pending(self) -> int:
        return len(self.heap)

    def next_time(self) -> int | None:
        return self.heap[0][0] if self.heap else None

    def run(self, until: int | None = None, stop: Callable[[], bool] | None = None) -> None:
        """Run events in time order up to and including `until` (absolute ns).

        With `until`, the clock ends at `until` even when the heap empties
        earlier: time passes whether or not anything happens. `stop`, when
        given, is tested after each event; the loop returns as soon as it is
        true (the clock stays at that event's time).

        Raises EventStorm when STORM_EVENTS events in a row happen without the
        clock moving: packets circling a loop of zero-delay links (a bridge
        loop without STP) would otherwise run forever in no simulated time.
        """
        heap = self.heap
        pop = heappop
        n = 0
        mark = self.now
        try:
            if stop is None and until is None:
                while heap:
                    t, _, fn, args = pop(heap)
                    self.now = t
                    fn(*args)
                    n += 1
                    if not n & STORM_MASK:
                        mark = self._storm_check(mark)
            elif stop is None:
                assert until is not None
                while heap and heap[0][0] <= until:
                    t, _, fn, args = pop(heap)
                    self.now = t
                    fn(*args)
                    n += 1
                    if not n & STORM_MASK:
                        mark = self._storm_check(mark)
            else:
                limit = until if until is not None else None
                while heap and (limit is None or heap[0][0] <= limit):
                    t, _, fn, args = pop(heap)
                    self.now = t
                    fn(*args)
                    n += 1
                    if stop():
                        return
                    if not n & STORM_MASK:
                        mark = self._storm_check(mark)
        finally:
            self.events_run += n
        if until is not None and self.now < until:
            self.now = until

    def _storm_check(self, mark: int) -> int:
        """Every STORM_EVENTS events: has the clock moved since the last check?"""
        if self.now == mark:
            stuck = len(self.heap)
            self.heap.clear()
            self.storms += 1
            self.last_storm = (f"netplex: {STORM_EVENTS} events without simulated time passing at "
                               f"t={self.now} ns ({stuck} more pending, dropped): packets are circling a "
                               "loop of links with no delay — a bridge loop without STP? — or a TCP flow with no rate "
                               "crosses links with neither rate nor delay (infinitely fast)")
            raise EventStorm(self.last_storm, status=2)
        return self.now
