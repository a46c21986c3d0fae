"""More iptables matches real firewalls use: recent, hashlimit, connlimit, rpfilter, policy, sctp,
time, string, nfacct, u32 (net/netfilter/xt_*.c and extensions/libxt_*.c of iptables 1.8.9).

Each class parses its options as the 1.8.9 extension does (messages included),
prints iptables-save's text (`save`) and `iptables -L`'s (`describe`), and
decides on a packet (`match`). What the kernel's checkentry refuses is
`kernel_check` (an errno text, shown as the nf_tables batch failure).

What netplex does not model, said once here and in docs/arch/xt.md:
- `policy` (xt_policy.c): `--dir in` reads the sec_path of the SAs that
  decrypted the packet (`SkbMeta.sp`), `--dir out` the bundle xfrm_lookup
  chose for it (`SkbMeta.dst_xfrm`); each SA is compared with the policy
  elements (reqid, spi, proto, mode, tunnel-src/dst), in order with `--strict`.
- `sctp`: there is no SCTP stack; the match reads the SCTP common header
  and chunks of a raw protocol-132 payload (ports, chunk types and flags).
- `time`: the wall clock is CLOCK_REALTIME of the run (World.realtime_ns:
  a run starts at 2027-01-01 00:00:00 UTC, a Friday, as iptables-save's
  date line); the kernel's time zone is UTC, so `--kerneltz` and `--utc` agree.
- `hashlimit --hashlimit-rate-match` is parsed and saved; the simulator
  uses the token bucket for it as for the plain mode.
"""
from __future__ import annotations

import calendar
import ipaddress
import time
from typing import Any

from netplex.stack.netfilter.conntrack import TCP_STATE_NAMES, conntrack_of
from netplex.stack.netfilter.core import (
    Match,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    XtError,
    netfilter_of,
    register_match,
)
from netplex.stack.netfilter.matches import (
    HZ,
    need,
    parse_port_range,
    ports_save,
    rate_text,
    transport_ports,
    xt_once,
)
from netplex.stack.netfilter.parse import parse_addr_mask, parse_ip, strtoui
from netplex.stack.netfilter.rule import ip_str, mask_text

ALL128 = (1 << 128) - 1


def parse_ip6(s: str) -> int | None:
    try:
        return int(ipaddress.IPv6Address(s))
    except ValueError:
        return None


def ip6_str(a: int) -> str:
    """inet_ntop(AF_INET6)."""
    return ipaddress.IPv6Address(a).compressed

EINVAL = "Invalid argument"
ENOENT = "No such file or directory"


def conflict(ext: str, opts: list[Opt], groups: tuple[tuple[str, ...], ...]) -> None:
    """xtables_options_fcheck's `excl`: of two exclusive options given, the one first in the
    extension's option table is named first."""
    given = {o.name for o in opts}
    for group in groups:
        present = [n for n in group if n in given]
        if len(present) > 1:
            raise XtError(f"{ext}: option \"--{present[0]}\" cannot be used together with \"--{present[1]}\".\n")


def bad_value(ext: str, opt: str, lo: int, hi: int) -> XtError:
    return XtError(f"{ext}: bad value for option \"--{opt}\", or out of range ({lo}-{hi}).\n")


def uint_opt(ext: str, o: Opt, lo: int = 0, hi: int = 0xFFFFFFFF) -> int:
    v = strtoui(o.arg, lo, hi)
    if v is None:
        raise bad_value(ext, o.name, lo, hi)
    return v


