"""The transmit path with and without tc: the fast path stays one event per hop."""
from __future__ import annotations

from netplex import Network
from netplex.packet.addr import ip_to_int


def _pair(tc: str | None = None):
    net = Network(seed=4)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    if tc:
        r = a.run(tc)
        assert r.status == 0, r.error
    got: list[bytes] = []
    rx = b.ns.sockets.udp_socket()
    rx.bind(0, 9)
    rx.on_recv = lambda d, s, p: got.append(d)
    tx = a.ns.sockets.udp_socket()
    tx.sendto(b"arp", ip_to_int("10.0.0.2"), 9)
    net.run_for(10_000_000)
    return net, tx, got


def _events_for_one_datagram(tc: str | None) -> int:
    net, tx, got = _pair(tc)
    before = net.sched.events_run
    tx.sendto(b"x" * 100, ip_to_int("10.0.0.2"), 9)
    net.run_for(10_000_000)
    assert got[-1] == b"x" * 100
    return net.sched.events_run - before


def test_one_event_per_hop_without_qdisc() -> None:
    assert _events_for_one_datagram(None) == 1


def test_an_idle_qdisc_adds_no_event() -> None:
    # enqueue and dequeue run inline when the link is free (__dev_xmit_skb's bypass)
    for tc in ("tc qdisc add dev eth0 root pfifo", "tc qdisc add dev eth0 root handle 1: htb default 1",
               "tc qdisc add dev eth0 root tbf rate 10mbit burst 10k latency 10ms"):
        assert _events_for_one_datagram(tc) == 1, tc


def test_qdisc_counts_what_it_sends() -> None:
    net, tx, got = _pair()
    assert net.nodes["a"].run("tc qdisc add dev eth0 root handle 1: pfifo limit 10").status == 0
    for _ in range(5):
        tx.sendto(b"y" * 58, ip_to_int("10.0.0.2"), 9)
    net.run_for(10_000_000)
    out = net.nodes["a"].run("tc -s qdisc show dev eth0").output
    assert " Sent 500 bytes 5 pkt (dropped 0, overlimits 0 requeues 0) \n" in out, out


def test_tap_default_is_pfifo_fast() -> None:
    net = Network()
    h = net.add_node("h")
    assert h.run("ip tuntap add tap0 mode tap && ip link set tap0 up").status == 0
    out = h.run("tc qdisc show dev tap0").output
    assert out == "qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n"
    r = h.run("tc qdisc del dev tap0 root")
    assert r.status == 2 and r.error == "Error: Cannot delete qdisc with handle of zero.\n"


def test_ingress_police_drops_the_excess() -> None:
    net, tx, got = _pair()
    b = net.nodes["b"]
    assert b.run("tc qdisc add dev eth0 ingress").status == 0
    r = b.run("tc filter add dev eth0 parent ffff: protocol ip prio 1 u32 match ip src 10.0.0.1/32 "
              "police rate 100kbit burst 3k drop flowid :1")
    assert r.status == 0, r.error
    n0 = len(got)
    for i in range(200):
        net.sched.at(net.now + i * 1_000_000, tx.sendto, b"z" * 958, ip_to_int("10.0.0.2"), 9)
    net.run_for(300_000_000)
    delivered = len(got) - n0
    # 200 kB offered in 0.2 s; 100 kbit/s for 0.2 s plus a 3 kB burst lets about 5 through
    assert 3 <= delivered <= 8, delivered
    out = b.run("tc -s filter show dev eth0 parent ffff:").output
    assert "police 0x1 rate 100Kbit burst 3Kb mtu 2Kb action drop overhead 0b" in out, out
