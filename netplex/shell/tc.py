"""`tc` (iproute2 6.1, tc(8)): qdiscs, classes, filters and actions.

    tc [-s] [-d] qdisc  { add | change | replace | link | del } dev DEV [parent ID | root | ingress]
                        [handle ID] KIND [OPTIONS]
    tc [-s] [-d] qdisc  show [dev DEV]
    tc [-s] [-d] class  { add | change | replace | del | show } dev DEV ...
    tc [-s]      filter { add | change | replace | del | show | get } dev DEV ...
    tc [-s]      actions { add | change | replace | del | get | ls | flush } action KIND ...

Options are parsed as tc(8) and its tc-htb(8), tc-tbf(8), tc-sfq(8),
tc-prio(8), tc-pfifo(8), tc-u32(8), tc-fw(8), tc-matchall(8) and
tc-police(8) pages describe, in tc's units (`kbps` is kilobytes per second,
sizes in binary multiples, a bare time in microseconds); sizes and rates are
turned into the kernel's values with tc's own arithmetic (tc_core.c), so
`tc -s class show` prints the same `burst`, `tokens` and `ctokens` figures.
Errors are worded and numbered as tc's: its own parse errors exit 1 (or 255
where tc calls exit(-1): invarg, duparg), the kernel's refusals exit 2.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from netplex.errors import NetplexError
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.qdisc import (INGRESS_HANDLE, TC_H_INGRESS, TC_H_ROOT, FifoOpts, HtbClassOpts,
                                 HtbOpts, HtbQdisc, PfifoFastQdisc, PrioOpts, SfqOpts, TbfOpts, all_qdiscs)
from netplex.stack.qdisc import api
from netplex.stack.qdisc.act import (TC_ACT_GOTO_CHAIN, TC_ACT_JUMP, TC_ACT_OK, TC_ACT_PIPE,
                                     TC_ACT_RECLASSIFY, TC_ACT_SHOT, TC_ACT_TRAP, TC_ACT_UNSPEC, Action, Gact,
                                     Police, action_n2a, action_table, tcf_action_release)
from netplex.stack.qdisc.api import NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE
from netplex.stack.qdisc.cls import (TCA_CLS_FLAGS_NOT_IN_HW, TCA_CLS_FLAGS_SKIP_HW, TCA_CLS_FLAGS_SKIP_SW,
                                     Filter, FwFilter, FwProto, MatchallProto, TcfProto, U32Ht, U32Key, U32Knode,
                                     U32Proto)
from netplex.stack.qdisc.core import EEXIST, EINVAL, ENOENT, TcError, l2t_ns, ns2ticks, xmitsize, xmittime
from netplex.units import get_rate, get_rate32, get_size, get_time, sprint_rate, sprint_size, sprint_time

__all__ = ["tc", "sprint_size", "sprint_rate", "sprint_time", "get_rate", "get_rate32", "get_size", "get_time"]


class TcExit(NetplexError):
    """Stop with tc's status and message."""

    def __init__(self, status: int, msg: str = "") -> None:
        super().__init__(msg, status=status)
        self.msg = msg


def kerr(msg: str) -> TcExit:
    """A refusal from the kernel, with its extack message (status 2)."""
    return TcExit(2, f"Error: {msg}.\n" if not msg.startswith("RTNETLINK") else msg + "\n")


def invarg(msg: str, arg: str) -> TcExit:
    return TcExit(255, f'Error: argument "{arg}" is wrong: {msg}\n')


def duparg(key: str, arg: str) -> TcExit:
    return TcExit(255, f'Error: duplicate "{key}": "{arg}" is the second value.\n')


def matches(word: str, key: str) -> bool:
    """iproute2's matches(): `word` is a non-empty prefix of `key`."""
    return bool(word) and key.startswith(word)


# --- units: tc's parsers and printers are netplex.units' (imported above) --------------

def get_u32(s: str, base: int = 0) -> int | None:
    try:
        v = int(s, base)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 32 else None


def _g(x: float) -> str:
    return "%g" % x


def get_qdisc_handle(s: str) -> int | None:
    """get_qdisc_handle: `1:` or `1` -> 0x10000; `none` -> 0."""
    if s == "none":
        return 0
    m = re.fullmatch(r"([0-9a-fA-F]+):?", s)
    if m is None:
        return None
    v = int(m.group(1), 16)
    if v >= 1 << 16:
        return None
    return v << 16


def get_tc_classid(s: str) -> int | None:
    if s == "root":
        return TC_H_ROOT
    if s == "none":
        return 0
    m = re.fullmatch(r"([0-9a-fA-F]*)(?::([0-9a-fA-F]*))?", s)
    if m is None or (not m.group(1) and m.group(2) is None):
        return None
    if m.group(2) is None:
        return int(m.group(1), 16) & 0xFFFFFFFF
    maj = int(m.group(1), 16) if m.group(1) else 0
    mn = int(m.group(2), 16) if m.group(2) else 0
    if maj >= 1 << 16 or mn >= 1 << 16:
        return None
    return (maj << 16) | mn


def sprint_classid(h: int) -> str:
    if h == TC_H_ROOT:
        return "root"
    if h == 0:
        return "none"
    if h >> 16 == 0:
        return f":{h & 0xFFFF:x}"
    if h & 0xFFFF == 0:
        return f"{h >> 16:x}:"
    return f"{h >> 16:x}:{h & 0xFFFF:x}"


def sprint_handle(h: int) -> str:
    return f"{h >> 16:x}:"


PROTOCOLS = {"all": 0x0003, "ip": 0x0800, "ipv4": 0x0800, "ipv6": 0x86DD, "arp": 0x0806, "802_3": 0x0001,
             "802.1q": 0x8100, "vlan": 0x8100, "802.1ad": 0x88A8, "rarp": 0x8035, "mpls_uc": 0x8847,
             "mpls_mc": 0x8848, "lldp": 0x88CC, "pppoes": 0x8864, "pppoed": 0x8863}
PROTO_NAMES = {0x0003: "all", 0x0800: "ip", 0x86DD: "ipv6", 0x0806: "arp", 0x0001: "802_3", 0x8100: "802.1Q",
               0x88A8: "802.1ad", 0x8035: "rarp", 0x8847: "mpls_uc", 0x8848: "mpls_mc", 0x88CC: "lldp",
               0x8864: "pppoes", 0x8863: "pppoed"}


def proto_a2n(s: str) -> int | None:
    if s.lower() in PROTOCOLS:
        return PROTOCOLS[s.lower()]
    try:
        v = int(s, 0)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 16 else None


def proto_n2a(p: int) -> str:
    return PROTO_NAMES.get(p, f"0x{p:x}" if p > 0xFF else f"0x{p:x}")


# --- the command -----------------------------------------------------------------------


class Opts:
    def __init__(self) -> None:
        self.stats = 0
        self.details = False
        self.raw = False


