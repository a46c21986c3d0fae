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

import random
from typing import Any

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.stack.qdisc.htb import MBUFFER_NS
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


def _charge_reference(q: Any, cl: Any, level: int, nbytes: int, now: int) -> None:
    """htb_charge_class as sch_htb.c writes it (htb_accnt_tokens, htb_accnt_ctokens, the mode
    after the charge), the length's cost through l2t_ns from the class's rate tables."""
    mbuffer = MBUFFER_NS
    while cl is not None:
        ln = max(nbytes + cl.overhead, cl.mpu)
        diff = min(now - cl.t_c, mbuffer)
        if cl.level >= level:
            if cl.level == level:
                cl.lends += 1
            toks = min(diff + cl.tokens, cl.buffer) - ((ln * cl.rate_mult) >> cl.rate_shift)
            cl.tokens = 1 - mbuffer if toks <= -mbuffer else toks
        else:
            cl.borrows += 1
            cl.tokens += diff
        ctoks = min(diff + cl.ctokens, cl.cbuffer) - ((ln * cl.ceil_mult) >> cl.ceil_shift)
        cl.ctokens = 1 - mbuffer if ctoks <= -mbuffer else ctoks
        cl.t_c = now
        if cl.ctokens < 0 or cl.tokens < 0:     # htb_class_mode after the charge is not CAN_SEND
            cl.overlimits += 1
            q.overlimits += 1
        if cl.level:
            cl.packets += 1
            cl.bytes += nbytes
        cl = cl.parent


def test_htb_charge_matches_the_kernels() -> None:
    """HtbQdisc.charge (per-class costs cached by length, clamps folded) against the plain
    htb_charge_class, on random buckets: full, empty, far below zero, idle past mbuffer,
    charged at every level, with overhead and mpu."""
    rng = random.Random(11)
    state = ("tokens", "ctokens", "t_c", "lends", "borrows", "overlimits", "packets", "bytes")
    for trial in range(2):
        net = Network(seed=1)
        h = net.add_node("h")
        net.add_node("h2")
        net.add_link("h:d0", "h2:eth0")
        run_ok(h, "tc qdisc add dev d0 root handle 1: htb")
        run_ok(h, "tc class add dev d0 parent 1: classid 1:1 htb rate 10mbit ceil 20mbit overhead 24 mpu 64")
        run_ok(h, "tc class add dev d0 parent 1:1 classid 1:10 htb rate 3mbit ceil 15mbit burst 2k cburst 3k")
        run_ok(h, "tc class add dev d0 parent 1:10 classid 1:100 htb rate 1mbit ceil 12mbit")
        q = h.ns.devices["d0"].qdisc
        path = [q.cls[c] for c in (0x10100, 0x10010, 0x10001)]
        for _ in range(3000):
            for cl in path:
                if rng.random() < 0.3:
                    cl.tokens = rng.choice((cl.buffer, 0, -1, 1, -MBUFFER_NS, rng.randint(-MBUFFER_NS, cl.buffer)))
                    cl.ctokens = rng.choice((cl.cbuffer, 0, rng.randint(-MBUFFER_NS, cl.cbuffer)))
                    cl.t_c = rng.choice((0, rng.randint(0, 2 * MBUFFER_NS)))
            level = rng.choice((0, 0, 1, 2)) if trial else 0
            nbytes = rng.choice((42, 60, 1042, 1514, rng.randint(1, 9000)))
            now = max(cl.t_c for cl in path) + rng.choice((0, 1, 10_000, 3_000_000, MBUFFER_NS + 5))
            before = [[getattr(cl, a) for a in state] for cl in path] + [q.overlimits]
            q.charge(path[0], level, nbytes, now)
            got = [[getattr(cl, a) for a in state] for cl in path] + [q.overlimits]
            for cl, vals in zip(path, before):
                for a, v in zip(state, vals):
                    setattr(cl, a, v)
            q.overlimits = before[-1]
            _charge_reference(q, path[0], level, nbytes, now)
            assert got == [[getattr(cl, a) for a in state] for cl in path] + [q.overlimits]
