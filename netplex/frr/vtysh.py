"""`vtysh` (FRR 8.4's integrated shell): `-c` commands to the node's FRR daemons.

    vtysh -c 'show ip bgp summary'
    vtysh -c 'conf t' -c 'router bgp 65001' -c 'neighbor 203.0.113.1 remote-as 64500'

Each `-c` is one line (a line with newlines is several); vtysh stops at the first
that fails, with status 1 (vtysh_main.c). `configure terminal` enters the config
node; its lines go through `netplex.frr.config.Parser` and bgpd applies them at
once (new neighbors start, removed ones get Cease 6/3, `network` lines originate);
`end`/`exit` leave it. `write memory` saves the configuration to /etc/frr/frr.conf
as the integrated config does. Words may be abbreviated to any unique prefix among
the commands netplex models (`sh ip b su`).

Shown as FRR 8.4 prints them (bgp_route.c, bgp_vty.c, zebra_vty.c): `show ip bgp
summary` (also `show bgp [ipv4 unicast] summary`), `show ip bgp` and `show ip bgp
PREFIX` (the table and one entry), `show ip route [bgp|connected|kernel|PREFIX]`,
`show running-config`. Other commands FRR has are answered as netplex's refusal;
text no FRR command matches gets FRR's `% Unknown command: ...`, a prefix of one
`% Command incomplete: ...` (configuration lines: netplex/frr/grammar.py). Dates (`Last
update:`) count from the epoch, as netplex's clock does.
"""
from __future__ import annotations

import time
from typing import Any

from netplex.frr.bgpd import ESTABLISHED, Bgpd, Path
from netplex.frr.config import FrrConfigError, Parser, config_lines, parse_prefix, running_config
from netplex.frr.grammar import verdict
from netplex.frr.ospfd import NBR_STATES, Ospfd, OspfRoute
from netplex.frr.service import CONF_FILE, daemons_of
from netplex.frr.zebra import NSEC, RibEntry, Zebra, fmt_uptime, nexthop_text, rib
from netplex.machine import Machine
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["vtysh"]

PEER_BYTES = 741464          # sizeof(struct peer) in FRR 8.4 on amd64, as `Peers N, using ...` counts
RIB_NODE_BYTES = 192
PEER_GROUP_BYTES = 64        # sizeof(struct peer_group)

_BGP_HEADER = """BGP table version is {ver}, local router ID is {rid}, vrf id 0
Default local pref {lp}, local AS {asn}
Status codes:  s suppressed, d damped, h history, * valid, > best, = multipath,
               i internal, r RIB-failure, S Stale, R Removed
Nexthop codes: @NNN nexthop's vrf id, < announce-nh-self
Origin codes:  i - IGP, e - EGP, ? - incomplete
RPKI validation codes: V valid, I invalid, N Not found

   Network          Next Hop            Metric LocPrf Weight Path
"""
_ROUTE_HEADER = """Codes: K - kernel route, C - connected, S - static, R - RIP,
       O - OSPF, I - IS-IS, B - BGP, E - EIGRP, N - NHRP,
       T - Table, v - VNC, V - VNC-Direct, A - Babel, F - PBR,
       f - OpenFabric,
       > - selected route, * - FIB route, q - queued, r - rejected, b - backup
       t - trapped, o - offload failure

"""
_ORIGIN = ("i", "e", "?")
_ORIGIN_LONG = ("IGP", "EGP", "incomplete")


class _Fail(Exception):
    def __init__(self, out: str = "", err: str = "", status: int = 1) -> None:
        super().__init__(out or err)
        self.out, self.err, self.status = out, err, status


def memstr(n: int) -> str:
    """lib/memory.c mtype_memstr: bytes, KiB or MiB, rounded as FRR rounds them."""
    if n == 0:
        return "0 bytes"
    if n == 1:
        return "1 byte"
    m, k = n >> 20, n >> 10
    if m > 10:
        return f"{m + (1 if n & (1 << 19) else 0)} MiB"
    if k > 10:
        return f"{k + (1 if n & (1 << 9) else 0)} KiB"
    return f"{n} bytes"


