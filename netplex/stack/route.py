"""The IPv4 forwarding information base: routing tables, rules, longest-prefix match.

Mirrors net/ipv4/fib_*.c and net/core/fib_rules.c: tables `local` (255),
`main` (254), `default` (253) and any numbered table `ip route ... table N`
makes; the policy rules (`ip rule`, ip-rule(8)) are walked in order of
preference, each selecting packets by source and destination prefix,
incoming and outgoing device and firewall mark, and either looking up a
table (`suppress_prefixlength` rejecting too short a result) or ending the
walk (`unreachable`, `prohibit`, `blackhole`). The default rules (0: local,
32766: main, 32767: default) are the fast path: while they are the only
rules, a lookup is the three tables in order and the namespace's route cache
stays keyed by destination alone. Within a table, the longest prefix wins,
then the lowest metric. Route types are the kernel's (unicast, local,
broadcast, blackhole, unreachable, prohibit, throw). Routes whose device goes
down are flushed, as fib_sync_down_dev does; connected and local routes come
from addresses.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from netplex.errors import NetplexError

RT_TABLE_UNSPEC = 0
RT_TABLE_DEFAULT = 253
RT_TABLE_MAIN = 254
RT_TABLE_LOCAL = 255
RT_TABLE_MAX = 0xFFFFFFFF
TABLE_NAMES = {RT_TABLE_LOCAL: "local", RT_TABLE_MAIN: "main", RT_TABLE_DEFAULT: "default"}
TABLE_IDS = {v: k for k, v in TABLE_NAMES.items()}

SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
SCOPE_IDS = {v: k for k, v in SCOPE_NAMES.items()}
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST = 0, 253, 254

PROTO_NAMES = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static"}
RTPROT_BGP = 186        # rtnetlink.h: routes a BGP daemon (FRR's zebra for bgpd) installed

ROUTE_ERROR_TYPES = ("blackhole", "unreachable", "prohibit", "throw")   # fib_props[type].error < 0
ROUTE_TYPES = ("unicast", "local", "broadcast", "multicast", "blackhole", "unreachable",
               "prohibit", "throw", "nat", "anycast")

RTAX_MTU_MAX = 65535 - 15
RTAX_ADVMSS_MAX = 65535 - 40


class Nexthop:
    """One fib_nh of a multipath route (`nexthop via A dev D weight W`)."""

    __slots__ = ("gw", "dev", "weight", "onlink")

    def __init__(self, gw: int | None, dev: Any, weight: int = 1, onlink: bool = False) -> None:
        self.gw = gw
        self.dev = dev
        self.weight = weight
        self.onlink = onlink


class Route:
    """One fib_info + fib_alias: a destination and how to reach it. A multipath route holds its
    nexthops in `nhs` (fib_nhs > 1); `dev` and `gw` are then the first one's."""

    __slots__ = ("table", "type", "dst", "plen", "dev", "gw", "src", "metric", "proto", "scope",
                 "onlink", "tos", "mtu", "mtu_lock", "advmss", "advmss_lock", "nhs", "encap", "nhid")

    def __init__(self, dst: int, plen: int, *, table: int = RT_TABLE_MAIN, type: str = "unicast",
                 dev: Any = None, gw: int | None = None, src: int | None = None, metric: int = 0,
                 proto: int = 3, scope: int | None = None, onlink: bool = False, tos: int = 0,
                 mtu: int | None = None, mtu_lock: bool = False, advmss: int | None = None,
                 advmss_lock: bool = False) -> None:
        self.table = table
        self.type = type
        self.dst = dst
        self.plen = plen
        self.dev = dev
        self.gw = gw
        self.src = src
        self.metric = metric
        self.proto = proto
        if scope is None:
            if type in ("local", "nat"):
                scope = RT_SCOPE_HOST
            elif type in ("broadcast", "multicast", "anycast"):
                scope = RT_SCOPE_LINK
            elif type == "unicast" and gw is None:
                scope = RT_SCOPE_LINK
            else:
                scope = RT_SCOPE_UNIVERSE
        self.scope = scope
        self.onlink = onlink
        self.encap: tuple[int, ...] = ()     # `encap mpls L1/L2`: labels mpls_iptunnel pushes (stack/mpls.py)
        self.tos = tos
        # ip_metrics_convert caps RTAX_MTU at IP_MAX_MTU - 15 and RTAX_ADVMSS at 65535 - 40
        self.mtu = min(mtu, RTAX_MTU_MAX) if mtu else mtu    # RTAX_MTU: the route's own path MTU
        self.mtu_lock = mtu_lock
        self.advmss = min(advmss, RTAX_ADVMSS_MAX) if advmss else advmss   # RTAX_ADVMSS (dst_metric_advmss)
        self.advmss_lock = advmss_lock
        self.nhs: tuple[Nexthop, ...] = ()
        self.nhid: int | None = None    # RTA_NH_ID: the nexthop object the route uses (stack/nexthop.py)

    def key(self) -> tuple:
        """What makes two routes the same entry (fib_table_insert's duplicate check)."""
        return (self.table, self.dst, self.plen, self.tos, self.metric)

    def same_entry(self, other: Route) -> bool:
        return (self.key() == other.key() and self.type == other.type and self.dev is other.dev
                and self.gw == other.gw)


