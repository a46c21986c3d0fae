"""Benchmark: an ESP tunnel's throughput in the simulator, side by side with plain forwarding.

pc1 → gw1 ═ESP═ gw2 → pc2 (10 Gbit/s links, 1 µs delay), N UDP datagrams of
1000 bytes sent every 2 µs from pc1 to pc2, configured with `ip`, `sysctl` and
`ip xfrm` lines as a user types them. Variants: `plain` (the same gateways
forwarding in the clear), `gcm` (rfc4106(gcm(aes)) 128-bit key) and
`cbc-sha256` (cbc(aes) + hmac(sha256) 128-bit ICV). Prints one JSON line
per variant: packets delivered per wall second of the run (each packet is
encrypted once and decrypted once on its way).

Usage: python benchmarks/ipsec_tunnel.py [npackets]
"""
from __future__ import annotations

import json
import sys
import time

from netplex import Network
from netplex.packet.addr import ip_to_int

NPKT = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
PAYLOAD = 1000
INTERVAL_NS = 2_000
ALGOS = {
    "gcm": "aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128",
    "cbc-sha256": "enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff auth-trunc 'hmac(sha256)' "
                  "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 128",
}


def build(variant: str) -> tuple[Network, object, object]:
    net = Network(seed=1)
    pc1, gw1, gw2, pc2 = (net.add_node(n) for n in ("pc1", "gw1", "gw2", "pc2"))
    for a, b in (("pc1:eth0", "gw1:lan0"), ("gw1:eth0", "gw2:eth0"), ("gw2:lan0", "pc2:eth0")):
        net.add_link(a, b, rate_bps=10_000_000_000, delay_ns=1_000)
    lines = {
        pc1: ["ip addr add 10.1.0.10/16 dev eth0", "ip link set eth0 up", "ip route add default via 10.1.0.1"],
        pc2: ["ip addr add 10.2.0.10/16 dev eth0", "ip link set eth0 up", "ip route add default via 10.2.0.1"],
    }
    for gw, me, peer, lan, mine, theirs in ((gw1, "192.0.2.1", "192.0.2.2", "10.1.0.1/16", "10.1.0.0/16",
                                             "10.2.0.0/16"),
                                            (gw2, "192.0.2.2", "192.0.2.1", "10.2.0.1/16", "10.2.0.0/16",
                                             "10.1.0.0/16")):
        lines[gw] = [f"ip addr add {me}/24 dev eth0", f"ip addr add {lan} dev lan0", "ip link set eth0 up",
                     "ip link set lan0 up", "sysctl -qw net.ipv4.ip_forward=1", f"ip route add {theirs} via {peer}"]
        if variant != "plain":
            alg = ALGOS[variant]
            lines[gw] += [
                f"ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 reqid 1 mode tunnel {alg}",
                f"ip xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x200 reqid 2 mode tunnel {alg}",
                f"ip xfrm policy add src {mine} dst {theirs} dir out tmpl src {me} dst {peer} proto esp mode tunnel",
                f"ip xfrm policy add src {theirs} dst {mine} dir fwd tmpl src {peer} dst {me} proto esp mode tunnel"]
    for node, ls in lines.items():
        for line in ls:
            r = node.run(line)
            if r.status:
                raise SystemExit(f"{node.name}: {line}: {r.error}")
    return net, pc1, pc2


def run(variant: str) -> dict[str, object]:
    net, pc1, pc2 = build(variant)
    server = pc2.ns.sockets.udp_socket()
    server.bind(0, 9)
    received = [0]

    def on_recv(data: bytes, src: int, sport: int) -> None:
        received[0] += 1

    server.on_recv = on_recv
    client = pc1.ns.sockets.udp_socket()
    client.connect(ip_to_int("10.2.0.10"), 9)
    payload = bytes(PAYLOAD)
    client.sendto(payload)            # ARP along the path first
    net.run_for(10_000_000)
    received[0] = 0
    sched = net.sched
    left = [NPKT]

    def tick() -> None:
        client.sendto(payload)
        left[0] -= 1
        if left[0]:
            sched.after(INTERVAL_NS, tick)

    sched.at(net.now + 1_000_000, tick)
    t = time.perf_counter()
    sched.run()
    run_s = time.perf_counter() - t
    return {"benchmark": "ipsec_tunnel", "variant": variant, "npkt_sent": NPKT, "received": received[0],
            "run_s": round(run_s, 3), "pkts_per_s": round(received[0] / run_s)}


def main() -> None:
    for variant in ("plain", "gcm", "cbc-sha256"):
        print(json.dumps(run(variant)))


if __name__ == "__main__":
    main()
