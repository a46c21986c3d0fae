"""`tc class` (iproute2 tc/tc_class.c): parse, ask stack/qdisc/api.py, print."""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.tc_qdisc import QDISC_UTILS
from netplex.shell.tc.tc_util import (
    Opts,
    TcExit,
    cmd_word,
    duparg,
    find_dev,
    fmt_stats,
    get_tc_classid,
    invarg,
    matches,
    next_arg,
    sprint_classid,
)
from netplex.stack.qdisc import TC_H_ROOT, all_qdiscs, api
from netplex.stack.qdisc.api import NLM_F_CREATE, NLM_F_EXCL


def tc_class(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        args = ["show"]
    cmd = cmd_word(args[0])
    rest = args[1:]
    if cmd in ("show", "list"):
        return class_show(ns, rest, o, out)
    if cmd in ("add", "change", "replace", "delete"):
        return class_modify(ns, rest, cmd)
    if matches(args[0], "help"):
        raise TcExit(0, USAGE)   # usage() on stderr, exit 0
    raise TcExit(255, f'Command "{args[0]}" is unknown, try "tc class help".\n')


def class_modify(ns: Any, args: list[str], cmd: str) -> None:
    devname = ""
    classid: int | None = None
    parent: int | None = None
    kind = ""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            next_arg(args, i)
            if devname:
                raise duparg("dev", args[i])
            devname = args[i]
        elif a == "classid":
            i += 1
            next_arg(args, i)
            if classid is not None:
                raise duparg("classid", args[i])
            c = get_tc_classid(args[i])
            if c is None:
                raise invarg("invalid class ID", args[i])
            classid = c
        elif a == "handle":
            raise TcExit(255, 'Error: try "classid" instead of "handle"\n')
        elif a == "root":
            if parent is not None:
                raise TcExit(255, 'Error: "root" is duplicate parent ID.\n')
            parent = TC_H_ROOT
        elif a == "parent":
            i += 1
            next_arg(args, i)
            if parent is not None:
                raise duparg("parent", args[i])
            p = get_tc_classid(args[i])
            if p is None:
                raise invarg("invalid parent ID", args[i])
            parent = p
        elif matches(a, "estimator"):
            raise TcExit(2, "netplex: tc class estimator is not supported\n")
        else:
            kind = a
            i += 1
            break
        i += 1
    opts = args[i:]
    params = None
    util = QDISC_UTILS.get(kind)
    if kind:
        if util is not None and util.parse_copt is not None:
            params = util.parse_copt(opts)   # tc_class_modify parses the options for `delete` too
        elif util is not None and util.classless:
            raise TcExit(1, f'Error: Qdisc "{kind}" is classless.\n')
        elif opts:
            raise TcExit(1, f'Garbage instead of arguments "{opts[0]} ...". Try "tc class help".')
    dev = find_dev(ns, devname)
    if cmd == "delete":
        return api.tc_delete_class(dev, classid, parent)
    api.tc_modify_class(dev, CLASS_FLAGS[cmd], classid, parent, params)


CLASS_FLAGS = {"add": NLM_F_CREATE | NLM_F_EXCL, "change": 0, "replace": NLM_F_CREATE}   # tc_class_modify's


def class_line(dev: Any, q: Any, cl: Any, o: Opts, show_dev: bool) -> str:
    s = f"class {q.kind} {sprint_classid(cl.classid)} "
    if show_dev:
        s += f"dev {dev.name} "
    par = cl.tcm_parent()
    s += "root " if par == TC_H_ROOT else f"parent {sprint_classid(par)} "
    leaf = cl.leaf
    if leaf is not None and leaf.handle and cl.level == 0:
        s += f"leaf {leaf.handle >> 16:x}: "
    util = QDISC_UTILS.get(q.kind)
    if util is not None and util.print_copt is not None:
        s += util.print_copt(cl, o)
    s += "\n"
    if o.stats:
        leaf_counts = leaf is not None and cl.level == 0
        backlog = leaf.backlog if leaf_counts else 0
        qlen = leaf.qlen if leaf_counts else 0
        s += fmt_stats(cl.bytes, cl.packets, cl.drops, cl.overlimits, 0, backlog, qlen)
        if util is not None and util.print_xstats is not None:
            s += util.print_xstats(cl, o)
    return s


def class_show(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    devname = ""
    parent: int | None = None
    classid: int | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            next_arg(args, i)
            devname = args[i]
        elif a == "parent":
            i += 1
            next_arg(args, i)
            parent = get_tc_classid(args[i])
        elif a == "classid":
            i += 1
            next_arg(args, i)
            classid = get_tc_classid(args[i])
        elif a == "root":
            parent = TC_H_ROOT
        i += 1
    devs = [find_dev(ns, devname)] if devname else [ns.by_index[k] for k in sorted(ns.by_index)]
    for dev in devs:
        for q in all_qdiscs(dev):
            util = QDISC_UTILS.get(q.kind)
            cls = util.walk_classes(q) if util is not None and util.walk_classes is not None else q.classes()
            for cl in cls:
                if classid is not None and cl.classid != classid:
                    continue
                if parent is not None and parent != TC_H_ROOT and (
                        (getattr(cl, "parent", None) and cl.parent.classid) or q.handle) != parent:
                    continue
                out.append(class_line(dev, q, cl, o, not devname))


USAGE = """Usage: tc class [ add | del | change | replace | show ] dev STRING
       [ classid CLASSID ] [ root | parent CLASSID ]
       [ [ QDISC_KIND ] [ help | OPTIONS ] ]

       tc class show [ dev STRING ] [ root | parent CLASSID ]
Where:
QDISC_KIND := { prio | cbq | etc. }
OPTIONS := ... try tc class add <desired QDISC_KIND> help
"""
