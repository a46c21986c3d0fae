"""IP sets (net/netfilter/ipset/) and the iptables `set` match and `SET` target (xt_set.c, libxt_set.c).

A namespace's sets live in `netfilter_of(ns).state["ipset"]` (name → IpSet, in
creation order). Types: hash:ip, hash:net, hash:ip,port, bitmap:port, family
inet only (IPv6 sets are refused: the simulator has no IPv6 data path). Each
element may carry a timeout (absolute expiry in simulated ns). Elements are
kept in insertion order; the kernel lists a hash in bucket order, which the
differential tests sort away. The `ipset` command is netplex/shell/ipset.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError
from netplex.stack.netfilter.core import (
    XT_CONTINUE,
    Match,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    Target,
    XtError,
    netfilter_of,
    register_match,
    register_target,
)
from netplex.stack.netfilter.matches import transport_ports
from netplex.stack.netfilter.parse import SERVICES
from netplex.stack.netfilter.rule import ip_str

IPSET_VERSION = "v7.17"
# type → (revision, dimension, base "Size in memory", bytes per element)
SET_TYPES: dict[str, tuple[int, int, int, int]] = {
    "hash:ip": (6, 1, 216, 40),
    "hash:net": (7, 1, 456, 48),
    "hash:ip,port": (7, 2, 216, 48),
    "bitmap:port": (3, 1, 72, 0),
}
PROTO_NUMS = {"tcp": 6, "udp": 17, "sctp": 132, "udplite": 136, "icmp": 1}
PROTO_TEXT = {v: k for k, v in PROTO_NUMS.items()}


class IpsetError(NetplexError):
    """An ipset failure: the message after `ipset v7.17: ` and the exit status (1 kernel/syntax, 2 usage)."""

    def __init__(self, msg: str, status: int = 1) -> None:
        super().__init__(msg, status=status)
        self.msg = msg


@dataclass
class IpSet:
    """struct ip_set: one named set."""

    name: str
    type: str
    initval: int
    hashsize: int = 1024
    maxelem: int = 65536
    timeout: int | None = None          # default element timeout (s); None: no timeout support
    prange: tuple[int, int] | None = None
    members: dict[Any, int | None] = field(default_factory=dict)   # element → expiry ns (None: never)

    @property
    def revision(self) -> int:
        return SET_TYPES[self.type][0]

    @property
    def dim(self) -> int:
        return SET_TYPES[self.type][1]

    def expire(self, now: int) -> None:
        dead = [k for k, exp in self.members.items() if exp is not None and exp <= now]
        for k in dead:
            del self.members[k]

    def header(self) -> str:
        if self.type == "bitmap:port":
            assert self.prange is not None
            s = f"range {self.prange[0]}-{self.prange[1]}"
            return s + (f" timeout {self.timeout}" if self.timeout is not None else "")
        s = f"family inet hashsize {self.hashsize} maxelem {self.maxelem}"
        if self.timeout is not None:
            s += f" timeout {self.timeout}"
        return s + f" bucketsize 12 initval 0x{self.initval:08x}"

    def memsize(self) -> int:
        _, _, base, per = SET_TYPES[self.type]
        if self.type == "bitmap:port":
            assert self.prange is not None
            bits = self.prange[1] - self.prange[0] + 1
            ext = bits * 8 if self.timeout is not None else 0    # one timeout slot per port
            return base + (bits + 63) // 64 * 8 + ext
        if self.timeout is not None:
            per += 24
        return base + per * len(self.members)

    # -- elements ----------------------------------------------------------------
    def parse_elem(self, text: str, proto_default: str = "tcp") -> list[Any]:
        """The element(s) a text names (a CIDR or range of hash:ip, a port range of bitmap:port expand)."""
        if self.type == "bitmap:port":
            return [("port", p) for p in parse_port_span(text, self)]
        if self.type == "hash:ip,port":
            ip_text, comma, port_text = text.partition(",")
            if not comma:
                raise IpsetError(f"Syntax error: Second element is missing from {text}.")
            proto, colon, port = port_text.partition(":")
            if not colon:
                proto, port = proto_default, port_text
            if proto == "icmp":
                raise IpsetError("netplex: ipset hash:ip,port entries of protocol icmp are not supported")
            if proto not in PROTO_NUMS:
                raise IpsetError(f"Syntax error: cannot parse '{proto}' as a protocol")
            lo_text, dash, hi_text = port.partition("-")
            lo = parse_service(lo_text)
            hi = parse_service(hi_text) if dash else lo
            ports = range(min(lo, hi), max(lo, hi) + 1)
            return [(a, PROTO_NUMS[proto], p) for a in parse_ip_span(ip_text) for p in ports]
        if self.type == "hash:net":
            addr, slash, plen_text = text.partition("/")
            a = parse_addr(addr)
            plen = 32
            if slash:
                if not plen_text.isdigit() or int(plen_text) > 32:
                    raise IpsetError(f"Syntax error: '{plen_text}' is out of range 0-32")
                plen = int(plen_text)
                if plen == 0:
                    raise IpsetError("The value of the CIDR parameter of the IP address is invalid")
            m = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            return [(a & m, plen)]
        return [(a,) for a in parse_ip_span(text)]

    def elem_text(self, k: Any) -> str:
        if self.type == "bitmap:port":
            return str(k[1])
        if self.type == "hash:ip,port":
            return f"{ip_str(k[0])},{PROTO_TEXT.get(k[1], str(k[1]))}:{k[2]}"
        if self.type == "hash:net":
            return ip_str(k[0]) if k[1] == 32 else f"{ip_str(k[0])}/{k[1]}"
        return ip_str(k[0])

    def contains(self, k: Any) -> bool:
        """A host (/32) is in a hash:net when a stored net holds it; a net only as itself."""
        if self.type == "hash:net" and k[1] == 32:
            a = k[0]
            for key in self.members:
                m = (0xFFFFFFFF << (32 - key[1])) & 0xFFFFFFFF
                if a & m == key[0]:
                    return True
            return False
        return k in self.members

    def packet_key(self, ip: Any, dirs: list[str]) -> Any:
        """The element a packet gives for the set's dimensions (src/dst per dimension), or None."""
        if len(dirs) < self.dim:
            return None
        ports = transport_ports(ip)
        if self.type == "bitmap:port":
            if ports is None or ip.proto not in (6, 17, 132, 136):
                return None
            return ("port", ports[0] if dirs[0] == "src" else ports[1])
        a = ip.src if dirs[0] == "src" else ip.dst
        if self.type == "hash:ip,port":
            if ports is None:
                return None
            return (a, ip.proto, ports[0] if dirs[1] == "src" else ports[1])
        if self.type == "hash:net":
            return (a, 32)
        return (a,)


