"""iptables matches (net/netfilter/xt_*.c and their libxt_* parsers), one class each.

Each class parses its options as the 1.8.9 extension does (messages included),
prints the normalised text iptables-save shows (`save`) and what `iptables
-L` shows (`describe`), and decides on a packet (`match`). The registry
is the table at the bottom: adding a match is one class and one line.
"""
from __future__ import annotations

import random
from typing import Any

from netplex.packet.icmp import Icmp
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.netfilter.core import (
    IP_CT_IS_REPLY,
    IP_CT_UNTRACKED,
    IPS_ASSURED,
    IPS_CONFIRMED,
    IPS_DST_NAT,
    IPS_EXPECTED,
    IPS_SEEN_REPLY,
    IPS_SRC_NAT,
    Match,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    XtError,
    register_match,
)
from netplex.stack.netfilter.parse import (
    PORT_NAMES,
    SERVICES,
    parse_addr_mask,
    parse_ip,
    parse_port,
    parse_proto,
    strtoui,
)
from netplex.stack.netfilter.rule import PROTO_NAMES, ip_str, mask_text

IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP = 6, 17, 1


def xt_once(ext: str, opts: list[Opt], msg_name: dict[str, str] | None = None) -> dict[str, Opt]:
    """Options by name; a repeated one fails as xtables_option_parse reports it."""
    out: dict[str, Opt] = {}
    for o in opts:
        if o.name in out:
            shown = (msg_name or {}).get(o.name, o.name)
            raise XtError(f"{ext}: option \"--{shown}\" can only be used once.\n")
        out[o.name] = o
    return out


def need(ext: str, got: dict[str, Opt], name: str) -> Opt:
    if name not in got:
        raise XtError(f"{ext}: option \"--{name}\" must be specified\n")
    return got[name]


def parse_u32(s: str, what: str = "value") -> int:
    v = strtoui(s, 0, 0xFFFFFFFF)
    if v is None:
        raise XtError(f"Bad {what} value \"{s}\"")
    return v


def quote(value: str) -> str:
    """xtables_save_string: bare when only [A-Za-z0-9_-], else double-quoted with \\ escapes."""
    ok = set("_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if value and all(ch in ok for ch in value):
        return value
    out = []
    for ch in value:
        if ch in "\"\\'":
            out.append("\\")
        out.append(ch)
    return '"' + "".join(out) + '"'


def transport_ports(ip: Any) -> tuple[int, int] | None:
    """(sport, dport) of a first fragment / whole TCP, UDP, SCTP, DCCP datagram."""
    if ip.frag:
        return None
    p = ip.payload
    if isinstance(p, (Tcp, Udp)):
        return p.sport, p.dport
    if isinstance(p, (bytes, bytearray)) and len(p) >= 4:
        return (p[0] << 8) | p[1], (p[2] << 8) | p[3]
    return None


def port_name(p: int, numeric: bool) -> str:
    if numeric:
        return str(p)
    return PORT_NAMES.get(p, str(p))


# -- tcp / udp ----------------------------------------------------------------------
TCP_FLAGS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20),
             ("ALL", 0x3F), ("NONE", 0))


def tcp_flag_text(flags: int) -> str:
    names = []
    for n, bit in TCP_FLAGS[:6]:
        if flags & bit:
            names.append(n)
    return ",".join(names) if names else "NONE"


def parse_tcp_flags(s: str) -> int:
    v = 0
    for part in s.split(","):
        for n, bit in TCP_FLAGS:
            if part.upper() == n:
                v |= bit
                break
        else:
            raise XtError(f"Unknown TCP flag `{part}'")
    return v


def parse_port_range(s: str, proto: str) -> tuple[int, int]:
    if ":" not in s:
        p = parse_port(s, proto)
        return p, p
    a, _, b = s.partition(":")
    lo = parse_port(a, proto) if a else 0
    hi = parse_port(b, proto) if b else 0xFFFF
    if lo > hi:
        raise XtError("invalid portrange (min > max)")
    return lo, hi


def ports_save(name: str, rng: tuple[int, int], inv: bool) -> str:
    lo, hi = rng
    if lo == 0 and hi == 0xFFFF and not inv:
        return ""
    s = ("! " if inv else "") + f"--{name} " + (f"{lo}:{hi}" if lo != hi else f"{lo}")
    return s


def ports_describe(name: str, rng: tuple[int, int], inv: bool, numeric: bool) -> str:
    lo, hi = rng
    if lo == 0 and hi == 0xFFFF and not inv:
        return ""
    i = "!" if inv else ""
    if lo == hi:
        return f" {name}:{i}{port_name(lo, numeric)}"
    return f" {name}s:{i}{port_name(lo, numeric)}:{port_name(hi, numeric)}"


class PortMatch(Match):
    """What tcp and udp share: source and destination port ranges."""

    proto = 0
    __slots__ = ("dinv", "dpts", "sinv", "spts")
    dinv: bool
    dpts: tuple[int, int]
    sinv: bool
    spts: tuple[int, int]

    def __init__(self) -> None:
        self.spts = (0, 0xFFFF)
        self.dpts = (0, 0xFFFF)
        self.sinv = self.dinv = False

    def index_ports(self) -> tuple[int | None, int | None]:
        """The single source / destination port this match requires (the chain index's pins)."""
        lo, hi = self.spts
        s = lo if lo == hi and not self.sinv else None
        lo, hi = self.dpts
        return s, (lo if lo == hi and not self.dinv else None)

    def ports_ok(self, ip: Any) -> bool:
        pp = transport_ports(ip)
        if pp is None:
            return False
        sp, dp = pp
        lo, hi = self.spts
        if (lo <= sp <= hi) == self.sinv:
            return False
        lo, hi = self.dpts
        if (lo <= dp <= hi) == self.dinv:
            return False
        return True

    def save_ports(self) -> list[str]:
        out = []
        s = ports_save("sport", self.spts, self.sinv)
        if s:
            out.append(s)
        s = ports_save("dport", self.dpts, self.dinv)
        if s:
            out.append(s)
        return out


