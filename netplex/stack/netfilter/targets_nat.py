"""The NAT and conntrack targets: SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP, CT, NOTRACK.

Parsers and saved text follow iptables 1.8.9's libxt_NAT.c, libxt_MASQUERADE.c,
libxt_REDIRECT.c, libxt_NETMAP.c and libxt_CT.c (iptables-save prints
`--to-source 1.2.3.4:100-200 --random --persistent`; `-L` prints
`to:1.2.3.4:100-200 random persistent`). The kernel side is
nf_nat_setup_info (nat.py) for the NAT targets and a conntrack template
(conntrack.CtTemplate) for CT / NOTRACK, which run in the raw table before
conntrack looks at the packet.
"""
from __future__ import annotations

from typing import Any, ClassVar

from netplex.stack.netfilter.conntrack import CtTemplate
from netplex.stack.netfilter.core import (NF_ACCEPT, NF_DROP, XT_CONTINUE, Opt, OptSpec, PacketCtx,
                                          RuleInfo, Target, XtError, register_target)
from netplex.stack.netfilter.nat import (MANIP_DST, MANIP_SRC, NF_NAT_RANGE_MAP_IPS,
                                         NF_NAT_RANGE_NETMAP, NF_NAT_RANGE_PERSISTENT,
                                         NF_NAT_RANGE_PROTO_OFFSET, NF_NAT_RANGE_PROTO_RANDOM,
                                         NF_NAT_RANGE_PROTO_RANDOM_FULLY, NF_NAT_RANGE_PROTO_SPECIFIED,
                                         NatRange, masquerade_source, nf_nat_setup_info)

PORT_PROTOS = (6, 17, 132, 33, 1, 136)   # -p values libxt_NAT accepts a port specification with
_NEED_PROTO = "Need TCP, UDP, SCTP or DCCP with port specification"


def _ip(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def _parse_ip(s: str) -> int:
    parts = s.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        raise XtError(f'Bad IP address "{s}"')
    return (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])


def _parse_port(s: str) -> int:
    if not s.isdigit() or not 0 <= int(s) <= 65535:
        raise XtError(f"Port `{s}' not valid")
    return int(s)


def _parse_ports(text: str) -> tuple[int, int, int]:
    """`P`, `P-Q` or `P-Q/B` (B: the base of an offset mapping) → (min, max, base or -1)."""
    base = -1
    if "/" in text:
        text, b = text.split("/", 1)
        base = _parse_port(b)
    lo, dash, hi = text.partition("-")
    pmin = _parse_port(lo)
    pmax = _parse_port(hi) if dash else pmin
    if dash and pmax < pmin:
        raise XtError(f"Port range `{hi}' funky")
    return pmin, pmax, base


def _check_proto(rule: RuleInfo) -> None:
    if rule.proto not in PORT_PROTOS or rule.proto_invert:
        raise XtError(_NEED_PROTO)


class _Range:
    """A parsed `[addr[-addr]][:port[-port][/base]]` (libxt_NAT parse_to)."""

    __slots__ = ("flags", "amin", "amax", "pmin", "pmax", "base")

    def __init__(self) -> None:
        self.flags = 0
        self.amin = self.amax = 0
        self.pmin = self.pmax = 0
        self.base = -1

    @classmethod
    def parse(cls, text: str, rule: RuleInfo, portok: bool = True) -> _Range:
        r = cls()
        addr, colon, ports = text.partition(":")
        if colon:
            _check_proto(rule)
            r.pmin, r.pmax, r.base = _parse_ports(ports)
            r.flags |= NF_NAT_RANGE_PROTO_SPECIFIED
            if r.base >= 0:
                r.flags |= NF_NAT_RANGE_PROTO_OFFSET
        if addr:
            lo, dash, hi = addr.partition("-")
            r.amin = _parse_ip(lo)
            r.amax = _parse_ip(hi) if dash else r.amin
            r.flags |= NF_NAT_RANGE_MAP_IPS
        return r

    def text(self) -> str:
        s = ""
        if self.flags & NF_NAT_RANGE_MAP_IPS:
            s = _ip(self.amin) + (f"-{_ip(self.amax)}" if self.amax != self.amin else "")
        if self.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            s += f":{self.pmin}" + (f"-{self.pmax}" if self.pmax != self.pmin else "")
            if self.base >= 0:
                s += f"/{self.base}"
        return s

    def nat_range(self, extra: int) -> NatRange:
        lo, hi = sorted((self.amin, self.amax))
        return NatRange(self.flags | extra, lo, hi, self.pmin, self.pmax)