class FibTable:
    """One routing table, indexed by prefix length for longest-prefix match."""

    __slots__ = ("id", "by_plen", "plens")

    def __init__(self, table_id: int) -> None:
        self.id = table_id
        self.by_plen: dict[int, dict[int, list[Route]]] = {}
        self.plens: list[int] = []  # non-empty prefix lengths, longest first

    def routes(self) -> list[Route]:
        out: list[Route] = []
        for plen in sorted(self.by_plen):
            for dst in sorted(self.by_plen[plen]):
                out.extend(self.by_plen[plen][dst])
        return out

    def find(self, dst: int, plen: int) -> list[Route]:
        return self.by_plen.get(plen, {}).get(dst, [])

    def insert(self, route: Route) -> None:
        bucket = self.by_plen.setdefault(route.plen, {})
        lst = bucket.setdefault(route.dst, [])
        lst.append(route)
        lst.sort(key=lambda r: (r.tos, r.metric))
        if route.plen not in self.plens:
            self.plens.append(route.plen)
            self.plens.sort(reverse=True)

    def remove(self, route: Route) -> None:
        bucket = self.by_plen.get(route.plen)
        if bucket is None:
            return
        lst = bucket.get(route.dst)
        if not lst or route not in lst:
            return
        lst.remove(route)
        if not lst:
            del bucket[route.dst]
        if not bucket:
            del self.by_plen[route.plen]
            self.plens.remove(route.plen)

    def lookup_scoped(self, addr: int, min_scope: int, oif: Any = None) -> Route | None:
        """fib_table_lookup with flowi4_scope and flowi4_oif (FIB_LOOKUP_IGNORE_LINKSTATE): the longest
        prefix holding a route of scope >= `min_scope` whose device is up and is `oif` (when given).
        A route of an error type (blackhole, unreachable, prohibit, throw) that qualifies is returned:
        the caller treats it as the error it is."""
        by_plen = self.by_plen
        for plen in self.plens:
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0
            for r in by_plen[plen].get(addr & mask, ()):
                if r.scope < min_scope:
                    continue
                if r.type in ROUTE_ERROR_TYPES:
                    return r
                if r.nhs:
                    if any(nh.dev.up and (oif is None or nh.dev is oif) for nh in r.nhs):
                        return r
                elif (r.dev is None or r.dev.up or r.scope == RT_SCOPE_HOST) and (oif is None or r.dev is oif):
                    return r   # a host-scope route lives while its device is down (fib_sync_down_dev)
        return None

    def lookup(self, addr: int, ignore_linkdown: Callable[[Any], bool] | None = None) -> Route | None:
        """Longest prefix match; the first live route of the best prefix wins. A route whose device
        has no carrier (RTNH_F_LINKDOWN) is not live when `ignore_linkdown(dev)` says so: fib_table_lookup
        with net.ipv4.conf.{all,DEV}.ignore_routes_with_linkdown."""
        by_plen = self.by_plen
        for plen in self.plens:
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0
            lst = by_plen[plen].get(addr & mask)
            if lst:
                for r in lst:
                    dev = r.dev
                    if dev is None or r.nhs or r.scope == RT_SCOPE_HOST:
                        return r
                    if dev.up and (ignore_linkdown is None or dev.has_carrier() or not ignore_linkdown(dev)):
                        return r
        return None


def nh_alive(nh: Nexthop, ignore_linkdown: bool) -> bool:
    """fib_rebalance's test: not RTNH_F_DEAD (device down), and not RTNH_F_LINKDOWN (no carrier)
    when the device's ignore_routes_with_linkdown is on."""
    return nh.dev.up and (not ignore_linkdown or nh.dev.has_carrier())


