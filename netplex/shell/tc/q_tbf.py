"""tbf options (iproute2 tc/q_tbf.c, tc-tbf(8))."""
from __future__ import annotations

from typing import Any

from netplex.shell.ip_json import JsonPairs
from netplex.shell.tc.tc_util import Opts, QdiscUtil, TcExit, get_linklayer, matches, print_linklayer, psched_adjust
from netplex.stack.qdisc import TbfOpts
from netplex.stack.qdisc.core import l2t_ns, ns2ticks, xmitsize
from netplex.units import get_rate, get_size, get_time, sprint_rate, sprint_size, sprint_time

TBF_USAGE = ("Usage: ... tbf limit BYTES burst BYTES[/BYTES] rate KBPS [ mtu BYTES[/BYTES] ]\n"
             "\t[ peakrate KBPS ] [ latency TIME ] [ overhead BYTES ] [ linklayer TYPE ]\n")


def parse_tbf(opts: list[str]) -> TbfOpts:
    rate = prate = 0
    buffer = mtu = mpu = limit = latency = overhead = 0
    linklayer = 1
    seen: set[str] = set()
    i = 0

    def nxt() -> str:
        nonlocal i
        i += 1
        if i >= len(opts):
            raise TcExit(255, 'Command line is not complete. Try option "help"\n')
        return opts[i]

    def bad(key: str, val: str) -> TcExit:
        return TcExit(1, f'tbf: illegal value for "{key}": "{val}"\n{TBF_USAGE}')

    while i < len(opts):
        a = opts[i]
        if matches(a, "limit"):
            v = nxt()
            if "limit" in seen:
                raise TcExit(1, 'tbf: duplicate "limit" specification\n')
            if "latency" in seen:
                raise TcExit(1, 'tbf: specifying both "latency" and "limit" is not allowed\n')
            s = get_size(v)
            if s is None:
                raise bad("limit", v)
            limit = s
            seen.add("limit")
        elif matches(a, "latency"):
            v = nxt()
            if "latency" in seen:
                raise TcExit(1, 'tbf: duplicate "latency" specification\n')
            if "limit" in seen:
                raise TcExit(1, 'tbf: specifying both "limit" and "/latency" is not allowed\n')
            t = get_time(v)
            if t is None:
                raise bad("latency", v)
            latency = t
            seen.add("latency")
        elif matches(a, "burst") or a in ("buffer", "maxburst"):
            v = nxt()
            if "burst" in seen:
                raise TcExit(1, 'tbf: duplicate "buffer/burst/maxburst" specification\n')
            s = get_size(v.split("/")[0])
            if s is None:
                raise bad(a, v)
            buffer = s
            seen.add("burst")
        elif a in ("mtu", "minburst"):
            v = nxt()
            s = get_size(v.split("/")[0])
            if s is None:
                raise bad(a, v)
            mtu = s
        elif a == "mpu":
            v = nxt()
            s = get_size(v)
            if s is None:
                raise bad("mpu", v)
            mpu = s
        elif a == "rate":
            v = nxt()
            if "rate" in seen:
                raise TcExit(1, 'tbf: duplicate "rate" specification\n')
            r = get_rate(v)
            if r is None:
                raise bad("rate", v)
            rate = r
            seen.add("rate")
        elif matches(a, "peakrate"):
            v = nxt()
            r = get_rate(v)
            if r is None:
                raise bad("peakrate", v)
            prate = r
        elif matches(a, "overhead"):
            v = nxt()
            try:
                overhead = int(v)
            except ValueError:
                raise bad("overhead", v) from None
        elif matches(a, "linklayer"):
            v = nxt()
            ll = get_linklayer(v)
            if ll is None:
                raise bad("linklayer", v)
            linklayer = ll
        elif a == "help":
            raise TcExit(1, TBF_USAGE)
        else:
            raise TcExit(1, f'tbf: unknown parameter "{a}"\n{TBF_USAGE}')
        i += 1
    errs = []
    if not rate:
        errs.append('tbf: the "rate" parameter is mandatory.\n')
    if not buffer:
        errs.append('tbf: the "burst" parameter is mandatory.\n')
    if prate and not mtu:
        errs.append('tbf: when "peakrate" is specified, "mtu" must also be specified.\n')
    if not limit and not latency:
        errs.append('tbf: either "limit" or "latency" is required.\n')
    if errs:
        raise TcExit(1, "".join(errs) + TBF_USAGE)
    if not limit:
        lim = rate * float(latency) / 1e6 + buffer
        if prate:
            lim2 = prate * float(latency) / 1e6 + mtu
            lim = min(lim, lim2)
        limit = int(lim)
    # the kernel takes the burst in bytes (TCA_TBF_BURST) and keeps it as time at `rate`
    buf_ns = l2t_ns(rate, psched_adjust(buffer, mpu, linklayer, overhead))
    mtu_ticks = 0
    if prate:
        mtu_ticks = ns2ticks(l2t_ns(prate, psched_adjust(mtu, mpu, linklayer, overhead)))
    return TbfOpts(rate=rate, buffer_ticks=ns2ticks(buf_ns), limit=limit, peakrate=prate, mtu_ticks=mtu_ticks,
                   overhead=overhead, linklayer=linklayer, mpu=mpu)


