"""An iptables table and its chains: rule storage, traversal with counters (ipt_do_table).

`Table.evaluate(chain, ctx)` walks a built-in chain as the kernel does:
first match wins; a matching rule counts the packet and the IP datagram's
bytes; ACCEPT/DROP end the walk; a jump pushes the position and continues in
the user chain, `-g` (goto) does not push; RETURN, or the end of a user
chain, pops; the end of (or RETURN in) a built-in chain applies its policy,
counted only when the chain has counters (see below). Extension targets return a verdict or
XT_CONTINUE / XT_RETURN.

Rules that cannot match are not looked at: a chain of more than
`INDEX_MIN` rules keeps an index by the four things most rules pin —
protocol, a single source port, a single destination port, an exact input
device — and a packet walks only the rules whose pins agree with it
(merged in rule order, so first-match order is exact). The merged
candidate list is cached per (proto, sport, dport, in-dev) key until the
chain changes.

Tables exist (for iptables-save) from their first write, and a built-in
chain exists (`present`) from the first rule or policy written to it
(iptables-nft creates them lazily): only then does it take part in its hook.
Its policy counts packets only once the chain has counters (`counted`), as
nf_tables base chains have stats only when NFTA_CHAIN_COUNTERS was given:
iptables-nft 1.8.9 gives them with a chain line of iptables-restore
(`:INPUT ACCEPT [0:0]`), with `-P` and with `-Z`, not when a rule creates the
chain. `-X` deletes empty built-in chains whose policy is ACCEPT, and
iptables-restore (without --noflush) deletes the whole table first. `on_chain_created` is how the table's owner (hooks.py for
filter/mangle/raw/security, the NAT module for nat) attaches hooks.
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import merge
from typing import Any

from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.netfilter.core import (
    NF_ACCEPT,
    NF_DROP,
    TABLE_INIT,
    XT_CONTINUE,
    XT_RETURN,
    Netfilter,
    PacketCtx,
)
from netplex.stack.netfilter.rule import (
    T_ACCEPT,
    T_DROP,
    T_EXT,
    T_GOTO,
    T_JUMP,
    T_NONE,
    T_RETURN,
    Rule,
)

BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}
INDEX_MIN = 8
_CACHE_MAX = 4096
VERDICT_NAMES = {NF_ACCEPT: "ACCEPT", NF_DROP: "DROP", 2: "STOLEN", 3: "QUEUE", 4: "REPEAT", 5: "STOP"}


class Chain:
    """A built-in or user chain."""

    __slots__ = ("_cache", "_index", "_physpins", "bcnt", "builtin", "counted", "created", "name", "pcnt", "policy", "present",
                 "rules")

    def __init__(self, name: str, builtin: bool) -> None:
        self.name = name
        self.builtin = builtin
        self.policy = "ACCEPT" if builtin else None
        # policy counters (NFTA_CHAIN_COUNTERS): a restore chain line, -P or -Z gives them
        self.counted = False
        self.pcnt = 0
        self.bcnt = 0
        self.rules: list[Rule] = []
        self.created = not builtin    # joined its hook (once; a deleted built-in chain stays hooked, empty)
        self.present = not builtin    # exists in the kernel (iptables-save lists built-ins either way)
        self._index: dict[tuple[Any, Any, Any, Any], list[tuple[int, Rule]]] | None = None
        self._cache: dict[tuple[Any, ...], list[Rule]] = {}
        # id(rule) -> the bridge ports (physdev-in, physdev-out) it pins, for the rules that pin one
        self._physpins: dict[int, tuple[str | None, str | None]] = {}

    def changed(self) -> None:
        self._index = None
        self._cache = {}

    def candidates(self, ip: Any, indev: str, physin: str | None = None, physout: str | None = None) -> list[Rule]:
        """The rules a packet can match, in order (all of them for a short chain). `physin` and
        `physout` are a bridged packet's bridge ports: a rule pinning another port (`-m physdev
        --physdev-in|--physdev-out NAME`, as Neutron's per-port jumps do) is left out."""
        rules = self.rules
        if len(rules) <= INDEX_MIN:
            return rules
        proto = ip.proto
        sport = dport = None
        if (proto == 6 or proto == 17) and not ip.frag:
            p = ip.payload
            if isinstance(p, (Tcp, Udp)):
                sport, dport = p.sport, p.dport
        key = (proto, sport, dport, indev, physin, physout)
        cache = self._cache
        c = cache.get(key)
        if c is not None:
            return c
        idx = self._index
        if idx is None:
            idx = self._build_index()
        lists = []
        get = idx.get
        for pk in (proto, None):
            for sk in ((sport, None) if sport is not None else (None,)):
                for dk in ((dport, None) if dport is not None else (None,)):
                    lst = get((pk, sk, dk, indev))
                    if lst:
                        lists.append(lst)
                    lst = get((pk, sk, dk, None))
                    if lst:
                        lists.append(lst)
        if len(lists) == 1:
            c = [r for _, r in lists[0]]
        else:
            c = [r for _, r in merge(*lists)]
        pins = self._physpins
        if pins and (physin is not None or physout is not None):
            c = [r for r in c if _physdev_may_match(pins.get(id(r)), physin, physout)]
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = c
        return c

    def _build_index(self) -> dict[tuple[Any, Any, Any, Any], list[tuple[int, Rule]]]:
        idx: dict[tuple[Any, Any, Any, Any], list[tuple[int, Rule]]] = {}
        self._physpins = {}
        for i, r in enumerate(self.rules):
            idx.setdefault(rule_pins(r), []).append((i, r))
            for m in r.matches:
                pin = m.index_physdev()
                if pin != (None, None):
                    self._physpins[id(r)] = pin
                    break
        self._index = idx
        return idx


def _physdev_may_match(pin: tuple[str | None, str | None] | None, physin: str | None, physout: str | None) -> bool:
    """Whether a rule pinning bridge ports `pin` can match a packet bridged from `physin` to
    `physout` (xt_physdev: a pinned port is compared only when the packet has that port)."""
    if pin is None:
        return True
    pin_in, pin_out = pin
    if pin_in is not None and physin is not None and pin_in != physin:
        return False
    return not (pin_out is not None and physout is not None and pin_out != physout)


def rule_pins(r: Rule) -> tuple[Any, Any, Any, Any]:
    """(proto, sport, dport, in-dev) a rule requires, None where it does not pin one."""
    from netplex.stack.netfilter.rule import INV_PROTO, INV_VIA_IN
    proto = r.proto if r.proto and not r.inv & INV_PROTO else None
    indev = r.iniface if r.iniface and not r.iniface.endswith("+") and not r.inv & INV_VIA_IN else None
    sport = dport = None
    if proto in (6, 17):
        for m in r.matches:
            s, d = m.index_ports()
            if s is not None and sport is None:
                sport = s
            if d is not None and dport is None:
                dport = d
    return (proto, sport, dport, indev)


class Table:
    """One table (filter, nat, mangle, raw, security) of a namespace."""

    def __init__(self, nf: Netfilter, name: str) -> None:
        self.nf = nf
        self.name = name
        self.builtins = BUILTIN_CHAINS[name]
        self.chains: dict[str, Chain] = {c: Chain(c, True) for c in self.builtins}
        self.exists = False
        self.initialized = False
        self.on_chain_created: Callable[[Chain], None] | None = None

    # -- lifecycle -------------------------------------------------------------
    def materialize(self, chain: str | None = None) -> None:
        """A write reached the kernel: the table exists, and so does `chain` if built-in."""
        self.exists = True
        if not self.initialized:
            self.initialized = True
            init = TABLE_INIT.get(self.name) if self.nf.family == "ipv4" else None
            if init is not None:
                init(self.nf, self)
        if chain is not None:
            ch = self.chains.get(chain)
            if ch is not None:
                ch.present = True
            if ch is not None and not ch.created:
                ch.created = True
                if self.on_chain_created is not None:
                    self.on_chain_created(ch)

    def changed(self, ch: Chain | None = None) -> None:
        if ch is not None:
            ch.changed()
        else:
            for c in self.chains.values():
                c.changed()
        self.nf.changed()

    def delete_builtin(self, ch: Chain) -> None:
        """The chain leaves the kernel: it is listed as `ACCEPT [0:0]` and counts nothing
        (it stays on its hook, where an empty ACCEPT chain without counters changes nothing)."""
        ch.present = ch.counted = False
        ch.policy = "ACCEPT"
        ch.pcnt = ch.bcnt = 0
        ch.rules.clear()

    def delete(self) -> None:
        """The table leaves the kernel (iptables-restore deletes it before loading a block)."""
        for name in [c.name for c in self.chains.values() if not c.builtin]:
            del self.chains[name]
        for ch in self.chains.values():
            self.delete_builtin(ch)
        self.exists = False
        self.changed()

    def user_chains(self) -> list[Chain]:
        return sorted((c for c in self.chains.values() if not c.builtin), key=lambda c: c.name)

    def references(self, name: str) -> int:
        n = 0
        for c in self.chains.values():
            for r in c.rules:
                if (r.tkind == T_JUMP or r.tkind == T_GOTO) and r.tname == name:
                    n += 1
        return n

    # -- traversal -------------------------------------------------------------
    def evaluate(self, chain: str, ctx: PacketCtx) -> int:
        """ipt_do_table for built-in chain `chain`: the verdict (NF_ACCEPT, NF_DROP, NF_STOLEN…)."""
        base = ch = self.chains[chain]
        ip = ctx.ip
        indev = ctx.in_dev.name if ctx.in_dev is not None else ""
        outdev = ctx.out_dev.name if ctx.out_dev is not None else ""
        tracing = ctx.ns.world.tracer.on
        ctx.table = self.name
        ctx.chain = ch.name
        length = 0
        stack: list[tuple[Chain, list[Rule], int]] = []
        meta = ctx.meta
        physin = meta.physin.name if meta.physin is not None else None
        physout = meta.physout.name if meta.physout is not None else None
        rules = ch.candidates(ip, indev, physin, physout)
        pos = 0
        while True:
            n = len(rules)
            jumped = False
            while pos < n:
                r = rules[pos]
                pos += 1
                if not r.nomatch_ip and not r.ip_match(ip, indev, outdev):
                    continue
                for m in r.matches:
                    if not m.match(ctx):
                        break
                else:
                    if not length:
                        length = ip.wire_len()
                    r.pcnt += 1
                    r.bcnt += length
                    k = r.tkind
                    if k == T_ACCEPT or k == T_DROP:
                        v = NF_ACCEPT if k == T_ACCEPT else NF_DROP
                        if tracing:
                            self._trace(ctx, ch, r, VERDICT_NAMES[v])
                        return v
                    if k == T_EXT:
                        v = r.tobj.target(ctx)  # type: ignore[union-attr]
                        ip = ctx.ip
                        if v == XT_CONTINUE:
                            if tracing:
                                self._trace(ctx, ch, r, "continue")
                            continue
                        if v == XT_RETURN:
                            if tracing:
                                self._trace(ctx, ch, r, "RETURN")
                            break
                        if tracing:
                            self._trace(ctx, ch, r, VERDICT_NAMES.get(v, str(v)))
                        return v
                    if k == T_NONE:
                        if tracing:
                            self._trace(ctx, ch, r, "continue")
                        continue
                    if k == T_RETURN:
                        if tracing:
                            self._trace(ctx, ch, r, "RETURN")
                        break
                    # jump or goto
                    if tracing:
                        self._trace(ctx, ch, r, ("goto " if k == T_GOTO else "jump ") + r.tname)
                    if k == T_JUMP:
                        stack.append((ch, rules, pos))
                    ch = self.chains[r.tname]
                    ctx.chain = ch.name
                    rules = ch.candidates(ip, indev, physin, physout)
                    pos = 0
                    jumped = True
                    break
            if jumped:
                continue
            if stack:
                ch, rules, pos = stack.pop()
                ctx.chain = ch.name
                continue
            break
        if base.counted:
            if not length:
                length = ip.wire_len()
            base.pcnt += 1
            base.bcnt += length
        v = NF_ACCEPT if base.policy == "ACCEPT" else NF_DROP
        if tracing:
            ctx.ns.trace(ctx.hook, f"{self.name} {base.name} policy: {base.policy}", hook=ctx.hook, table=self.name,
                         chain=base.name, verdict=base.policy)
        return v

    def _trace(self, ctx: PacketCtx, ch: Chain, r: Rule, verdict: str) -> None:
        num = ch.rules.index(r) + 1
        ctx.ns.trace(ctx.hook, f"{self.name} {ch.name} rule {num} ({r.text}): {verdict}", hook=ctx.hook,
                     table=self.name, chain=ch.name, rule=num, verdict=verdict)