def mask_of(plen: int) -> int:
    return (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0


# -- recent (xt_recent.c, libxt_recent.c) -------------------------------------------------
XT_RECENT_NAME_LEN = 200
RECENT_MODES = (("set", "SET"), ("rcheck", "CHECK"), ("update", "UPDATE"), ("remove", "REMOVE"))
RECENT_DEFAULT_NAME = "DEFAULT"
IP_LIST_TOT = 100          # module parameter ip_list_tot: entries per table
IP_PKT_LIST_TOT = 255      # timestamps kept per entry (the kernel sizes it from the largest --hitcount)


class RecentEntry:
    """struct recent_entry: one address, its last TTL and its timestamps (jiffies)."""

    __slots__ = ("addr", "stamps", "ttl")

    def __init__(self, addr: int, ttl: int) -> None:
        self.addr = addr
        self.ttl = ttl
        self.stamps: list[int] = []


def recent_tables(ns: Any) -> dict[str, dict[int, RecentEntry]]:
    """The namespace's recent tables (struct recent_net), name → address → entry (LRU order)."""
    tables: dict[str, dict[int, RecentEntry]] = netfilter_of(ns).state.setdefault("xt_recent", {})
    return tables


def recent_in_use(ns: Any, name: str) -> bool:
    """Whether a rule's recent match names the table (recent_mt_check made it, with its /proc file)."""
    for t in netfilter_of(ns).tables.values():
        for ch in t.chains.values():
            for r in ch.rules:
                if any(isinstance(m, RecentMatch) and m.rname == name for m in r.matches):
                    return True
    return False


def recent_proc_text(ns: Any, name: str) -> str | None:
    """/proc/net/xt_recent/NAME: `src=A ttl: T last_seen: J oldest_pkt: N J, J, ...` per entry."""
    tables = recent_tables(ns)
    if not recent_in_use(ns, name):
        tables.pop(name, None)      # recent_mt_destroy: the last rule naming the table is gone
        return None
    table = tables.get(name, {})
    out = []
    for e in table.values():
        stamps = ", ".join(str(s) for s in e.stamps)
        out.append(f"src={ip_str(e.addr)} ttl: {e.ttl} last_seen: {e.stamps[-1]} oldest_pkt: {len(e.stamps)} "
                   f"{stamps}\n")
    return "".join(out)


JIFFIES_BASE = 4294892296   # INITIAL_JIFFIES (-300 s at HZ=250): what jiffies reads at boot


class RecentMatch(Match):
    name = "recent"
    options = (OptSpec("set", 0, True), OptSpec("rcheck", 0, True), OptSpec("update", 0, True),
               OptSpec("remove", 0, True), OptSpec("seconds", 1), OptSpec("reap", 0), OptSpec("hitcount", 1),
               OptSpec("rttl", 0), OptSpec("name", 1), OptSpec("rsource", 0), OptSpec("rdest", 0),
               OptSpec("mask", 1))
    __slots__ = ("hitcount", "inv", "mask", "mode", "rdest", "reap", "rname", "rttl", "seconds", "v6")
    hitcount: int
    inv: bool
    mask: int
    mode: str
    rdest: bool
    reap: bool
    rname: str
    rttl: bool
    seconds: int
    v6: bool

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        m.mode, m.inv, m.seconds, m.reap, m.hitcount, m.rttl = "", False, 0, False, 0, False
        m.v6 = rule.family == 6
        m.rname, m.rdest, m.mask = RECENT_DEFAULT_NAME, False, ALL128 if m.v6 else 0xFFFFFFFF
        modes = [o.name for o in opts if o.name in ("set", "rcheck", "update", "remove")]
        conflict("recent", opts, (("set", "rcheck", "update", "remove"),))
        for o in opts:
            if o.name in ("set", "rcheck", "update", "remove"):
                m.mode, m.inv = o.name, o.invert
            elif o.name == "seconds":
                m.seconds = uint_opt("recent", o, 1)
            elif o.name == "reap":
                m.reap = True
            elif o.name == "hitcount":
                m.hitcount = uint_opt("recent", o)
            elif o.name == "rttl":
                if "set" in modes or "remove" in modes:
                    raise XtError(f"recent: option \"--rttl\" cannot be used together with \"--{modes[0]}\".\n")
                m.rttl = True
            elif o.name == "name":
                m.rname = o.arg
            elif o.name in ("rsource", "rdest"):
                m.rdest = o.name == "rdest"
            elif o.name == "mask":
                a = parse_ip6(o.arg) if m.v6 else parse_ip(o.arg)
                if a is None:
                    raise XtError(f"recent: bad value for option \"--mask\": \"{o.arg}\"\n")
                m.mask = a
        if not m.mode:
            raise XtError("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
        if m.reap and not m.seconds:
            raise XtError("recent: option \"--reap\" also requires \"--seconds\".\n")
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        """recent_mt_check: names, and what set/remove cannot combine with."""
        if self.mode in ("set", "remove") and (self.seconds or self.hitcount or self.rttl or self.reap):
            return EINVAL
        if not self.rname or len(self.rname) > XT_RECENT_NAME_LEN or "/" in self.rname or self.rname in (".", ".."):
            return EINVAL
        return None

    def save(self) -> str:
        s = ("! " if self.inv else "") + f"--{self.mode}"
        if self.seconds:
            s += f" --seconds {self.seconds}"
        if self.reap:
            s += " --reap"
        if self.hitcount:
            s += f" --hitcount {self.hitcount}"
        if self.rttl:
            s += " --rttl"
        s += f" --name {self.rname} --mask {self._mask()}"
        return s + (" --rdest" if self.rdest else " --rsource")

    def describe(self, numeric: bool) -> str:
        s = ("! " if self.inv else "") + "recent: " + dict(RECENT_MODES)[self.mode] + " "
        if self.seconds:
            s += f"seconds: {self.seconds} "
        if self.reap:
            s += "reap "
        if self.hitcount:
            s += f"hit_count: {self.hitcount} "
        if self.rttl:
            s += "TTL-Match "
        s += f"name: {self.rname} side: {'dest' if self.rdest else 'source'} mask: {self._mask()}"
        return s

    def _mask(self) -> str:
        return ip6_str(self.mask) if self.v6 else ip_str(self.mask)

    def match(self, ctx: PacketCtx) -> bool:
        """recent_mt: look the address up (with its TTL under --rttl), then set / check / update / remove."""
        ip = ctx.ip
        addr = (ip.dst if self.rdest else ip.src) & self.mask
        ttl = ip.ttl
        if ctx.out_dev is not None and ctx.in_dev is not None:
            ttl += 1        # a forwarded packet: the TTL as seen before forwarding
        now = JIFFIES_BASE + ctx.ns.sched.now * HZ // 1_000_000_000
        table = recent_tables(ctx.ns).setdefault(self.rname, {})
        e = table.get(addr)
        if e is not None and self.rttl and e.ttl != ttl:
            e = None
        ret = self.inv
        if e is None:
            if self.mode != "set":
                return ret
            if len(table) >= IP_LIST_TOT:
                del table[next(iter(table))]
            e = table[addr] = RecentEntry(addr, ttl)
            e.stamps.append(now)
            return not ret
        if self.mode == "set":
            ret = not ret
        elif self.mode == "remove":
            del table[addr]
            return not ret
        else:
            since = now - self.seconds * HZ
            hits = 0
            for st in e.stamps:
                if self.seconds and st < since:
                    continue
                hits += 1
                if not self.hitcount or hits >= self.hitcount:
                    ret = not ret
                    break
            if self.reap:
                self._reap(table, since, e, self.mode == "update" and ret)
        if self.mode == "set" or (self.mode == "update" and ret):
            self._touch(table, e, now, ttl)
        return ret

    @staticmethod
    def _reap(table: dict[int, RecentEntry], since: int, working: RecentEntry, update: bool) -> None:
        """recent_entry_reap: drop the least recently seen entry if its last stamp is older than `since`."""
        oldest = next(iter(table.values()), None)
        if oldest is None or (oldest is working and update):
            return
        if oldest.stamps[-1] < since:
            del table[oldest.addr]

    @staticmethod
    def _touch(table: dict[int, RecentEntry], e: RecentEntry, now: int, ttl: int) -> None:
        """recent_entry_update: a new timestamp, the entry moves to the LRU tail."""
        e.stamps.append(now)
        if len(e.stamps) > IP_PKT_LIST_TOT:
            del e.stamps[0]
        e.ttl = ttl
        del table[e.addr]
        table[e.addr] = e


# -- hashlimit (xt_hashlimit.c revision 3, libxt_hashlimit.c) ---------------------------------
XT_HASHLIMIT_SCALE = 1_000_000
HL_RATES = (("day", XT_HASHLIMIT_SCALE * 86400), ("hour", XT_HASHLIMIT_SCALE * 3600),
            ("min", XT_HASHLIMIT_SCALE * 60), ("sec", XT_HASHLIMIT_SCALE))
# CREDITS_PER_JIFFY_v2: the power of two below 2^64 / (HZ*60*60*24)
HL_CPJ = 1 << (((2**64 - 1) // (HZ * 86400)).bit_length() - 1)
HL_MODES = (("srcip", 1 << 0), ("srcport", 1 << 1), ("dstip", 1 << 2), ("dstport", 1 << 3))
HL_MODE_ORDER = ("srcip", "srcport", "dstip", "dstport")
HL_GCINTERVAL, HL_EXPIRE = 1000, 10000
HL_BYTE_UNITS = (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1))


def hl_parse_bytes(s: str) -> int | None:
    """parse_bytes: N followed by b, kb, mb or gb."""
    low = s.lower()
    for unit, mult in HL_BYTE_UNITS:
        if low.endswith(unit):
            num = low[: -len(unit)]
            if num.isdigit():
                return int(num) * mult
            return None
    return None


def hl_bytes_text(v: int) -> str:
    for unit, mult in HL_BYTE_UNITS:
        if v >= mult and v % mult == 0:
            return f"{v // mult}{unit}"
    return f"{v}b"


class HashlimitMatch(Match):
    name = "hashlimit"
    options = (OptSpec("hashlimit", 1), OptSpec("hashlimit-upto", 1), OptSpec("hashlimit-above", 1),
               OptSpec("hashlimit-burst", 1), OptSpec("hashlimit-mode", 1), OptSpec("hashlimit-name", 1),
               OptSpec("hashlimit-htable-size", 1), OptSpec("hashlimit-htable-max", 1),
               OptSpec("hashlimit-htable-gcinterval", 1), OptSpec("hashlimit-htable-expire", 1),
               OptSpec("hashlimit-srcmask", 1), OptSpec("hashlimit-dstmask", 1),
               OptSpec("hashlimit-rate-match", 0), OptSpec("hashlimit-rate-interval", 1))
    __slots__ = ("above", "avg", "bits", "burst", "bytes", "dstmask", "expire", "gcinterval", "hname", "htmax",
                 "mode", "rate_interval", "rate_match", "size", "srcmask")
    above: bool
    avg: int
    bits: int
    burst: int
    bytes: bool
    dstmask: int
    expire: int
    gcinterval: int
    hname: str
    htmax: int
    mode: int
    rate_interval: int
    rate_match: bool
    size: int
    srcmask: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("hashlimit", opts)
        m = cls()
        rate_opt = next((got[k] for k in ("hashlimit-upto", "hashlimit", "hashlimit-above") if k in got), None)
        if rate_opt is None:
            raise XtError("You have to specify --hashlimit")
        m.above = rate_opt.name == "hashlimit-above"
        m.bytes = False
        s = rate_opt.arg
        num, slash, unit = s.partition("/")
        b = hl_parse_bytes(num) if slash and unit in ("s", "sec", "second") else None
        if b is not None:
            if b == 0:
                raise XtError(f"hashlimit: Bad value for \"--{rate_opt.name}\" option: \"{s}\"")
            m.bytes, m.avg = True, b
        else:
            mult = 1
            if slash:
                for full, mu in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)):
                    if unit and full.startswith(unit.lower()):
                        mult = mu
                        break
                else:
                    raise XtError(f"hashlimit: Bad value for \"--{rate_opt.name}\" option: \"{s}\"")
            r = int(num) if num.isdigit() else 0
            if not r or XT_HASHLIMIT_SCALE * mult // r == 0:
                raise XtError(f"hashlimit: Bad value for \"--{rate_opt.name}\" option: \"{s}\"")
            m.avg = XT_HASHLIMIT_SCALE * mult // r
        m.burst = 0 if m.bytes else 5
        if "hashlimit-burst" in got:
            o = got["hashlimit-burst"]
            v = hl_parse_bytes(o.arg) if m.bytes else strtoui(o.arg, 1, 1_000_000)
            if m.bytes and v is None:
                v = strtoui(o.arg, 0, 0xFFFFFFFF)
            if v is None and not m.bytes:
                raise XtError("bad value for option \"--hashlimit-burst\", or out of range (1-1000000).")
            if v is None:
                raise XtError(f"hashlimit: Bad value for \"--hashlimit-burst\" option: \"{o.arg}\"")
            m.burst = v
        m.mode = 0
        if "hashlimit-mode" in got:
            for part in got["hashlimit-mode"].arg.split(","):
                bit = dict(HL_MODES).get(part)
                if bit is None:
                    raise XtError(f"hashlimit: Bad value for \"--hashlimit-mode\" option: \"{got['hashlimit-mode'].arg}\"")
                m.mode |= bit
        if "hashlimit-name" not in got:
            raise XtError("hashlimit: option \"--hashlimit-name\" must be specified\n")
        m.hname = got["hashlimit-name"].arg
        m.size = uint_opt("hashlimit", got["hashlimit-htable-size"]) if "hashlimit-htable-size" in got else 0
        m.htmax = uint_opt("hashlimit", got["hashlimit-htable-max"]) if "hashlimit-htable-max" in got else 0
        m.gcinterval = (uint_opt("hashlimit", got["hashlimit-htable-gcinterval"])
                        if "hashlimit-htable-gcinterval" in got else HL_GCINTERVAL)
        m.expire = (uint_opt("hashlimit", got["hashlimit-htable-expire"])
                    if "hashlimit-htable-expire" in got else HL_EXPIRE)
        m.bits = 128 if rule.family == 6 else 32
        m.srcmask = uint_opt("hashlimit", got["hashlimit-srcmask"], 0, 128) if "hashlimit-srcmask" in got else m.bits
        m.dstmask = uint_opt("hashlimit", got["hashlimit-dstmask"], 0, 128) if "hashlimit-dstmask" in got else m.bits
        m.rate_match = "hashlimit-rate-match" in got
        m.rate_interval = (uint_opt("hashlimit", got["hashlimit-rate-interval"], 1)
                           if "hashlimit-rate-interval" in got else 1)
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        """hashlimit_mt_check_common: a usable name, masks within the family's address."""
        if not self.hname or len(self.hname) > 255 or "/" in self.hname:
            return EINVAL
        if self.srcmask > self.bits or self.dstmask > self.bits:
            return EINVAL
        return None

    def _rate(self, shown_interval: int = 1) -> str:
        """The rate; -L of a packet rate with --hashlimit-rate-interval N shows it per N (as 1.8.9 does)."""
        if self.bytes:
            return f"{hl_bytes_text(self.avg)}/s"
        return rate_text(self.avg * shown_interval, HL_RATES)

    def _modes(self, sep: str) -> str:
        return sep.join(n for n in HL_MODE_ORDER if self.mode & dict(HL_MODES)[n])

    def _parts(self, save: bool) -> list[str]:
        p = "--hashlimit-" if save else ""
        out = []
        if self.burst:
            out.append(f"{p}burst {hl_bytes_text(self.burst) if self.bytes else self.burst}")
        if self.mode:
            out.append(f"{p}mode {self._modes(',' if save else '-')}")
        if save:
            out.append(f"--hashlimit-name {self.hname}")
        if self.size:
            out.append(f"{p}htable-size {self.size}")
        if self.htmax:
            out.append(f"{p}htable-max {self.htmax}")
        if self.gcinterval != HL_GCINTERVAL:
            out.append(f"{p}htable-gcinterval {self.gcinterval}")
        if self.expire != HL_EXPIRE:
            out.append(f"{p}htable-expire {self.expire}")
        if self.srcmask != self.bits:
            out.append(f"{p}srcmask {self.srcmask}")
        if self.dstmask != self.bits:
            out.append(f"{p}dstmask {self.dstmask}")
        if self.rate_match:
            out.append(f"{p}rate-match")
        if self.rate_interval != 1:
            out.append(f"{p}rate-interval {self.rate_interval}")
        return out

    def save(self) -> str:
        return " ".join([f"--hashlimit-{'above' if self.above else 'upto'} {self._rate()}", *self._parts(True)])

    def describe(self, numeric: bool) -> str:
        shown = self._rate(self.rate_interval if self.rate_match else 1)
        return " ".join([f"limit: {'above' if self.above else 'up to'} {shown}", *self._parts(False)])

    def _key(self, ip: Any) -> tuple[int, int, int, int]:
        sm, dm = mask_of(self.srcmask), mask_of(self.dstmask)
        ports = transport_ports(ip) or (0, 0)
        return (ip.src & sm if self.mode & 1 else 0, ports[0] if self.mode & 2 else 0,
                ip.dst & dm if self.mode & 4 else 0, ports[1] if self.mode & 8 else 0)

    def match(self, ctx: PacketCtx) -> bool:
        """hashlimit_mt_common: one token bucket per destination key, shared by name."""
        tables = netfilter_of(ctx.ns).state.setdefault("xt_hashlimit", {})
        table: dict[tuple[int, int, int, int], list[int]] = tables.setdefault(self.hname, {})
        now = ctx.ns.sched.now * HZ // 1_000_000_000
        key = self._key(ctx.ip)
        if self.bytes:
            cap = self.avg * max(self.burst, 1)      # bytes per second, burst in bytes
            cost = ctx.ip.wire_len() * HZ
            refill = self.avg
        else:
            cap = self.avg * self.burst * HZ * HL_CPJ // XT_HASHLIMIT_SCALE
            cost = self.avg * HZ * HL_CPJ // XT_HASHLIMIT_SCALE
            refill = HL_CPJ
        ent = table.get(key)
        if ent is None or now - ent[1] > self.expire * HZ // 1000:
            ent = table[key] = [cap, now]
        credit = min(cap, ent[0] + (now - ent[1]) * refill)
        ent[1] = now
        if credit >= cost:
            ent[0] = credit - cost
            return not self.above
        ent[0] = credit
        return self.above


# -- connlimit (xt_connlimit.c, libxt_connlimit.c) -------------------------------------------
class ConnlimitMatch(Match):
    name = "connlimit"
    options = (OptSpec("connlimit-upto", 1, True), OptSpec("connlimit-above", 1, True),
               OptSpec("connlimit-mask", 1), OptSpec("connlimit-saddr", 0), OptSpec("connlimit-daddr", 0))
    needs_conntrack = True
    __slots__ = ("above", "daddr", "limit", "plen")
    above: bool
    daddr: bool
    limit: int
    plen: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        conflict("connlimit", opts, (("connlimit-upto", "connlimit-above"), ("connlimit-saddr", "connlimit-daddr")))
        got = xt_once("connlimit", opts)
        m = cls()
        o = got.get("connlimit-upto") or got.get("connlimit-above")
        if o is None:
            raise XtError("You must specify \"--connlimit-above\" or \"--connlimit-upto\".")
        m.limit = uint_opt("connlimit", o)
        m.above = (o.name == "connlimit-above") != o.invert
        bits = 128 if rule.family == 6 else 32
        m.plen = bits
        if "connlimit-mask" in got:
            v = strtoui(got["connlimit-mask"].arg, 0, 0xFFFFFFFF)
            if v is None:
                raise bad_value("connlimit", "connlimit-mask", 0, 4294967295)
            m.plen = min(v, bits)
        m.daddr = "connlimit-daddr" in got
        return m

    def save(self) -> str:
        return (f"--connlimit-{'above' if self.above else 'upto'} {self.limit} --connlimit-mask {self.plen} "
                f"--connlimit-{'daddr' if self.daddr else 'saddr'}")

    def describe(self, numeric: bool) -> str:
        return f"#conn {'dst' if self.daddr else 'src'}/{self.plen} {'>' if self.above else '<='} {self.limit}"

    def match(self, ctx: PacketCtx) -> bool:
        """connlimit_mt: count the tracked connections whose address shares the key."""
        mask = mask_of(self.plen)
        ip = ctx.ip
        key = (ip.dst if self.daddr else ip.src) & mask
        table = conntrack_of(ctx.ns)
        ct = ctx.meta.ct
        count = 0
        seen_self = False
        if table is not None:
            for c in table.entries():
                t = c.tuple_orig
                if ((t[1] if self.daddr else t[0]) & mask) != key:
                    continue
                if c.proto == 6 and TCP_STATE_NAMES[c.tcp_state] in ("TIME_WAIT", "CLOSE"):
                    continue
                count += 1
                seen_self = seen_self or c is ct
        if ct is not None and not seen_self:
            count += 1
        return (count > self.limit) == self.above


# -- rpfilter (xt_rpfilter.c, ipt_rpfilter.c) -----------------------------------------------
class RpfilterMatch(Match):
    name = "rpfilter"
    options = (OptSpec("loose", 0), OptSpec("validmark", 0), OptSpec("accept-local", 0), OptSpec("invert", 0))
    tables = ("raw", "mangle")
    hooks = frozenset({"PREROUTING"})
    __slots__ = ("flags",)
    flags: tuple[str, ...]
    ORDER = ("loose", "validmark", "accept-local", "invert")

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        names = {o.name for o in opts}
        m.flags = tuple(n for n in cls.ORDER if n in names)
        return m

    def save(self) -> str:
        return " ".join(f"--{f}" for f in self.flags)

    def describe(self, numeric: bool) -> str:
        return " ".join(["rpfilter", *self.flags])

    def match(self, ctx: PacketCtx) -> bool:
        """rpfilter_mt: a reverse route lookup must lead back out of the input device."""
        inv = "invert" in self.flags
        dev = ctx.in_dev
        ip = ctx.ip
        if dev is None or dev.name == "lo":
            return not inv
        if ip.src == 0 and (ip.dst == 0xFFFFFFFF or ip.dst & 0xFFFFFF00 == 0xE0000000):
            return not inv
        if ip.dst >> 28 == 0xE and ip.src == 0:
            return inv
        mark = ctx.meta.mark if "validmark" in self.flags else 0
        r = ctx.ns.fib.lookup(ip.src, 0, "lo", "", mark)
        if r is None:
            return inv
        if r.type != "unicast":
            ok = "accept-local" in self.flags and r.type == "local"
            return ok != inv
        ok = "loose" in self.flags or r.dev is dev
        return ok != inv


# -- policy (xt_policy.c, libxt_policy.c) -----------------------------------------------------
POLICY_PROTOS = {"esp": 50, "ah": 51, "ipcomp": 108}
POLICY_PROTO_NAMES = {v: k for k, v in POLICY_PROTOS.items()}
IN_HOOKS = frozenset({"PREROUTING", "INPUT", "FORWARD"})
OUT_HOOKS = frozenset({"FORWARD", "OUTPUT", "POSTROUTING"})


class PolicyMatch(Match):
    """xt_policy: match on the IPsec SAs a packet came through (`--dir in`) or will go through (`--dir out`)."""

    name = "policy"
    options = (OptSpec("dir", 1), OptSpec("pol", 1), OptSpec("strict", 0), OptSpec("reqid", 1, True),
               OptSpec("spi", 1, True), OptSpec("tunnel-src", 1, True), OptSpec("tunnel-dst", 1, True),
               OptSpec("proto", 1, True), OptSpec("mode", 1, True), OptSpec("next", 0))
    __slots__ = ("compiled", "direction", "elements", "pol", "strict")
    compiled: list[list[tuple[str, bool, int, int]]]
    direction: str
    elements: list[list[tuple[str, bool, str]]]
    pol: str
    strict: bool

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        m.direction, m.pol, m.strict = "", "", False
        m.elements = [[]]
        for o in opts:
            if o.name == "dir":
                if o.arg not in ("in", "out"):
                    raise XtError(f"policy match: invalid dir \"{o.arg}\"")
                m.direction = o.arg
            elif o.name == "pol":
                if o.arg not in ("none", "ipsec"):
                    raise XtError(f"policy match: invalid policy \"{o.arg}\"")
                m.pol = o.arg
            elif o.name == "strict":
                m.strict = True
            elif o.name == "next":
                if not m.strict:
                    raise XtError("policy match: --next only allowed in strict mode")
                m.elements.append([])
            else:
                el = m.elements[-1]
                if any(k == o.name for k, _, _ in el):
                    raise XtError(f"policy match: double --{o.name} option")
                val = o.arg
                if o.name == "proto":
                    if val in POLICY_PROTOS:
                        val = str(POLICY_PROTOS[val])
                    elif strtoui(val, 0, 255) not in POLICY_PROTOS.values():
                        raise XtError(f"policy match: protocol \"{o.arg}\" does not match IPsec protocols")
                elif o.name == "mode" and val not in ("tunnel", "transport"):
                    raise XtError(f"policy match: invalid mode \"{val}\"")
                elif o.name in ("tunnel-src", "tunnel-dst"):
                    a, msk = parse_addr_mask(val)
                    val = ip_str(a) + mask_text(msk, list_mode=True)
                elif o.name in ("reqid", "spi"):
                    num = strtoui(val, 0, 0xFFFFFFFF)
                    if num is None:
                        raise XtError(f"policy match: invalid {o.name} \"{val}\"")
                    val = f"0x{num:x}" if o.name == "spi" else str(num)
                el.append((o.name, o.invert, val))
        if not m.direction:
            raise XtError("policy match: neither --dir in nor --dir out specified")
        if m.pol == "none" or not m.pol:
            m.elements = [[]]
        m.compiled = [[_policy_elem(k, inv, v) for k, inv, v in el] for el in m.elements]
        if m.strict:
            for i, el in enumerate(m.elements):
                if not el:
                    raise XtError(f"policy match: empty policy element {i}. --strict is in effect, but at least "
                                  "one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.")
                keys = dict((k, v) for k, _, v in el)
                if ("tunnel-src" in keys or "tunnel-dst" in keys) and keys.get("mode") != "tunnel":
                    raise XtError("policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode")
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        """policy_mt_check: `--dir in` only where packets come in, `--dir out` where they go out."""
        hooks = IN_HOOKS if self.direction == "in" else OUT_HOOKS
        if chain in IN_HOOKS | OUT_HOOKS | {"POSTROUTING"} and chain not in hooks:
            return EINVAL
        return None

    def _elems(self, save: bool) -> list[str]:
        """The policy elements in libxt_policy's print order, `--next` / `[i]` between several."""
        out = []
        for i, el in enumerate(self.elements):
            if len(self.elements) > 1:
                if i and save:
                    out.append("--next")
                if not save:
                    out.append(f"[{i}]")
            order = ("reqid", "spi", "proto", "mode", "tunnel-dst", "tunnel-src")
            for k in order:
                for name, inv, val in el:
                    if name != k:
                        continue
                    out.append(("! " if inv else "") + (f"--{k} " if save else f"{k} ") + val)
        return out

    def save(self) -> str:
        parts = [f"--dir {self.direction}", f"--pol {self.pol or 'none'}"]
        if self.strict:
            parts.append("--strict")
        parts += [p if not p.startswith(("--proto", "! --proto")) else self._proto_name(p) for p in self._elems(True)]
        return " ".join(parts)

    @staticmethod
    def _proto_name(p: str) -> str:
        head, _, num = p.rpartition(" ")
        return f"{head} {POLICY_PROTO_NAMES.get(int(num), num)}"

    def describe(self, numeric: bool) -> str:
        parts = ["policy match", f"dir {self.direction}", f"pol {self.pol or 'none'}"]
        if self.strict:
            parts.append("strict")
        for p in self._elems(False):
            if not numeric and (p.startswith("proto ") or p.startswith("! proto ")):
                p = self._proto_name(p)
            parts.append(p)
        return " ".join(parts)

    def match(self, ctx: PacketCtx) -> bool:
        """policy_mt: no SA on the packet is `--pol none`'s match; else the elements decide."""
        if self.direction == "in":
            ret = self._match_in(ctx.meta.sp)
        else:
            ret = self._match_out(ctx.meta.dst_xfrm)
        if ret < 0:
            return self.pol != "ipsec"
        return self.pol == "ipsec" and ret == 1

    def _match_in(self, sp: tuple[Any, ...]) -> int:
        """match_policy_in: the sec_path newest first; with --strict the i-th newest SA against element i
        and as many SAs as elements (pos = sp->len - i - 1, as fixed upstream in 2026)."""
        if not sp:
            return -1
        els = self.compiled
        if self.strict and len(els) != len(sp):
            return 0
        n = len(sp)
        for i in range(n - 1, -1, -1):
            pos = n - i - 1 if self.strict else 0
            if pos >= len(els):
                return 0
            if _policy_state_ok(sp[i], els[pos]):
                if not self.strict:
                    return 1
            elif self.strict:
                return 0
        return 1 if self.strict else 0

    def _match_out(self, bundle: tuple[Any, ...]) -> int:
        """match_policy_out: the bundle's SAs outermost dst first (the first template's SA)."""
        if not bundle:
            return -1
        els = self.compiled
        for i, x in enumerate(bundle):
            pos = i if self.strict else 0
            if pos >= len(els):
                return 0
            if _policy_state_ok(x, els[pos]):
                if not self.strict:
                    return 1
            elif self.strict:
                return 0
        return int(len(bundle) == len(els)) if self.strict else 0


def _policy_elem(name: str, inv: bool, val: str) -> tuple[str, bool, int, int]:
    """One parsed policy element option as (field, invert, value, mask) for match_xfrm_state."""
    if name in ("tunnel-src", "tunnel-dst"):
        a, msk = parse_addr_mask(val)
        return name, inv, a & msk, msk
    if name == "mode":
        return name, inv, 1 if val == "tunnel" else 0, 0
    return name, inv, int(val, 0), 0


def _policy_state_ok(x: Any, el: list[tuple[str, bool, int, int]]) -> bool:
    """match_xfrm_state: every option of the element holds for the SA (each one inverted by its `!`)."""
    for name, inv, val, msk in el:
        if name == "tunnel-src":
            ok = (x.saddr & msk) == val
        elif name == "tunnel-dst":
            ok = (x.daddr & msk) == val
        elif name == "proto":
            ok = x.proto == val
        elif name == "mode":
            ok = x.mode == val
        elif name == "spi":
            ok = x.spi == val
        else:
            ok = x.reqid == val
        if ok == inv:
            return False
    return True


# -- sctp (xt_sctp.c, libxt_sctp.c) ------------------------------------------------------------
SCTP_CHUNKS = {"DATA": 0, "INIT": 1, "INIT_ACK": 2, "SACK": 3, "HEARTBEAT": 4, "HEARTBEAT_ACK": 5, "ABORT": 6,
               "SHUTDOWN": 7, "SHUTDOWN_ACK": 8, "ERROR": 9, "COOKIE_ECHO": 10, "COOKIE_ACK": 11,
               "ECN_ECNE": 12, "ECN_CWR": 13, "SHUTDOWN_COMPLETE": 14, "I_DATA": 64, "RE_CONFIG": 130,
               "PAD": 132, "ASCONF": 193, "ASCONF_ACK": 128, "FORWARD_TSN": 192, "I_FORWARD_TSN": 194}
SCTP_CHUNK_NAMES = {v: k for k, v in SCTP_CHUNKS.items()}
SCTP_FLAGS = {"DATA": "IUBE", "I_DATA": "IUBE", "ABORT": "T", "SHUTDOWN_COMPLETE": "T"}


class SctpMatch(Match):
    name = "sctp"
    options = (OptSpec("source-port", 1, True, also=("sport",)), OptSpec("destination-port", 1, True, also=("dport",)),
               OptSpec("chunk-types", 2, True))
    __slots__ = ("chunks", "cinv", "ctype", "dinv", "dpts", "proto_ok", "sinv", "spts")
    chunks: list[tuple[int, str]]
    cinv: bool
    ctype: str
    dinv: bool
    dpts: tuple[int, int] | None
    proto_ok: bool
    sinv: bool
    spts: tuple[int, int] | None

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        m.spts = m.dpts = None
        m.sinv = m.dinv = m.cinv = False
        m.ctype, m.chunks = "", []
        m.proto_ok = rule.proto == 132 and not rule.proto_invert
        for o in opts:
            if o.name in ("source-port", "sport"):
                m.spts, m.sinv = parse_port_range(o.arg, "sctp"), o.invert
            elif o.name in ("destination-port", "dport"):
                m.dpts, m.dinv = parse_port_range(o.arg, "sctp"), o.invert
            else:
                kind, lst = o.args[0], o.args[1]
                if kind not in ("any", "all", "only"):
                    raise XtError(f"Invalid chunk match type `{kind}'")
                m.ctype, m.cinv = kind, o.invert
                for item in lst.split(","):
                    cname, _, flags = item.partition(":")
                    if cname.upper() == "ALL" or cname.upper() == "NONE":
                        continue
                    num = SCTP_CHUNKS.get(cname.upper())
                    if num is None:
                        raise XtError(f"Unknown sctp chunk `{cname}'")
                    allowed = SCTP_FLAGS.get(cname.upper(), "")
                    for f in flags:
                        if f.upper() not in allowed:
                            raise XtError(f"Invalid flags for chunk type {num}")
                    m.chunks.append((num, flags))
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        """sctp_mt_check: the rule must say `-p sctp` (not inverted)."""
        return None if self.proto_ok else EINVAL

    def save(self) -> str:
        out = []
        if self.spts is not None:
            out.append(ports_save("sport", self.spts, self.sinv) or "--sport 0:65535")
        if self.dpts is not None:
            out.append(ports_save("dport", self.dpts, self.dinv) or "--dport 0:65535")
        if self.ctype:
            out.append(("! " if self.cinv else "") + f"--chunk-types {self.ctype} " + self._chunks(False))
        return " ".join(out)

    def _chunks(self, numeric: bool) -> str:
        items = sorted(self.chunks, key=lambda c: c[0])
        return ",".join((f"0x{n:04x}" if numeric else SCTP_CHUNK_NAMES[n]) + (f":{f}" if f else "") for n, f in items)

    def describe(self, numeric: bool) -> str:
        out = ["sctp"]
        for nm, rng, inv in (("spt", self.spts, self.sinv), ("dpt", self.dpts, self.dinv)):
            if rng is None:
                continue
            i = "!" if inv else ""
            if rng[0] == rng[1]:
                out.append(f"{nm}:{i}{rng[0]}")     # no /etc/services names for sctp
            else:
                out.append(f"{nm}s:{i}{rng[0]}:{rng[1]}")
        if self.ctype:
            out.append(("! " if self.cinv else "") + f"{self.ctype} {self._chunks(numeric)}")
        return " ".join(out)

    def match(self, ctx: PacketCtx) -> bool:
        """sctp_mt: ports and chunk types of a raw SCTP datagram (netplex has no SCTP stack)."""
        ip = ctx.ip
        data = ip.payload
        if ip.proto != 132 or ip.frag or not isinstance(data, (bytes, bytearray)) or len(data) < 12:
            return False
        sp, dp = (data[0] << 8) | data[1], (data[2] << 8) | data[3]
        for rng, inv, v in ((self.spts, self.sinv, sp), (self.dpts, self.dinv, dp)):
            if rng is not None and (rng[0] <= v <= rng[1]) == inv:
                return False
        if not self.ctype:
            return True
        seen: list[tuple[int, int]] = []
        off = 12
        while off + 4 <= len(data):
            ctype, cflags, clen = data[off], data[off + 1], (data[off + 2] << 8) | data[off + 3]
            seen.append((ctype, cflags))
            if clen < 4:
                break
            off += (clen + 3) & ~3
        want = {n for n, _ in self.chunks}

        def flags_ok(n: int, fl: int) -> bool:
            for cn, f in self.chunks:
                if cn != n:
                    continue
                letters = SCTP_FLAGS.get(SCTP_CHUNK_NAMES[n], "")
                for ch in f:
                    bit = 1 << (len(letters) - 1 - letters.index(ch.upper()))
                    if bool(fl & bit) != ch.isupper():
                        return False
            return True
        if self.ctype == "any":
            ok = any(t in want and flags_ok(t, f) for t, f in seen)
        elif self.ctype == "all":
            ok = all(any(t == n and flags_ok(t, f) for t, f in seen) for n in want)
        else:
            ok = all(t in want and flags_ok(t, f) for t, f in seen)
        return ok != self.cinv


# -- time (xt_time.c, libxt_time.c) ----------------------------------------------------------------
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DATE_MAX = 2**31 - 1


def parse_daytime(s: str) -> int:
    parts = s.split(":")
    try:
        if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            raise ValueError
        h, mi = int(parts[0]), int(parts[1])
        sec = int(parts[2]) if len(parts) == 3 else 0
        if h > 23 or mi > 59 or sec > 59:
            raise ValueError
    except ValueError:
        raise XtError(f"invalid time \"{s}\" specified, should be hh:mm[:ss] format and within the boundaries") \
            from None
    return h * 3600 + mi * 60 + sec


def parse_date(s: str) -> int:
    bad = XtError(f"Invalid date \"{s}\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]")
    date, _, tod = s.partition("T")
    dp = date.split("-")
    tp = tod.split(":") if tod else []
    if not dp or len(dp) > 3 or len(tp) > 3 or not all(p.isdigit() for p in dp + tp):
        raise bad
    vals = [int(p) for p in dp] + [1] * (3 - len(dp))
    tv = [int(p) for p in tp] + [0] * (3 - len(tp))
    y, mo, d = vals
    if not (1970 <= y <= 2038 and 1 <= mo <= 12 and 1 <= d <= 31 and tv[0] <= 23 and tv[1] <= 59 and tv[2] <= 59):
        raise bad
    return min(calendar.timegm((y, mo, d, tv[0], tv[1], tv[2], 0, 0, 0)), DATE_MAX)


def fmt_date(v: int, sep: str) -> str:
    t = time.gmtime(v)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}{sep}{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def fmt_daytime(v: int) -> str:
    return f"{v // 3600:02d}:{v // 60 % 60:02d}:{v % 60:02d}"


def day_suffix(d: int) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")


class TimeMatch(Match):
    name = "time"
    options = (OptSpec("datestart", 1), OptSpec("datestop", 1), OptSpec("timestart", 1), OptSpec("timestop", 1),
               OptSpec("monthdays", 1, True), OptSpec("weekdays", 1, True), OptSpec("localtz", 0),
               OptSpec("utc", 0), OptSpec("kerneltz", 0), OptSpec("contiguous", 0))
    __slots__ = ("contiguous", "date_start", "date_stop", "day_start", "day_stop", "kerneltz", "monthdays",
                 "weekdays")
    contiguous: bool
    date_start: int
    date_stop: int
    day_start: int
    day_stop: int
    kerneltz: bool
    monthdays: int
    weekdays: int
    ALL_MONTHDAYS = 0xFFFFFFFE
    ALL_WEEKDAYS = 0xFE

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        m = cls()
        m.date_start, m.date_stop, m.day_start, m.day_stop = 0, DATE_MAX, 0, 86399
        m.monthdays, m.weekdays, m.kerneltz, m.contiguous = cls.ALL_MONTHDAYS, cls.ALL_WEEKDAYS, False, False
        for o in opts:
            n = o.name
            if n == "datestart":
                m.date_start = parse_date(o.arg)
            elif n == "datestop":
                m.date_stop = parse_date(o.arg)
            elif n == "timestart":
                m.day_start = parse_daytime(o.arg)
            elif n == "timestop":
                m.day_stop = parse_daytime(o.arg)
            elif n == "monthdays":
                bits = 0
                for p in o.arg.split(","):
                    v = strtoui(p, 1, 31)
                    if v is None:
                        raise XtError(f"{p} is not a valid day for --monthdays")
                    bits |= 1 << v
                m.monthdays = (~bits & cls.ALL_MONTHDAYS) if o.invert else bits
            elif n == "weekdays":
                bits = 0
                for p in o.arg.split(","):
                    v = strtoui(p, 1, 7)
                    if v is None:
                        low = [w.lower() for w in WEEKDAYS]
                        if p.lower() in low:
                            v = low.index(p.lower()) + 1
                        elif p.lower() in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                           "sunday"):
                            v = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                 "sunday").index(p.lower()) + 1
                        else:
                            raise XtError(f"{p} is not a valid day specifier")
                    bits |= 1 << v
                m.weekdays = (~bits & cls.ALL_WEEKDAYS) if o.invert else bits
            elif n in ("kerneltz", "localtz"):
                m.kerneltz = True
            elif n == "utc":
                m.kerneltz = False
            elif n == "contiguous":
                m.contiguous = True
        if m.contiguous and m.day_start < m.day_stop:
            raise XtError("time: --contiguous only makes sense when stoptime is smaller than starttime")
        if any(o.name == "localtz" for o in opts):
            rule.warn("WARNING: --localtz is being replaced by --kerneltz, since \"local\" is ambiguous. "
                      "Note the kernel timezone has caveats - see manpage for details.\n")
        return m

    def _days(self) -> tuple[list[int], list[str]]:
        md = [d for d in range(1, 32) if self.monthdays & (1 << d)]
        wd = [WEEKDAYS[d - 1] for d in range(1, 8) if self.weekdays & (1 << d)]
        return md, wd

    def save(self) -> str:
        out = []
        if self.day_start != 0 or self.day_stop != 86399:
            out.append(f"--timestart {fmt_daytime(self.day_start)} --timestop {fmt_daytime(self.day_stop)}")
        md, wd = self._days()
        if self.monthdays != self.ALL_MONTHDAYS:
            out.append("--monthdays " + ",".join(str(d) for d in md))
        if self.weekdays != self.ALL_WEEKDAYS:
            out.append("--weekdays " + ",".join(wd))
        if self.date_start:
            out.append("--datestart " + fmt_date(self.date_start, "T"))
        if self.date_stop:
            out.append("--datestop " + fmt_date(self.date_stop, "T"))
        if self.kerneltz:
            out.append("--kerneltz")
        if self.contiguous:
            out.append("--contiguous")
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        out = ["TIME"]
        if self.day_start != 0 or self.day_stop != 86399:
            out.append(f"from {fmt_daytime(self.day_start)} to {fmt_daytime(self.day_stop)}")
        md, wd = self._days()
        if self.weekdays != self.ALL_WEEKDAYS:
            out.append("on " + ",".join(wd))
        if self.monthdays != self.ALL_MONTHDAYS:
            out.append("on " + ",".join(f"{d}{day_suffix(d)}" for d in md))
        if self.date_start:
            out.append("starting from " + fmt_date(self.date_start, " "))
        if self.date_stop != DATE_MAX:
            out.append("until date " + fmt_date(self.date_stop, " "))
        if not self.kerneltz:
            out.append("UTC")
        if self.contiguous:
            out.append("contiguous")
        return " ".join(out)

    def match(self, ctx: PacketCtx) -> bool:
        """time_mt against CLOCK_REALTIME (the fixed epoch plus simulated time, UTC)."""
        stamp = ctx.ns.world.realtime_ns() // 1_000_000_000
        if stamp < self.date_start or stamp > self.date_stop:
            return False
        packet_time = stamp % 86400
        day = stamp // 86400
        if self.day_start < self.day_stop:
            if not self.day_start <= packet_time <= self.day_stop:
                return False
        else:
            if packet_time < self.day_start and packet_time > self.day_stop:
                return False
            if self.contiguous and packet_time <= self.day_stop:
                day -= 1
        wday = (day + 3) % 7 + 1       # 1970-01-01 was a Thursday (Monday = 1)
        if not self.weekdays & (1 << wday):
            return False
        if self.monthdays != self.ALL_MONTHDAYS:
            if not self.monthdays & (1 << time.gmtime(day * 86400).tm_mday):
                return False
        return True


