"""The simulated clock and event scheduler.

Time is an integer count of nanoseconds. Events are plain tuples on a heap —
(time, sequence, callable, args) — so that an event costs one tuple and one
heap operation; the sequence number makes ordering total and deterministic
(events at the same instant run in the order they were scheduled).

Event elision: while `run` runs without a `stop` test, `inline_until` is its
`until` (NEVER without one), else -1. Code that is about to push an event as
the last thing its own event does (a tail push: nothing of the running event
is left to happen after it) may instead run that event at once, with the
clock set to its time, when `may_inline` says the run loop would pop it next
anyway: no pending event is due at or before it (an event due at the same
instant was pushed earlier and runs first), it is within the run's `until`,
and the storm check is not due. Order, clock and counts stay the same; only
the heap push and pop are saved (stack/fastpath.py's `fast_rx` walks a flow's
hops so). Sequence numbers an elided event would have taken are not taken:
they only order events, and they keep doing so.

Tail events: code that knows its caller's call is the last act of the running
event (`Namespace.ip_local_fast`: a received segment's delivery) opens a tail
(sets `tail_ok`); while it is open, the first event pushed by `at` (a busy
device's next dequeue) or by TCP's wake-up of a reader (`TcpSocket.rcv_established`)
is left in `tail`, as the tuple the heap would hold, instead of on the heap.
`tail_close` then runs it at once when the run loop would pop it next anyway
(`may_inline`'s test, the sequence number included: an event due at the same
instant that was pushed earlier runs first), else pushes it as it would have
been pushed (same time, same sequence number).
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
NEVER = (1 << 63) - 1           # `inline_until` of a run without `until`


class EventStorm(NetplexError):
    """The simulation stopped itself: events kept coming with no simulated time passing."""


class Scheduler:
    """A discrete-event loop over integer-nanosecond time."""

    # `heap`, `seq`, `inline_until` and `storm_left` are public for one caller: the flow fast path
    # (stack/fastpath.py) pushes its next hop's receive onto the heap itself, exactly as `at`
    # would, or runs it inline (`may_inline`'s test, written out), to save a call a hop
    __slots__ = ("now", "heap", "seq", "events_run", "storms", "last_storm", "elide", "inline_until",
                 "storm_left", "tail_ok", "tail")

    def __init__(self, elide: bool = True) -> None:
        self.now = 0
        self.heap: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []
        self.seq = 0
        self.events_run = 0              # events run (popped or inlined), added up at each storm check and as each run returns
        self.storms = 0                  # how many times the simulation stopped itself (EventStorm)
        self.last_storm: str | None = None   # the last storm's explanation: an aborted run says it
        self.elide = elide               # False: `run` never lets an event run inline (NETPLEX_ELIDE=0)
        self.inline_until = -1           # the latest time an event may run inline; -1: none may
        self.storm_left = STORM_EVENTS   # events the running `run` may finish before its storm check
        self.tail_ok = False             # a tail is open: `tail` may take one event for now
        self.tail: tuple[int, int, Callable[..., Any], tuple[Any, ...]] | None = None   # as on the heap

    def at(self, when: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` at absolute time `when` (never before now)."""
        if when < self.now:
            when = self.now
        self.seq = seq = self.seq + 1
        if self.tail_ok and self.tail is None:
            self.tail = (when, seq, fn, args)    # (see "Tail events" above)
            return
        heappush(self.heap, (when, seq, fn, args))

    def after(self, delay: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` `delay` nanoseconds from now."""
        self.seq += 1
        heappush(self.heap, (self.now + delay, self.seq, fn, args))

    def pending(self) -> int:
        return len(self.heap)

    def next_time(self) -> int | None:
        return self.heap[0][0] if self.heap else None

    def may_inline(self, when: int) -> bool:
        """Whether an event due at `when`, pushed by the running event as its last act, may run at
        once instead (the caller then sets `now`, counts the running event done with
        `inlined()` and runs it): it is the event the run loop would pop next, no `stop` test
        or storm check falls between the two, and the run's `until` covers it."""
        heap = self.heap
        return (when <= self.inline_until and self.storm_left > 1
                and (not heap or heap[0][0] > when))

    def inlined(self, when: int) -> None:
        """The running event is done and the one it would have pushed for `when` runs now
        (`may_inline` said it may): the clock moves to `when` and the run counts one event."""
        self.storm_left -= 1
        self.now = when

    def tail_close(self) -> None:
        """Close the tail opened by setting `tail_ok`, as the running event's last act: the
        event left in `tail`, if any, runs now when the run loop would pop it next (the clock
        moved to its time), else goes onto the heap as `at` would have pushed it."""
        self.tail_ok = False
        t = self.tail
        if t is None:
            return
        self.tail = None
        when = t[0]
        heap = self.heap
        if when <= self.inline_until and self.storm_left > 1 and (not heap or heap[0] > t):
            self.storm_left -= 1     # the running event is done: the run counts it (`inlined`)
            self.now = when
            t[2](*t[3])
            return
        heappush(heap, t)

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
        if stop is None:
            self.advance(NEVER if until is None else until)
            return
        if self.tail is not None:
            self._push_tail()
        heap = self.heap
        pop = heappop
        mark = self.now
        outer = (self.inline_until, self.storm_left, self.tail_ok)    # (see `advance`)
        self.tail_ok = False
        self.storm_left = STORM_EVENTS
        self.inline_until = -1      # a `stop` test after every event: none may run inline
        limit = NEVER if until is None else until
        try:
            while True:     # (see `advance` on `while True`)
                if not heap or heap[0][0] > limit:
                    break
                t, _, fn, args = pop(heap)
                self.now = t
                fn(*args)
                self.storm_left = left = self.storm_left - 1
                if stop():
                    return
                if not left:
                    mark = self._storm_check(mark)
        finally:
            self.events_run += STORM_EVENTS - self.storm_left
            if self.tail is not None:
                self._push_tail()
            self.inline_until, self.storm_left, self.tail_ok = outer
        if until is not None and self.now < until:
            self.now = until

    def advance(self, until: int) -> None:
        """`run(until)` without a `stop` test, the usual run (World.run_for): events in time order
        while they are due by `until`, then the clock moves to `until`; with `until` NEVER, every
        event, and the clock stays at the last one's time (`run()`). The loop is set up only when
        an event is due (a run with nothing due just moves the clock).

        A run inside an event (a command's run) keeps the outer run's state (`outer`) and gives it
        back at its end; its own events open their own tails and may run inline up to its `until`.

        The loop is `while True` with its test at the end, not `while heap:`: CPython 3.11 warms a
        function up for its specialising interpreter at calls and at plain backward jumps only, and
        `while cond:` jumps back conditionally, so a loop of that shape in a function called once
        per run would run every event's bookkeeping unspecialised (1,450 more instructions an event,
        measured with cachegrind on a loop of trivial events: 6,960 against 5,515)."""
        if self.tail is not None:
            self._push_tail()
        heap = self.heap
        if heap and heap[0][0] <= until:
            pop = heappop
            mark = self.now
            outer = (self.inline_until, self.storm_left, self.tail_ok)
            self.tail_ok = False
            self.storm_left = STORM_EVENTS
            self.inline_until = until if self.elide else -1
            try:
                while True:
                    t, _, fn, args = pop(heap)
                    self.now = t
                    fn(*args)
                    self.storm_left = left = self.storm_left - 1
                    if not left:
                        mark = self._storm_check(mark)
                    if not heap or heap[0][0] > until:
                        break
            finally:
                self.events_run += STORM_EVENTS - self.storm_left
                if self.tail is not None:
                    self._push_tail()
                self.inline_until, self.storm_left, self.tail_ok = outer
        if self.now < until < NEVER:
            self.now = until

    def _push_tail(self) -> None:
        """Put an open tail's event on the heap, where `at` would have put it: a run inside an
        event (a command's) sees the running event's tail there, and so does the run after an
        event that raised with its tail open."""
        if self.tail is not None:
            heappush(self.heap, self.tail)
            self.tail = None

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
        self.events_run += STORM_EVENTS
        self.storm_left = STORM_EVENTS
        return self.now
