"""`tc filter` (iproute2 tc/tc_filter.c): parse, ask stack/qdisc/api.py, print.

FILTER_UTILS is the one table of classifiers: a new one is one module f_KIND.py
with its FilterUtil and one line here (and its TcfProto in stack/qdisc/cls.py).
"""
from __future__ import annotations

from typing import Any

from netplex.shell import ip_json
from netplex.shell.tc.f_cgroup import CGROUP
from netplex.shell.tc.f_fw import FW
from netplex.shell.tc.f_matchall import MATCHALL
from netplex.shell.tc.f_u32 import U32
from netplex.shell.tc.tc_util import (
    FilterUtil,
    FSpec,
    Opts,
    TcExit,
    cmd_word,
    duparg,
    find_dev,
    get_tc_classid,
    get_u32,
    invarg,
    matches,
    proto_a2n,
    proto_n2a,
    sprint_classid,
)
from netplex.stack.qdisc import INGRESS_HANDLE, TC_H_ROOT, all_qdiscs, api
from netplex.stack.qdisc.api import NLM_F_CREATE, NLM_F_EXCL
from netplex.stack.qdisc.cls import TcfProto
from netplex.stack.qdisc.core import EINVAL, ENOENT, TcError

FILTER_UTILS: dict[str, FilterUtil] = {u.id: u for u in (U32, FW, MATCHALL, CGROUP)}


