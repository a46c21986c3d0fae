"""Netfilter's core: verdicts, hook registration per namespace, the packet context, extension bases.

This module is the seam between the rule framework (tables, matches,
targets, the `iptables` command) and connection tracking / NAT, which build
on it (net/netfilter/core.c, include/uapi/linux/netfilter.h,
include/linux/netfilter/x_tables.h).

    nf = netfilter_of(ns)                     # lazily created, kept as ns.netfilter
    nf.register("PREROUTING", NF_IP_PRI_CONNTRACK, ct_in, "conntrack")
    filt = nf.table("filter")                 # a Table (netplex.stack.netfilter.table)
    verdict = filt.evaluate("INPUT", ctx)     # NF_ACCEPT / NF_DROP / NF_STOLEN ...

Hooks.  `Netfilter.register(hook, priority, fn, name)` adds `fn(ctx) -> verdict`
to one of the five IPv4 hooks. While a hook has at least one function the
Netfilter object installs `ns.hooks[hook]` (the call site signature of
`netplex.stack.ipv4`: `(ns, frame, in_dev, out_dev) -> bool`), which builds a
`PacketCtx` and calls the functions in ascending priority (ties: order of
registration). NF_ACCEPT goes on to the next function; NF_DROP and
NF_STOLEN stop and make the call site drop the packet (False; DROP is
counted as `SkbDropReason.NETFILTER_DROP` in `ns.drops`, STOLEN is not); NF_STOP accepts
without calling the later functions; NF_REPEAT calls the same function
again. With no function registered the hook is absent: the data path pays
one dict lookup, as before netfilter existed.

Priorities (include/uapi/linux/netfilter_ipv4.h): raw -300, conntrack -200,
mangle -150, nat DNAT -100, filter 0, security 50, nat SNAT 100, conntrack
confirm INT_MAX.

Tables.  `Netfilter.table(name)` returns the `Table` of that name, created on
first use with its built-in chains (ACCEPT policies). As with iptables-nft,
a table comes into existence in the kernel only with its first write
(`Table.materialize`, called by -A/-I/-N/-P/restore): only then is the
function registered for its name in `TABLE_INIT` called (filter, mangle,
raw, security: hooks.py; nat: the NAT module, which calls `Table.evaluate`
for a connection's first packet only), and a built-in chain joins its hook
when it is first written (`Table.on_chain_created`). Listing (-L, -S,
iptables-save -t) registers nothing, so a namespace without rules costs
nothing.

Conntrack.  The rule framework reads `meta.ct` (an object following the
`ConnTrack` protocol below, or None) and `meta.ctinfo` (IP_CT_*). A packet
with `meta.ct is None` is INVALID, unless `meta.ctinfo == IP_CT_UNTRACKED`
(the NOTRACK / CT --notrack case).

Extensions.  A match is a `Match` subclass, a target a `Target` subclass;
each is registered with one line in `MATCHES` / `TARGETS` (see
`register_match`, `register_target`). The `iptables` command parses options
getopt-style: every option an extension declares in `options` is collected
as an `Opt(name, invert, args)` and handed, in command-line order, to the
extension's `parse(opts, rule)` classmethod, which returns an instance or
raises `XtError` with iptables' message. `save()` returns the normalised
option text iptables-save prints after `-m NAME` / `-j NAME` ("" for none).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from netplex.errors import NetplexError
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.skb import SkbMeta, skb_meta

if TYPE_CHECKING:
    from netplex.stack.netfilter.table import Table

__all__ = [
    "HOOKS",
    "IPS_ASSURED",
    "IPS_CONFIRMED",
    "IPS_DST_NAT",
    "IPS_DST_NAT_DONE",
    "IPS_DYING",
    "IPS_EXPECTED",
    "IPS_SEEN_REPLY",
    "IPS_SRC_NAT",
    "IPS_SRC_NAT_DONE",
    "IP_CT_ESTABLISHED",
    "IP_CT_ESTABLISHED_REPLY",
    "IP_CT_IS_REPLY",
    "IP_CT_NEW",
    "IP_CT_RELATED",
    "IP_CT_RELATED_REPLY",
    "IP_CT_UNTRACKED",
    "MATCHES",
    "NF_ACCEPT",
    "NF_DROP",
    "NF_IP_PRI_CONNTRACK",
    "NF_IP_PRI_CONNTRACK_CONFIRM",
    "NF_IP_PRI_FILTER",
    "NF_IP_PRI_MANGLE",
    "NF_IP_PRI_NAT_DST",
    "NF_IP_PRI_NAT_SRC",
    "NF_IP_PRI_RAW",
    "NF_IP_PRI_SECURITY",
    "NF_QUEUE",
    "NF_REPEAT",
    "NF_STOLEN",
    "NF_STOP",
    "TABLE_INIT",
    "TARGETS",
    "XT_CONTINUE",
    "XT_RETURN",
    "ConnTrack",
    "Match",
    "Netfilter",
    "Opt",
    "OptSpec",
    "PacketCtx",
    "RuleInfo",
    "Target",
    "XtError",
    "netfilter_of",
    "register_match",
    "register_target",
]

# -- verdicts (include/uapi/linux/netfilter.h, x_tables.h) -------------------
NF_DROP = 0
NF_ACCEPT = 1
NF_STOLEN = 2
NF_QUEUE = 3
NF_REPEAT = 4
NF_STOP = 5
XT_CONTINUE = -1           # a target's "go on with the next rule" (XT_CONTINUE 0xFFFFFFFF)
XT_RETURN = -NF_REPEAT - 1  # -5: return to the calling chain (or the policy)

HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")

# -- priorities (include/uapi/linux/netfilter_ipv4.h) -------------------------
NF_IP_PRI_CONNTRACK_DEFRAG = -400
NF_IP_PRI_RAW = -300
NF_IP_PRI_CONNTRACK = -200
NF_IP_PRI_MANGLE = -150
NF_IP_PRI_NAT_DST = -100
NF_IP_PRI_FILTER = 0
NF_IP_PRI_SECURITY = 50
NF_IP_PRI_NAT_SRC = 100
NF_IP_PRI_CONNTRACK_CONFIRM = 2**31 - 1

# -- conntrack info (include/uapi/linux/netfilter/nf_conntrack_common.h) ------
IP_CT_ESTABLISHED = 0
IP_CT_RELATED = 1
IP_CT_NEW = 2
IP_CT_IS_REPLY = 3
IP_CT_ESTABLISHED_REPLY = IP_CT_ESTABLISHED + IP_CT_IS_REPLY
IP_CT_RELATED_REPLY = IP_CT_RELATED + IP_CT_IS_REPLY
IP_CT_UNTRACKED = 7        # with meta.ct None: the packet is UNTRACKED (not INVALID)

# ct->status bits
IPS_EXPECTED = 1 << 0
IPS_SEEN_REPLY = 1 << 1
IPS_ASSURED = 1 << 2
IPS_CONFIRMED = 1 << 3
IPS_SRC_NAT = 1 << 4
IPS_DST_NAT = 1 << 5
IPS_SRC_NAT_DONE = 1 << 7
IPS_DST_NAT_DONE = 1 << 8
IPS_DYING = 1 << 9


class ConnTrack(Protocol):
    """What the rule framework reads from a conntrack entry (struct nf_conn).

    Tuples are `(src, dst, proto, sport, dport)` with addresses as 32-bit
    ints; protocols without ports carry 0, ICMP carries the echo id as
    `sport` and `(type << 8) | code` of the original request as `dport`
    (the kernel keeps type/code in the destination half). `proto_state` is
    the protocol's state name as conntrack -L prints it ("ESTABLISHED",
    "SYN_SENT", "" for UDP/ICMP). `timeout` is the absolute expiry in
    simulated nanoseconds (conntrack --ctexpire reads it).
    """

    status: int
    tuple_orig: tuple[int, int, int, int, int]
    tuple_reply: tuple[int, int, int, int, int]
    mark: int
    zone: int
    proto_state: str
    timeout: int


class PacketCtx:
    """One packet at one hook: what every hook function, match and target sees.

    `ip` is `frame.payload` (refreshed after each hook function, since NAT
    may replace it); `meta` is the frame's SkbMeta (created on entry);
    `bridged` is True on the br_netfilter path (a frame the bridge forwards,
    with meta.physin / meta.physout set). `table`, `chain` and `rulenum`
    are filled by Table.evaluate while it runs (TRACE, LOG and trace events
    read them).
    """

    __slots__ = (
        "bridged",
        "chain",
        "frame",
        "hook",
        "in_dev",
        "ip",
        "meta",
        "ns",
        "out_dev",
        "rulenum",
        "table",
    )

    def __init__(self, ns: Any, frame: Any, hook: str, in_dev: Any, out_dev: Any,
                 bridged: bool = False) -> None:
        self.ns = ns
        self.frame = frame
        self.ip = frame.payload
        self.hook = hook
        self.in_dev = in_dev
        self.out_dev = out_dev
        self.meta: SkbMeta = skb_meta(frame)
        self.bridged = bridged
        self.table = ""
        self.chain = ""
        self.rulenum = 0


HookFn = Callable[[PacketCtx], int]


class _HookEntry:
    __slots__ = ("fn", "name", "priority", "seq")

    def __init__(self, priority: int, seq: int, fn: HookFn, name: str) -> None:
        self.priority = priority
        self.seq = seq
        self.fn = fn
        self.name = name


# Called when a table is first created: attaches its hook functions.
TABLE_INIT: dict[str, Callable[[Netfilter, Table], None]] = {}


class Netfilter:
    """The hooks and tables of one namespace (struct netns_nf + xt tables)."""

    def __init__(self, ns: Any, family: str = "ipv4") -> None:
        self.ns = ns
        self.family = family        # "ipv6": ip6tables' rules, stored and printed only (no IPv6 data path)
        self.entries: dict[str, list[_HookEntry]] = {h: [] for h in HOOKS}
        self.tables: dict[str, Table] = {}
        self._seq = 0
        self.generation = 0          # bumped by any rule change (for caches)
        self.state: dict[str, Any] = {}   # per-namespace state of other modules (conntrack table, …)

    # -- hooks -------------------------------------------------------------
    def register(self, hook: str, priority: int, fn: HookFn, name: str) -> None:
        """nf_register_net_hook: `fn(ctx) -> verdict` at `hook`, ordered by priority."""
        if hook not in self.entries:
            raise ValueError(f"unknown hook {hook}")
        self._seq += 1
        lst = self.entries[hook]
        lst.append(_HookEntry(priority, self._seq, fn, name))
        lst.sort(key=lambda e: (e.priority, e.seq))
        self._install(hook)

    def unregister(self, hook: str, name: str) -> None:
        """nf_unregister_net_hook: remove the functions registered under `name`."""
        self.entries[hook] = [e for e in self.entries[hook] if e.name != name]
        self._install(hook)

    def registered(self, hook: str) -> list[tuple[int, str]]:
        return [(e.priority, e.name) for e in self.entries[hook]]

    def _install(self, hook: str) -> None:
        fns = tuple(e.fn for e in self.entries[hook])
        hooks = self.ns.hooks
        if not fns:
            hooks.pop(hook, None)
        else:
            hooks[hook] = self._make_runner(hook, fns)
        self.ns.config_changed()

    def _make_runner(self, hook: str, fns: tuple[HookFn, ...]) -> Callable[..., bool]:
        if hook == "PREROUTING":
            def run(ns: Any, frame: Any, in_dev: Any, out_dev: Any) -> bool:
                m = frame.meta
                if m is not None and m.physin is not None and in_dev is not None and in_dev.kind == "bridge":
                    return True   # ip_sabotage_in: br_netfilter already ran PREROUTING for this frame
                return self.run_hook(hook, fns, frame, in_dev, out_dev, False)
        else:
            def run(ns: Any, frame: Any, in_dev: Any, out_dev: Any) -> bool:
                return self.run_hook(hook, fns, frame, in_dev, out_dev, False)
        run.fns = fns  # type: ignore[attr-defined]
        return run

    def run_hook(self, hook: str, fns: tuple[HookFn, ...], frame: Any, in_dev: Any, out_dev: Any,
                 bridged: bool) -> bool:
        """nf_hook_slow: the functions of one hook in priority order."""
        ctx = PacketCtx(self.ns, frame, hook, in_dev, out_dev, bridged)
        for fn in fns:
            v = fn(ctx)
            while v == NF_REPEAT:
                v = fn(ctx)
            ctx.ip = frame.payload
            if v == NF_ACCEPT:
                continue
            if v == NF_STOP:
                return True
            if v == NF_STOLEN:
                return False
            # NF_DROP, and NF_QUEUE with no queue listener (no userspace here)
            self.ns.drop(frame, in_dev if in_dev is not None else out_dev, SkbDropReason.NETFILTER_DROP)
            return False
        return True

    def run_bridged(self, hook: str, frame: Any, in_dev: Any, out_dev: Any) -> bool:
        """br_netfilter: run `hook`'s functions for a frame the bridge forwards (bridged=True)."""
        fns = tuple(e.fn for e in self.entries[hook])
        if not fns:
            return True
        return self.run_hook(hook, fns, frame, in_dev, out_dev, True)

    # -- tables -------------------------------------------------------------
    def table(self, name: str) -> Table:
        """The table `name` (filter, nat, mangle, raw, security), created on first use.

        Creating the object registers nothing; `Table.materialize` (a write) does.
        """
        t = self.tables.get(name)
        if t is None:
            from netplex.stack.netfilter.table import Table
            t = Table(self, name)
            self.tables[name] = t
        return t

    def changed(self) -> None:
        """A rule or policy changed (caches keyed on the generation start over)."""
        self.generation += 1


