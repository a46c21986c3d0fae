"""`tc actions` and the action lists of filters (iproute2 tc/m_action.c).

ACTION_UTILS is the one table of action kinds: a new action is one module
m_KIND.py with its ActionUtil and one line here.
"""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.m_gact import GACT
from netplex.shell.tc.m_police import POLICE
from netplex.shell.tc.tc_util import CONTROLS, ActionUtil, Opts, TcExit, cmd_word, get_u32, parse_control
from netplex.stack.qdisc.act import Action, action_table

ACTION_UTILS: dict[str, ActionUtil] = {u.id: u for u in (GACT, POLICE)}

# action kinds the kernel has but netplex does not: tc loads nothing (the kernel's answer)
_NOT_IN_NETPLEX = ("mirred", "skbedit", "nat", "pedit", "csum", "vlan", "connmark", "sample", "simple",
                   "tunnel_key", "bpf", "ife", "ct", "ctinfo", "mpls", "gate", "xt", "ipt", "skbmod")


def parse_actions(table: dict[str, dict[int, Action]], now: int, args: list[str], i: int,
                  bind: bool) -> tuple[list[Action], int]:
    """parse_action: `action KIND ARGS [action KIND ARGS ...]` against the namespace's action
    `table`; returns the actions (bound, created) and the index after them."""
    acts: list[Action] = []
    while i < len(args) and args[i] in ("action", "actions"):
        i += 1
        if i >= len(args):
            raise TcExit(255, "bad action parsing\n")
        kind = args[i]
        if parse_control(args, i) is not None:
            util = GACT          # a bare control word is gact's: `action drop`
        elif kind in ACTION_UTILS:
            util = ACTION_UTILS[kind]
            i += 1
        elif kind in _NOT_IN_NETPLEX:
            raise TcExit(2, "Error: Failed to load TC action module.\nWe have an error talking to the kernel\n")
        else:
            raise TcExit(255, f"Bad action type {kind}\n")
        a, i = util.parse_aopt(now, args, i, table, bind)
        acts.append(a)
    return acts, i


def action_text(a: Action, order: int, o: Opts, bind: bool) -> str:
    s = f"\n\taction order {order}: "
    util = ACTION_UTILS.get(a.kind)
    if util is not None:
        s += util.print_aopt(a, o)
    if o.stats:
        s += "\tAction statistics:\n"
        s += (f"\tSent {a.bytes} bytes {a.packets} pkt (dropped {a.drops}, overlimits {a.overlimits} "
              f"requeues 0) \n\tbacklog 0b 0p requeues 0\n")
    if a.cookie:
        s += f"\tcookie {a.cookie}\n"
    return s


def tc_actions(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        raise TcExit(255, "Usage: tc actions <ACTSPECOP>*\n")
    cmd = cmd_word(args[0])
    if args[0] in ("ls", "list", "show"):
        cmd = "list"
    rest = args[1:]
    table = action_table(ns)
    if cmd in ("add", "replace", "change"):
        if cmd == "change" or cmd == "replace":
            # replace an existing index in place
            i = 0
            if rest and rest[0] in ("action", "actions") and len(rest) > 1:
                kind = "police" if rest[1] == "police" else "gact"
                idx = _find_index(rest)
                if idx and idx in table.get(kind, {}):
                    del table[kind][idx]
        acts, i = parse_actions(table, ns.sched.now, rest, 0, bind=False)
        if i < len(rest):
            raise TcExit(255, "bad action parsing\n")
        if not acts:
            raise TcExit(255, "bad action parsing\n")
        return
    if cmd in ("delete", "get", "list", "flush"):
        if not rest or rest[0] not in ("action", "actions"):
            raise TcExit(255, "bad action parsing\n" if cmd != "list" else "bad action parsing\n")
        kind = rest[1] if len(rest) > 1 else ""
        if kind in CONTROLS:
            kind = "gact"
        tbl = table.get(kind, {})
        if cmd in ("list", "flush"):
            if kind not in ("gact", "police", "mirred"):
                raise TcExit(255, "Error: Failed to load TC action module.\nWe have an error talking to the kernel\n")
            if cmd == "flush":
                for k in [k for k, a in tbl.items() if a.bindcnt == 0]:
                    del tbl[k]
                return
            out.append(f"total acts {len(tbl)}\n")
            for n, idx in enumerate(sorted(tbl)):
                out.append(action_text(tbl[idx], n, o, False))
            return
        idx = None
        j = 2
        while j < len(rest):
            if rest[j] == "index" and j + 1 < len(rest):
                idx = get_u32(rest[j + 1], 10)
                j += 2
            else:
                j += 1
        if idx is None:
            raise TcExit(255, "Error: Index is required.\n")
        a = tbl.get(idx)
        if a is None:
            raise TcExit(2, "Error: TC action with specified index not found.\n"
                         "We have an error talking to the kernel\n")
        if cmd == "delete":
            if a.bindcnt:
                raise TcExit(2, "Error: Failed to delete TC action.\nWe have an error talking to the kernel\n")
            del tbl[idx]
            return
        out.append("total acts 0\n")
        out.append(action_text(a, 1, o, False))
        return
    raise TcExit(255, f'Command "{args[0]}" is unknown, try "tc actions help".\n')


def _find_index(args: list[str]) -> int | None:
    for j, w in enumerate(args):
        if w == "index" and j + 1 < len(args):
            return get_u32(args[j + 1], 10)
    return None


def bind_actions(ns: Any, rest: list[str] | None) -> list[Action]:
    if not rest:
        return []
    acts, _ = parse_actions(action_table(ns), ns.sched.now, rest, 0, bind=True)
    return acts


def check_actions_len(ns: Any, rest: list[str]) -> int:
    """How many words of `rest` the action list takes (validated without side effects)."""
    real = action_table(ns)
    saved = {(k, i): (a.refcnt, a.bindcnt) for k, t in real.items() for i, a in t.items()}

    scratch = {k: dict(v) for k, v in real.items()}
    try:
        _, j = parse_actions(scratch, ns.sched.now, rest, 0, bind=True)
    finally:
        for (k, idx), (r, b) in saved.items():
            real[k][idx].refcnt, real[k][idx].bindcnt = r, b
    return j
