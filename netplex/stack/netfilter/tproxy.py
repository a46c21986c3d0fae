"""Transparent proxying: the TPROXY target and the `socket` match (net/netfilter/xt_TPROXY.c,
net/netfilter/xt_socket.c, nf_tproxy_ipv4.c; iptables' libxt_TPROXY.c and libxt_socket.c;
iptables-extensions(8)).

Both rest on sockets a proxy opened with IP_TRANSPARENT (Envoy, HAProxy, a tproxy-aware
daemon): TPROXY hands a packet to such a socket (the established one for the packet's
addresses, else the listener on `--on-ip`:`--on-port`) and marks it, and drops it when there
is none (`tproxy_tg4`: `NF_DROP`); `socket --transparent` matches only packets of such a
socket. No program netplex runs opens an IP_TRANSPARENT socket, so TPROXY drops every packet
it sees and `socket --transparent` never matches — what the kernel does on a host where the
proxy is not running. Rules parse, list, save and restore as iptables 1.8.9's, and the kernel's
checks are kept: TPROXY only in mangle's PREROUTING and only with `-p tcp` or `-p udp`;
`socket` only from PREROUTING and INPUT. Without `--transparent` the `socket` match looks the
packet's socket up in the namespace's tables (`nf_sk_lookup_slow_v4`: the established TCP
socket, else the listener; the bound UDP socket), ignoring a socket bound to 0.0.0.0 unless
`--nowildcard`; `--restore-skmark` copies the socket's mark (0: netplex has no SO_MARK).
"""
from __future__ import annotations

from typing import Any

from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.netfilter.core import (
    NF_DROP,
    Match,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    Target,
    XtError,
    register_match,
    register_target,
)
from netplex.stack.netfilter.matches import need, xt_once
from netplex.stack.netfilter.parse import SERVICES, parse_ip
from netplex.stack.netfilter.rule import ip_str

__all__ = ["SocketMatch", "TproxyTarget"]

IPPROTO_TCP, IPPROTO_UDP = 6, 17


def _strtoui_prefix(s: str) -> tuple[int | None, str]:
    """xtables_strtoui with an end pointer: the number at the start of `s` (strtoul, base 0)
    and what follows it; None when no number in 32 bits starts there."""
    i = 0
    base = 10
    if s[:2].lower() == "0x":
        base, i = 16, 2
    elif s[:1] == "0":
        base = 8
    digits = "0123456789abcdef"[:base]
    j = i
    while j < len(s) and s[j].lower() in digits:
        j += 1
    if j == i and base != 8:
        return None, s
    v = int(s[i:j], base) if j > i else 0
    return (v if v <= 0xFFFFFFFF else None), s[j:]


def parse_markmask(ext: str, opt: str, arg: str) -> tuple[int, int]:
    """XTTYPE_MARKMASK32 (xtopt_parse_markmask): `value[/mask]`, the mask all ones when left out."""
    bad = f"{ext}: bad integer value for option \"--{opt}\", or out of range.\n"
    value, rest = _strtoui_prefix(arg)
    if value is None:
        raise XtError(bad)
    mask = 0xFFFFFFFF
    if rest.startswith("/"):
        m, rest = _strtoui_prefix(rest[1:])
        if m is None:
            raise XtError(bad)
        mask = m
    if rest:
        raise XtError(f"{ext}: trailing garbage after value for option \"--{opt}\".\n")
    return value, mask


def parse_service_port(arg: str) -> int:
    """XTTYPE_PORT (xtables_getportbyname: getaddrinfo's service, a number kept to 16 bits)."""
    if arg.isdigit():
        return int(arg) & 0xFFFF
    if arg in SERVICES:
        return SERVICES[arg]
    raise XtError(f"Port \"{arg}\" does not resolve to anything.\n")


def parse_host_addr(arg: str) -> int:
    """XTTYPE_HOST (xtopt_parse_host: getaddrinfo, the first IPv4 address)."""
    a = parse_ip(arg)
    if a is None:
        if arg == "localhost":
            return 0x7F000001
        raise XtError("getaddrinfo: Name or service not known\n")
    return a


