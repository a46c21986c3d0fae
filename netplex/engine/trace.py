"""Trace events: every stage a packet passes, with the decision taken there.

Tracing costs nothing when off: the stack tests `tracer.on` (one attribute
read) before building any event. When on, events are kept as tuples
(time, node, stage, text) and rendered by `netplex trace` and tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TraceEvent:
    time: int  # ns
    node: str
    stage: str  # kernel-named stage: ip_rcv, PREROUTING, fib_lookup, br_forward, ...
    text: str
    packet: int = 0  # id of the traced packet (skb), 0 when untracked


@dataclass(slots=True)
class Tracer:
    """Collects trace events while `on` is true."""

    on: bool = False
    events: list[TraceEvent] = field(default_factory=list)

    def emit(self, time: int, node: str, stage: str, text: str, packet: int = 0) -> None:
        self.events.append(TraceEvent(time, node, stage, text, packet))

    def clear(self) -> None:
        self.events.clear()
