"""`tc qdisc` (iproute2 tc/tc_qdisc.c): parse, ask stack/qdisc/api.py, print.

QDISC_UTILS is the one table of qdisc kinds the command line knows: a new kind is
one module q_KIND.py with its QdiscUtil and one line here (and its Qdisc subclass
registered in stack/qdisc/api.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.shell import ip_json
from netplex.shell.tc.q_fifo import BFIFO, PFIFO
from netplex.shell.tc.q_htb import HTB
from netplex.shell.tc.q_ingress import INGRESS
from netplex.shell.tc.q_netem import NETEM
from netplex.shell.tc.q_prio import PFIFO_FAST, PRIO
from netplex.shell.tc.q_sfq import SFQ
from netplex.shell.tc.q_tbf import TBF
from netplex.shell.tc.tc_util import (
    Opts,
    QdiscUtil,
    TcExit,
    cmd_word,
    duparg,
    find_dev,
    fmt_stats,
    get_qdisc_handle,
    get_tc_classid,
    invarg,
    matches,
    next_arg,
    sprint_classid,
    sprint_handle,
)
from netplex.stack.qdisc import INGRESS_HANDLE, TC_H_INGRESS, TC_H_ROOT, PfifoFastQdisc, all_qdiscs, api
from netplex.stack.qdisc.api import NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE

QDISC_UTILS: dict[str, QdiscUtil] = {u.id: u for u in (PFIFO, BFIFO, PFIFO_FAST, PRIO, TBF, SFQ, HTB, INGRESS,
                                                    NETEM)}

FLAGS = {"add": NLM_F_CREATE | NLM_F_EXCL, "replace": NLM_F_CREATE | NLM_F_REPLACE, "change": 0,
         "link": NLM_F_REPLACE}   # tc_qdisc_modify's netlink flags


def tc_qdisc(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        args = ["show"]
    cmd = cmd_word(args[0])
    rest = args[1:]
    if cmd in ("show", "list"):
        return qdisc_show(ns, rest, o, out)
    if cmd == "delete":
        return qdisc_modify(ns, rest, "delete")
    if cmd in FLAGS:
        return qdisc_modify(ns, rest, cmd)
    if matches(args[0], "help"):
        raise TcExit(0, USAGE)   # usage() on stderr, exit 0
    raise TcExit(255, f'Command "{args[0]}" is unknown, try "tc qdisc help".\n')


def qdisc_modify(ns: Any, args: list[str], cmd: str) -> None:
    devname = ""
    handle: int | None = None
    parent: int | None = None
    kind = ""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            if i >= len(args):
                raise TcExit(255, "Command line is not complete. Try option \"help\"\n")
            if devname:
                raise duparg("dev", args[i])
            devname = args[i]
        elif a == "handle":
            i += 1
            if handle is not None:
                raise duparg("handle", args[i])
            h = get_qdisc_handle(args[i]) if i < len(args) else None
            if h is None:
                raise invarg("invalid qdisc ID", args[i] if i < len(args) else "")
            handle = h
        elif a == "root":
            if parent is not None:
                raise TcExit(255, 'Error: "root" is duplicate parent ID\n')
            parent = TC_H_ROOT
        elif a == "ingress":
            if parent is not None:
                raise TcExit(255, 'Error: "ingress" is a duplicate parent ID\n')
            parent = TC_H_INGRESS
            kind = "ingress"
            handle = INGRESS_HANDLE
            i += 1
            break
        elif a == "parent":
            i += 1
            p = get_tc_classid(args[i]) if i < len(args) else None
            if parent is not None:
                raise duparg("parent", args[i])
            if p is None:
                raise invarg("invalid parent ID", args[i])
            parent = p
        elif matches(a, "estimator") or matches(a, "stab"):
            raise TcExit(2, f"netplex: tc {a} is not supported\n")
        else:
            kind = a
            i += 1
            break
        i += 1
    words = args[i:]
    if kind and kind not in QDISC_UTILS and kind not in ("noqueue", "clsact"):
        if words:
            raise TcExit(1, f'Garbage instead of arguments "{words[0]} ...". Try "tc qdisc help".\n')
    opts: Any = None
    util = QDISC_UTILS.get(kind)
    if util is not None and util.parse_qopt is not None and (cmd != "delete" or kind == "ingress"):
        opts = util.parse_qopt(words)
    if not devname:   # tcm_ifindex 0: tc_modify_qdisc / tc_get_qdisc find no device
        raise TcExit(2, "RTNETLINK answers: No such device\n")
    dev = find_dev(ns, devname)
    if cmd == "delete":
        return api.tc_delete_qdisc(dev, parent, handle, kind)
    api.tc_modify_qdisc(dev, FLAGS[cmd], parent, handle, kind, opts)


def qdisc_opts(q: Any, o: Opts) -> str:
    """The qdisc's options as its q_KIND.c prints them (nothing for a kind tc does not know)."""
    util = QDISC_UTILS.get(q.kind)
    if util is None or util.print_qopt is None:
        return ""
    return util.print_qopt(q, o)


