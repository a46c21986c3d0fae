"""`netplex fabric three-tier|leaf-spine`: write a data centre as a scenario file.

A domain system configures nodes only with the commands a real operator would
type (ARCHITECTURE.md), so a builder's output is an ordinary scenario: readable
YAML, one node per switch and host, `ip`/`bridge` lines in each node's setup,
probes that show it works. It runs on either backend and takes `events:` (or
`netplex run --events`) to measure what a failure costs.

- three-tier (the seed's picture): per pod two aggregation switches, per rack a
  top-of-rack switch (two with `--bonded-hosts`, each host then an active-backup
  bond over one NIC to each), two core switches over every aggregation switch;
  all Linux bridges with 802.1D STP (core1 the root, core2 next), so STP blocks
  the redundant uplinks: one flat 10.0.0.0/8, host h<pod>-<rack>-<n> at
  10.<pod>.<rack>.<n>. STP timers are short (forward delay 2 s, hello 1 s, max
  age 6 s) so the tree converges in 4 s; the probes wait 6 s first.
- leaf-spine: every leaf wired to every spine by a routed /31; leaf L serves
  10.<L>.0.0/24 (its bridge 10.<L>.0.1) to its hosts; each spine routes every
  leaf's subnet to it; each leaf's default route goes through one spine (leaf L
  through spine ((L-1) mod spines)+1). Without ECMP a leaf uses one uplink; with
  `--ecmp` its default route is `nexthop via` every spine, and every switch sets
  ignore_routes_with_linkdown so a nexthop whose link lost its carrier is skipped.
  The routes are static: a spine that loses its one link to a leaf has no other way
  to it, so a single cut uplink still breaks the flows other leaves hash onto that
  spine (a routing protocol would withdraw it); a failed spine costs nothing.
  With `--bgp` (RFC 7938 §5) the routes are eBGP in FRR instead: spines in AS
  65000, leaf L in AS 65000+L announcing its subnet, /etc/frr/daemons and frr.conf
  in each switch's `files:`, `frrinit.sh start` in its setup; multipath through
  every spine is BGP's, and a cut link is withdrawn at once, the receiver's too.
  `--isps N` (with `--bgp`) adds a border leaf (AS 65100) taking a default route
  from N ISPs (AS 64500+i, each holding the Internet's 198.51.100.1), spread over
  them by `bgp bestpath as-path multipath-relax`; losing one ISP leaves the others.

- `--stacked` (three-tier): the same cables, each pod's aggregation pair and the core pair
  MLAG pairs (one LACP system id, a peer link, mlagd), every uplink an 802.3ad bond, no STP.

- `--isps N` (three-tier): a border router on core1 (10.255.255.254, every host's default
  route) peers with N ISPs (AS 64500+i) in FRR, as the leaf-spine's border leaf does, and
  announces 10.0.0.0/8 to them.

- `--stacked --bonded-hosts`: each rack's TOR pair an MLAG pair too, every host an 802.3ad
  bond over one NIC to each TOR (the seed's servers, "two NICs bonded by LACP to two TORs").

- `--isps N --stacked`: the border router's link is a plain port of core1's bridge.
"""
from __future__ import annotations

from typing import Any

import yaml

from netplex.errors import NetplexError

__all__ = ["FabricError", "fat_tree", "leaf_spine", "three_tier"]

STP_OPTS = "stp_state 1 forward_delay 200 hello_time 100 max_age 600"
MAX_NODE_NAME = 12