def _latency(q: Any) -> float:
    """tbf_print_opt's latency (µs): the time the limit takes at the rate (or the peak rate,
    whichever is longer), less the bucket's."""
    latency = 1e6 * (q.limit / q.rate) - int(q.buffer_ticks / (1000 / 64))
    if q.peakrate:
        lat2 = 1e6 * (q.limit / q.peakrate) - int(q.mtu_ticks / (1000 / 64))
        latency = max(latency, lat2)
    return latency


def print_tbf(q: Any, o: Opts) -> str:
    s = f"rate {sprint_rate(q.rate)} "
    buffer = xmitsize(q.rate, q.buffer_ticks)
    if o.details:
        s += f"burst {sprint_size(buffer)}/1 mpu {sprint_size(q.mpu)} "
    else:
        s += f"burst {sprint_size(buffer)} "
    if q.peakrate:
        s += f"peakrate {sprint_rate(q.peakrate)} "
        mtu = xmitsize(q.peakrate, q.mtu_ticks)
        s += f"mtu {sprint_size(mtu)}/1 mpu {sprint_size(q.mpu)} " if o.details else f"minburst {sprint_size(mtu)} "
    latency = _latency(q)
    if latency >= 0.0:
        s += f"lat {sprint_time(latency)} "
    if o.raw or latency < 0.0:
        s += f"limit {sprint_size(q.limit)} "
    if q.overhead:
        s += f"overhead {q.overhead} "
    return s + print_linklayer(q.linklayer, o)


def json_tbf(q: Any, o: Opts) -> JsonPairs:
    """tbf_print_opt under -j: rate in bytes/s, sizes as numbers (strings `SIZE/CELL` with -d,
    where "mpu" then comes twice), the peak rate left out (PRINT_FP), lat in µs."""
    d = JsonPairs([("rate", q.rate)])
    buffer = xmitsize(q.rate, q.buffer_ticks)
    if o.details:
        d += [("burst", f"{sprint_size(buffer)}/1"), ("mpu", q.mpu)]
    else:
        d.append(("burst", buffer))
    if q.peakrate:
        mtu = xmitsize(q.peakrate, q.mtu_ticks)
        d += [("mtu", f"{sprint_size(mtu)}/1"), ("mpu", q.mpu)] if o.details else [("minburst", mtu)]
    latency = _latency(q)
    if latency >= 0.0:
        d.append(("lat", int(latency)))
    if o.raw or latency < 0.0:
        d.append(("limit", q.limit))
    if q.overhead:
        d.append(("overhead", q.overhead))
    if q.linklayer > 1 or o.details:
        d.append(("linklayer", "atm" if q.linklayer == 2 else "ethernet"))
    return d


TBF = QdiscUtil("tbf", parse_tbf, print_tbf, json_qopt=json_tbf)