def _once(opts: list[Opt], target: str) -> None:
    seen: set[str] = set()
    for o in opts:
        if o.name in seen and o.name.startswith("to"):
            raise XtError(f'{target}: option "--{o.name}" can only be used once.\n')
        seen.add(o.name)


def _flag_text(flags: int, save: bool) -> str:
    out = []
    if flags & NF_NAT_RANGE_PROTO_RANDOM:
        out.append("--random" if save else "random")
    if flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY:
        out.append("--random-fully" if save else "random-fully")
    if flags & NF_NAT_RANGE_PERSISTENT:
        out.append("--persistent" if save else "persistent")
    return " ".join(out)


def _flags(opts: list[Opt]) -> int:
    f = 0
    for o in opts:
        if o.name == "random":
            f |= NF_NAT_RANGE_PROTO_RANDOM
        elif o.name == "random-fully":
            f |= NF_NAT_RANGE_PROTO_RANDOM_FULLY
        elif o.name == "persistent":
            f |= NF_NAT_RANGE_PERSISTENT
    return f


class _NatTarget(Target):
    """SNAT / DNAT: one range, flags."""

    tables: ClassVar[tuple[str, ...] | None] = ("nat",)
    opt_name: ClassVar[str] = ""
    manip: ClassVar[int] = MANIP_SRC
    __slots__ = ("range", "flags")

    def __init__(self, rng: _Range, flags: int) -> None:
        self.range = rng
        self.flags = flags

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        _once(opts, cls.name)
        rng = None
        for o in opts:
            if o.name == cls.opt_name:
                rng = _Range.parse(o.arg, rule)
        if rng is None:
            raise XtError(f'{cls.name}: option "--{cls.opt_name}" must be specified\n')
        return cls(rng, _flags(opts))

    def save(self) -> str:
        s = f"--{self.opt_name} {self.range.text()}"
        f = _flag_text(self.flags, True)
        return s + (" " + f if f else "")

    def describe(self, numeric: bool) -> str:
        s = f"to:{self.range.text()}"
        f = _flag_text(self.flags, False)
        return s + (" " + f if f else "")

    def target(self, ctx: PacketCtx) -> int:
        ct = ctx.meta.ct
        if ct is None or not hasattr(ct, "tuple_reply"):
            return NF_ACCEPT
        return nf_nat_setup_info(ct, self.range.nat_range(self.flags), self.manip)


class SnatTarget(_NatTarget):
    name = "SNAT"
    opt_name = "to-source"
    manip = MANIP_SRC
    hooks = frozenset(("POSTROUTING", "INPUT"))
    options = (OptSpec("to-source"), OptSpec("random", 0), OptSpec("random-fully", 0),
               OptSpec("persistent", 0))
    __slots__ = ()


class DnatTarget(_NatTarget):
    name = "DNAT"
    opt_name = "to-destination"
    manip = MANIP_DST
    hooks = frozenset(("PREROUTING", "OUTPUT"))
    options = (OptSpec("to-destination"), OptSpec("random", 0), OptSpec("persistent", 0))
    __slots__ = ()


