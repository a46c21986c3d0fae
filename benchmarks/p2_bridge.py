"""Benchmark P2, "learning bridge": 64 hosts on bridges, UDP echo, as ../shared/anchors/ns3/p2_bridge.py.

topo=star: every host on its own link (1 Gbit/s, 1 µs) to one 64-port Linux
bridge (`br0` on node `sw`). topo=tree: 8 leaf bridges of 8 hosts each, and a
root bridge with one 10 Gbit/s trunk to each leaf. Every host runs a UDP
echo server on port 9 and one client that sends `npkt` datagrams of 200 bytes
every 100 µs to one other host chosen at random (the ns-3 script's seeded
choices and start jitter, from the same `random.Random(seed)` calls); ARP
resolves as the traffic starts, as in ns-3. Everything is configured with
the `ip` lines a user would type. Prints one JSON line: delivered datagrams
(requests + replies), link hops, wall seconds of the run alone, packet-hops
per second.

Usage: python benchmarks/p2_bridge.py [star|tree] [npkt_per_host] [seed]
"""
from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from netplex import Network
from netplex.packet.addr import ip_to_int

TOPO = sys.argv[1] if len(sys.argv) > 1 else "star"
NPKT = int(sys.argv[2]) if len(sys.argv) > 2 else 500
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
NHOSTS = 64
PKT = 200
INTERVAL_NS = 100_000
GBIT = 1_000_000_000


def must(node: object, line: str) -> None:
    r = node.run(line)  # type: ignore[attr-defined]
    if r.status:
        raise SystemExit(f"{node}: {line}: {r.error}")


def bridge(net: Network, name: str, ports: list[str]) -> None:
    sw = net.nodes[name]
    must(sw, "ip link add br0 type bridge && ip link set br0 up")
    for p in ports:
        must(sw, f"ip link set {p} master br0 && ip link set {p} up")


def build() -> tuple[Network, list[int]]:
    net = Network(seed=SEED)
    hosts = [net.add_node(f"h{i}") for i in range(NHOSTS)]
    if TOPO == "star":
        net.add_node("sw")
        for i in range(NHOSTS):
            net.add_link(f"h{i}:eth0", f"sw:p{i}", rate_bps=GBIT, delay_ns=1_000)
        bridge(net, "sw", [f"p{i}" for i in range(NHOSTS)])
        leaf_of = [0] * NHOSTS
    else:
        nleaf, per = 8, NHOSTS // 8
        net.add_node("root")
        leaf_of = []
        for lf in range(nleaf):
            net.add_node(f"leaf{lf}")
            net.add_link(f"leaf{lf}:trunk", f"root:p{lf}", rate_bps=10 * GBIT, delay_ns=1_000)
        for i in range(NHOSTS):
            lf = i // per
            leaf_of.append(lf)
            net.add_link(f"h{i}:eth0", f"leaf{lf}:p{i % per}", rate_bps=GBIT, delay_ns=1_000)
        for lf in range(nleaf):
            bridge(net, f"leaf{lf}", [f"p{k}" for k in range(per)] + ["trunk"])
        bridge(net, "root", [f"p{lf}" for lf in range(nleaf)])
    for i, h in enumerate(hosts):
        must(h, f"ip addr add 10.1.{(i + 1) >> 8}.{(i + 1) & 255}/16 dev eth0 && ip link set eth0 up")
    return net, leaf_of


def echo_client(sched: Any, cl: Any, payload: bytes, left: int) -> None:
    """UdpEchoClient::Send: one datagram now and, while any are left, the next send scheduled
    one interval later (ns-3's ScheduleTransmit), so one send per client waits on the heap."""
    cl.sendto(payload)
    if left > 1:
        sched.at(sched.now + INTERVAL_NS, echo_client, sched, cl, payload, left - 1)


def main() -> None:
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    net, leaf_of = build()
    delivered = [0]
    start0 = net.now + 10_000_000
    hops_expected = 0
    for i in range(NHOSTS):
        ns = net.nodes[f"h{i}"].ns
        srv = ns.sockets.udp_socket()
        srv.bind(0, 9)

        def echo(data: bytes, src: int, sport: int, srv: object = srv) -> None:
            delivered[0] += 1
            srv.sendto(data, src, sport)  # type: ignore[attr-defined]

        srv.on_recv = echo
    for i in range(NHOSTS):
        j = rng.randrange(NHOSTS - 1)
        if j >= i:
            j += 1
        hops_expected += 2 * NPKT * (2 if leaf_of[i] == leaf_of[j] else 4)
        ns = net.nodes[f"h{i}"].ns
        cl = ns.sockets.udp_socket()
        cl.connect(ip_to_int(f"10.1.{(j + 1) >> 8}.{(j + 1) & 255}"), 9)
        cl.on_recv = lambda d, s, p: delivered.__setitem__(0, delivered[0] + 1)
        start = start0 + int(rng.random() * INTERVAL_NS)
        net.sched.at(start, echo_client, net.sched, cl, bytes(PKT), NPKT)
    setup = time.perf_counter() - t0
    sched = net.sched
    ev0 = sched.events_run
    t1 = time.perf_counter()
    c1 = time.process_time()   # CPU seconds: steadier than wall time on a shared machine
    net.run_for(start0 + (NPKT + 1) * INTERVAL_NS + 50_000_000 - net.now)
    run = time.perf_counter() - t1
    c_run = time.process_time() - c1
    expected = 2 * NHOSTS * NPKT
    hops = hops_expected if delivered[0] == expected else None
    print(json.dumps({
        "scenario": f"P2_bridge_{TOPO}", "simulator": "netplex", "hosts": NHOSTS, "npkt_per_host": NPKT,
        "delivered": delivered[0], "expected": expected, "link_hops": hops, "setup_s": round(setup, 3),
        "run_s": round(run, 4), "events": sched.events_run - ev0,
        "pkts_per_s": round(delivered[0] / run), "pkt_hops_per_s": round(hops / run) if hops else None,
        "run_cpu_s": round(c_run, 3), "pkt_hops_per_cpu_s": round(hops / max(c_run, 1e-9)) if hops else None,
    }))


if __name__ == "__main__":
    main()