# -- string (xt_string.c, libxt_string.c) -----------------------------------------------------------
XT_STRING_MAX_PATTERN_SIZE = 128


def parse_hex_string(s: str) -> bytes:
    """libxt_string's parse_hex_string: text with |hex bytes| sections."""
    out = bytearray()
    i, hexmode = 0, False
    while i < len(s):
        ch = s[i]
        if ch == "\\" and not hexmode and i + 1 < len(s):
            out.append(ord(s[i + 1]))
            i += 2
            continue
        if ch == "|":
            hexmode = not hexmode
            i += 1
            continue
        if hexmode:
            if ch == " ":
                i += 1
                continue
            pair = s[i:i + 2]
            if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
                raise XtError("Invalid hex char")
            out.append(int(pair, 16))
            i += 2
            continue
        out.append(ord(ch) & 0xFF)
        i += 1
    if hexmode:
        raise XtError("Invalid hex block")
    return bytes(out)


class StringMatch(Match):
    name = "string"
    options = (OptSpec("from", 1), OptSpec("to", 1), OptSpec("algo", 1), OptSpec("string", 1, True),
               OptSpec("hex-string", 1, True), OptSpec("icase", 0))
    __slots__ = ("algo", "frm", "icase", "inv", "pattern", "to")
    algo: str
    frm: int
    icase: bool
    inv: bool
    pattern: bytes
    to: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("string", opts)
        m = cls()
        o = got.get("string") or got.get("hex-string")
        if o is None:
            raise XtError("STRING match: You must specify `--string' or `--hex-string'")
        m.pattern = o.arg.encode("latin-1", "replace") if o.name == "string" else parse_hex_string(o.arg)
        if len(m.pattern) > XT_STRING_MAX_PATTERN_SIZE:
            raise XtError(f"STRING too long \"{o.arg}\"")
        m.inv = o.invert
        m.algo = need("string", got, "algo").arg
        m.frm = uint_opt("string", got["from"], 0, 65535) if "from" in got else 0
        m.to = uint_opt("string", got["to"], 0, 65535) if "to" in got else 65535
        m.icase = "icase" in got
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        if self.algo not in ("bm", "kmp", "fsm"):
            return ENOENT
        if self.algo == "fsm" or self.frm > self.to or not self.pattern:
            return EINVAL
        return None

    def _pattern_text(self) -> str:
        p = self.pattern
        if all(0x20 <= b < 0x7F for b in p):
            esc = "".join("\\" + chr(b) if chr(b) in "\"\\" else chr(b) for b in p)
            return f"\"{esc}\""
        return "\"|" + p.hex() + "|\""

    def _is_hex(self) -> bool:
        return not all(0x20 <= b < 0x7F for b in self.pattern)

    def save(self) -> str:
        s = ("! " if self.inv else "") + ("--hex-string " if self._is_hex() else "--string ") + self._pattern_text()
        s += f" --algo {self.algo}"
        if self.frm:
            s += f" --from {self.frm}"
        if self.to != 65535:
            s += f" --to {self.to}"
        if self.icase:
            s += " --icase"
        return s

    def describe(self, numeric: bool) -> str:
        s = "STRING match " + ("!" if self.inv else "") + " " + self._pattern_text() + f" ALGO name {self.algo}"
        if self.frm:
            s += f" FROM {self.frm}"
        if self.to != 65535:
            s += f" TO {self.to}"
        if self.icase:
            s += " ICASE"
        return s

    def match(self, ctx: PacketCtx) -> bool:
        """skb_find_text over bytes [from, to) of the packet from its IP header."""
        data = ctx.ip.encode()[self.frm:self.to]
        pat = self.pattern
        if self.icase:
            data, pat = data.lower(), pat.lower()
        return (pat in data) != self.inv


