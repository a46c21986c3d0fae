"""The NAT and conntrack targets: SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP, CT, NOTRACK (and NFLOG).

Parsers and saved text follow iptables 1.8.9's libxt_NAT.c, libxt_MASQUERADE.c,
libxt_REDIRECT.c, libxt_NETMAP.c and libxt_CT.c (iptables-save prints
`--to-source 1.2.3.4:100-200 --random --persistent`; `-L` prints
`to:1.2.3.4:100-200 random persistent`). Ports are numbers (C `strtoul`
base 0: `0x10`, `010`) or /etc/services names (`ftp-data` is one name: a
range's upper end and garbage after a number are refused as 1.8.9 does);
`/BASE` after a range is kept by DNAT, printed as `/0` by SNAT and
MASQUERADE (iptables-nft drops it) and refused by REDIRECT. The kernel side
is nf_nat_setup_info (nat.py) for the NAT targets and a conntrack template
(conntrack.CtTemplate) for CT / NOTRACK, which run in the raw table before
conntrack looks at the packet. CT's `--helper` names a helper of the
kernel's table (helpers.HELPERS) for the rule's protocol, else the rule is
refused with ENOENT as xt_ct_tg_check does; `--timeout` needs a timeout
policy (`nfct timeout add`), which netplex has no way to create: refused
with the kernel's ENOENT (EINVAL without a protocol).
"""
from __future__ import annotations

from typing import ClassVar

from netplex.stack.netfilter.conntrack import CtTemplate
from netplex.stack.netfilter.core import (
    NF_ACCEPT,
    NF_DROP,
    XT_CONTINUE,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    Target,
    XtError,
    register_target,
)
from netplex.stack.netfilter.helpers import helper_find
from netplex.stack.netfilter.matches import quote, xt_once
from netplex.stack.netfilter.nat import (
    MANIP_DST,
    MANIP_SRC,
    NF_NAT_RANGE_MAP_IPS,
    NF_NAT_RANGE_NETMAP,
    NF_NAT_RANGE_PERSISTENT,
    NF_NAT_RANGE_PROTO_OFFSET,
    NF_NAT_RANGE_PROTO_RANDOM,
    NF_NAT_RANGE_PROTO_RANDOM_FULLY,
    NF_NAT_RANGE_PROTO_SPECIFIED,
    NatRange,
    masquerade_source,
    nf_nat_setup_info,
)
from netplex.stack.netfilter.parse import SERVICES

PORT_PROTOS = (6, 17, 132, 33, 1, 136)   # -p values libxt_NAT accepts a port specification with
_NEED_PROTO = "Need TCP, UDP, SCTP or DCCP with port specification"


def _ip(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def _parse_ip(s: str) -> int:
    parts = s.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        raise XtError(f'Bad IP address "{s}"')
    return (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])


def _strtoui(s: str, lo: int, hi: int) -> tuple[int, str] | None:
    """xtables_strtoui with an end pointer: a C `strtoumax(s, &end, 0)` number in [lo, hi] and
    the text after it; None without digits, with a sign or out of range."""
    t = s.lstrip(" \t\n\v\f\r")
    if t.startswith("-"):
        return None
    t = t.removeprefix("+")
    if t[:2] in ("0x", "0X") and len(t) > 2 and t[2] in "0123456789abcdefABCDEF":
        base, digits, i = 16, "0123456789abcdefABCDEF", 2
    elif t.startswith("0"):
        base, digits, i = 8, "01234567", 0
    else:
        base, digits, i = 10, "0123456789", 0
    j = i
    while j < len(t) and t[j] in digits:
        j += 1
    if j == i:
        return None
    v = int(t[i:j], base)
    if not lo <= v <= hi:
        return None
    return v, t[j:]


def _port_or_service(s: str, lo: int = 0) -> tuple[int, str]:
    """A number (and what follows it), else a whole service name (xtables_service_to_port)."""
    r = _strtoui(s, lo, 65535)
    if r is not None:
        return r
    port = SERVICES.get(s)
    if port is None:
        raise XtError(f"Port `{s}' not valid")
    return port, ""