class TcpMatch(PortMatch):
    name = "tcp"
    proto = IPPROTO_TCP
    options = (OptSpec("source-port", 1, True, ("sport",)), OptSpec("destination-port", 1, True, ("dport",)),
               OptSpec("tcp-flags", 2, True), OptSpec("syn", 0, True), OptSpec("tcp-option", 1, True))
    __slots__ = ("finv", "flg_cmp", "flg_mask", "oinv", "option")
    finv: bool
    flg_cmp: int
    flg_mask: int
    oinv: bool
    option: int

    def __init__(self) -> None:
        super().__init__()
        self.flg_mask = self.flg_cmp = 0
        self.finv = False
        self.option = 0
        self.oinv = False

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        seen: set[str] = set()
        for o in opts:
            if o.name == "source-port":
                if "s" in seen:
                    raise XtError("Only one `--source-port' allowed")
                seen.add("s")
                m.spts, m.sinv = parse_port_range(o.arg, "tcp"), o.invert
            elif o.name == "destination-port":
                if "d" in seen:
                    raise XtError("Only one `--destination-port' allowed")
                seen.add("d")
                m.dpts, m.dinv = parse_port_range(o.arg, "tcp"), o.invert
            elif o.name in ("syn", "tcp-flags"):
                if "f" in seen:
                    raise XtError("Only one of `--syn' or `--tcp-flags'  allowed")
                seen.add("f")
                if o.name == "syn":
                    m.flg_mask, m.flg_cmp = 0x17, 0x02
                else:
                    m.flg_mask, m.flg_cmp = parse_tcp_flags(o.args[0]), parse_tcp_flags(o.args[1])
                m.finv = o.invert
            elif o.name == "tcp-option":
                if "o" in seen:
                    raise XtError("Only one `--tcp-option' allowed")
                seen.add("o")
                v = strtoui(o.arg, 1, 255)
                if v is None:
                    raise XtError(f'Bad TCP option "{o.arg}"')
                m.option, m.oinv = v, o.invert
        if rule.proto != IPPROTO_TCP or rule.proto_invert:
            raise XtError("TCP match requires '-p tcp'")
        return m

    def save(self) -> str:
        out = self.save_ports()
        if self.option or self.oinv:
            out.append(("! " if self.oinv else "") + f"--tcp-option {self.option}")
        if self.flg_mask or self.finv:
            out.append(("! " if self.finv else "") +
                       f"--tcp-flags {tcp_flag_text(self.flg_mask)} {tcp_flag_text(self.flg_cmp)}")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        s = "tcp" + ports_describe("spt", self.spts, self.sinv, numeric) + \
            ports_describe("dpt", self.dpts, self.dinv, numeric)
        if self.option or self.oinv:
            s += f" option={'!' if self.oinv else ''}{self.option}"
        if self.flg_mask or self.finv:
            s += " flags:" + ("!" if self.finv else "")
            if numeric:
                s += f"0x{self.flg_mask:02X}/0x{self.flg_cmp:02X}"
            else:
                s += tcp_flag_text(self.flg_mask) + "/" + tcp_flag_text(self.flg_cmp)
        return s

    def match(self, ctx: PacketCtx) -> bool:
        ip = ctx.ip
        if not self.ports_ok(ip):
            return False
        if self.flg_mask or self.finv:
            seg = ip.payload
            if not isinstance(seg, Tcp):
                return False
            flags = seg.flags
            if ((flags & self.flg_mask) == self.flg_cmp) == self.finv:
                return False
        if self.option:
            seg = ip.payload
            present = {2: seg.mss is not None, 3: seg.wscale is not None, 4: seg.sack_perm,
                       5: bool(seg.sack), 8: seg.timestamps is not None}.get(self.option, False)
            if present == self.oinv:
                return False
        return True


def parse_portrc(s: str, ext: str, opt: str) -> tuple[int, int]:
    """xtoptions' XTTYPE_PORTRC (libxt_udp in 1.8.9): `a[:b]`, each a decimal number (kept to its
    low 16 bits) or a service name; an empty end is 0 (or 65535 for the upper one); a reversed
    range stays reversed."""
    parts = s.split(":")
    if len(parts) > 2:
        raise XtError(f'{ext}: Too many components for option "--{opt}" (max: 2)\n')

    def one(text: str, empty: int) -> int:
        if text == "":
            return empty
        if text.isascii() and text.isdigit():
            return int(text) & 0xFFFF
        if text in SERVICES:
            return SERVICES[text]
        raise XtError(f'Port "{text}" does not resolve to anything.\n')

    lo = one(parts[0], 0)
    hi = one(parts[1], 0xFFFF) if len(parts) == 2 else lo
    return lo, hi


class UdpMatch(PortMatch):
    name = "udp"
    proto = IPPROTO_UDP
    options = (OptSpec("source-port", 1, True, ("sport",)), OptSpec("destination-port", 1, True, ("dport",)))
    __slots__ = ()

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        got = xt_once("udp", opts)
        if "source-port" in got:
            o = got["source-port"]
            m.spts, m.sinv = parse_portrc(o.arg, "udp", "source-port"), o.invert
        if "destination-port" in got:
            o = got["destination-port"]
            m.dpts, m.dinv = parse_portrc(o.arg, "udp", "destination-port"), o.invert
        if rule.proto != IPPROTO_UDP or rule.proto_invert:
            raise XtError("UDP match requires '-p udp'")
        return m

    def save(self) -> str:
        return " ".join(self.save_ports())

    def describe(self, numeric: bool) -> str:
        return "udp" + ports_describe("spt", self.spts, self.sinv, numeric) + \
            ports_describe("dpt", self.dpts, self.dinv, numeric)

    def match(self, ctx: PacketCtx) -> bool:
        return self.ports_ok(ctx.ip)


# -- icmp ------------------------------------------------------------------------------
ICMP_CODES: list[tuple[str, int, int, int]] = [
    ("any", 0xFF, 0, 0xFF), ("echo-reply", 0, 0, 0xFF), ("pong", 0, 0, 0xFF),
    ("destination-unreachable", 3, 0, 0xFF), ("network-unreachable", 3, 0, 0), ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2), ("port-unreachable", 3, 3, 3), ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5), ("network-unknown", 3, 6, 6), ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9), ("host-prohibited", 3, 10, 10), ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12), ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14), ("precedence-cutoff", 3, 15, 15), ("source-quench", 4, 0, 0xFF),
    ("redirect", 5, 0, 0xFF), ("network-redirect", 5, 0, 0), ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2), ("TOS-host-redirect", 5, 3, 3), ("echo-request", 8, 0, 0xFF),
    ("ping", 8, 0, 0xFF), ("router-advertisement", 9, 0, 0xFF), ("router-solicitation", 10, 0, 0xFF),
    ("time-exceeded", 11, 0, 0xFF), ("ttl-exceeded", 11, 0, 0xFF), ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1), ("parameter-problem", 12, 0, 0xFF), ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1), ("timestamp-request", 13, 0, 0xFF), ("timestamp-reply", 14, 0, 0xFF),
    ("address-mask-request", 17, 0, 0xFF), ("address-mask-reply", 18, 0, 0xFF),
]


class IcmpMatch(Match):
    name = "icmp"
    options = (OptSpec("icmp-type", 1, True),)
    __slots__ = ("code_max", "code_min", "inv", "type")
    code_max: int
    code_min: int
    inv: bool
    type: int

    def __init__(self) -> None:
        self.type = 0xFF
        self.code_min, self.code_max = 0, 0xFF
        self.inv = False

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        got = xt_once("icmp", opts)
        o = need("icmp", got, "icmp-type")
        m.inv = o.invert
        s = o.arg
        hits = [c for c in ICMP_CODES if c[0].lower().startswith(s.lower())]
        exact = [c for c in hits if c[0].lower() == s.lower()]
        if exact:
            hits = exact[:1]
        if len({(c[1], c[2], c[3]) for c in hits}) > 1:
            raise XtError(f"Ambiguous ICMP type `{s}': `{hits[0][0]}' or `{hits[1][0]}'?")
        if hits:
            _, m.type, m.code_min, m.code_max = hits[0]
        else:
            # libipt_icmp parse_icmp: type[/code], numbers up to 255, nothing after the code
            t, slash, c = s.partition("/")
            tv = strtoui(t, 0, 255)
            if tv is None:
                raise XtError(f"Unknown ICMP type `{s}'")
            m.type = tv
            if slash:
                digits = len(c) - len(c.lstrip("0123456789"))
                cv = strtoui(c[:digits], 0, 255) if digits else None
                if cv is None:
                    raise XtError(f"Unknown ICMP code `{s}'")
                if digits < len(c):
                    raise XtError(f"unknown character {c[digits]}")
                m.code_min = m.code_max = cv
        if rule.proto != IPPROTO_ICMP or rule.proto_invert:
            raise XtError("ICMP match requires '-p icmp'")
        return m

    def save(self) -> str:
        s = "! " if self.inv else ""
        if self.type == 0xFF:
            return s + "--icmp-type any"
        s += f"--icmp-type {self.type}"
        if self.code_min != 0 or self.code_max != 0xFF:
            s += f"/{self.code_min}"
        return s

    def describe(self, numeric: bool) -> str:
        if not numeric:
            for n, t, lo, hi in ICMP_CODES:
                if t == self.type and lo == self.code_min and hi == self.code_max:
                    return "icmp " + ("!" if self.inv else "") + n
        s = "icmp" if not numeric else ""
        s += (" !" if self.inv else "") + ("type" if not numeric else "icmptype") + f" {self.type}"
        if numeric:
            s = ("!" if self.inv else "") + f"icmptype {self.type}"
        if self.code_min == self.code_max:
            s += f" code {self.code_min}"
        elif self.code_min != 0 or self.code_max != 0xFF:
            s += f" codes {self.code_min}-{self.code_max}"
        return s

    def match(self, ctx: PacketCtx) -> bool:
        ip = ctx.ip
        if ip.frag:
            return False
        p = ip.payload
        if not isinstance(p, Icmp):
            return False
        t = p.type
        ok = self.type == 0xFF or (t == self.type and self.code_min <= p.code <= self.code_max)
        return ok != self.inv