def netfilter_of(ns: Any) -> Netfilter:
    """The namespace's Netfilter, created on first use and kept in `ns.netfilter`."""
    nf = ns.netfilter
    if nf is None:
        nf = Netfilter(ns)
        ns.netfilter = nf
    return nf


# -- extensions ------------------------------------------------------------------
class XtError(NetplexError):
    """A command-line or rule error with iptables' message.

    `status` 2 (PARAMETER_PROBLEM) prints the `Try ...` hint after the
    message; 1 (OTHER_PROBLEM) does not. `raw=True` prints `msg` as is,
    without the `iptables v1.8.9 (nf_tables): ` prefix (kernel errors such as
    `iptables: No chain/target/match by that name.`).
    """

    def __init__(self, msg: str, status: int = 2, raw: bool = False) -> None:
        super().__init__(msg, status=status)
        self.msg = msg
        self.raw = raw


class OptSpec:
    """One option an extension understands: `--name` with `nargs` arguments (0, 1, 2 or '?')."""

    __slots__ = ("also", "invert", "name", "nargs")

    def __init__(self, name: str, nargs: int | str = 1, invert: bool = False, also: tuple[str, ...] = ()) -> None:
        self.name = name
        self.nargs = nargs
        self.invert = invert   # `! --name` allowed
        self.also = also       # aliases (e.g. --source-port for --sport)


