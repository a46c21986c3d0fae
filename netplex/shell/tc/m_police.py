"""The police action (iproute2 tc/m_police.c, tc-police(8))."""
from __future__ import annotations

from netplex.shell.tc.tc_util import (
    CONTROLS,
    ActionUtil,
    Opts,
    TcExit,
    action_a2n,
    get_linklayer,
    get_u32,
    invarg,
    matches,
    next_index,
    parse_control,
    parse_cookie,
    print_linklayer,
    tm,
)
from netplex.stack.qdisc.act import TC_ACT_RECLASSIFY, Action, Police, action_n2a
from netplex.stack.qdisc.core import xmitsize, xmittime
from netplex.units import get_rate, get_size, sprint_rate, sprint_size

POLICE_USAGE = ("Usage: ... police [ rate BPS burst BYTES[/BYTES] ] \n"
                "\t\t[ pkts_rate RATE pkts_burst PACKETS ] [ mtu BYTES[/BYTES] ]\n"
                "\t\t[ peakrate BPS ] [ avrate BPS ] [ overhead BYTES ]\n"
                "\t\t[ linklayer TYPE ] [ CONTROL ]\n"
                "Where: CONTROL := conform-exceed <EXCEEDACT>[/NOTEXCEEDACT]\n"
                "                  Define how to handle packets which exceed (<EXCEEDACT>)\n"
                "                  or conform (<NOTEXCEEDACT>) the configured bandwidth limit.\n"
                "       EXCEEDACT/NOTEXCEEDACT := { pipe | ok | reclassify | drop | continue |\n"
                "                                   goto chain <CHAIN_INDEX> }\n")


def _parse_police(now: int, args: list[str], i: int, table: dict[str, dict[int, Action]],
                  bind: bool) -> tuple[Action, int]:
    tbl = table.setdefault("police", {})
    rate = prate = avrate = 0
    burst = mtu = 0
    overhead = 0
    linklayer = 1
    control = TC_ACT_RECLASSIFY
    result: int | None = None
    index = 0
    while i < len(args):
        a = args[i]
        val = args[i + 1] if i + 1 < len(args) else None
        if matches(a, "index") and a != "i":
            v = get_u32(val or "", 10)
            if v is None:
                raise TcExit(255, 'Illegal "index"\n')
            index = v
            i += 2
        elif matches(a, "burst") or a in ("buffer", "maxburst"):
            v = get_size((val or "").split("/")[0])
            if v is None:
                raise invarg("burst", val or "")
            burst = v
            i += 2
        elif a in ("mtu", "minburst"):
            v = get_size((val or "").split("/")[0])
            if v is None:
                raise invarg("mtu", val or "")
            mtu = v
            i += 2
        elif a == "mpu":
            i += 2
        elif a == "rate":
            v = get_rate(val or "")
            if v is None:
                raise invarg("rate", val or "")
            rate = v
            i += 2
        elif a == "avrate":
            v = get_rate(val or "")
            if v is None:
                raise invarg("avrate", val or "")
            avrate = v
            i += 2
        elif matches(a, "peakrate"):
            v = get_rate(val or "")
            if v is None:
                raise invarg("peakrate", val or "")
            prate = v
            i += 2
        elif a in CONTROLS or a == "goto" or a == "jump" or matches(a, "reclassify") or matches(a, "continue"):
            r = parse_control(args, i)
            if r is None:
                raise TcExit(255, POLICE_USAGE)
            control, i = r
        elif a == "conform-exceed":
            if val is None:
                raise TcExit(255, POLICE_USAGE)
            if "/" in val:
                x, _, y = val.partition("/")
                r1, r2 = action_a2n(x), action_a2n(y)
                if r1 is None or r2 is None:
                    raise TcExit(255, POLICE_USAGE)
                control, result = r1, r2
                i += 2
            else:
                r = parse_control(args, i + 1, allow_num=True)
                if r is None:
                    raise TcExit(255, POLICE_USAGE)
                control, i = r
                if i < len(args) and args[i] == "/":
                    r = parse_control(args, i + 1, allow_num=True)
                    if r is None:
                        raise TcExit(255, POLICE_USAGE)
                    result, i = r
        elif matches(a, "overhead"):
            v = get_u32(val or "", 10)
            if v is None or v > 0xFFFF:
                raise invarg("overhead", val or "")
            overhead = v
            i += 2
        elif matches(a, "linklayer"):
            ll = get_linklayer(val or "")
            if ll is None:
                raise invarg("linklayer", val or "")
            linklayer = ll
            i += 2
        elif a in ("action", "actions", "flowid", "classid", "cookie", "match", "chain") or a == "police":
            break
        elif a == "help":
            raise TcExit(255, POLICE_USAGE)
        else:
            break
    if not rate and not avrate and not index and not mtu:
        raise TcExit(255, "'rate' or 'avrate' or 'mtu' or 'pkts_rate' MUST be specified.\n")
    if burst and not rate:
        raise TcExit(255, "'burst' requires 'rate'.\n")
    if prate:
        if not rate:
            raise TcExit(255, "'peakrate' requires 'rate'.\n")
        if not mtu:
            raise TcExit(255, "'mtu' is required, if 'peakrate' is requested.\n")
    if rate and not burst:
        raise TcExit(255, "Must specify burst with rate\n")
    for bps in (rate, prate):
        if bps >= 1 << 32:
            raise TcExit(255, "POLICE: failed to calculate rate table.\n")
    if result is not None and (result > 8 or result < -1):
        raise TcExit(255, POLICE_USAGE)
    if control > 8 and not control & 0x30000000:
        raise TcExit(255, POLICE_USAGE)
    if not rate and index and index in tbl and not mtu:
        a0 = tbl[index]
        if bind:
            a0.refcnt += 1
            a0.bindcnt += 1
        return a0, i
    if index and index in tbl:
        if bind:
            raise TcExit(2, "RTNETLINK answers: File exists\nWe have an error talking to the kernel\n")
        raise TcExit(2, "RTNETLINK answers: File exists\nWe have an error talking to the kernel\n")
    burst_ticks = xmittime(rate, burst) if rate else 0
    if not mtu:
        mtu_eff = 2040 if rate else 0xFFFFFFFF
    else:
        mtu_eff = mtu
    pol = Police(index or next_index(tbl), rate=rate, burst_ticks=burst_ticks, mtu=mtu_eff, peakrate=prate,
                 control=control, result=result, overhead=overhead, linklayer=linklayer, avrate=avrate,
                 now=now)
    if bind:
        pol.bindcnt = 1
    i = parse_cookie(args, i, pol)
    tbl[pol.index] = pol
    pol.idr = tbl
    return pol, i


def print_police(a: Police, o: Opts) -> str:
    s = f" police 0x{a.index:x} rate {sprint_rate(a.rate)} burst {sprint_size(xmitsize(a.rate, a.burst_ticks))} "
    s += f"mtu {sprint_size(a.mtu)} "
    if a.peakrate:
        s += f"peakrate {sprint_rate(a.peakrate)} "
    if a.avrate:
        s += f"avrate {sprint_rate(a.avrate)} "
    s += f"action {action_n2a(a.control)}"
    s += f"/{action_n2a(a.result)} " if a.result is not None else " "
    s += f"overhead {sprint_size(a.overhead)} "
    s += print_linklayer(a.linklayer, o)
    s += f"\n\tref {a.refcnt} bind {a.bindcnt} "
    if o.stats:
        s += tm(a)
    return s + "\n"


POLICE = ActionUtil("police", _parse_police, print_police)
