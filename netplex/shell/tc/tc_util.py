"""What every part of `tc` shares (iproute2 tc/tc_util.c, tc_core.c, lib/utils.c).

tc's units (`kbps` is kilobytes per second, sizes in binary multiples, a bare time in
microseconds) parsed and printed with tc's own arithmetic; handles, class ids and
protocols; action controls (parse_action_control); tc's errors: its own parse errors
exit 1 (or 255 where tc calls exit(-1): invarg, duparg), the kernel's refusals exit 2;
and the types of the per-kind tables (struct qdisc_util, filter_util, action_util).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netplex.errors import NetplexError
from netplex.stack.qdisc import TC_H_ROOT
from netplex.stack.qdisc.act import (
    TC_ACT_GOTO_CHAIN,
    TC_ACT_JUMP,
    TC_ACT_OK,
    TC_ACT_PIPE,
    TC_ACT_RECLASSIFY,
    TC_ACT_SHOT,
    TC_ACT_TRAP,
    TC_ACT_UNSPEC,
    Action,
)
from netplex.units import sprint_size


class TcExit(NetplexError):
    """Stop with tc's status and message."""

    def __init__(self, status: int, msg: str = "") -> None:
        super().__init__(msg, status=status)
        self.msg = msg


def invarg(msg: str, arg: str) -> TcExit:
    return TcExit(255, f'Error: argument "{arg}" is wrong: {msg}\n')


def duparg(key: str, arg: str) -> TcExit:
    return TcExit(255, f'Error: duplicate "{key}": "{arg}" is the second value.\n')


def matches(word: str, key: str) -> bool:
    """iproute2's matches(): `word` is a non-empty prefix of `key`."""
    return bool(word) and key.startswith(word)

# --- units: tc's parsers and printers are netplex.units' ----------------------------------


def get_u32(s: str, base: int = 0) -> int | None:
    try:
        v = int(s, base)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 32 else None


def fmt_g(x: float) -> str:
    return f"{x:g}"


def get_qdisc_handle(s: str) -> int | None:
    """get_qdisc_handle: `1:` or `1` -> 0x10000; `none` -> 0. As tc's, it reads the major
    and ignores whatever follows the colon (`5:0`, Mininet's, is 5:)."""
    if s == "none":
        return 0
    m = re.fullmatch(r"([0-9a-fA-F]+)(?::.*)?", s, re.DOTALL)
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


def find_dev(ns: Any, name: str) -> Any:
    d = ns.devices.get(name)
    if d is None:
        raise TcExit(1, f'Cannot find device "{name}"\n')
    return d


def cmd_word(word: str) -> str:
    for c in ("add", "change", "replace", "link", "delete", "show", "list", "get", "flush"):
        if matches(word, c):
            return c
    if word == "del":
        return "delete"
    if word in ("ls", "lst"):
        return "list"
    return ""