def parse_addr(text: str) -> int:
    parts = text.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts):
        return (int(parts[0]) << 24) | (int(parts[1]) << 16) | (int(parts[2]) << 8) | int(parts[3])
    raise IpsetError(f"Syntax error: cannot parse {text}: resolving to IPv4 address failed")


def parse_ip_span(text: str) -> list[int]:
    """An address, a CIDR or a from-to range (hash:ip and hash:ip,port expand it)."""
    if "/" in text:
        addr, _, plen_text = text.partition("/")
        if not plen_text.isdigit() or int(plen_text) > 32:
            raise IpsetError(f"Syntax error: '{plen_text}' is out of range 0-32")
        plen = int(plen_text)
        m = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
        a = parse_addr(addr) & m
        lo, hi = a, a | (~m & 0xFFFFFFFF)
    elif "-" in text:
        x, _, y = text.partition("-")
        lo, hi = parse_addr(x), parse_addr(y)
        if lo > hi:
            lo, hi = hi, lo
    else:
        return [parse_addr(text)]
    if hi - lo >= 65536:
        raise IpsetError("The range is too big, cannot add more elements")
    return list(range(lo, hi + 1))


def parse_service(text: str) -> int:
    if text.isdigit() and int(text) <= 65535:
        return int(text)
    if text in SERVICES:
        return SERVICES[text]
    raise IpsetError(f"Syntax error: cannot parse '{text}' as a port number")


