"""Layer 2 of netplex: simulated time, the event scheduler, links and trace events."""
from __future__ import annotations

from netplex.engine.link import Link
from netplex.engine.scheduler import NSEC_PER_MSEC, NSEC_PER_SEC, NSEC_PER_USEC, Scheduler
from netplex.engine.trace import TraceEvent, Tracer

__all__ = ["Link", "Scheduler", "Tracer", "TraceEvent", "NSEC_PER_SEC", "NSEC_PER_MSEC", "NSEC_PER_USEC"]
