"""netem options (iproute2 6.1 tc/q_netem.c, tc-netem(8)).

Parsed as netem_parse_opt does (prefix keywords, the optional JITTER / CORRELATION
words taken only when the next word starts with a digit, its error texts and exit 1);
printed as netem_print_opt (`limit 1000 delay 10ms  1ms 25% loss 1%`, and under -j
its objects: times in seconds, probabilities as fractions). netplex's netem
(stack/qdisc/netem.py) does not model duplicate, corrupt, distribution tables, slot,
ecn, the state/gemodel loss models or a rate given as a percentage: refused with
netplex's words (exit 2) rather than ignored.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.shell.tc.tc_util import Opts, QdiscUtil, TcExit, get_u32, matches
from netplex.stack.qdisc import NetemOpts
from netplex.stack.qdisc.core import TICK_IN_USEC
from netplex.units import get_rate, get_size, get_time, sprint_rate, sprint_time, strtod

U32_MAX = 0xFFFFFFFF

NETEM_USAGE = (
    "Usage: ... netem [ limit PACKETS ]\n"
    "                 [ delay TIME [ JITTER [CORRELATION]]]\n"
    "                 [ distribution {uniform|normal|pareto|paretonormal} ]\n"
    "                 [ corrupt PERCENT [CORRELATION]]\n"
    "                 [ duplicate PERCENT [CORRELATION]]\n"
    "                 [ loss random PERCENT [CORRELATION]]\n"
    "                 [ loss state P13 [P31 [P32 [P23 P14]]]\n"
    "                 [ loss gemodel PERCENT [R [1-H [1-K]]]\n"
    "                 [ ecn ]\n"
    "                 [ reorder PERCENT [CORRELATION] [ gap DISTANCE ]]\n"
    "                 [ rate RATE [PACKETOVERHEAD] [CELLSIZE] [CELLOVERHEAD]]\n"
    "                 [ slot MIN_DELAY [MAX_DELAY] [packets MAX_PACKETS] [bytes MAX_BYTES]]\n"
    "                 [ slot distribution {uniform|normal|pareto|paretonormal|custom}\n"
    "                   DELAY JITTER [packets MAX_PACKETS] [bytes MAX_BYTES]]\n")

_UNSUPPORTED = ("distribution", "corrupt", "duplicate", "ecn", "slot")


def _illegal(what: str) -> TcExit:
    return TcExit(1, f'Illegal "{what}"\n')


def get_percent(s: str) -> int | None:
    """parse_percent + set_percent: `25` or `25%` as a fraction of U32_MAX (rint)."""
    r = strtod(s)
    if r is None:
        return None
    v, rest = r
    v /= 100.0
    if v > 1.0 or v < 0.0 or (rest and rest != "%"):
        return None
    return int(round(v * U32_MAX))


def get_ticks(s: str) -> int | None:
    """get_ticks: a time as psched ticks (tc_core_time2tick), refusing one past 32 bits."""
    t = get_time(s)
    if t is None or t >= 1 << 32:
        return None
    ticks = int(t * TICK_IN_USEC)
    if ticks >> 32:
        raise TcExit(1, f"Illegal {t} time (too large)\n")
    return ticks


def _get_s32(s: str) -> int | None:
    v = get_u32(s[1:]) if s.startswith("-") else get_u32(s)
    if v is None:
        return None
    v = -v if s.startswith("-") else v
    return v if -(1 << 31) <= v < 1 << 31 else None


def parse_netem(args: list[str]) -> NetemOpts:
    o = NetemOpts()
    loss_seen = False
    i = 0
    n = len(args)

    def nxt() -> str:
        nonlocal i
        i += 1
        if i >= n:
            raise TcExit(255, 'Command line is not complete. Try option "help"\n')
        return args[i]

    def next_is_number(signed: bool = False) -> bool:
        return i + 1 < n and bool(args[i + 1]) and (args[i + 1][0].isdigit() or signed and args[i + 1][0] == "-")

    def percent(what: str) -> int:
        v = get_percent(args[i])
        if v is None:
            raise _illegal(what)
        return v

    def number(conv: Callable[[str], int | None], what: str) -> int:
        v = conv(args[i])
        if v is None:
            raise _illegal(what)
        return v

    while i < n:
        a = args[i]
        if matches(a, "limit"):
            nxt()
            o.limit = number(get_size, "limit")
        elif matches(a, "latency") or matches(a, "delay"):
            nxt()
            o.latency_ticks = number(get_ticks, "latency")
            if next_is_number():
                nxt()
                o.jitter_ticks = number(get_ticks, "latency")
                if next_is_number():
                    nxt()
                    o.delay_corr = percent("latency")
        elif matches(a, "loss") or matches(a, "drop"):
            if loss_seen:
                raise _illegal("duplicate loss argument\n")
            w = nxt()
            if not w[:1].isdigit():
                if w in ("state", "gemodel"):
                    raise TcExit(2, f"netplex: tc netem loss {w} is not supported\n")
                if w != "random":
                    raise TcExit(1, f"Unknown loss parameter: {w}\n")
                nxt()
            o.loss = percent("loss percent")
            loss_seen = o.loss > 0
            if next_is_number():
                nxt()
                o.loss_corr = percent("loss correlation")
        elif matches(a, "reorder"):
            nxt()
            o.reorder = percent("reorder")
            if next_is_number():
                nxt()
                o.reorder_corr = percent("reorder")
        elif matches(a, "gap"):
            nxt()
            o.gap = number(get_u32, "gap")
        elif matches(a, "rate"):
            w = nxt()
            if "%" in w:
                raise TcExit(2, "netplex: tc netem rate PERCENT is not supported\n")
            r = get_rate(w)
            if r is None:
                raise _illegal("rate")
            o.rate = r
            if next_is_number(signed=True):
                nxt()
                o.packet_overhead = number(_get_s32, "rate")
            if next_is_number():
                nxt()
                o.cell_size = number(get_u32, "rate")
            if next_is_number(signed=True):
                nxt()
                o.cell_overhead = number(_get_s32, "rate")
        elif any(matches(a, k) for k in _UNSUPPORTED):
            word = next(k for k in _UNSUPPORTED if matches(a, k))
            raise TcExit(2, f"netplex: tc netem {word} is not supported\n")
        else:
            msg = "" if a == "help" else f'What is "{a}"?\n'
            raise TcExit(1, msg + NETEM_USAGE)
        i += 1
    if o.reorder:
        if o.latency_ticks == 0:
            raise TcExit(1, "reordering not possible without specifying some delay\n" + NETEM_USAGE)
        if o.gap == 0:
            o.gap = 1
    elif o.gap > 0:
        raise TcExit(1, "gap specified without reorder probability\n" + NETEM_USAGE)
    return o


def _pct(per: int) -> str:
    return f"{100.0 * per / U32_MAX:g}%"


def _jfloat(x: float) -> float | int:
    """json_writer's "%g" for a float (0 prints as 0)."""
    v = float(f"{x:g}")
    return int(v) if v.is_integer() else v


