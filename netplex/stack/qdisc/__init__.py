"""Linux traffic control for the simulator: qdiscs, classes, filters and actions.

The registry below is the one table of qdisc kinds (`tc qdisc add ... KIND`);
filters are in `cls.FILTER_KINDS`, actions in `act`. A device's root qdisc is
`NetDevice.qdisc` (None: the kernel's default for the device kind) and its
ingress qdisc `NetDevice.ingress_q`.
"""
from __future__ import annotations

from netplex.stack.qdisc.core import (INGRESS_HANDLE, TC_H_INGRESS, TC_H_ROOT, Qdisc, QdiscClass, hash32,
                                      walk)
from netplex.stack.qdisc.fifo import BfifoQdisc, PfifoFastQdisc, PfifoQdisc, PrioQdisc
from netplex.stack.qdisc.htb import HtbClass, HtbQdisc
from netplex.stack.qdisc.ingress import IngressQdisc
from netplex.stack.qdisc.sfq import SfqQdisc
from netplex.stack.qdisc.tbf import TbfQdisc

__all__ = ["QDISCS", "Qdisc", "QdiscClass", "PfifoQdisc", "BfifoQdisc", "PfifoFastQdisc", "PrioQdisc",
           "TbfQdisc", "SfqQdisc", "HtbQdisc", "HtbClass", "IngressQdisc", "TC_H_ROOT", "TC_H_INGRESS",
           "INGRESS_HANDLE", "walk", "hash32", "all_qdiscs"]

QDISCS: dict[str, type[Qdisc]] = {
    "pfifo": PfifoQdisc,
    "bfifo": BfifoQdisc,
    "pfifo_fast": PfifoFastQdisc,
    "prio": PrioQdisc,
    "tbf": TbfQdisc,
    "sfq": SfqQdisc,
    "htb": HtbQdisc,
    "ingress": IngressQdisc,
}


def all_qdiscs(dev: object) -> list[Qdisc]:
    """The device's qdiscs in the order `tc qdisc show` lists them: the root,
    then the rest by the kernel's qdisc hash (16 buckets, newest first in a bucket)."""
    root = getattr(dev, "qdisc", None)
    ing = getattr(dev, "ingress_q", None)
    rest: list[Qdisc] = []
    order = getattr(dev, "qdisc_order", [])
    if root is not None:
        rest = [q for q in walk(root) if q is not root and q.handle]
    if ing is not None:
        rest.append(ing)
    seq = {id(q): i for i, q in enumerate(order)}
    rest.sort(key=lambda q: (hash32(q.handle), -seq.get(id(q), 0)))
    return ([root] if root is not None else []) + rest