# -- nfacct (xt_nfacct.c, nfnetlink_acct.c) ---------------------------------------------------------
class NfacctObject:
    """struct nf_acct: a named packet/byte counter (optionally a quota)."""

    __slots__ = ("bytes", "name", "pkts")

    def __init__(self, name: str) -> None:
        self.name = name
        self.pkts = 0
        self.bytes = 0


def nfacct_in_use(ns: Any, name: str) -> bool:
    """Whether a rule's nfacct match holds the object (nfnl_acct_put refuses to delete it: EBUSY)."""
    for t in netfilter_of(ns).tables.values():
        for ch in t.chains.values():
            for r in ch.rules:
                if any(isinstance(m, NfacctMatch) and m.acct == name for m in r.matches):
                    return True
    return False


def nfacct_objects(ns: Any) -> dict[str, NfacctObject]:
    objs: dict[str, NfacctObject] = netfilter_of(ns).state.setdefault("nfacct", {})
    return objs


class NfacctMatch(Match):
    name = "nfacct"
    options = (OptSpec("nfacct-name", 1),)
    __slots__ = ("acct",)
    acct: str

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("nfacct", opts)
        m = cls()
        m.acct = need("nfacct", got, "nfacct-name").arg
        if len(m.acct) > 31:
            raise XtError("nfacct: name too long")
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        return None if self.acct in nfacct_objects(ns) else ENOENT

    def save(self) -> str:
        return f"--nfacct-name  {self.acct}"

    def describe(self, numeric: bool) -> str:
        return f"nfacct-name  {self.acct}"

    def match(self, ctx: PacketCtx) -> bool:
        obj = nfacct_objects(ctx.ns).get(self.acct)
        if obj is not None:
            obj.pkts += 1
            obj.bytes += ctx.ip.wire_len()
        return True


