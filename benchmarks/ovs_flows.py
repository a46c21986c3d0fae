"""Benchmark O1, "one OVS bridge, 1,000 flows" (issue 13): packets through an Open vSwitch
bridge whose table 0 holds 1,000 flows (`priority=N,udp,tp_dst=N actions=output:2` for
N = 1..1000, and the NORMAL default), configured with the ovs-vsctl/ovs-ofctl lines a
user types. `npkt` UDP datagrams (200 bytes, destination port chosen among the 1,000,
seeded) enter the bridge's port p1 one by one and leave by p2 to h2. Every packet is
decided by the OpenFlow tables: the first packet of each destination port by a full
translation, the others by the datapath's megaflow for it (netplex/ovs/flowcache.py;
`NETPLEX_FASTPATH=0` turns it off). Prints one JSON line: packets delivered to h2, wall
seconds and packets per second, and the same per CPU second of this process (steadier on a
shared machine).

With a fourth argument N > 1 the datagrams come from N different frames whose source
ports are random (many microflows per rule, as real traffic has): every new 5-tuple is a
miss for an exact-match cache, while one megaflow (which does not read the source port)
carries them all.

Usage: python benchmarks/ovs_flows.py [npkt] [nflows] [seed] [nframes]
"""
from __future__ import annotations

import json
import random
import sys
import time

from netplex import Network
from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.udp import Udp

NPKT = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
NFLOWS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
NFRAMES = int(sys.argv[4]) if len(sys.argv) > 4 else 1000


def must(node: object, line: str) -> str:
    r = node.run(line)  # type: ignore[attr-defined]
    if r.status:
        raise SystemExit(f"{node}: {line}: {r.error}")
    return r.output


def main() -> None:
    net = Network(seed=SEED)
    s1, h1, h2 = net.add_node("s1"), net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "s1:p1", rate_bps=10_000_000_000)
    net.add_link("h2:eth0", "s1:p2", rate_bps=10_000_000_000)
    for h, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        must(h, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up")
    must(s1, "ip link set p1 up && ip link set p2 up && ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2")
    flows = "\n".join(f"priority={n},udp,tp_dst={n},actions=output:2" for n in range(1, NFLOWS + 1))
    s1.machine.fs.write("/tmp/flows", flows.encode())
    must(s1, "ovs-ofctl add-flows br0 /tmp/flows")
    rng = random.Random(SEED)
    p1 = s1.ns.devices["p1"]
    src, dst = h1.ns.devices["eth0"].mac, h2.ns.devices["eth0"].mac
    sport = (lambda: 40000) if len(sys.argv) <= 4 else (lambda: rng.randint(1024, 65535))
    frames = [Ethernet(dst, src, ETH_P_IP, IPv4(0x0A000001, 0x0A000002, 17, Udp(sport(), rng.randint(1, NFLOWS),
                                                                                      b"x" * 172)))
              for _ in range(NFRAMES)]
    eth0 = h2.ns.devices["eth0"]
    before = eth0.stats.rx_packets
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(NPKT):
        p1.rx(frames[i % NFRAMES].copy())
        net.run_for(200)     # one datagram every 200 ns: 8 Gbit/s, under the links' 10
    net.run_for(1_000_000)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    got = eth0.stats.rx_packets - before
    print(json.dumps({"benchmark": "o1-ovs-flows", "flows": NFLOWS, "frames": NFRAMES, "sent": NPKT, "delivered": got,
                      "wall_s": round(wall, 3), "pkt_per_s": round(got / wall),
                      "cpu_s": round(cpu, 3), "pkt_per_cpu_s": round(got / cpu)}))


if __name__ == "__main__":
    main()
