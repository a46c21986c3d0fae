"""ip6tables' rules: stored and printed as ip6tables 1.8.9 (nf_tables) does, never evaluated.

The simulator has no IPv6 data path, so ip6tables rules are kept in their own
`Netfilter` (family "ipv6", in `netfilter_of(ns).state["ip6tables"]`) whose
tables register no hook: `ip6tables`, `-S`, `-L`, `ip6tables-save` and
`ip6tables-restore` parse, list and save like the real tools (libxtables'
xtables_ip6parse_any and inet_ntop text), and no packet ever meets them.

The extensions ip6tables accepts here are the family-independent ones of
`V6_SHARED` plus the IPv6 ones of this module (`icmp6`, the IPv6 `REJECT`);
any other is refused in netplex's words.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from netplex.stack.netfilter.core import (
    NF_DROP,
    XT_CONTINUE,
    Match,
    Netfilter,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    Target,
    XtError,
    netfilter_of,
)
from netplex.stack.netfilter.matches import xt_once
from netplex.stack.netfilter.matches_xt import ALL128, ip6_str
from netplex.stack.netfilter.parse import strtoui
from netplex.stack.netfilter.rule import Rule
from netplex.stack.netfilter.targets import RejectTarget

# extensions of both families that ip6tables loads from the common registry
V6_SHARED_MATCHES = frozenset({
    "tcp", "udp", "sctp", "multiport", "mark", "connmark", "state", "comment", "limit", "mac", "physdev",
    "pkttype", "owner", "statistic", "length", "hashlimit", "string", "time", "nfacct", "u32", "dscp", "tos",
    "connlimit", "conntrack", "recent", "addrtype",
})
V6_SHARED_TARGETS = frozenset({
    "LOG", "MARK", "CONNMARK", "CLASSIFY", "TRACE", "NFQUEUE", "DSCP", "TCPMSS", "CHECKSUM", "NOTRACK", "CT",
    "MASQUERADE", "REDIRECT",
})


def netfilter6_of(ns: Any) -> Netfilter:
    """The namespace's ip6tables tables (a Netfilter of family ipv6: rules only, no hooks)."""
    state = netfilter_of(ns).state
    nf6 = state.get("ip6tables")
    if nf6 is None:
        nf6 = state["ip6tables"] = Netfilter(ns, family="ipv6")
    assert isinstance(nf6, Netfilter)
    return nf6


def parse_addr6_mask(s: str) -> tuple[int, int]:
    """xtables_ip6parse_any for one address: `ADDR[/PLEN|/MASK]`, host bits cleared."""
    addr, slash, mask = s.partition("/")
    try:
        a = int(ipaddress.IPv6Address(addr if addr != "localhost" else "::1"))
    except ValueError:
        raise XtError(f"host/network `{addr}' not found") from None
    m = ALL128
    if slash:
        if mask.isdigit() and int(mask) <= 128:
            plen = int(mask)
            m = (ALL128 << (128 - plen)) & ALL128 if plen else 0
        else:
            try:
                m = int(ipaddress.IPv6Address(mask))
            except ValueError:
                raise XtError(f"invalid mask `{mask}' specified") from None
    return a & m, m


def mask6_text(m: int, list_mode: bool = False) -> str:
    plen = 128 - ((~m) & ALL128).bit_length()
    if ((ALL128 << (128 - plen)) & ALL128 if plen else 0) != m:
        return "/" + ip6_str(m)
    if plen == 128 and list_mode:
        return ""
    return f"/{plen}"


class Rule6(Rule):
    """struct ip6t_entry: an ip6tables rule (addresses of 128 bits; no `-f`)."""

    __slots__ = ()
    family = "ipv6"

    def addr_save(self, a: int, m: int) -> str:
        return ip6_str(a) + mask6_text(m)

    def addr_list(self, a: int, m: int, numeric: bool) -> str:
        if m == 0:
            return "::/0" if numeric else "anywhere"
        return ip6_str(a) + mask6_text(m, list_mode=True)

    def ip_match(self, ip: Any, indev: str, outdev: str) -> bool:
        return False     # no IPv6 data path: an ip6tables rule never sees a packet


# -- icmp6 (libip6t_icmp6.c) ----------------------------------------------------------------------
ICMP6_TYPES = (
    ("destination-unreachable", 1, 0, 0xFF), ("no-route", 1, 0, 0), ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2), ("address-unreachable", 1, 3, 3), ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5), ("reject-route", 1, 6, 6), ("packet-too-big", 2, 0, 0xFF),
    ("time-exceeded", 3, 0, 0xFF), ("ttl-exceeded", 3, 0, 0xFF), ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1), ("parameter-problem", 4, 0, 0xFF), ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1), ("unknown-option", 4, 2, 2), ("echo-request", 128, 0, 0xFF),
    ("ping", 128, 0, 0xFF), ("echo-reply", 129, 0, 0xFF), ("pong", 129, 0, 0xFF),
    ("router-solicitation", 133, 0, 0xFF), ("router-advertisement", 134, 0, 0xFF),
    ("neighbour-solicitation", 135, 0, 0xFF), ("neighbor-solicitation", 135, 0, 0xFF),
    ("neighbour-advertisement", 136, 0, 0xFF), ("neighbor-advertisement", 136, 0, 0xFF),
    ("redirect", 137, 0, 0xFF),
)


