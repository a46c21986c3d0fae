"""The rules of net/sched/sch_api.c and cls_api.c: what `tc qdisc|class|filter` ask the kernel.

This is the one place that grafts qdiscs (root, ingress, a class's leaf),
allocates handles (the kernel's `autohandle`), applies the netlink flags of
RTM_NEWQDISC / RTM_NEWTCLASS / RTM_NEWTFILTER (NLM_F_CREATE, NLM_F_EXCL,
NLM_F_REPLACE) and refuses with the kernel's extack messages (`TcError`).
The shell's `tc` only parses and prints; a later system (OVS QoS, a scenario
loader) calls these functions directly:

    q = tc_modify_qdisc(dev, NLM_F_CREATE | NLM_F_EXCL, TC_H_ROOT, 0x10000, "htb", HtbOpts(default=0x10))
    tc_modify_class(dev, NLM_F_CREATE | NLM_F_EXCL, 0x10010, 0x10000, HtbClassOpts(...))

Options are typed objects (`FifoOpts`, `PrioOpts`, `TbfOpts`, `SfqOpts`,
`HtbOpts`, `HtbClassOpts`, `NetemOpts`) handed to the qdisc's `init` / `change`
(Qdisc_ops.init / change). A new qdisc kind is a `Qdisc` subclass and one
`register_qdisc` call (the table `QDISCS` below).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.stack.qdisc.cls import ETH_P_ALL, FILTER_KINDS, TcfProto
from netplex.stack.qdisc.core import (
    EBUSY,
    EEXIST,
    EINVAL,
    ELOOP,
    ENOENT,
    EOPNOTSUPP,
    INGRESS_HANDLE,
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    TC_H_INGRESS,
    TC_H_ROOT,
    Qdisc,
    TcError,
    hash32,
    walk,
)
from netplex.stack.qdisc.fifo import BfifoQdisc, PfifoFastQdisc, PfifoQdisc, PrioQdisc
from netplex.stack.qdisc.htb import HtbQdisc
from netplex.stack.qdisc.ingress import IngressQdisc
from netplex.stack.qdisc.netem import NetemQdisc
from netplex.stack.qdisc.sfq import SfqQdisc
from netplex.stack.qdisc.tbf import TbfQdisc

__all__ = [
    "NLM_F_CREATE",
    "NLM_F_EXCL",
    "NLM_F_REPLACE",
    "QDISCS",
    "TC_H_CLSACT_INGRESS",
    "TcError",
    "all_qdiscs",
    "qdisc_alloc_handle",
    "qdisc_create",
    "qdisc_lookup",
    "register_qdisc",
    "tc_del_tfilter",
    "tc_del_tproto",
    "tc_delete_class",
    "tc_delete_qdisc",
    "tc_flush_tfilter",
    "tc_modify_class",
    "tc_modify_qdisc",
    "tc_new_tfilter",
    "tcf_block_find",
    "tcf_proto_lookup",
]


TC_H_CLSACT_INGRESS = 0xFFFFFFF2     # TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS): `tc filter ... ingress`

# Qdisc_ops by kind (register_qdisc): the one table of qdisc kinds `tc qdisc add ... KIND` creates.
QDISCS: dict[str, type[Qdisc]] = {}


def register_qdisc(cls: type[Qdisc]) -> type[Qdisc]:
    """register_qdisc: make `cls.kind` creatable; returns the class (usable as a decorator)."""
    if not cls.kind or cls.kind in QDISCS and QDISCS[cls.kind] is not cls:
        raise ValueError(f"qdisc kind {cls.kind!r} is empty or taken")
    QDISCS[cls.kind] = cls
    return cls


for _cls in (PfifoQdisc, BfifoQdisc, PfifoFastQdisc, PrioQdisc, TbfQdisc, SfqQdisc, HtbQdisc, IngressQdisc,
             NetemQdisc):
    register_qdisc(_cls)


# --- lookup -------------------------------------------------------------------------------------

def all_qdiscs(dev: Any) -> list[Qdisc]:
    """The device's qdiscs in the order `tc qdisc show` lists them: the root,
    then the rest by the kernel's qdisc hash (16 buckets, newest first in a bucket), then
    the ingress qdisc, which qdisc_hash_add leaves out of the hash (tc_dump_qdisc dumps
    the ingress queue's root last)."""
    root = dev.qdisc
    ing = dev.ingress_q
    rest: list[Qdisc] = []
    if root is not None:
        rest = [q for q in walk(root) if q is not root and q.handle]
    seq = {id(q): i for i, q in enumerate(dev.qdisc_order)}
    rest.sort(key=lambda q: (hash32(q.handle), -seq.get(id(q), 0)))
    return ([root] if root is not None else []) + rest + ([ing] if ing is not None else [])


def qdisc_lookup(dev: Any, handle: int) -> Qdisc | None:
    """qdisc_lookup: the device's qdisc with `handle` (major:0), or None (always for 0)."""
    found = None
    if handle:
        for q in all_qdiscs(dev):
            if q.handle == handle:
                found = q
    return found


def _attached(dev: Any, q: Qdisc) -> bool:
    return any(x is q for x in all_qdiscs(dev))


def _forget_detached(dev: Any) -> None:
    dev.qdisc_order = [x for x in dev.qdisc_order if _attached(dev, x)]


def qdisc_alloc_handle(dev: Any) -> int:
    """qdisc_alloc_handle: the next free 8001:..ffff: handle. The counter is the kernel's
    static `autohandle`, one per kernel, so it is the world's (every namespace shares it)."""
    world = dev.ns.world
    h = world.tc_autohandle
    while True:
        h += 0x10000
        if h >= 0xFFFF0000:
            h = 0x80010000
        if qdisc_lookup(dev, h) is None:
            world.tc_autohandle = h
            return h


def qdisc_create(dev: Any, kind: str, handle: int, parent: int, opts: Any = None) -> Qdisc:
    """qdisc_create: a new qdisc of `kind`, configured by its Qdisc_ops.init (not attached)."""
    cls = QDISCS.get(kind)
    if cls is None:
        raise TcError(ENOENT, "Specified qdisc kind is unknown")
    q = cls(dev, handle, parent)
    q.init(opts)
    return q


# --- RTM_NEWQDISC / RTM_DELQDISC ----------------------------------------------------------------

def tc_modify_qdisc(dev: Any, flags: int, parent: int | None, handle: int | None, kind: str,
                    opts: Any = None) -> Qdisc | None:
    """tc_modify_qdisc: create, replace or change the qdisc at `parent` (TC_H_ROOT, TC_H_INGRESS
    or a class id; None: the one with `handle`). Returns the qdisc now there (None for noqueue)."""
    create, excl, replace = bool(flags & NLM_F_CREATE), bool(flags & NLM_F_EXCL), bool(flags & NLM_F_REPLACE)
    if kind and kind not in QDISCS:
        raise TcError(ENOENT, "Specified qdisc kind is unknown")
    if parent is None:
        if not handle:
            raise TcError(EINVAL, "Handle cannot be zero")
        q = qdisc_lookup(dev, handle)
        if q is None:
            raise TcError(ENOENT, "Specified qdisc not found")
        return _qdisc_change(q, kind, opts, excl)
    # locate the slot: the root, the ingress, or a class's leaf
    pq: Qdisc | None = None
    cl = None
    if parent == TC_H_ROOT:
        cur = dev.qdisc
    elif parent == TC_H_INGRESS:
        if kind and kind != "ingress":
            raise TcError(EINVAL, "Invalid qdisc name: must match existing qdisc")
        cur = dev.ingress_q
    else:
        pq = qdisc_lookup(dev, parent & 0xFFFF0000)
        if pq is None:
            raise TcError(ENOENT, "Failed to find specified qdisc")
        cl = pq.find_class(parent)
        if cl is None:
            raise TcError(ENOENT, "Specified class not found")
        if cl.level:   # qdisc_graft → htb_graft refuses an inner class, without an extack
            raise TcError(EINVAL)
        cur = cl.leaf
    if cur is not None and cur.handle == 0:
        cur = None
    if cur is None or not handle or cur.handle != handle:
        if handle:
            if cur is not None and not replace:
                raise TcError(EEXIST, "NLM_F_REPLACE needed to override")
            existing = qdisc_lookup(dev, handle)
            if existing is None:
                return _create_graft(dev, create, kind, handle, parent, opts, pq, cl)
            if excl:
                raise TcError(EEXIST, "Exclusivity flag on, cannot override")
            if kind and kind != existing.kind:
                raise TcError(EINVAL, "Invalid qdisc name: must match existing qdisc")
            if existing is pq:
                raise TcError(ELOOP, "Qdisc parent/child loop detected")
            raise TcError(EEXIST, "NLM_F_REPLACE needed to override")
        if cur is None:
            return _create_graft(dev, create, kind, handle, parent, opts, pq, cl)
        if create and ((replace and excl) or (kind and kind != cur.kind)):
            return _create_graft(dev, create, kind, handle, parent, opts, pq, cl)
    return _qdisc_change(cur, kind, opts, excl)


def _qdisc_change(q: Qdisc, kind: str, opts: Any, excl: bool) -> Qdisc:
    """qdisc_change: the existing qdisc takes the new options (Qdisc_ops.change)."""
    if excl:
        raise TcError(EEXIST, "Exclusivity flag on, cannot modify")
    if kind and kind != q.kind:
        raise TcError(EINVAL, "Invalid qdisc name: must match existing qdisc")
    if opts is not None:
        q.change(opts)
    return q


def _create_graft(dev: Any, create: bool, kind: str, handle: int | None, parent: int, opts: Any,
                  pq: Qdisc | None, cl: Any) -> Qdisc | None:
    """qdisc_create + qdisc_graft: the new qdisc takes the slot; the old one goes."""
    if not create:
        raise TcError(ENOENT, "Qdisc not found. To create specify NLM_F_CREATE flag")
    if not kind:
        raise TcError(ENOENT, "Specified qdisc kind is unknown")
    if kind == "ingress" or parent == TC_H_INGRESS:
        if parent != TC_H_INGRESS:
            raise TcError(ENOENT, "Specified qdisc kind is unknown")
        q: Qdisc = qdisc_create(dev, "ingress", INGRESS_HANDLE, TC_H_INGRESS, opts)
        dev.ingress_q = q
        dev.ingress_queue = True
        dev.qdisc_order.append(q)
        return q
    if kind == "noqueue":
        if parent == TC_H_ROOT:
            dev.set_qdisc(None)
            return None
        raise TcError(ENOENT, "Specified qdisc kind is unknown")
    if not handle:
        handle = qdisc_alloc_handle(dev)
    q = qdisc_create(dev, kind, handle, parent, opts)
    dev.qdisc_order.append(q)
    if parent == TC_H_ROOT:
        q.refcnt = 1 + dev.num_tx_queues   # dev->qdisc and each queue's qdisc_sleeping hold one
        dev.set_qdisc(q)
        _forget_detached(dev)
    else:
        assert pq is not None
        pq.graft(cl, q)
    return q


class _Builtin:
    """A qdisc a device or a class has by default (noqueue, pfifo_fast, a class's pfifo): handle 0."""

    __slots__ = ("kind",)
    handle = 0

    def __init__(self, kind: str) -> None:
        self.kind = kind


def tc_delete_qdisc(dev: Any, parent: int | None, handle: int | None, kind: str = "") -> None:
    """tc_get_qdisc for RTM_DELQDISC: the qdisc at `parent` (or with `handle`) goes; the
    device falls back to its default qdisc, a class to its default leaf. The checks and their
    messages are the kernel's, in its order (qdisc_lookup, qdisc_leaf, the handle, the kind,
    then the zero classid and the zero handle)."""
    q: Qdisc | _Builtin | None
    if parent is None:
        q = qdisc_lookup(dev, handle) if handle else None
        if q is None:
            raise TcError(ENOENT, "Failed to find qdisc with specified handle")
    else:
        if parent == TC_H_ROOT:
            q = dev.qdisc if dev.qdisc is not None else _Builtin(dev.default_qdisc)
        elif parent & 0xFFFF0000 == TC_H_INGRESS & 0xFFFF0000:
            # dev_ingress_queue outlives its qdisc: then the handle (ffff:) does not match noop's 0
            q = dev.ingress_q if dev.ingress_q is not None or not dev.ingress_queue else _Builtin("noop")
        else:
            pq = qdisc_lookup(dev, parent & 0xFFFF0000)
            if pq is None:
                raise TcError(ENOENT, "Failed to find qdisc with specified classid")
            if not pq.classful:   # qdisc_leaf
                raise TcError(EOPNOTSUPP, "Parent qdisc is not classful")
            cl = pq.find_class(parent)
            if cl is None:
                raise TcError(ENOENT, "Specified class not found")
            q = cl.leaf if cl.leaf is not None else _Builtin("pfifo")
        if q is None:
            raise TcError(ENOENT, "Cannot find specified qdisc on specified device")
        if handle and handle != q.handle:
            raise TcError(EINVAL, "Invalid handle")
    if kind and kind != q.kind:
        raise TcError(EINVAL, "Invalid qdisc name: must match existing qdisc")
    if parent is None:
        raise TcError(EINVAL, "Classid cannot be zero")
    if isinstance(q, _Builtin) or q.handle == 0:
        raise TcError(ENOENT, "Cannot delete qdisc with handle of zero")
    if q is dev.ingress_q:
        dev.ingress_q = None
    elif q is dev.qdisc:
        dev.set_qdisc(None)
    else:
        owner = q.parent_q
        assert owner is not None
        for c in owner.classes():
            if c.leaf is q:
                owner.graft(c, None)
    _forget_detached(dev)


# --- RTM_NEWTCLASS / RTM_DELTCLASS --------------------------------------------------------------

def _class_qdisc(dev: Any, classid: int | None, parent: int | None) -> tuple[Qdisc, int | None]:
    """tc_ctl_tclass: the qdisc a class request names (by classid, else parent, else the root)."""
    qid = (classid or 0) & 0xFFFF0000 or ((parent or 0) & 0xFFFF0000 if parent != TC_H_ROOT else 0)
    if qid == 0 and dev.qdisc is not None:
        qid = dev.qdisc.handle
    q = qdisc_lookup(dev, qid)
    if q is None:
        raise TcError(ENOENT)
    if classid is not None and classid & 0xFFFF0000 == 0:
        classid |= q.handle
    return q, classid


def tc_modify_class(dev: Any, flags: int, classid: int | None, parent: int | None, opts: Any = None) -> None:
    """tc_ctl_tclass for RTM_NEWTCLASS: add or change class `classid` under `parent`."""
    q, classid = _class_qdisc(dev, classid, parent)
    q.tc_gen += 1
    cl = q.find_class(classid) if classid else None
    if not q.has_class_change:
        if cl is not None and not flags & NLM_F_EXCL and opts is None:
            return
        raise TcError(EOPNOTSUPP if cl is None else EEXIST)
    if cl is not None:
        if flags & NLM_F_EXCL:
            raise TcError(EEXIST)
        q.change_class(cl, opts)
        return
    if not flags & NLM_F_CREATE:
        raise TcError(ENOENT)
    if opts is None:
        raise TcError(EINVAL)
    if not classid or classid & 0xFFFF0000 != q.handle or classid & 0xFFFF == 0:
        raise TcError(EINVAL)
    pcl = None
    if parent is not None and parent != TC_H_ROOT and parent & 0xFFFF:
        pcl = q.find_class(parent)
    q.add_class(classid, pcl, opts)
    _forget_detached(dev)   # a leaf that became an inner class lost its qdisc


def tc_delete_class(dev: Any, classid: int | None, parent: int | None) -> None:
    """tc_ctl_tclass for RTM_DELTCLASS: refused while a child or a filter still uses the class."""
    q, classid = _class_qdisc(dev, classid, parent)
    q.tc_gen += 1
    cl = q.find_class(classid) if classid else None
    if cl is None:
        raise TcError(ENOENT)
    if not q.has_class_change:
        raise TcError(EOPNOTSUPP)
    if cl.children or _class_in_use(q, cl.classid):
        raise TcError(EBUSY, "HTB class in use")
    q.delete_class(cl)
    _forget_detached(dev)


def _class_in_use(q: Qdisc, classid: int) -> bool:
    """A filter still sends packets to the class (its bind count in the kernel)."""
    for lst in [q.filters] + [c.filters for c in q.classes()]:
        for tp in lst:
            for el in tp.elements():
                if el.classid == classid:
                    return True
    return False


# --- RTM_NEWTFILTER / RTM_DELTFILTER ------------------------------------------------------------

def tcf_block_find(dev: Any, parent: int | None) -> tuple[Qdisc, list[TcfProto]]:
    """tcf_block_find: the filter list a parent id names — a qdisc's, or a class's."""
    if parent in (TC_H_CLSACT_INGRESS, TC_H_INGRESS) or (parent is not None and parent & 0xFFFF0000 == INGRESS_HANDLE):
        q = dev.ingress_q
        if q is None:
            raise TcError(EINVAL, "Cannot find specified qdisc on specified device")
        return q, q.filters
    if parent is None or parent == 0 or parent == TC_H_ROOT:
        q = dev.qdisc
        if q is None or q.handle == 0:
            raise TcError(EINVAL, "Qdisc not classful")
    else:
        q = qdisc_lookup(dev, parent & 0xFFFF0000)
        if q is None:
            raise TcError(EINVAL, "Parent Qdisc doesn't exists")
    if not q.classful:
        raise TcError(EINVAL, "Qdisc not classful")
    if parent is not None and parent not in (0, TC_H_ROOT) and parent & 0xFFFF:
        cl = q.find_class(parent)
        if cl is None:
            raise TcError(ENOENT, "Specified class doesn't exist")
        return q, cl.filters
    return q, q.filters


def _insert_tp(lst: list[TcfProto], tp: TcfProto) -> None:
    """tcf_chain_tp_insert: the list stays sorted by (chain, prio), a new one after its equals."""
    idx = 0
    while idx < len(lst) and (lst[idx].chain, lst[idx].prio) <= (tp.chain, tp.prio):
        idx += 1
    lst.insert(idx, tp)


TfilterParse = Callable[[TcfProto | None], Any]     # the instance found (or None) -> its typed options


def tc_new_tfilter(dev: Any, flags: int, parent: int | None, chain: int, prio: int, protocol: int | None,
                   kind: str, parse: TfilterParse) -> TcfProto:
    """tc_new_tfilter: find or create the filter instance at (chain, prio) — a prio of 0 takes
    the one below the chain's first (0xc000 for an empty chain) — and apply its change.

    `parse(tp)` (tp: the instance found, or None) checks the words before anything changes
    and returns the kind's typed options, which its `change` (tcf_proto_ops.change) applies
    with the request's flags."""
    owner, lst = tcf_block_find(dev, parent)
    owner.tc_gen += 1
    if not kind:
        raise TcError(EINVAL)
    if kind not in FILTER_KINDS:
        raise TcError(ENOENT, "TC classifier not found")
    proto = protocol if protocol is not None else ETH_P_ALL
    same = [tp for tp in lst if tp.chain == chain and tp.prio == prio] if prio else []
    if not prio:
        if not flags & NLM_F_CREATE:
            raise TcError(ENOENT, "Filter with specified priority/protocol not found")
        chain_tps = [tp for tp in lst if tp.chain == chain]
        prio = (chain_tps[0].prio - 1) if chain_tps else 0xC000
    tp = same[0] if same else None
    if tp is not None:
        if protocol is not None and tp.protocol != proto:
            raise TcError(EINVAL, "Specified filter kind does not match existing one" if tp.kind != kind else
                          "Filter with specified priority/protocol not found")
        if tp.kind != kind:
            raise TcError(EINVAL, "Specified filter kind does not match existing one")
    opts = parse(tp)
    if tp is not None:
        tp.change(opts, flags)
        return tp
    if not flags & NLM_F_CREATE:
        raise TcError(ENOENT, "Filter with specified priority/protocol not found")
    tp = FILTER_KINDS[kind](owner, chain, prio, proto)
    tp.change(opts, flags)
    _insert_tp(lst, tp)
    return tp


def tcf_proto_lookup(dev: Any, parent: int | None, chain: int, prio: int, protocol: int | None,
                     kind: str) -> tuple[Qdisc, list[TcfProto], TcfProto]:
    """tcf_chain_tp_find: the filter instance at (chain, prio) for RTM_DELTFILTER / RTM_GETTFILTER."""
    owner, lst = tcf_block_find(dev, parent)
    tps = [tp for tp in lst if tp.prio == prio and tp.chain == chain]
    if not tps or (protocol is not None and tps[0].protocol != protocol):
        raise TcError(ENOENT, "Filter with specified priority/protocol not found")
    tp = tps[0]
    if kind and kind != tp.kind:
        raise TcError(EINVAL, "Specified filter kind does not match existing one")
    return owner, lst, tp


def tc_flush_tfilter(dev: Any, parent: int | None, chain: int | None) -> None:
    """RTM_DELTFILTER without a prio: every filter of the block goes (of `chain` only, when given)."""
    owner, lst = tcf_block_find(dev, parent)
    owner.tc_gen += 1
    lst[:] = [tp for tp in lst if chain is not None and tp.chain != chain]


def tc_del_tproto(lst: list[TcfProto], tp: TcfProto) -> None:
    """tcf_chain_tp_delete: the whole filter instance goes (tcf_proto_ops.destroy)."""
    tp.owner.tc_gen += 1
    lst.remove(tp)
    tp.destroy()


def tc_del_tfilter(lst: list[TcfProto], tp: TcfProto, handle: int) -> None:
    """tc_del_tfilter with a handle: one element goes; an instance left empty goes with it."""
    tp.owner.tc_gen += 1
    el = tp.get(handle)
    if el is None:
        raise TcError(ENOENT, "Specified filter handle not found")
    tp.delete(el)
    if tp.empty():
        lst.remove(tp)