def _parse_ports(text: str) -> tuple[int, int, int]:
    """libxt_NAT's parse_ports: `P`, `P-Q` or `P-Q/B` (B: the base of an offset mapping)
    → (min, max, base or -1). P and B may be service names, Q only a number."""
    pmin, end = _port_or_service(text)
    if not end:
        return pmin, pmin, -1
    if end[0] == ":":
        raise XtError("Invalid port:port syntax - use dash")
    if end[0] != "-":
        raise XtError(f"Garbage after port value: `{end}'")
    rest = end[1:]
    r = _strtoui(rest, 0, 65535)
    if r is None:
        raise XtError(f"Port `{rest}' not valid")
    pmax, end = r
    if pmax < pmin:
        raise XtError(f"Port range `{rest}' funky")
    if not end:
        return pmin, pmax, -1
    if end[0] != "/":
        raise XtError(f"Garbage after port range: `{end}'")
    base, _ = _port_or_service(end[1:], 1)
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
        if text.count(":") > 1:
            raise XtError(f'Bad IP address "{text}"')
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
        if cls.manip == MANIP_SRC and rng.base > 0:
            rng.base = 0     # iptables-nft keeps no base for SNAT: it comes back as /0
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
        if ct is None:
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
    __slots__ = ("pmin", "pmax", "flags", "base")

    def __init__(self, pmin: int, pmax: int, flags: int, base: int = -1) -> None:
        self.pmin, self.pmax, self.flags, self.base = pmin, pmax, flags, base

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        pmin = pmax = base = -1
        flags = _flags(opts)
        for o in opts:
            if o.name == "to-ports":
                _check_proto(rule)
                pmin, pmax, base = _parse_ports(o.arg)
                flags |= NF_NAT_RANGE_PROTO_SPECIFIED
        return cls(pmin, pmax, flags, 0 if base > 0 else -1)   # the base comes back as /0

    def _ports(self) -> str:
        return (f"{self.pmin}" + (f"-{self.pmax}" if self.pmax != self.pmin else "")
                + (f"/{self.base}" if self.base >= 0 else ""))

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
        if ct is None:
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
                pmin, pmax, base = _parse_ports(o.arg)
                if base >= 0:
                    raise XtError("Shifted portmap ranges not supported with this kernel")
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
        if ct is None:
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
        if ct is None:
            return NF_ACCEPT
        manip = MANIP_DST if ctx.hook in ("PREROUTING", "OUTPUT") else MANIP_SRC
        old = ctx.ip.dst if manip == MANIP_DST else ctx.ip.src
        new = (old & ~self.mask & 0xFFFFFFFF) | self.addr
        rng = NatRange(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_NETMAP, new, new)
        return nf_nat_setup_info(ct, rng, manip)


# libxt_CT's event names, in bit order (enum ip_conntrack_events, ip_conntrack_expect_events)
CT_EVENTS = ("new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark", "natseqinfo",
             "secmark")
EXP_EVENTS = ("new",)
ENOENT_TEXT = "No such file or directory"


def _parse_events(arg: str, names: tuple[str, ...]) -> int:
    mask = 0
    for word in arg.split(","):
        if word not in names:
            raise XtError(f'Unknown event type "{word}"')
        mask |= 1 << names.index(word)
    return mask


def _events_text(mask: int, names: tuple[str, ...]) -> str:
    return ",".join(n for i, n in enumerate(names) if mask & (1 << i))