class Icmp6Match(Match):
    name = "icmp6"
    options = (OptSpec("icmpv6-type", 1, True),)
    __slots__ = ("code_hi", "code_lo", "inv", "type")
    code_hi: int
    code_lo: int
    inv: bool
    type: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("icmp6", opts)
        m = cls()
        m.type, m.code_lo, m.code_hi, m.inv = 0xFF, 0, 0xFF, False
        o = got.get("icmpv6-type")
        if o is None:
            return m
        m.inv = o.invert
        text = o.arg
        hit = [t for t in ICMP6_TYPES if t[0].startswith(text)]
        exact = [t for t in hit if t[0] == text]
        if exact or len({(t[1], t[2], t[3]) for t in hit}) == 1 and hit:
            _, m.type, m.code_lo, m.code_hi = (exact or hit)[0]
        elif hit:
            raise XtError(f"Ambiguous ICMPv6 type `{text}': `{hit[0][0]}' or `{hit[1][0]}'?")
        else:
            t, slash, c = text.partition("/")
            if not t.isdigit() or int(t) > 255 or slash and (not c.isdigit() or int(c) > 255):
                raise XtError(f"Unknown ICMPv6 type `{text}'")
            m.type = int(t)
            if slash:
                m.code_lo = m.code_hi = int(c)
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        return None

    def save(self) -> str:
        if self.type == 0xFF and self.code_lo == 0 and self.code_hi == 0xFF and not self.inv:
            return ""
        s = ("! " if self.inv else "") + f"--icmpv6-type {self.type}"
        if self.code_lo or self.code_hi != 0xFF:
            s += f"/{self.code_lo}"
        return s

    def describe(self, numeric: bool) -> str:
        inv = "!" if self.inv else ""
        if not numeric:
            for name, t, lo, hi in ICMP6_TYPES:
                if (t, lo, hi) == (self.type, self.code_lo, self.code_hi):
                    return f"ipv6-icmp {inv}{name}"
        s = "ipv6-icmp" + (" !" if self.inv else "") + f"type {self.type}"
        if self.code_lo == self.code_hi:
            s += f" code {self.code_lo}"
        elif self.code_lo or self.code_hi != 0xFF:
            s += f" codes {self.code_lo}-{self.code_hi}"
        return s

    def match(self, ctx: PacketCtx) -> bool:
        return False


# -- REJECT (libip6t_REJECT.c) ------------------------------------------------------------------
REJECT6_TYPES = (("icmp6-no-route", "no-route", 0), ("icmp6-adm-prohibited", "adm-prohibited", 1),
                 ("icmp6-addr-unreachable", "addr-unreach", 3), ("icmp6-port-unreachable", "port-unreach", 4),
                 ("icmp6-policy-fail", "policy-fail", 5), ("icmp6-reject-route", "reject-route", 6),
                 ("tcp-reset", "tcp-reset", -1))


class Reject6Target(RejectTarget):
    """ip6t_REJECT: parsed and printed; never runs (no IPv6 data path)."""

    types = REJECT6_TYPES
    default = ("icmp6-port-unreachable", 4)
    __slots__ = ()

    def target(self, ctx: PacketCtx) -> int:
        return NF_DROP


# -- rt, frag, hl matches and the HL target (libip6t_rt.c, libip6t_frag.c, libip6t_hl.c, libip6t_HL.c) --
def parse_span(ext: str, opt: str, text: str) -> tuple[int, int]:
    """A number or `MIN:MAX` of 32 bits (ip6tables' parse_ranges)."""
    a, colon, b = text.partition(":")
    lo = strtoui(a, 0, 0xFFFFFFFF) if a else 0
    hi = (strtoui(b, 0, 0xFFFFFFFF) if b else 0xFFFFFFFF) if colon else lo
    if lo is None or hi is None:
        raise XtError(f"{ext}: bad value for option \"--{opt}\", or out of range (0-4294967295).\n")
    return lo, hi


def span_save(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}:{hi}"


