"""net.ipv4.conf.*.arp_accept (arp.c: arp_accept, arp_is_garp): whether an unsolicited ARP —
a gratuitous one, or a reply nobody asked for — makes a neighbour entry. The frames come from
an AF_PACKET socket, as arping -U / -A sends them; the entries are read with `ip neigh`.
(arp_ignore, arp_filter and arp_announce: corpus arp-sysctls.yaml, on both backends; these
frames, sent to the kernel from an AF_PACKET socket in a namespace, made the same entries.)"""
from __future__ import annotations

import pytest

from netplex.network import Network
from netplex.packet.addr import ip_to_int
from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, Ethernet
from tests.conftest import run_ok

MAC = b"\x02\x00\x00\x00\x00\x07"
BCAST = b"\xff" * 6


@pytest.fixture
def pair() -> tuple[Network, object, object]:
    net = Network(seed=3)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    run_ok(a, "ip addr add 10.0.0.1/24 dev eth0; ip link set eth0 up")
    run_ok(b, "ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up")
    return net, a, b


def _send(net: Network, node, op: int, sip: str, tip: str, tha: bytes, dst: bytes) -> None:
    sock = node.ns.sockets.packet_socket(3, 0x0003)   # SOCK_RAW, ETH_P_ALL
    ifindex = node.ns.devices["eth0"].ifindex
    arp = Arp(op, MAC, ip_to_int(sip), tha, ip_to_int(tip))
    sock.sendto(Ethernet(dst, MAC, ETH_P_ARP, arp).encode(), ifindex)
    node.run("sleep 0.01")
    sock.close()


def test_gratuitous_arp_makes_an_entry_only_with_arp_accept(pair):
    net, a, b = pair
    _send(net, a, ARPOP_REQUEST, "10.0.0.7", "10.0.0.7", b"\0" * 6, BCAST)
    assert run_ok(b, "ip neigh show 10.0.0.7") == ""                      # arp_accept 0
    run_ok(b, "sysctl -qw net.ipv4.conf.eth0.arp_accept=1")
    _send(net, a, ARPOP_REQUEST, "10.0.0.7", "10.0.0.7", b"\0" * 6, BCAST)
    assert run_ok(b, "ip neigh show 10.0.0.7") == "10.0.0.7 dev eth0 lladdr 02:00:00:00:00:07 STALE \n"


def test_unsolicited_reply_and_the_subnet_mode(pair):
    net, a, b = pair
    bmac = b.ns.devices["eth0"].mac
    run_ok(b, "sysctl -qw net.ipv4.conf.all.arp_accept=2")   # only a sender on one of eth0's subnets
    _send(net, a, ARPOP_REPLY, "192.0.2.9", "10.0.0.2", bmac, bmac)
    assert run_ok(b, "ip neigh show 192.0.2.9") == ""
    _send(net, a, ARPOP_REPLY, "10.0.0.9", "10.0.0.2", bmac, bmac)
    # a reply sent to us (PACKET_HOST) is taken as a confirmation: REACHABLE
    assert run_ok(b, "ip neigh show 10.0.0.9") == "10.0.0.9 dev eth0 lladdr 02:00:00:00:00:07 REACHABLE \n"
    run_ok(b, "sysctl -qw net.ipv4.conf.all.arp_accept=0")
    _send(net, a, ARPOP_REPLY, "10.0.0.10", "10.0.0.2", bmac, bmac)
    assert run_ok(b, "ip neigh show 10.0.0.10") == ""