def table_nodes(prefixes: list[tuple[int, int]]) -> int:
    """How many nodes lib/table.c's route table holds for these prefixes (route_node_get
    adds a branching node where two prefixes part): `RIB entries N`."""
    def bit(a: int, i: int) -> int:
        return (a >> (31 - i)) & 1

    def common(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
        n = 0
        while n < min(a[1], b[1]) and bit(a[0], n) == bit(b[0], n):
            n += 1
        mask = ((1 << n) - 1) << (32 - n) if n else 0
        return (a[0] & mask, n)

    def contains(outer: tuple[int, int], p: tuple[int, int]) -> bool:
        if outer[1] > p[1]:
            return False
        mask = ((1 << outer[1]) - 1) << (32 - outer[1]) if outer[1] else 0
        return p[0] & mask == outer[0]

    # a node: [prefix, child0, child1]
    top: list[Any] | None = None
    count = 0
    for p in prefixes:
        parent: list[Any] | None = None
        node = top
        while node is not None and contains(node[0], p):
            if node[0] == p:
                break
            parent = node
            node = node[1 + bit(p[0], node[0][1])]
        if node is not None and node[0] == p:
            continue
        if node is None:
            new: list[Any] = [p, None, None]
            count += 1
        else:
            c = common(node[0], p)
            new = [c, None, None]
            count += 1
            new[1 + bit(node[0][0], c[1])] = node
            if c != p:
                leaf: list[Any] = [p, None, None]
                count += 1
                new[1 + bit(p[0], c[1])] = leaf
        if parent is None:
            top = new
        else:
            parent[1 + bit(p[0], parent[0][1])] = new
    return count


def _pfx(p: tuple[int, int]) -> str:
    return f"{int_to_ip(p[0])}/{p[1]}"


def _peer_name(bgpd: Bgpd, p: Any) -> str:
    """A neighbor as FRR names it: `host(address)` under `bgp default show-hostname` (datacenter)."""
    addr = int_to_ip(p.addr)
    return f"{p.hostname}({addr})" if bgpd.conf.profile == "datacenter" and p.hostname else addr


def _summary(bgpd: Bgpd) -> str:
    b = bgpd.conf.bgp
    assert b is not None
    now = bgpd.ns.sched.now
    peers = list(bgpd.peers.values())
    if not peers:
        return "% No BGP neighbors found in VRF default\n"   # not checked against FRR
    entries = table_nodes(bgpd.prefixes())
    out = ["", "IPv4 Unicast Summary (VRF default):",
           f"BGP router identifier {int_to_ip(bgpd.router_id())}, local AS number {b.asn} vrf-id 0",
           f"BGP table version {bgpd.table_version}",
           f"RIB entries {entries}, using {memstr(entries * RIB_NODE_BYTES)} of memory",
           f"Peers {len(peers)}, using {memstr(len(peers) * PEER_BYTES)} of memory",
           *([f"Peer groups {len(b.groups)}, using {memstr(len(b.groups) * PEER_GROUP_BYTES)} of memory"]
             if b.groups else []), "",
           "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc"]
    for p in sorted(peers, key=lambda x: x.addr):
        host = _peer_name(bgpd, p)
        head = host + " " * (16 - len(host)) if len(host) < 16 else host + "\n" + " " * 16
        asn = p.cfg.remote_as if p.cfg.remote_as is not None else p.remote_as
        updown = fmt_uptime(now - p.since) if p.since is not None else "never"
        if p.state == ESTABLISHED:
            if bgpd.policy_blocks(p):
                state, sent = "(Policy)", "(Policy)"
            else:
                state, sent = str(bgpd.pfx_rcvd(p)), str(len(p.adj_out))
        else:
            state = "Idle (Admin)" if p.cfg.shutdown else p.state
            sent = "0"
        desc = p.cfg.description[:20] if p.cfg.description else "N/A"
        out.append(f"{head}4 {asn:>10} {p.msg_rcvd:>9} {p.msg_sent:>9} {0:>8} {0:>4} {0:>4} {updown:>8} "
                   f"{state:>12} {sent:>8} {desc}")
    out += ["", f"Total number of neighbors {len(peers)}", ""]
    return "\n".join(out)


def _status(bgpd: Bgpd, x: Path, prefix: tuple[int, int]) -> str:
    best = bgpd.best.get(prefix)
    mp = bgpd.multipath.get(prefix, [])
    s = "*" if x.valid else " "
    s += ">" if x is best else ("=" if x in mp else " ")
    s += "i" if x.peer is not None and not bgpd.is_ebgp(x.peer) else " "
    return s


def _ordered(bgpd: Bgpd, prefix: tuple[int, int]) -> list[Path]:
    """FRR's path list: the newest first (bgp_path_info_add puts a path at the head); the best
    path is not moved."""
    return bgpd.paths(prefix)


def _table(bgpd: Bgpd) -> str:
    b = bgpd.conf.bgp
    assert b is not None
    prefixes = bgpd.prefixes()
    if not prefixes:
        return "No BGP prefixes displayed, 0 exist\n"      # not checked against FRR
    out = _BGP_HEADER.format(ver=bgpd.table_version, rid=int_to_ip(bgpd.router_id()), lp=b.local_pref,
                             asn=b.asn)
    total = 0
    for prefix in prefixes:
        for i, x in enumerate(_ordered(bgpd, prefix)):
            total += 1
            net = _pfx(prefix) if i == 0 else ""
            line = _status(bgpd, x, prefix)
            line += net + " " * (17 - len(net)) if len(net) < 17 else net + "\n" + " " * 20
            nh = int_to_ip(x.next_hop)
            if bgpd.conf.profile == "datacenter":      # bgp default show-nexthop-hostname
                name = bgpd.ns.name if x.peer is None else x.peer.hostname
                nh += f"({name})" if name else ""
            line += nh + " " * (16 - len(nh)) if len(nh) < 16 else nh + "\n" + " " * 36
            line += f"{x.med:>10}" if x.med is not None else " " * 10
            line += f"{x.local_pref:>7}" if x.local_pref is not None else " " * 7
            line += f"{x.weight:>7} "
            path = x.as_text()
            line += (path + " " if path else "") + _ORIGIN[x.origin if x.origin < 3 else 2]
            out += line + "\n"
    out += f"\nDisplayed  {len(prefixes)} routes and {total} total paths\n"
    return out


def _date(ns: int) -> str:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(ns // NSEC))


def _entry(bgpd: Bgpd, want: tuple[int, int], exact: bool) -> str:
    prefixes = bgpd.prefixes()
    if exact:
        match = want if want in prefixes else None
    else:
        cands = [p for p in prefixes if p[1] <= want[1] and
                 want[0] & ((((1 << p[1]) - 1) << (32 - p[1])) if p[1] else 0) == p[0]]
        match = max(cands, key=lambda p: p[1], default=None)
    if match is None:
        return "% Network not in table\n"
    paths = _ordered(bgpd, match)
    best = bgpd.best.get(match)
    mp = bgpd.multipath.get(match, [])
    bestno = f"best #{paths.index(best) + 1}" if best in paths else "no best path"
    out = [f"BGP routing table entry for {_pfx(match)}, version {bgpd.version.get(match, 0)}",
           f"Paths: ({len(paths)} available, {bestno}, table default)"]
    adv = sorted((p for p in bgpd.peers.values() if match in p.adj_out), key=lambda p: p.addr)
    if adv:
        out += ["  Advertised to non peer-group peers:", "  " + " ".join(_peer_name(bgpd, p) for p in adv)]
    else:
        out.append("  Not advertised to any peer")
    for x in paths:
        out.append("  " + (x.as_text() or "Local"))
        flags: list[str] = []
        if x.peer is None:
            nh = "0.0.0.0" + ("" if x.valid else " (inaccessible)")
            out.append(f"    {nh} from 0.0.0.0 ({int_to_ip(bgpd.router_id())})")
        else:
            nh = int_to_ip(x.next_hop)
            if bgpd.conf.profile == "datacenter" and x.peer.hostname:
                nh += f"({x.peer.hostname})"
            nh += "" if x.valid else " (inaccessible)"
            out.append(f"    {nh} from {_peer_name(bgpd, x.peer)} ({int_to_ip(x.peer.remote_id)})")
        attrs = [f"Origin {_ORIGIN_LONG[x.origin if x.origin < 3 else 2]}"]
        if x.med is not None:
            attrs.append(f"metric {x.med}")
        if x.local_pref is not None:
            attrs.append(f"localpref {x.local_pref}")
        if x.weight:
            attrs.append(f"weight {x.weight}")
        flags.append("valid" if x.valid else "invalid")
        if x.peer is None:
            flags += ["sourced", "local"] if x.source == "network" else ["sourced"]
        else:
            flags.append("external" if bgpd.is_ebgp(x.peer) else "internal")
        if x in mp and len(mp) > 1:
            flags.append("multipath")
        if x in bgpd.dmed.get(match, []) and x.peer is not None:
            flags.append(f"bestpath-from-AS {x.neighbor_as()}")
        if x is best:
            reason = bgpd.reason.get(match, "")
            flags.append(f"best ({reason})" if reason else "best")
        out.append("      " + ", ".join(attrs + flags))
        out.append(f"      Last update: {_date(bgpd.ns.world.realtime_epoch_s * NSEC + x.since)}")
    return "\n".join(out) + "\n"


def _route_lines(e: RibEntry, now: int, fib: bool = True) -> list[str]:
    up = fmt_uptime(now - e.since)
    pfx = _pfx((e.dst, e.plen))
    if e.kind == "C":
        return [f"C>* {pfx} {nexthop_text(None, e.nexthops[0][1])}, {up}"]
    # zebra_vty.c: a recursive nexthop (no device) has no FIB mark; what it resolved to follows,
    # indented two more and marked
    first_fib = fib and bool(e.nexthops[0][1])
    head = f"{e.kind}>{'*' if first_fib else ' '} {pfx} [{e.distance}/{e.metric}]"
    out: list[str] = []
    level = 0
    for i, (gw, dev) in enumerate(e.nexthops):
        if gw is None:
            via = f"is directly connected, {dev}"
        else:
            via = f"via {int_to_ip(gw)}, {dev}" if dev else f"via {int_to_ip(gw)} (recursive)"
        weight = ", weight 1" if e.kind == "B" else ""
        if i == 0:
            out.append(f"{head} {via}{weight}, {up}")
        else:
            mark = "*" if fib and dev else " "
            out.append(f"  {mark}{' ' * (len(head) - 3 + 2 * level)} {via}{weight}, {up}")
        level = 1 if not dev and gw is not None else 0
    return out


def _routes(machine: Machine, ns: Any, kind: str | None, prefix: tuple[int, int] | None) -> str:
    d = daemons_of(machine, ns)
    z = d.zebra
    assert z is not None
    now = ns.sched.now
    entries = rib(ns, z.started)
    have = {(e.dst, e.plen) for e in entries}
    bgpd = d.bgpd
    for (dst, plen), (distance, nhs) in z.rib_info.items():
        if (dst, plen) in have or (dst, plen) not in z.installed or z.protos.get((dst, plen)) != "bgp":
            continue
        best = bgpd.best.get((dst, plen)) if bgpd is not None else None
        since = best.since if best is not None else z.started
        metric = best.med or 0 if best is not None else 0
        # a recursive nexthop is shown as (NEXT_HOP, None) followed by what it resolved to
        hops: list[tuple[int | None, str]] = []
        for nh, gw, dev in nhs:
            hops += [(nh, dev.name)] if nh == gw else [(nh, ""), (gw, dev.name)]
        entries.append(RibEntry("B", dst, plen, distance, metric, hops, since))
    # zebra lists a prefix's newest route first: ospfd's after the connected one zebra began with
    rows = [((e.dst, e.plen, 1), e.kind, _route_lines(e, now)) for e in entries]
    if d.ospfd is not None:
        rows += [((r.dst, r.plen, 0), "O", _ospf_route_lines(r, z, now)) for r in d.ospfd.routes.values()]
    rows.sort(key=lambda row: row[0])
    if prefix is not None:
        rows = [row for row in rows if row[0][:2] == prefix]
        if not rows:
            return "% Network not in table\n"
    if kind is not None:
        rows = [row for row in rows if row[1] == kind]
        if not rows:
            return ""
    return _ROUTE_HEADER + "".join(x + "\n" for _k, _kind, lines in rows for x in lines)


def _ospf_route_lines(r: OspfRoute, z: Zebra, now: int) -> list[str]:
    """An OSPF route as zebra_vty.c shows it: selected and in the FIB (`O>*`) when zebra installed
    it, else (the router's own networks, where the connected route wins) neither."""
    up = fmt_uptime(now - r.since)
    selected = z.protos.get((r.dst, r.plen)) == "ospf"
    head = f"O{'>*' if selected else '  '} {_pfx((r.dst, r.plen))} [110/{r.cost}]"
    out = []
    for i, (gw, dev) in enumerate(r.nexthops):
        via = f"via {int_to_ip(gw)}, {dev}" if gw is not None else f"is directly connected, {dev}"
        if i == 0:
            out.append(f"{head} {via}, weight 1, {up}")
        else:
            out.append(f"  {'*' if selected else ' '}{' ' * (len(head) - 3)} {via}, weight 1, {up}")
    return out


def _ospf_neighbors(ospfd: Ospfd) -> str:
    """`show ip ospf neighbor` (ospf_vty.c show_ip_ospf_neighbour_header and _brief)."""
    now = ospfd.ns.sched.now
    out = (f"\n{'Neighbor ID':<15} {'Pri':<3} {'State':<15} {'Up Time':<15} {'Dead Time':<9} {'Address':<15} "
           f"{'Interface':<32} {'RXmtL':>5} {'RqstL':>5} {'DBsmL':>5}\n")
    for oi, nbr in ospfd.neighbors():
        role = "-" if oi.ptype == "point-to-point" else (
            "DR" if nbr.addr == oi.dr else "Backup" if nbr.addr == oi.bdr else "DROther")
        state = f"{NBR_STATES[nbr.state]}/{role}"
        out += f"{int_to_ip(nbr.rid):<15} {nbr.priority:3d} {state:<15} "
        out += f"{ospf_time(now - nbr.since):<15} {ospf_time(nbr.dead_at - now):>9} {int_to_ip(nbr.addr):<15} "
        out += f"{oi.name + ':' + int_to_ip(oi.addr):<32} {len(nbr.rxmt):5d} {len(nbr.requests):5d} {0:5d}\n"
    return out + "\n"


def ospf_time(ns: int) -> str:
    """ospf_timeval_dump: 12.446s, 1m02s, 1h02m03s, 1d02h03m, 1w2d03h."""
    ms_total = max(0, ns) // 1_000_000
    s, ms = divmod(ms_total, 1000)
    w, s = divmod(s, 604800) if s > 604800 else (0, s)
    d, s = divmod(s, 86400) if s > 86400 else (0, s)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if w:
        return f"{w}w{d}d{h:02d}h"
    if d:
        return f"{d}d{h:02d}h{m:02d}m"
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    if s or ms:
        return f"{s}.{ms:03d}s"
    return f"{max(0, ns) // 1000} usecs"





# the commands netplex answers; a word is matched by any unique prefix among them
_SHOW = [
    (("show", "ip", "bgp", "summary"), "summary"),
    (("show", "bgp", "summary"), "summary"),
    (("show", "bgp", "ipv4", "unicast", "summary"), "summary"),
    (("show", "ip", "bgp"), "table"),
    (("show", "bgp"), "table"),
    (("show", "bgp", "ipv4", "unicast"), "table"),
    (("show", "bgp", "ipv4"), "table"),
    (("show", "ip", "bgp", "<prefix>"), "entry"),
    (("show", "bgp", "<prefix>"), "entry"),
    (("show", "bgp", "ipv4", "unicast", "<prefix>"), "entry"),
    (("show", "ip", "route"), "route"),
    (("show", "ip", "route", "bgp"), "route-bgp"),
    (("show", "ip", "route", "connected"), "route-connected"),
    (("show", "ip", "route", "kernel"), "route-kernel"),
    (("show", "ip", "route", "ospf"), "route-ospf"),
    (("show", "ip", "ospf", "neighbor"), "ospf-neighbor"),
    (("show", "ip", "route", "<prefix>"), "route-prefix"),
    (("show", "running-config"), "running"),
    (("configure", "terminal"), "conf"),
    (("configure",), "conf"),
    (("clear", "ip", "bgp", "*"), "clear"),
    (("clear", "bgp", "*"), "clear"),
    (("clear", "ip", "bgp", "<prefix>"), "clear"),
    (("clear", "bgp", "<prefix>"), "clear"),
    (("write", "memory"), "write"),
    (("write", "file"), "write"),
    (("write",), "write"),
]
# what FRR has but netplex does not answer: refused in netplex's words
_REFUSED = ("show ip bgp neighbors", "show bgp neighbors", "show ip bgp json", "show ip route json",
            "show ip bgp summary json", "show bgp summary json", "clear ip bgp * soft", "clear bgp * soft",
            "show ip ospf interface", "show ip ospf database", "show ip ospf route", "show ip ospf json",
            "show ip ospf neighbor detail", "show ip ospf neighbor json", "show ip ospf border-routers", "show ip nht",
            "show interface", "show ip bgp detail")


# refused as they are, though a longer command starting with them is answered
_REFUSED_EXACT = ("show ip ospf",)


def _match(words: list[str]) -> tuple[str, list[str]] | None:
    """The command `words` name (unique prefixes allowed) and the values of its placeholders."""
    cands = list(_SHOW)
    values: list[str] = []
    for i, w in enumerate(words):
        nxt = []
        for pat, name in cands:
            if i >= len(pat):
                continue
            key = pat[i]
            if key == "<prefix>":
                if w.count(".") == 3:
                    nxt.append((pat, name))
            elif key.startswith(w):
                nxt.append((pat, name))
        keys = {pat[i] for pat, _ in nxt}
        exact = [c for c in nxt if c[0][i] == w]
        if exact:
            nxt = exact
        elif len(keys - {"<prefix>"}) > 1:
            return None            # ambiguous
        if not nxt:
            return None
        if nxt[0][0][i] == "<prefix>":
            values.append(w)
        cands = nxt
    done = [(pat, name) for pat, name in cands if len(pat) == len(words)]
    if not done:
        return ("incomplete", []) if cands else None     # a prefix of commands FRR has: MATCHER_INCOMPLETE
    return done[0][1], values


def _run_show(ctx: Context, machine: Machine, name: str, values: list[str]) -> str:
    node: Any = ctx.node
    d = daemons_of(machine, node)
    if name == "running":
        z = d.zebra
        assert z is not None
        return running_config(z.conf, node.name, node.sysctl.get("net.ipv4.ip_forward") == "1")
    if name.startswith("route"):
        kind = {"route-bgp": "B", "route-connected": "C", "route-kernel": "K", "route-ospf": "O"}.get(name)
        prefix = None
        if name == "route-prefix":
            text = values[0] if "/" in values[0] else values[0] + "/32"
            prefix = parse_prefix(text)
            if prefix is None:
                raise _Fail(f"% Unknown command: show ip route {values[0]}\n")
            if "/" not in values[0]:
                return _route_lookup(machine, ctx.node, ip_to_int(values[0]))
        return _routes(machine, ctx.node, kind, prefix)
    if name == "ospf-neighbor":
        return _ospf_neighbors(d.ospfd) if d.ospfd is not None else "ospfd is not running\n"
    bgpd = d.bgpd
    if bgpd is None or bgpd.conf.bgp is None:
        return "% No BGP instances found\n" if bgpd is not None else "bgpd is not running\n"
    if name == "summary":
        return _summary(bgpd)
    if name == "table":
        return _table(bgpd)
    text = values[0]
    p = parse_prefix(text if "/" in text else text + "/32")
    if p is None:
        raise _Fail(f"% Unknown command: show ip bgp {text}\n")
    return _entry(bgpd, p, exact="/" in text)


def _route_lookup(machine: Machine, ns: Any, addr: int) -> str:
    """`show ip route A.B.C.D`: the longest match, in zebra's detail form."""
    d = daemons_of(machine, ns)
    assert d.zebra is not None
    entries = rib(ns, d.zebra.started)
    for (dst, plen), route in d.zebra.installed.items():
        hops = [(nh.gw, nh.dev.name) for nh in route.nhs] if route.nhs else [(route.gw, route.dev.name)]
        entries.append(RibEntry("B", dst, plen, route.metric, 0, hops, d.zebra.started))
    best = None
    for e in entries:
        mask = ((1 << e.plen) - 1) << (32 - e.plen) if e.plen else 0
        if addr & mask == e.dst and (best is None or e.plen > best.plen):
            best = e
    if best is None:
        return "% Network not in table\n"
    raise _Fail("", "netplex: vtysh: show ip route A.B.C.D (the detail form) is not supported\n", 2)


@command("vtysh")
def vtysh(ctx: Context, argv: list[str]) -> Result:
    lines: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-c", "--command"):
            if i + 1 >= len(argv):
                return Result(1, "", "vtysh: option requires an argument -- 'c'\n")
            lines += argv[i + 1].split("\n")
            i += 2
            continue
        if a.startswith("-c") and len(a) > 2:
            lines += a[2:].split("\n")
            i += 1
            continue
        return Result(2, "", f"netplex: vtysh {a} is not supported (netplex runs vtysh -c COMMAND ...)\n")
    if not lines:
        return Result(2, "", "netplex: vtysh without -c (an interactive session) is not supported\n")
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "Exiting: failed to connect to any daemons.\n")
    machine = ctx.machine
    d = daemons_of(machine, ctx.node)
    if d.zebra is None and d.bgpd is None:
        return Result(1, "", "Exiting: failed to connect to any daemons.\n")
    out = ""
    parser: Parser | None = None
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        try:
            if parser is not None:
                if line == "end":
                    parser = None
                    continue
                if line in ("exit", "quit") and parser.node == "config":
                    parser = None
                    continue
                if line.startswith("do "):
                    line = line[3:]
                else:
                    _configure(machine, ctx.node, parser, line)
                    continue
            if any(line == r or line.startswith(r + " ") for r in _REFUSED) or line in _REFUSED_EXACT:
                return Result(2, out, f"netplex: vtysh: `{line}` is not supported\n")
            m = _match(line.split())
            if m is None:
                return Result(1, out + f"% Unknown command: {line}\n")
            if m[0] == "incomplete":
                return Result(1, out + f"% Command incomplete: {line}\n")
            name, values = m
            if name == "conf":
                z = daemons_of(machine, ctx.node).zebra
                assert z is not None
                parser = Parser(z.conf)
                continue
            if name == "write":
                out += _write(machine, ctx.node)
                continue
            if name == "clear":
                out += _clear(machine, ctx.node, values)
                continue
            out += _run_show(ctx, machine, name, values)
        except _Fail as e:
            return Result(e.status, out + e.out, e.err)
    return Result(0, out)


def _configure(machine: Machine, ns: Any, parser: Parser, line: str) -> None:
    d = daemons_of(machine, ns)
    if parser.node in ("interface", "ospf") or line.split()[:1] == ["interface"] or " ".join(
            line.split()[:3]) in ("router ospf", "no router ospf"):
        raise _Fail("", "netplex: vtysh: interface and OSPF configuration at run time is not supported "
                        "(they are read from /etc/frr/frr.conf at start)\n", 2)
    b_before = parser.conf.bgp
    node = parser.node
    try:
        parser.feed(line)
    except FrrConfigError as e:
        if e.message.endswith("is not supported"):
            parser.node = node                  # a refused line leaves vtysh where it was
            v = verdict(node, line)
            if v == "incomplete":
                raise _Fail(f"% Command incomplete: {line}\n") from e
            if v == "unknown":
                raise _Fail(f"% Unknown command: {line}\n") from e
            raise _Fail("", f"netplex: vtysh: {e.message}\n", 2) from e
        raise _Fail(e.message + "\n") from e
    if parser.conf.bgp is not None and d.bgpd is None:
        parser.conf.bgp = b_before
        raise _Fail("", "netplex: vtysh: bgpd is not running (bgpd=yes in /etc/frr/daemons)\n", 1)
    if d.bgpd is not None:
        d.bgpd.reconfigure()


def _clear(machine: Machine, ns: Any, values: list[str]) -> str:
    bgpd = daemons_of(machine, ns).bgpd
    if bgpd is None or bgpd.conf.bgp is None:
        raise _Fail("% No BGP instances found\n")       # not checked against FRR
    addr = None
    if values:
        if "/" in values[0]:
            raise _Fail(f"% Unknown command: clear ip bgp {values[0]}\n")
        try:
            addr = ip_to_int(values[0])
        except ValueError:
            raise _Fail(f"% Unknown command: clear ip bgp {values[0]}\n") from None
    if not bgpd.clear(addr):
        raise _Fail("% BGP: Unknown neighbor - \"" + values[0] + "\"\n")   # not checked against FRR
    return ""


def _write(machine: Machine, ns: Any) -> str:
    z = daemons_of(machine, ns).zebra
    assert z is not None
    machine.fs.write(CONF_FILE, ("\n".join(config_lines(z.conf, ns.name, ns.sysctl.get("net.ipv4.ip_forward") == "1")) + "\n").encode())
    return ("Note: this version of vtysh never writes vtysh.conf\nBuilding Configuration...\n"
            f"Integrated configuration saved to {CONF_FILE}\n[OK]\n")

