"""The matchall classifier's options (iproute2 tc/f_matchall.c, tc-matchall(8))."""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.m_action import action_text, bind_actions, check_actions_len
from netplex.shell.tc.tc_util import (
    FilterUtil,
    FSpec,
    Opts,
    TcExit,
    classid_arg,
    filter_handle,
    get_u32,
    matches,
    sprint_classid,
)
from netplex.stack.qdisc.cls import TCA_CLS_FLAGS_NOT_IN_HW, TCA_CLS_FLAGS_SKIP_HW, TCA_CLS_FLAGS_SKIP_SW, MatchallOpts


def parse_matchall(ns: Any, dev: Any, f: FSpec, tp: Any) -> MatchallOpts:
    handle = 0
    if f.handle is not None:
        h = get_u32(f.handle, 0)
        if h is None:
            raise TcExit(1, 'Illegal "handle"\n')
        handle = h
    classid = None
    flags = 0
    i = 0
    opts = f.opts
    acts_at = None
    while i < len(opts):
        a = opts[i]
        if matches(a, "classid") or a == "flowid":
            if i + 1 >= len(opts):
                raise TcExit(255, 'Command line is not complete. Try option "help"\n')
            classid = classid_arg(opts[i + 1])
            i += 2
        elif a == "skip_hw":
            flags |= TCA_CLS_FLAGS_SKIP_HW
            i += 1
        elif a == "skip_sw":
            flags |= TCA_CLS_FLAGS_SKIP_SW
            i += 1
        elif a in ("action", "actions"):
            j = check_actions_len(ns, opts[i:])
            acts_at = (i, i + j)
            i += j
        else:
            raise TcExit(1, f'What is "{a}"?\nUsage: ... matchall [skip_sw | skip_hw]\n'
                         "                 [ action ACTION_SPEC ] [ classid CLASSID ]\n")
    rest = opts[acts_at[0]:acts_at[1]] if acts_at is not None else None

    return MatchallOpts(handle, classid, flags, lambda: bind_actions(ns, rest))


def print_matchall(el: Any, o: Opts) -> str:
    s = ""
    if el.handle:
        s += f"handle 0x{el.handle:x} "
    if el.classid is not None:
        s += f"flowid {sprint_classid(el.classid)} "
    if el.flags & TCA_CLS_FLAGS_SKIP_HW:
        s += "\n  skip_hw"
    if el.flags & TCA_CLS_FLAGS_SKIP_SW:
        s += "\n  skip_sw"
    if el.flags & TCA_CLS_FLAGS_NOT_IN_HW:
        s += "\n  not_in_hw"
    if o.stats:
        s += f" (rule hit {el.hits})"
    s += "".join(action_text(a, n + 1, o, True) for n, a in enumerate(el.actions))
    return s + "\n"


MATCHALL = FilterUtil("matchall", parse_matchall, print_matchall, filter_handle)
