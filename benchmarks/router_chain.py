"""Benchmark P1, "router chain": h0 → 10 routers → h1 in the simulator.

Point-to-point links of 10 Gbit/s with 1 µs delay, 200,000 UDP datagrams of
1000 bytes of payload sent every 2 µs, no loss. The topology is configured
with the same `ip`/`sysctl` lines a user would type. Prints one JSON line:
wall seconds of the simulation run alone and packet-hops per second
(received × 11 / seconds; also per CPU second of the process, steadier on a shared machine), the figure ns-3 reports for the same scenario
(../shared/anchors/ns3/p1_chain.py).

Usage: python benchmarks/router_chain.py [npackets] [nrouters]
"""
from __future__ import annotations

import json
import sys
import time

from netplex import Network
from netplex.packet.addr import ip_to_int

NPKT = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
NROUTERS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
PAYLOAD = 1000
INTERVAL_NS = 2_000


def build() -> tuple[Network, object, object]:
    if not 1 <= NROUTERS <= 254:
        raise SystemExit("1 to 254 routers: the chain's subnets are 10.0.0.0/24 .. 10.0.254.0/24 and an "
                         "IPv4 packet crosses at most 255 hops")
    net = Network(seed=1)
    names = ["h0"] + [f"r{i}" for i in range(1, NROUTERS + 1)] + ["h1"]
    nodes = [net.add_node(n) for n in names]
    for i in range(len(names) - 1):
        net.add_link(f"{names[i]}:eth1", f"{names[i + 1]}:eth0", rate_bps=10_000_000_000, delay_ns=1_000)
    for i, node in enumerate(nodes):
        lines = []
        if i > 0:
            lines.append(f"ip addr add 10.0.{i - 1}.2/24 dev eth0 && ip link set eth0 up")
        if i < len(nodes) - 1:
            lines.append(f"ip addr add 10.0.{i}.1/24 dev eth1 && ip link set eth1 up")
        if 0 < i < len(nodes) - 1:
            lines.append("sysctl -qw net.ipv4.ip_forward=1")
            lines.append(f"ip route add 10.0.0.0/16 via 10.0.{i - 1}.1 metric 10")
            if i < len(nodes) - 2:
                lines.append(f"ip route add 10.0.{len(nodes) - 2}.0/24 via 10.0.{i}.2")
        if i == 0:
            lines.append("ip route add default via 10.0.0.2")
            if NROUTERS >= 63:      # the default TTL (64) would not cross the chain
                lines.append("sysctl -qw net.ipv4.ip_default_ttl=255")
        if i == len(nodes) - 1:
            lines.append(f"ip route add default via 10.0.{i - 1}.1")
        for line in lines:
            r = node.run(line)
            if r.status:
                raise SystemExit(f"{node.name}: {line}: {r.error}")
    return net, nodes[0], nodes[-1]


def main() -> None:
    t0 = time.perf_counter()
    net, h0, h1 = build()
    dst = ip_to_int(f"10.0.{NROUTERS}.2")
    server = h1.ns.sockets.udp_socket()
    server.bind(0, 9)
    received = [0]

    def on_recv(data: bytes, src: int, sport: int) -> None:
        received[0] += 1

    server.on_recv = on_recv
    client = h0.ns.sockets.udp_socket()
    client.connect(dst, 9)
    payload = bytes(PAYLOAD)
    # resolve ARP along the path first, as ns-3's global routing needs no ARP either
    client.sendto(payload)
    net.run_for(10_000_000)
    received[0] = 0
    start = net.now + 1_000_000
    sched = net.sched
    send = client.sendto
    left = [NPKT]

    def tick() -> None:
        """The UDP client: one datagram, then the next one INTERVAL_NS later (as ns-3's UdpClient)."""
        send(payload)
        left[0] -= 1
        if left[0]:
            sched.after(INTERVAL_NS, tick)

    sched.at(start, tick)
    t_setup = time.perf_counter() - t0
    ev0 = sched.events_run
    t1 = time.perf_counter()
    c1 = time.process_time()
    sched.run()
    t_run = time.perf_counter() - t1
    c_run = time.process_time() - c1
    events = sched.events_run - ev0
    hops = received[0] * (NROUTERS + 1)
    print(json.dumps({
        "scenario": "P1_chain", "simulator": "netplex", "npkt_sent": NPKT, "routers": NROUTERS,
        "links_per_pkt": NROUTERS + 1, "received": received[0], "lost": NPKT - received[0],
        "setup_s": round(t_setup, 3), "run_s": round(t_run, 3), "events": events,
        "events_per_pkt": round(events / max(1, NPKT), 2),
        "pkt_hops_per_s": round(hops / t_run),
        # CPU seconds of this process: steadier than wall time on a shared machine
        "run_cpu_s": round(c_run, 3), "pkt_hops_per_cpu_s": round(hops / max(c_run, 1e-9)),
    }))


if __name__ == "__main__":
    main()