def qdisc_line(dev: Any, q: Any, o: Opts, show_dev: bool, kind: str | None = None) -> str:
    kind = kind or q.kind
    handle = q.handle if q is not None else 0
    s = f"qdisc {kind} {sprint_handle(handle)} "
    if show_dev:
        s += f"dev {dev.name} "
    parent = q.parent if q is not None else TC_H_ROOT
    if parent == TC_H_ROOT:
        s += "root "
    elif parent:
        s += f"parent {sprint_classid(parent)} "
    refcnt = q.refcnt if q is not None else 2
    if q is not None and parent != TC_H_ROOT and kind != "ingress":
        refcnt = 1
    if refcnt != 1:
        s += f"refcnt {refcnt} "
    if q is not None:
        s += qdisc_opts(q, o)
    s += "\n"
    if o.stats:
        if q is None:
            s += fmt_stats(0, 0, 0, 0, 0, 0, 0)
        else:
            s += fmt_stats(q.bytes, q.packets, q.drops, q.overlimits, q.requeues, q.backlog, q.qlen)
    return s


def qdisc_json(dev: Any, q: Any, o: Opts, show_dev: bool, kind: str | None = None) -> dict[str, Any]:
    """print_qdisc's JSON object: qdisc_line's fields, the kind's "options", -s's counters."""
    kind = kind or q.kind
    obj: dict[str, Any] = {"kind": kind, "handle": sprint_handle(q.handle if q is not None else 0)}
    if show_dev:
        obj["dev"] = dev.name
    parent = q.parent if q is not None else TC_H_ROOT
    if parent == TC_H_ROOT:
        obj["root"] = True
    elif parent:
        obj["parent"] = sprint_classid(parent)
    refcnt = q.refcnt if q is not None else 2
    if q is not None and parent != TC_H_ROOT and kind != "ingress":
        refcnt = 1
    if refcnt != 1:
        obj["refcnt"] = refcnt
    util = QDISC_UTILS.get(kind)
    obj["options"] = util.json_qopt(q, o) if q is not None and util is not None and util.json_qopt else {}
    if o.stats:
        counters = (q.bytes, q.packets, q.drops, q.overlimits, q.requeues, q.backlog, q.qlen) if q is not None \
            else (0,) * 7
        obj.update(zip(("bytes", "packets", "drops", "overlimits", "requeues", "backlog", "qlen"), counters))
    return obj


def qdisc_show(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    devname = ""
    want_ingress = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            devname = next_arg(args, i)
        elif a in ("ingress", "clsact"):
            want_ingress = True
        elif a in ("root", "parent", "handle", "invisible"):
            if a in ("parent", "handle"):
                i += 1
        else:
            raise TcExit(255, f'What is "{a}"? Try "tc qdisc help"\n')
        i += 1
    devs = [find_dev(ns, devname)] if devname else [ns.by_index[k] for k in sorted(ns.by_index)]
    if o.json:
        objs: list[dict[str, Any]] = []
        _qdisc_walk(devs, want_ingress, lambda dev, q, kind: objs.append(qdisc_json(dev, q, o, not devname, kind)))
        out.append(ip_json.dump(objs, o.pretty))
        return
    _qdisc_walk(devs, want_ingress, lambda dev, q, kind: out.append(qdisc_line(dev, q, o, not devname, kind)))


def _qdisc_walk(devs: list[Any], want_ingress: bool, emit: Callable[[Any, Any, str | None], None]) -> None:
    """tc_qdisc_list's dump: each device's root qdisc (the built-in ones too) and the rest."""
    for dev in devs:
        qs = all_qdiscs(dev)
        if not want_ingress:
            if not qs or qs[0] is not dev.qdisc:
                kind = dev.qdisc_name()
                if kind == "noop":
                    pass   # noop_qdisc is built in: the kernel's dump never lists it
                elif kind != "noqueue":
                    emit(dev, PfifoFastQdisc(dev, 0, TC_H_ROOT) if kind == "pfifo_fast" else None, kind)
                else:
                    emit(dev, None, kind)
        for q in qs:
            if want_ingress and q is not dev.ingress_q:
                continue
            emit(dev, q, None)


USAGE = """Usage: tc qdisc [ add | del | replace | change | show ] dev STRING
       [ handle QHANDLE ] [ root | ingress | clsact | parent CLASSID ]
       [ estimator INTERVAL TIME_CONSTANT ]
       [ stab [ help | STAB_OPTIONS] ]
       [ ingress_block BLOCK_INDEX ] [ egress_block BLOCK_INDEX ]
       [ [ QDISC_KIND ] [ help | OPTIONS ] ]

       tc qdisc { show | list } [ dev STRING ] [ QDISC_ID ] [ invisible ]
Where:
QDISC_KIND := { [p|b]fifo | tbf | prio | cbq | red | etc. }
OPTIONS := ... try tc qdisc add <desired QDISC_KIND> help
STAB_OPTIONS := ... try tc qdisc add stab help
QDISC_ID := { root | ingress | handle QHANDLE | parent CLASSID }
"""