class MasqueradeTarget(Target):
    """MASQUERADE: SNAT to the outgoing device's address (nf_nat_masquerade_ipv4)."""

    name = "MASQUERADE"
    tables = ("nat",)
    hooks = frozenset(("POSTROUTING",))
    options = (OptSpec("to-ports"), OptSpec("random", 0), OptSpec("random-fully", 0))
    __slots__ = ("pmin", "pmax", "flags")

    def __init__(self, pmin: int, pmax: int, flags: int) -> None:
        self.pmin, self.pmax, self.flags = pmin, pmax, flags

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        pmin = pmax = -1
        flags = _flags(opts)
        for o in opts:
            if o.name == "to-ports":
                _check_proto(rule)
                pmin, pmax, _ = _parse_ports(o.arg)
                flags |= NF_NAT_RANGE_PROTO_SPECIFIED
        return cls(pmin, pmax, flags)

    def _ports(self) -> str:
        return f"{self.pmin}" + (f"-{self.pmax}" if self.pmax != self.pmin else "")

    def save(self) -> str:
        out = []
        if self.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            out.append(f"--to-ports {self._ports()}")
        f = _flag_text(self.flags, True)
        if f:
            out.append(f)
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = []
        if self.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            out.append(f"masq ports: {self._ports()}")
        f = _flag_text(self.flags, False)
        if f:
            out.append(f)
        return " ".join(out)

    def target(self, ctx: PacketCtx) -> int:
        ct = ctx.meta.ct
        if ct is None or not hasattr(ct, "tuple_reply"):
            return NF_ACCEPT
        if ct.tuple_orig[0] == 0:
            return NF_ACCEPT
        out = ctx.out_dev
        newsrc = masquerade_source(ctx.ns, out, ctx.ip.dst) if out is not None else None
        if newsrc is None:
            return NF_DROP          # "%s ate my IP address"
        ct.nat_masq_index = out.ifindex
        rng = NatRange(self.flags | NF_NAT_RANGE_MAP_IPS, newsrc, newsrc, max(self.pmin, 0),
                       max(self.pmax, 0))
        return nf_nat_setup_info(ct, rng, MANIP_SRC)


class RedirectTarget(Target):
    """REDIRECT: DNAT to the incoming device's primary address (127.0.0.1 for OUTPUT)."""

    name = "REDIRECT"
    tables = ("nat",)
    hooks = frozenset(("PREROUTING", "OUTPUT"))
    options = (OptSpec("to-ports"), OptSpec("random", 0))
    __slots__ = ("pmin", "pmax", "flags")

    def __init__(self, pmin: int, pmax: int, flags: int) -> None:
        self.pmin, self.pmax, self.flags = pmin, pmax, flags

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        pmin = pmax = -1
        flags = _flags(opts)
        for o in opts:
            if o.name == "to-ports":
                _check_proto(rule)
                pmin, pmax, _ = _parse_ports(o.arg)
                flags |= NF_NAT_RANGE_PROTO_SPECIFIED
        return cls(pmin, pmax, flags)

    def _ports(self) -> str:
        return f"{self.pmin}" + (f"-{self.pmax}" if self.pmax != self.pmin else "")

    def save(self) -> str:
        out = []
        if self.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            out.append(f"--to-ports {self._ports()}")
        if self.flags & NF_NAT_RANGE_PROTO_RANDOM:
            out.append("--random")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = []
        if self.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            out.append(f"redir ports {self._ports()}")
        if self.flags & NF_NAT_RANGE_PROTO_RANDOM:
            out.append("random")
        return " ".join(out)

    def target(self, ctx: PacketCtx) -> int:
        ct = ctx.meta.ct
        if ct is None or not hasattr(ct, "tuple_reply"):
            return NF_ACCEPT
        if ctx.hook == "OUTPUT":
            newdst = 0x7F000001
        else:
            dev = ctx.in_dev
            addrs = ctx.ns.dev_addrs(dev) if dev is not None else []
            if not addrs:
                return NF_DROP
            newdst = addrs[0].addr
        rng = NatRange(self.flags | NF_NAT_RANGE_MAP_IPS, newdst, newdst, max(self.pmin, 0),
                       max(self.pmax, 0))
        return nf_nat_setup_info(ct, rng, MANIP_DST)