class Opt:
    """One parsed option occurrence: its canonical name, `!` before it, its arguments."""

    __slots__ = ("args", "invert", "name")

    def __init__(self, name: str, invert: bool, args: list[str]) -> None:
        self.name = name
        self.invert = invert
        self.args = args

    @property
    def arg(self) -> str:
        return self.args[0] if self.args else ""

    def __repr__(self) -> str:
        return f"Opt({self.name!r}, {self.invert}, {self.args!r})"


class RuleInfo:
    """What an extension's parse may need to know about the rule being built."""

    __slots__ = ("chain", "family", "hooks", "ns", "proto", "proto_invert", "table", "warnings")

    def __init__(self, table: str, chain: str, proto: int, proto_invert: bool,
                 hooks: frozenset[str] | None = None, ns: Any = None, family: int = 4) -> None:
        self.ns = ns                # the namespace (named kernel objects: ipsets, nfacct, …)
        self.family = family        # 4: iptables, 6: ip6tables (addresses and masks of 128 bits)
        self.warnings: list[str] = []   # what the extension prints on stderr while accepting the rule
        self.table = table
        self.chain = chain
        self.proto = proto          # 0 = any
        self.proto_invert = proto_invert
        self.hooks = hooks          # built-in hooks the chain is reachable from (None: unknown)

    def warn(self, text: str) -> None:
        """A warning an extension's parser prints (stderr) while the command goes on."""
        self.warnings.append(text)