# -- cgroup (xt_cgroup.c, libxt_cgroup.c) ---------------------------------------------------------
class CgroupMatch(Match):
    """`-m cgroup [!] --cgroup CLASSID`: the net_cls classid of the packet's socket
    (cgroup_mt_v1: skb->sk, a full socket, sock_cgroup_classid). `--path` (cgroup v2)
    is refused: netplex models only the v1 net_cls hierarchy."""

    name = "cgroup"
    options = (OptSpec("cgroup", 1, True), OptSpec("path", 1, True))
    hooks = frozenset({"INPUT", "OUTPUT", "POSTROUTING"})
    __slots__ = ("classid", "invert")
    classid: int | None
    invert: bool

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("cgroup", opts)
        if "path" in got:
            raise XtError("netplex: iptables -m cgroup --path is not supported (cgroup v2 paths are not "
                          "modelled; use --cgroup with a net_cls classid)")
        m = cls()
        m.classid, m.invert = None, False
        o = got.get("cgroup")
        if o is not None:
            m.classid = strtoui(o.arg)
            if m.classid is None:
                raise XtError('cgroup: bad value for option "--cgroup", or out of range (0-4294967295).\n')
            m.invert = o.invert
        return m

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        return EINVAL if self.classid is None else None   # "xt_cgroup: no path or classid specified"

    def save(self) -> str:
        return f"{'! ' if self.invert else ''}--cgroup {self.classid}"

    def describe(self, numeric: bool) -> str:
        return f"cgroup {'! ' if self.invert else ''}{self.classid}"

    def match(self, ctx: PacketCtx) -> bool:
        sk = ctx.meta.local_socket
        if sk is None:
            return False
        return (sk.sk_cgrp_classid == self.classid) != self.invert


