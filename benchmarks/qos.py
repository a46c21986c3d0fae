"""Benchmark Q1, "HTB tree": packets per second through an HTB of 3 levels and 100 leaves.

h0 sends UDP datagrams of 1000 bytes of payload to 100 destination ports on
h1, round robin; h0's eth0 carries an HTB tree — root class 1:1 (1 Gbit/s),
10 inner classes 1:10..1:19, each with 10 leaf classes (100 leaves, each
with its own u32 filter on the destination port, so a packet crosses up to
100 filters) — configured with the same `tc` lines a user would type. The
offered load (800 Mbit/s) is below the root rate, so every packet is
classified, queued, dequeued by the DRR and charged to three levels of
token buckets. Prints one JSON line: packets, wall seconds of the simulation
alone, packets per second, and the same figure with no qdisc (the fast path); then the
same two per CPU second of the process (steadier on a shared machine).

Usage: python benchmarks/qos.py [npackets]
"""
from __future__ import annotations

import json
import sys
import time

from netplex import Network
from netplex.packet.addr import ip_to_int

NPKT = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
PAYLOAD = 1000
INTERVAL_NS = 10_000          # 100k pkt/s offered = 800 Mbit/s of payload
NLEAF = 100


def tc_lines() -> list[str]:
    lines = ["tc qdisc add dev eth0 root handle 1: htb default 9999",
             "tc class add dev eth0 parent 1: classid 1:1 htb rate 1gbit ceil 1gbit"]
    for m in range(10):
        mid = 0x10 + m
        lines.append(f"tc class add dev eth0 parent 1:1 classid 1:{mid:x} htb rate 100mbit ceil 1gbit")
        for k in range(10):
            leaf = 0x100 + m * 10 + k
            lines.append(f"tc class add dev eth0 parent 1:{mid:x} classid 1:{leaf:x} htb rate 10mbit ceil 1gbit")
            lines.append(f"tc filter add dev eth0 parent 1: protocol ip prio 1 u32 "
                         f"match ip dport {5000 + m * 10 + k} 0xffff flowid 1:{leaf:x}")
    return lines


def run(shaped: bool) -> dict[str, float]:
    net = Network(seed=1)
    h0, h1 = net.add_node("h0"), net.add_node("h1")
    net.add_link("h0:eth0", "h1:eth0", rate_bps=10_000_000_000)
    for node, ip in ((h0, "10.0.0.1"), (h1, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    if shaped:
        for line in tc_lines():
            r = h0.run(line)
            assert r.status == 0, (line, r.error)
    got = [0]
    socks = []
    for p in range(NLEAF):
        sk = h1.ns.sockets.udp_socket()
        sk.bind(0, 5000 + p)
        sk.on_recv = lambda d, s, sp: got.__setitem__(0, got[0] + 1)
        socks.append(sk)
    tx = h0.ns.sockets.udp_socket()
    dst = ip_to_int("10.0.0.2")
    payload = b"\x00" * PAYLOAD
    tx.sendto(b"warm", dst, 5000)          # ARP before the clock starts
    net.run_for(10_000_000)
    got[0] = 0
    sched = net.sched
    start_t = net.now

    def send(i: int) -> None:
        tx.sendto(payload, dst, 5000 + i % NLEAF)

    for i in range(NPKT):
        sched.at(start_t + i * INTERVAL_NS, send, i)
    t0 = time.perf_counter()
    c0 = time.process_time()
    net.run_for(NPKT * INTERVAL_NS + 100_000_000)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {"received": got[0], "wall_s": round(wall, 3), "pps": round(got[0] / wall),
            "cpu_s": round(cpu, 3), "pps_per_cpu_s": round(got[0] / max(cpu, 1e-9))}


def main() -> None:
    shaped = run(True)
    plain = run(False)
    print(json.dumps({"benchmark": "qos_htb_tree", "levels": 3, "leaves": NLEAF, "filters": NLEAF,
                      "packets": NPKT, "received": shaped["received"], "wall_s": shaped["wall_s"],
                      "pps": shaped["pps"], "pps_no_qdisc": plain["pps"],
                      # CPU seconds of the run: steadier than wall time on a shared machine
                      "cpu_s": shaped["cpu_s"], "pps_per_cpu_s": shaped["pps_per_cpu_s"],
                      "pps_no_qdisc_per_cpu_s": plain["pps_per_cpu_s"]}))


if __name__ == "__main__":
    main()