class _Extension:
    """What matches and targets share (an xtables extension): its name and options, where it
    may be used (`tables` / `hooks`, None: anywhere; a violation is reported by the command
    as iptables-nft does), and its text for -S and -L."""

    name: ClassVar[str] = ""
    options: ClassVar[tuple[OptSpec, ...]] = ()
    tables: ClassVar[tuple[str, ...] | None] = None
    hooks: ClassVar[frozenset[str] | None] = None
    needs_conntrack: ClassVar[bool] = False   # the namespace must track connections for it
    __slots__ = ()

    def save(self) -> str:
        """The extension's options as `iptables -S` prints them (its `save` callback)."""
        return ""

    def describe(self, numeric: bool) -> str:
        """The text `iptables -L` prints for this extension (its `print` callback), "" for none."""
        return ""

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        """What the kernel's checkentry refuses beyond tables/hooks: the errno's text
        ("Invalid argument", "No such file or directory"), or None when accepted."""
        return None

    def same(self, other: Self) -> bool:
        """-D / -C compare rules by their normalised text."""
        return type(self) is type(other) and self.save() == other.save()


class Match(_Extension):
    """An iptables match (xt_match + its libxt_ parser)."""

    __slots__ = ()

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Match:
        return cls()

    def match(self, ctx: PacketCtx) -> bool:
        return True

    def index_ports(self) -> tuple[int | None, int | None]:
        """The single source / destination port this match requires, for the chain
        index (table.py); (None, None): it pins none."""
        return None, None

    def index_physdev(self) -> tuple[str | None, str | None]:
        """The bridge ports (in, out) this match requires by exact name, for the chain
        index (table.py); (None, None): it pins none."""
        return None, None


class Target(_Extension):
    """An iptables target (xt_target + its libxt_ parser). `target(ctx)` returns a verdict."""

    notrack: bool = False   # CT --notrack / NOTRACK: the rule needs no conntrack after all
    __slots__ = ()

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        return cls()

    def target(self, ctx: PacketCtx) -> int:
        return XT_CONTINUE

    def check(self) -> bool:
        """The kernel's checkentry beyond tables/hooks (False: the rule is refused with EINVAL)."""
        return True


MATCHES: dict[str, type[Match]] = {}
TARGETS: dict[str, type[Target]] = {}


def register_match(cls: type[Match], *aliases: str) -> type[Match]:
    """One line per match: `register_match(TcpMatch)`."""
    MATCHES[cls.name] = cls
    for a in aliases:
        MATCHES[a] = cls
    return cls


def register_target(cls: type[Target], *aliases: str) -> type[Target]:
    """One line per target: `register_target(SnatTarget)`."""
    TARGETS[cls.name] = cls
    for a in aliases:
        TARGETS[a] = cls
    return cls