# -- u32 (xt_u32.c, libxt_u32.c) ---------------------------------------------------------------------
XT_U32_MAXSIZE = 10
U32_OPS = (("<<", "<<"), (">>", ">>"), ("&", "&"), ("@", "@"))


class U32Match(Match):
    name = "u32"
    options = (OptSpec("u32", 1, True),)
    __slots__ = ("inv", "tests")
    inv: bool
    tests: list[tuple[list[tuple[str, int]], list[tuple[int, int]]]]

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        got = xt_once("u32", opts)
        o = need("u32", got, "u32")
        m = cls()
        m.inv = o.invert
        m.tests = u32_parse(o.arg)
        return m

    def _text(self) -> str:
        parts = []
        for loc, ranges in self.tests:
            s = f"0x{loc[0][1]:x}" + "".join(f"{op}0x{n:x}" for op, n in loc[1:])
            s += "=" + ",".join(f"0x{a:x}" if a == b else f"0x{a:x}:0x{b:x}" for a, b in ranges)
            parts.append(s)
        return "&&".join(parts)

    def save(self) -> str:
        return ("! " if self.inv else "") + f"--u32 \"{self._text()}\""

    def describe(self, numeric: bool) -> str:
        return "u32 " + ("! " if self.inv else "") + f"\"{self._text()}\""

    def match(self, ctx: PacketCtx) -> bool:
        return u32_eval(self.tests, ctx.ip.encode()) != self.inv