def fib_select_multipath(r: Route, mp_hash: int, ignore_linkdown: Any) -> Nexthop:
    """fib_select_multipath over fib_rebalance's hash thresholds: each live nexthop owns a slice of
    the 31-bit hash space in proportion to its weight (upper bound round(w_cum << 31 / total) - 1);
    a dead one owns none. With none alive the first nexthop stays selected, as in the kernel.
    `ignore_linkdown(dev)` reads net.ipv4.conf.{all,DEV}.ignore_routes_with_linkdown."""
    alive = [nh for nh in r.nhs if nh_alive(nh, ignore_linkdown(nh.dev))]
    total = sum(nh.weight for nh in alive)
    w = 0
    for nh in alive:
        w += nh.weight
        if mp_hash <= ((w << 31) + total // 2) // total - 1:
            return nh
    return r.nhs[0]


# fib rule actions (include/uapi/linux/fib_rules.h FR_ACT_*), by the name ip-rule(8) gives them
FR_ACT_TO_TBL = "lookup"
FR_ACT_BLACKHOLE = "blackhole"
FR_ACT_UNREACHABLE = "unreachable"
FR_ACT_PROHIBIT = "prohibit"
RULE_ACTIONS = (FR_ACT_TO_TBL, FR_ACT_BLACKHOLE, FR_ACT_UNREACHABLE, FR_ACT_PROHIBIT)

# which flow fields the rules look at: the route cache's key includes exactly these
FLOW_SRC, FLOW_IIF, FLOW_OIF, FLOW_MARK, FLOW_TOS = 1, 2, 4, 8, 16
IPTOS_TOS_MASK = 0x1E      # what a rule's `tos` may hold (fib4_rule_configure)
IPTOS_RT_MASK = 0x1C       # the TOS bits a rule compares with the flow's (RT_TOS)

# what a terminal rule action returns (fib4_rule_action): unreachable is -ENETUNREACH,
# the same as no route at all (None); prohibit is -EACCES and blackhole -EINVAL,
# which the callers know as the route types of the same names
RULE_PROHIBIT = Route(0, 0, table=RT_TABLE_UNSPEC, type="prohibit")
RULE_BLACKHOLE = Route(0, 0, table=RT_TABLE_UNSPEC, type="blackhole")


def _mask(plen: int) -> int:
    return (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0


class FibRule:
    """struct fib_rule + fib4_rule: one `ip rule`."""

    __slots__ = ("action", "dst", "dst_len", "iifname", "invert", "mark", "mark_mask", "oifname", "pref",
                 "proto", "src", "src_len", "suppress_prefixlen", "table", "tos")

    def __init__(self, pref: int, action: str = FR_ACT_TO_TBL, table: int = RT_TABLE_UNSPEC, *,
                 src: int = 0, src_len: int = 0, dst: int = 0, dst_len: int = 0, iifname: str = "",
                 oifname: str = "", mark: int = 0, mark_mask: int = 0, suppress_prefixlen: int = -1,
                 invert: bool = False, proto: int = 0, tos: int = 0) -> None:
        self.pref = pref
        self.action = action
        self.table = table
        self.src = src            # kept as given (`from 10.1.2.3/16` prints so); masked when matched
        self.src_len = src_len
        self.dst = dst
        self.dst_len = dst_len
        self.iifname = iifname
        self.oifname = oifname
        self.mark = mark
        # a mark without a mask matches all 32 bits (fib_nl2rule)
        self.mark_mask = mark_mask if mark_mask or not mark else 0xFFFFFFFF
        self.suppress_prefixlen = suppress_prefixlen
        self.invert = invert
        self.proto = proto
        self.tos = tos            # FRA_DSFIELD / frh->tos: 0 matches any

    def uses(self) -> int:
        """The FLOW_* fields this rule's selectors read."""
        return ((FLOW_SRC if self.src_len else 0) | (FLOW_IIF if self.iifname else 0)
                | (FLOW_OIF if self.oifname else 0) | (FLOW_MARK if self.mark_mask else 0)
                | (FLOW_TOS if self.tos else 0))

    def matches(self, daddr: int, saddr: int, iif: str, oif: str, mark: int, tos: int = 0) -> bool:
        """fib_rule_match + fib4_rule_match (`not` inverts the result); a rule's `tos` is compared
        with the flow's TOS bits (RT_TOS: the low ECN bits and the precedence do not count)."""
        ok = ((not self.iifname or self.iifname == iif)
              and (not self.tos or self.tos == tos & IPTOS_RT_MASK)
              and (not self.oifname or self.oifname == oif)
              and not ((self.mark ^ mark) & self.mark_mask)
              and not ((saddr ^ self.src) & _mask(self.src_len))
              and not ((daddr ^ self.dst) & _mask(self.dst_len)))
        return ok != self.invert

    def key(self) -> tuple[Any, ...]:
        """What rule_exists compares: everything but the protocol."""
        return (self.pref, self.action, self.table, self.src, self.src_len, self.dst, self.dst_len,
                self.iifname, self.oifname, self.mark, self.mark_mask, self.suppress_prefixlen, self.invert,
                self.tos)

    def same(self, o: FibRule) -> bool:
        return self.key() == o.key()


def default_rules() -> list[FibRule]:
    """fib_default_rules_init: 0 local, 32766 main, 32767 default (proto kernel)."""
    return [FibRule(0, table=RT_TABLE_LOCAL, proto=2), FibRule(32766, table=RT_TABLE_MAIN, proto=2),
            FibRule(32767, table=RT_TABLE_DEFAULT, proto=2)]


class RuleSelector:
    """What `ip rule del` names: only the attributes given are compared (rule_find)."""

    __slots__ = ("action", "dst", "iifname", "invert", "mark", "mark_mask", "oifname", "pref", "src",
                 "suppress_prefixlen", "table", "tos")

    def __init__(self, *, pref: int | None = None, action: str | None = None, table: int | None = None,
                 src: tuple[int, int] | None = None, dst: tuple[int, int] | None = None,
                 iifname: str | None = None, oifname: str | None = None, mark: int | None = None,
                 mark_mask: int | None = None, suppress_prefixlen: int | None = None,
                 invert: bool | None = None, tos: int | None = None) -> None:
        self.pref = pref
        self.action = action
        self.table = table
        self.src = src
        self.dst = dst
        self.iifname = iifname
        self.oifname = oifname
        self.mark = mark
        self.mark_mask = mark_mask
        self.suppress_prefixlen = suppress_prefixlen
        self.invert = invert
        self.tos = tos

    def selects(self, r: FibRule) -> bool:
        return ((self.pref is None or r.pref == self.pref)
                and (not self.tos or r.tos == self.tos)
                and (self.action is None or r.action == self.action)
                and (not self.table or r.table == self.table)
                and (self.src is None or (r.src, r.src_len) == self.src)
                and (self.dst is None or (r.dst, r.dst_len) == self.dst)
                and (self.iifname is None or r.iifname == self.iifname)
                and (self.oifname is None or r.oifname == self.oifname)
                and (not self.mark or r.mark == self.mark)
                and (not self.mark_mask or r.mark_mask == self.mark_mask)
                and (self.suppress_prefixlen is None or r.suppress_prefixlen == self.suppress_prefixlen)
                and (self.invert is None or r.invert == self.invert))


def _longest(local: Route | None, main: Route | None) -> Route | None:
    """The merged trie's answer (fib_trie.c, fib_unmerge): until the first rule is added the local table's
    routes live in main's trie, so the longest prefix of either wins, the local one on a tie (its
    aliases sort first: higher tb_id). 10.0.0.0/16 on lo does not take 10.0.1.0/24 from eth1."""
    if local is None or (main is not None and main.plen > local.plen):
        return main
    return local


class Fib:
    """All tables of a namespace and its policy rules.

    Without custom rules the kernel keeps the local table merged into main's trie (fib_new_table,
    fib_unmerge at the first `ip rule add`): a lookup takes the longest prefix of the two. After
    that, the rules consult local, then main, then default, in order."""

    __slots__ = ("flow_keys", "has_custom_local_routes", "has_custom_rules", "ignore_linkdown", "rules",
                 "rules_default", "tables")

    def __init__(self, ignore_linkdown: Callable[[Any], bool] | None = None) -> None:
        # ip_ignore_linkdown(dev): the namespace's net.ipv4.conf.{all,DEV}.ignore_routes_with_linkdown
        self.ignore_linkdown = ignore_linkdown
        self.tables: dict[int, FibTable] = {
            RT_TABLE_LOCAL: FibTable(RT_TABLE_LOCAL),
            RT_TABLE_MAIN: FibTable(RT_TABLE_MAIN),
            RT_TABLE_DEFAULT: FibTable(RT_TABLE_DEFAULT),
        }
        self.rules: list[FibRule] = default_rules()
        self.rules_default = True   # only the default rules: the three tables in order
        self.flow_keys = 0          # FLOW_* bits some rule reads (0: the destination decides)
        # fib_has_custom_rules: set by the first rule added and never cleared; from
        # then on a lookup's result names its table (`ip route get` shows `table local`)
        self.has_custom_rules = False
        # fib_has_custom_local_routes: set by the first `local` route a user adds (inet_rtm_newroute)
        self.has_custom_local_routes = False

    def table(self, table_id: int, create: bool = False) -> FibTable | None:
        t = self.tables.get(table_id)
        if t is None and create:
            t = self.new_table(table_id)
        return t

    def new_table(self, table_id: int) -> FibTable:
        """fib_new_table: the table, created when it does not exist yet."""
        t = self.tables.get(table_id)
        if t is None:
            t = self.tables[table_id] = FibTable(table_id)
        return t

    def lookup(self, addr: int, saddr: int = 0, iif: str = "", oif: str = "", mark: int = 0,
               tos: int = 0) -> Route | None:
        """fib_lookup: the route for a flow, or None (-ENETUNREACH).

        `iif` and `oif` are device names ("lo" for a locally generated packet's
        input, as flowi4_iif = LOOPBACK_IFINDEX), `mark` the packet's skb->mark,
        `tos` its TOS byte (the socket's, or the IP header's on input).
        """
        if not self.has_custom_rules:   # fib_lookup without custom rules: main (merged with local), default
            r = _longest(self.tables[RT_TABLE_LOCAL].lookup(addr, self.ignore_linkdown),
                         self.tables[RT_TABLE_MAIN].lookup(addr, self.ignore_linkdown))
            if r is None or r.type == "throw":
                r = self.tables[RT_TABLE_DEFAULT].lookup(addr, self.ignore_linkdown)
            return None if r is None or r.type == "throw" else r
        if self.rules_default:
            for tid in (RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT):
                r = self.tables[tid].lookup(addr, self.ignore_linkdown)
                if r is not None:
                    if r.type == "throw":
                        continue
                    return r
            return None
        return self.rules_lookup(addr, saddr, iif, oif, mark, tos)

    def rules_lookup(self, addr: int, saddr: int, iif: str, oif: str, mark: int, tos: int = 0) -> Route | None:
        """fib_rules_lookup + fib4_rule_action + fib4_rule_suppress."""
        for rule in self.rules:
            if not rule.matches(addr, saddr, iif, oif, mark, tos):
                continue
            action = rule.action
            if action == FR_ACT_TO_TBL:
                t = self.tables.get(rule.table)
                if t is None:
                    continue
                r = t.lookup(addr, self.ignore_linkdown)
                if r is None or r.type == "throw":
                    continue    # -EAGAIN: on to the next rule
                if r.plen <= rule.suppress_prefixlen:
                    continue    # fib4_rule_suppress
                return r
            if action == FR_ACT_PROHIBIT:
                return RULE_PROHIBIT
            if action == FR_ACT_BLACKHOLE:
                return RULE_BLACKHOLE
            return None         # FR_ACT_UNREACHABLE
        return None

    def lookup_oif(self, addr: int, saddr: int, oif: Any, mark: int = 0, tos: int = 0) -> Route | None:
        """fib_lookup with flowi4_oif (a socket bound to a device): only routes through `oif` (or of
        the local table's types on it) count; a rule action or a route that is an error (blackhole,
        unreachable, prohibit) is None too, as the caller then assumes the destination on link."""
        return self._lookup_scoped(addr, saddr, oif, mark, tos, RT_SCOPE_UNIVERSE)

    def gw_lookup(self, gw: int, scope: int, oif: Any, table_id: int) -> Route | None:
        """fib_check_nh_v4_gw's lookup of a new route's gateway: scope at least `scope` + 1 (and at
        least link), through the device `oif` when given; in the route's own table when it is not
        main and exists, else (or when that finds nothing) a full fib_lookup through the rules, with
        the flow of a local packet (iif lo). None: "Nexthop has invalid gateway"."""
        min_scope = max(scope + 1, RT_SCOPE_LINK)
        t = self.tables.get(table_id) if table_id != RT_TABLE_MAIN else None
        if t is not None:
            r = t.lookup_scoped(gw, min_scope, oif)
            if r is not None and r.type not in ROUTE_ERROR_TYPES:
                return r
        return self._lookup_scoped(gw, 0, oif, 0, 0, min_scope)

    def _lookup_scoped(self, addr: int, saddr: int, oif: Any, mark: int, tos: int, min_scope: int) -> Route | None:
        """fib_lookup of a local flow (iif lo) with flowi4_oif and flowi4_scope: the rules in order,
        each table through FibTable.lookup_scoped; an error (a terminal rule, an error route) is None."""
        oifname = oif.name if oif is not None else ""
        if not self.has_custom_rules:   # the merged main and local tables, then default (fib_lookup)
            r = _longest(self.tables[RT_TABLE_LOCAL].lookup_scoped(addr, min_scope, oif),
                         self.tables[RT_TABLE_MAIN].lookup_scoped(addr, min_scope, oif))
            if r is None or r.type == "throw":
                r = self.tables[RT_TABLE_DEFAULT].lookup_scoped(addr, min_scope, oif)
            return None if r is None or r.type == "throw" or r.type in ROUTE_ERROR_TYPES else r
        for rule in default_rules() if self.rules_default else self.rules:
            if not rule.matches(addr, saddr, "lo", oifname, mark, tos):
                continue
            if rule.action != FR_ACT_TO_TBL:
                return None
            t = self.tables.get(rule.table)
            r = t.lookup_scoped(addr, min_scope, oif) if t is not None else None
            if r is None or r.type == "throw" or r.plen <= rule.suppress_prefixlen:
                continue    # -EAGAIN, or fib4_rule_suppress: on to the next rule
            return None if r.type in ROUTE_ERROR_TYPES else r
        return None

    # -- rules (fib_nl_newrule / fib_nl_delrule) ------------------------------
    def _rules_changed(self) -> None:
        defaults = default_rules()
        self.rules_default = (len(self.rules) == len(defaults)
                              and all(a.same(b) for a, b in zip(self.rules, defaults)))
        keys = 0
        for r in self.rules:
            keys |= r.uses()
        self.flow_keys = keys

    def default_rule_pref(self) -> int:
        """fib_default_rule_pref: one below the second rule's, when that is not 0."""
        if len(self.rules) >= 2 and self.rules[1].pref:
            return self.rules[1].pref - 1
        return 0

    def empty_table(self) -> int:
        """fib_empty_table: the lowest table id not in use (for `table 0`)."""
        tid = 1
        while tid in self.tables:
            tid += 1
        self.new_table(tid)
        return tid

    def rule_add(self, rule: FibRule) -> None:
        """fib_nl_newrule: refused when the same rule exists; placed after rules of equal preference."""
        if rule.tos & 0x3:   # fib4_rule_configure: inet_validate_dscp, then the TOS mask
            raise NetplexError("Error: Invalid dsfield (tos): ECN bits must be 0.", errno.EINVAL)
        if rule.tos & ~IPTOS_TOS_MASK:
            raise NetplexError("Error: Invalid tos.", errno.EINVAL)
        if rule.action == FR_ACT_TO_TBL and rule.table == RT_TABLE_UNSPEC:
            rule.table = self.empty_table()
        if any(r.same(rule) for r in self.rules):
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        i = 0
        while i < len(self.rules) and self.rules[i].pref <= rule.pref:
            i += 1
        self.rules.insert(i, rule)
        self.has_custom_rules = True
        self._rules_changed()

    def rule_del(self, sel: RuleSelector) -> FibRule:
        """fib_nl_delrule: the first rule the selector names."""
        for r in self.rules:
            if sel.selects(r):
                self.rules.remove(r)
                self._rules_changed()
                return r
        raise NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)

    def rules_flush(self) -> None:
        """`ip rule flush`: every rule but those of preference 0."""
        self.rules = [r for r in self.rules if r.pref == 0]
        self._rules_changed()

    def all_routes(self) -> list[Route]:
        out: list[Route] = []
        for tid in sorted(self.tables):
            out.extend(self.tables[tid].routes())
        return out

    def flush_dev(self, dev: Any, kernel_only: bool = False) -> None:
        """Remove every route through `dev` (fib_sync_down_dev + fib_flush). A multipath route with
        a nexthop through `dev` goes whole, as fib_sync_down_dev does on NETDEV_UNREGISTER. A route
        through a nexthop object is not in fib_info_devhash: it follows its object (nexthop.c)."""
        for t in self.tables.values():
            for r in t.routes():
                if r.nhid is not None:
                    continue
                if r.nhs:
                    if any(nh.dev is dev for nh in r.nhs):
                        t.remove(r)
                elif r.dev is dev and (not kernel_only or r.proto == 2):
                    t.remove(r)