class TproxyTarget(Target):
    """TPROXY --on-port P [--on-ip A] [--tproxy-mark V[/M]] (revision 1)."""

    name = "TPROXY"
    tables = ("mangle",)
    hooks = frozenset(("PREROUTING",))
    options = (OptSpec("on-port", 1), OptSpec("on-ip", 1), OptSpec("tproxy-mark", 1))
    __slots__ = ("laddr", "lport", "mark", "mask", "proto_ok")
    laddr: int
    lport: int
    mark: int
    mask: int
    proto_ok: bool

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("TPROXY", opts)
        t = cls()
        t.laddr, t.mark, t.mask = 0, 0, 0
        for o in opts:   # in the order given, as xtables_option_parse meets them
            if o.name == "on-port":
                t.lport = parse_service_port(o.arg)
            elif o.name == "on-ip":
                t.laddr = parse_host_addr(o.arg)
            else:
                t.mark, t.mask = parse_markmask("TPROXY", "tproxy-mark", o.arg)
        need("TPROXY", got, "on-port")
        # tproxy_tg4_check: only for TCP or UDP, not inverted
        t.proto_ok = rule.proto in (IPPROTO_TCP, IPPROTO_UDP) and not rule.proto_invert
        return t

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        return None if self.proto_ok else "Invalid argument"

    def save(self) -> str:
        return f"--on-port {self.lport} --on-ip {ip_str(self.laddr)} --tproxy-mark 0x{self.mark:x}/0x{self.mask:x}"

    def describe(self, numeric: bool) -> str:
        return f"TPROXY redirect {ip_str(self.laddr)}:{self.lport} mark 0x{self.mark:x}/0x{self.mask:x}"

    def target(self, ctx: PacketCtx) -> int:
        """tproxy_tg4: no socket netplex opens is transparent, so none takes the packet: NF_DROP."""
        ns = ctx.ns
        if ns.world.tracer.on:
            laddr = self.laddr
            if not laddr:   # nf_tproxy_laddr4: the incoming device's first address, else the destination
                addrs = ns.dev_addrs(ctx.in_dev) if ctx.in_dev is not None else []
                laddr = addrs[0].addr if addrs else ctx.ip.dst
            port = self.lport or _ports(ctx.ip)[1]
            ns.trace(ctx.hook, f"TPROXY: no IP_TRANSPARENT socket on {ip_str(laddr)}:{port} (netplex runs no "
                     "transparent proxy), dropped", hook=ctx.hook, table=ctx.table, chain=ctx.chain,
                     rule=ctx.rulenum, verdict="DROP")
        return NF_DROP


def _ports(ip: Any) -> tuple[int, int]:
    p = ip.payload
    return (p.sport, p.dport) if isinstance(p, (Tcp, Udp)) and not ip.frag else (0, 0)


SOCKET_FLAGS = ("transparent", "nowildcard", "restore-skmark")


class SocketMatch(Match):
    """socket [--transparent] [--nowildcard] [--restore-skmark] (revision 3)."""

    name = "socket"
    hooks = frozenset(("PREROUTING", "INPUT"))
    options = tuple(OptSpec(f, 0) for f in SOCKET_FLAGS)
    __slots__ = ("flags",)
    flags: frozenset[str]

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("socket", opts)
        m = cls()
        m.flags = frozenset(got)
        return m

    def save(self) -> str:
        return " ".join(f"--{f}" for f in SOCKET_FLAGS if f in self.flags)

    def describe(self, numeric: bool) -> str:
        return " ".join(["socket", *(f"--{f}" for f in SOCKET_FLAGS if f in self.flags)])

    def match(self, ctx: PacketCtx) -> bool:
        """socket_match: the packet's socket, not a wildcard-bound one (unless --nowildcard),
        a transparent one with --transparent (none in netplex)."""
        if "transparent" in self.flags:
            return False
        ip = ctx.ip
        if ip.frag:
            return False
        table = ctx.ns.sockets
        sport, dport = _ports(ip)
        laddr: int | None = None
        if ip.proto == IPPROTO_TCP and isinstance(ip.payload, Tcp):
            sk = table.tcp_conns.get((ip.dst, dport, ip.src, sport))
            if sk is not None:
                laddr = ip.dst
            else:
                lst = table.tcp_listen.get(dport)
                if lst is not None and (not lst.laddr or lst.laddr == ip.dst):
                    laddr = lst.laddr
        elif ip.proto == IPPROTO_UDP and isinstance(ip.payload, Udp):
            usk = table.udp_lookup(ip)
            if usk is not None:
                laddr = usk.laddr
        if laddr is None or (not laddr and "nowildcard" not in self.flags):
            return False
        if "restore-skmark" in self.flags:
            ctx.meta.mark = 0     # sk->sk_mark: netplex sockets carry no SO_MARK
        return True


register_target(TproxyTarget)
register_match(SocketMatch)