def parse_port_span(text: str, s: IpSet) -> list[int]:
    a, dash, b = text.partition("-")
    if ":" in a and not dash:
        a = a.partition(":")[2]
    lo = parse_service(a)
    hi = parse_service(b) if dash else lo
    if lo > hi:
        lo, hi = hi, lo
    assert s.prange is not None
    if lo < s.prange[0] or hi > s.prange[1]:
        raise IpsetError("Element is out of the range of the set")
    return list(range(lo, hi + 1))


def ipsets(ns: Any) -> dict[str, IpSet]:
    """The namespace's sets, name → IpSet (creation order)."""
    sets: dict[str, IpSet] = netfilter_of(ns).state.setdefault("ipset", {})
    return sets


def set_references(ns: Any, name: str) -> int:
    """How many rules name the set (struct ip_set's ref count, as `References:` shows)."""
    nf = netfilter_of(ns)
    n = 0
    for t in nf.tables.values():
        for ch in t.chains.values():
            for r in ch.rules:
                for ext in [*r.matches, *([r.tobj] if r.tobj is not None else [])]:
                    if isinstance(ext, (SetMatch, SetTarget)):
                        n += ext.refs(name)
    return n


# -- the set match and the SET target -----------------------------------------------------------
CMP_OPTS = ("packets-eq", "packets-lt", "packets-gt", "bytes-eq", "bytes-lt", "bytes-gt")


def parse_dirs(ext: str, text: str) -> list[str]:
    dirs = text.split(",")
    if not text or any(d not in ("src", "dst") for d in dirs):
        raise XtError("You must spefify (the comma separated list of) 'src' or 'dst'.")   # sic, libxt_set.h
    if len(dirs) > 6:
        raise XtError("Can't be more src/dst options than 6.")
    return dirs


def need_set(rule: RuleInfo, name: str) -> None:
    """libxt_set's get_set_byname: the set must exist when the rule is made."""
    if len(name) > 31:
        raise XtError(f"Setname '{name}' is too long, max 31 characters.")
    if rule.ns is None or name not in ipsets(rule.ns):
        raise XtError(f"Set {name} doesn't exist.\n")


class SetMatch(Match):
    name = "set"
    options = (OptSpec("match-set", 2, True), OptSpec("set", 2, True), OptSpec("return-nomatch", 0),
               OptSpec("update-counters", 0, True), OptSpec("update-subcounters", 0, True),
               *(OptSpec(n, 1, True) for n in CMP_OPTS))
    __slots__ = ("dirs", "extra", "inv", "setname")
    dirs: list[str]
    extra: list[str]
    inv: bool
    setname: str

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        m.setname, m.dirs, m.inv, m.extra = "", [], False, []
        for o in opts:
            if o.name in ("match-set", "set"):
                if o.name == "set":
                    rule.warn("--set option deprecated, please use --match-set\n")
                if m.setname:
                    raise XtError("--match-set can be specified only once")
                need_set(rule, o.args[0])
                m.setname, m.inv = o.args[0], o.invert
                m.dirs = parse_dirs("set", o.args[1])
            elif o.name == "return-nomatch":
                m.extra.append("--return-nomatch")
            elif o.name == "update-counters":
                if o.invert:
                    m.extra.append("! --update-counters")
            elif o.name == "update-subcounters":
                pass    # this kernel's revision keeps no subcounters: iptables-save shows nothing
            else:
                kind = o.name.partition("-")[0]
                if any(e.lstrip("! ").startswith(f"--{kind}-") for e in m.extra):
                    raise XtError(f"only one of the --{kind}-[eq|lt|gt] is allowed")
                if o.invert and not o.name.endswith("-eq"):
                    raise XtError(f"--{o.name} option cannot be inverted")
                if not o.arg.isdigit():
                    raise XtError(f"Cannot parse {o.arg} as a number")
                m.extra.append(("! " if o.invert else "") + f"--{o.name} {int(o.arg)}")
        if not m.setname:
            raise XtError("You must specify `--match-set' with proper arguments")
        order = ("--return-nomatch", "--update-counters", "--packets-", "--bytes-")
        m.extra.sort(key=lambda e: next(i for i, p in enumerate(order) if e.lstrip("! ").startswith(p)))
        return m

    def refs(self, name: str) -> int:
        return int(self.setname == name)

    def save(self) -> str:
        return " ".join([("! " if self.inv else "") + f"--match-set {self.setname} {','.join(self.dirs)}",
                         *self.extra])

    def describe(self, numeric: bool) -> str:
        return " ".join([("! " if self.inv else "") + f"match-set {self.setname} {','.join(self.dirs)}",
                         *(e.replace("--", "") for e in self.extra)])

    def match(self, ctx: PacketCtx) -> bool:
        s = ipsets(ctx.ns).get(self.setname)
        if s is None:
            return False
        s.expire(ctx.ns.sched.now)
        key = s.packet_key(ctx.ip, self.dirs)
        return (key is not None and s.contains(key)) != self.inv


