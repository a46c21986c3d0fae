"""Benchmarks S1 and S2: data-centre scale, build time and memory, then pings.

S1, leaf-spine: `nhosts` hosts under 40 leaves (a Linux bridge of host ports
on each leaf, the leaf routing for its /16 on the bridge) and 4 spines, each
spine linked to every leaf; every leaf's default route goes to one spine,
every spine routes each leaf's /16 to that leaf. Then `npings` ICMP echo
requests between random pairs of hosts (seeded), ARP resolving as they go;
figure: replies per second of the run alone.

S2: `nhosts` addressed hosts on `nbridges` bridge nodes (one Linux bridge
each, the hosts of a bridge in one /16), build only.

Everything is configured with the `ip`/`sysctl` lines a user would type.
Prints one JSON line: build seconds, peak resident memory (ru_maxrss), and for
S1 the ping figures.

Usage: python benchmarks/scale.py s1 [nhosts=10000] [npings=1000]
       python benchmarks/scale.py s2 [nhosts=100000] [nbridges=400]
"""
from __future__ import annotations

import json
import random
import resource
import sys
import time
from typing import Any

from netplex import Network
from netplex.engine.gcpause import paused_gc
from netplex.packet.addr import ip_to_int

GBIT = 1_000_000_000
NLEAVES, NSPINES = 40, 4


def must(node: Any, line: str) -> None:
    r = node.run(line)
    if r.status:
        raise SystemExit(f"{node}: {line}: {r.error}")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hosts_on_bridge(net: Network, sw: str, first: int, count: int, net16: int, gw: str | None) -> list[str]:
    """`count` hosts h<first>.. on a bridge br0 of node `sw`, addressed in 10.<net16>.0.0/16."""
    net.add_node(sw)
    names = []
    for k in range(count):
        h = f"h{first + k}"
        net.add_node(h)
        net.add_link(f"{h}:eth0", f"{sw}:p{k}", rate_bps=GBIT, delay_ns=1_000)
        names.append(h)
    s = net.nodes[sw]
    must(s, "ip link add br0 type bridge && ip link set br0 up")
    for k in range(count):
        must(s, f"ip link set p{k} master br0 && ip link set p{k} up")
    for k, h in enumerate(names):
        a = k + 2
        line = f"ip addr add 10.{net16}.{a >> 8}.{a & 255}/16 dev eth0 && ip link set eth0 up"
        if gw is not None:
            line += f" && ip route add default via {gw}"
        must(net.nodes[h], line)
    return names


def s1(nhosts: int, npings: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    with paused_gc():     # as the scenario runner builds (engine/gcpause.py)
        net, addr, per = s1_build(nhosts)
    build = time.perf_counter() - t0
    return s1_pings(net, addr, per, build, npings)


def s1_build(nhosts: int) -> tuple[Network, dict[str, int], int]:
    """10.L.0.0/16 behind leaf L's bridge; leaf L's default route via spine L mod 4."""
    nleaves, nspines = NLEAVES, NSPINES
    net = Network(seed=1)
    per = nhosts // nleaves
    addr: dict[str, int] = {}
    for lf in range(nleaves):
        for k, h in enumerate(hosts_on_bridge(net, f"leaf{lf}", lf * per, per, lf, f"10.{lf}.0.1")):
            a = k + 2
            addr[h] = ip_to_int(f"10.{lf}.{a >> 8}.{a & 255}")
        must(net.nodes[f"leaf{lf}"], f"ip addr add 10.{lf}.0.1/16 dev br0 && sysctl -qw net.ipv4.ip_forward=1")
    for sp in range(nspines):
        net.add_node(f"spine{sp}")
        must(net.nodes[f"spine{sp}"], "sysctl -qw net.ipv4.ip_forward=1")
    for lf in range(nleaves):
        for sp in range(nspines):
            net.add_link(f"leaf{lf}:s{sp}", f"spine{sp}:l{lf}", rate_bps=10 * GBIT, delay_ns=1_000)
            must(net.nodes[f"leaf{lf}"], f"ip addr add 172.{16 + sp}.{lf}.1/24 dev s{sp} && ip link set s{sp} up")
            must(net.nodes[f"spine{sp}"], f"ip addr add 172.{16 + sp}.{lf}.2/24 dev l{lf} && ip link set l{lf} up "
                                          f"&& ip route add 10.{lf}.0.0/16 via 172.{16 + sp}.{lf}.1")
        sp = lf % nspines
        must(net.nodes[f"leaf{lf}"], f"ip route add default via 172.{16 + sp}.{lf}.2")
    return net, addr, per


def s1_pings(net: Network, addr: dict[str, int], per: int, build: float, npings: int) -> dict[str, Any]:
    nleaves, nspines = NLEAVES, NSPINES
    rng = random.Random(7)
    hosts = list(addr)
    pairs = [tuple(rng.sample(hosts, 2)) for _ in range(npings)]
    out: dict[str, Any] = {"benchmark": "S1_leaf_spine", "hosts": per * nleaves, "leaves": nleaves,
                           "spines": nspines, "build_s": round(build, 2), "rss_mb": round(rss_mb()), "pings": npings}
    # the same pairs twice: cold (ARP resolves on the way, 2 broadcasts of `per` frames per
    # new pair), then warm (every neighbour known)
    for phase in ("cold", "warm"):
        replies = counter = [0]
        t_start = net.now + 1_000_000
        for i, (a, b) in enumerate(pairs):
            sk = net.nodes[a].ns.sockets.ping_socket(i + 1 if phase == "cold" else npings + i + 1)
            sk.on_reply = lambda ip, icmp, c=counter: c.__setitem__(0, c[0] + 1)
            net.sched.at(t_start + i * 1_000, sk.send, addr[b], 1, bytes(56))
        ev0 = net.sched.events_run
        t1 = time.perf_counter()
        c1 = time.process_time()   # CPU seconds: steadier than wall time on a shared machine
        net.run_for(t_start + npings * 1_000 + 1_000_000_000 - net.now)
        run = time.perf_counter() - t1
        c_run = time.process_time() - c1
        out.update({f"{phase}_replies": replies[0], f"{phase}_run_s": round(run, 3),
                    f"{phase}_events": net.sched.events_run - ev0, f"{phase}_pings_per_s": round(replies[0] / run),
                    f"{phase}_cpu_s": round(c_run, 3), f"{phase}_pings_per_cpu_s": round(replies[0] / max(c_run, 1e-9))})
    return out


def s2(nhosts: int, nbridges: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    net = Network(seed=1)
    per = nhosts // nbridges
    with paused_gc():
        for b in range(nbridges):
            hosts_on_bridge(net, f"sw{b}", b * per, per, b % 256, None)
    build = time.perf_counter() - t0
    return {"benchmark": "S2_bridges", "hosts": per * nbridges, "bridges": nbridges, "build_s": round(build, 2),
            "rss_mb": round(rss_mb()), "kb_per_host": round(rss_mb() * 1024 / (per * nbridges), 1)}


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "s1"
    if which == "s1":
        r = s1(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000, int(sys.argv[3]) if len(sys.argv) > 3 else 1000)
    else:
        r = s2(int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, int(sys.argv[3]) if len(sys.argv) > 3 else 400)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
