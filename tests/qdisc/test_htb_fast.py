"""HTB's fast paths change nothing but speed (issue 11).

The flow cache (classification by the root's indexed u32 word, valid for one
tc_gen), the idle device's enqueue-and-dequeue in one call (enqueue_xmit) and
the dequeue's level-0 rows are switched off on the qdisc (`flow_cache`,
`runs_on_enqueue`, `level0_rows`), the transmit of a packet enqueue_xmit sends
at once by the fast path's fast_xmit with the world's `fastpath`, and a run with idle spells,
a link-limited backlog, borrowing, a netem leaf and tc changes mid-run (filters
added, replaced and deleted, a drop action, class rate/prio changes, a class
added and deleted, the default changed) must give the same arrivals, drops,
event count and `tc -s` class/qdisc/filter output as with them on.
"""
from __future__ import annotations

from typing import Any

from netplex import Network
from netplex.packet.addr import ip_to_int
from tests.conftest import run_ok

CHANGES = [
    (10, "tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dport 5012 0xffff flowid 1:102"),
    (20, "tc class change dev eth0 parent 1:10 classid 1:101 htb rate 1mbit ceil 4mbit prio 7"),
    (30, "tc qdisc add dev eth0 parent 1:103 handle 103: netem delay 2ms"),
    (40, "tc filter replace dev eth0 parent 1: protocol ip prio 1 handle 800::802 u32 match ip dport 5001 0xffff flowid 1:110"),
    (50, "tc filter add dev eth0 parent 1: protocol ip prio 2 u32 match ip dport 5013 0xffff action drop"),
    (60, "tc class add dev eth0 parent 1:111 classid 1:200 htb rate 1mbit ceil 8mbit"),
    (70, "tc qdisc change dev eth0 root handle 1: htb default 104"),
    (80, "tc class del dev eth0 classid 1:200"),
    (90, "tc filter del dev eth0 parent 1: protocol ip prio 1 handle 800::804 u32"),
]


def _run(fast: bool = True, fastpath: bool = True) -> list[Any]:
    net = Network(seed=3)
    net.world.fastpath = fastpath
    h0, h1 = net.add_node("h0"), net.add_node("h1")
    net.add_link("h0:eth0", "h1:eth0", rate_bps=20_000_000)     # 20 Mbit/s: the bursts queue
    run_ok(h1, "ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up")
    lines = ["ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up",
             "tc qdisc add dev eth0 root handle 1: htb default 9999",
             "tc class add dev eth0 parent 1: classid 1:1 htb rate 16mbit ceil 16mbit"]
    for m in range(2):
        lines.append(f"tc class add dev eth0 parent 1:1 classid 1:{0x10 + m:x} htb rate 6mbit ceil 16mbit")
        for k in range(6):
            leaf, port = 0x100 + m * 16 + k, 5000 + m * 6 + k
            lines.append(f"tc class add dev eth0 parent 1:{0x10 + m:x} classid 1:{leaf:x} htb rate {1 + k}mbit "
                         f"ceil {4 + 2 * k}mbit prio {k % 3} quantum {1500 + 200 * k}")
            lines.append(f"tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dport {port} 0xffff "
                         f"flowid 1:{leaf:x}")
    for line in lines:
        run_ok(h0, line)
    if not fast:
        q = h0.ns.devices["eth0"].qdisc
        q.flow_cache = q.runs_on_enqueue = q.level0_rows = False
    seen: list[Any] = []
    for port in range(5000, 5014):
        sk = h1.ns.sockets.udp_socket()
        sk.bind(0, port)
        sk.on_recv = lambda d, s, sp, port=port: seen.append((port, len(d), net.now))
    tx = h0.ns.sockets.udp_socket()
    dst = ip_to_int("10.0.0.2")
    tx.sendto(b"arp", dst, 5000)
    net.run_for(10_000_000)
    t0 = net.now
    out: list[Any] = []
    for i in range(450):
        # bursts over the link's rate, then idle spells (every packet through an empty qdisc)
        at = t0 + (i * 150_000 if (i // 75) % 2 else i * 600_000)
        size = (50, 700, 1400)[i % 3]
        net.sched.at(at, lambda i=i, size=size: out.append(tx.sendto(b"\x01" * size, dst, 5000 + (i * 5) % 14)))
    for when, cmd in CHANGES:
        net.sched.at(t0 + when * 2_000_000, lambda cmd=cmd: out.append((cmd, h0.run(cmd).status, _show(h0))))
    net.run_for(450 * 600_000 + 300_000_000)
    return [seen, out, _show(h0), net.sched.events_run, sorted((r.name, c) for r, c in h0.ns.drops.items())]


def _show(h: Any) -> list[str]:
    return [h.run(f"tc -s -d {what} show dev eth0").output for what in ("class", "qdisc", "filter")]


def test_htb_fast_paths_off_and_on_agree() -> None:
    on = _run()
    assert len(on[0]) > 250 and any(isinstance(o, tuple) and o[1] == 0 for o in on[1])
    assert _run(fast=False) == on
    assert _run(fastpath=False) == on