class SetTarget(Target):
    name = "SET"
    options = (OptSpec("add-set", 2), OptSpec("del-set", 2), OptSpec("map-set", 2), OptSpec("exist", 0),
               OptSpec("timeout", 1))
    __slots__ = ("add", "delete", "exist", "timeout")
    add: tuple[str, list[str]] | None
    delete: tuple[str, list[str]] | None
    exist: bool
    timeout: int | None

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        t = cls()
        t.add = t.delete = None
        t.exist, t.timeout = False, None
        for o in opts:
            if o.name == "map-set":
                raise XtError("netplex: SET --map-set is not supported")
            if o.name in ("add-set", "del-set"):
                need_set(rule, o.args[0])
                val = (o.args[0], parse_dirs("SET", o.args[1]))
                if o.name == "add-set":
                    t.add = val
                else:
                    t.delete = val
            elif o.name == "exist":
                t.exist = True
            elif o.name == "timeout":
                if not o.arg.isdigit() or int(o.arg) > 4294967294:
                    raise XtError("Invalid value for option --timeout or out of range 0-4294967294")
                t.timeout = int(o.arg)
        if t.add is None and t.delete is None:
            raise XtError("You must specify either `--add-set' or `--del-set' or `--map-set'")
        return t

    def refs(self, name: str) -> int:
        return sum(1 for v in (self.add, self.delete) if v is not None and v[0] == name)

    def save(self) -> str:
        out = []
        if self.add is not None:
            out.append(f"--add-set {self.add[0]} {','.join(self.add[1])}")
        if self.delete is not None:
            out.append(f"--del-set {self.delete[0]} {','.join(self.delete[1])}")
        if self.exist:
            out.append("--exist")
        if self.timeout is not None:
            out.append(f"--timeout {self.timeout}")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        return self.save().replace("--", "")

    def target(self, ctx: PacketCtx) -> int:
        sets = ipsets(ctx.ns)
        now = ctx.ns.sched.now
        if self.add is not None:
            s = sets.get(self.add[0])
            if s is not None:
                s.expire(now)
                key = s.packet_key(ctx.ip, self.add[1])
                if key is not None and (key not in s.members or self.exist) and \
                        (key in s.members or len(s.members) < s.maxelem):
                    secs = self.timeout if self.timeout is not None else s.timeout
                    s.members[key] = now + secs * 1_000_000_000 if s.timeout is not None and secs else None
        if self.delete is not None:
            s = sets.get(self.delete[0])
            if s is not None:
                key = s.packet_key(ctx.ip, self.delete[1])
                s.members.pop(key, None)
        return XT_CONTINUE


register_match(SetMatch)
register_target(SetTarget)

__all__ = ["IPSET_VERSION", "SET_TYPES", "IpSet", "IpsetError", "ipsets", "set_references"]