def _tick2us(ticks: int) -> int:
    return int(ticks / TICK_IN_USEC)


def print_netem(q: Any, o: Opts) -> str:
    p: NetemOpts = q.opts
    s = f"limit {p.limit}"
    if p.latency_ticks:
        s += f" delay {sprint_time(_tick2us(p.latency_ticks))}"
        if p.jitter_ticks:
            s += f"  {sprint_time(_tick2us(p.jitter_ticks))}"
            if p.delay_corr:
                s += f" {_pct(p.delay_corr)}"
    if p.loss:
        s += f" loss {_pct(p.loss)}"
        if p.loss_corr:
            s += f" {_pct(p.loss_corr)}"
    if p.reorder:
        s += f" reorder {_pct(p.reorder)}"
        if p.reorder_corr:
            s += f" {_pct(p.reorder_corr)}"
    if p.rate:
        s += f" rate {sprint_rate(p.rate)}"
        if p.packet_overhead:
            s += f" packetoverhead {p.packet_overhead}"
        if p.cell_size:
            s += f" cellsize {p.cell_size}"
        if p.cell_overhead:
            s += f" celloverhead {p.cell_overhead}"
    if p.gap:
        s += f" gap {p.gap}"
    return s


def json_netem(q: Any, o: Opts) -> dict[str, Any]:
    """netem_print_opt under -j: seconds and fractions, every correlation, ecn and gap always."""
    p: NetemOpts = q.opts
    d: dict[str, Any] = {"limit": p.limit}
    if p.latency_ticks:
        d["delay"] = {"delay": _jfloat(_tick2us(p.latency_ticks) / 1e6),
                      "jitter": _jfloat(_tick2us(p.jitter_ticks) / 1e6),
                      "correlation": _jfloat(p.delay_corr / U32_MAX)}
    if p.loss:
        d["loss-random"] = {"loss": _jfloat(p.loss / U32_MAX), "correlation": _jfloat(p.loss_corr / U32_MAX)}
    if p.reorder:
        d["reorder"] = {"reorder": _jfloat(p.reorder / U32_MAX), "correlation": _jfloat(p.reorder_corr / U32_MAX)}
    if p.rate:
        d["rate"] = {"rate": p.rate, "packetoverhead": p.packet_overhead, "cellsize": p.cell_size,
                     "celloverhead": p.cell_overhead}
    d["ecn"] = False
    d["gap"] = p.gap
    return d


NETEM = QdiscUtil("netem", parse_netem, print_netem, classless=True, json_qopt=json_netem)
