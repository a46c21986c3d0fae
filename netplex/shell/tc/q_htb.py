"""htb qdisc and class options (iproute2 tc/q_htb.c, tc-htb(8))."""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.tc_util import (
    Opts,
    QdiscUtil,
    TcExit,
    get_linklayer,
    get_u32,
    matches,
    next_arg,
    print_linklayer,
    psched_adjust,
)
from netplex.stack.qdisc import HtbClassOpts, HtbOpts, HtbQdisc
from netplex.stack.qdisc.core import ns2ticks, xmitsize, xmittime
from netplex.units import get_rate, get_size, sprint_rate, sprint_size

HTB_USAGE = """Usage: ... qdisc add ... htb [default N] [r2q N]
                      [direct_qlen P] [offload]
 default  minor id of class to which unclassified packets are sent {0}
 r2q      DRR quantums are computed as rate in Bps/r2q {10}
 debug    string of 16 numbers each 0-3 {0}

 direct_qlen  Limit of the direct queue {in packets}
 offload  enable hardware offload
... class add ... htb rate R1 [burst B1] [mpu B] [overhead O]
                      [prio P] [slot S] [pslot PS]
                      [ceil R2] [cburst B2] [mtu MTU] [quantum Q]
 rate     rate allocated to this class (class can still borrow)
 burst    max bytes burst which can be accumulated during idle period {computed}
 mpu      minimum packet size used in rate computations
 overhead per-packet size overhead used in rate computations
 linklay  adapting to a linklayer e.g. atm
 ceil     definite upper class rate (no borrows) {rate}
 cburst   burst but for ceil {computed}
 mtu      max packet size we create rate map for {1600}
 prio     priority of leaf; lower are served first {0}
 quantum  how much bytes to serve from leaf at once {use r2q}

TC HTB version 3.3
"""


def _htb_value(key: str, v: int | None, limit: int | None = None) -> int:
    """A parsed tc-htb option value, or tc's `Illegal "KEY"` error when it did not parse
    (or is above `limit`)."""
    if v is None or (limit is not None and v > limit):
        raise TcExit(1, f'Illegal "{key}"\n{HTB_USAGE}')
    return v


def parse_htb(opts: list[str]) -> HtbOpts:
    p = HtbOpts()
    i = 0
    while i < len(opts):
        a = opts[i]
        if any(matches(a, k) for k in ("r2q", "default", "debug", "direct_qlen")):
            next_arg(opts, i + 1)   # NEXT_ARG()
        val = opts[i + 1] if i + 1 < len(opts) else ""
        if matches(a, "r2q"):
            p.r2q = _htb_value("r2q", get_u32(val, 10))
            i += 2
        elif matches(a, "default"):
            p.default = _htb_value("default", get_u32(val, 16))
            i += 2
        elif matches(a, "debug"):
            i += 2
        elif matches(a, "direct_qlen"):
            p.direct_qlen = _htb_value("direct_qlen", get_u32(val, 10))
            i += 2
        elif matches(a, "offload"):
            raise TcExit(2, "Error: Missing HTB offload support.\n")
        else:
            raise TcExit(1, f'What is "{a}"?\n{HTB_USAGE}')
    return p


def parse_htb_class(opts: list[str]) -> HtbClassOpts:
    prio = quantum = overhead = mpu = 0
    mtu = 1600
    buffer = cbuffer = 0
    rate = ceil = 0
    linklayer = 1
    i = 0
    while i < len(opts):
        a = opts[i]
        if a == "help":
            raise TcExit(1, HTB_USAGE)
        if i + 1 >= len(opts):
            raise TcExit(255, 'Command line is not complete. Try option "help"\n')
        val = opts[i + 1]
        if matches(a, "prio"):
            prio = _htb_value("prio", get_u32(val, 10))
        elif matches(a, "mtu"):
            mtu = _htb_value("mtu", get_u32(val, 10))
        elif matches(a, "mpu"):
            mpu = _htb_value("mpu", get_u32(val, 10), 0xFFFF)
        elif matches(a, "overhead"):
            overhead = _htb_value("overhead", get_u32(val, 10), 0xFFFF)
        elif matches(a, "linklayer"):
            linklayer = _htb_value("linklayer", get_linklayer(val))
        elif matches(a, "quantum"):
            quantum = _htb_value("quantum", get_u32(val, 10))
        elif matches(a, "burst") or a in ("buffer", "maxburst"):
            buffer = _htb_value(a, get_size(val.split("/")[0]))
        elif matches(a, "cburst") or a in ("cbuffer", "cmaxburst"):
            cbuffer = _htb_value(a, get_size(val.split("/")[0]))
        elif a == "ceil":
            if ceil:
                raise TcExit(1, 'Double "ceil" spec\n')
            ceil = _htb_value("ceil", get_rate(val))
        elif a == "rate":
            if rate:
                raise TcExit(1, 'Double "rate" spec\n')
            rate = _htb_value("rate", get_rate(val))
        else:
            raise TcExit(1, f'What is "{a}"?\n{HTB_USAGE}')
        i += 2
    if not rate:
        raise TcExit(1, '"rate" is required.\n')
    if not ceil:
        ceil = rate
    hz = 1_000_000_000
    if not buffer:
        buffer = rate // hz + mtu
    if not cbuffer:
        cbuffer = ceil // hz + mtu
    if linklayer == 2:
        buffer_t = xmittime(rate, psched_adjust(buffer, mpu, 2, 0))
        cbuffer_t = xmittime(ceil, psched_adjust(cbuffer, mpu, 2, 0))
    else:
        buffer_t = xmittime(rate, buffer)
        cbuffer_t = xmittime(ceil, cbuffer)
    return HtbClassOpts(rate=rate, ceil=ceil, buffer_ticks=buffer_t, cbuffer_ticks=cbuffer_t, prio=prio,
                        quantum=quantum, overhead=overhead, mpu=mpu, linklayer=linklayer)


