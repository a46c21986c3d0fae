"""Linux traffic control for the simulator: qdiscs, classes, filters and actions.

`api` holds the rules of sch_api.c / cls_api.c (graft, handles, netlink
flags) and the one table of qdisc kinds, `QDISCS` (`register_qdisc`);
filters are in `cls.FILTER_KINDS`, actions in `act`. A device's root qdisc is
`NetDevice.qdisc` (None: the kernel's default for the device kind) and its
ingress qdisc `NetDevice.ingress_q`.
"""
from __future__ import annotations

from netplex.stack.qdisc.api import QDISCS, all_qdiscs, register_qdisc
from netplex.stack.qdisc.core import INGRESS_HANDLE, TC_H_INGRESS, TC_H_ROOT, Qdisc, QdiscClass, TcError, hash32, walk
from netplex.stack.qdisc.fifo import BfifoQdisc, FifoOpts, PfifoFastQdisc, PfifoQdisc, PrioOpts, PrioQdisc
from netplex.stack.qdisc.htb import HtbClass, HtbClassOpts, HtbOpts, HtbQdisc
from netplex.stack.qdisc.ingress import IngressQdisc
from netplex.stack.qdisc.netem import NetemOpts, NetemQdisc
from netplex.stack.qdisc.sfq import SfqOpts, SfqQdisc
from netplex.stack.qdisc.tbf import TbfOpts, TbfQdisc

__all__ = ["QDISCS", "Qdisc", "QdiscClass", "PfifoQdisc", "BfifoQdisc", "PfifoFastQdisc", "PrioQdisc",
           "TbfQdisc", "SfqQdisc", "HtbQdisc", "HtbClass", "IngressQdisc", "TC_H_ROOT", "TC_H_INGRESS",
           "INGRESS_HANDLE", "walk", "hash32", "all_qdiscs", "register_qdisc", "TcError", "FifoOpts",
           "PrioOpts", "TbfOpts", "SfqOpts", "HtbOpts", "HtbClassOpts", "NetemQdisc", "NetemOpts"]