@command("tc")
def tc(ctx: Context, argv: list[str]) -> Result:
    ns = ctx.node
    args = argv[1:]
    o = Opts()
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        w = a.lstrip("-")
        if matches(w, "statistics") or w == "s":
            o.stats += 1
        elif matches(w, "details") or w == "d":
            o.details = True
        elif w == "r" or matches(w, "raw"):
            o.raw = True
        elif w in ("p", "pretty", "iec", "i", "nm", "N", "c", "color") or matches(w, "color"):
            continue
        elif w in ("V", "Version") or matches(w, "Version"):
            return Result(0, "tc utility, iproute2-6.1.0, libbpf 1.1.2\n")
        elif w in ("j", "json") or matches(w, "json"):
            return Result(2, "", "netplex: tc -json is not supported\n")
        else:
            return Result(255, "", f'Option "{a}" is unknown, try "tc -help".\n')
    if not args:
        return Result(255, "", USAGE)
    obj, rest = args[0], args[1:]
    out: list[str] = []
    try:
        if matches(obj, "qdisc"):
            tc_qdisc(ns, rest, o, out)
        elif matches(obj, "class"):
            tc_class(ns, rest, o, out)
        elif matches(obj, "filter"):
            tc_filter(ns, rest, o, out)
        elif matches(obj, "actions") or obj == "action":
            try:
                tc_actions(ns, rest, o, out)
            except TcExit as e:
                # tc_action_modify/gd return -1 on a kernel error: exit status 255
                raise TcExit(255 if e.status == 2 else e.status, e.msg) from None
        elif matches(obj, "help"):
            return Result(0, USAGE)
        else:
            return Result(1, "", f'Object "{obj}" is unknown, try "tc help".\n')
    except TcExit as e:
        return Result(e.status, "".join(out), e.msg)
    except TcError as e:
        return Result(2, "".join(out), e.message + "\n")
    return Result(0, "".join(out))


USAGE = """Usage:	tc [ OPTIONS ] OBJECT { COMMAND | help }
	tc [-force] -batch filename
where  OBJECT := { qdisc | class | filter | chain |
		    action | monitor | exec }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[aw] |
		    -o[neline] | -j[son] | -p[retty] | -c[olor]
		    -b[atch] [filename] | -n[etns] name | -N[umeric] |
		     -nm | -nam[es] | { -cf | -conf } path
		     -br[ief] }
"""


def _dev(ns: Any, name: str) -> Any:
    d = ns.devices.get(name)
    if d is None:
        raise TcExit(1, f'Cannot find device "{name}"\n')
    return d


def _cmd(word: str) -> str:
    for c in ("add", "change", "replace", "link", "delete", "show", "list", "get", "flush"):
        if matches(word, c):
            return c
    if word == "del":
        return "delete"
    if word in ("ls", "lst"):
        return "list"
    return ""


# --- qdiscs ------------------------------------------------------------------------------------

FLAGS = {"add": NLM_F_CREATE | NLM_F_EXCL, "replace": NLM_F_CREATE | NLM_F_REPLACE, "change": 0,
         "link": NLM_F_REPLACE}   # tc_qdisc_modify's netlink flags


