"""A TCP timer that is re-armed far more often than it fires (sk_reset_timer → mod_timer).

The kernel keeps one timer_list per timer (icsk_retransmit_timer, icsk_delack_timer) and
`mod_timer` moves its deadline; nothing is queued per arm. A scheduler event per arm
would leave the heap holding every stale deadline (an ACK re-arms the retransmission
timer, every second data segment the delayed-ACK timer: at a gigabit, thousands of dead
events, each making every heap operation dearer). `LazyTimer` keeps the deadline and its
place among equal-time events — the scheduler sequence number an event pushed by the arm
would have had, reserved when armed — and has at most one event pending per distinct
earlier deadline: an arm whose deadline is no earlier than a pending event pushes nothing;
when that event comes, it pushes the real one. The timer fires at the same time and in the
same order as with an event per arm; only the stale events (which did nothing) are gone.
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

__all__ = ["LazyTimer"]


class LazyTimer:
    """One timer: `arm(when, arg)` (re)sets it, `fire(arg)` runs at the last deadline armed;
    `alive(arg)` says whether an armed timer would still do anything (a stopped one would not,
    and pushes no event of its own)."""

    __slots__ = ("sched", "fire", "alive", "at", "events")

    def __init__(self, sched: Any, fire: Callable[[int], None], alive: Callable[[int], bool]) -> None:
        self.sched = sched
        self.fire = fire
        self.alive = alive
        self.at: tuple[int, int, int] | None = None   # (deadline, sequence number, arg) of the last arm
        self.events: list[tuple[int, int]] = []        # (time, sequence number) of its events on the heap

    def arm(self, when: int, arg: int) -> None:
        """mod_timer: the deadline is `when`, ordered among equal-time events as an event pushed now."""
        sched = self.sched
        sched.seq = seq = sched.seq + 1
        self.at = (when, seq, arg)
        pending = self.events
        # every pending event has a smaller sequence number: one due by `when` comes first
        for t, _ in pending:
            if t <= when:
                return
        pending.append((when, seq))
        heappush(sched.heap, (when, seq, self._event, (seq,)))

    def _event(self, seq: int) -> None:
        """One of the timer's events: its own (the deadline and sequence number armed last), or an
        earlier one, which puts the timer's own on the heap."""
        pending = self.events
        pending.remove((self.sched.now, seq))
        at = self.at
        if at is None:
            return
        when, own, arg = at
        if own == seq:
            self.at = None
            self.fire(arg)
        elif self.alive(arg) and (when, own) not in pending:
            pending.append((when, own))
            heappush(self.sched.heap, (when, own, self._event, (own,)))