def print_htb(q: Any, o: Opts) -> str:
    d = "0" if q.defcls == 0 else f"{q.defcls:#x}"
    s = f"r2q {q.r2q} default {d} direct_packets_stat {q.direct_pkts}"
    if o.details:
        s += " ver 3.17"
    return s + f" direct_qlen {q.direct_qlen}"


def print_htb_class(cl: Any, o: Opts) -> str:
    s = ""
    if cl.level == 0:
        s += f"prio {cl.prio} "
        if o.details:
            s += f"quantum {cl.quantum} "
    s += f"rate {sprint_rate(cl.rate)} "
    if cl.overhead:
        s += f"overhead {cl.overhead} "
    s += f"ceil {sprint_rate(cl.ceil)} "
    buf = xmitsize(cl.rate, cl.buffer_ticks)
    cbuf = xmitsize(cl.ceil, cl.cbuffer_ticks)
    s += print_linklayer(cl.linklayer, o)
    if o.details:
        s += (f"burst {sprint_size(buf)}/1 mpu {sprint_size(cl.mpu)} cburst {sprint_size(cbuf)}/1 "
              f"mpu {sprint_size(cl.mpu)} level {cl.level} ")
    else:
        s += f"burst {sprint_size(buf)} cburst {sprint_size(cbuf)} "
    return s


def print_htb_xstats(cl: Any, o: Opts) -> str:
    tok = max(-(1 << 31), min((1 << 31) - 1, ns2ticks(cl.tokens)))
    ctok = max(-(1 << 31), min((1 << 31) - 1, ns2ticks(cl.ctokens)))
    return (f" lended: {cl.lends} borrowed: {cl.borrows} giants: {cl.giants}\n"
            f" tokens: {tok} ctokens: {ctok}\n\n")


def _htb_dump_order(q: HtbQdisc) -> list[Any]:
    """The order the kernel walks an HTB's class hash (qdisc_class_hash: 4 buckets to
    start, new classes at a bucket's head, doubling when over 3/4 full)."""
    def h(cid: int, mask: int) -> int:
        cid ^= cid >> 8
        cid ^= cid >> 4
        return cid & mask

    size = 4
    buckets: list[list[Any]] = [[] for _ in range(size)]
    count = 0
    for cl in q.cls.values():
        buckets[h(cl.classid, size - 1)].insert(0, cl)
        count += 1
        if count > size * 3 // 4:
            size *= 2
            nb: list[list[Any]] = [[] for _ in range(size)]
            for b in buckets:
                for c in b:
                    nb[h(c.classid, size - 1)].insert(0, c)
            buckets = nb
    return [c for b in buckets for c in b]


def json_htb(q: Any, o: Opts) -> dict[str, Any]:
    """htb_print_opt's TCA_HTB_INIT part under -j (print_0xhex: a string)."""
    d: dict[str, Any] = {"r2q": q.r2q, "default": f"{q.defcls:#x}" if q.defcls else "0",
                         "direct_packets_stat": q.direct_pkts}
    if o.details:
        d["ver"] = "3.17"
    d["direct_qlen"] = q.direct_qlen
    return d


HTB = QdiscUtil("htb", parse_htb, print_htb, parse_htb_class, print_htb_class, print_htb_xstats, _htb_dump_order,
                json_qopt=json_htb)
