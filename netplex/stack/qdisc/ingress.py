"""The ingress qdisc (net/sched/sch_ingress.c): filters and actions on received packets.

It queues nothing: `receive` runs the filters (typically `police` to rate
limit a download) and tells the receive path whether to keep the packet.
"""
from __future__ import annotations

from typing import Any, ClassVar

from netplex.stack.dropreason import SkbDropReason
from netplex.stack.qdisc.cls import TC_ACT_SHOT, tcf_classify
from netplex.stack.qdisc.core import INGRESS_HANDLE, TC_H_INGRESS, Qdisc


class IngressQdisc(Qdisc):
    kind: ClassVar[str] = "ingress"

    def __init__(self, dev: Any, handle: int = INGRESS_HANDLE, parent: int = TC_H_INGRESS) -> None:
        super().__init__(dev, handle, parent)
        self.refcnt = 1

    def receive(self, frame: Any, nbytes: int) -> bool:
        """sch_handle_ingress: False when an action dropped the packet."""
        self.packets += 1
        self.bytes += nbytes
        if not self.filters:
            return True
        verdict, _ = tcf_classify(self.filters, frame, nbytes)
        if verdict == TC_ACT_SHOT:
            self.drops += 1
            self.dev.ns.drop(frame, self.dev, SkbDropReason.TC_INGRESS)
            return False
        return True

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        return False

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        return None