class NetmapTarget(Target):
    """NETMAP: 1:1 prefix mapping (destination in PREROUTING/OUTPUT, source in POSTROUTING/INPUT)."""

    name = "NETMAP"
    tables = ("nat",)
    options = (OptSpec("to"),)
    __slots__ = ("addr", "mask")

    def __init__(self, addr: int, mask: int) -> None:
        self.addr, self.mask = addr, mask

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        val = None
        for o in opts:
            if o.name == "to":
                val = o.arg
        if val is None:
            raise XtError('NETMAP: option "--to" must be specified\n')
        a, slash, m = val.partition("/")
        addr = _parse_ip(a)
        if not slash:
            mask = 0xFFFFFFFF
        elif m.isdigit() and int(m) <= 32:
            mask = (0xFFFFFFFF << (32 - int(m))) & 0xFFFFFFFF if int(m) else 0
        else:
            mask = _parse_ip(m)
        return cls(addr & mask, mask)

    def _text(self) -> str:
        plen = bin(self.mask).count("1")
        return f"{_ip(self.addr)}/{plen}"

    def save(self) -> str:
        return f"--to {self._text()}"

    def describe(self, numeric: bool) -> str:
        return f"to:{self._text()}"

    def target(self, ctx: PacketCtx) -> int:
        ct = ctx.meta.ct
        if ct is None or not hasattr(ct, "tuple_reply"):
            return NF_ACCEPT
        manip = MANIP_DST if ctx.hook in ("PREROUTING", "OUTPUT") else MANIP_SRC
        old = ctx.ip.dst if manip == MANIP_DST else ctx.ip.src
        new = (old & ~self.mask & 0xFFFFFFFF) | self.addr
        rng = NatRange(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_NETMAP, new, new)
        return nf_nat_setup_info(ct, rng, manip)


class CtTarget(Target):
    """CT: attach a conntrack template (zone) or mark the packet untracked (xt_CT.c)."""

    name = "CT"
    tables = ("raw",)
    options = (OptSpec("notrack", 0), OptSpec("zone"), OptSpec("zone-orig"), OptSpec("zone-reply"),
               OptSpec("helper"), OptSpec("ctevents"), OptSpec("expevents"), OptSpec("timeout"))
    __slots__ = ("notrack", "zone", "zone_kind", "_tmpl")

    def __init__(self, notrack: bool, zone: int, zone_kind: str) -> None:
        self.notrack = notrack
        self.zone = zone
        self.zone_kind = zone_kind
        self._tmpl: dict[int, CtTemplate] = {}

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        notrack = False
        zone, kind = -1, ""
        for o in opts:
            if o.name == "notrack":
                notrack = True
            elif o.name in ("zone", "zone-orig", "zone-reply"):
                if not o.arg.isdigit() or int(o.arg) > 65535:
                    raise XtError(f'CT: Bad value for "--{o.name}" option: "{o.arg}"')
                zone, kind = int(o.arg), o.name
            elif o.name in ("helper", "ctevents", "expevents", "timeout"):
                raise XtError(f"CT: --{o.name} is not supported by netplex", 1)
        return cls(notrack, zone, kind)

    def save(self) -> str:
        out = []
        if self.notrack:
            out.append("--notrack")
        if self.zone_kind and (self.zone or self.zone_kind != "zone"):
            out.append(f"--{self.zone_kind} {self.zone}")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = ["CT"]
        if self.notrack:
            out.append("notrack")
        if self.zone_kind and (self.zone or self.zone_kind != "zone"):
            out.append(f"{self.zone_kind} {self.zone}")
        return " ".join(out)

    def target(self, ctx: PacketCtx) -> int:
        meta = ctx.meta
        if meta.ct is not None and meta.ct.__class__ is not CtTemplate:
            return XT_CONTINUE        # "Previously seen (loopback)?  Ignore."
        table = ctx.ns.netfilter.state.get("conntrack")
        key = id(table)
        tmpl = self._tmpl.get(key)
        if tmpl is None:
            tmpl = self._tmpl[key] = CtTemplate(table, max(self.zone, 0), self.notrack)
        meta.ct = tmpl
        return XT_CONTINUE


class NotrackTarget(CtTarget):
    """NOTRACK: CT --notrack under its old name (listed as CT, saved as NOTRACK)."""

    name = "NOTRACK"
    options = ()
    __slots__ = ()

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        return cls(True, -1, "")

    def save(self) -> str:
        return ""

    def describe(self, numeric: bool) -> str:
        return "NOTRACK"

    list_name = "CT"


for _cls in (SnatTarget, DnatTarget, MasqueradeTarget, RedirectTarget, NetmapTarget, CtTarget, NotrackTarget):
    register_target(_cls)
