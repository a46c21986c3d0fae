"""A local sender under a full queue is slowed, not dropped (stack/wmem.py):
datagrams waiting in a device's queue are charged to their socket's send buffer
(net.core.wmem_default, each at its skb truesize), sendto returns EAGAIN once it
is full and `on_writable` wakes the sender when half of it is free again."""
from __future__ import annotations

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.stack.sockets import EAGAIN
from netplex.stack.wmem import skb_truesize


def _host(qdisc: str) -> tuple[Network, object]:
    net = Network()
    h, p = net.add_node("h"), net.add_node("p")
    net.add_link("h:eth0", "p:eth0")
    assert h.run(f"ip addr add 10.0.0.1/24 dev eth0; ip link set eth0 up; {qdisc}").status == 0
    assert p.run("ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up").status == 0
    assert h.run("ping -c 1 10.0.0.2").status == 0          # the neighbour is resolved
    return net, h


def test_truesize_follows_kmalloc_size_classes() -> None:
    assert skb_truesize(1028) == 2304        # a 1000-byte UDP payload: 2 KiB of data + the sk_buff
    assert skb_truesize(28) == 768


def test_sendto_blocks_when_the_queue_holds_a_send_buffer_and_wakes_at_half() -> None:
    net, h = _host("tc qdisc add dev eth0 root handle 1: tbf rate 1mbit burst 10k limit 1mb")
    sk = h.ns.sockets.udp_socket()
    dst = ip_to_int("10.0.0.2")
    sent = 0
    while sk.sendto(b"x" * 1000, dst, 9) == 0:
        sent += 1
        assert sent < 1000
    assert sk.sendto(b"x" * 1000, dst, 9) == EAGAIN
    assert sk.wmem_alloc >= sk.sndbuf == 212992
    assert sent - 93 in range(0, 12)          # the send buffer's worth queued, after tbf's burst went out
    woke: list[int] = []
    sk.on_writable = lambda: woke.append(sk.wmem_alloc)
    net.run_for(2_000_000_000)
    assert woke and woke[0] * 2 <= sk.sndbuf
    assert "dropped 0" in h.run("tc -s qdisc show dev eth0").output


def test_a_short_queue_still_drops_what_exceeds_it() -> None:
    net, h = _host("tc qdisc add dev eth0 root handle 1: tbf rate 1mbit burst 10k limit 20k")
    sk = h.ns.sockets.udp_socket()
    for _ in range(60):
        assert sk.sendto(b"x" * 1000, ip_to_int("10.0.0.2"), 9) == 0
    assert "dropped 0" not in h.run("tc -s qdisc show dev eth0").output
    net.run_for(2_000_000_000)
    assert sk.wmem_alloc == 0                  # dropped and sent datagrams alike are released


def test_deleting_the_qdisc_or_downing_the_device_releases_the_queue() -> None:
    net, h = _host("tc qdisc add dev eth0 root handle 1: tbf rate 1mbit burst 10k limit 1mb")
    sk = h.ns.sockets.udp_socket()
    while sk.sendto(b"x" * 1000, ip_to_int("10.0.0.2"), 9) == 0:
        pass
    assert h.run("tc qdisc del dev eth0 root").status == 0
    assert sk.wmem_alloc == 0
    assert h.run("tc qdisc add dev eth0 root handle 1: tbf rate 1mbit burst 10k limit 1mb").status == 0
    while sk.sendto(b"x" * 1000, ip_to_int("10.0.0.2"), 9) == 0:
        pass
    assert h.run("ip link set eth0 down").status == 0
    assert sk.wmem_alloc == 0 and not h.ns.wmem_owned
