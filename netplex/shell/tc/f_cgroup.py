"""The cgroup classifier's options (iproute2 tc/f_cgroup.c, tc-cgroup(8)).

`tc filter add dev DEV parent 1: protocol ip prio 10 handle 1: cgroup [action ...]`:
the class is the net_cls classid of the packet's socket (net/sched/cls_cgroup.c).
`match EMATCH_TREE` and `police` are refused in netplex's words: no ematch is modelled.
"""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.m_action import action_text, bind_actions, check_actions_len
from netplex.shell.tc.tc_util import FilterUtil, FSpec, Opts, TcExit, filter_handle, matches
from netplex.stack.qdisc.cls import CgroupOpts

USAGE = "Usage: ... cgroup [ match EMATCH_TREE ]\n                  [ action ACTION_SPEC ]\n"


def _strtol(s: str) -> int:
    """strtol(handle, NULL, 0) as f_cgroup.c reads the handle: the leading number, 0 if none."""
    t = s.strip()
    neg = t.startswith("-")
    t = t.lstrip("+-")
    base, digits = 10, "0123456789"
    if t[:2].lower() == "0x":
        base, digits, t = 16, "0123456789abcdefABCDEF", t[2:]
    elif t.startswith("0"):
        base, digits = 8, "01234567"
    n = ""
    for c in t:
        if c not in digits:
            break
        n += c
    v = int(n, base) if n else 0
    return (-v if neg else v) & 0xFFFFFFFF


def parse_cgroup(ns: Any, dev: Any, f: FSpec, tp: Any) -> CgroupOpts:
    handle = _strtol(f.handle) if f.handle is not None else 0
    opts = f.opts
    i = 0
    acts: list[str] | None = None
    while i < len(opts):
        a = opts[i]
        if matches(a, "match"):
            raise TcExit(2, "netplex: tc filter cgroup match (an ematch tree) is not supported\n")
        if matches(a, "police"):
            raise TcExit(2, "netplex: tc filter cgroup police is not supported (use action police)\n")
        if matches(a, "action"):
            j = check_actions_len(ns, opts[i:])
            acts = opts[i:i + j]
            i += j
        elif a == "help":
            raise TcExit(255, USAGE)
        else:
            raise TcExit(1, f'What is "{a}"?\n{USAGE}')
    return CgroupOpts(handle, lambda: bind_actions(ns, acts))


def print_cgroup(el: Any, o: Opts) -> str:
    s = f"handle 0x{el.handle:x} " if el.handle else ""
    s += "".join(action_text(a, n + 1, o, True) for n, a in enumerate(el.actions))
    return s + "\n"


CGROUP = FilterUtil("cgroup", parse_cgroup, print_cgroup, filter_handle)