class CtTarget(Target):
    """CT: attach a conntrack template (xt_CT.c): notrack, a zone, a helper, event masks."""

    name = "CT"
    tables = ("raw",)
    options: ClassVar[tuple[OptSpec, ...]] = (OptSpec("notrack", 0), OptSpec("zone"), OptSpec("zone-orig"), OptSpec("zone-reply"),
               OptSpec("helper"), OptSpec("ctevents"), OptSpec("expevents"), OptSpec("timeout"))
    __slots__ = ("notrack", "zone", "zone_kind", "helper", "timeout", "ctevents", "expevents", "l4proto",
                 "chain", "_tmpl")

    def __init__(self, notrack: bool, zone: int, zone_kind: str, helper: str = "", timeout: str = "",
                 ctevents: int = 0, expevents: int = 0, l4proto: int = 0, chain: str = "") -> None:
        self.notrack = notrack
        self.zone = zone
        self.zone_kind = zone_kind
        self.helper = helper
        self.timeout = timeout
        self.ctevents = ctevents
        self.expevents = expevents
        self.l4proto = l4proto          # xt_ct_find_proto: the rule's -p, 0 when absent or inverted
        self.chain = chain
        self._tmpl: dict[int, CtTemplate] = {}

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("CT", opts)
        notrack = "notrack" in got
        zone, kind = -1, ""
        for o in opts:
            if o.name in ("zone", "zone-orig", "zone-reply"):
                if not o.arg.isdigit() or int(o.arg) > 65535:
                    raise XtError(f'CT: Bad value for "--{o.name}" option: "{o.arg}"')
                zone, kind = int(o.arg), o.name
        ctevents = _parse_events(got["ctevents"].arg, CT_EVENTS) if "ctevents" in got else 0
        expevents = _parse_events(got["expevents"].arg, EXP_EVENTS) if "expevents" in got else 0
        helper = got["helper"].arg if "helper" in got else ""
        timeout = got["timeout"].arg if "timeout" in got else ""
        return cls(notrack, zone, kind, helper, timeout, ctevents, expevents,
                   0 if rule.proto_invert else rule.proto, rule.chain)

    def _words(self, save: bool) -> list[str]:
        dash = "--" if save else ""
        out = []
        if self.notrack:
            out.append(f"{dash}notrack")
        if self.helper:
            out.append(f"{dash}helper {self.helper}")
        if self.timeout:
            out.append(f"{dash}timeout {self.timeout}")
        if self.ctevents:
            out.append(f"{dash}ctevents {_events_text(self.ctevents, CT_EVENTS)}")
        if self.expevents:
            out.append(f"{dash}expevents {_events_text(self.expevents, EXP_EVENTS)}")
        if self.zone_kind and (self.zone or self.zone_kind != "zone"):
            out.append(f"{dash}{self.zone_kind} {self.zone}")
        return out

    def save(self) -> str:
        return " ".join(self._words(True))

    def describe(self, numeric: bool) -> str:
        return " ".join(["CT", *self._words(False)])

    def check(self) -> bool:
        """xt_ct_tg_check: --notrack needs nothing; a helper must exist for the rule's protocol
        (ENOENT); a timeout policy needs a protocol (EINVAL) and must exist — none can (ENOENT)."""
        if self.notrack:
            return True
        if self.helper and (not self.l4proto or helper_find(self.helper, self.l4proto) is None):
            raise self._refused(ENOENT_TEXT)
        if self.timeout:
            if not self.l4proto:
                return False
            raise self._refused(ENOENT_TEXT)
        return True

    def _refused(self, why: str) -> XtError:
        # the nf_tables batch error, as check_target_allowed words EINVAL (an append: what the
        # CT rules of saved dumps and the users' -A lines are)
        return XtError(f" RULE_APPEND failed ({why}): rule in chain {self.chain}", 4)

    def target(self, ctx: PacketCtx) -> int:
        meta = ctx.meta
        if meta.ct is not None and meta.ct.__class__ is not CtTemplate:
            return XT_CONTINUE        # "Previously seen (loopback)?  Ignore."
        table = ctx.ns.netfilter.state.get("conntrack")
        key = id(table)
        tmpl = self._tmpl.get(key)
        if tmpl is None:
            helper = helper_find(self.helper, self.l4proto) if self.helper and not self.notrack else None
            tmpl = self._tmpl[key] = CtTemplate(table, max(self.zone, 0), self.notrack, helper,
                                                self.ctevents, self.expevents)
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


class NflogTarget(Target):
    """NFLOG: hand the packet to nfnetlink_log group N (libxt_NFLOG.c). No userspace listens in a
    simulation, so it only counts and continues, as the kernel does with no listener.

    (It sits here rather than next to LOG in targets.py only because this change could touch
    no other file; it is no conntrack target.)"""

    name = "NFLOG"
    options = (OptSpec("nflog-group"), OptSpec("nflog-prefix"), OptSpec("nflog-range"), OptSpec("nflog-size"),
               OptSpec("nflog-threshold"))
    __slots__ = ("group", "prefix", "size", "threshold")

    def __init__(self, group: int = 0, prefix: str = "", size: int = -1, threshold: int = 0) -> None:
        self.group, self.prefix, self.size, self.threshold = group, prefix, size, threshold

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("NFLOG", opts)
        t = cls()
        for name, hi in (("nflog-group", 65535), ("nflog-size", 4294967295), ("nflog-range", 4294967295),
                         ("nflog-threshold", 65535)):
            if name in got:
                r = _strtoui(got[name].arg, 0, hi)
                if r is None or r[1]:
                    raise XtError(f'NFLOG: bad value for option "--{name}", or out of range (0-{hi}).\n')
                if name == "nflog-group":
                    t.group = r[0]
                elif name == "nflog-size":
                    t.size = r[0]
                elif name == "nflog-threshold":
                    t.threshold = r[0]
                # --nflog-range "has never worked": accepted and forgotten
        if "nflog-prefix" in got:
            p = got["nflog-prefix"].arg
            if "\n" in p:
                raise XtError("Newlines not allowed in --nflog-prefix")
            t.prefix = p[:127]     # nft's log prefix holds 127 characters; the rest is cut
        return t

    def _words(self, dash: str) -> list[str]:
        out = []
        if self.prefix:
            out.append(f"{dash}nflog-prefix {quote(self.prefix)}")
        if self.group:
            out.append(f"{dash}nflog-group {self.group}")
        if self.size >= 0:
            out.append(f"{dash}nflog-size {self.size}")
        if self.threshold:
            out.append(f"{dash}nflog-threshold {self.threshold}")
        return out

    def save(self) -> str:
        return " ".join(self._words("--"))

    def describe(self, numeric: bool) -> str:
        return " ".join(self._words(""))


for _cls in (SnatTarget, DnatTarget, MasqueradeTarget, RedirectTarget, NetmapTarget, CtTarget, NotrackTarget,
             NflogTarget):
    register_target(_cls)
