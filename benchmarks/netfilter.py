"""Netfilter throughput: packets per second through 100 / 1,000 / 10,000-rule filter chains,
and iptables-restore time for a 5,000-rule ruleset.

    .venv/bin/python benchmarks/netfilter.py [--no-index]

The ruleset looks like a campus firewall's FORWARD chain: per-host service
openings (`-d HOST -p tcp|udp --dport PORT -j ACCEPT`), some per-interface
and per-source rules, a conntrack-free catch-all DROP. Packets are drawn
from the same hosts and ports (seeded), about one in ten hitting an opened
service. Each packet runs the FORWARD hook as the IP layer calls it
(`ns.hooks["FORWARD"](ns, frame, in_dev, out_dev)`), so the figure
includes the PacketCtx, the index lookup and the matching rules.
`--no-index` walks every rule, for comparison.
"""
from __future__ import annotations

import random
import sys
import time

from netplex import Network
from netplex.packet.ethernet import Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp


def ruleset(n: int, rng: random.Random) -> str:
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for _ in range(n - 1):
        host = f"10.{rng.randrange(1, 4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        proto = rng.choice(("tcp", "tcp", "tcp", "udp"))
        port = rng.randrange(1, 65536)
        kind = rng.random()
        if kind < 0.8:
            lines.append(f"-A FORWARD -d {host}/32 -p {proto} -m {proto} --dport {port} -j ACCEPT")
        elif kind < 0.9:
            lines.append(f"-A FORWARD -i eth{rng.randrange(4)} -s {host}/32 -p {proto} -m {proto} --dport {port} -j ACCEPT")
        else:
            lines.append(f"-A FORWARD -s {host}/24 -p {proto} -m {proto} --sport {port} -j DROP")
    lines.append("-A FORWARD -j DROP")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def setup(n: int, seed: int = 1):
    from netplex.shell.iptables import restore_text
    from netplex.stack.netfilter.core import netfilter_of
    net = Network(seed=seed)
    node = net.add_node("fw")
    net.add_node("peer")
    net.add_link("fw:eth0", "peer:eth0")
    net.add_link("fw:eth1", "peer:eth1")
    rng = random.Random(seed)
    text = ruleset(n, rng)
    t0 = time.perf_counter()
    r = restore_text(node.ns, netfilter_of(node.ns), text)
    t_restore = time.perf_counter() - t0
    assert r.status == 0, r.error
    return node, text, t_restore


def packets(text: str, count: int, rng: random.Random) -> list[tuple[Ethernet, int]]:
    targets = []
    for line in text.splitlines():
        if "--dport" in line and "-d " in line:
            w = line.split()
            targets.append((w[w.index("-d") + 1].split("/")[0], w[w.index("-p") + 1], int(w[w.index("--dport") + 1])))
    out = []
    for _ in range(count):
        if rng.random() < 0.1 and targets:
            dst, proto, port = rng.choice(targets)
        else:
            dst = f"10.{rng.randrange(1, 4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            proto, port = rng.choice(("tcp", "udp")), rng.randrange(1, 65536)
        d = [int(x) for x in dst.split(".")]
        daddr = (d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]
        l4 = Tcp(40000, port, flags=0x02) if proto == "tcp" else Udp(40000, port, b"x" * 20)
        ip = IPv4(0xC0A80001, daddr, 6 if proto == "tcp" else 17, l4)
        out.append((Ethernet(b"\x02" * 6, b"\x02" * 6, 0x0800, ip), rng.randrange(2)))
    return out


def measure(n: int, count: int = 20000, index: bool = True) -> tuple[float, float]:
    from netplex.stack.netfilter import table as tbl
    saved = tbl.INDEX_MIN
    if not index:
        tbl.INDEX_MIN = 10 ** 9
    try:
        node, text, t_restore = setup(n)
        ns = node.ns
        hook = ns.hooks["FORWARD"]
        devs = (ns.dev("eth0"), ns.dev("eth1"))
        pk = packets(text, count, random.Random(2))
        t0 = time.perf_counter()
        for frame, d in pk:
            frame.meta = None
            hook(ns, frame, devs[d], devs[1 - d])
        dt = time.perf_counter() - t0
    finally:
        tbl.INDEX_MIN = saved
    return count / dt, t_restore


def main(argv: list[str]) -> int:
    index = "--no-index" not in argv
    print(f"netfilter benchmark ({'indexed' if index else 'linear'} chains)")
    for n in (100, 1000, 10000):
        pps, _ = measure(n, 20000 if n < 10000 or index else 2000, index)
        print(f"  {n:6d} rules: {pps:12,.0f} packets/s through FORWARD")
    _, t = measure(5000, 10, index)
    print(f"  iptables-restore of 5,000 rules: {t:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