# -- multiport ------------------------------------------------------------------------
class MultiportMatch(Match):
    name = "multiport"
    options = (OptSpec("source-ports", 1, True, ("sports",)), OptSpec("destination-ports", 1, True, ("dports",)),
               OptSpec("ports", 1, True))
    __slots__ = ("flags", "inv", "ports", "proto")
    flags: str
    inv: bool
    ports: list[tuple[int, int]]
    proto: str

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        if len(opts) > 1:
            # named in the order of libxt_multiport's option table
            order = ["source-ports", "destination-ports", "ports"]
            a, b = sorted((opts[0].name, opts[1].name), key=lambda n: order.index(n) if n in order else 9)
            raise XtError(f'multiport: option "--{a}" cannot be used together with "--{b}".\n')
        if not opts:
            raise XtError("multiport expects an option")
        o = opts[0]
        m = cls()
        m.flags = {"source-ports": "sports", "destination-ports": "dports", "ports": "ports"}[o.name]
        m.inv = o.invert
        pname = PROTO_NAMES.get(rule.proto, "")
        if not rule.proto:
            raise XtError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
        if rule.proto not in (6, 17, 132, 33, 136) or rule.proto_invert:
            raise XtError("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
        m.proto = pname
        ports: list[tuple[int, int]] = []
        count = 0
        for part in o.arg.split(","):
            if ":" in part:
                a, _, b = part.partition(":")
                lo, hi = parse_port(a, pname), parse_port(b, pname)
                if lo > hi:
                    raise XtError("invalid portrange specified")
                ports.append((lo, hi))
                count += 2
            else:
                p = parse_port(part, pname)
                ports.append((p, p))
                count += 1
        if count > 15:
            raise XtError("too many ports specified")
        m.ports = ports
        return m

    def _list(self, numeric: bool) -> str:
        return ",".join(port_name(lo, numeric) if lo == hi else f"{port_name(lo, numeric)}:{port_name(hi, numeric)}"
                        for lo, hi in self.ports)

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--{self.flags} " + self._list(True)

    def describe(self, numeric: bool) -> str:
        return f"multiport {self.flags} " + ("!" if self.inv else "") + self._list(numeric)

    def match(self, ctx: PacketCtx) -> bool:
        pp = transport_ports(ctx.ip)
        if pp is None:
            return False
        sp, dp = pp
        f = self.flags
        hit = False
        for lo, hi in self.ports:
            if (f != "dports" and lo <= sp <= hi) or (f != "sports" and lo <= dp <= hi):
                hit = True
                break
        return hit != self.inv


# -- iprange --------------------------------------------------------------------------
class IprangeMatch(Match):
    name = "iprange"
    options = (OptSpec("src-range", 1, True), OptSpec("dst-range", 1, True))
    __slots__ = ("dinv", "dst", "sinv", "src")
    dinv: bool
    dst: tuple[int, int] | None
    sinv: bool
    src: tuple[int, int] | None

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        m.src = m.dst = None
        m.sinv = m.dinv = False
        got = xt_once("iprange", opts)
        for key in ("src-range", "dst-range"):
            if key in got:
                o = got[key]
                a, dash, b = o.arg.partition("-")
                lo, hi = parse_ip(a), parse_ip(b if dash else a)
                if lo is None or hi is None or a.count(".") != 3 or (dash and b.count(".") != 3):
                    raise XtError(f'iprange: Bad value for "--{o.name}" option: "{a if lo is None else b}"')
                if lo > hi:
                    rule.warn(f"xt_iprange: range {a}-{b} is reversed and will never match\n")
                if key == "src-range":
                    m.src, m.sinv = (lo, hi), o.invert
                else:
                    m.dst, m.dinv = (lo, hi), o.invert
        if m.src is None and m.dst is None:
            raise XtError("iprange match: You must specify `--src-range' or `--dst-range'")
        return m

    def save(self) -> str:
        out = []
        if self.src:
            out.append(("! " if self.sinv else "") + f"--src-range {ip_str(self.src[0])}-{ip_str(self.src[1])}")
        if self.dst:
            out.append(("! " if self.dinv else "") + f"--dst-range {ip_str(self.dst[0])}-{ip_str(self.dst[1])}")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = []
        if self.src:
            out.append(("! " if self.sinv else "") + f"source IP range {ip_str(self.src[0])}-{ip_str(self.src[1])}")
        if self.dst:
            out.append(("! " if self.dinv else "") +
                       f"destination IP range {ip_str(self.dst[0])}-{ip_str(self.dst[1])}")
        return " ".join(out)

    def match(self, ctx: PacketCtx) -> bool:
        ip = ctx.ip
        if self.src and (self.src[0] <= ip.src <= self.src[1]) == self.sinv:
            return False
        if self.dst and (self.dst[0] <= ip.dst <= self.dst[1]) == self.dinv:
            return False
        return True


# -- mac ------------------------------------------------------------------------------------
class MacMatch(Match):
    name = "mac"
    options = (OptSpec("mac-source", 1, True),)
    hooks = frozenset({"PREROUTING", "INPUT", "FORWARD"})
    __slots__ = ("inv", "mac")
    inv: bool
    mac: bytes

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("mac", opts)
        o = need("mac", got, "mac-source")
        parts = o.arg.split(":")
        if len(parts) != 6 or not all(1 <= len(p) <= 2 and all(c in "0123456789abcdefABCDEF" for c in p)
                                      for p in parts):
            raise XtError("Invalid MAC address specified.")
        m = cls()
        m.mac = bytes(int(p, 16) for p in parts)
        m.inv = o.invert
        return m

    def _text(self) -> str:
        return ":".join(f"{b:02x}" for b in self.mac)

    def save(self) -> str:
        return ("! " if self.inv else "") + "--mac-source " + self._text()

    def describe(self, numeric: bool) -> str:
        return "MAC " + ("! " if self.inv else "") + self._text()

    def match(self, ctx: PacketCtx) -> bool:
        if ctx.in_dev is None:
            return False
        return (ctx.frame.src == self.mac) != self.inv


# -- mark / connmark -----------------------------------------------------------------------
def parse_mark(s: str, ext: str) -> tuple[int, int]:
    v, slash, m = s.partition("/")
    val = strtoui(v, 0, 0xFFFFFFFF)
    mask = strtoui(m, 0, 0xFFFFFFFF) if slash else 0xFFFFFFFF
    if slash and "/" in m:
        raise XtError(f"{ext}: trailing garbage after value for option \"--mark\".\n")
    if val is None or mask is None:
        raise XtError(f"{ext}: bad integer value for option \"--mark\", or out of range.\n")
    return val, mask


def mark_text(val: int, mask: int) -> str:
    return f"0x{val:x}" + (f"/0x{mask:x}" if mask != 0xFFFFFFFF else "")


class MarkMatch(Match):
    name = "mark"
    options = (OptSpec("mark", 1, True),)
    __slots__ = ("inv", "mask", "val")
    inv: bool
    mask: int
    val: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once(cls.name, opts)
        o = need(cls.name, got, "mark")
        m = cls()
        m.val, m.mask = parse_mark(o.arg, cls.name)
        m.inv = o.invert
        return m

    def save(self) -> str:
        return ("! " if self.inv else "") + "--mark " + mark_text(self.val, self.mask)

    def describe(self, numeric: bool) -> str:
        return f"{self.name} match " + ("! " if self.inv else "") + mark_text(self.val, self.mask)

    def match(self, ctx: PacketCtx) -> bool:
        return ((ctx.meta.mark & self.mask) == self.val) != self.inv


class ConnmarkMatch(MarkMatch):
    name = "connmark"
    __slots__ = ()

    def match(self, ctx: PacketCtx) -> bool:
        ct = ctx.meta.ct
        if ct is None:
            return False
        return ((ct.mark & self.mask) == self.val) != self.inv


# -- state / conntrack --------------------------------------------------------------------
ST_INVALID, ST_UNTRACKED, ST_SNAT, ST_DNAT = 1 << 0, 1 << 6, 1 << 7, 1 << 8
STATE_BITS = {"INVALID": ST_INVALID, "NEW": 1 << 3, "RELATED": 1 << 2, "ESTABLISHED": 1 << 1,
              "UNTRACKED": ST_UNTRACKED, "SNAT": ST_SNAT, "DNAT": ST_DNAT}
STATE_ORDER = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
STATE_ORDER_STATE = ("INVALID", "RELATED", "ESTABLISHED", "UNTRACKED")
STATUS_BITS = {"NONE": 0, "EXPECTED": IPS_EXPECTED, "SEEN_REPLY": IPS_SEEN_REPLY, "ASSURED": IPS_ASSURED,
               "CONFIRMED": IPS_CONFIRMED}


def packet_statebit(ctx: PacketCtx) -> int:
    meta = ctx.meta
    ct = meta.ct
    if ct is None:
        return ST_UNTRACKED if meta.ctinfo == IP_CT_UNTRACKED else ST_INVALID
    return 1 << (meta.ctinfo % IP_CT_IS_REPLY + 1)


def parse_state_list(s: str, allowed: tuple[str, ...]) -> int:
    """libxt_state state_parse_states: names in any case, split at commas; a bad part is
    reported with the rest of the list after it."""
    if not s:
        raise XtError('"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED')
    names = {a.upper(): a for a in allowed}
    v = 0
    rest = s
    while True:
        part, comma, after = rest.partition(",")
        name = names.get(part.upper()) if part else None
        if name is None:
            raise XtError(f"Bad state \"{rest}\"")
        v |= STATE_BITS[name]
        if not comma:
            return v
        rest = after


def parse_states(s: str, allowed: tuple[str, ...], ext: str) -> int:
    if ext != "conntrack":
        return parse_state_list(s, allowed)
    v = 0
    for part in s.split(","):
        if part not in allowed:
            raise XtError(f"Bad ctstate \"{part}\"" if ext == "conntrack" else f"Bad state \"{part}\"")
        v |= STATE_BITS[part]
    return v


def states_text(mask: int, order: tuple[str, ...]) -> str:
    return ",".join(n for n in order if mask & STATE_BITS[n])


class StateMatch(Match):
    name = "state"
    options = (OptSpec("state", 1, True),)
    __slots__ = ("inv", "mask")
    inv: bool
    mask: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("state", opts)
        o = need("state", got, "state")
        m = cls()
        m.mask = parse_states(o.arg, ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"), "state")
        m.inv = o.invert
        return m

    def save(self) -> str:
        return ("! " if self.inv else "") + "--state " + states_text(self.mask, ("INVALID", "NEW", "RELATED",
                                                                                 "ESTABLISHED", "UNTRACKED"))

    def describe(self, numeric: bool) -> str:
        return "state " + ("! " if self.inv else "") + states_text(self.mask, ("INVALID", "NEW", "RELATED",
                                                                              "ESTABLISHED", "UNTRACKED"))

    def match(self, ctx: PacketCtx) -> bool:
        return bool(self.mask & packet_statebit(ctx)) != self.inv


def _addr_opt(s: str, opt: str) -> tuple[int, int]:
    """XTTYPE_HOSTMASK (libxt_conntrack): an address and a dotted or CIDR mask (more than 32 bits
    is 32); the host bits are kept, as conntrack_addrcmp compares under the mask."""
    addr, slash, mask = s.partition("/")
    a = parse_addr_mask(addr)[0]
    if not slash:
        return a, 0xFFFFFFFF
    m = parse_ip(mask) if mask.count(".") == 3 else None
    if m is None:
        bits = int(mask) if mask.isascii() and mask.isdigit() else None
        if bits is None:
            raise XtError(f'conntrack: bad value for option "--{opt}", neither a valid network mask '
                          "nor valid CIDR (0-32).\n")
        bits = min(bits, 32)
        m = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF if bits else 0
    return a, m


class ConntrackMatch(Match):
    """xt_conntrack revision 3."""

    name = "conntrack"
    options = (OptSpec("ctstate", 1, True), OptSpec("ctproto", 1, True), OptSpec("ctorigsrc", 1, True),
               OptSpec("ctorigdst", 1, True), OptSpec("ctreplsrc", 1, True), OptSpec("ctrepldst", 1, True),
               OptSpec("ctorigsrcport", 1, True), OptSpec("ctorigdstport", 1, True),
               OptSpec("ctreplsrcport", 1, True), OptSpec("ctrepldstport", 1, True),
               OptSpec("ctstatus", 1, True), OptSpec("ctexpire", 1, True), OptSpec("ctdir", 1, False))
    __slots__ = ("items",)
    items: dict[str, tuple[bool, Any]]

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("conntrack", opts)
        if not got:
            raise XtError("conntrack: At least one option is required")
        m = cls()
        items: dict[str, tuple[bool, Any]] = {}
        for name, o in got.items():
            a = o.arg
            if name == "ctstate":
                v: Any = parse_states(a, STATE_ORDER, "conntrack")
            elif name == "ctproto":
                v = parse_proto(a)
                if v == 0:
                    raise XtError("conntrack: --ctproto requires a nonzero protocol")
            elif name in ("ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst"):
                v = _addr_opt(a, name)
            elif name.endswith("port"):
                v = parse_portrc(a, "conntrack", name)
            elif name == "ctstatus":
                v = 0
                for part in a.split(","):
                    if part not in STATUS_BITS:
                        raise XtError(f"Bad ctstatus \"{part}\"")
                    v |= STATUS_BITS[part]
            elif name == "ctexpire":
                if a.count(":") > 1:
                    raise XtError('conntrack: Too many components for option "--ctexpire" (max: 2)\n')
                lo_s, colon, hi_s = a.partition(":")
                lo = strtoui(lo_s, 0, 0xFFFFFFFF)
                hi = strtoui(hi_s, 0, 0xFFFFFFFF) if colon else lo
                if lo is None or hi is None:
                    near = lo_s if lo is None else hi_s
                    raise XtError(f'conntrack: bad value for option "--ctexpire" near "{near}", '
                                  "or out of range (0-4294967295).\n")
                v = (lo, hi)
            else:  # ctdir
                if a.upper() == "ORIGINAL":
                    v = "ORIGINAL"
                elif a.upper() == "REPLY":
                    v = "REPLY"
                else:
                    raise XtError(f'conntrack: Bad value for "--ctdir" option: "{a}"')
            items[name] = (o.invert, v)
        m.items = items
        return m

    ORDER = ("ctstate", "ctproto", "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst", "ctorigsrcport",
             "ctorigdstport", "ctreplsrcport", "ctrepldstport", "ctstatus", "ctexpire", "ctdir")

    def _text(self, prefix: str, numeric: bool) -> str:
        out = []
        for name in self.ORDER:
            if name not in self.items:
                continue
            inv, v = self.items[name]
            p = "! " if inv else ""
            if name == "ctstate":
                out.append(f"{p}{prefix}ctstate " + states_text(v, STATE_ORDER))
            elif name == "ctproto":
                out.append(f"{p}{prefix}ctproto {v}")
            elif name in ("ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst"):
                a, msk = v
                txt = "anywhere" if not numeric and msk == 0 else ip_str(a) + mask_text(msk, list_mode=True)
                out.append(f"{p}{prefix}{name} {txt}")
            elif name.endswith("port"):
                lo, hi = v
                out.append(f"{p}{prefix}{name} " + (f"{lo}" if lo == hi else f"{lo}:{hi}"))
            elif name == "ctstatus":
                out.append(f"{p}{prefix}ctstatus " + (",".join(n for n in ("EXPECTED", "SEEN_REPLY", "ASSURED",
                                                                           "CONFIRMED") if v & STATUS_BITS[n])
                                                     or "NONE"))
            elif name == "ctexpire":
                lo, hi = v
                out.append(f"{p}{prefix}ctexpire " + (f"{lo}" if lo == hi else f"{lo}:{hi}"))
            else:
                out.append(f"{prefix}ctdir {v}")
        return " ".join(out)

    def save(self) -> str:
        return self._text("--", True)

    def describe(self, numeric: bool) -> str:
        return self._text("", numeric)

    def match(self, ctx: PacketCtx) -> bool:
        items = self.items
        meta = ctx.meta
        ct = meta.ct
        if "ctstate" in items:
            inv, mask = items["ctstate"]
            bit = packet_statebit(ctx)
            if ct is not None:
                if ct.status & IPS_SRC_NAT:
                    bit |= ST_SNAT
                if ct.status & IPS_DST_NAT:
                    bit |= ST_DNAT
            if bool(mask & bit) == inv:
                return False
        if ct is None:
            return "ctstate" in items
        if "ctdir" in items:
            reply = meta.ctinfo >= IP_CT_IS_REPLY
            if reply != (items["ctdir"][1] == "REPLY"):
                return False
        orig, repl = ct.tuple_orig, ct.tuple_reply
        for name, tup, idx in (("ctorigsrc", orig, 0), ("ctorigdst", orig, 1), ("ctreplsrc", repl, 0),
                               ("ctrepldst", repl, 1)):
            if name in items:
                inv, (a, msk) = items[name]
                if (((tup[idx] ^ a) & msk) == 0) == inv:
                    return False
        if "ctproto" in items:
            inv, p = items["ctproto"]
            if (orig[2] == p) == inv:
                return False
        for name, tup, idx in (("ctorigsrcport", orig, 3), ("ctorigdstport", orig, 4),
                               ("ctreplsrcport", repl, 3), ("ctrepldstport", repl, 4)):
            if name in items:
                inv, (lo, hi) = items[name]
                if (lo <= tup[idx] <= hi) == inv:
                    return False
        if "ctstatus" in items:
            inv, mask = items["ctstatus"]
            if bool(mask & ct.status) == inv:
                return False
        if "ctexpire" in items:
            inv, (lo, hi) = items["ctexpire"]
            left = max(0, (ct.timeout - ctx.ns.sched.now) // 1_000_000_000)
            if (lo <= left <= hi) == inv:
                return False
        return True


# -- comment -------------------------------------------------------------------------------
class CommentMatch(Match):
    name = "comment"
    options = (OptSpec("comment", 1, False),)
    __slots__ = ("text",)
    text: str

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("comment", opts)
        o = need("comment", got, "comment")
        m = cls()
        m.text = o.arg[:255]   # iptables-nft takes any length; xt_comment_info keeps 255 characters
        return m

    def save(self) -> str:
        return "--comment " + quote(self.text)

    def describe(self, numeric: bool) -> str:
        return f"/* {self.text} */"

    def match(self, ctx: PacketCtx) -> bool:
        return True


# -- physdev ------------------------------------------------------------------------------
class PhysdevMatch(Match):
    name = "physdev"
    options = (OptSpec("physdev-in", 1, True), OptSpec("physdev-out", 1, True), OptSpec("physdev-is-in", 0, True),
               OptSpec("physdev-is-out", 0, True), OptSpec("physdev-is-bridged", 0, True))
    __slots__ = ("items",)
    items: dict[str, tuple[bool, str]]

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("physdev", opts)
        if not got:
            raise XtError("PHYSDEV: no physdev option specified")
        m = cls()
        m.items = {k: (o.invert, o.arg) for k, o in got.items()}
        return m

    def _text(self, save: bool) -> str:
        out = []
        for k in ("physdev-is-in", "physdev-in", "physdev-is-out", "physdev-out", "physdev-is-bridged"):
            if k in self.items:
                inv, a = self.items[k]
                out.append(("! " if inv else "") + f"--{k}" + (f" {a}" if a else ""))
        s = " ".join(out)
        return s if save else "PHYSDEV match " + s

    def save(self) -> str:
        return self._text(True)

    def describe(self, numeric: bool) -> str:
        return self._text(False)

    def index_physdev(self) -> tuple[str | None, str | None]:
        """`--physdev-in NAME` / `--physdev-out NAME`, not inverted and without a `+` wildcard."""
        pins: list[str | None] = []
        for k in ("physdev-in", "physdev-out"):
            inv, name = self.items.get(k, (True, ""))
            pins.append(name if not inv and name and not name.endswith("+") else None)
        return pins[0], pins[1]

    def match(self, ctx: PacketCtx) -> bool:
        from netplex.stack.netfilter.rule import iface_match
        it = self.items
        meta = ctx.meta
        physin, physout = meta.physin, meta.physout
        if physin is None and physout is None:
            return all(inv for inv, _ in it.values())
        if "physdev-is-bridged" in it and (physout is not None) == it["physdev-is-bridged"][0]:
            return False
        if "physdev-is-in" in it and (physin is not None) == it["physdev-is-in"][0]:
            return False
        if "physdev-is-out" in it and (physout is not None) == it["physdev-is-out"][0]:
            return False
        if "physdev-in" in it and physin is not None:
            inv, name = it["physdev-in"]
            if iface_match(name, physin.name) == inv:
                return False
        if "physdev-out" in it:
            if physout is None:
                return True
            inv, name = it["physdev-out"]
            if iface_match(name, physout.name) == inv:
                return False
        return True


# -- addrtype -----------------------------------------------------------------------------
RTN_NAMES = ("UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE", "UNREACHABLE",
             "PROHIBIT", "THROW", "NAT", "XRESOLVE")


def addr_type(ns: Any, a: int, dev: Any = None) -> int:
    """inet_dev_addr_type: the route type the local table gives an address."""
    if a >> 24 == 0 or a == 0xFFFFFFFF:
        return 3
    if a >> 28 == 14:
        return 5
    if dev is not None:
        for ifa in ns.dev_addrs(dev):
            if ifa.addr == a:
                return 2
        return 1
    if ns.is_local_addr(a) or a >> 24 == 127:
        return 2
    local = ns.fib.tables.get(255)
    if local is not None:
        for r in local.find(a, 32):
            if r.type == "broadcast":
                return 3
    return 1


class AddrtypeMatch(Match):
    name = "addrtype"
    options = (OptSpec("src-type", 1, True), OptSpec("dst-type", 1, True), OptSpec("limit-iface-in", 0),
               OptSpec("limit-iface-out", 0))
    __slots__ = ("dinv", "dst", "lin", "lout", "sinv", "src")
    dinv: bool
    dst: int
    lin: bool
    lout: bool
    sinv: bool
    src: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("addrtype", opts)
        m = cls()
        m.src = m.dst = 0
        m.sinv = m.dinv = False
        for key in ("src-type", "dst-type"):
            if key in got:
                v = 0
                for part in got[key].arg.split(","):
                    if part.upper() not in RTN_NAMES:
                        raise XtError(f"addrtype: bad type \"{part}\"")
                    v |= 1 << RTN_NAMES.index(part.upper())
                if key == "src-type":
                    m.src, m.sinv = v, got[key].invert
                else:
                    m.dst, m.dinv = v, got[key].invert
        m.lin, m.lout = "limit-iface-in" in got, "limit-iface-out" in got
        if "src-type" not in got and "dst-type" not in got:
            raise XtError("addrtype: you must specify --src-type or --dst-type")
        if m.lin and m.lout:
            raise XtError("addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
        if rule.hooks is not None:
            h = next(iter(rule.hooks))
            if (m.lin and h in ("OUTPUT", "POSTROUTING")) or (m.lout and h in ("PREROUTING", "INPUT")):
                raise XtError(f"addrtype: --limit-iface-{'in' if m.lin else 'out'} is not valid in {h}")
        return m

    @staticmethod
    def _types(v: int) -> str:
        return ",".join(n for i, n in enumerate(RTN_NAMES) if v & (1 << i))

    def save(self) -> str:
        out = []
        if self.src:
            out.append(("! " if self.sinv else "") + "--src-type " + self._types(self.src))
        if self.dst:
            out.append(("! " if self.dinv else "") + "--dst-type " + self._types(self.dst))
        if self.lin:
            out.append("--limit-iface-in")
        if self.lout:
            out.append("--limit-iface-out")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = ["ADDRTYPE match"]
        if self.src:
            out.append(("!" if self.sinv else "") + "src-type " + self._types(self.src))
        if self.dst:
            out.append(("!" if self.dinv else "") + "dst-type " + self._types(self.dst))
        if self.lin:
            out.append("limit-in")
        if self.lout:
            out.append("limit-out")
        return " ".join(out)

    def match(self, ctx: PacketCtx) -> bool:
        dev = ctx.in_dev if self.lin else ctx.out_dev if self.lout else None
        ns = ctx.ns
        if self.src and bool(self.src & (1 << addr_type(ns, ctx.ip.src, dev))) == self.sinv:
            return False
        if self.dst and bool(self.dst & (1 << addr_type(ns, ctx.ip.dst, dev))) == self.dinv:
            return False
        return True


# -- limit ---------------------------------------------------------------------------------
XT_LIMIT_SCALE = 10000
HZ = 250
CREDITS_PER_JIFFY = 128   # POW2_BELOW32(0xFFFFFFFF / (HZ*60*60*24))
RATES = (("day", XT_LIMIT_SCALE * 24 * 60 * 60), ("hour", XT_LIMIT_SCALE * 60 * 60), ("min", XT_LIMIT_SCALE * 60),
         ("sec", XT_LIMIT_SCALE))


def parse_rate(s: str) -> int:
    num, slash, unit = s.partition("/")
    mult = 1
    if slash:
        u = unit.lower()
        if not u:
            raise XtError(f"bad rate \"{s}\"'")
        for full, m in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)):
            if full.startswith(u):
                mult = m
                break
        else:
            raise XtError(f"bad rate \"{s}\"'")
    digits = ""
    for ch in num:
        if not ch.isdigit():
            break
        digits += ch
    r = (int(digits) & 0xFFFFFFFF) if digits else 0   # atoi(3): the low 32 bits
    if not r:
        raise XtError(f"bad rate \"{s}\"'")
    val = XT_LIMIT_SCALE * mult // r
    if val == 0:
        raise XtError(f"Rate too fast \"{s}\"\n")
    return val


def rate_text(period: int, rates: tuple[tuple[str, int], ...] = RATES) -> str:
    """print_rate: the largest unit that shows the rate exactly enough (`rates` in the extension's scale)."""
    i = 1
    while i < len(rates):
        mult = rates[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    name, mult = rates[i - 1]
    return f"{mult // period}/{name}"


def user2credits(user: int) -> int:
    return user * HZ * CREDITS_PER_JIFFY // XT_LIMIT_SCALE


class LimitMatch(Match):
    name = "limit"
    options = (OptSpec("limit", 1), OptSpec("limit-burst", 1))
    __slots__ = ("avg", "burst", "cap", "cost", "credit", "prev")
    avg: int
    burst: int
    cap: int
    cost: int
    credit: int
    prev: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("limit", opts)
        m = cls()
        m.avg = parse_rate(got["limit"].arg) if "limit" in got else XT_LIMIT_SCALE * 3600 // 3
        m.burst = 5
        if "limit-burst" in got:
            b = strtoui(got["limit-burst"].arg, 0, 10000)
            if b is None:
                raise XtError("limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n")
            m.burst = b
        m.prev = -1
        m.cap = user2credits(m.avg * m.burst)
        m.cost = user2credits(m.avg)
        m.credit = m.cap
        return m

    def save(self) -> str:
        s = "--limit " + rate_text(self.avg)
        if self.burst != 5:
            s += f" --limit-burst {self.burst}"
        return s

    def describe(self, numeric: bool) -> str:
        return f"limit: avg {rate_text(self.avg)} burst {self.burst}"

    def same(self, other: Match) -> bool:
        return isinstance(other, LimitMatch) and self.save() == other.save()

    def match(self, ctx: PacketCtx) -> bool:
        now = ctx.ns.sched.now * HZ // 1_000_000_000
        if self.prev < 0:
            self.prev = now
        self.credit += (now - self.prev) * CREDITS_PER_JIFFY
        self.prev = now
        self.credit = min(self.credit, self.cap)
        if self.credit >= self.cost:
            self.credit -= self.cost
            return True
        return False


# -- length / tos / dscp / ttl ----------------------------------------------------------
class LengthMatch(Match):
    name = "length"
    options = (OptSpec("length", 1, True),)
    __slots__ = ("hi", "inv", "lo")
    hi: int
    inv: bool
    lo: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("length", opts)
        o = need("length", got, "length")
        a, colon, b = o.arg.partition(":")
        lo = strtoui(a, 0, 65535) if a else 0
        hi = (strtoui(b, 0, 65535) if b else 65535) if colon else lo
        if b.count(":"):
            raise XtError('length: Too many components for option "--length" (max: 2)\n')
        if lo is None or hi is None:
            near = a if (lo is None) else b
            raise XtError(f'length: bad value for option "--length" near "{near}", or out of range (0-65535).\n')
        m = cls()
        m.lo, m.hi, m.inv = lo, hi, o.invert
        return m

    def _r(self) -> str:
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}:{self.hi}"

    def save(self) -> str:
        return ("! " if self.inv else "") + "--length " + self._r()

    def describe(self, numeric: bool) -> str:
        return "length " + ("!" if self.inv else "") + self._r()

    def match(self, ctx: PacketCtx) -> bool:
        n = ctx.ip.wire_len()
        return (self.lo <= n <= self.hi) != self.inv


TOS_NAMES = (("Minimize-Delay", 0x10), ("Maximize-Throughput", 0x08), ("Maximize-Reliability", 0x04),
             ("Minimize-Cost", 0x02), ("Normal-Service", 0x00))


def parse_tos_value(s: str, ext: str = "tos") -> tuple[int, int]:
    for n, v in TOS_NAMES:
        if s.lower() == n.lower():
            return v, 0x3F
    vs, slash, ms = s.partition("/")
    val = strtoui(vs, 0, 255)
    mask = strtoui(ms, 0, 255) if slash else 0xFF
    if val is None or mask is None:
        raise XtError(f"Symbolic name \"{s}\" is unknown" if ext == "tos" else f"{ext}: bad value \"{s}\"")
    return val, mask


class TosMatch(Match):
    name = "tos"
    options = (OptSpec("tos", 1, True),)
    __slots__ = ("inv", "mask", "val")
    inv: bool
    mask: int
    val: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("tos", opts)
        o = need("tos", got, "tos")
        m = cls()
        m.val, m.mask = parse_tos_value(o.arg)
        m.inv = o.invert
        return m

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--tos 0x{self.val:02x}/0x{self.mask:02x}"

    def describe(self, numeric: bool) -> str:
        s = "tos match" + ("!" if self.inv else "")
        if not numeric and self.mask == 0x3F:
            for n, v in TOS_NAMES:
                if v == self.val:
                    return s + " " + n
        return s + f"0x{self.val:02x}/0x{self.mask:02x}"

    def match(self, ctx: PacketCtx) -> bool:
        return ((ctx.ip.tos & self.mask) == self.val) != self.inv


DSCP_CLASSES = {"CS0": 0, "CS1": 8, "CS2": 16, "CS3": 24, "CS4": 32, "CS5": 40, "CS6": 48, "CS7": 56, "BE": 0,
                "AF11": 10, "AF12": 12, "AF13": 14, "AF21": 18, "AF22": 20, "AF23": 22, "AF31": 26, "AF32": 28,
                "AF33": 30, "AF41": 34, "AF42": 36, "AF43": 38, "EF": 46}


def parse_dscp(got: dict[str, Opt], ext: str, opt: str = "dscp", cls_opt: str = "dscp-class") -> tuple[int, bool]:
    if opt in got and cls_opt in got:
        raise XtError(f"{ext}: option \"--{opt}\" cannot be used together with \"--{cls_opt}\".\n")
    if opt in got:
        v = strtoui(got[opt].arg, 0, 0x3F)
        if v is None:
            raise XtError(f"{ext}: bad value for option \"--{opt}\", or out of range (0-63).\n")
        return v, got[opt].invert
    if cls_opt in got:
        c = got[cls_opt].arg.upper()
        if c not in DSCP_CLASSES:
            raise XtError(f"Invalid DSCP value `{got[cls_opt].arg}'")
        return DSCP_CLASSES[c], got[cls_opt].invert
    raise XtError(f"{ext}: Parameter --{opt} is required")


class DscpMatch(Match):
    name = "dscp"
    options = (OptSpec("dscp", 1, True), OptSpec("dscp-class", 1, True))
    __slots__ = ("inv", "val")
    inv: bool
    val: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("dscp", opts)
        m = cls()
        m.val, m.inv = parse_dscp(got, "dscp")
        return m

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--dscp 0x{self.val:02x}"

    def describe(self, numeric: bool) -> str:
        return "DSCP match " + ("!" if self.inv else "") + f"0x{self.val:02x}"

    def match(self, ctx: PacketCtx) -> bool:
        return ((ctx.ip.tos >> 2) == self.val) != self.inv


class TtlMatch(Match):
    name = "ttl"
    options = (OptSpec("ttl-eq", 1, True), OptSpec("ttl-lt", 1), OptSpec("ttl-gt", 1))
    __slots__ = ("mode", "ttl")
    mode: str
    ttl: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        if len(opts) > 1:
            # whatever the order given, libxt_ttl names the later option of its table first
            order = ["ttl-eq", "ttl-lt", "ttl-gt"]
            a, b = sorted((opts[0].name, opts[1].name), key=lambda n: -order.index(n) if n in order else 9)
            raise XtError(f'ttl: option "--{a}" cannot be used together with "--{b}".\n')
        if not opts:
            raise XtError("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt")
        o = opts[0]
        v = strtoui(o.arg, 0, 255)
        if v is None:
            raise XtError(f"ttl: bad value for option \"--{o.name}\", or out of range (0-255).\n")
        m = cls()
        m.mode = {"ttl-eq": "ne" if o.invert else "eq", "ttl-lt": "lt", "ttl-gt": "gt"}[o.name]
        m.ttl = v
        return m

    def save(self) -> str:
        return {"eq": "--ttl-eq", "ne": "! --ttl-eq", "lt": "--ttl-lt", "gt": "--ttl-gt"}[self.mode] + f" {self.ttl}"

    def describe(self, numeric: bool) -> str:
        return "TTL match TTL " + {"eq": "==", "ne": "!=", "lt": "<", "gt": ">"}[self.mode] + f" {self.ttl}"

    def match(self, ctx: PacketCtx) -> bool:
        t = ctx.ip.ttl
        mode = self.mode
        if mode == "eq":
            return t == self.ttl
        if mode == "ne":
            return t != self.ttl
        if mode == "lt":
            return t < self.ttl
        return t > self.ttl


# -- pkttype ------------------------------------------------------------------------------
PKT_TYPES = (("unicast", 0), ("broadcast", 1), ("multicast", 2), ("host", 0), ("otherhost", 3), ("outgoing", 4),
             ("loopback", 5))


class PkttypeMatch(Match):
    name = "pkttype"
    options = (OptSpec("pkt-type", 1, True),)
    __slots__ = ("inv", "type")
    inv: bool
    type: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("pkttype", opts)
        o = need("pkttype", got, "pkt-type")
        for n, v in PKT_TYPES:
            if n == o.arg.lower():
                m = cls()
                m.type, m.inv = v, o.invert
                return m
        raise XtError(f"Bad packet type '{o.arg}'")

    def _name(self) -> str:
        return next(n for n, v in PKT_TYPES if v == self.type)

    def save(self) -> str:
        return ("! " if self.inv else "") + "--pkt-type " + self._name()

    def describe(self, numeric: bool) -> str:
        return "PKTTYPE " + ("!" if self.inv else "") + "= " + self._name()

    def match(self, ctx: PacketCtx) -> bool:
        dst = ctx.frame.dst
        if ctx.in_dev is not None:
            t = 0 if not dst[0] & 1 else 1 if dst == b"\xff" * 6 else 2
        else:
            d = ctx.ip.dst
            t = 2 if d >> 28 == 14 else 1 if d == 0xFFFFFFFF else 0
        return (t == self.type) != self.inv


# -- owner --------------------------------------------------------------------------------
USERS = {"root": 0, "daemon": 1, "bin": 2, "sys": 3, "nobody": 65534}
GROUPS = {"root": 0, "daemon": 1, "bin": 2, "sys": 3, "adm": 4, "nogroup": 65534}


def parse_id_range(s: str, names: dict[str, int], what: str) -> tuple[int, int]:
    if s in names:
        return names[s], names[s]
    a, dash, b = s.partition("-")
    lo = strtoui(a, 0, 0xFFFFFFFE)
    hi = strtoui(b, 0, 0xFFFFFFFE) if dash else lo
    if lo is None or hi is None:
        opt = {"user": "uid-owner", "group": "gid-owner"}.get(what, what)
        raise XtError(f'owner: Bad value for "--{opt}" option: "{s}"')
    return lo, hi


class OwnerMatch(Match):
    name = "owner"
    options = (OptSpec("uid-owner", 1, True), OptSpec("gid-owner", 1, True), OptSpec("socket-exists", 0, True),
               OptSpec("suppl-groups", 0, False))
    hooks = frozenset({"OUTPUT", "POSTROUTING"})
    __slots__ = ("items",)
    items: dict[str, tuple[bool, Any]]

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("owner", opts)
        seen: list[str] = []
        for o in opts:
            if o.name == "suppl-groups" and "gid-owner" not in seen:
                raise XtError("owner: --suppl-groups requires --gid-owner")
            seen.append(o.name)
        if not got:
            raise XtError("owner: At least one of --uid-owner, --gid-owner or --socket-exists is required")
        m = cls()
        items: dict[str, tuple[bool, Any]] = {}
        for k, o in got.items():
            if k == "uid-owner":
                items[k] = (o.invert, parse_id_range(o.arg, USERS, "user"))
            elif k == "gid-owner":
                items[k] = (o.invert, parse_id_range(o.arg, GROUPS, "group"))
            else:
                items[k] = (o.invert, None)
        m.items = items
        return m

    def _text(self) -> str:
        out = []
        for k in ("socket-exists", "uid-owner", "gid-owner", "suppl-groups"):
            if k in self.items:
                inv, v = self.items[k]
                s = ("! " if inv else "") + f"--{k}"
                if v is not None:
                    s += f" {v[0]}" if v[0] == v[1] else f" {v[0]}-{v[1]}"
                out.append(s)
        return " ".join(out)

    def save(self) -> str:
        return self._text()

    def describe(self, numeric: bool) -> str:
        return "owner " + self._text().replace("--", "").replace("-owner", " match")

    def match(self, ctx: PacketCtx) -> bool:
        sk = ctx.meta.local_socket
        items = self.items
        if sk is None:
            return all(inv for inv, _ in items.values() if True)
        uid = sk.uid
        gid = sk.gid
        for k, (inv, v) in items.items():
            if k == "uid-owner":
                ok = v[0] <= uid <= v[1]
            elif k == "gid-owner":
                ok = v[0] <= gid <= v[1]
            else:
                continue
            if ok == inv:
                return False
        return not ("socket-exists" in items and items["socket-exists"][0])


# -- statistic ----------------------------------------------------------------------------
class StatisticMatch(Match):
    name = "statistic"
    options = (OptSpec("mode", 1), OptSpec("probability", 1, True), OptSpec("every", 1, True),
               OptSpec("packet", 1))
    __slots__ = ("count", "every", "inv", "mode", "packet", "prob", "rng")
    count: int
    every: int
    inv: bool
    mode: str
    packet: int
    prob: int
    rng: random.Random | None

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("statistic", opts)
        m = cls()
        m.inv = False
        m.rng = None
        if "mode" not in got:
            raise XtError("statistic: option \"--mode\" must be specified\n") if not opts else \
                XtError("statistic: no mode specified")
        mode = got["mode"].arg
        if mode not in ("random", "nth"):
            raise XtError(f"Bad mode \"{mode}\"")
        m.mode = mode
        m.prob = 0
        m.every = m.packet = 0
        if "probability" in got:
            if mode != "random":
                raise XtError("statistic: option \"--probability\" can only be used with --mode random")
            try:
                p = float(got["probability"].arg)
            except ValueError:
                p = -1.0
            if not 0.0 <= p <= 1.0:
                raise XtError('statistic: bad value for option "--probability", or out of range (0-1).\n')
            m.prob = int(0x80000000 * p + 0.5)
            m.inv = got["probability"].invert
        for k in ("every", "packet"):
            if k in got:
                if mode != "nth":
                    raise XtError(f"statistic: option \"--{k}\" can only be used with --mode nth")
                v = strtoui(got[k].arg, 1 if k == "every" else 0, 0xFFFFFFFF)
                if v is None:
                    raise XtError(f"statistic: bad value for option \"--{k}\"")
                if k == "every":
                    m.every = v - 1
                    m.inv = got[k].invert
                else:
                    m.packet = v
        if mode == "nth":
            if "every" not in got:
                raise XtError("--every and --packet must be specified when using nth mode")
            if "packet" not in got:
                raise XtError("statistic: option \"--every\" also requires \"--packet\".\n")
            if m.packet > m.every:
                raise XtError("--packet can't be bigger than --every")
        elif "probability" not in got:
            raise XtError("statistic: option \"--mode random\" requires \"--probability\".\n")
        m.count = m.every - m.packet
        return m

    def save(self) -> str:
        inv = " !" if self.inv else ""
        if self.mode == "random":
            return f"--mode random{inv} --probability {self.prob / 0x80000000:.11f}"
        return f"--mode nth{inv} --every {self.every + 1} --packet {self.packet}"

    def describe(self, numeric: bool) -> str:
        inv = " !" if self.inv else ""
        if self.mode == "random":
            return f"statistic mode random{inv} probability {self.prob / 0x80000000:.11f}"
        s = f"statistic mode nth{inv} every {self.every + 1}"
        if self.packet:
            s += f" packet {self.packet}"
        return s

    def match(self, ctx: PacketCtx) -> bool:
        if self.mode == "random":
            rng = self.rng
            if rng is None:
                rng = self.rng = random.Random(ctx.ns.world.rng.getrandbits(64))
            return ((rng.getrandbits(32) & 0x7FFFFFFF) < self.prob) != self.inv
        o = self.count
        n = 0 if o == self.every else o + 1
        self.count = n
        return (n == self.packet) != self.inv


for _cls in (TcpMatch, UdpMatch, IcmpMatch, MultiportMatch, IprangeMatch, MacMatch, MarkMatch, ConnmarkMatch,
             StateMatch, ConntrackMatch, CommentMatch, PhysdevMatch, AddrtypeMatch, LimitMatch, LengthMatch,
             TosMatch, DscpMatch, TtlMatch, PkttypeMatch, OwnerMatch, StatisticMatch):
    register_match(_cls)