def psched_adjust(nbytes: int, mpu: int, linklayer: int, overhead: int) -> int:
    n = nbytes + overhead
    if n < mpu:
        n = mpu
    if linklayer == 2:
        n = -(-n // 48) * 53
    return n


def get_linklayer(v: str) -> int | None:
    if matches(v, "ethernet"):
        return 1
    if matches(v, "atm") or matches(v, "adsl"):
        return 2
    return None

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


def action_a2n(w: str) -> int | None:
    if w in CONTROLS:
        return CONTROLS[w]
    try:
        v = int(w)
    except ValueError:
        return None
    return v if -1 <= v <= 8 else None


INCOMPLETE = 'Command line is not complete. Try option "help"\n'


def next_index(tbl: dict[int, Action]) -> int:
    i = 1
    while i in tbl:
        i += 1
    return i


def next_arg(args: list[str], i: int) -> str:
    """NEXT_ARG() (iproute2 utils.h): the option's value, or incomplete_command()'s exit 255."""
    if i >= len(args):
        raise TcExit(255, 'Command line is not complete. Try option "help"\n')
    return args[i]


def parse_cookie(args: list[str], i: int, a: Action) -> int:
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


def classid_arg(s: str) -> int:
    c = get_tc_classid(s)
    if c is None:
        raise TcExit(1, 'Illegal "classid"\n')
    return c



class Opts:
    """tc's global options: -s (repeatable), -d, -r, -j, -p."""

    def __init__(self) -> None:
        self.stats = 0
        self.details = False
        self.raw = False
        self.json = False     # -j: iproute2's JSON (qdisc and filter show)
        self.pretty = False   # -p with -j: indented


class FSpec:
    """What `tc filter ...` names before the filter kind: dev, parent, handle, prio, protocol, chain."""

    def __init__(self) -> None:
        self.dev = ""
        self.parent: int | None = None
        self.handle: str | None = None
        self.prio = 0
        self.protocol: int | None = None
        self.chain: int | None = None
        self.kind = ""
        self.opts: list[str] = []


@dataclass(frozen=True)
class QdiscUtil:
    """struct qdisc_util (tc/tc_util.h): one qdisc kind's option parsers and printers."""

    id: str
    parse_qopt: Callable[[list[str]], Any] | None = None      # words after KIND -> typed options
    print_qopt: Callable[[Any, Opts], str] | None = None      # the qdisc's options in `tc qdisc show`
    parse_copt: Callable[[list[str]], Any] | None = None      # `tc class` options -> typed options
    print_copt: Callable[[Any, Opts], str] | None = None      # a class's options in `tc class show`
    print_xstats: Callable[[Any, Opts], str] | None = None    # a class's extra statistics (-s)
    walk_classes: Callable[[Any], list[Any]] | None = None    # the kernel's dump order of the classes
    classless: bool = False                                   # `tc class ... KIND` says so
    json_qopt: Callable[[Any, Opts], Any] | None = None       # the qdisc's "options" object under -j


@dataclass(frozen=True)
class FilterUtil:
    """struct filter_util: a classifier's option parser (-> tcf_proto_ops.change) and printer."""

    id: str
    parse_fopt: Callable[[Any, Any, FSpec, Any], Any]         # (ns, dev, spec, tp) -> FwOpts, U32Opts, ...
    print_fopt: Callable[[Any, Opts], str]                    # one element's line(s) after the header
    parse_handle: Callable[[str], int]                        # `handle H` of `tc filter del/get`
    json_fopt: Callable[[Any, Opts], Any] | None = None       # one element's "options" under -j


@dataclass(frozen=True)
class ActionUtil:
    """struct action_util: an action's parser and printer."""

    id: str
    parse_aopt: Callable[..., tuple[Action, int]]             # (now, args, i, table, bind)
    print_aopt: Callable[[Any, Opts], str]                    # (the action, options) -> its text


def fmt_stats(bytes_: int, packets: int, drops: int, overlimits: int, requeues: int, backlog: int,
              qlen: int) -> str:
    """print_tcstats: the two statistics lines `-s` adds."""
    return (f" Sent {bytes_} bytes {packets} pkt (dropped {drops}, overlimits {overlimits} requeues {requeues}) \n"
            f" backlog {sprint_size(backlog)} {qlen}p requeues {requeues}\n")


def filter_handle(s: str) -> int:
    """A filter handle as fw and matchall take it (a number, an optional /mask ignored)."""
    v = get_u32(s.split("/")[0], 0)
    if v is None:
        raise TcExit(1, 'Illegal "handle"\n')
    return v


def tm(a: Action) -> str:
    """print_tm: the installed/used times (-s); netplex shows 0 as a fresh kernel does."""
    return "\n\tinstalled 0 sec used 0 sec"


def print_linklayer(linklayer: int, o: Opts) -> str:
    return f"linklayer {'atm' if linklayer == 2 else 'ethernet'} " if linklayer > 1 or o.details else ""