class _HeaderMatch(Match):
    """What rt and frag share: ranges and values of an extension header, stored and printed only."""

    fields: tuple[tuple[str, str, str], ...] = ()   # (option, -L label, -L label of a range)
    flags: tuple[tuple[str, str], ...] = ()         # (option, -L word)
    lead = ""
    __slots__ = ("given",)
    given: dict[str, tuple[bool, tuple[int, int] | None]]

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once(cls.name, opts)
        m = cls()
        m.given = {}
        for opt, _, _ in cls.fields:
            if opt in got:
                m.given[opt] = (got[opt].invert, parse_span(cls.name, opt, got[opt].arg))
        for opt, _ in cls.flags:
            if opt in got:
                m.given[opt] = (False, None)
        return m

    def save(self) -> str:
        out = []
        for opt, _, _ in self.fields:
            if opt in self.given:
                inv, span = self.given[opt]
                assert span is not None
                out.append(("! " if inv else "") + f"--{opt} {span_save(*span)}")
        out += [f"--{opt}" for opt, _ in self.flags if opt in self.given]
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = self.name
        for opt, label, labels in self.fields:
            if opt in self.given:
                inv, span = self.given[opt]
                assert span is not None
                i = "!" if inv else ""
                out += f" {label}:{i}{span[0]}" if span[0] == span[1] else f" {labels}:{i}{span[0]}:{span[1]}"
            elif opt == self.fields[0][0]:
                out += self.lead
        return out + "".join(f" {word}" for opt, word in self.flags if opt in self.given)

    def match(self, ctx: PacketCtx) -> bool:
        return False


class RtMatch(_HeaderMatch):
    name = "rt"
    options = (OptSpec("rt-type", 1, True), OptSpec("rt-segsleft", 1, True), OptSpec("rt-len", 1, True),
               OptSpec("rt-0-not-strict", 0))
    fields = (("rt-type", "type", "type"), ("rt-segsleft", "segsleft", "segslefts"), ("rt-len", "length", "length"))
    flags = (("rt-0-not-strict", "rt-0-not-strict"),)
    __slots__ = ()


class FragMatch(_HeaderMatch):
    name = "frag"
    options = (OptSpec("fragid", 1, True), OptSpec("fraglen", 1, True), OptSpec("fragres", 0),
               OptSpec("fragfirst", 0), OptSpec("fragmore", 0), OptSpec("fraglast", 0))
    fields = (("fragid", "id", "ids"), ("fraglen", "length", "length"))
    flags = (("fragres", "reserved"), ("fragfirst", "first"), ("fragmore", "more"), ("fraglast", "last"))
    lead = " "
    __slots__ = ()


HL_OPS = (("hl-eq", "==", "!="), ("hl-lt", "<", None), ("hl-gt", ">", None))


class HlMatch(Match):
    name = "hl"
    options = (OptSpec("hl-eq", 1, True), OptSpec("hl-lt", 1), OptSpec("hl-gt", 1))
    __slots__ = ("inv", "op", "value")
    inv: bool
    op: str
    value: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        if not opts:
            raise XtError("HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'")
        if len(opts) > 1:
            raise XtError(f"hl: option \"--{opts[1].name}\" cannot be used together with \"--{opts[0].name}\".\n")
        o = opts[0]
        m = cls()
        v = strtoui(o.arg, 0, 255)
        if v is None:
            raise XtError(f"hl: bad value for option \"--{o.name}\", or out of range (0-255).\n")
        m.op, m.inv, m.value = o.name, o.invert, v
        return m

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--{self.op} {self.value}"

    def describe(self, numeric: bool) -> str:
        sym = next((ne if self.inv else eq) for op, eq, ne in HL_OPS if op == self.op)
        return f"HL match HL {sym} {self.value}"

    def match(self, ctx: PacketCtx) -> bool:
        return False


class HlTarget(Target):
    name = "HL"
    options = (OptSpec("hl-set", 1), OptSpec("hl-dec", 1), OptSpec("hl-inc", 1))
    tables = ("mangle",)
    __slots__ = ("mode", "value")
    mode: str
    value: int
    WORDS = {"hl-set": "set to", "hl-dec": "decrement by", "hl-inc": "increment by"}

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        if len(opts) != 1:
            raise XtError("HL: You must specify an action" if not opts else
                          f"HL: option \"--{opts[1].name}\" cannot be used together with \"--{opts[0].name}\".\n")
        o = opts[0]
        lo = 0 if o.name == "hl-set" else 1
        v = strtoui(o.arg, lo, 255)
        if v is None:
            raise XtError(f"HL: bad value for option \"--{o.name}\", or out of range ({lo}-255).\n")
        t = cls()
        t.mode, t.value = o.name, v
        return t

    def save(self) -> str:
        return f"--{self.mode} {self.value}"

    def describe(self, numeric: bool) -> str:
        return f"HL {self.WORDS[self.mode]} {self.value}"

    def target(self, ctx: PacketCtx) -> int:
        return XT_CONTINUE


MATCHES6: dict[str, type[Match]] = {"icmp6": Icmp6Match, "rt": RtMatch, "frag": FragMatch, "hl": HlMatch}
TARGETS6: dict[str, type[Target]] = {"REJECT": Reject6Target, "HL": HlTarget}

__all__ = ["MATCHES6", "TARGETS6", "V6_SHARED_MATCHES", "V6_SHARED_TARGETS", "Rule6", "netfilter6_of",
           "parse_addr6_mask"]