def tc_filter(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        args = ["show"]
    cmd = cmd_word(args[0])
    rest = args[1:]
    if args[0] == "dev":
        cmd, rest = "show", args
    if cmd in ("show", "list"):
        return filter_show(ns, rest, o, out, get=False)
    if cmd == "get":
        return filter_show(ns, rest, o, out, get=True)
    if cmd in ("add", "change", "replace", "delete"):
        return filter_modify(ns, rest, cmd)
    if matches(args[0], "help"):
        raise TcExit(0, USAGE)   # usage() on stderr, exit 0
    raise TcExit(255, f'Command "{args[0]}" is unknown, try "tc filter help".\n')


def _filter_args(args: list[str]) -> FSpec:
    f = FSpec()
    i = 0
    while i < len(args):
        a = args[i]
        val = args[i + 1] if i + 1 < len(args) else None
        if a == "dev":
            if f.dev:
                raise duparg("dev", val or "")
            f.dev = val or ""
            i += 2
        elif a == "root":
            f.parent = TC_H_ROOT
            i += 1
        elif a == "ingress":
            f.parent = 0xFFFFFFF2
            i += 1
        elif a == "egress":
            f.parent = 0xFFFFFFF3
            i += 1
        elif a == "parent":
            p = get_tc_classid(val or "")
            if p is None:
                raise invarg("Invalid parent ID", val or "")
            f.parent = p
            i += 2
        elif a == "handle":
            f.handle = val
            i += 2
        elif matches(a, "preference") or matches(a, "priority"):
            v = get_u32(val or "", 0)
            if v is None or v > 0xFFFF:
                raise invarg("invalid priority value", val or "")
            f.prio = v
            i += 2
        elif matches(a, "protocol"):
            p = proto_a2n(val or "")
            if p is None:
                raise invarg("invalid protocol", val or "")
            f.protocol = p
            i += 2
        elif matches(a, "chain"):
            v = get_u32(val or "", 0)
            if v is None:
                raise invarg("invalid chain index value", val or "")
            f.chain = v
            i += 2
        elif matches(a, "estimator"):
            i += 3
        else:
            f.kind = a
            f.opts = args[i + 1:]
            break
    return f


def filter_modify(ns: Any, args: list[str], cmd: str) -> None:
    f = _filter_args(args)
    if not f.dev:
        raise TcExit(1, "")
    if f.kind and f.kind not in FILTER_UTILS:
        if f.kind in ("flower", "basic", "bpf", "route", "cgroup", "flow", "tcindex", "rsvp"):
            raise TcExit(2, "Error: TC classifier not found.\nWe have an error talking to the kernel\n")
        raise TcExit(1, f'Unknown filter "{f.kind}", hence option "{f.opts[0] if f.opts else ""}" is unparsable\n')
    dev = find_dev(ns, f.dev)
    chain = f.chain or 0
    api.tcf_block_find(dev, f.parent)
    if cmd == "delete":
        if not f.prio:
            if f.protocol is not None or f.handle is not None or f.kind:
                raise TcError(EINVAL, "Cannot flush filters with protocol, handle or kind set")
            return api.tc_flush_tfilter(dev, f.parent, f.chain)
        _, lst, tp = api.tcf_proto_lookup(dev, f.parent, chain, f.prio, f.protocol, f.kind)
        if f.handle is None:
            return api.tc_del_tproto(lst, tp)
        return api.tc_del_tfilter(lst, tp, FILTER_UTILS[tp.kind].parse_handle(f.handle))
    if not f.kind:
        raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")
    parse = FILTER_UTILS[f.kind].parse_fopt
    api.tc_new_tfilter(dev, FILTER_FLAGS[cmd], f.parent, chain, f.prio, f.protocol, f.kind,
                       lambda tp: parse(ns, dev, f, tp))


FILTER_FLAGS = {"add": NLM_F_CREATE | NLM_F_EXCL, "change": 0, "replace": NLM_F_CREATE}   # tc_filter_modify's


def filter_lines(dev: Any, owner: Any, parent: int, tp: TcfProto, el: Any, o: Opts, f: FSpec | None,
                 show_dev: bool, header: bool) -> str:
    s = "filter "
    if show_dev:
        s += f"dev {dev.name} "
    if f is None or f.parent is None or f.parent != parent:
        if parent == TC_H_ROOT:
            s += "root "
        elif parent == 0xFFFFFFF2:
            s += "ingress "
        else:
            s += f"parent {sprint_classid(parent)} "
    if f is None or f.protocol is None or f.protocol != tp.protocol:
        s += f"protocol {proto_n2a(tp.protocol)} "
    if f is None or not f.prio or f.prio != tp.prio:
        s += f"pref {tp.prio} "
    s += f"{tp.kind} "
    if f is None or f.chain is None or f.chain != tp.chain:
        s += f"chain {tp.chain} "
    if header:
        return s + "\n"
    util = FILTER_UTILS.get(tp.kind)
    return s + util.print_fopt(el, o) if util is not None else s


def filter_json(dev: Any, parent: int, tp: TcfProto, el: Any, o: Opts, f: FSpec | None,
                show_dev: bool, header: bool) -> dict[str, Any]:
    """print_filter's JSON object: filter_lines' fields, the kind's "options" for an element."""
    obj: dict[str, Any] = {}
    if show_dev:
        obj["dev"] = dev.name
    if f is None or f.parent is None or f.parent != parent:
        if parent == TC_H_ROOT:
            obj["root"] = True
        elif parent == 0xFFFFFFF2:
            obj["ingress"] = True
        else:
            obj["parent"] = sprint_classid(parent)
    if f is None or f.protocol is None or f.protocol != tp.protocol:
        obj["protocol"] = proto_n2a(tp.protocol)
    if f is None or not f.prio or f.prio != tp.prio:
        obj["pref"] = tp.prio
    obj["kind"] = tp.kind
    if f is None or f.chain is None or f.chain != tp.chain:
        obj["chain"] = tp.chain
    if not header:
        util = FILTER_UTILS.get(tp.kind)
        if util is None or util.json_fopt is None:
            raise TcExit(2, f"netplex: tc -json filter show of {tp.kind} filters is not supported\n")
        obj["options"] = util.json_fopt(el, o)
    return obj


def filter_show(ns: Any, args: list[str], o: Opts, out: list[str], get: bool) -> None:
    f = _filter_args(args)
    if o.json:
        if get:
            raise TcExit(2, "netplex: tc -json filter get is not supported\n")
        if o.pretty:   # u32's pretty key printers leave json_writer unbalanced: tc 6.1 aborts
            raise TcExit(2, "netplex: tc -json -pretty filter show is not supported\n")
        objs: list[dict[str, Any]] = []
        _filter_walk(ns, f, o, [], objs)
        out.append(ip_json.dump(objs, False))
        return
    dev = find_dev(ns, f.dev) if f.dev else None
    if get:
        if dev is None:
            raise TcExit(1, "Must specify netdevice \"dev\"\n")
        if f.handle is None:
            raise TcExit(1, "")
        owner, _, tp = api.tcf_proto_lookup(dev, f.parent, f.chain or 0, f.prio, f.protocol, f.kind)
        el = tp.get(FILTER_UTILS[tp.kind].parse_handle(f.handle))
        if el is None:
            raise TcError(ENOENT, "Specified filter handle not found")
        parent = f.parent if f.parent is not None else (owner.handle if f.parent is None else 0)
        out.append(filter_lines(dev, owner, parent, tp, el, o, None, False, False))
        return
    _filter_walk(ns, f, o, out, None)


def _filter_walk(ns: Any, f: FSpec, o: Opts, out: list[str], objs: list[dict[str, Any]] | None) -> None:
    """tc_filter_list's dump: every qdisc's and class's filters of the selected devices, as
    text lines into `out`, or JSON objects into `objs`."""
    if not f.dev:
        return   # RTM_GETTFILTER with ifindex 0: the kernel's tc_dump_tfilter finds no device, dumps nothing
    dev = find_dev(ns, f.dev)
    for d in [dev]:
        groups: list[tuple[Any, int, list[TcfProto]]] = []
        if f.parent is None:
            for q in all_qdiscs(d):
                if q is d.ingress_q:
                    groups.append((q, INGRESS_HANDLE, q.filters))
                else:
                    groups.append((q, q.handle, q.filters))
                    for cl in q.classes():
                        if cl.filters:
                            groups.append((q, cl.classid, cl.filters))
        else:
            try:
                owner, lst = api.tcf_block_find(d, f.parent)
            except TcError:
                if dev is None:
                    continue
                raise
            p = INGRESS_HANDLE if owner is d.ingress_q else f.parent
            groups.append((owner, p if p != 0xFFFFFFF2 else 0xFFFFFFF2, lst))
        for owner, parent, lst in groups:
            shown_parent = parent
            for tp in lst:
                if f.prio and tp.prio != f.prio:
                    continue
                if f.protocol is not None and tp.protocol != f.protocol:
                    continue
                if f.chain is not None and tp.chain != f.chain:
                    continue
                fs = f if f.parent is not None else None
                if fs is not None and f.parent == 0xFFFFFFF2:
                    shown_parent = 0xFFFFFFF2
                if objs is not None:
                    objs.append(filter_json(d, shown_parent, tp, None, o, _shown(f), dev is None, True))
                    objs += [filter_json(d, shown_parent, tp, el, o, _shown(f), dev is None, False)
                             for el in tp.elements()]
                    continue
                out.append(filter_lines(d, owner, shown_parent, tp, None, o, _shown(f), dev is None, True))
                for el in tp.elements():
                    out.append(filter_lines(d, owner, shown_parent, tp, el, o, _shown(f), dev is None, False))


def _shown(f: FSpec) -> FSpec:
    """The filter attributes `tc filter show` leaves out because the user gave them."""
    return f


USAGE = """Usage: tc filter [ add | del | change | replace | show ] [ dev STRING ]
       tc filter [ add | del | change | replace | show ] [ block BLOCK_INDEX ]
       tc filter get dev STRING parent CLASSID protocol PROTO handle FILTERID pref PRIO FILTER_TYPE
       tc filter get block BLOCK_INDEX protocol PROTO handle FILTERID pref PRIO FILTER_TYPE
       [ pref PRIO ] protocol PROTO [ chain CHAIN_INDEX ]
       [ estimator INTERVAL TIME_CONSTANT ]
       [ root | ingress | egress | parent CLASSID ]
       [ handle FILTERID ] [ [ FILTER_TYPE ] [ help | OPTIONS ] ]

       tc filter show [ dev STRING ] [ root | ingress | egress | parent CLASSID ]
       tc filter show [ block BLOCK_INDEX ]
Where:
FILTER_TYPE := { rsvp | u32 | bpf | fw | route | etc. }
FILTERID := ... format depends on classifier, see there
OPTIONS := ... try tc filter add <desired FILTER_KIND> help
"""