def tc_qdisc(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        args = ["show"]
    cmd = _cmd(args[0])
    rest = args[1:]
    if cmd in ("show", "list"):
        return qdisc_show(ns, rest, o, out)
    if cmd == "delete":
        return qdisc_modify(ns, rest, "delete")
    if cmd in FLAGS:
        return qdisc_modify(ns, rest, cmd)
    raise TcExit(255, f'Command "{args[0]}" is unknown, try "tc qdisc help".\n')


def qdisc_modify(ns: Any, args: list[str], cmd: str) -> None:
    devname = ""
    handle: int | None = None
    parent: int | None = None
    kind = ""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            if i >= len(args):
                raise TcExit(255, "Command line is not complete. Try option \"help\"\n")
            if devname:
                raise duparg("dev", args[i])
            devname = args[i]
        elif a == "handle":
            i += 1
            if handle is not None:
                raise duparg("handle", args[i])
            h = get_qdisc_handle(args[i]) if i < len(args) else None
            if h is None:
                raise invarg("invalid qdisc ID", args[i] if i < len(args) else "")
            handle = h
        elif a == "root":
            if parent is not None:
                raise TcExit(255, 'Error: "root" is duplicate parent ID\n')
            parent = TC_H_ROOT
        elif a == "ingress":
            if parent is not None:
                raise TcExit(255, 'Error: "ingress" is a duplicate parent ID\n')
            parent = TC_H_INGRESS
            kind = "ingress"
            handle = INGRESS_HANDLE
            i += 1
            break
        elif a == "parent":
            i += 1
            p = get_tc_classid(args[i]) if i < len(args) else None
            if parent is not None:
                raise duparg("parent", args[i])
            if p is None:
                raise invarg("invalid parent ID", args[i])
            parent = p
        elif matches(a, "estimator") or matches(a, "stab"):
            raise TcExit(2, f"netplex: tc {a} is not supported\n")
        else:
            kind = a
            i += 1
            break
        i += 1
    words = args[i:]
    if kind and kind != "ingress" and kind not in QDISC_PARSERS and kind not in ("noqueue", "clsact"):
        if words:
            raise TcExit(1, f'Garbage instead of arguments "{words[0]} ...". Try "tc qdisc help".\n')
    if not devname:
        raise TcExit(1, "Not enough information: \"dev\" argument is required.\n")
    opts: Any = None
    if kind == "ingress":
        if words:
            raise TcExit(1, "What is \"%s\"?\nUsage: ... ingress\n" % words[0])
    elif kind in QDISC_PARSERS and cmd != "delete":
        opts = QDISC_PARSERS[kind](words)
    dev = _dev(ns, devname)
    if cmd == "delete":
        return api.tc_delete_qdisc(dev, parent, handle, kind)
    api.tc_modify_qdisc(dev, FLAGS[cmd], parent, handle, kind, opts)


# --- per-kind option parsers -----------------------------------------------------------------

def _explain_fifo(kind: str) -> str:
    return "Usage: ... <[p|b]fifo | pfifo_head_drop> [ limit NUMBER ]\n"


def parse_fifo(kind: str) -> Callable[[list[str]], FifoOpts]:
    def parse(opts: list[str]) -> FifoOpts:
        limit: int | None = None
        i = 0
        while i < len(opts):
            if opts[i] == "limit":
                i += 1
                v = get_size(opts[i]) if i < len(opts) else None
                if v is None:
                    raise TcExit(1, f"Illegal \"limit\"\n{_explain_fifo(kind)}")
                limit = v
            elif opts[i] == "help":
                raise TcExit(1, _explain_fifo(kind))
            else:
                raise TcExit(1, f"What is \"{opts[i]}\"?\n{_explain_fifo(kind)}")
            i += 1
        return FifoOpts(limit)
    return parse


def parse_pfifo_fast(opts: list[str]) -> None:
    if opts:
        raise TcExit(1, f"What is \"{opts[0]}\"?\nUsage: ... prio bands NUMBER priomap P1 P2...[multiqueue]\n")


PRIO_USAGE = "Usage: ... prio bands NUMBER priomap P1 P2...[multiqueue]\n"


def parse_prio(opts: list[str]) -> PrioOpts:
    bands = 3
    priomap: list[int] | None = None
    i = 0
    while i < len(opts):
        a = opts[i]
        if a == "bands":
            i += 1
            v = get_u32(opts[i], 10) if i < len(opts) else None
            if v is None:
                raise TcExit(1, "Illegal \"bands\"\n")
            bands = v
        elif a == "priomap":
            priomap = []
            i += 1
            while i < len(opts) and re.fullmatch(r"\d+", opts[i]):
                if len(priomap) == 16:
                    raise TcExit(1, "Illegal \"priomap\"\n")
                priomap.append(int(opts[i]))
                i += 1
            continue
        elif a == "multiqueue":
            pass
        else:
            raise TcExit(1, f"What is \"{a}\"?\n{PRIO_USAGE}")
        i += 1
    if priomap is not None:
        for p in priomap:
            if p >= bands:
                raise TcExit(1, "Illegal \"priomap\" element\n")
    if bands < 2 or bands > 16:
        raise TcExit(2, "RTNETLINK answers: Invalid argument\n")
    pm = list(priomap or [])
    base = (1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
    pm = pm + list(base[len(pm):])
    return PrioOpts(bands, tuple(pm))


TBF_USAGE = ("Usage: ... tbf limit BYTES burst BYTES[/BYTES] rate KBPS [ mtu BYTES[/BYTES] ]\n"
             "\t[ peakrate KBPS ] [ latency TIME ] [ overhead BYTES ] [ linklayer TYPE ]\n")


def psched_adjust(nbytes: int, mpu: int, linklayer: int, overhead: int) -> int:
    n = nbytes + overhead
    if n < mpu:
        n = mpu
    if linklayer == 2:
        n = -(-n // 48) * 53
    return n


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
            ll = _linklayer(v)
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


def _linklayer(v: str) -> int | None:
    if matches(v, "ethernet"):
        return 1
    if matches(v, "atm") or matches(v, "adsl"):
        return 2
    return None


SFQ_USAGE = ("Usage: ... sfq	[ limit NUMBER ] [ perturb SECS ] [ quantum BYTES ]\n"
             "		[ divisor NUMBER ] [ flows NUMBER] [ depth NUMBER ]\n"
             "		[ headdrop ]\n"
             "		[ redflowlimit BYTES ] [ min BYTES ] [ max BYTES ]\n"
             "		[ avpkt BYTES ] [ burst PACKETS ] [ probability P ]\n"
             "		[ ecn ] [ harddrop ]\n")


def parse_sfq(opts: list[str]) -> SfqOpts:
    p: dict[str, Any] = {}
    red: dict[str, Any] = {}
    i = 0
    while i < len(opts):
        a = opts[i]
        val = opts[i + 1] if i + 1 < len(opts) else ""
        if a in ("quantum", "perturb", "limit", "divisor", "flows", "depth", "redflowlimit", "min", "max",
                 "avpkt", "burst", "probability"):
            if a == "probability":
                try:
                    red[a] = float(val)
                except ValueError:
                    raise TcExit(1, f'Illegal "{a}"\n') from None
            else:
                v = get_size(val) if a in ("quantum", "redflowlimit", "min", "max", "avpkt") else get_u32(val, 0)
                if v is None:
                    raise TcExit(1, f'Illegal "{a}"\n')
                if a in ("redflowlimit", "min", "max", "avpkt", "burst"):
                    red[a] = v
                else:
                    p[a] = v
            i += 2
            continue
        if a == "headdrop":
            p["headdrop"] = True
        elif a in ("ecn", "harddrop"):
            red[a] = True
        elif a == "help":
            raise TcExit(1, SFQ_USAGE)
        else:
            raise TcExit(1, f'What is "{a}"?\n{SFQ_USAGE}')
        i += 1
    if red:
        p["red"] = red
    return SfqOpts(**p)


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
            linklayer = _htb_value("linklayer", _linklayer(val))
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


QDISC_PARSERS: dict[str, Callable[[list[str]], Any]] = {
    "pfifo": parse_fifo("pfifo"), "bfifo": parse_fifo("bfifo"), "pfifo_fast": parse_pfifo_fast,
    "prio": parse_prio, "tbf": parse_tbf, "sfq": parse_sfq, "htb": parse_htb,
}


# --- qdisc show ------------------------------------------------------------------------------

def _fmt_stats(bytes_: int, packets: int, drops: int, overlimits: int, requeues: int, backlog: int,
               qlen: int) -> str:
    return (f" Sent {bytes_} bytes {packets} pkt (dropped {drops}, overlimits {overlimits} requeues {requeues}) \n"
            f" backlog {sprint_size(backlog)} {qlen}p requeues {requeues}\n")


def qdisc_opts(q: Any, o: Opts) -> str:
    k = q.kind
    if k in ("pfifo",):
        return f"limit {q.limit}p"
    if k == "bfifo":
        return f"limit {sprint_size(q.limit)}"
    if k in ("pfifo_fast", "prio"):
        return f"bands {q.bands} priomap" + "".join(f" {x}" for x in q.priomap)
    if k == "ingress":
        return "---------------- "
    if k == "htb":
        d = "0" if q.defcls == 0 else f"{q.defcls:#x}"
        s = f"r2q {q.r2q} default {d} direct_packets_stat {q.direct_pkts}"
        if o.details:
            s += " ver 3.17"
        return s + f" direct_qlen {q.direct_qlen}"
    if k == "tbf":
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
        latency = 1e6 * (q.limit / q.rate) - int(q.buffer_ticks / (1000 / 64))
        if q.peakrate:
            lat2 = 1e6 * (q.limit / q.peakrate) - int(q.mtu_ticks / (1000 / 64))
            latency = max(latency, lat2)
        if latency >= 0.0:
            s += f"lat {sprint_time(latency)} "
        if o.raw or latency < 0.0:
            s += f"limit {sprint_size(q.limit)} "
        if q.overhead:
            s += f"overhead {q.overhead} "
        if q.linklayer > 1 or o.details:
            s += f"linklayer {'atm' if q.linklayer == 2 else 'ethernet'} "
        return s
    if k == "sfq":
        s = f"limit {q.limit}p quantum {sprint_size(q.quantum)} depth {q.depth} "
        if q.headdrop:
            s += "headdrop "
        if o.details:
            s += f"flows {q.flows} "
        s += f"divisor {q.divisor} "
        if q.perturb:
            s += f"perturb {q.perturb}sec "
        red = q.red or {}
        if red.get("min"):
            s += f"ewma {red.get('ewma', 6)} min {sprint_size(red['min'])} max {sprint_size(red.get('max', 0))} "
            s += f"probability {_g(red.get('probability', 0.02))} "
            if red.get("ecn"):
                s += "ecn "
            if red.get("harddrop"):
                s += "harddrop "
        return s
    return ""


def qdisc_line(dev: Any, q: Any, o: Opts, show_dev: bool, kind: str | None = None) -> str:
    kind = kind or q.kind
    handle = q.handle if q is not None else 0
    s = f"qdisc {kind} {sprint_handle(handle)} "
    if show_dev:
        s += f"dev {dev.name} "
    parent = q.parent if q is not None else TC_H_ROOT
    if parent == TC_H_ROOT:
        s += "root "
    elif parent:
        s += f"parent {sprint_classid(parent)} "
    refcnt = q.refcnt if q is not None else 2
    if q is not None and parent != TC_H_ROOT and kind != "ingress":
        refcnt = 1
    if refcnt != 1:
        s += f"refcnt {refcnt} "
    if q is not None:
        s += qdisc_opts(q, o)
    s += "\n"
    if o.stats:
        if q is None:
            s += _fmt_stats(0, 0, 0, 0, 0, 0, 0)
        else:
            s += _fmt_stats(q.bytes, q.packets, q.drops, q.overlimits, q.requeues, q.backlog, q.qlen)
    return s


def qdisc_show(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    devname = ""
    want_ingress = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "dev":
            i += 1
            devname = args[i] if i < len(args) else ""
        elif a in ("ingress", "clsact"):
            want_ingress = True
        elif a in ("root", "parent", "handle", "invisible"):
            if a in ("parent", "handle"):
                i += 1
        else:
            raise TcExit(255, f'What is "{a}"? Try "tc qdisc help"\n')
        i += 1
    devs = [_dev(ns, devname)] if devname else [ns.by_index[k] for k in sorted(ns.by_index)]
    for dev in devs:
        show_dev = not devname
        qs = all_qdiscs(dev)
        if not want_ingress:
            if not qs or qs[0] is not dev.qdisc:
                kind = dev.qdisc_name()
                if kind == "noop":
                    pass   # noop_qdisc is built in: the kernel's dump never lists it
                elif kind != "noqueue":
                    fake = PfifoFastQdisc(dev, 0, TC_H_ROOT) if kind == "pfifo_fast" else None
                    out.append(qdisc_line(dev, fake, o, show_dev, kind))
                else:
                    out.append(qdisc_line(dev, None, o, show_dev, kind))
        for q in qs:
            if want_ingress and q is not dev.ingress_q:
                continue
            out.append(qdisc_line(dev, q, o, show_dev))


# --- classes ---------------------------------------------------------------------------------

def tc_class(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        args = ["show"]
    cmd = _cmd(args[0])
    rest = args[1:]
    if cmd in ("show", "list"):
        return class_show(ns, rest, o, out)
    if cmd in ("add", "change", "replace", "delete"):
        return class_modify(ns, rest, cmd)
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
            if devname:
                raise duparg("dev", args[i])
            devname = args[i]
        elif a == "classid":
            i += 1
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
    if kind:
        if kind == "htb":
            if cmd != "delete":
                params = parse_htb_class(opts)
        elif kind in ("pfifo", "bfifo", "pfifo_fast", "sfq", "ingress"):
            raise TcExit(1, f'Error: Qdisc "{kind}" is classless.\n')
        elif opts:
            raise TcExit(1, f'Garbage instead of arguments "{opts[0]} ...". Try "tc class help".')
    dev = _dev(ns, devname)
    if cmd == "delete":
        return api.tc_delete_class(dev, classid, parent)
    api.tc_modify_class(dev, CLASS_FLAGS[cmd], classid, parent, params)


CLASS_FLAGS = {"add": NLM_F_CREATE | NLM_F_EXCL, "change": 0, "replace": NLM_F_CREATE}   # tc_class_modify's


def class_line(dev: Any, q: Any, cl: Any, o: Opts, show_dev: bool) -> str:
    s = f"class {q.kind} {sprint_classid(cl.classid)} "
    if show_dev:
        s += f"dev {dev.name} "
    if isinstance(q, HtbQdisc):
        par = cl.parent.classid if cl.parent is not None else TC_H_ROOT
    else:
        par = q.handle
    s += "root " if par == TC_H_ROOT else f"parent {sprint_classid(par)} "
    leaf = getattr(cl, "leaf", None)
    if leaf is not None and leaf.handle and (not isinstance(q, HtbQdisc) or cl.level == 0):
        s += f"leaf {leaf.handle >> 16:x}: "
    if isinstance(q, HtbQdisc):
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
        if cl.linklayer > 1 or o.details:
            s += f"linklayer {'atm' if cl.linklayer == 2 else 'ethernet'} "
        if o.details:
            s += (f"burst {sprint_size(buf)}/1 mpu {sprint_size(cl.mpu)} cburst {sprint_size(cbuf)}/1 "
                  f"mpu {sprint_size(cl.mpu)} level {cl.level} ")
        else:
            s += f"burst {sprint_size(buf)} cburst {sprint_size(cbuf)} "
    s += "\n"
    if o.stats:
        leaf_counts = leaf is not None and (not isinstance(q, HtbQdisc) or cl.level == 0)
        backlog = leaf.backlog if leaf_counts else 0
        qlen = leaf.qlen if leaf_counts else 0
        s += _fmt_stats(cl.bytes, cl.packets, cl.drops, cl.overlimits, 0, backlog, qlen)
        if isinstance(q, HtbQdisc):
            tok = max(-(1 << 31), min((1 << 31) - 1, ns2ticks(cl.tokens)))
            ctok = max(-(1 << 31), min((1 << 31) - 1, ns2ticks(cl.ctokens)))
            s += f" lended: {cl.lends} borrowed: {cl.borrows} giants: {cl.giants}\n"
            s += f" tokens: {tok} ctokens: {ctok}\n"
            s += "\n"
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
            devname = args[i]
        elif a == "parent":
            i += 1
            parent = get_tc_classid(args[i])
        elif a == "classid":
            i += 1
            classid = get_tc_classid(args[i])
        elif a == "root":
            parent = TC_H_ROOT
        i += 1
    devs = [_dev(ns, devname)] if devname else [ns.by_index[k] for k in sorted(ns.by_index)]
    for dev in devs:
        for q in all_qdiscs(dev):
            if isinstance(q, HtbQdisc):
                cls = _htb_dump_order(q)
            else:
                cls = q.classes()
            for cl in cls:
                if classid is not None and cl.classid != classid:
                    continue
                if parent is not None and parent != TC_H_ROOT and (
                        (getattr(cl, "parent", None) and cl.parent.classid) or q.handle) != parent:
                    continue
                out.append(class_line(dev, q, cl, o, not devname))


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


# --- actions ---------------------------------------------------------------------------------

CONTROLS = {"reclassify": TC_ACT_RECLASSIFY, "drop": TC_ACT_SHOT, "shot": TC_ACT_SHOT,
            "continue": TC_ACT_UNSPEC, "pass": TC_ACT_OK, "ok": TC_ACT_OK, "pipe": TC_ACT_PIPE,
            "trap": TC_ACT_TRAP}


def parse_control(args: list[str], i: int, allow_num: bool = False) -> tuple[int, int] | None:
    """parse_action_control: (verdict, next index) or None."""
    if i >= len(args):
        return None
    w = args[i]
    if w == "goto":
        if i + 2 < len(args) + 0 and i + 1 < len(args) and args[i + 1] == "chain" and i + 2 < len(args):
            v = get_u32(args[i + 2], 10)
            if v is None:
                return None
            return TC_ACT_GOTO_CHAIN | v, i + 3
        return None
    if w == "jump":
        if i + 1 < len(args):
            v = get_u32(args[i + 1], 10)
            if v is None:
                return None
            return TC_ACT_JUMP | v, i + 2
        return None
    if w in CONTROLS:
        return CONTROLS[w], i + 1
    if allow_num:
        try:
            v = int(w)
        except ValueError:
            return None
        if -1 <= v <= 8:
            return v, i + 1
    return None


def _a2n(w: str) -> int | None:
    if w in CONTROLS:
        return CONTROLS[w]
    try:
        v = int(w)
    except ValueError:
        return None
    return v if -1 <= v <= 8 else None


def _next_index(tbl: dict[int, Action]) -> int:
    i = 1
    while i in tbl:
        i += 1
    return i


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
        ctl = parse_control(args, i)
        if ctl is not None or kind == "gact":
            if kind == "gact":
                i += 1
            a, i = _parse_gact(now, args, i, table, bind)
        elif kind == "police":
            a, i = _parse_police(now, args, i + 1, table, bind)
        elif kind in ("mirred", "skbedit", "nat", "pedit", "csum", "vlan", "connmark", "sample", "simple",
                      "tunnel_key", "bpf", "ife", "ct", "ctinfo", "mpls", "gate", "xt", "ipt", "skbmod"):
            raise TcExit(2, "Error: Failed to load TC action module.\nWe have an error talking to the kernel\n")
        else:
            raise TcExit(255, f"Bad action type {kind}\n")
        acts.append(a)
    return acts, i


def _parse_cookie(args: list[str], i: int, a: Action) -> int:
    if i < len(args) and args[i] == "cookie":
        if i + 1 >= len(args):
            raise TcExit(255, 'Command line is not complete. Try option "help"\n')
        c = args[i + 1]
        if len(c) > 32:
            raise TcExit(255, f'Error: argument "{c}" is wrong: cookie cannot exceed 16 bytes\n')
        if len(c) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", c):
            raise TcExit(255, f'Error: argument "{c}" is wrong: cookie must be a hex string\n\n')
        a.cookie = c.lower()
        return i + 2
    return i


def _parse_gact(now: int, args: list[str], i: int, table: dict[str, dict[int, Action]],
                bind: bool) -> tuple[Action, int]:
    tbl = table.setdefault("gact", {})
    ctl = None
    if i < len(args) and args[i] != "index":
        r = parse_control(args, i)
        if r is None:
            raise TcExit(255, "Usage: ... gact <ACTION> [RAND] [INDEX]\n")
        ctl, i = r
    index = 0
    if i < len(args) and args[i] == "random":
        raise TcExit(2, "netplex: gact random is not supported\n")
    if i < len(args) and args[i] == "index":
        v = get_u32(args[i + 1], 10) if i + 1 < len(args) else None
        if v is None:
            raise TcExit(1, 'Illegal "index"\n')
        index = v
        i += 2
    if ctl is None:
        a = tbl.get(index)
        if a is None:
            raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")
        a.refcnt += 1
        if bind:
            a.bindcnt += 1
        return a, _parse_cookie(args, i, a)
    if index and index in tbl:
        a = tbl[index]
        if bind:
            a.refcnt += 1
            a.bindcnt += 1
            return a, _parse_cookie(args, i, a)
        raise TcExit(2, "RTNETLINK answers: File exists\nWe have an error talking to the kernel\n")
    a = Gact(index or _next_index(tbl), ctl)
    if bind:
        a.bindcnt = 1
    a.installed = now
    i = _parse_cookie(args, i, a)
    tbl[a.index] = a
    a.idr = tbl
    return a, i


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
                r1, r2 = _a2n(x), _a2n(y)
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
            ll = _linklayer(val or "")
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
    pol = Police(index or _next_index(tbl), rate=rate, burst_ticks=burst_ticks, mtu=mtu_eff, peakrate=prate,
                 control=control, result=result, overhead=overhead, linklayer=linklayer, avrate=avrate,
                 now=now)
    if bind:
        pol.bindcnt = 1
    i = _parse_cookie(args, i, pol)
    tbl[pol.index] = pol
    pol.idr = tbl
    return pol, i


def action_text(a: Action, order: int, o: Opts, bind: bool) -> str:
    s = f"\n\taction order {order}: "
    if isinstance(a, Gact):
        s += f"gact action {action_n2a(a.control)}\n"
        s += "\t random type none pass val 0\n"
        s += f"\t index {a.index} ref {a.refcnt} bind {a.bindcnt}"
        if o.stats:
            s += _tm(a)
        s += "\n"
    elif isinstance(a, Police):
        s += f" police 0x{a.index:x} rate {sprint_rate(a.rate)} burst {sprint_size(xmitsize(a.rate, a.burst_ticks))} "
        s += f"mtu {sprint_size(a.mtu)} "
        if a.peakrate:
            s += f"peakrate {sprint_rate(a.peakrate)} "
        if a.avrate:
            s += f"avrate {sprint_rate(a.avrate)} "
        s += f"action {action_n2a(a.control)}"
        s += f"/{action_n2a(a.result)} " if a.result is not None else " "
        s += f"overhead {sprint_size(a.overhead)} "
        if a.linklayer > 1 or o.details:
            s += f"linklayer {'atm' if a.linklayer == 2 else 'ethernet'} "
        s += f"\n\tref {a.refcnt} bind {a.bindcnt} "
        if o.stats:
            s += _tm(a)
        s += "\n"
    if o.stats:
        s += "\tAction statistics:\n"
        s += (f"\tSent {a.bytes} bytes {a.packets} pkt (dropped {a.drops}, overlimits {a.overlimits} "
              f"requeues 0) \n\tbacklog 0b 0p requeues 0\n")
    if a.cookie:
        s += f"\tcookie {a.cookie}\n"
    return s


def _tm(a: Action) -> str:
    return "\n\tinstalled 0 sec used 0 sec"


def tc_actions(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        raise TcExit(255, "Usage: tc actions <ACTSPECOP>*\n")
    cmd = _cmd(args[0])
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


# --- filters ---------------------------------------------------------------------------------

def tc_filter(ns: Any, args: list[str], o: Opts, out: list[str]) -> None:
    if not args:
        args = ["show"]
    cmd = _cmd(args[0])
    rest = args[1:]
    if args[0] == "dev":
        cmd, rest = "show", args
    if cmd in ("show", "list"):
        return filter_show(ns, rest, o, out, get=False)
    if cmd == "get":
        return filter_show(ns, rest, o, out, get=True)
    if cmd in ("add", "change", "replace", "delete"):
        return filter_modify(ns, rest, cmd)
    raise TcExit(255, f'Command "{args[0]}" is unknown, try "tc filter help".\n')


class FSpec:
    def __init__(self) -> None:
        self.dev = ""
        self.parent: int | None = None
        self.handle: str | None = None
        self.prio = 0
        self.protocol: int | None = None
        self.chain: int | None = None
        self.kind = ""
        self.opts: list[str] = []


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
    if f.kind and f.kind not in ("u32", "fw", "matchall"):
        if f.kind in ("flower", "basic", "bpf", "route", "cgroup", "flow", "tcindex", "rsvp"):
            raise TcExit(2, "Error: TC classifier not found.\nWe have an error talking to the kernel\n")
        raise TcExit(1, f'Unknown filter "{f.kind}", hence option "{f.opts[0] if f.opts else ""}" is unparsable\n')
    dev = _dev(ns, f.dev)
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
        return api.tc_del_tfilter(lst, tp, _parse_handle(tp.kind, f.handle))
    if not f.kind:
        raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")
    parse = FILTER_PARSERS[f.kind]
    api.tc_new_tfilter(dev, FILTER_FLAGS[cmd], f.parent, chain, f.prio, f.protocol, f.kind,
                       lambda tp: parse(ns, dev, f, tp))


FILTER_FLAGS = {"add": NLM_F_CREATE | NLM_F_EXCL, "change": 0, "replace": NLM_F_CREATE}   # tc_filter_modify's


def _bind_actions(ns: Any, rest: list[str] | None) -> list[Action]:
    if not rest:
        return []
    acts, _ = parse_actions(action_table(ns), ns.sched.now, rest, 0, bind=True)
    return acts


def _parse_handle(kind: str, s: str) -> int:
    if kind == "u32":
        h = get_u32_handle(s)
        if h is None:
            raise TcExit(1, "Illegal filter ID\n")
        return h
    v = get_u32(s.split("/")[0], 0)
    if v is None:
        raise TcExit(1, 'Illegal "handle"\n')
    return v


def get_u32_handle(s: str) -> int | None:
    """get_u32_handle: `800:` `800::801` `800:1:801` -> htid|hash|node."""
    if s.count(":") == 0:
        v = get_u32(s, 16)
        return v
    parts = s.split(":")
    if len(parts) > 3:
        return None
    try:
        htid = int(parts[0], 16) if parts[0] else 0
        hashv = int(parts[1], 16) if len(parts) > 1 and parts[1] else 0
        node = int(parts[2], 16) if len(parts) > 2 and parts[2] else 0
    except ValueError:
        return None
    if htid >= 0x1000 or hashv >= 0x100 or node >= 0x1000:
        return None
    return (htid << 20) | (hashv << 12) | node


def _classid_arg(s: str) -> int:
    c = get_tc_classid(s)
    if c is None:
        raise TcExit(1, 'Illegal "classid"\n')
    return c


def parse_fw(ns: Any, dev: Any, f: FSpec, tp: Any) -> api.TfilterChange:
    handle = mask = None
    if f.handle is not None:
        hs, _, ms = f.handle.partition("/")
        handle = get_u32(hs, 0)
        if handle is None:
            raise TcExit(1, 'Illegal "handle"\n')
        if ms:
            mask = get_u32(ms, 0)
            if mask is None:
                raise TcExit(1, 'Illegal "handle" mask\n')
    classid = None
    indev = ""
    i = 0
    opts = f.opts
    acts_state: list[str] | None = None
    while i < len(opts):
        a = opts[i]
        if matches(a, "classid") or a == "flowid":
            if i + 1 >= len(opts):
                raise TcExit(255, 'Command line is not complete. Try option "help"\n')
            classid = _classid_arg(opts[i + 1])
            i += 2
        elif a in ("action", "actions", "police"):
            rest = opts[i:] if a != "police" else ["action"] + opts[i:]
            j = _check_actions_len(ns, rest)
            acts_state = rest[:j]
            i += j - (1 if a == "police" else 0)
        elif a == "indev":
            indev = opts[i + 1] if i + 1 < len(opts) else ""
            i += 2
        elif a == "help":
            raise TcExit(255, "Usage: ... fw [ classid CLASSID ] [ indev DEV ] [ action ACTION_SPEC ]\n")
        else:
            raise TcExit(1, f'What is "{a}"?\nUsage: ... fw [ classid CLASSID ] [ indev DEV ] [ action ACTION_SPEC ]\n')
    if not opts and handle:
        # fw_change without options: only a handle-less "fw" may stand alone
        raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")
    if handle is None:
        raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")

    def apply(tp: FwProto, nl_flags: int) -> None:
        if handle in tp.filters and nl_flags & NLM_F_EXCL:
            raise TcError(EEXIST)
        if handle not in tp.filters and not nl_flags & NLM_F_CREATE:
            raise TcError(ENOENT, "Specified filter handle not found")
        if mask is not None and tp.filters and mask != tp.mask:
            raise TcError(EINVAL)
        acts = _bind_actions(ns, acts_state)
        old = tp.filters.get(handle)
        if old is not None:
            tcf_action_release(old.actions)
        el = FwFilter(handle, mask if mask is not None else 0xFFFFFFFF)
        el.classid = classid
        el.indev = indev
        el.actions = acts
        el.has_mask = mask is not None  # type: ignore[attr-defined]
        if mask is not None:
            tp.mask = mask
        tp.filters[handle] = el
    return apply


def parse_matchall(ns: Any, dev: Any, f: FSpec, tp: Any) -> api.TfilterChange:
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
            classid = _classid_arg(opts[i + 1])
            i += 2
        elif a == "skip_hw":
            flags |= TCA_CLS_FLAGS_SKIP_HW
            i += 1
        elif a == "skip_sw":
            flags |= TCA_CLS_FLAGS_SKIP_SW
            i += 1
        elif a in ("action", "actions"):
            j = _check_actions_len(ns, opts[i:])
            acts_at = (i, i + j)
            i += j
        else:
            raise TcExit(1, f'What is "{a}"?\nUsage: ... matchall [skip_sw | skip_hw]\n'
                         "                 [ action ACTION_SPEC ] [ classid CLASSID ]\n")
    rest = opts[acts_at[0]:acts_at[1]] if acts_at is not None else None

    def apply(tp: MatchallProto, nl_flags: int) -> None:
        if tp.f is not None and nl_flags & NLM_F_EXCL:
            raise TcError(EEXIST)
        el = Filter(handle or 1)
        el.classid = classid
        el.flags = flags | (0 if flags & TCA_CLS_FLAGS_SKIP_SW else TCA_CLS_FLAGS_NOT_IN_HW)
        el.actions = _bind_actions(ns, rest)
        if tp.f is not None:
            tcf_action_release(tp.f.actions)
        tp.f = el
    return apply


# u32 selectors: (offset, size) of the named fields in the IPv4 header
_U32_IP = {"src": (12, 32), "dst": (16, 32), "tos": (1, 8), "dsfield": (1, 8), "precedence": (1, 8),
           "protocol": (9, 8), "ihl": (0, 8), "sport": (20, 16), "dport": (22, 16), "icmp_type": (20, 8),
           "icmp_code": (21, 8), "nofrag": (6, 16), "firstfrag": (6, 16), "df": (6, 16), "mf": (6, 16)}


def _pack_key(keys: list[U32Key], off: int, size: int, val: int, mask: int, offmask: int = 0) -> None:
    """pack_key8/16/32: place an 8/16/32-bit value into the 32-bit word at off & ~3."""
    word_off = off & ~3
    shift = (4 - (off & 3) - size // 8) * 8
    v = (val & ((1 << size) - 1)) << shift
    m = (mask & ((1 << size) - 1)) << shift
    for k in keys:
        if k.off == word_off and k.offmask == offmask:
            if (k.val ^ v) & k.mask & m:
                raise TcExit(1, "Illegal \"match\"\n")
            k.val |= v
            k.mask |= m
            return
    keys.append(U32Key(v, m, word_off, offmask))


def _num(s: str) -> int | None:
    try:
        return int(s, 0)
    except ValueError:
        return None


def _hex(s: str) -> int | None:
    """get_u32(.., 16): masks are hexadecimal, with or without 0x."""
    try:
        v = int(s, 16)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 32 else None


def parse_selector(opts: list[str], i: int, keys: list[U32Key]) -> int:
    if i >= len(opts):
        raise TcExit(1, 'Illegal "match"\n')
    kind = opts[i]
    i += 1
    if kind in ("u32", "u16", "u8"):
        size = int(kind[1:])
        if i + 1 >= len(opts):
            raise TcExit(1, 'Illegal "match"\n')
        v, m = _num(opts[i]), _hex(opts[i + 1])
        if v is None or m is None:
            raise TcExit(1, 'Illegal "match"\n')
        i += 2
        off = 0
        offmask = 0
        if i < len(opts) and opts[i] == "at":
            w = opts[i + 1] if i + 1 < len(opts) else ""
            if w.startswith("nexthdr+"):
                w = w[len("nexthdr+"):]
                offmask = -1
            o = _num(w)
            if o is None:
                raise TcExit(1, 'Illegal "match"\n')
            off = o
            i += 2
        if size != 8 and off % (size // 8):
            raise TcExit(1, 'Illegal "match"\n')
        _pack_key(keys, off, size, v, m, offmask)
        return i
    if kind == "ip":
        field = opts[i] if i < len(opts) else ""
        i += 1
        if field in ("src", "dst"):
            addr = opts[i] if i < len(opts) else ""
            i += 1
            a, _, plen = addr.partition("/")
            try:
                parts = [int(x) for x in a.split(".")]
                if len(parts) != 4 or any(p > 255 for p in parts):
                    raise ValueError
                pl = int(plen) if plen else 32
                if not 0 <= pl <= 32:
                    raise ValueError
            except ValueError:
                raise TcExit(1, 'Illegal "match"\n') from None
            val = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
            mask = (0xFFFFFFFF << (32 - pl)) & 0xFFFFFFFF if pl else 0
            keys.append(U32Key(val, mask, 12 if field == "src" else 16))
            return i
        if field in _U32_IP:
            off, size = _U32_IP[field]
            if field in ("nofrag", "firstfrag", "df", "mf"):
                val, mask = {"nofrag": (0, 0x3FFF), "firstfrag": (0x2000, 0x3FFF), "df": (0x4000, 0x4000),
                             "mf": (0x2000, 0x2000)}[field]
                _pack_key(keys, off, 16, val, mask)
                return i
            if i + 1 >= len(opts):
                raise TcExit(1, 'Illegal "match"\n')
            v, m = _num(opts[i]), _hex(opts[i + 1])
            if v is None or m is None:
                raise TcExit(1, 'Illegal "match"\n')
            _pack_key(keys, off, size, v, m)
            return i + 2
        raise TcExit(1, 'Illegal "match"\n')
    if kind in ("tcp", "udp"):
        field = opts[i] if i < len(opts) else ""
        if field not in ("src", "dst") or i + 2 >= len(opts):
            raise TcExit(1, 'Illegal "match"\n')
        v, m = _num(opts[i + 1]), _hex(opts[i + 2])
        if v is None or m is None:
            raise TcExit(1, 'Illegal "match"\n')
        _pack_key(keys, 0 if field == "src" else 2, 16, v, m, -1)
        return i + 3
    if kind == "icmp":
        field = opts[i] if i < len(opts) else ""
        v, m = _num(opts[i + 1]) if i + 1 < len(opts) else None, _hex(opts[i + 2]) if i + 2 < len(opts) else None
        if field not in ("type", "code") or v is None or m is None:
            raise TcExit(1, 'Illegal "match"\n')
        _pack_key(keys, 0 if field == "type" else 1, 8, v, m, -1)
        return i + 3
    raise TcExit(1, 'Illegal "match"\n')


def parse_u32(ns: Any, dev: Any, f: FSpec, tp: Any) -> api.TfilterChange:
    handle = None
    if f.handle is not None:
        handle = get_u32_handle(f.handle)
        if handle is None:
            raise TcExit(1, "Illegal filter ID\n")
    keys: list[U32Key] = []
    classid = None
    terminal = False
    divisor = None
    link = None
    ht: int | None = None
    htid = 0
    sample = False
    hmask = hoff = 0
    indev = ""
    opts = f.opts
    acts_rest = None
    i = 0
    while i < len(opts):
        a = opts[i]
        if matches(a, "match"):
            i = parse_selector(opts, i + 1, keys)
            continue
        if matches(a, "classid") or a == "flowid":
            if i + 1 >= len(opts) or get_tc_classid(opts[i + 1]) is None:
                raise TcExit(1, 'Illegal "classid"\n')
            classid = get_tc_classid(opts[i + 1])
            terminal = True
            i += 2
        elif matches(a, "divisor"):
            d = get_u32(opts[i + 1], 0) if i + 1 < len(opts) else None
            if d is None or d == 0 or d > 0x100 or (d - 1) & d:
                raise TcExit(1, 'Illegal "divisor"\n')
            divisor = d
            i += 2
        elif matches(a, "order"):
            i += 2
        elif a == "link":
            lk = get_u32_handle(opts[i + 1]) if i + 1 < len(opts) else None
            if lk is None:
                raise TcExit(1, 'Illegal "link"\n')
            if lk & 0xFFF:
                raise TcExit(1, '"link" must be a hash table.\n')
            link = lk
            i += 2
        elif a == "ht":
            h = get_u32_handle(opts[i + 1]) if i + 1 < len(opts) else None
            if h is None:
                raise TcExit(1, 'Illegal "ht"\n')
            if handle is not None and h & 0xFFF:
                raise TcExit(1, '"ht" must be a hash table.\n')
            htid = (htid & 0xFF000) | (h & 0xFFF00000) if sample else (h & 0xFFFFF000)
            ht = htid
            i += 2
        elif a == "sample":
            sk: list[U32Key] = []
            i = parse_selector(opts, i + 1, sk)
            if len(sk) != 1:
                raise TcExit(1, '"sample" must contain exactly ONE key.\n')
            d = 0x100
            if i < len(opts) and opts[i] == "divisor":
                d = get_u32(opts[i + 1], 0) or 0
                i += 2
            k = sk[0]
            fshift = ((k.mask & -k.mask).bit_length() - 1) if k.mask else 0
            hval = (k.val & k.mask) >> fshift
            htid = ((hval % d) << 12) | (htid & 0xFFF00000)
            ht = htid
            sample = True
        elif a == "hashkey":
            # hashkey mask M at OFF
            if i + 4 < len(opts) + 1 and opts[i + 1] == "mask":
                hm = _num(opts[i + 2]) if i + 2 < len(opts) else None
                if hm is None or i + 4 >= len(opts) + 0 and (i + 4 > len(opts)):
                    raise TcExit(1, 'Illegal "hashkey"\n')
                hmask = hm
                if i + 3 < len(opts) and opts[i + 3] == "at":
                    hoff = _num(opts[i + 4]) or 0
                    i += 5
                else:
                    i += 3
            else:
                raise TcExit(1, 'Illegal "hashkey"\n')
        elif a == "indev":
            if i + 1 >= len(opts):
                raise TcExit(1, "Illegal indev\n")
            indev = opts[i + 1]
            i += 2
        elif a in ("action", "actions", "police"):
            rest = opts[i:]
            police = rest[0] == "police"
            if police:
                rest = ["action"] + rest
            j = _check_actions_len(ns, rest)
            acts_rest = rest[:j]
            i += j - (1 if police else 0)
            if i < len(opts) and (matches(opts[i], "classid") or opts[i] == "flowid"):
                continue
            if i < len(opts):
                raise TcExit(1, f'What is "{opts[i]}"?\n')
            break
        elif a == "skip_hw" or a == "skip_sw":
            i += 1
        elif a == "help":
            raise TcExit(1, "Usage: ... u32 [ match SELECTOR ... ] [ link HTID ] [ classid CLASSID ]\n")
        else:
            raise TcExit(1, f'What is "{a}"?\nUsage: ... u32 [ match SELECTOR ... ] [ link HTID ] [ classid CLASSID ]\n'
                         "               [ action ACTION_SPEC ] [ offset OFFSET_SPEC ]\n"
                         "               [ ht HTID ] [ hashkey HASHKEY_SPEC ]\n"
                         "               [ sample SAMPLE ] [skip_hw | skip_sw]\n"
                         "or         u32 divisor DIVISOR\n\n"
                         "Where: SELECTOR := SAMPLE SAMPLE ...\n"
                         "       SAMPLE := { ip | ip6 | udp | tcp | icmp | u{32|16|8} | mark }\n"
                         "                 SAMPLE_ARGS [ divisor DIVISOR ]\n"
                         "       FILTERID := X:Y:Z\n\n"
                         "NOTE: CLASSID is parsed at hexadecimal input.\n")
    if indev and indev not in ns.devices:
        raise TcExit(2, "Error: Specified device name not found.\n")

    def apply(tp: U32Proto, nl_flags: int) -> None:
        if divisor is not None:
            # a hash table
            h = handle if handle is not None else 0
            if h & 0xFFFFF:
                raise TcError(EINVAL, "Divisor can only be used on a hash table")
            if h and h in tp.shared:
                if not nl_flags & NLM_F_EXCL:
                    raise TcError(EINVAL, "u32 Link handle must be a hash table")
                raise TcError(EEXIST, "Hash table already exists")
            if not h:
                h = tp.gen_new_htid()
            tp.add_ht(U32Ht(h, divisor))
            return
        target_ht = ht if ht is not None else (handle & 0xFFF00000 if handle else tp.root.handle)
        if target_ht == 0:
            target_ht = tp.root.handle
        tbl = tp.shared.get(target_ht & 0xFFF00000)
        if tbl is None:
            raise TcError(EINVAL, "Specified hash table not found")
        bkt = (target_ht >> 12) & 0xFF
        if bkt >= tbl.divisor:
            raise TcError(EINVAL, "Invalid argument")
        if link is not None and link and (link & 0xFFF00000) not in tp.shared:
            raise TcError(EINVAL, "Link hash table not found")
        if handle is not None and handle & 0xFFF:
            if handle & 0xFFF00000 and handle & 0xFFF00000 != tbl.handle:
                raise TcError(EINVAL, "Handle specified hash table address mismatch")
            existing = tp.get(tbl.handle | (bkt << 12) | (handle & 0xFFF))
            if existing is not None:
                if nl_flags & NLM_F_EXCL:
                    raise TcError(EINVAL, "Key node flags do not match passed flags")
                tp.delete(existing)
            node_id = handle & 0xFFF
        else:
            if not nl_flags & NLM_F_CREATE:
                raise TcError(ENOENT, "Specified filter handle not found")
            ids = [n.handle & 0xFFF for b in tbl.buckets for n in b
                   if (n.handle >> 12) & 0xFF == bkt]
            node_id = (max(ids) + 1) if ids else 0x800
        n = U32Knode(tbl.handle | (bkt << 12) | node_id)
        n.keys = keys
        n.classid = classid
        n.terminal = terminal
        n.link = link or 0
        n.hmask = hmask
        n.hoff = hoff
        n.indev = indev
        n.flags = TCA_CLS_FLAGS_NOT_IN_HW
        n.actions = _bind_actions(ns, acts_rest)
        lst = tbl.buckets[bkt]
        lst.append(n)
        lst.sort(key=lambda x: x.handle & 0xFFF)
        tbl.gen += 1
    return apply


def _check_actions_len(ns: Any, rest: list[str]) -> int:
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


FILTER_PARSERS: dict[str, Callable[..., api.TfilterChange]] = {
    "u32": parse_u32, "fw": parse_fw, "matchall": parse_matchall,
}


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
    if isinstance(tp, U32Proto):
        s += _u32_opts(el, o)
    elif isinstance(tp, FwProto):
        if el.handle or getattr(el, "has_mask", False):
            if getattr(el, "has_mask", False) and el.mask != 0xFFFFFFFF:
                s += f"handle 0x{el.handle:x}/0x{el.mask:x} "
            else:
                s += f"handle 0x{el.handle:x} "
        if el.classid is not None:
            s += f"classid {sprint_classid(el.classid)} "
        if el.indev:
            s += f"input dev {el.indev} "
        if el.actions:
            s += "\n" + "".join(action_text(a, n + 1, o, True) for n, a in enumerate(el.actions))
        else:
            s += "\n"
        return s
    elif isinstance(tp, MatchallProto):
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
    return s


def _u32_opts(el: Any, o: Opts) -> str:
    if isinstance(el, U32Ht):
        return f"fh {_u32_handle_str(el.handle)} ht divisor {el.divisor} \n"
    h = el.handle
    s = f"fh {_u32_handle_str(h)} order {h & 0xFFF} "
    s += f"key ht {(h >> 20):x} bkt {(h >> 12) & 0xFF:x} "
    if el.classid is not None:
        s += ("*" if el.terminal else "") + f"flowid {sprint_classid(el.classid)} "
    elif el.terminal:
        s += "terminal flowid "
    if el.link:
        s += f"link {_u32_handle_str(el.link)} "
    s += "not_in_hw "
    if o.stats:
        s += f"(rule hit {el.hits} success {el.hits})"
    for k in el.keys:
        s += f"\n  match {k.val:08x}/{k.mask:08x} at {'nexthdr+' if k.offmask else ''}{k.off}"
    if el.hmask:
        s += f"\n    hash mask {el.hmask:08x} at {el.hoff} "
    if el.indev:
        s += f"\n  input dev {el.indev}\n"
    s += "".join(action_text(a, n + 1, o, True) for n, a in enumerate(el.actions))
    return s + "\n"


def _u32_handle_str(h: int) -> str:
    htid, hashv, node = h >> 20, (h >> 12) & 0xFF, h & 0xFFF
    if node:
        return f"{htid:x}:{hashv:x}:{node:x}" if hashv else f"{htid:x}::{node:x}"
    if hashv:
        return f"{htid:x}:{hashv:x}:"
    return f"{htid:x}:"


def filter_show(ns: Any, args: list[str], o: Opts, out: list[str], get: bool) -> None:
    f = _filter_args(args)
    if f.kind and f.kind not in ("u32", "fw", "matchall"):
        if f.kind in ("handle",):
            pass
    dev = _dev(ns, f.dev) if f.dev else None
    devs = [dev] if dev is not None else [ns.by_index[k] for k in sorted(ns.by_index)]
    if get:
        if dev is None:
            raise TcExit(1, "Must specify netdevice \"dev\"\n")
        if f.handle is None:
            raise TcExit(1, "")
        owner, _, tp = api.tcf_proto_lookup(dev, f.parent, f.chain or 0, f.prio, f.protocol, f.kind)
        el = tp.get(_parse_handle(tp.kind, f.handle))
        if el is None:
            raise TcError(ENOENT, "Specified filter handle not found")
        parent = f.parent if f.parent is not None else (owner.handle if f.parent is None else 0)
        out.append(filter_lines(dev, owner, parent, tp, el, o, None, False, False))
        return
    for d in devs:
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
                out.append(filter_lines(d, owner, shown_parent, tp, None, o, _shown(f), dev is None, True))
                for el in tp.elements():
                    out.append(filter_lines(d, owner, shown_parent, tp, el, o, _shown(f), dev is None, False))


def _shown(f: FSpec) -> FSpec:
    """The filter attributes `tc filter show` leaves out because the user gave them."""
    return f
