"""Parents that peek a child (tbf over netem, tbf over prio over netem bands) as the kernel
does it: the child's peek is what its dequeue gives now (qdisc_peek_dequeued, the peeked
packet kept in gso_skb for qdisc_dequeue_peeked), so a netem head not yet due is invisible —
no tokens charged for it, no overlimit — and netem's watchdog wakes the root when it is due.
Through the `tc`, `ping` and scenario files a user writes (include/net/sch_generic.h,
net/sched/sch_tbf.c, sch_prio.c, sch_netem.c)."""
from __future__ import annotations

import re
from pathlib import Path

from netplex import Network
from netplex.apps.generators import UdpCbr
from netplex.packet.addr import ip_to_int

SCEN = Path(__file__).resolve().parent / "scenarios"


def _stats(output: str) -> dict[str, tuple[int, int, int, int, int]]:
    """`tc -s qdisc show`: handle -> (sent bytes, sent pkts, overlimits, backlog bytes, backlog pkts)."""
    out = {}
    for m in re.finditer(r"^qdisc \S+ (\S+) .*\n Sent (\d+) bytes (\d+) pkt \(dropped \d+, overlimits (\d+) "
                         r"requeues \d+\) \n backlog (\d+)b (\d+)p", output, re.M):
        out[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    return out


def _pair(setup: str) -> tuple[Network, object]:
    net = Network(seed=3)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    assert a.run("ping -c 1 10.0.0.2").status == 0
    for line in setup.strip().splitlines():
        r = a.run(line)
        assert r.status == 0, (line, r.error)
    return net, a


TBF_NETEM = """
tc qdisc add dev eth0 root handle 1: tbf rate 1mbit burst 32kbit latency 400ms
tc qdisc add dev eth0 parent 1:1 handle 10: netem delay 50ms
"""


def test_tbf_over_netem_ping_takes_the_delay_and_idle_tbf_counts_no_overlimit() -> None:
    _, a = _pair(TBF_NETEM)
    r = a.run("ping -c 5 -i 0.2 10.0.0.2")
    assert [float(t) for t in re.findall(r"time=([\d.]+) ms", r.output)] == [50.0] * 5, r.output
    st = _stats(a.run("tc -s qdisc show dev eth0").output)
    # every packet waited in netem while tbf had tokens: nothing was over tbf's limit
    assert st["1:"][2] == 0 and st["1:"][:2] == st["10:"][:2] and st["1:"][1] == 5, st


def test_tbf_over_netem_flood_counters_mid_flight_show_the_peeked_packet() -> None:
    net, a = _pair(TBF_NETEM)
    dev = a.ns.devices["eth0"]
    tbf = dev.qdisc
    before = tbf.tokens
    assert before == tbf.buffer
    UdpCbr(a.ns, ip_to_int("10.0.0.2"), 5001, 3_000_000, 1000, net.now, net.now + 400_000_000)
    net.run_for(40_000_000)           # 40 ms: every packet is still inside netem's 50 ms
    st = _stats(a.run("tc -s qdisc show dev eth0").output)
    assert st["1:"][:3] == (0, 0, 0), st          # tbf peeked nothing: no sends, no overlimits
    assert st["10:"][:2] == (0, 0) and st["10:"][4] == st["1:"][4] > 10, st
    assert tbf.tokens == before                   # no tokens charged for packets not yet due
    net.run_for(260_000_000)          # 300 ms: the flood (3 Mbit/s) is over tbf's 1 Mbit/s
    st = _stats(a.run("tc -s qdisc show dev eth0").output)
    tb, tp, over, tbb, tbp = st["1:"]
    nb, np_, _, nbb, nbp = st["10:"]
    # netem dequeued one packet more than tbf sent: the one tbf peeked (gso_skb), still in
    # netem's backlog and qlen as in tbf's, waiting for tokens
    assert np_ == tp + 1 and nbp == tbp and nbb == tbb and nb > tb, st
    assert over > 0 and tp > 20, st
    net.run_for(2_000_000_000)
    st = _stats(a.run("tc -s qdisc show dev eth0").output)
    assert st["1:"][4] == st["10:"][4] == 0 and st["1:"][:2] == st["10:"][:2], st


def test_tbf_over_prio_sends_and_a_due_band_is_not_held_by_one_not_yet_due() -> None:
    _, a = _pair("""
tc qdisc add dev eth0 root handle 1: tbf rate 2mbit burst 32kbit latency 400ms
tc qdisc add dev eth0 parent 1:1 handle 10: prio
tc qdisc add dev eth0 parent 10:1 handle 11: netem delay 50ms
tc qdisc add dev eth0 parent 10:2 handle 12: netem delay 5ms
""")
    r = a.run("ping -c 3 -i 0.2 10.0.0.2")
    assert [float(t) for t in re.findall(r"time=([\d.]+) ms", r.output)] == [5.0] * 3, r.output
    # band 1 (the higher priority) now holds ICMP for 50 ms; band 2's packets still go at 5 ms
    assert a.run("tc filter add dev eth0 parent 10: protocol ip prio 1 u32 match ip protocol 1 0xff "
                 "flowid 10:1").status == 0
    r = a.run("ping -c 3 -i 0.2 10.0.0.2")
    assert [float(t) for t in re.findall(r"time=([\d.]+) ms", r.output)] == [50.0] * 3, r.output
    st = _stats(a.run("tc -s qdisc show dev eth0").output)
    assert st["11:"][1] == 3 and st["12:"][1] >= 3 and st["1:"][1] == st["11:"][1] + st["12:"][1], st


def _probe(result: object, kind: str) -> list:
    return [p for p in result.probes if p.kind == kind]


def test_scenarios_tbf_netem_child_and_tbf_prio_netem(differential) -> None:
    r = differential.sim(SCEN / "tbf-netem-child.yaml")
    assert r.error is None and r.passed, r.error
    st = _stats(_probe(r, "cmd")[0].observed["output"])
    assert st["1:"][:2] == st["10:"][:2] and st["1:"][4] == 0, st
    r = differential.sim(SCEN / "tbf-prio-netem.yaml")
    assert r.error is None and r.passed
    st = _stats(_probe(r, "cmd")[0].observed["output"])
    assert st["1:"][1] == st["11:"][1] + st["12:"][1] > 400, st