def u32_parse(s: str) -> list[tuple[list[tuple[str, int]], list[tuple[int, int]]]]:
    """libxt_u32's u32_parse: tests joined by &&, each LOCATION=RANGE[,RANGE...]."""
    pos = 0
    n = len(s)

    def skip() -> None:
        nonlocal pos
        while pos < n and s[pos].isspace():
            pos += 1

    def number(location: bool = False) -> int:
        nonlocal pos
        skip()
        start = pos
        if location and pos >= n:
            raise XtError("u32: abrupt end of input after location specifier")
        if s.startswith(("0x", "0X"), pos):
            pos += 2
            while pos < n and s[pos] in "0123456789abcdefABCDEF":
                pos += 1
            txt = s[start + 2:pos]
            v = int(txt, 16) if txt else None
        else:
            while pos < n and s[pos].isdigit():
                pos += 1
            txt = s[start:pos]
            v = (int(txt, 8) if len(txt) > 1 and txt[0] == "0" else int(txt)) if txt else None
        if v is None or v > 0xFFFFFFFF:
            raise XtError(f"u32: at char {start}: not a number or out of range")
        return v

    tests: list[tuple[list[tuple[str, int]], list[tuple[int, int]]]] = []
    while True:
        loc: list[tuple[str, int]] = [("", number(True))]
        while True:
            skip()
            if pos >= n:
                raise XtError("u32: abrupt end of input after location specifier")
            if s[pos] == "=":
                pos += 1
                break
            for op, _ in U32_OPS:
                if s.startswith(op, pos):
                    if len(loc) > XT_U32_MAXSIZE:
                        raise XtError(f"u32: at char {pos}: too many operators")
                    pos += len(op)
                    loc.append((op, number()))
                    break
            else:
                raise XtError(f"u32: at char {pos}: operator expected")
        ranges: list[tuple[int, int]] = []
        while True:
            a = number()
            skip()
            b = a
            if pos < n and s[pos] == ":":
                pos += 1
                b = number()
                skip()
            if len(ranges) >= XT_U32_MAXSIZE:
                raise XtError(f"u32: at char {pos}: too many ranges")
            ranges.append((a, b))
            if pos < n and s[pos] == ",":
                pos += 1
                continue
            break
        if len(tests) >= XT_U32_MAXSIZE:
            raise XtError(f"u32: at char {pos}: too many \"&&\"s")
        tests.append((loc, ranges))
        skip()
        if pos >= n:
            return tests
        if not s.startswith("&&", pos):
            raise XtError(f"u32: at char {pos}: \"&&\" expected")
        pos += 2


def u32_eval(tests: list[tuple[list[tuple[str, int]], list[tuple[int, int]]]], data: bytes) -> bool:
    """u32_match_it: every test's value must fall in one of its ranges."""
    length = len(data)

    def read(at: int) -> int:
        return int.from_bytes(data[at:at + 4], "big")

    for loc, ranges in tests:
        pos = loc[0][1]
        at = 0
        if length < 4 or pos > length - 4:
            return False
        val = read(pos)
        for op, num in loc[1:]:
            if op == "&":
                val &= num
            elif op == "<<":
                val = (val << num) & 0xFFFFFFFF if num < 32 else 0
            elif op == ">>":
                val = val >> num if num < 32 else 0
            else:
                at += val
                pos = num
                if at + 4 > length or pos > length - at - 4:
                    return False
                val = read(at + pos)
        if not any(a <= val <= b for a, b in ranges):
            return False
    return True


for _cls in (RecentMatch, HashlimitMatch, ConnlimitMatch, RpfilterMatch, PolicyMatch, SctpMatch, TimeMatch,
             StringMatch, NfacctMatch, U32Match, CgroupMatch):
    register_match(_cls)

__all__ = ["nfacct_in_use", "nfacct_objects", "recent_proc_text", "recent_tables"]
