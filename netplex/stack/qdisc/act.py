"""tc actions (net/sched/act_*.c): gact and police, and the namespace's action table.

An action runs on a packet a filter matched and returns a control verdict
(TC_ACT_OK "pass", TC_ACT_SHOT "drop", TC_ACT_UNSPEC "continue", …). Actions
live in a per-namespace table by kind and index (`tc actions ls`); a filter
that names `index N` binds to the shared one (ref/bind counts).
police is a token bucket of `burst` at `rate` (and `peakrate`/`mtu`):
conforming packets get the conform verdict, the rest the exceed verdict.
"""
from __future__ import annotations

from typing import Any, ClassVar

from netplex.stack.qdisc.core import l2t_ns, ticks2ns

TC_ACT_UNSPEC = -1
TC_ACT_OK = 0
TC_ACT_RECLASSIFY = 1
TC_ACT_SHOT = 2
TC_ACT_PIPE = 3
TC_ACT_STOLEN = 4
TC_ACT_QUEUED = 5
TC_ACT_REPEAT = 6
TC_ACT_REDIRECT = 7
TC_ACT_TRAP = 8
TC_ACT_JUMP = 0x10000000
TC_ACT_GOTO_CHAIN = 0x20000000
TC_ACT_EXT_MASK = 0xF0000000
TC_ACT_EXT_VAL_MASK = 0x0FFFFFFF

ACTION_NAMES = {TC_ACT_UNSPEC: "continue", TC_ACT_OK: "pass", TC_ACT_SHOT: "drop",
                TC_ACT_RECLASSIFY: "reclassify", TC_ACT_PIPE: "pipe", TC_ACT_STOLEN: "stolen",
                TC_ACT_TRAP: "trap"}


def action_n2a(action: int) -> str:
    """action_n2a (tc_util.c), with the chain/jump argument."""
    ext = action & TC_ACT_EXT_MASK if action >= 0 else 0
    if ext == TC_ACT_GOTO_CHAIN:
        return f"goto chain {action & TC_ACT_EXT_VAL_MASK}"
    if ext == TC_ACT_JUMP:
        return f"jump {action & TC_ACT_EXT_VAL_MASK}"
    return ACTION_NAMES.get(action, str(action))


class Action:
    kind: ClassVar[str] = ""

    def __init__(self, index: int) -> None:
        self.index = index
        self.refcnt = 1
        self.bindcnt = 0
        self.cookie: str | None = None
        self.packets = 0
        self.bytes = 0
        self.drops = 0
        self.overlimits = 0
        self.installed = 0
        self.lastuse = 0
        self.idr: dict[int, Action] | None = None   # the table it was bound from (tcf_idrinfo)

    def act(self, frame: Any, nbytes: int, now: int) -> int:
        raise NotImplementedError


class Gact(Action):
    kind: ClassVar[str] = "gact"

    def __init__(self, index: int, control: int) -> None:
        super().__init__(index)
        self.control = control

    def act(self, frame: Any, nbytes: int, now: int) -> int:
        self.packets += 1
        self.bytes += nbytes
        if self.control == TC_ACT_SHOT:
            self.drops += 1
        return self.control


class Police(Action):
    kind: ClassVar[str] = "police"

    def __init__(self, index: int, *, rate: int, burst_ticks: int, mtu: int, peakrate: int = 0,
                 control: int = TC_ACT_RECLASSIFY, result: int | None = None, overhead: int = 0,
                 linklayer: int = 1, avrate: int = 0, now: int = 0) -> None:
        super().__init__(index)
        self.rate = rate
        self.burst_ticks = burst_ticks
        self.burst = ticks2ns(burst_ticks)
        self.mtu = mtu
        self.peakrate = peakrate
        self.control = control        # the exceed verdict
        self.result = result          # the conform verdict (None: TC_ACT_OK, printed as "")
        self.overhead = overhead
        self.linklayer = linklayer
        self.avrate = avrate
        self.toks = self.burst
        self.ptoks = l2t_ns(peakrate, mtu) if peakrate else 0
        self.t_c = now

    def act(self, frame: Any, nbytes: int, now: int) -> int:
        self.packets += 1
        self.bytes += nbytes
        conform = TC_ACT_OK if self.result is None else self.result
        if nbytes > self.mtu:
            self.overlimits += 1
            if self.control == TC_ACT_SHOT:
                self.drops += 1
            return self.control
        if not self.rate:
            return conform
        toks = min(now - self.t_c, self.burst)
        ptoks = 0
        if self.peakrate:
            ptoks = min(toks + self.ptoks, l2t_ns(self.peakrate, self.mtu)) - l2t_ns(self.peakrate, nbytes)
        toks = min(toks + self.toks, self.burst) - l2t_ns(self.rate, nbytes)
        if (toks | ptoks) >= 0:
            self.t_c = now
            self.toks = toks
            self.ptoks = ptoks
            return conform
        self.overlimits += 1
        if self.control == TC_ACT_SHOT:
            self.drops += 1
        return self.control


def action_table(ns: Any) -> dict[str, dict[int, Action]]:
    """The namespace's shared actions, by kind then index (tcf_idrinfo)."""
    table: dict[str, dict[int, Action]] = ns.tc_actions
    return table


def tcf_action_release(actions: list[Action]) -> None:
    """tcf_action_put_many: a filter lets its actions go; one no longer referenced leaves its table."""
    for a in actions:
        a.refcnt -= 1
        a.bindcnt -= 1
        if a.refcnt <= 0:
            tbl = a.idr
            if tbl is not None and tbl.get(a.index) is a:
                del tbl[a.index]


def run_actions(actions: list[Action], frame: Any, nbytes: int, now: int) -> int:
    """tcf_action_exec: run the list until a verdict other than pipe."""
    ret = TC_ACT_OK
    for a in actions:
        ret = a.act(frame, nbytes, now)
        if ret == TC_ACT_PIPE:
            continue
        return ret
    return ret