class FabricError(NetplexError):
    """A builder's arguments that cannot make a fabric (status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=2)


def _positive(**counts: int) -> None:
    for name, n in counts.items():
        if n < 1:
            raise FabricError(f"fabric: --{name.replace('_', '-')} must be at least 1, not {n}")


def _bridge(ports: list[str], priority: int | None, stp: bool = True) -> str:
    opts = STP_OPTS + (f" priority {priority}" if priority is not None else "") if stp else ""
    lines = [f"ip link add br0 type bridge {opts}".rstrip()]
    lines.append(f"for p in {' '.join(ports)}; do ip link set $p master br0; ip link set $p up; done")
    lines.append("ip link set br0 up")
    return "\n".join(lines) + "\n"


class _Block(str):
    """A setup script, written as a YAML literal block."""


def _dump(doc: dict[str, Any]) -> str:
    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|"))
    Dumper.add_representer(list, lambda d, v: d.represent_sequence(
        "tag:yaml.org,2002:seq", v, flow_style=all(isinstance(x, str) for x in v)))
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=200, default_flow_style=False)


def three_tier(pods: int, racks_per_pod: int, hosts_per_rack: int, bonded_hosts: bool = False,
               stacked: bool = False, isps: int = 0) -> str:
    """The seed's access/aggregation/core data centre as scenario YAML (with `isps`, a border
    router on core1 taking a default route from that many ISPs by eBGP in FRR)."""
    _positive(pods=pods, racks_per_pod=racks_per_pod, hosts_per_rack=hosts_per_rack)
    if not 0 <= isps <= 8:
        raise FabricError(f"fabric: --isps must be 0 to 8, not {isps}")
    if pods > 9 or racks_per_pod > 99 or hosts_per_rack > 99:
        raise FabricError("fabric: at most 9 pods, 99 racks per pod and 99 hosts per rack "
                          "(node names have at most 12 characters)")
    nodes: dict[str, Any] = {}
    links: list[dict[str, Any]] = []
    core_ports: dict[str, list[str]] = {"core1": [], "core2": []}
    hosts: list[tuple[str, str]] = []
    tor_sides = ("a", "b") if bonded_hosts else ("",)
    for p in range(1, pods + 1):
        agg_ports: dict[str, list[str]] = {f"agg{p}-1": [], f"agg{p}-2": []}
        for a, agg in enumerate(agg_ports, start=1):
            for c in (1, 2):
                links.append({"ends": [f"{agg}:c{c}", f"core{c}:a{p}-{a}"]})
                agg_ports[agg].append(f"c{c}")
                core_ports[f"core{c}"].append(f"a{p}-{a}")
        for r in range(1, racks_per_pod + 1):
            for side in tor_sides:
                tor = f"tor{p}-{r}{side}"
                ports = []
                for a, agg in enumerate(agg_ports, start=1):
                    links.append({"ends": [f"{tor}:u{a}", f"{agg}:t{r}{side}"]})
                    agg_ports[agg].append(f"t{r}{side}")
                    ports.append(f"u{a}")
                for h in range(1, hosts_per_rack + 1):
                    host = f"h{p}-{r}-{h}"
                    nic = "eth1" if side == "b" else "eth0"
                    links.append({"ends": [f"{host}:{nic}", f"{tor}:h{h}"]})
                    ports.append(f"h{h}")
                nodes[tor] = {"setup": _Block(_bridge(ports, None))}
            for h in range(1, hosts_per_rack + 1):
                host, addr = f"h{p}-{r}-{h}", f"10.{p}.{r}.{h}"
                if bonded_hosts and stacked:   # one LACP aggregate over the TOR pair (one system id)
                    setup = (f"ip link add bond0 {LACP_BOND}\n"
                             "ip link set eth0 master bond0\nip link set eth1 master bond0\n"
                             f"ip addr add {addr}/8 dev bond0\nip link set bond0 up\n")
                elif bonded_hosts:
                    setup = ("ip link add bond0 type bond mode active-backup miimon 100 primary eth0\n"
                             "ip link set eth0 master bond0\nip link set eth1 master bond0\n"
                             f"ip addr add {addr}/8 dev bond0\nip link set bond0 up\n")
                else:
                    setup = f"ip addr add {addr}/8 dev eth0\nip link set eth0 up\n"
                if isps:
                    setup += f"ip route add default via {BORDER_ADDR}\n"
                nodes[host] = {"setup": _Block(setup)}
                hosts.append((host, addr))
        for a, agg in enumerate(agg_ports, start=1):
            nodes[agg] = {"setup": _Block(_bridge(agg_ports[agg], 8192 + 4096 * a))}
    if isps:
        links.append({"ends": ["border:core", "core1:border"]})
        core_ports["core1"].append("border")
        _border(isps, nodes, links, ["sysctl -w net.ipv4.ip_forward=1", f"ip addr add {BORDER_ADDR}/8 dev core",
                                     "ip link set core up"], [], ["10.0.0.0/8"])
    for c, core in enumerate(core_ports, start=1):
        nodes[core] = {"setup": _Block(_bridge(core_ports[core], 4096 * c))}
    first, last = hosts[0], hosts[-1]
    check: dict[str, Any] = {"cmd": {"node": "core1", "run": "cat /sys/class/net/br0/bridge/root_port"},
                             "expect_output": "0"}
    if stacked:
        _stack(nodes, links, pods, racks_per_pod, hosts_per_rack, bonded_hosts, ["border"] if isps else [])
        # one LACP aggregator across the agg pair (a TOR's uplinks), or across the TOR pair (a host's NICs)
        check = {"cmd": {"node": first[0] if bonded_hosts else "tor1-1",
                         "run": "grep 'Number of ports' /proc/net/bonding/bond0"},
                 "expect_output": "Number of ports: 2"}
    probes: list[dict[str, Any]] = [
        {"cmd": {"node": "core1", "run": "sleep 6"}},   # listening 2 s + learning 2 s, and room
        check,
        {"ping": {"from": first[0], "to": last[1], "count": 2}},
        *([{"ping": {"from": first[0], "to": "198.51.100.1", "count": 2}}] if isps else []),
        {"iperf": {"duration": "10s", "flows": [
            {"from": first[0], "to": last[1], "port": 5001, "proto": "udp", "rate": "1mbit", "size": 1000}]}},
    ]
    doc = {
        "name": f"three-tier-{pods}x{racks_per_pod}x{hosts_per_rack}",
        "description": (f"A three-tier data centre: {pods} pod(s) of {racks_per_pod} rack(s) with "
                        f"{hosts_per_rack} host(s) each{' (bonded to two TORs)' if bonded_hosts else ''}; "
                        + ("TOR, aggregation and core Linux bridges; each pod's aggregation pair and the core "
                           "pair stacked (MLAG: one LACP system id, a peer link, mlagd), every uplink an 802.3ad "
                           "bond, no STP, one flat 10.0.0.0/8. " if stacked else
                           "TOR, aggregation and core Linux bridges with 802.1D STP (core1 root), one flat "
                           "10.0.0.0/8. ")
                        + (f"A border router (AS 65100) on core1 takes a default route from {isps} ISP(s) by eBGP. "
                           if isps else "")
                        + "Written by `netplex fabric three-tier`; add events with "
                        "`netplex run FILE --events \"at 3s cut agg1-1:c1\"`."),
        "nodes": {**{k: nodes[k] for k in ("core1", "core2")}, **{k: v for k, v in nodes.items()
                                                                if k not in ("core1", "core2")}},
        "links": links,
        "probes": probes,
    }
    return _dump(doc)


BORDER_ADDR = "10.255.255.254"
LACP_BOND = "type bond mode 802.3ad miimon 100 lacp_rate fast xmit_hash_policy layer3+4"


def _stack(nodes: dict[str, Any], links: list[dict[str, Any]], pods: int, racks: int, hosts_per_rack: int,
           bonded_hosts: bool = False, core1_ports: list[str] | None = None) -> None:
    """`--stacked`: the same cables, with each pod's aggregation pair and the core pair MLAG
    pairs (back-to-back MLAG, as clagd deployments wire it): every TOR's two uplinks one
    802.3ad bond to its pair, every aggregation switch's two core uplinks one bond to the core
    pair; each pair shows its bonds one LACP system id (44:38:39:ff:00:0P, the core pair
    44:38:39:ff:00:00), joins its bridges by a peer link and runs mlagd (apps/mlagd.py) over
    it, with the pair's addresses 169.254.P.1/.2 on the bridges. No STP: the split horizon
    keeps the flat network loop-free with every link carrying traffic.

    With `bonded_hosts` each rack's TOR pair (tor<P>-<R>a/b) is an MLAG pair too (system id
    44:38:39:fe:<P>:<R>, peer addresses the N-th /30 of 169.254.32.0 and up): a host's two NICs
    one 802.3ad bond across it (MLAG id = the host's number), the pair's four uplinks one bond
    (id 100) whose agg-side halves are bt<R> over t<R>a and t<R>b. `core1_ports`: plain ports
    of core1's bridge besides its bonds (the border router's link)."""
    def pair(names: tuple[str, str], sysid: str, subnet: str, bonds: dict[str, list[str]],
             ids: dict[str, int], base: int = 0, plain: tuple[list[str], list[str]] = ([], [])) -> None:
        links.append({"ends": [f"{names[0]}:peer", f"{names[1]}:peer"]})
        for i, name in enumerate(names, start=1):
            lines = ["ip link add br0 type bridge"]
            for bond, ports in bonds.items():
                lines.append(f"ip link add {bond} {LACP_BOND} ad_actor_system {sysid}")
                lines += [f"ip link set {p} master {bond}" for p in ports]
            lines.append(f"for p in {' '.join([*bonds, *plain[i - 1], 'peer'])}; do ip link set $p master br0; "
                         "ip link set $p up; done")
            lines += [f"ip addr add {subnet}.{base + i}/30 dev br0", "ip link set br0 up",
                      f"mlagd --peer-link peer --peer-ip {subnet}.{base + 3 - i} "
                      + " ".join(f"{b}:{ids[b]}" for b in bonds)]
            nodes[name] = {"setup": _Block("\n".join(lines) + "\n")}

    for p in range(1, pods + 1):
        for r in range(1 if bonded_hosts else racks + 1, racks + 1):
            n = (p - 1) * racks + r - 1   # the TOR pair's /30
            pair((f"tor{p}-{r}a", f"tor{p}-{r}b"), f"44:38:39:fe:{p:02x}:{r:02x}", f"169.254.{32 + n // 64}",
                 {"bu": ["u1", "u2"], **{f"bh{h}": [f"h{h}"] for h in range(1, hosts_per_rack + 1)}},
                 {"bu": 100, **{f"bh{h}": h for h in range(1, hosts_per_rack + 1)}}, base=4 * (n % 64))
        for r in range(1, 1 if bonded_hosts else racks + 1):
            ports = " ".join(f"h{h}" for h in range(1, hosts_per_rack + 1))
            nodes[f"tor{p}-{r}"] = {"setup": _Block(
                f"ip link add br0 type bridge\nip link add bond0 {LACP_BOND}\n"
                "ip link set u1 master bond0\nip link set u2 master bond0\n"
                f"for p in bond0 {ports}; do ip link set $p master br0; ip link set $p up; done\nip link set br0 up\n")}
        tor_ports = ["a", "b"] if bonded_hosts else [""]
        bonds = {**{f"bt{r}": [f"t{r}{side}" for side in tor_ports] for r in range(1, racks + 1)}, "bc": ["c1", "c2"]}
        ids = {**{f"bt{r}": r for r in range(1, racks + 1)}, "bc": 100}
        pair((f"agg{p}-1", f"agg{p}-2"), f"44:38:39:ff:00:{p:02x}", f"169.254.{p}", bonds, ids)
    pair(("core1", "core2"), "44:38:39:ff:00:00", "169.254.0",
         {f"ba{p}": [f"a{p}-1", f"a{p}-2"] for p in range(1, pods + 1)}, {f"ba{p}": p for p in range(1, pods + 1)},
         plain=(core1_ports or [], []))


def _uplink(leaf_n: int, s: int) -> tuple[str, str]:
    """The /31 between spine s and leaf L: 172.16.<s>.<2L-2> (spine) and <2L-1> (leaf)."""
    base = f"172.{16 + (leaf_n - 1) // 128}.{s}."
    return base + str(2 * ((leaf_n - 1) % 128)), base + str(2 * ((leaf_n - 1) % 128) + 1)


def _rack(switch: str, prefix: str, subnet: str, count: int, nodes: dict[str, Any], links: list[dict[str, Any]],
          hosts: list[tuple[str, str]]) -> list[str]:
    """A routed switch's hosts <prefix>-<n> at <subnet>.<n+1>/24 on its ports h<n>, their gateway
    <subnet>.1 (the switch's bridge); the switch's port names."""
    ports = []
    for h in range(1, count + 1):
        host, addr = f"{prefix}-{h}", f"{subnet}.{h + 1}"
        links.append({"ends": [f"{host}:eth0", f"{switch}:h{h}"]})
        ports.append(f"h{h}")
        nodes[host] = {"setup": _Block(f"ip addr add {addr}/24 dev eth0\nip link set eth0 up\n"
                                       f"ip route add default via {subnet}.1\n")}
        hosts.append((host, addr))
    return ports


def _frr_files(name: str, asn: int, router_id: str, neighbors: list[tuple[str, int]],
               networks: list[str], extra: tuple[str, ...] = ()) -> dict[str, _Block]:
    """/etc/frr/daemons and frr.conf for one eBGP switch of an RFC 7938 fabric."""
    conf = ["frr defaults datacenter", f"hostname {name}", "!", f"router bgp {asn}", f" bgp router-id {router_id}",
            " no bgp ebgp-requires-policy", *extra]
    conf += [f" neighbor {addr} remote-as {peer_as}" for addr, peer_as in neighbors]
    conf += [" !", " address-family ipv4 unicast", *[f"  network {p}" for p in networks], " exit-address-family", "!"]
    return {"/etc/frr/daemons": _Block("bgpd=yes\n"), "/etc/frr/frr.conf": _Block("\n".join(conf) + "\n")}


def _border(isps: int, nodes: dict[str, Any], links: list[dict[str, Any]], lines: list[str],
            peers: list[tuple[str, int]], networks: list[str]) -> None:
    """The border router (AS 65100, node `border`, its fabric side already in `lines`/`peers`)
    and ISP i (AS 64500+i) on border:isp<i> over 203.0.113.(4i-3)/30, originating the default
    route and holding the Internet's 198.51.100.1; the border spreads its default over them
    (`bgp bestpath as-path multipath-relax`) and announces `networks` to them."""
    for i in range(1, isps + 1):
        mine, theirs = f"203.0.113.{4 * i - 2}", f"203.0.113.{4 * i - 3}"
        links.append({"ends": [f"border:isp{i}", f"isp{i}:border"]})
        lines += [f"ip addr add {mine}/30 dev isp{i}", f"ip link set isp{i} up"]
        peers.append((theirs, 64500 + i))
        nodes[f"isp{i}"] = {
            "files": _frr_files(f"isp{i}", 64500 + i, f"192.0.2.{i}", [(mine, 65100)], ["0.0.0.0/0"],
                                (" no bgp network import-check",)),
            "setup": _Block(f"ip addr add {theirs}/30 dev border\nip link set border up\n"
                            "ip addr add 198.51.100.1/24 dev lo\nip link set lo up\n/usr/lib/frr/frrinit.sh start\n")}
    nodes["border"] = {"files": _frr_files("border", 65100, "10.255.1.1", peers, networks,
                                           (" bgp bestpath as-path multipath-relax",)),
                       "setup": _Block("\n".join(lines + ["/usr/lib/frr/frrinit.sh start"]) + "\n")}


def leaf_spine(spines: int, leaves: int, hosts_per_leaf: int, ecmp: bool = False, bgp: bool = False,
               isps: int = 0) -> str:
    """A routed leaf-spine fabric as scenario YAML (static routes; one uplink per leaf, or with
    `ecmp` a multipath default route over every spine; with `bgp` eBGP in FRR, RFC 7938, and
    `isps` a border leaf taking a default route from that many ISPs)."""
    _positive(spines=spines, leaves=leaves, hosts_per_leaf=hosts_per_leaf)
    if leaves > 250 or spines > 99 or hosts_per_leaf > 250:
        raise FabricError("fabric: at most 99 spines, 250 leaves and 250 hosts per leaf")
    if isps and not bgp:
        raise FabricError("fabric: --isps needs --bgp (the border router speaks BGP to its ISPs)")
    if not 0 <= isps <= 8:
        raise FabricError(f"fabric: --isps must be 0 to 8, not {isps}")
    if bgp:
        return _leaf_spine_bgp(spines, leaves, hosts_per_leaf, isps)
    nodes: dict[str, Any] = {}
    links: list[dict[str, Any]] = []
    # with ECMP, a nexthop whose link lost its carrier is skipped (ignore_routes_with_linkdown)
    linkdown = ["sysctl -w net.ipv4.conf.all.ignore_routes_with_linkdown=1"] if ecmp else []
    spine_setup: dict[str, list[str]] = {f"s{s}": ["sysctl -w net.ipv4.ip_forward=1", *linkdown]
                                         for s in range(1, spines + 1)}
    hosts: list[tuple[str, str]] = []
    for leaf_n in range(1, leaves + 1):
        leaf = f"l{leaf_n}"
        lines = ["sysctl -w net.ipv4.ip_forward=1", *linkdown]
        uplinks = []
        for s in range(1, spines + 1):
            spine = f"s{s}"
            sp, lf = _uplink(leaf_n, s)
            links.append({"ends": [f"{leaf}:s{s}", f"{spine}:l{leaf_n}"]})
            lines += [f"ip addr add {lf}/31 dev s{s}", f"ip link set s{s} up"]
            spine_setup[spine] += [f"ip addr add {sp}/31 dev l{leaf_n}", f"ip link set l{leaf_n} up",
                                   f"ip route add 10.{leaf_n}.0.0/24 via {lf}"]
            uplinks.append(f"nexthop via {sp} dev s{s}")
            if s == (leaf_n - 1) % spines + 1:
                default_via = sp
        ports = _rack(leaf, f"h{leaf_n}", f"10.{leaf_n}.0", hosts_per_leaf, nodes, links, hosts)
        lines += [_bridge(ports, None, stp=False).rstrip(), f"ip addr add 10.{leaf_n}.0.1/24 dev br0",
                  f"ip route add default {' '.join(uplinks)}" if ecmp and spines > 1
                  else f"ip route add default via {default_via}"]
        nodes[leaf] = {"setup": _Block("\n".join(lines) + "\n")}
    for spine, lines in spine_setup.items():
        nodes[spine] = {"setup": _Block("\n".join(lines) + "\n")}
    return _dump(_leaf_spine_doc(spines, leaves, hosts_per_leaf, spine_setup, nodes, links, hosts, (
        "/31 links, static routes, each leaf's default "
        + ("route a multipath (ECMP) route over every spine. " if ecmp else "route through one spine. ")), []))


def _leaf_spine_doc(spines: int, leaves: int, hosts_per_leaf: int, spine_setup: dict[str, Any],
                    nodes: dict[str, Any], links: list[dict[str, Any]], hosts: list[tuple[str, str]], how: str,
                    wait: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = hosts[0], hosts[-1]
    return {
        "name": f"leaf-spine-{spines}x{leaves}x{hosts_per_leaf}",
        "description": (f"A routed leaf-spine fabric: {spines} spine(s), {leaves} leaf switch(es) with "
                        f"{hosts_per_leaf} host(s) each; {how}Written by `netplex fabric leaf-spine`."),
        "nodes": {**{k: nodes[k] for k in spine_setup}, **{k: v for k, v in nodes.items() if k not in spine_setup}},
        "links": links,
        "probes": [
            *wait,
            {"ping": {"from": first[0], "to": last[1], "count": 2}},
            {"iperf": {"duration": "5s", "flows": [
                {"from": first[0], "to": last[1], "port": 5001, "proto": "udp", "rate": "1mbit", "size": 1000}]}},
        ],
    }


def _leaf_spine_bgp(spines: int, leaves: int, hosts_per_leaf: int, isps: int = 0) -> str:
    """RFC 7938 §5: the spines share AS 65000, leaf L is AS 65000+L; every leaf peers with every
    spine over its /31 and announces its hosts' subnet; multipath through every spine is BGP's
    (FRR's default maximum-paths), a cut link is withdrawn at once (fast-external-failover).
    With ISPs, a border leaf (AS 65100, wired to the spines as a leaf) peers with ISP i (AS
    64500+i, 203.0.113.(4i-3)/30), each of which originates the default route and holds the
    Internet's 198.51.100.1; `multipath-relax` spreads the border's default over the ISPs."""
    nodes: dict[str, Any] = {}
    links: list[dict[str, Any]] = []
    spine_setup: dict[str, list[str]] = {f"s{s}": ["sysctl -w net.ipv4.ip_forward=1"] for s in range(1, spines + 1)}
    spine_peers: dict[str, list[tuple[str, int]]] = {f"s{s}": [] for s in range(1, spines + 1)}
    hosts: list[tuple[str, str]] = []
    for leaf_n in range(1, leaves + 1):
        leaf = f"l{leaf_n}"
        lines = ["sysctl -w net.ipv4.ip_forward=1"]
        peers: list[tuple[str, int]] = []
        for s in range(1, spines + 1):
            spine = f"s{s}"
            sp, lf = _uplink(leaf_n, s)
            links.append({"ends": [f"{leaf}:s{s}", f"{spine}:l{leaf_n}"]})
            lines += [f"ip addr add {lf}/31 dev s{s}", f"ip link set s{s} up"]
            spine_setup[spine] += [f"ip addr add {sp}/31 dev l{leaf_n}", f"ip link set l{leaf_n} up"]
            spine_peers[spine].append((lf, 65000 + leaf_n))
            peers.append((sp, 65000))
        ports = _rack(leaf, f"h{leaf_n}", f"10.{leaf_n}.0", hosts_per_leaf, nodes, links, hosts)
        lines += [_bridge(ports, None, stp=False).rstrip(), f"ip addr add 10.{leaf_n}.0.1/24 dev br0",
                  "/usr/lib/frr/frrinit.sh start"]
        nodes[leaf] = {"files": _frr_files(leaf, 65000 + leaf_n, f"10.255.0.{leaf_n}", peers, [f"10.{leaf_n}.0.0/24"]),
                       "setup": _Block("\n".join(lines) + "\n")}
    probes_extra: list[dict[str, Any]] = []
    if isps:
        bn = leaves + 1
        lines = ["sysctl -w net.ipv4.ip_forward=1"]
        peers = []
        for s in range(1, spines + 1):
            sp, lf = _uplink(bn, s)
            links.append({"ends": [f"border:s{s}", f"s{s}:border"]})
            lines += [f"ip addr add {lf}/31 dev s{s}", f"ip link set s{s} up"]
            spine_setup[f"s{s}"] += [f"ip addr add {sp}/31 dev border", "ip link set border up"]
            spine_peers[f"s{s}"].append((lf, 65100))
            peers.append((sp, 65000))
        _border(isps, nodes, links, lines, peers, [])
        probes_extra = [{"ping": {"from": hosts[0][0], "to": "198.51.100.1", "count": 2}}]
    spine_nodes = {}
    for spine, lines in spine_setup.items():
        n = int(spine[1:])
        spine_nodes[spine] = {"files": _frr_files(spine, 65000, f"10.254.0.{n}", spine_peers[spine], []),
                              "setup": _Block("\n".join(lines + ["/usr/lib/frr/frrinit.sh start"]) + "\n")}
    nodes.update(spine_nodes)
    wait = [{"cmd": {"node": "l1", "run": "sleep 5"}}]       # the sessions come up (FRR's timers on the twin)
    doc = _leaf_spine_doc(spines, leaves, hosts_per_leaf, spine_nodes, nodes, links, hosts,
                          "/31 links, eBGP in FRR (spines AS 65000, leaf L AS 65000+L), multipath through every "
                          "spine" + (f"; a border leaf (AS 65100) on {isps} ISP(s). " if isps else ". "), wait)
    doc["probes"][1:1] = probes_extra
    return _dump(doc)


MAX_FAT_TREE_K = 48


def fat_tree(k: int, bgp: bool = False) -> str:
    """A k-ary fat-tree (Al-Fares, Loukissas, Vahdat, SIGCOMM 2008) as scenario YAML: k pods of
    k/2 edge and k/2 aggregation switches, (k/2)^2 core switches, k/2 hosts per edge switch
    (k^3/4 hosts). Every switch routes: static ECMP routes over the 5-tuple (hash policy 3 with
    fields 0x37: addresses, protocol, ports), its own `fib_multipath_hash_seed` (Linux 6.11), and
    ignore_routes_with_linkdown. The seed is what stops polarisation: with one hash everywhere the
    aggregation switch repeats the edge switch's choice and only k/2 of the (k/2)^2 paths carry
    traffic. Policy 3 rather than 1 because the kernel's policy 1 reuses a forwarded packet's L4
    hash when it has one (fib_multipath_hash's skb->l4_hash short cut), and over veth the hash the
    sender's socket set travels with the packet, so on the kernel twin every hop ignored its seed.

    Pod p (1..k): edge switch e<p>-<i> serves 10.<p>.<i>.0/24 (its bridge 10.<p>.<i>.1) to hosts
    h<p>-<i>-<n> at 10.<p>.<i>.<n+1>; the /31 from aggregation a<p>-<j> to e<p>-<i> is
    10.<p>.<100+i>.<2j-2> (agg) / <2j-1> (edge); core c<n>, n = (j-1)*k/2 + m, links to a<p>-<j>
    of every pod over 10.<p>.<200+j>.<2m-2> (core) / <2m-1> (agg). Routes: an edge switch's
    default over its k/2 aggregation switches; an aggregation switch's default over its k/2
    cores and each edge subnet of its pod through that edge; a core's 10.<p>.0.0/16 through
    pod p's aggregation switch. So between two hosts of different pods there are (k/2)^2
    equal paths (one per core), within a pod k/2 (one per aggregation switch).

    With `bgp` the same routes are eBGP in FRR (RFC 7938 §3.2's five-stage Clos): the cores share
    AS 65000, pod p's aggregation switches AS 65000+p, edge switch e<p>-<i> has its own private
    four-octet AS 4200000000+1000p+i and announces its hosts' subnet; multipath is BGP's (each
    switch's paths come from one neighbouring AS), and a failed link is withdrawn at once."""
    if k < 2 or k % 2 or k > MAX_FAT_TREE_K:
        raise FabricError(f"fabric: --k must be an even number from 2 to {MAX_FAT_TREE_K}, not {k}")
    half = k // 2
    nodes: dict[str, Any] = {}
    links: list[dict[str, Any]] = []
    hosts: list[tuple[str, str]] = []
    base = ["sysctl -w net.ipv4.ip_forward=1", "sysctl -w net.ipv4.conf.all.ignore_routes_with_linkdown=1",
            "sysctl -w net.ipv4.fib_multipath_hash_policy=3", "sysctl -w net.ipv4.fib_multipath_hash_fields=0x37"]
    seed = iter(range(1, 5 * k * k))
    peers: dict[str, list[tuple[str, int]]] = {}

    def switch(lines: list[str]) -> list[str]:
        return [*base, f"sysctl -w net.ipv4.fib_multipath_hash_seed={next(seed)}", *lines]

    def node(name: str, lines: list[str], asn: int, router_id: str, networks: list[str]) -> dict[str, Any]:
        """A switch: its setup, and with BGP its FRR files (static routes left out)."""
        if not bgp:
            return {"setup": _Block("\n".join(switch(lines)) + "\n")}
        lines = [line for line in lines if not line.startswith("ip route ")] + ["/usr/lib/frr/frrinit.sh start"]
        return {"files": _frr_files(name, asn, router_id, peers.get(name, []), networks),
                "setup": _Block("\n".join(switch(lines)) + "\n")}

    def multipath(hops: list[tuple[str, str]]) -> str:
        if len(hops) == 1:
            return f"via {hops[0][0]} dev {hops[0][1]}"
        return " ".join(f"nexthop via {gw} dev {dev}" for gw, dev in hops)

    core_setup: dict[str, list[str]] = {f"c{n}": [] for n in range(1, half * half + 1)}
    for p in range(1, k + 1):
        agg_setup: dict[int, list[str]] = {j: [] for j in range(1, half + 1)}
        for i in range(1, half + 1):
            edge, lines, ups = f"e{p}-{i}", [], []
            for j in range(1, half + 1):
                a_addr, e_addr = f"10.{p}.{100 + i}.{2 * j - 2}", f"10.{p}.{100 + i}.{2 * j - 1}"
                links.append({"ends": [f"{edge}:a{j}", f"a{p}-{j}:e{i}"]})
                lines += [f"ip addr add {e_addr}/31 dev a{j}", f"ip link set a{j} up"]
                agg_setup[j] += [f"ip addr add {a_addr}/31 dev e{i}", f"ip link set e{i} up",
                                 f"ip route add 10.{p}.{i}.0/24 via {e_addr}"]
                ups.append((a_addr, f"a{j}"))
                peers.setdefault(edge, []).append((a_addr, 65000 + p))
                peers.setdefault(f"a{p}-{j}", []).append((e_addr, 4200000000 + 1000 * p + i))
            ports = _rack(edge, f"h{p}-{i}", f"10.{p}.{i}", half, nodes, links, hosts)
            lines += [_bridge(ports, None, stp=False).rstrip(), f"ip addr add 10.{p}.{i}.1/24 dev br0",
                      f"ip route add default {multipath(ups)}"]
            nodes[edge] = node(edge, lines, 4200000000 + 1000 * p + i, f"10.255.{p}.{i}", [f"10.{p}.{i}.0/24"])
        for j, lines in agg_setup.items():
            ups = []
            for m in range(1, half + 1):
                core = f"c{(j - 1) * half + m}"
                c_addr, a_addr = f"10.{p}.{200 + j}.{2 * m - 2}", f"10.{p}.{200 + j}.{2 * m - 1}"
                links.append({"ends": [f"a{p}-{j}:c{m}", f"{core}:p{p}"]})
                lines += [f"ip addr add {a_addr}/31 dev c{m}", f"ip link set c{m} up"]
                core_setup[core] += [f"ip addr add {c_addr}/31 dev p{p}", f"ip link set p{p} up",
                                     f"ip route add 10.{p}.0.0/16 via {a_addr}"]
                ups.append((c_addr, f"c{m}"))
                peers.setdefault(f"a{p}-{j}", []).append((c_addr, 65000))
                peers.setdefault(core, []).append((a_addr, 65000 + p))
            lines.append(f"ip route add default {multipath(ups)}")
            nodes[f"a{p}-{j}"] = node(f"a{p}-{j}", lines, 65000 + p, f"10.254.{p}.{j}", [])
    cores = {core: node(core, lines, 65000, f"10.253.0.{n}", [])
             for n, (core, lines) in enumerate(core_setup.items(), start=1)}
    first, last = hosts[0], hosts[-1]
    routing = "eBGP in FRR (RFC 7938: cores AS 65000, pod p AS 65000+p, an AS per edge switch)" if bgp \
        else "static ECMP routes"
    doc = {
        "name": f"fat-tree-k{k}{'-bgp' if bgp else ''}",
        "description": (f"A {k}-ary fat-tree: {k} pods of {half} edge and {half} aggregation switch(es), "
                        f"{half * half} core switch(es), {len(hosts)} hosts; /31 links, {routing} "
                        f"({half * half} equal paths between pods, {half} within a pod) hashing the 5-tuple "
                        "with a seed per switch. Written by `netplex fabric fat-tree`."),
        "nodes": {**cores, **nodes},
        "links": links,
        "probes": [
            *([{"cmd": {"node": "c1", "run": "sleep 5"}}] if bgp else []),   # the sessions come up
            {"ping": {"from": first[0], "to": last[1], "count": 2}},
            {"iperf": {"duration": "5s", "flows": [
                {"from": first[0], "to": last[1], "port": 5001, "proto": "udp", "rate": "1mbit", "size": 1000}]}},
        ],
    }
    return _dump(doc)
